"""One transaction per request, committed before the response is sent.

The failures here are real database failures, planted with SQL the app knows nothing about:
a check that only runs at COMMIT, and a trigger that refuses a row half-way through a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from pressroom.articles.models import Article
from pressroom.core.outbox import OutboxEvent
from pressroom.tags.models import ArticleTag, Tag
from tests.conftest import StatementLog
from tests.factories import Person, make_article, make_comment, register

# The planted SQL below spells these out as literals: the app knows nothing of them.
DOOMED_TITLE = "Doomed at commit"
DOOMED_TAG = "doomed"

# SQLite has no constraint triggers, but it checks a DEFERRABLE INITIALLY DEFERRED foreign key
# only at COMMIT: a trigger files a row pointing at no user, the INSERT or UPDATE succeeds, and
# COMMIT itself fails with "FOREIGN KEY constraint failed" (a real commit-time failure).
SQLITE_COMMIT_CHECK = [
    "CREATE TABLE commit_tripwire (user_id INTEGER NOT NULL "
    "REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER doom_on_insert AFTER INSERT ON articles "
    "WHEN NEW.title = 'Doomed at commit' "
    "BEGIN INSERT INTO commit_tripwire (user_id) VALUES (-1); END",
    "CREATE TRIGGER doom_on_update AFTER UPDATE ON articles "
    "WHEN NEW.title = 'Doomed at commit' "
    "BEGIN INSERT INTO commit_tripwire (user_id) VALUES (-1); END",
]
# Postgres: a constraint trigger deferred to COMMIT, the way deferred constraints fail.
PG_COMMIT_CHECK = [
    "CREATE FUNCTION doom_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.title = 'Doomed at commit' THEN "
    "RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'check_violation'; END IF; "
    "RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER doom_at_commit AFTER INSERT OR UPDATE ON articles "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION doom_at_commit()",
]
PG_COMMIT_CHECK_DROP = [
    "DROP TRIGGER IF EXISTS doom_at_commit ON articles",
    "DROP FUNCTION IF EXISTS doom_at_commit()",
]

# Refuses to link the tag at once, after the article (and the tag itself) were written.
SQLITE_TAG_CHECK = [
    "CREATE TRIGGER refuse_doomed_tag BEFORE INSERT ON article_tags "
    "WHEN (SELECT name FROM tags WHERE id = NEW.tag_id) = 'doomed' "
    "BEGIN SELECT RAISE(ABORT, 'tag refused'); END"
]
PG_TAG_CHECK = [
    "CREATE FUNCTION refuse_doomed_tag() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF (SELECT name FROM tags WHERE id = NEW.tag_id) = 'doomed' THEN "
    "RAISE EXCEPTION 'tag refused'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER refuse_doomed_tag BEFORE INSERT ON article_tags "
    "FOR EACH ROW EXECUTE FUNCTION refuse_doomed_tag()",
]
PG_TAG_CHECK_DROP = [
    "DROP TRIGGER IF EXISTS refuse_doomed_tag ON article_tags",
    "DROP FUNCTION IF EXISTS refuse_doomed_tag()",
]


async def run_ddl(engine: AsyncEngine, statements: list[str]) -> None:
    async with engine.begin() as connection:
        for statement in statements:
            await connection.exec_driver_sql(statement)


@asynccontextmanager
async def planted(
    app: FastAPI, backend: str, sqlite: list[str], pg: list[str], pg_drop: list[str]
) -> AsyncIterator[None]:
    engine: AsyncEngine = app.state.database.engine
    if backend == "sqlite":
        # Each SQLite test works on its own copy of the database: nothing to take down.
        await run_ddl(engine, sqlite)
        yield
        return
    # The Postgres database is shared by the whole test session: always drop what we made.
    try:
        await run_ddl(engine, pg)
        yield
    finally:
        await run_ddl(engine, pg_drop)


@pytest.fixture
async def commit_check(app: FastAPI, backend: str) -> AsyncIterator[None]:
    """COMMIT fails for any transaction that wrote an article titled DOOMED_TITLE."""
    async with planted(app, backend, SQLITE_COMMIT_CHECK, PG_COMMIT_CHECK, PG_COMMIT_CHECK_DROP):
        yield


@pytest.fixture
async def tag_check(app: FastAPI, backend: str) -> AsyncIterator[None]:
    """Linking an article to the tag DOOMED_TAG fails on the spot."""
    async with planted(app, backend, SQLITE_TAG_CHECK, PG_TAG_CHECK, PG_TAG_CHECK_DROP):
        yield


async def scalar(app: FastAPI, query: Any) -> Any:
    async with app.state.database.session(readonly=True) as session:
        return await session.scalar(query)


def assert_envelope(response: httpx.Response) -> None:
    assert not response.is_success, response.text
    assert response.status_code >= 400
    body = response.json()
    assert list(body) == ["errors"], body
    assert body["errors"], body
    assert all(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
        for messages in body["errors"].values()
    ), body


async def existing_article(client: httpx.AsyncClient, author: Person, action: str) -> str | None:
    """The slug of the article a doomed update targets; None when the action creates one."""
    if action == "create":
        return None
    article = await make_article(client, author, title="Still standing", tagList=["kept"])
    return str(article["slug"])


async def write_doomed(
    client: httpx.AsyncClient, author: Person, old_slug: str | None, **fields: Any
) -> httpx.Response:
    """Create an article titled DOOMED_TITLE, or retitle the one at `old_slug` so."""
    article = {"title": DOOMED_TITLE, **fields}
    if old_slug is None:
        body = {"article": {"description": "d", "body": "b", **article}}
        return await client.post("/api/articles", json=body, headers=author.auth)
    return await client.put(
        f"/api/articles/{old_slug}", json={"article": article}, headers=author.auth
    )


def first_write(statements: list[str], *prefixes: str) -> int:
    """Position of the first statement starting with one of `prefixes`."""
    for position, statement in enumerate(statements):
        if statement.lstrip().startswith(prefixes):
            return position
    raise AssertionError(f"none of {prefixes} in {statements}")


async def assert_untouched(client: httpx.AsyncClient, app: FastAPI, old_slug: str | None) -> None:
    """No trace of the failed write, through the API and in the tables."""
    doomed = select(func.count()).select_from(Article).where(Article.title == DOOMED_TITLE)
    assert await scalar(app, doomed) == 0
    listed = (await client.get("/api/articles")).json()
    assert DOOMED_TITLE not in {article["title"] for article in listed["articles"]}
    if old_slug is None:
        assert listed["articlesCount"] == 0
        return
    article = (await client.get(f"/api/articles/{old_slug}")).json()["article"]
    assert article["title"] == "Still standing"
    assert article["tagList"] == ["kept"]


@pytest.mark.parametrize("action", ["create", "update"])
@pytest.mark.usefixtures("commit_check")
async def test_a_failed_commit_is_an_error_response_and_keeps_nothing(
    client: httpx.AsyncClient, app: FastAPI, sql: StatementLog, action: str
) -> None:
    author = await register(client, "author")
    old_slug = await existing_article(client, author, action)
    events_before = await scalar(app, select(func.count()).select_from(OutboxEvent))
    sql.clear()

    response = await write_doomed(client, author, old_slug)

    assert_envelope(response)
    # The write went through and the response was built (the article read back, then its
    # event written to the outbox last): only COMMIT refused the work.
    first_write(sql.statements, "INSERT INTO articles", "UPDATE articles")
    assert sql.statements[-2].startswith("SELECT"), sql.statements[-2]
    assert sql.statements[-1].startswith("INSERT INTO outbox_events"), sql.statements[-1]
    await assert_untouched(client, app, old_slug)
    # ...and its event went with it.
    assert await scalar(app, select(func.count()).select_from(OutboxEvent)) == events_before
    # The failed transaction let go of its connection and locks: the next write goes through.
    await make_article(client, author, title="Next one")


@pytest.mark.parametrize("action", ["create", "update"])
@pytest.mark.usefixtures("tag_check")
async def test_a_request_failing_half_way_leaves_nothing_half_written(
    client: httpx.AsyncClient, app: FastAPI, sql: StatementLog, action: str
) -> None:
    author = await register(client, "author")
    old_slug = await existing_article(client, author, action)
    sql.clear()

    response = await write_doomed(client, author, old_slug, tagList=["fresh", DOOMED_TAG])

    assert_envelope(response)
    article_written = first_write(sql.statements, "INSERT INTO articles", "UPDATE articles")
    tags_written = first_write(sql.statements, "INSERT INTO tags")
    links_refused = first_write(sql.statements, "INSERT INTO article_tags")
    assert article_written < tags_written < links_refused
    await assert_untouched(client, app, old_slug)
    new_tags = select(func.count()).select_from(Tag).where(Tag.name.in_(["fresh", DOOMED_TAG]))
    assert await scalar(app, new_tags) == 0
    links = select(func.count()).select_from(ArticleTag)
    assert await scalar(app, links) == (0 if old_slug is None else 1)


# ---------------------------------------------------------------- transaction boundaries
@dataclass
class Transaction:
    end: str
    statements: list[tuple[str, bool]]
    """Each statement's first word and whether the driver was inside a transaction."""


@dataclass
class TransactionLog:
    """Transaction events and statements, in order (one request at a time, so unmixed)."""

    entries: list[tuple[str, bool]] = field(default_factory=list)

    def clear(self) -> None:
        self.entries.clear()

    @property
    def statements(self) -> list[tuple[str, bool]]:
        return [entry for entry in self.entries if entry[0] not in _EVENTS]

    def transactions(self) -> list[Transaction]:
        """The transactions SQLAlchemy opened, each with the statements run inside it."""
        return self._split()[0]

    def outside(self) -> list[tuple[str, bool]]:
        """Statements run outside any transaction SQLAlchemy opened."""
        return self._split()[1]

    def _split(self) -> tuple[list[Transaction], list[tuple[str, bool]]]:
        found: list[Transaction] = []
        outside: list[tuple[str, bool]] = []
        current: list[tuple[str, bool]] | None = None
        for name, in_transaction in self.entries:
            if name == "begin":
                current = []
            elif name in _EVENTS:
                assert current is not None, f"{name} without begin"
                found.append(Transaction(name, current))
                current = None
            else:
                (outside if current is None else current).append((name, in_transaction))
        return found, outside


_EVENTS = ("begin", "commit", "rollback")
_WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def transactions(app: FastAPI, backend: str) -> Iterator[TransactionLog]:
    """Transaction events, and the driver's own view of each statement's transaction state."""
    log = TransactionLog()
    engine = app.state.database.engine.sync_engine

    def in_transaction(driver: Any) -> bool:
        # asyncpg reports the server's status from its ReadyForQuery message; sqlite3 asks
        # the library whether it is in autocommit mode.
        return bool(driver.is_in_transaction() if backend == "postgres" else driver.in_transaction)

    def verb(statement: str) -> str:
        return statement.split(None, 1)[0].upper()

    def after_execute(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if verb(statement) != "BEGIN":  # SQLite's BEGIN IMMEDIATE: the "begin" event says it
            driver = connection.connection.driver_connection
            log.entries.append((verb(statement), in_transaction(driver)))

    def driver_read(statement: str, driver: Any) -> None:
        log.entries.append((verb(statement), in_transaction(driver)))

    listeners: dict[str, Any] = {
        "after_cursor_execute": after_execute,
        **{name: lambda *_args, name=name: log.entries.append((name, False)) for name in _EVENTS},
    }
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    observers: list[Any] = getattr(app.state.database.reader, "observers", [])
    observers.append(driver_read)
    yield log
    for name, listener in listeners.items():
        event.remove(engine, name, listener)
    if driver_read in observers:
        observers.remove(driver_read)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/api/articles",
            {"article": {"title": "T", "description": "d", "body": "b", "tagList": ["x", "y"]}},
        ),
        ("PUT", "/api/articles/{slug}", {"article": {"title": "Renamed", "tagList": ["z"]}}),
        ("POST", "/api/articles/{slug}/favorite", None),
        ("POST", "/api/articles/{slug}/comments", {"comment": {"body": "hi"}}),
        ("DELETE", "/api/articles/{slug}", None),
        ("PUT", "/api/user", {"user": {"bio": "new bio"}}),
    ],
    ids=[
        "create-article",
        "update-article",
        "favorite",
        "comment",
        "delete-article",
        "update-user",
    ],
)
async def test_a_write_request_runs_in_one_transaction(
    client: httpx.AsyncClient,
    transactions: TransactionLog,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    author = await register(client, "author")
    slug = (await make_article(client, author))["slug"]
    transactions.clear()

    response = await client.request(method, path.format(slug=slug), json=body, headers=author.auth)

    assert response.is_success, response.text
    ended = transactions.transactions()
    committed = [t for t in ended if t.end == "commit"]
    assert len(committed) == 1
    # Every change runs inside that one transaction, and the driver agrees it is one. Anything
    # else only reads: the caller's account is looked up before the transaction starts.
    assert any(name in _WRITES for name, _ in committed[0].statements)
    assert all(in_tx for _, in_tx in committed[0].statements)
    others = [s for t in ended if t is not committed[0] for s in t.statements]
    others += transactions.outside()
    assert all(name == "SELECT" for name, _ in others), transactions.entries


async def test_a_refused_write_is_rolled_back_not_committed(
    client: httpx.AsyncClient, transactions: TransactionLog
) -> None:
    author = await register(client, "author")
    transactions.clear()
    response = await client.post("/api/articles/nope/favorite", headers=author.auth)
    assert response.status_code == 404
    ended = [t.end for t in transactions.transactions()]
    assert "commit" not in ended
    assert "rollback" in ended


@pytest.mark.parametrize(
    "path",
    [
        "/api/articles",
        "/api/articles/feed",
        "/api/articles/{slug}",
        "/api/articles/{slug}/comments",
        "/api/profiles/author",
        "/api/tags",
        "/api/user",
    ],
)
async def test_a_read_request_opens_no_transaction(
    client: httpx.AsyncClient, transactions: TransactionLog, path: str
) -> None:
    author = await register(client, "author")
    slug = (await make_article(client, author, tagList=["x"]))["slug"]
    await make_comment(client, author, slug)
    transactions.clear()

    response = await client.get(path.format(slug=slug), headers=author.auth)

    assert response.status_code == 200, response.text
    assert transactions.statements
    assert not any(in_tx for _, in_tx in transactions.statements)
    assert all(name == "SELECT" for name, _ in transactions.statements)
    assert "commit" not in [t.end for t in transactions.transactions()]
