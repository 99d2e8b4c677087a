"""Readers: the same rows with or without a session, and failures that leave the pool sound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Integer, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError

from pressroom.articles import queries
from pressroom.articles.models import Counter
from pressroom.core.db import Database, create_engine
from pressroom.core.reads import DriverReader, DriverStatement, PooledReader, SessionReader
from tests.conftest import base_settings
from tests.factories import make_article, make_comment, register

DIALECT = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]


# ---------------------------------------------------------------- compiling for the driver
def test_driver_statement_fills_placeholders_in_order_with_constants() -> None:
    statement = select(Counter.value).where(
        Counter.name == "articles", Counter.value > bindparam("least", type_=Integer)
    )
    compiled = DriverStatement.compile(statement, DIALECT)
    assert "$1" in compiled.sql
    assert "$2" in compiled.sql
    assert compiled.arguments({"least": 3}) == ["articles", 3]


def test_driver_statement_needs_every_bind_without_a_value() -> None:
    compiled = DriverStatement.compile(queries.id_by_slug(), DIALECT)
    assert compiled.arguments({"slug": "hello"}) == ["hello"]
    with pytest.raises(KeyError):
        compiled.arguments({})


def test_driver_statement_refuses_expanding_parameters() -> None:
    statement = select(Counter.value).where(Counter.name.in_(bindparam("names", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        DriverStatement.compile(statement, DIALECT)


# ---------------------------------------------------------------- same rows, any reader
async def test_every_reader_returns_the_same_article(
    app: FastAPI, client: httpx.AsyncClient, backend: str
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, tagList=["b", "a"]))["slug"]
    await make_comment(client, alice, slug)
    database: Database = app.state.database
    statement = queries.article(backend if backend == "sqlite" else "postgresql", by="slug",
                                personal=True)  # fmt: skip
    params = {"slug": slug, "viewer_id": 1}

    pooled = await PooledReader(database.engine).first(statement, params)
    async with database.session() as session:
        in_session = await SessionReader(session).first(statement, params)
    fast = await database.reader.first(statement, params)

    assert pooled is not None
    assert in_session is not None
    assert fast is not None
    columns = list(statement.selected_columns.keys())
    assert [fast[c] for c in columns] == [pooled[c] for c in columns]
    assert [fast[c] for c in columns] == [in_session[c] for c in columns]
    created = fast["created_at"]
    assert created.tzinfo is not None
    assert created.utcoffset().total_seconds() == 0
    assert isinstance(database.reader, DriverReader if backend == "postgres" else PooledReader)


async def test_a_missing_row_is_none_and_an_empty_result_is_empty(app: FastAPI) -> None:
    reader = app.state.database.reader
    assert await reader.first(queries.id_by_slug(), {"slug": "nope"}) is None
    assert await reader.scalar(queries.id_by_slug(), {"slug": "nope"}) is None
    assert list(await reader.all(queries.id_by_slug(), {"slug": "nope"})) == []


# ---------------------------------------------------------------- failures on Postgres
@pytest.fixture
async def pg_reader(postgres_url: str, tmp_path: Path) -> AsyncIterator[DriverReader]:
    settings = base_settings(tmp_path, postgres_url, database={"pool_size": 2, "max_overflow": 0})
    database = Database(create_engine(settings))
    reader = database.reader
    assert isinstance(reader, DriverReader)
    try:
        yield reader
    finally:
        await database.dispose()


SLEEP = select(func.pg_sleep(bindparam("seconds", type_=Integer)), literal(1))
ONE = select(literal(1, type_=Integer))


@dataclass
class SleepingRead:
    task: asyncio.Task[Any]
    backend_pid: int
    admin: asyncpg.Connection


@asynccontextmanager
async def sleeping_read(reader: DriverReader, url: str) -> AsyncIterator[SleepingRead]:
    """A 30-second read in flight, its server process, and an admin connection beside it."""
    admin = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        task = asyncio.create_task(reader.first(SLEEP, {"seconds": 30}))
        for _ in range(200):
            pid = await admin.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' "
                "AND pid <> pg_backend_pid() AND state = 'active'"
            )
            if pid is not None:
                yield SleepingRead(task, int(pid), admin)
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the read never started")
    finally:
        await admin.close()


async def assert_pool_recovered(reader: DriverReader) -> None:
    assert reader.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    for _ in range(3):  # more reads than the pool holds: a dead connection was replaced
        assert await reader.scalar(ONE, {}) == 1


async def test_a_connection_killed_mid_read_is_503_material_and_the_pool_recovers(
    pg_reader: DriverReader, postgres_url: str
) -> None:
    async with sleeping_read(pg_reader, postgres_url) as read:
        await read.admin.execute("SELECT pg_terminate_backend($1)", read.backend_pid)
        with pytest.raises(OperationalError) as failure:
            await asyncio.wait_for(read.task, 10)

    # Handled like SQLAlchemy's own connection failures: core.errors answers 503.
    assert failure.value.connection_invalidated
    await assert_pool_recovered(pg_reader)


async def test_a_cancelled_read_does_not_return_its_connection_busy(
    pg_reader: DriverReader, postgres_url: str
) -> None:
    async with sleeping_read(pg_reader, postgres_url) as read:
        read.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read.task
        for _ in range(100):  # the server side of the cancelled read goes away
            query = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
            alive = await read.admin.fetchval(query, read.backend_pid)
            if not alive:
                break
            await asyncio.sleep(0.05)

    assert not alive
    await assert_pool_recovered(pg_reader)


async def test_statement_errors_pass_through_and_keep_the_pool_usable(
    pg_reader: DriverReader,
) -> None:
    broken = select(func.no_such_function(literal(1)))
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await pg_reader.scalar(broken, {})
    assert await pg_reader.scalar(ONE, {}) == 1


async def test_observers_see_each_statement_with_its_driver_connection(
    pg_reader: DriverReader,
) -> None:
    seen: list[tuple[str, bool]] = []
    pg_reader.observers.append(lambda sql, driver: seen.append((sql, driver.is_closed())))
    await pg_reader.scalar(ONE, {})
    assert len(seen) == 1
    assert seen[0][0].startswith("SELECT")
    assert seen[0][1] is False
