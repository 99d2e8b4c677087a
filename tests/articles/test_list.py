from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.dialects import postgresql

from pressroom.articles import queries
from pressroom.articles.models import Article
from pressroom.core.db import Database
from tests.articles.shapes import page_of, slugs_of
from tests.factories import (
    BAD_TOKEN,
    Person,
    assert_error,
    caller_headers,
    make_article,
    register,
)

OUT_OF_BOUNDS = [
    ("limit", "0"),
    ("limit", "101"),
    ("limit", "-1"),
    ("limit", "ten"),
    ("offset", "-1"),
    ("offset", "10001"),
    ("offset", "1.5"),
]
IN_BOUNDS = [("limit", "1"), ("limit", "100"), ("offset", "0"), ("offset", "10000")]


async def publish(client: httpx.AsyncClient, author: Person, *titles: str) -> list[str]:
    return [(await make_article(client, author, title=title))["slug"] for title in titles]


# ---------------------------------------------------------------- GET /articles
async def test_list_is_empty_without_articles(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/articles")
    assert response.json() == {"articles": [], "articlesCount": 0}


async def test_list_items_carry_everything_but_the_body(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    created = await make_article(client, alice, tagList=["b", "a"])
    [item], total = page_of(await client.get("/api/articles"))
    assert total == 1
    assert item == {key: value for key, value in created.items() if key != "body"}


async def test_list_is_newest_first(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slugs = await publish(client, alice, "First", "Second", "Third")
    assert slugs_of(await client.get("/api/articles")) == slugs[::-1]


async def test_list_breaks_timestamp_ties_by_newest_id(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await register(client, "alice")
    slugs = await publish(client, alice, "First", "Second", "Third")
    database: Database = app.state.database
    same_moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    async with database.session() as session:
        await session.execute(update(Article).values(created_at=same_moment))
    listed = slugs_of(await client.get("/api/articles"))
    assert listed == slugs[::-1]
    assert slugs_of(await client.get("/api/articles")) == listed
    pages = [slugs_of(await client.get(f"/api/articles?limit=1&offset={i}")) for i in range(3)]
    assert [slug for page in pages for slug in page] == listed


async def test_count_is_the_total_not_the_page_size(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slugs = await publish(client, alice, "One", "Two", "Three")
    for query, expected in [
        ("limit=2", slugs[:0:-1]),
        ("limit=2&offset=2", slugs[:1]),
        ("offset=1", slugs[1::-1]),
        ("offset=3", []),
        ("offset=10000", []),
    ]:
        articles, total = page_of(await client.get(f"/api/articles?{query}"))
        assert [article["slug"] for article in articles] == expected, query
        assert total == 3, query


async def test_default_page_is_twenty(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slugs = await publish(client, alice, *(f"Article {n}" for n in range(21)))
    articles, total = page_of(await client.get("/api/articles"))
    assert [article["slug"] for article in articles] == slugs[:0:-1]
    assert total == 21


@pytest.mark.parametrize(("name", "value"), OUT_OF_BOUNDS)
async def test_paging_out_of_bounds_is_422(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    alice = await register(client, "alice")
    for path in ("/api/articles", "/api/articles/feed"):
        response = await client.get(path, params={name: value}, headers=alice.auth)
        assert_error(response, 422, name)


async def test_paging_at_the_bounds_is_accepted(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    await make_article(client, alice)
    for path in ("/api/articles", "/api/articles/feed"):
        for name, value in IN_BOUNDS:
            response = await client.get(path, params={name: value}, headers=alice.auth)
            assert response.status_code == 200, (path, name, value)
            page_of(response)


async def test_list_with_bad_token_is_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/articles", headers=BAD_TOKEN), 401, "token", "is invalid")


async def test_list_flags_are_per_viewer(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    liked, other = await publish(client, alice, "Liked", "Other")
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    await client.post(f"/api/articles/{liked}/favorite", headers=bob.auth)
    await client.post(f"/api/articles/{liked}/favorite", headers=carol.auth)

    async def flags(viewer: Person | None) -> dict[str, tuple[bool, bool, int]]:
        headers = viewer.auth if viewer else {}
        articles, _ = page_of(await client.get("/api/articles", headers=headers))
        return {
            a["slug"]: (a["favorited"], a["author"]["following"], a["favoritesCount"])
            for a in articles
        }

    assert await flags(bob) == {liked: (True, True, 2), other: (False, True, 0)}
    assert await flags(carol) == {liked: (True, False, 2), other: (False, False, 0)}
    assert await flags(None) == {liked: (False, False, 2), other: (False, False, 0)}


# ---------------------------------------------------------------- filters
@pytest.fixture
async def library(client: httpx.AsyncClient) -> dict[str, str]:
    """alice: go+web, go; bob: web. carol favorited alice's go+web and bob's web."""
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    slugs = {
        "alice-go-web": (await make_article(client, alice, title="a1", tagList=["go", "web"])),
        "alice-go": (await make_article(client, alice, title="a2", tagList=["go"])),
        "bob-web": (await make_article(client, bob, title="b1", tagList=["web"])),
    }
    for name in ("alice-go-web", "bob-web"):
        await client.post(f"/api/articles/{slugs[name]['slug']}/favorite", headers=carol.auth)
    return {name: article["slug"] for name, article in slugs.items()}


async def test_each_filter_selects_its_articles(
    client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    for query, expected in [
        ("tag=go", ["alice-go", "alice-go-web"]),
        ("tag=web", ["bob-web", "alice-go-web"]),
        ("tag=Go", []),
        ("author=alice", ["alice-go", "alice-go-web"]),
        ("author=ALICE", ["alice-go", "alice-go-web"]),
        ("favorited=carol", ["bob-web", "alice-go-web"]),
        ("favorited=Carol", ["bob-web", "alice-go-web"]),
        ("favorited=alice", []),
    ]:
        articles, total = page_of(await client.get(f"/api/articles?{query}"))
        assert [a["slug"] for a in articles] == [library[name] for name in expected], query
        assert total == len(expected), query


async def test_filters_combine_with_and(client: httpx.AsyncClient, library: dict[str, str]) -> None:
    for query, expected in [
        ("tag=web&author=alice", ["alice-go-web"]),
        ("tag=go&favorited=carol", ["alice-go-web"]),
        ("author=bob&favorited=carol", ["bob-web"]),
        ("tag=web&author=bob&favorited=carol", ["bob-web"]),
        ("tag=go&author=bob", []),
        ("author=alice&favorited=carol&tag=web&limit=5&offset=0", ["alice-go-web"]),
    ]:
        articles, total = page_of(await client.get(f"/api/articles?{query}"))
        assert [a["slug"] for a in articles] == [library[name] for name in expected], query
        assert total == len(expected), query


async def test_unknown_filter_values_give_an_empty_list(
    client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    assert len(library) == 3
    for query in ("tag=nope", "author=nobody", "favorited=nobody", "author=alice&tag=nope"):
        assert page_of(await client.get(f"/api/articles?{query}")) == ([], 0), query


async def test_filtered_count_is_the_filtered_total(
    client: httpx.AsyncClient, library: dict[str, str]
) -> None:
    articles, total = page_of(await client.get("/api/articles?tag=go&limit=1"))
    assert [article["slug"] for article in articles] == [library["alice-go"]]
    assert total == 2
    # A page past the end is empty but still reports the filtered total.
    for query in ("tag=go&offset=2", "author=alice&offset=50", "favorited=carol&offset=9"):
        assert page_of(await client.get(f"/api/articles?{query}")) == ([], 2), query


@pytest.mark.parametrize(("name", "length"), [("tag", 33), ("author", 65), ("favorited", 65)])
async def test_overlong_filters_are_422(client: httpx.AsyncClient, name: str, length: int) -> None:
    response = await client.get("/api/articles", params={name: "x" * length})
    assert_error(response, 422, name)


# ---------------------------------------------------------------- feed
async def test_feed_shows_only_followed_authors_newest_first(
    client: httpx.AsyncClient,
) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    first = await publish(client, bob, "Bob one")
    await publish(client, carol, "Carol one")
    await publish(client, alice, "Alice one")
    second = await publish(client, bob, "Bob two")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    articles, total = page_of(await client.get("/api/articles/feed", headers=alice.auth))
    assert [article["slug"] for article in articles] == second + first
    assert total == 2
    assert all(article["author"]["following"] for article in articles)


async def test_feed_is_empty_when_following_nobody(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    await publish(client, alice, "Mine")
    assert page_of(await client.get("/api/articles/feed", headers=alice.auth)) == ([], 0)


async def test_feed_pages_with_the_total_count(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slugs = await publish(client, bob, "One", "Two", "Three")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    response = await client.get("/api/articles/feed?limit=1&offset=1", headers=alice.auth)
    articles, total = page_of(response)
    assert [article["slug"] for article in articles] == [slugs[1]]
    assert total == 3


async def test_unfollowing_empties_the_feed(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await publish(client, bob, "One")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    await client.delete("/api/profiles/bob/follow", headers=alice.auth)
    assert page_of(await client.get("/api/articles/feed", headers=alice.auth)) == ([], 0)


async def test_feed_shows_favorited_per_viewer(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    [slug] = await publish(client, bob, "One")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    await client.post(f"/api/articles/{slug}/favorite", headers=alice.auth)
    [article], _ = page_of(await client.get("/api/articles/feed", headers=alice.auth))
    assert (article["favorited"], article["favoritesCount"]) == (True, 1)


@pytest.mark.parametrize("caller", ["anonymous", "bad-token"])
async def test_feed_requires_a_valid_token(client: httpx.AsyncClient, caller: str) -> None:
    headers = await caller_headers(client, caller)
    assert_error(await client.get("/api/articles/feed", headers=headers), 401, "token")


def test_page_size_and_offset_are_written_into_the_sql() -> None:
    # Bound, they would keep Postgres from reusing a plan (docs/performance.md).
    statement = queries.page("postgresql", (False,) * 4, personal=False, limit=20, offset=40)
    compiled = statement.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    assert "LIMIT 20 OFFSET 40" in str(compiled)
    assert not {"limit", "offset"} & set(compiled.params)
    same = queries.page("postgresql", (False,) * 4, personal=False, limit=20, offset=40)
    assert same is statement  # built once per page shape, from a bounded cache
    assert queries.page.cache_info().maxsize is not None
