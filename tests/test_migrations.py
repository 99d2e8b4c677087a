"""Alembic is the only way the schema is made: upgrade, check, downgrade and upgrade again.

Each test starts from an empty database of its own: a SQLite file, or a Postgres database
created for it and dropped afterwards (never the developer's own).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

import pressroom.main  # noqa: F401  (imports every domain, so every model's table is known)
from pressroom.core import migrations
from pressroom.core.db import create_engine
from pressroom.core.models import Base
from pressroom.core.settings import Settings
from tests.conftest import BACKENDS, base_settings, create_pg_database, drop_pg_database

T = TypeVar("T")
APP_TABLES = set(Base.metadata.tables)
# So `alembic check` cannot compare the lower() indexes there; Postgres compares them, and
# test_case_insensitive_unique_indexes_exist looks for them on both.
SQLITE_CANNOT_REFLECT_EXPRESSION_INDEXES = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
)
CASE_INSENSITIVE_INDEXES = {"uq_users_username_lower": "username", "uq_users_email_lower": "email"}


def _postgres_database(tmp_path: Path) -> Iterator[Settings]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"pressroom_migr_{worker}_{os.getpid()}"
    url = create_pg_database(name)
    try:
        yield base_settings(tmp_path, url)
    finally:
        drop_pg_database(name)


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for an empty database."""
    if request.param == "sqlite":
        yield base_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}")
    else:
        yield from _postgres_database(tmp_path)


def _inspect(settings: Settings, look: Callable[[Connection], T]) -> T:
    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(settings: Settings) -> set[str]:
    return _inspect(settings, lambda connection: set(sa.inspect(connection).get_table_names()))


def version(settings: Settings) -> str | None:
    def read(connection: Connection) -> str | None:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    return _inspect(settings, read)


def index_definition(settings: Settings, name: str) -> str | None:
    def read(connection: Connection) -> str | None:
        if connection.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
        value = connection.execute(sa.text(query), {"name": name}).scalar()
        return None if value is None else str(value)

    return _inspect(settings, read)


def add_user(settings: Settings, username: str, email: str) -> None:
    now = datetime.now(UTC)
    row: dict[str, Any] = {
        "username": username,
        "email": email,
        "password_hash": "not-a-hash",
        "created_at": now,
        "updated_at": now,
    }

    async def run() -> None:
        engine = create_engine(settings)
        try:
            async with engine.begin() as connection:
                await connection.execute(Base.metadata.tables["users"].insert().values(**row))
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_the_models_define_the_conduit_tables() -> None:
    assert {"users", "follows", "articles", "tags", "article_tags", "favorites", "comments"} <= (
        APP_TABLES
    )


def test_upgrade_from_empty_creates_every_table(empty: Settings) -> None:
    assert tables(empty) == set()
    migrations.upgrade(empty)
    assert tables(empty) == APP_TABLES | {"alembic_version"}
    assert version(empty) == migrations.head_revision(empty)


@SQLITE_CANNOT_REFLECT_EXPRESSION_INDEXES
def test_models_and_migrations_agree(empty: Settings) -> None:
    migrations.upgrade(empty)
    command.check(migrations.alembic_config(empty))  # raises when autogenerate finds a change


def test_downgrade_to_base_removes_every_table(empty: Settings) -> None:
    migrations.upgrade(empty)
    migrations.downgrade(empty, "base")
    assert tables(empty) - {"alembic_version"} == set()
    assert version(empty) is None
    assert all(index_definition(empty, name) is None for name in CASE_INSENSITIVE_INDEXES)


@SQLITE_CANNOT_REFLECT_EXPRESSION_INDEXES
def test_upgrade_after_downgrade_restores_the_schema(empty: Settings) -> None:
    migrations.upgrade(empty)
    migrations.downgrade(empty, "base")
    migrations.upgrade(empty)
    assert tables(empty) == APP_TABLES | {"alembic_version"}
    command.check(migrations.alembic_config(empty))
    add_user(empty, "alice", "alice@example.com")


def test_case_insensitive_unique_indexes_exist(empty: Settings) -> None:
    migrations.upgrade(empty)
    for name, column in CASE_INSENSITIVE_INDEXES.items():
        definition = index_definition(empty, name)
        assert definition is not None, name
        assert "UNIQUE" in definition.upper(), definition
        # SQLite keeps the SQL as written; Postgres says `lower((username)::text)`.
        expression = rf"lower\(\(?{column}\)?(::text)?\)"
        assert re.search(expression, definition.lower().replace('"', "")), definition


@pytest.mark.parametrize(
    ("username", "email"),
    [("ALICE", "other@example.com"), ("bob", "Alice@Example.COM")],
    ids=["username", "email"],
)
def test_usernames_and_emails_are_unique_ignoring_case(
    empty: Settings, username: str, email: str
) -> None:
    migrations.upgrade(empty)
    add_user(empty, "Alice", "alice@example.com")
    with pytest.raises(IntegrityError):
        add_user(empty, username, email)
    add_user(empty, "bob", "bob@example.com")


def test_migrations_form_one_line_of_date_named_revisions() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config(base_settings(Path("unused"))))
    assert len(script.get_heads()) == 1, "two heads: merge them or rebase the newer migration"
    names = [path.name for path in Path(script.versions).glob("*.py")]
    assert names
    for name in names:
        assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]+_\w+\.py", name), name
