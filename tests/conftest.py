"""Shared fixtures: every API test runs against real SQLite and real Postgres.

The schema always comes from running the Alembic migrations. SQLite tests copy a migrated
template file; Postgres tests share one database per test session (created here, never the
developer's own) and truncate every table after each test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from pressroom.core import migrations
from pressroom.core.settings import Settings
from pressroom.main import create_app

PG_ADMIN_DSN = os.environ.get("PRESSROOM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Shared fixtures of their own module: `redis_url`, `key_prefix` (tests/redis_fixtures.py).
pytest_plugins = ["tests.redis_fixtures"]
TEST_SECRET = "test-secret-" + "x" * 40
TABLES = (
    "account_tokens, processed_events, outbox_events, audit_log, api_keys, "
    "refresh_tokens, sessions, "
    "comments, favorites, article_tags, articles, follows, tags, users"
)
BACKENDS = ["sqlite", "postgres"]


def base_settings(data_dir: Path, database_url: str | None = None, **extra: Any) -> Settings:
    """Rate limits are off (tests register many users from one address, and a production
    profile may run so when forced): rate limit tests switch them on with
    `rate_limit={"enabled": True, ...}`. No outbox relay runs inside the app (its background
    writes would mingle with what a test counts): relay tests start one themselves, or pass
    `outbox={"relay": "in_process"}`."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database={"url": database_url, **extra.pop("database", {})},
        auth={"jwt_secret": TEST_SECRET, **extra.pop("auth", {})},
        rate_limit={
            "enabled": False,
            "allow_disabled_in_production": True,
            **extra.pop("rate_limit", {}),
        },
        outbox={"relay": "external", **extra.pop("outbox", {})},
        **extra,
    )


# ---------------------------------------------------------------- Postgres
def _pg_database_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"pressroom_test_{worker}_{os.getpid()}"


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_pg_database(name: str) -> str:
    """A fresh, empty Postgres database; its SQLAlchemy URL. Skips locally, fails in CI."""
    try:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"Postgres not reachable at {PG_ADMIN_DSN}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: Postgres tests must run)", pytrace=False)
        pytest.skip(f"{message}; start Postgres to run the Postgres half of the suite")
    host_part = PG_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host_part}/{name}"


def drop_pg_database(name: str) -> None:
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = _pg_database_name()
    url = create_pg_database(name)
    migrations.upgrade(base_settings(tmp_path_factory.mktemp("pg"), url))
    yield url
    drop_pg_database(name)


async def _truncate(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        # TRUNCATE fires no row triggers: the trigger-kept totals start again by hand.
        await connection.execute("UPDATE counters SET value = 0")
    finally:
        await connection.close()


# ---------------------------------------------------------------- SQLite
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "template.db"
    migrations.upgrade(base_settings(directory, f"sqlite+aiosqlite:///{path}"))
    return path


# ---------------------------------------------------------------- the app
@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "pressroom.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    asyncio.run(_truncate(url))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return base_settings(tmp_path, database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


# ---------------------------------------------------------------- environment
@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PRESSROOM_* variable or `.env` file of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PRESSROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------- counting SQL
@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.statements.clear()

    def __len__(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql(app: FastAPI) -> Iterator[StatementLog]:
    """Every SQL statement the app sends to the database, in order."""
    log = StatementLog()
    engine = app.state.database.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    def record_driver_read(statement: str, _driver: Any) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    # Postgres reads skip SQLAlchemy's executor (core.reads.DriverReader): they report here.
    observers: list[Any] = getattr(app.state.database.reader, "observers", [])
    observers.append(record_driver_read)
    yield log
    event.remove(engine, "before_cursor_execute", record)
    if record_driver_read in observers:
        observers.remove(record_driver_read)
