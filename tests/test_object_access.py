"""Broken object-level authorization (OWASP API1): a matrix generated from the routes.

Every mutation whose path names an object (an article, a comment, a session, a key, a user) is
tried by Bob on what Alice owns. It must answer 403 or 404 and change no row. Then Alice sends
the very same request and it works: the path named a real object and the body was valid, so
Bob's refusal was about ownership and nothing else.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.core.models import Base
from tests.core import ENDPOINTS, VALID_BODIES, Endpoint
from tests.factories import Person, make_article, make_comment, register

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Acting on your own relation to someone else's public object: open to anyone signed in.
OWN_RELATION = {
    "POST /api/articles/{slug}/favorite",
    "DELETE /api/articles/{slug}/favorite",
    "POST /api/articles/{slug}/comments",
    "POST /api/profiles/{username}/follow",
    "DELETE /api/profiles/{username}/follow",
}
# Written after any request, by design, and never by another user's request to this object.
BOOKKEEPING = {"last_seen_at", "last_used_at"}
TARGETS = [
    e
    for e in ENDPOINTS
    if e.method in MUTATING and e.path_params and e.requires_auth and str(e) not in OWN_RELATION
]
OWNER_CONTROL = [e for e in TARGETS if not e.path.startswith("/api/admin/")]


def test_the_matrix_covers_the_object_routes() -> None:
    names = {str(e) for e in TARGETS}
    assert {
        "PUT /api/articles/{slug}",
        "DELETE /api/articles/{slug}",
        "DELETE /api/articles/{slug}/comments/{comment_id}",
        "DELETE /api/auth/sessions/{session_id}",
        "DELETE /api/auth/api-keys/{key_id}",
        "POST /api/admin/users/{username}/suspend",
    } <= names
    # every route named as an own-relation route exists: the list cannot rot silently
    assert {str(e) for e in ENDPOINTS} >= OWN_RELATION


async def snapshot(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    await app.state.background.drain()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with app.state.database.session(readonly=True) as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in BOOKKEEPING]
            result = await session.execute(select(*columns).order_by(*table.primary_key))
            rows[table.name] = [tuple(row) for row in result]
    return rows


async def alices_world(client: httpx.AsyncClient) -> tuple[Person, Person, dict[str, str]]:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    article = await make_article(client, alice, title="Alice's", tagList=["news"])
    comment = await make_comment(client, alice, article["slug"])
    key = await client.post(
        "/api/auth/api-keys", json={"apiKey": {"name": "alice's"}}, headers=alice.auth
    )
    assert key.status_code == 201, key.text
    values = {
        "key_id": str(key.json()["apiKey"]["id"]),
        "slug": article["slug"],
        "comment_id": str(comment["id"]),
        "username": alice.username,
        "session_id": jwt.decode(alice.token, options={"verify_signature": False})["sid"],
    }
    return alice, bob, values


def path_of(endpoint: Endpoint, values: dict[str, str]) -> str:
    # Any other id names Alice's first object of its kind: she made hers before Bob.
    return endpoint.path.format(**{name: values.get(name, "1") for name in endpoint.path_params})


@pytest.mark.parametrize("endpoint", TARGETS, ids=str)
async def test_bob_cannot_change_what_alice_owns(
    client: httpx.AsyncClient, app: FastAPI, endpoint: Endpoint
) -> None:
    alice, bob, values = await alices_world(client)
    path, body = path_of(endpoint, values), VALID_BODIES.get(str(endpoint))
    before = await snapshot(app)

    response = await client.request(endpoint.method, path, json=body, headers=bob.auth)

    assert response.status_code in (403, 404), response.text
    assert list(response.json()) == ["errors"]
    assert await snapshot(app) == before
    if endpoint in OWNER_CONTROL:
        control = await client.request(endpoint.method, path, json=body, headers=alice.auth)
        assert control.is_success, control.text
        assert await snapshot(app) != before
