"""Noticing, within seconds, a Postgres that stopped answering, and recovering without a restart.

A statement may legitimately run up to `statement_timeout` (15 s by default), and nothing on
the wire tells a slow statement from a frozen server (SIGSTOP, a stalled disk, a network
path that drops packets): both are silent. A short client-side timeout on every statement
would cut the slow ones off too. Instead each worker sends `SELECT 1` every `probe_interval`
seconds on a connection of its own; no answer within `probe_timeout` means the database is
down:

- every connection of the pool is closed at once: requests waiting on one end with 503;
- the pool starts afresh, so no connection from before the outage (one a restarted server
  has forgotten) reaches a request later; no `pool_pre_ping` round trip on every checkout
  is needed for that;
- new connections are refused without trying (503 at once) until the probe gets an answer.

A frozen database is noticed within `probe_interval + probe_timeout` (3 s by default), a
stopped one (refused or reset connections) within `probe_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

logger = logging.getLogger("pressroom.db")

_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")


class DatabaseDown(ConnectionError):
    """The probe gets no answer from the database: no connection is tried (503)."""


class DatabaseWatch:
    """The probe of one worker process and the pool hooks that act on what it finds."""

    def __init__(self, engine: AsyncEngine, *, interval: float, timeout: float) -> None:
        self.engine = engine
        self.interval = interval
        self.timeout = timeout
        self.down = False
        self._open: weakref.WeakSet[Any] = weakref.WeakSet()
        self._task: asyncio.Task[None] | None = None
        self._went_down_event = asyncio.Event()
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "do_connect", self._connecting)

    def _connecting(
        self, _dialect: Any, _record: ConnectionPoolEntry, _args: Any, params: dict[str, Any]
    ) -> None:
        if self.down:
            raise DatabaseDown("the database does not answer")
        # The asyncpg dialect connects with the coroutine function it is given under this
        # name (what create_async_engine's `async_creator` uses): ours gives up the moment
        # the probe finds the database down, rather than after connect_timeout.
        params["async_creator_fn"] = self._connect_unless_down

    async def _connect_unless_down(self, *args: Any, **params: Any) -> asyncpg.Connection:
        connecting = asyncio.ensure_future(asyncpg.connect(*args, **params))
        went_down = asyncio.ensure_future(self._went_down_event.wait())
        try:
            await asyncio.wait({connecting, went_down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            went_down.cancel()
            if not connecting.done():
                connecting.cancel()  # the probe found the database down, or we were cancelled
        if not connecting.done() or connecting.cancelled():
            raise DatabaseDown("the database stopped answering while connecting")
        connection: asyncpg.Connection = connecting.result()
        self._open.add(connection)
        return connection

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pressroom-db-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        connection: asyncpg.Connection | None = None
        try:
            while True:
                if connection is not None and connection.is_closed():
                    # Lost between two probes (a restart, a failover): the pool's connections
                    # went the same way, most likely.
                    connection = None
                    await self._reset_pool()
                try:
                    async with asyncio.timeout(self.timeout):
                        if connection is None:
                            connection = await self._connect()
                        await connection.fetchval("SELECT 1")
                except Exception as exc:  # any failure at all: no answer
                    if connection is not None:
                        connection.terminate()
                        connection = None
                    if not self.down:
                        await self._went_down(exc)
                else:
                    self._came_back()
                await asyncio.sleep(self.interval)
        finally:
            if connection is not None:
                connection.terminate()

    async def _connect(self) -> asyncpg.Connection:
        args, params = self.engine.dialect.create_connect_args(self.engine.url)
        for name in _SQLALCHEMY_ONLY:
            params.pop(name, None)
        params["server_settings"] = {"application_name": "pressroom-probe"}
        connection: asyncpg.Connection = await asyncpg.connect(*args, **params)
        return connection

    async def _went_down(self, exc: Exception) -> None:
        logger.warning(
            "database does not answer (%s): requests fail with 503 until it does",
            type(exc).__name__,
        )
        self.down = True
        self._went_down_event.set()
        await self._reset_pool()

    async def _reset_pool(self) -> None:
        for driver_connection in list(self._open):
            driver_connection.terminate()  # requests waiting on it fail now, not in 15 s
        # A new, empty pool; the old one's connections (all closed now) go with it.
        await self.engine.dispose(close=False)

    def _came_back(self) -> None:
        if self.down:
            logger.warning("database answers again")
            self._went_down_event = asyncio.Event()
        self.down = False


def watch_database(engine: AsyncEngine, *, interval: float, timeout: float) -> DatabaseWatch | None:
    """A started watch for a Postgres engine; None for SQLite (a local file) or when off."""
    if engine.dialect.name != "postgresql" or interval <= 0:
        return None
    watch = DatabaseWatch(engine, interval=interval, timeout=timeout)
    watch.start()
    return watch
