from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.articles.models import Article, Favorite
from tests.articles.shapes import article_of, page_of
from tests.factories import Person, assert_error, caller_headers, db_rows, make_article, register


async def favorites(app: FastAPI) -> tuple[list[tuple[Any, ...]], list[int]]:
    """(user id, article id) of every favorite, and each article's stored favoritesCount."""
    query = select(Favorite.user_id, Favorite.article_id)
    rows = await db_rows(app, query.order_by(Favorite.user_id, Favorite.article_id))
    counts = await db_rows(app, select(Article.favorites_count).order_by(Article.id))
    return rows, [row[0] for row in counts]


async def favorite(
    client: httpx.AsyncClient, method: str, slug: str, who: Person
) -> dict[str, Any]:
    return article_of(
        await client.request(method, f"/api/articles/{slug}/favorite", headers=who.auth)
    )


async def test_favorite_returns_the_article_favorited(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    created = await make_article(client, alice)
    article = await favorite(client, "POST", created["slug"], bob)
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)
    assert article["body"] == created["body"]
    assert await favorites(app) == ([(2, 1)], [1])


async def test_favorite_is_idempotent(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]
    for _ in range(2):
        article = await favorite(client, "POST", slug, bob)
        assert (article["favorited"], article["favoritesCount"]) == (True, 1)
    assert await favorites(app) == ([(2, 1)], [1])


async def test_unfavorite_is_idempotent(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]
    await favorite(client, "POST", slug, bob)
    for _ in range(2):
        article = await favorite(client, "DELETE", slug, bob)
        assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert await favorites(app) == ([], [0])


async def test_unfavorite_never_favorited_is_fine(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    article = await favorite(client, "DELETE", slug, alice)
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert await favorites(app) == ([], [0])


async def test_count_is_shared_and_favorited_per_viewer(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    slug = (await make_article(client, alice))["slug"]
    await favorite(client, "POST", slug, bob)
    assert (await favorite(client, "POST", slug, carol))["favoritesCount"] == 2
    await favorite(client, "DELETE", slug, carol)
    seen: dict[str, tuple[bool, int]] = {}
    for name, viewer in [("alice", alice), ("bob", bob), ("carol", carol)]:
        article = article_of(await client.get(f"/api/articles/{slug}", headers=viewer.auth))
        seen[name] = (article["favorited"], article["favoritesCount"])
    anonymous = article_of(await client.get(f"/api/articles/{slug}"))
    seen["anonymous"] = (anonymous["favorited"], anonymous["favoritesCount"])
    assert seen == {
        "alice": (False, 1),
        "bob": (True, 1),
        "carol": (False, 1),
        "anonymous": (False, 1),
    }


async def test_authors_may_favorite_their_own_article(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    article = await favorite(client, "POST", slug, alice)
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)


async def test_favorites_show_in_the_favorited_filter(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]
    await favorite(client, "POST", slug, bob)
    articles, _ = page_of(await client.get("/api/articles?favorited=bob"))
    assert [article["slug"] for article in articles] == [slug]
    await favorite(client, "DELETE", slug, bob)
    assert page_of(await client.get("/api/articles?favorited=bob")) == ([], 0)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_favorite_unknown_article_is_404(client: httpx.AsyncClient, method: str) -> None:
    alice = await register(client, "alice")
    response = await client.request(method, "/api/articles/nothing/favorite", headers=alice.auth)
    assert_error(response, 404, "article", "not found")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize("caller", ["anonymous", "bad-token"])
async def test_favorite_requires_a_valid_token(
    client: httpx.AsyncClient, app: FastAPI, method: str, caller: str
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]
    await favorite(client, "POST", slug, bob)
    headers = await caller_headers(client, caller)
    response = await client.request(method, f"/api/articles/{slug}/favorite", headers=headers)
    assert_error(response, 401, "token")
    assert await favorites(app) == ([(2, 1)], [1])


async def test_unfavorite_only_takes_back_the_callers_favorite(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]
    await favorite(client, "POST", slug, bob)
    headers = await caller_headers(client, "other")
    article = article_of(await client.delete(f"/api/articles/{slug}/favorite", headers=headers))
    assert (article["favorited"], article["favoritesCount"]) == (False, 1)
    assert (await favorite(client, "POST", slug, bob))["favoritesCount"] == 1
    assert await favorites(app) == ([(2, 1)], [1])
