"""The database probe, in process, through a TCP relay to the test Postgres that the test
freezes (bytes held, like a stopped server) or cuts (every connection reset): the shared
Postgres itself is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from pressroom.core.db import create_engine
from pressroom.core.db_watch import watch_database
from pressroom.main import create_app
from tests.conftest import base_settings

PROBE = {"probe_interval": 0.2, "probe_timeout": 1.5}
BOUND = 4.0  # seconds: with the probe above, 503 and recovery come within it


class Relay:
    """Relays TCP connections to a target; can hold every byte (freeze) or reset them all."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def cut(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
        self.writers.discard(sink)


@pytest.fixture
async def relay(postgres_url: str) -> AsyncIterator[Relay]:
    url = make_url(postgres_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    yield relay
    await relay.close()


@pytest.fixture
async def app(relay: Relay, postgres_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = make_url(postgres_url).set(port=relay.port).render_as_string(hide_password=False)
    # No read cache: these reads must reach the database (a cached answer would still be
    # served while it is frozen; see docs/caching.md).
    settings = base_settings(tmp_path, url, database=PROBE, cache={"enabled": False})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def requests_at_once(client: httpx.AsyncClient, count: int = 6) -> list[httpx.Response]:
    calls = [client.get("/api/articles") for _ in range(count)] + [client.get("/readyz")]
    return list(await asyncio.gather(*calls))


async def recovered_after(client: httpx.AsyncClient) -> float:
    started = time.monotonic()
    while time.monotonic() - started < BOUND:
        if all(r.status_code == 200 for r in await requests_at_once(client)):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    pytest.fail(f"not recovered within {BOUND}s")


async def test_a_frozen_database_fails_requests_fast_and_they_recover(
    relay: Relay, client: httpx.AsyncClient
) -> None:
    assert all(r.status_code == 200 for r in await requests_at_once(client))

    relay.freeze()
    started = time.monotonic()
    frozen = await requests_at_once(client, count=25)  # more than the pool holds
    took = time.monotonic() - started
    again = await requests_at_once(client)  # known down: no waiting at all
    relay.thaw()

    assert {r.status_code for r in frozen + again} == {503}
    assert took < BOUND
    for response in frozen[:-1]:
        assert list(response.json()["errors"]) == ["database"]
        assert response.headers["retry-after"]
    assert again[-1].json()["checks"]["database"] == {
        "status": "failing",
        "error": "DatabaseDown",
    }
    await recovered_after(client)


async def test_connections_reset_under_the_pool_are_replaced(
    relay: Relay, client: httpx.AsyncClient
) -> None:
    """A restarted database has forgotten every pooled connection."""
    assert all(r.status_code == 200 for r in await requests_at_once(client))

    relay.cut()
    await asyncio.sleep(0.3)  # the probe's own connection was reset too: it noticed
    await recovered_after(client)


async def test_sqlite_and_a_switched_off_probe_watch_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite = create_engine(base_settings(tmp_path))
    postgres = create_engine(base_settings(tmp_path, postgres_url))
    try:
        assert watch_database(sqlite, interval=1, timeout=1) is None
        assert watch_database(postgres, interval=0, timeout=1) is None
    finally:
        await sqlite.dispose()
        await postgres.dispose()


async def test_sqlite_locked_beyond_busy_timeout_is_503_with_retry_after(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "busy.db"
    shutil.copy(sqlite_template, path)
    settings = base_settings(
        tmp_path, f"sqlite+aiosqlite:///{path}", database={"busy_timeout": 0.2}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            holder = sqlite3.connect(path, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
                started = time.monotonic()
                user = {"username": "bob", "email": "bob@example.com", "password": "x" * 12}
                refused = await http.post("/api/users", json={"user": user})
                took = time.monotonic() - started
                holder.execute("ROLLBACK")
            finally:
                holder.close()
            accepted = await http.post("/api/users", json={"user": user})

    assert refused.status_code == 503, refused.text
    assert refused.json() == {"errors": {"database": ["temporarily unavailable, retry shortly"]}}
    assert int(refused.headers["retry-after"]) > 0
    assert took < 3
    assert accepted.status_code == 201
