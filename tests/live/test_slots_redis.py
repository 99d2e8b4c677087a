"""The caps on live streams with Redis: one count for every worker sharing it, leases that free
a dead worker's slots, and the per-worker count while Redis is unreachable. Uses the shared
Redis at 127.0.0.1:6379 (or PRESSROOM_TEST_REDIS_URL): skipped locally without it, a failure
when CI=true."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio
from fastapi import FastAPI

from pressroom.core.settings import Settings
from pressroom.live.slots import StreamSlots, TooManyStreams
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.factories import make_article, register
from tests.live.drivers import WAIT, EventStreamClient, WebSocketClient
from tests.redis_fixtures import REDIS_URL
from tests.test_server_process import free_port

REFUSED = (
    b'{"errors":{"streams":["this user already holds 2 live streams: '
    b'close one before opening another"]}}'
)


def members(key: str) -> int:
    with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as client:
        return int(client.zcard(key))


@pytest.fixture
def settings(database_url: str, tmp_path: Path, redis_url: str, key_prefix: str) -> Settings:
    return base_settings(
        tmp_path,
        database_url,
        rate_limit={"enabled": False},
        redis={"url": redis_url, "key_prefix": key_prefix},
        live={"max_streams_per_user": 2, "max_streams_per_ip": 1},
    )


@pytest.fixture
async def other_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """A second worker: its own process state, the same database and Redis."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def open_stream(
    stack: AsyncExitStack, app: FastAPI, headers: dict[str, str], ip: str = "10.0.0.1"
) -> EventStreamClient:
    stream = await EventStreamClient(app, "/api/events", headers, ip).open()

    async def leave() -> None:
        if stream.task is not None and not stream.task.done():
            await stream.disconnect()

    stack.push_async_callback(leave)
    return stream


async def test_workers_sharing_redis_count_one_cap(
    client: httpx.AsyncClient, app: FastAPI, other_app: FastAPI, key_prefix: str
) -> None:
    jake = await register(client, "jake")
    slug = (await make_article(client, jake))["slug"]
    user_key = f"{key_prefix}:live:slots:user:1"
    async with AsyncExitStack() as stack:
        first = await open_stream(stack, app, jake.auth)
        second = await open_stream(stack, other_app, jake.auth)
        assert (first.status, second.status) == (200, 200)
        assert members(user_key) == 2
        # Each worker holds one of jake's streams: both refuse a third.
        for worker in (app, other_app):
            third = await open_stream(stack, worker, jake.auth)
            assert third.status == 429
            assert third.body == REFUSED
            assert third.headers["retry-after"] == "5"
        socket = WebSocketClient(other_app, f"/api/articles/{slug}/live", jake.auth)
        await socket.connect()
        assert await socket.wait_closed() == (
            4429,
            "this user already holds 2 live streams: close one before opening another",
        )

        # A slot given back on one worker is taken at once on the other.
        await first.disconnect()
        assert members(user_key) == 1
        again = await open_stream(stack, other_app, jake.auth)
        assert again.status == 200

        # Anonymous clients are capped per address across workers too.
        anonymous = await open_stream(stack, app, {}, ip="10.7.7.7")
        refused = await open_stream(stack, other_app, {}, ip="10.7.7.7")
        assert (anonymous.status, refused.status) == (200, 429)
    assert members(user_key) == 0
    assert members(f"{key_prefix}:live:slots:ip:10.7.7.7") == 0
    assert app.state.live_slots.count("user:1") == 0
    assert other_app.state.live_slots.count("user:1") == 0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_dead_workers_slots_free_themselves_when_their_leases_end(
    redis_url: str, key_prefix: str
) -> None:
    clock = Clock()

    def worker() -> StreamSlots:
        return StreamSlots(
            1, 1, url=redis_url, key_prefix=key_prefix, lease_seconds=60, clock=clock
        )

    alive, dead = worker(), worker()
    for slots in (alive, dead):
        await slots.open()
    try:
        held = await alive.acquire(7, "10.0.0.1")
        await dead.acquire(8, "10.0.0.1")  # this worker never renews: it "died"

        clock.now += 40
        await alive.renew()  # the lease of user 7 now ends at +100
        clock.now += 21  # +61: user 8's lease ended, user 7's did not
        with pytest.raises(TooManyStreams):
            await dead.acquire(7, "10.0.0.1")
        taken = await alive.acquire(8, "10.0.0.1")
        assert alive.shared
        assert dead.shared

        clock.now += 40  # +101: user 7's renewed lease ended too
        assert await dead.acquire(7, "10.0.0.1")
        await alive.release(held)
        await alive.release(taken)
    finally:
        for slots in (alive, dead):
            await slots.close()


@pytest.fixture
def unreachable_settings(database_url: str, tmp_path: Path, key_prefix: str) -> Settings:
    return base_settings(
        tmp_path,
        database_url,
        rate_limit={"enabled": False},
        redis={"url": f"redis://127.0.0.1:{free_port()}/0", "key_prefix": key_prefix},
        live={"max_streams_per_user": 2, "max_streams_per_ip": 1},
    )


async def test_without_redis_streams_are_counted_per_worker_without_errors(
    unreachable_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(unreachable_settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    caplog.set_level(logging.WARNING, logger="pressroom.live.slots")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        AsyncExitStack() as stack,
    ):
        jake = await register(client, "jake")
        streams = [await open_stream(stack, app, jake.auth) for _ in range(3)]
        assert [stream.status for stream in streams] == [200, 200, 429]
        assert streams[2].body == REFUSED
        await streams[0].disconnect()
        assert (await open_stream(stack, app, jake.auth)).status == 200
        assert not app.state.live_slots.shared
    failures = [r for r in caplog.records if "counted per worker" in r.getMessage()]
    assert len(failures) == 1  # once per outage, not once per stream


class WatchedSlots(StreamSlots):
    """Slots that say when their renewal loop has renewed."""

    renewed: asyncio.Event

    async def renew(self) -> None:
        await super().renew()
        self.renewed.set()


async def test_each_worker_renews_the_leases_of_its_open_streams(
    redis_url: str, key_prefix: str
) -> None:
    slots = WatchedSlots(1, 1, url=redis_url, key_prefix=key_prefix, renew_seconds=0.05)
    slots.renewed = asyncio.Event()
    await slots.open()
    client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=2)
    key = f"{key_prefix}:live:slots:user:7"
    try:
        slot = await slots.acquire(7, "10.0.0.1")
        first = await client.zscore(key, slot.member)
        assert first is not None
        slots.renewed.clear()
        async with asyncio.timeout(WAIT):
            await slots.renewed.wait()
        renewed = await client.zscore(key, slot.member)
        assert renewed is not None
        assert renewed > first
        assert await client.ttl(key) > 0
        await slots.release(slot)
        assert await client.zcard(key) == 0
    finally:
        await slots.close()
        await client.aclose()
