"""Every API action that changes something records its domain event, with its payload, in the
outbox; a refused or unchanged action records none."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.core.outbox import OutboxEvent
from pressroom.users.models import User
from tests.factories import (
    Person,
    db_rows,
    make_admin,
    make_article,
    make_comment,
    register,
)


async def events(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    rows = await db_rows(
        app, select(OutboxEvent.kind, OutboxEvent.payload).order_by(OutboxEvent.id)
    )
    return [(kind, payload) for kind, payload in rows]


async def new_events(app: FastAPI, before: int) -> list[tuple[str, dict[str, Any]]]:
    return (await events(app))[before:]


async def user_id(app: FastAPI, person: Person) -> int:
    [(found,)] = await db_rows(app, select(User.id).where(User.username == person.username))
    return int(found)


def public(article: dict[str, Any]) -> dict[str, Any]:
    """An article as an event carries it: no body, no per-viewer fields."""
    data = {key: value for key, value in article.items() if key not in ("body", "favorited")}
    data["author"] = {k: v for k, v in article["author"].items() if k != "following"}
    return data


async def test_registration_and_profile_changes(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    alice_id = await user_id(app, alice)

    assert await events(app) == [
        (
            "user.registered",
            {"user_id": alice_id, "username": "alice", "email": "alice@example.com"},
        )
    ]
    response = await client.put(
        "/api/user",
        json={"user": {"username": "alicia", "bio": "hi", "password": "a new password"}},
        headers=alice.auth,
    )
    assert response.status_code == 200, response.text
    [(kind, payload)] = await new_events(app, 1)
    assert kind == "user.updated"
    assert payload == {
        "user_id": alice_id,
        "username": "alicia",
        "previous_username": "alice",
        "fields": ["bio", "password", "username"],
    }
    assert "a new password" not in str(payload)


async def test_article_lifecycle(client: httpx.AsyncClient, app: FastAPI) -> None:
    bob = await register(client, "bob")
    before = len(await events(app))
    created = await make_article(client, bob, title="First", tagList=["go"])
    [(kind, payload)] = await new_events(app, before)
    assert kind == "article.created"
    article_id = payload["article_id"]
    assert isinstance(article_id, int)
    assert payload == {"article_id": article_id, "article": public(created)}

    response = await client.put(
        f"/api/articles/{created['slug']}",
        json={"article": {"title": "Renamed"}},
        headers=bob.auth,
    )
    updated = response.json()["article"]
    [(kind, payload)] = await new_events(app, before + 1)
    assert kind == "article.updated"
    assert payload == {
        "article_id": article_id,
        "article": public(updated),
        "previous_slug": created["slug"],
    }

    response = await client.delete(f"/api/articles/{updated['slug']}", headers=bob.auth)
    assert response.status_code == 204
    [(kind, payload)] = await new_events(app, before + 2)
    assert kind == "article.deleted"
    assert payload["article_id"] == article_id
    assert payload["article"]["slug"] == updated["slug"]
    assert "body" not in payload["article"]


async def test_favorites_record_only_changes(client: httpx.AsyncClient, app: FastAPI) -> None:
    bob, carol = await register(client, "bob"), await register(client, "carol")
    article = await make_article(client, bob)
    slug = article["slug"]
    carol_id = await user_id(app, carol)
    before = len(await events(app))

    for _ in range(2):
        await client.post(f"/api/articles/{slug}/favorite", headers=carol.auth)
    for _ in range(2):
        await client.delete(f"/api/articles/{slug}/favorite", headers=carol.auth)

    expected = {"slug": slug, "user_id": carol_id}
    recorded = await new_events(app, before)
    assert [kind for kind, _ in recorded] == ["article.favorited", "article.unfavorited"]
    assert recorded[0][1] == {
        "article_id": recorded[0][1]["article_id"],
        **expected,
        "favoritesCount": 1,
    }
    assert recorded[1][1] == {
        "article_id": recorded[0][1]["article_id"],
        **expected,
        "favoritesCount": 0,
    }


async def test_follows_record_only_changes(client: httpx.AsyncClient, app: FastAPI) -> None:
    bob, carol = await register(client, "bob"), await register(client, "carol")
    ids = {"follower_id": await user_id(app, carol), "followee_id": await user_id(app, bob)}
    before = len(await events(app))

    for _ in range(2):
        await client.post("/api/profiles/bob/follow", headers=carol.auth)
    for _ in range(2):
        await client.delete("/api/profiles/bob/follow", headers=carol.auth)

    assert await new_events(app, before) == [
        ("profile.followed", {**ids, "username": "bob"}),
        ("profile.unfollowed", {**ids, "username": "bob"}),
    ]


async def test_comments_created_and_deleted(client: httpx.AsyncClient, app: FastAPI) -> None:
    bob, carol = await register(client, "bob"), await register(client, "carol")
    article = await make_article(client, bob)
    slug = article["slug"]
    before = len(await events(app))

    comment = await make_comment(client, carol, slug, "nice")
    response = await client.delete(
        f"/api/articles/{slug}/comments/{comment['id']}", headers=carol.auth
    )
    assert response.status_code == 204, response.text

    [(created_kind, created), (deleted_kind, deleted)] = await new_events(app, before)
    article_id = created["article_id"]
    expected_comment = {
        **comment,
        "author": {k: v for k, v in comment["author"].items() if k != "following"},
    }
    assert created_kind == "comment.created"
    assert created == {
        "comment_id": comment["id"],
        "article_id": article_id,
        "slug": slug,
        "comment": expected_comment,
    }
    assert deleted_kind == "comment.deleted"
    assert deleted == {
        "comment_id": comment["id"],
        "article_id": article_id,
        "slug": slug,
        "author": "carol",
    }


async def test_moderation_deletes_record_events_too(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    bob = await register(client, "bob")
    article = await make_article(client, bob)
    comment = await make_comment(client, bob, article["slug"])
    before = len(await events(app))

    await client.delete(f"/api/admin/comments/{comment['id']}", headers=admin.auth)
    await client.delete(f"/api/admin/articles/{article['slug']}", headers=admin.auth)

    recorded = await new_events(app, before)
    assert [kind for kind, _ in recorded] == ["comment.deleted", "article.deleted"]
    assert recorded[0][1]["comment_id"] == comment["id"]
    assert recorded[1][1]["article"]["slug"] == article["slug"]


async def test_refused_writes_record_nothing(client: httpx.AsyncClient, app: FastAPI) -> None:
    bob, carol = await register(client, "bob"), await register(client, "carol")
    article = await make_article(client, bob)
    before = len(await events(app))

    taken = await client.post(
        "/api/users",
        json={"user": {"username": "bob", "email": "new@example.com", "password": "x" * 12}},
    )
    not_author = await client.put(
        f"/api/articles/{article['slug']}", json={"article": {"title": "Mine"}}, headers=carol.auth
    )
    also_not_author = await client.delete(f"/api/articles/{article['slug']}", headers=carol.auth)
    taken_name = await client.put(
        "/api/user", json={"user": {"username": "bob"}}, headers=carol.auth
    )

    assert [taken.status_code, not_author.status_code, also_not_author.status_code] == [
        409,
        403,
        403,
    ]
    assert taken_name.status_code == 409
    assert await new_events(app, before) == []
