"""Small async factories that go through the public API, as a client would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Select

from pressroom.admin.service import AdminAccounts
from pressroom.core.db import Database

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    username: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


async def register(
    client: httpx.AsyncClient, username: str, *, email: str | None = None, password: str = PASSWORD
) -> Person:
    email = email or f"{username.lower()}@example.com"
    response = await client.post(
        "/api/users", json={"user": {"username": username, "email": email, "password": password}}
    )
    assert response.status_code == 201, response.text
    user = response.json()["user"]
    return Person(username=user["username"], email=user["email"], token=user["token"])


async def make_article(
    client: httpx.AsyncClient, author: Person, *, title: str = "A title", **fields: Any
) -> dict[str, Any]:
    article = {"title": title, "description": "about it", "body": "the body", **fields}
    response = await client.post("/api/articles", json={"article": article}, headers=author.auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["article"]
    return result


async def make_comment(
    client: httpx.AsyncClient, author: Person, slug: str, body: str = "a comment"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": body}}, headers=author.auth
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["comment"]
    return result


async def login(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/api/users/login", json={"user": {"email": login, "password": password}}
    )


async def make_admin(
    client: httpx.AsyncClient, app: FastAPI, username: str = "root", *, password: str = PASSWORD
) -> Person:
    """A user registered through the API, promoted by the service `pressroom create-admin`
    uses, then logged in again: only a login grants the `admin` scope."""
    person = await register(client, username, password=password)
    database: Database = app.state.database
    async with database.session() as session:
        await AdminAccounts(session, app.state.passwords).promote(person.username)
    response = await login(client, person.email, password)
    assert response.status_code == 200, response.text
    return Person(person.username, person.email, response.json()["user"]["token"])


# ---------------------------------------------------------------- checking responses
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
"""`2026-02-18T03:22:56.637Z`: UTC, milliseconds, `Z`."""

PROFILE_KEYS = {"username", "bio", "image", "following"}
BAD_TOKEN = {"Authorization": "Token not-a-jwt"}


def assert_error(response: httpx.Response, status: int, key: str, message: str = "") -> None:
    """The Conduit envelope with exactly one key; 401s also carry a challenge."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["errors"], body
    assert list(body["errors"]) == [key], body
    messages = body["errors"][key]
    assert messages, body
    assert all(isinstance(text, str) and text for text in messages), body
    if message:
        assert messages == [message], body
    if status == 401:
        assert "Token" in response.headers["WWW-Authenticate"]


async def caller_headers(client: httpx.AsyncClient, caller: str) -> dict[str, str]:
    """Headers for a caller who is not the owner: "anonymous", "bad-token" or "other"."""
    if caller == "anonymous":
        return {}
    if caller == "bad-token":
        return BAD_TOKEN
    assert caller == "other", caller
    return (await register(client, "mallory")).auth


# ---------------------------------------------------------------- reading the database
async def db_rows(app: FastAPI, statement: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows read straight from the database, bypassing the API."""
    database: Database = app.state.database
    async with database.session(readonly=True) as session:
        return [tuple(row) for row in await session.execute(statement)]
