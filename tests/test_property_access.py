"""Broken object property level authorization (OWASP API3): a client cannot write properties it
does not own (mass assignment), and answers expose no property it may not read."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.users.models import User
from tests.factories import PASSWORD, make_article, register

SERVER_OWNED_USER_FIELDS: dict[str, Any] = {
    "role": "admin",
    "id": 999,
    "suspendedAt": None,
    "deletedAt": "2026-01-01T00:00:00Z",
    "passwordHash": "x",
    "password_hash": "x",
    "scopes": ["admin"],
}
SECRET_WORDS = ("password", "hash", "role", "scope", "suspended", "deleted", "secret")


async def stored_user(app: FastAPI, username: str) -> User:
    async with app.state.database.session(readonly=True) as session:
        user: User = (await session.scalars(select(User).where(User.username == username))).one()
    return user


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_of(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_of(item)}
    return set()


async def test_registration_ignores_server_owned_fields(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = {"username": "eve", "email": "eve@example.com", "password": PASSWORD}
    response = await client.post("/api/users", json={"user": {**body, **SERVER_OWNED_USER_FIELDS}})
    assert response.status_code == 201, response.text
    user = await stored_user(app, "eve")
    assert (user.role, user.id, user.suspended_at, user.deleted_at) == ("user", 1, None, None)
    token = await client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": "eve", "password": PASSWORD, "scope": "admin"},
    )
    assert token.json()["error"] == "invalid_scope"


async def test_an_update_cannot_promote_or_undelete(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    eve = await register(client, "eve")
    response = await client.put(
        "/api/user", json={"user": {"bio": "hi", **SERVER_OWNED_USER_FIELDS}}, headers=eve.auth
    )
    assert response.status_code == 200, response.text
    user = await stored_user(app, "eve")
    assert (user.role, user.bio, user.deleted_at) == ("user", "hi", None)
    assert (await client.get("/api/admin/users", headers=eve.auth)).status_code == 403


async def test_articles_ignore_server_owned_fields(client: httpx.AsyncClient) -> None:
    eve = await register(client, "eve")
    alice = await register(client, "alice")
    smuggled = {
        "author": {"username": "alice"},
        "authorId": 2,
        "favoritesCount": 1000,
        "favorited": True,
        "slug": "chosen-slug",
        "createdAt": "2000-01-01T00:00:00.000Z",
    }
    fields = {"title": "Mine", "description": "d", "body": "b", **smuggled}
    response = await client.post("/api/articles", json={"article": fields}, headers=eve.auth)
    assert response.status_code == 201, response.text
    article = response.json()["article"]
    assert article["author"]["username"] == "eve"
    assert article["favoritesCount"] == 0
    assert article["favorited"] is False
    assert article["slug"] == "mine"
    assert article["createdAt"] != "2000-01-01T00:00:00.000Z"
    edit = await client.put(
        f"/api/articles/{article['slug']}",
        json={"article": {"body": "edited", "author": {"username": "alice"}}},
        headers=eve.auth,
    )
    assert edit.json()["article"]["author"]["username"] == "eve"
    assert (await client.get("/api/profiles/alice", headers=alice.auth)).is_success


async def test_no_answer_exposes_credentials_or_account_state(client: httpx.AsyncClient) -> None:
    eve = await register(client, "eve")
    article = await make_article(client, eve, title="Mine")
    answers = [
        await client.get("/api/user", headers=eve.auth),
        await client.get("/api/profiles/eve"),
        await client.get(f"/api/articles/{article['slug']}"),
        await client.get("/api/articles"),
        await client.get(f"/api/articles/{article['slug']}/comments"),
    ]
    for answer in answers:
        assert answer.status_code == 200
        leaked = {key for key in keys_of(answer.json()) if key.lower().startswith(SECRET_WORDS)}
        assert not leaked, (answer.url, leaked)
        assert PASSWORD not in answer.text
