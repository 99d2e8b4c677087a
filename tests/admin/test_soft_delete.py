"""A soft-deleted user vanishes from every public answer, and comes back whole when restored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.admin.models import AuditRecord
from tests.factories import (
    PASSWORD,
    Person,
    assert_error,
    db_rows,
    login,
    make_admin,
    make_article,
    make_comment,
    register,
)


@dataclass(frozen=True)
class Scene:
    admin: Person
    bob: Person
    carol: Person
    bob_slug: str
    carol_slug: str


@pytest.fixture
async def scene(client: httpx.AsyncClient, app: FastAPI) -> Scene:
    """Bob wrote two articles (one tagged only "bobs") and commented on Carol's; Carol
    follows and favorites Bob, and wrote one article tagged "shared"."""
    admin = await make_admin(client, app)
    bob = await register(client, "bob")
    carol = await register(client, "carol")
    first = await make_article(client, bob, title="Bob one", tagList=["shared", "bobs"])
    await make_article(client, bob, title="Bob two", tagList=["bobs"])
    mine = await make_article(client, carol, title="Carol one", tagList=["shared"])
    await make_comment(client, bob, mine["slug"], "bob was here")
    await make_comment(client, carol, mine["slug"], "carol replies")
    await client.post("/api/profiles/bob/follow", headers=carol.auth)
    await client.post(f"/api/articles/{first['slug']}/favorite", headers=carol.auth)
    return Scene(admin, bob, carol, first["slug"], mine["slug"])


async def articles(client: httpx.AsyncClient, path: str = "/api/articles", **params: Any) -> Any:
    response = await client.get(path, params=params, headers=params.pop("headers", {}))
    assert response.status_code == 200, response.text
    body = response.json()
    return sorted(article["title"] for article in body["articles"]), body["articlesCount"]


async def public_view(client: httpx.AsyncClient, scene: Scene) -> dict[str, Any]:
    """Everything a client can see that involves Bob."""
    comments = await client.get(f"/api/articles/{scene.carol_slug}/comments")
    feed = await client.get("/api/articles/feed", headers=scene.carol.auth)
    return {
        "profile": (await client.get("/api/profiles/bob")).status_code,
        "article": (await client.get(f"/api/articles/{scene.bob_slug}")).status_code,
        "comments of his article": (
            await client.get(f"/api/articles/{scene.bob_slug}/comments")
        ).status_code,
        "all": await articles(client),
        "by tag": await articles(client, tag="shared"),
        "by author": await articles(client, author="bob"),
        "favorited by carol": await articles(client, favorited="carol"),
        "feed": sorted(a["title"] for a in feed.json()["articles"]),
        "feed count": feed.json()["articlesCount"],
        "comment authors": sorted(c["author"]["username"] for c in comments.json()["comments"]),
        "tags": sorted((await client.get("/api/tags")).json()["tags"]),
    }


VISIBLE = {
    "profile": 200,
    "article": 200,
    "comments of his article": 200,
    "all": (["Bob one", "Bob two", "Carol one"], 3),
    "by tag": (["Bob one", "Carol one"], 2),
    "by author": (["Bob one", "Bob two"], 2),
    "favorited by carol": (["Bob one"], 1),
    "feed": ["Bob one", "Bob two"],
    "feed count": 2,
    "comment authors": ["bob", "carol"],
    "tags": ["bobs", "shared"],
}
HIDDEN = {
    "profile": 404,
    "article": 404,
    "comments of his article": 404,
    "all": (["Carol one"], 1),
    "by tag": (["Carol one"], 1),
    "by author": ([], 0),
    "favorited by carol": ([], 0),
    "feed": [],
    "feed count": 0,
    "comment authors": ["carol"],
    "tags": ["shared"],
}


async def test_a_deleted_user_vanishes_from_every_public_answer(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    assert await public_view(client, scene) == VISIBLE

    response = await client.delete("/api/admin/users/bob", headers=scene.admin.auth)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["deletedAt"] is not None
    assert await public_view(client, scene) == HIDDEN
    # Counts past the last page come from the separate total statement: right too.
    assert (await articles(client, offset="5"))[1] == 1
    assert (await articles(client, tag="shared", offset="5"))[1] == 1


async def test_a_deleted_users_content_cannot_be_acted_on(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await client.delete("/api/admin/users/bob", headers=scene.admin.auth)
    carol, slug = scene.carol.auth, scene.bob_slug

    for method, path in [
        ("POST", "/api/profiles/bob/follow"),
        ("POST", f"/api/articles/{slug}/favorite"),
        ("PUT", f"/api/articles/{slug}"),
        ("DELETE", f"/api/articles/{slug}"),
        ("POST", f"/api/articles/{slug}/comments"),
    ]:
        body = {"article": {"body": "x"}} if method == "PUT" else {"comment": {"body": "x"}}
        response = await client.request(method, path, json=body, headers=carol)
        assert response.status_code == 404, (method, path, response.text)


async def test_a_deleted_user_loses_sessions_and_login_but_keeps_the_name(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await client.delete("/api/admin/users/bob", headers=scene.admin.auth)

    assert_error(await client.get("/api/user", headers=scene.bob.auth), 401, "token")
    assert_error(await login(client, scene.bob.email), 401, "credentials", "invalid")
    for user in [
        {"username": "BOB", "email": "new@example.com"},
        {"username": "robert", "email": "bob@example.com"},
    ]:
        response = await client.post("/api/users", json={"user": {**user, "password": PASSWORD}})
        assert response.status_code == 409, response.text


async def test_restoring_brings_everything_back(
    client: httpx.AsyncClient, app: FastAPI, scene: Scene
) -> None:
    await client.delete("/api/admin/users/bob", headers=scene.admin.auth)
    again = await client.delete("/api/admin/users/bob", headers=scene.admin.auth)
    assert again.status_code == 200  # idempotent: the total is not taken down twice

    response = await client.post("/api/admin/users/bob/restore", headers=scene.admin.auth)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["deletedAt"] is None
    assert await public_view(client, scene) == VISIBLE
    # Sessions ended by the delete stay ended; logging in works again.
    assert (await client.get("/api/user", headers=scene.bob.auth)).status_code == 401
    assert (await login(client, scene.bob.email)).status_code == 200
    rows = await db_rows(app, select(AuditRecord.action, AuditRecord.details))
    assert [action for action, _ in rows] == ["user.promote", "user.delete", "user.restore"]
    assert '"articles":2' in rows[1][1]


async def test_moderating_a_deleted_authors_article_keeps_the_total_right(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await client.delete("/api/admin/users/bob", headers=scene.admin.auth)
    response = await client.delete(
        f"/api/admin/articles/{scene.bob_slug}", headers=scene.admin.auth
    )
    assert response.status_code == 204
    assert (await articles(client))[1] == 1

    await client.post("/api/admin/users/bob/restore", headers=scene.admin.auth)

    assert await articles(client) == (["Bob two", "Carol one"], 2)
