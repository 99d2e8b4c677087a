"""Reading endpoints run a fixed number of SQL statements, whatever the page holds.

The dataset spans many authors, tags, favorites, follows and comments, so a query per item
(per author, per tag, per favorite flag) would show up as a larger count for a page of 50
than for a page of 1. The caller's own user lookup counts as one statement.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from pressroom.admin.models import AuditRecord
from pressroom.articles.models import Article, Favorite
from pressroom.comments.models import Comment
from pressroom.core.db import Database
from pressroom.core.models import utcnow
from pressroom.profiles.models import Follow
from pressroom.tags.models import ArticleTag, Tag
from pressroom.users.models import User
from tests.conftest import StatementLog
from tests.factories import Person, make_admin, register

MAX_STATEMENTS = 4
ARTICLES = 100
AUTHORS = 5
TAGS = 12
COMMENTS = 60
FOLLOWED = ("author0", "author1", "author2")


@dataclass(frozen=True)
class Dataset:
    reader: Person
    slug: str
    """The article with many comments."""
    untagged_slug: str


def tags_of(number: int) -> set[str]:
    return {"common", f"tag{number % TAGS}", f"tag{(number + 5) % TAGS}"}


async def insert_dataset(database: Database, slug: str, untagged_slug: str) -> None:
    now = utcnow()
    async with database.session() as session:
        ids = dict((await session.execute(select(User.username, User.id))).all())
        names = sorted(set().union(*(tags_of(n) for n in range(ARTICLES))))
        await session.execute(insert(Tag), [{"name": name} for name in names])
        tag_ids = dict((await session.execute(select(Tag.name, Tag.id))).all())
        fans = [ids["reader"], *(ids[f"author{n}"] for n in range(AUTHORS))]
        await session.execute(
            insert(Article),
            [
                {
                    "slug": slug if n == 0 else untagged_slug if n == 1 else f"article-{n}",
                    "title": f"Article {n}",
                    "description": "about it",
                    "body": "the body",
                    "author_id": ids[f"author{n % AUTHORS}"],
                    # Every even article is favorited by the reader, every third by all fans.
                    "favorites_count": len(fans) if n % 3 == 0 else int(n % 2 == 0),
                    "created_at": now - timedelta(minutes=n),
                    "updated_at": now - timedelta(minutes=n),
                }
                for n in range(ARTICLES)
            ],
        )
        numbers = {f"Article {n}": n for n in range(ARTICLES)}
        articles = {
            numbers[title]: article_id
            for title, article_id in await session.execute(select(Article.title, Article.id))
        }
        await session.execute(
            insert(ArticleTag),
            [
                {"article_id": articles[n], "tag_id": tag_ids[name]}
                for n in range(ARTICLES)
                if n != 1
                for name in tags_of(n)
            ],
        )
        await session.execute(
            insert(Favorite),
            [
                {"user_id": fan, "article_id": articles[n], "created_at": now}
                for n in range(ARTICLES)
                for fan in (fans if n % 3 == 0 else fans[:1] if n % 2 == 0 else [])
            ],
        )
        await session.execute(
            insert(Follow),
            [
                {"follower_id": ids["reader"], "followee_id": ids[name], "created_at": now}
                for name in FOLLOWED
            ],
        )
        await session.execute(
            insert(Comment),
            [
                {
                    "body": f"comment {n}",
                    "article_id": articles[0],
                    "author_id": fans[n % len(fans)],
                    "created_at": now - timedelta(seconds=n),
                    "updated_at": now - timedelta(seconds=n),
                }
                for n in range(COMMENTS)
            ],
        )


@pytest.fixture
async def dataset(client: httpx.AsyncClient, app: FastAPI) -> Dataset:
    names = ["reader", *(f"author{n}" for n in range(AUTHORS))]
    people = await asyncio.gather(*(register(client, name) for name in names))
    await insert_dataset(app.state.database, "many-comments", "no-tags")
    return Dataset(reader=people[0], slug="many-comments", untagged_slug="no-tags")


def normalized(statements: list[str]) -> list[str]:
    """Statements with bound parameters folded, so `IN (?, ?, ?)` equals `IN (?)`.

    Page sizes are written into the SQL (`LIMIT 50`, see articles.queries.page): folded too.
    """
    folded = (re.sub(r"\$\d+(::[A-Z]+)?|%\(\w+\)s", "?", statement) for statement in statements)
    folded = (re.sub(r"\b(LIMIT|OFFSET) \d+", r"\1 ?", statement) for statement in folded)
    return [re.sub(r"\?(\s*,\s*\?)+", "?", statement) for statement in folded]


async def measure(
    client: httpx.AsyncClient, sql: StatementLog, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, list[str]]:
    sql.clear()
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response, list(sql.statements)


def with_limit(url: str, limit: int | None) -> str:
    if limit is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}limit={limit}"


LISTS = [
    "/api/articles",
    "/api/articles?tag=common",
    "/api/articles?author=author0",
    "/api/articles?favorited=reader",
    "/api/articles?tag=common&author=Author1&favorited=reader",
]
LIST_CALLS = [
    *((url, viewer) for url in LISTS for viewer in ("anonymous", "reader")),
    ("/api/articles/feed", "reader"),
]


@pytest.mark.parametrize(("url", "viewer"), LIST_CALLS)
async def test_article_lists_run_the_same_statements_for_1_or_50_items(
    client: httpx.AsyncClient, sql: StatementLog, dataset: Dataset, url: str, viewer: str
) -> None:
    headers = dataset.reader.auth if viewer == "reader" else {}
    one, few = await measure(client, sql, with_limit(url, 1), headers)
    many, lots = await measure(client, sql, with_limit(url, 50), headers)

    assert len(one.json()["articles"]) == 1
    assert len(many.json()["articles"]) >= 10
    assert len(few) == len(lots) <= MAX_STATEMENTS, lots
    assert normalized(few) == normalized(lots)


async def test_a_page_of_50_spans_many_authors_tags_and_flags(
    client: httpx.AsyncClient, sql: StatementLog, dataset: Dataset
) -> None:
    # Guards the comparisons above: the large page is varied enough to expose per-item queries.
    response, statements = await measure(client, sql, "/api/articles?limit=50", dataset.reader.auth)
    page = response.json()["articles"]
    assert len(page) == 50
    assert len({article["author"]["username"] for article in page}) == AUTHORS
    assert len({tag for article in page for tag in article["tagList"]}) == TAGS + 1
    assert {article["favorited"] for article in page} == {True, False}
    assert {article["author"]["following"] for article in page} == {True, False}
    assert len({article["favoritesCount"] for article in page}) == 3
    assert len(statements) <= MAX_STATEMENTS


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
async def test_comments_run_the_same_statements_for_any_page_size(
    client: httpx.AsyncClient, sql: StatementLog, dataset: Dataset, viewer: str
) -> None:
    headers = dataset.reader.auth if viewer == "reader" else {}
    url = f"/api/articles/{dataset.slug}/comments"
    measured = [await measure(client, sql, with_limit(url, n), headers) for n in (1, 50, None)]

    sizes = [len(response.json()["comments"]) for response, _ in measured]
    assert sizes == [1, 50, COMMENTS]
    authors = {c["author"]["username"] for c in measured[-1][0].json()["comments"]}
    assert len(authors) == AUTHORS + 1
    counts = [len(statements) for _, statements in measured]
    assert counts[0] == counts[1] == counts[2] <= MAX_STATEMENTS, measured[-1][1]
    # Without a limit the page clause differs; with one, only the bound values do.
    assert normalized(measured[0][1]) == normalized(measured[1][1])


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
async def test_one_article_costs_the_same_with_or_without_tags(
    client: httpx.AsyncClient, sql: StatementLog, dataset: Dataset, viewer: str
) -> None:
    headers = dataset.reader.auth if viewer == "reader" else {}
    tagged, with_tags = await measure(client, sql, f"/api/articles/{dataset.slug}", headers)
    bare, without_tags = await measure(
        client, sql, f"/api/articles/{dataset.untagged_slug}", headers
    )
    assert len(tagged.json()["article"]["tagList"]) == 3
    assert bare.json()["article"]["tagList"] == []
    assert len(with_tags) == len(without_tags) <= MAX_STATEMENTS, with_tags
    assert normalized(with_tags) == normalized(without_tags)


async def insert_admin_dataset(database: Database, actor: str) -> None:
    """60 more users (some suspended, some deleted) and 60 audit records by two actors."""
    now = utcnow()
    async with database.session() as session:
        await session.execute(
            insert(User),
            [
                {
                    "username": f"member{n}",
                    "email": f"member{n}@example.com",
                    "password_hash": "x",
                    "suspended_at": now if n % 5 == 0 else None,
                    "deleted_at": now if n % 7 == 0 else None,
                    "created_at": now - timedelta(minutes=n),
                }
                for n in range(60)
            ],
        )
        ids = dict((await session.execute(select(User.username, User.id))).all())
        await session.execute(
            insert(AuditRecord),
            [
                {
                    "actor_id": ids[actor] if n % 2 else None,
                    "action": "user.suspend" if n % 3 else "user.delete",
                    "target_type": "user",
                    "target_id": f"member{n}",
                    "details": f'{{"n": {n}}}',
                    "created_at": now - timedelta(seconds=n),
                }
                for n in range(60)
            ],
        )


ADMIN_LISTS = [
    "/api/admin/users",
    "/api/admin/users?include_deleted=true",
    "/api/admin/users?q=member&status=suspended&include_deleted=true",
    "/api/admin/audit",
    "/api/admin/audit?action=user.suspend",
]


@pytest.mark.parametrize("url", ADMIN_LISTS)
async def test_admin_lists_run_the_same_statements_for_1_or_50_items(
    client: httpx.AsyncClient, app: FastAPI, sql: StatementLog, url: str
) -> None:
    admin = await make_admin(client, app, "boss")
    await insert_admin_dataset(app.state.database, "boss")

    one, few = await measure(client, sql, with_limit(url, 1), admin.auth)
    many, lots = await measure(client, sql, with_limit(url, 50), admin.auth)

    key = "users" if "/users" in url else "auditRecords"
    assert len(one.json()[key]) == 1
    assert len(many.json()[key]) >= 8
    assert len(few) == len(lots) <= MAX_STATEMENTS, lots
    assert normalized(few) == normalized(lots)
