from __future__ import annotations

import httpx
import pytest

from tests.articles.shapes import article_of
from tests.factories import BAD_TOKEN, Person, assert_error, make_article, register


async def test_get_article_returns_every_field(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    created = await make_article(
        client, alice, title="How to train your dragon", body="Very carefully.", tagList=["b", "a"]
    )
    article = article_of(await client.get(f"/api/articles/{created['slug']}"))
    assert article == {
        "slug": "how-to-train-your-dragon",
        "title": "How to train your dragon",
        "description": "about it",
        "body": "Very carefully.",
        "tagList": ["a", "b"],
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
        "favorited": False,
        "favoritesCount": 0,
        "author": {"username": "alice", "bio": None, "image": None, "following": False},
    }


async def test_get_article_shows_the_authors_current_profile(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    changes = {"username": "alicia", "bio": "new bio", "image": "https://img.example/a.png"}
    await client.put("/api/user", json={"user": changes}, headers=alice.auth)
    author = article_of(await client.get(f"/api/articles/{slug}"))["author"]
    assert author == {**changes, "following": False}


@pytest.mark.parametrize("slug", ["no-such-article", "A-TITLE", "x" * 320])
async def test_get_unknown_article_is_404(client: httpx.AsyncClient, slug: str) -> None:
    alice = await register(client, "alice")
    await make_article(client, alice)
    assert_error(await client.get(f"/api/articles/{slug}"), 404, "article", "not found")


async def test_get_article_with_overlong_slug_is_422(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/articles/" + "x" * 321), 422, "slug")


async def test_get_article_with_bad_token_is_401(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    response = await client.get(f"/api/articles/{slug}", headers=BAD_TOKEN)
    assert_error(response, 401, "token", "is invalid")


async def test_favorited_and_following_are_per_viewer(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    slug = (await make_article(client, alice))["slug"]
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    await client.post(f"/api/articles/{slug}/favorite", headers=bob.auth)

    async def seen_by(viewer: Person | None) -> tuple[bool, bool, int]:
        headers = viewer.auth if viewer else {}
        article = article_of(await client.get(f"/api/articles/{slug}", headers=headers))
        return article["favorited"], article["author"]["following"], article["favoritesCount"]

    assert await seen_by(bob) == (True, True, 1)
    assert await seen_by(carol) == (False, False, 1)
    assert await seen_by(alice) == (False, False, 1)
    assert await seen_by(None) == (False, False, 1)
