"""Small async factories that go through the public API, as a client would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

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
