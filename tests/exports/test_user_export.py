"""`GET /api/user/export`: the caller's own data, every line typed, nothing secret."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.exports.shapes import NDJSON, export_lines, of_type
from tests.factories import (
    BAD_TOKEN,
    PASSWORD,
    TIMESTAMP,
    assert_error,
    make_admin,
    make_article,
    make_comment,
    register,
)

EXPORT = "/api/user/export"


async def test_the_export_holds_the_callers_profile_articles_comments_follows_favorites(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    carol = await register(client, "carol")
    first = await make_article(client, alice, title="First", tagList=["go", "db"])
    second = await make_article(client, alice, title="Second")
    bobs = await make_article(client, bob, title="Bob writes")
    await make_comment(client, alice, bobs["slug"], "nice one")
    await make_comment(client, bob, first["slug"], "not alice's")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    await client.post("/api/profiles/alice/follow", headers=carol.auth)
    await client.post(f"/api/articles/{bobs['slug']}/favorite", headers=alice.auth)
    await client.post(f"/api/articles/{second['slug']}/favorite", headers=bob.auth)

    lines = export_lines(await client.get(EXPORT, headers=alice.auth))

    assert lines[0]["kind"] == "user"
    assert lines[0]["format"] == 1
    assert TIMESTAMP.match(lines[0]["exportedAt"])
    assert of_type(lines, "profile") == [
        {
            "type": "profile",
            "username": "alice",
            "email": "alice@example.com",
            "bio": None,
            "image": None,
            "createdAt": lines[1]["createdAt"],
            "updatedAt": lines[1]["updatedAt"],
        }
    ]
    articles = of_type(lines, "article")
    assert [a["slug"] for a in articles] == [first["slug"], second["slug"]]
    assert articles[0]["tagList"] == ["db", "go"]
    assert articles[0]["body"] == "the body"
    assert articles[1]["favoritesCount"] == 1
    assert [(c["article"], c["body"]) for c in of_type(lines, "comment")] == [
        (bobs["slug"], "nice one")
    ]
    assert [f["username"] for f in of_type(lines, "follow")] == ["bob"]
    assert [(f["article"], f["author"]) for f in of_type(lines, "favorite")] == [
        (bobs["slug"], "bob")
    ]
    assert lines[-1] == {"type": "end", "complete": True, "lines": len(lines) - 2}


async def test_the_sections_come_in_order_profile_articles_comments_follows_favorites(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    article = await make_article(client, bob)
    await make_article(client, alice)
    await make_comment(client, alice, article["slug"])
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    await client.post(f"/api/articles/{article['slug']}/favorite", headers=alice.auth)

    lines = export_lines(await client.get(EXPORT, headers=alice.auth))

    assert [line["type"] for line in lines] == [
        "export", "profile", "article", "comment", "follow", "favorite", "end"
    ]  # fmt: skip


async def test_a_new_user_exports_a_profile_and_nothing_else(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")

    lines = export_lines(await client.get(EXPORT, headers=alice.auth))

    assert [line["type"] for line in lines] == ["export", "profile", "end"]
    assert lines[-1]["lines"] == 1


async def test_no_secret_leaves_in_an_export(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await make_article(client, alice)
    key = await client.post(
        "/api/auth/api-keys", json={"apiKey": {"name": "ci", "scopes": []}}, headers=alice.auth
    )
    assert key.status_code == 201, key.text

    response = await client.get(EXPORT, headers=alice.auth)

    export_lines(response)  # the contract refuses any field it does not list
    body = response.text.lower()
    for secret in ("password", "hash", "token", "argon2", PASSWORD, alice.token.lower()):
        assert secret.lower() not in body, secret
    assert key.json()["apiKey"]["key"].lower() not in body


async def test_an_api_key_exports_its_owners_data(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    created = await client.post(
        "/api/auth/api-keys", json={"apiKey": {"name": "backup", "scopes": []}}, headers=alice.auth
    )
    key = {"X-API-Key": created.json()["apiKey"]["key"]}

    lines = export_lines(await client.get(EXPORT, headers=key))

    assert of_type(lines, "profile")[0]["username"] == "alice"


@pytest.mark.parametrize("headers", [{}, BAD_TOKEN], ids=["anonymous", "bad-token"])
async def test_an_export_needs_credentials(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get(EXPORT, headers=headers)

    assert_error(response, 401, "token")
    assert response.headers["content-type"] == "application/json"


async def test_soft_deleted_users_are_hidden_from_follows_and_favorites(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    bobs = await make_article(client, bob)
    await make_comment(client, alice, bobs["slug"], "mine")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    await client.post(f"/api/articles/{bobs['slug']}/favorite", headers=alice.auth)
    deleted = await client.delete("/api/admin/users/bob", headers=admin.auth)
    assert deleted.status_code == 200, deleted.text

    lines = export_lines(await client.get(EXPORT, headers=alice.auth))

    assert of_type(lines, "follow") == []
    assert of_type(lines, "favorite") == []
    # Her own words stay hers to take away.
    assert [c["body"] for c in of_type(lines, "comment")] == ["mine"]


async def test_an_export_is_never_cached(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")

    response = await client.get(EXPORT, headers=alice.auth)

    assert response.headers["content-type"] == NDJSON
    assert response.headers["cache-control"] == "no-store"
