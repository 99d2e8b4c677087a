"""Broken function-level authorization (OWASP API5): every admin route, generated from the
routes, refused to everyone but a credential holding the `admin` scope, and nothing changes."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from pressroom.core.db import Database
from pressroom.core.models import utcnow
from pressroom.core.outbox import OutboxEvent, record
from tests.core import ENDPOINTS, Endpoint
from tests.factories import (
    Person,
    assert_error,
    make_admin,
    make_article,
    make_comment,
    register,
)
from tests.test_object_access import path_of, snapshot

ADMIN_ROUTES = [e for e in ENDPOINTS if e.path.startswith("/api/admin/")]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def test_the_admin_routes_are_all_found() -> None:
    names = {str(e) for e in ADMIN_ROUTES}
    assert {
        "GET /api/admin/users",
        "POST /api/admin/users/{username}/suspend",
        "DELETE /api/admin/users/{username}",
        "DELETE /api/admin/articles/{slug}",
        "DELETE /api/admin/comments/{comment_id}",
        "GET /api/admin/audit",
        "GET /api/admin/outbox/dead-letters",
        "POST /api/admin/outbox/dead-letters/{event_id}/retry",
    } <= names


async def dead_letter(app: FastAPI) -> int:
    """An outbox event the relay gave up on: what an admin may retry."""
    database: Database = app.state.database
    async with database.session() as session:
        event = await record(session, "article.created", {})
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id == event.id).values(dead_at=utcnow())
        )
    return event.id


async def api_key(client: httpx.AsyncClient, owner: Person, scopes: list[str]) -> dict[str, str]:
    response = await client.post(
        "/api/auth/api-keys",
        json={"apiKey": {"name": "machine", "scopes": scopes}},
        headers=owner.auth,
    )
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["apiKey"]["key"]}


@pytest.mark.parametrize("endpoint", ADMIN_ROUTES, ids=str)
async def test_only_the_admin_scope_reaches_an_admin_route(
    client: httpx.AsyncClient, app: FastAPI, endpoint: Endpoint
) -> None:
    admin = await make_admin(client, app, "root")
    user = await register(client, "mallory")
    article = await make_article(client, user, title="Target")
    comment = await make_comment(client, user, article["slug"])
    values = {
        "username": user.username,
        "slug": article["slug"],
        "comment_id": str(comment["id"]),
        "event_id": str(await dead_letter(app)),
    }
    path = path_of(endpoint, values)
    attempts: dict[str, dict[str, str]] = {
        "user token": user.auth,
        "user API key": await api_key(client, user, ["articles:write"]),
        "admin's key without the admin scope": await api_key(
            client, admin, ["articles:write", "comments:write", "profile:write"]
        ),
    }
    before = await snapshot(app)

    anonymous = await client.request(endpoint.method, path)
    assert_error(anonymous, 401, "token", "is missing")
    for name, headers in attempts.items():
        response = await client.request(endpoint.method, path, headers=headers)
        assert response.status_code == 403, (name, response.text)
        assert_error(response, 403, "scope", "requires admin")
    for method in sorted(
        set(METHODS) - {e.method for e in ADMIN_ROUTES if e.path == endpoint.path}
    ):
        swapped = await client.request(method, path, headers=user.auth)
        # No handler runs for a method the path does not have: 405, before any credential.
        assert swapped.status_code == 405, (method, swapped.text)
    assert await snapshot(app) == before

    # The control: with the admin scope the same request is served.
    allowed = await client.request(endpoint.method, path, headers=admin.auth)
    assert allowed.is_success, allowed.text
