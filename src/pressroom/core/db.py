"""Engine, sessions and the one-transaction-per-request session dependency."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from pressroom.core.outbox import CommittedEvent, committed_events
from pressroom.core.reads import Reader, create_reader
from pressroom.core.settings import Settings

logger = logging.getLogger("pressroom.db")

# Called after a commit with the outbox events it made durable (live updates, cache
# invalidation, waking the relay). A listener that fails is logged: the write stands.
CommitListener = Callable[[Sequence[CommittedEvent]], Awaitable[None]]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SQLITE_BEGIN = "pressroom_sqlite_begin"


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    db = settings.database
    common: dict[str, Any] = {"echo": db.echo, "pool_pre_ping": False}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": db.busy_timeout, "check_same_thread": False},
            pool_size=db.pool_size,
            max_overflow=db.max_overflow,
            pool_timeout=db.pool_timeout,
            **common,
        )
        _configure_sqlite(engine, busy_timeout_ms=int(db.busy_timeout * 1000))
        return engine
    return create_async_engine(
        url,
        pool_size=db.pool_size,
        max_overflow=db.max_overflow,
        pool_timeout=db.pool_timeout,
        pool_recycle=1800,
        connect_args={
            "timeout": db.connect_timeout,
            "command_timeout": db.statement_timeout + 1,
            "server_settings": {
                "statement_timeout": str(int(db.statement_timeout * 1000)),
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "pressroom",
            },
        },
        **common,
    )


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, busy timeout, and explicit BEGIN (IMMEDIATE for writers)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so that we can emit BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={busy_timeout_ms}",
            "PRAGMA synchronous=NORMAL",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Readers run each statement on its own (like Postgres autocommit reads); writers take
        # the write lock up front, so they queue on busy_timeout instead of failing mid-way.
        if connection.get_execution_options().get(_SQLITE_BEGIN):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def transactional(engine: AsyncEngine) -> AsyncEngine:
    """The engine for writers: real transactions (BEGIN IMMEDIATE on SQLite)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_SQLITE_BEGIN: True})


class Database:
    """Owns the engine and hands out sessions; opened and closed by the app lifespan."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        writer = transactional(engine)
        # Reads need no transaction: skipping BEGIN/ROLLBACK saves two round trips.
        autocommit = (
            engine if self.is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.reader = create_reader(autocommit)
        self._writer = async_sessionmaker(writer, expire_on_commit=False)
        self._reader = async_sessionmaker(autocommit, expire_on_commit=False)
        self.commit_listeners: list[CommitListener] = []

    @asynccontextmanager
    async def session(self, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        factory = self._reader if readonly else self._writer
        async with factory() as session:
            try:
                yield session
                if not readonly:
                    await session.commit()
            except BaseException:
                await session.rollback()
                committed_events(session)  # rolled back with the change: never announced
                raise
        if events := committed_events(session):
            await self.announce(events)

    async def announce(self, events: Sequence[CommittedEvent]) -> None:
        """Tell every commit listener about events that just became durable."""
        for listener in self.commit_listeners:
            try:
                await listener(events)
            except Exception:
                logger.exception("commit listener %r failed", listener)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.session(readonly=request.method in READ_METHODS) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session outside any transaction, for endpoints that read and at most write one row.

    Each statement commits on its own, so a lone UPDATE is still atomic, and no write lock is
    held while the endpoint does slow work (login verifies an argon2 hash).
    """
    database: Database = request.app.state.database
    async with database.session(readonly=True) as session:
        yield session


async def get_reader(request: Request) -> Reader:
    """Reads without a session or transaction: what GET endpoints use."""
    reader: Reader = request.app.state.database.reader
    return reader


# scope="function": the commit runs before the response is sent, so a failed commit
# becomes an error response instead of a 2xx for work that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
ReaderDep = Annotated[Reader, Depends(get_reader)]
