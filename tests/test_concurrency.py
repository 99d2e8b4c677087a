"""Many requests at once: real concurrent transactions over the app's connection pool.

`asyncio.gather` over the in-process ASGI client runs the requests interleaved on one event
loop, each in its own session and pooled connection, so they race in the database exactly as
requests from many clients would. Counts are checked through the API and in the tables.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select, text

from pressroom.articles.models import Article, Favorite
from pressroom.profiles.models import Follow
from pressroom.tags.models import ArticleTag, Tag
from pressroom.users.models import User
from tests.conftest import StatementLog
from tests.factories import PASSWORD, Person, make_article, register


def statuses(responses: Iterable[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def case_variants(word: str, count: int) -> list[str]:
    """`count` distinct spellings of `word` that differ only in letter case."""
    variants = [
        "".join(c.upper() if (i >> k) & 1 else c for k, c in enumerate(word))
        for i in range(2 ** len(word))
    ]
    assert len(variants) >= count
    return variants[:count]


async def scalar(app: FastAPI, query: Any) -> Any:
    async with app.state.database.session(readonly=True) as session:
        return await session.scalar(query)


async def favorite_rows_and_counter(app: FastAPI, slug: str) -> tuple[int, int]:
    """(rows in `favorites`, stored `articles.favorites_count`) for the article at `slug`."""
    async with app.state.database.session(readonly=True) as session:
        article_id, stored = (
            await session.execute(
                select(Article.id, Article.favorites_count).where(Article.slug == slug)
            )
        ).one()
        rows = await session.scalar(
            select(func.count()).select_from(Favorite).where(Favorite.article_id == article_id)
        )
    return int(rows or 0), int(stored)


async def follow_rows(app: FastAPI, follower: Person, followee: Person) -> int:
    follower_user, followee_user = User.__table__.alias(), User.__table__.alias()
    query = (
        select(func.count())
        .select_from(Follow)
        .join(follower_user, follower_user.c.id == Follow.follower_id)
        .join(followee_user, followee_user.c.id == Follow.followee_id)
        .where(
            follower_user.c.username == follower.username,
            followee_user.c.username == followee.username,
        )
    )
    return int(await scalar(app, query))


async def register_many(client: httpx.AsyncClient, prefix: str, count: int) -> list[Person]:
    # Setup, not under test: a few at a time, so a slow shared machine cannot time them out.
    people: list[Person] = []
    for start in range(0, count, 10):
        batch = range(start, min(start + 10, count))
        people += await asyncio.gather(*(register(client, f"{prefix}{i}") for i in batch))
    return people


@pytest.mark.parametrize("field", ["username", "email"])
async def test_one_of_simultaneous_registrations_of_a_name_wins(
    client: httpx.AsyncClient, app: FastAPI, field: str
) -> None:
    spellings = case_variants("racer", 20)
    users = [
        {"username": name, "email": f"{name}{i}@example.com", "password": PASSWORD}
        if field == "username"
        else {"username": f"racer{i}", "email": f"{name}@example.com", "password": PASSWORD}
        for i, name in enumerate(spellings)
    ]
    responses = await asyncio.gather(
        *(client.post("/api/users", json={"user": user}) for user in users)
    )
    assert statuses(responses) == {201: 1, 409: 19}
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {"errors": {field: ["has already been taken"]}}
    column = User.username if field == "username" else User.email
    stored = select(func.count()).select_from(User).where(func.lower(column).like("racer%"))
    assert await scalar(app, stored) == 1


async def test_favorites_count_is_exact_when_many_favorite_at_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    author = await register(client, "author")
    slug = (await make_article(client, author))["slug"]
    fans = await register_many(client, "fan", 50)
    # More requests than pooled connections: the extra ones must wait for one, not fail.
    pool = app.state.settings.database
    assert pool.pool_size + pool.max_overflow < len(fans)

    favorited = await asyncio.gather(
        *(client.post(f"/api/articles/{slug}/favorite", headers=fan.auth) for fan in fans)
    )
    assert statuses(favorited) == {200: 50}
    assert all(response.json()["article"]["favorited"] for response in favorited)
    article = (await client.get(f"/api/articles/{slug}")).json()["article"]
    assert article["favoritesCount"] == 50
    assert await favorite_rows_and_counter(app, slug) == (50, 50)

    unfavorited = await asyncio.gather(
        *(client.delete(f"/api/articles/{slug}/favorite", headers=fan.auth) for fan in fans)
    )
    assert statuses(unfavorited) == {200: 50}
    assert not any(response.json()["article"]["favorited"] for response in unfavorited)
    article = (await client.get(f"/api/articles/{slug}")).json()["article"]
    assert article["favoritesCount"] == 0
    assert await favorite_rows_and_counter(app, slug) == (0, 0)


async def test_favorite_and_unfavorite_racing_keep_the_count_true(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    author = await register(client, "author")
    slug = (await make_article(client, author))["slug"]
    fans = await register_many(client, "fan", 8)
    requests = [
        client.request(method, f"/api/articles/{slug}/favorite", headers=fan.auth)
        for _ in range(3)
        for fan in fans
        for method in ("POST", "DELETE")
    ]
    responses = await asyncio.gather(*requests)
    assert statuses(responses) == {200: len(requests)}

    rows, stored = await favorite_rows_and_counter(app, slug)
    assert stored == rows
    seen = [
        (await client.get(f"/api/articles/{slug}", headers=fan.auth)).json()["article"]
        for fan in fans
    ]
    assert {article["favoritesCount"] for article in seen} == {rows}
    assert sum(article["favorited"] for article in seen) == rows


async def test_same_title_at_once_gives_distinct_slugs(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    authors = await register_many(client, "writer", 4)
    # Overlapping tag sets, most of them new: the tag upserts race as well.
    tag_lists = [sorted({"news", f"t{n % 3}", f"t{n % 5 + 3}"}) for n in range(20)]
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/articles",
                json={
                    "article": {
                        "title": "Breaking News",
                        "description": "d",
                        "body": "b",
                        "tagList": tags,
                    }
                },
                headers=authors[n % len(authors)].auth,
            )
            for n, tags in enumerate(tag_lists)
        )
    )
    assert statuses(responses) == {201: 20}
    articles = [response.json()["article"] for response in responses]
    assert len({article["slug"] for article in articles}) == 20
    assert all(article["slug"].startswith("breaking-news") for article in articles)
    assert [article["tagList"] for article in articles] == tag_lists

    assert await scalar(app, select(func.count()).select_from(Article)) == 20
    distinct_tags = len(set().union(*tag_lists))
    assert await scalar(app, select(func.count()).select_from(Tag)) == distinct_tags
    links = sum(len(tags) for tags in tag_lists)
    assert await scalar(app, select(func.count()).select_from(ArticleTag)) == links


@pytest.mark.parametrize(("method", "following", "rows"), [("POST", True, 1), ("DELETE", False, 0)])
async def test_repeated_follow_or_unfollow_at_once_is_idempotent(
    client: httpx.AsyncClient, app: FastAPI, method: str, following: bool, rows: int
) -> None:
    fan, star = await register(client, "fan"), await register(client, "star")
    if method == "DELETE":
        await client.post(f"/api/profiles/{star.username}/follow", headers=fan.auth)
    responses = await asyncio.gather(
        *(
            client.request(method, f"/api/profiles/{star.username}/follow", headers=fan.auth)
            for _ in range(20)
        )
    )
    assert statuses(responses) == {200: 20}
    assert all(response.json()["profile"]["following"] is following for response in responses)
    assert await follow_rows(app, fan, star) == rows
    profile = (await client.get(f"/api/profiles/{star.username}", headers=fan.auth)).json()
    assert profile["profile"]["following"] is following


async def test_follow_and_unfollow_racing_agree_with_the_table(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fan, star = await register(client, "fan"), await register(client, "star")
    responses = await asyncio.gather(
        *(
            client.request(method, f"/api/profiles/{star.username}/follow", headers=fan.auth)
            for _ in range(10)
            for method in ("POST", "DELETE")
        )
    )
    assert statuses(responses) == {200: 20}
    rows = await follow_rows(app, fan, star)
    assert rows in {0, 1}
    profile = (await client.get(f"/api/profiles/{star.username}", headers=fan.auth)).json()
    assert profile["profile"]["following"] is bool(rows)


async def blocked(app: FastAPI, sql: StatementLog, backend: str) -> None:
    """Wait until a request is stuck behind another transaction's lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        if backend == "sqlite":
            # Writers queue for the database lock at BEGIN IMMEDIATE (logged before it runs).
            if "BEGIN IMMEDIATE" in sql.statements:
                return
        elif await scalar(app, waiting):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing waits on a lock; statements: {sql.statements}")


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("POST", "/favorite", None),
        ("POST", "/comments", {"comment": {"body": "too late"}}),
        ("PUT", "", {"article": {"tagList": ["too-late"]}}),
    ],
    ids=["favorite", "comment", "retag"],
)
async def test_writing_to_an_article_as_it_is_deleted_is_a_404(
    client: httpx.AsyncClient,
    app: FastAPI,
    sql: StatementLog,
    backend: str,
    method: str,
    action: str,
    body: dict[str, Any] | None,
) -> None:
    author = await register(client, "author")
    slug = (await make_article(client, author, tagList=["early"]))["slug"]
    async with app.state.database.session() as session:
        await session.execute(delete(Article).where(Article.slug == slug))
        sql.clear()
        pending = asyncio.ensure_future(
            client.request(method, f"/api/articles/{slug}{action}", json=body, headers=author.auth)
        )
        # Let the request run into the uncommitted delete: on SQLite it queues for the write
        # lock; on Postgres it has already found the article and waits on its row.
        await blocked(app, sql, backend)
        assert not pending.done()
    response = await pending
    assert response.status_code == 404, response.text
    assert response.json() == {"errors": {"article": ["not found"]}}
