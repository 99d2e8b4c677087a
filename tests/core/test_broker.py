"""The broker: in-process fan-out, and Redis pub/sub between workers (the shared Redis at
127.0.0.1:6379 and private `redis-server` processes; skipped locally without them, a failure
when CI=true)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pressroom.core.broker import (
    Broker,
    BrokerUnavailable,
    MemoryBroker,
    RedisBroker,
    create_broker,
)
from tests.conftest import base_settings
from tests.core.test_ratelimit_redis import RedisServer, private_redis  # noqa: F401 (fixture)
from tests.test_server_process import free_port

WAIT = 5.0  # generous bound for a message to arrive; never a speed assertion


async def receive(messages: AsyncIterator[bytes | None]) -> bytes | None:
    async with asyncio.timeout(WAIT):
        return await anext(messages)


async def nothing_more(messages: AsyncIterator[bytes | None]) -> bool:
    try:
        async with asyncio.timeout(0.2):
            await anext(messages)
    except TimeoutError:
        return True
    return False


def redis_broker(url: str, prefix: str, **extra: float) -> RedisBroker:
    options: dict[str, float] = {"timeout": 0.25, "publish_timeout": 1.0, **extra}
    return RedisBroker(
        url,
        key_prefix=prefix,
        timeout=options["timeout"],
        publish_timeout=options["publish_timeout"],
        buffer=int(options.get("buffer", 1000)),
        max_backoff=0.2,
    )


@pytest.fixture
async def memory() -> AsyncIterator[MemoryBroker]:
    broker = MemoryBroker(buffer=3)
    await broker.open()
    yield broker
    await broker.close()


# ---------------------------------------------------------------- in process
async def test_every_subscriber_of_a_channel_receives_each_message(memory: MemoryBroker) -> None:
    async with (
        memory.subscribe("a") as first,
        memory.subscribe("a") as second,
        memory.subscribe("b") as other,
    ):
        await memory.publish("a", b"one")
        await memory.publish("a", b"two")
        assert [await receive(first), await receive(first)] == [b"one", b"two"]
        assert [await receive(second), await receive(second)] == [b"one", b"two"]
        assert await nothing_more(other)


async def test_a_subscriber_that_falls_behind_is_told_it_lost_messages(
    memory: MemoryBroker,
) -> None:
    async with memory.subscribe("a") as slow, memory.subscribe("a") as fast:
        for number in range(5):
            await memory.publish("a", str(number).encode())
            assert await receive(fast) == str(number).encode()
        await memory.publish("a", b"after")
        # Three buffered, the fourth overflowed: dropped, then one None, then what came next.
        assert await receive(slow) is None
        assert await receive(slow) == b"4"
        assert await receive(slow) == b"after"


async def test_leaving_a_subscription_stops_its_delivery(memory: MemoryBroker) -> None:
    async with memory.subscribe("a"):
        pass
    await memory.publish("a", b"nobody listens")  # no error, nothing kept
    async with memory.subscribe("a") as messages:
        assert await nothing_more(messages)


async def test_closing_the_broker_ends_every_subscription(memory: MemoryBroker) -> None:
    async with memory.subscribe("a") as messages:
        await memory.close()
        assert [message async for message in messages] == []


def test_without_redis_the_broker_is_in_process(tmp_path: Path) -> None:
    assert isinstance(create_broker(base_settings(tmp_path)), MemoryBroker)
    settings = base_settings(tmp_path, redis={"url": "redis://127.0.0.1:1/0"})
    assert isinstance(create_broker(settings), RedisBroker)


# ---------------------------------------------------------------- Redis
@pytest.fixture
async def workers(redis_url: str, key_prefix: str) -> AsyncIterator[list[RedisBroker]]:
    """Two brokers on one Redis, as two worker processes would have."""
    brokers = [redis_broker(redis_url, key_prefix), redis_broker(redis_url, key_prefix)]
    for broker in brokers:
        await broker.open()
    for broker in brokers:
        async with asyncio.timeout(WAIT):
            await broker.connected.wait()
    yield brokers
    for broker in brokers:
        await broker.close()


async def test_a_message_published_on_one_worker_reaches_subscribers_on_another(
    workers: list[RedisBroker],
) -> None:
    a, b = workers
    async with (
        b.subscribe("events") as on_b,
        a.subscribe("events") as on_a,
        b.subscribe("other") as elsewhere,
    ):
        await a.publish("events", b"hello")
        assert await receive(on_b) == b"hello"
        assert await receive(on_a) == b"hello"
        assert await nothing_more(elsewhere)


async def test_deployments_with_different_prefixes_do_not_hear_each_other(
    redis_url: str,
    key_prefix: str,
) -> None:
    ours, theirs = redis_broker(redis_url, key_prefix), redis_broker(redis_url, key_prefix + "-x")
    brokers: list[Broker] = [ours, theirs]
    for broker in brokers:
        await broker.open()
    try:
        async with ours.subscribe("events") as messages:
            await theirs.publish("events", b"not for us")
            await ours.publish("events", b"ours")
            assert await receive(messages) == b"ours"
    finally:
        for broker in brokers:
            await broker.close()


async def test_publishing_without_redis_is_refused_quickly() -> None:
    broker = redis_broker(f"redis://127.0.0.1:{free_port()}/0", "nothing-there")
    await broker.open()
    try:
        with pytest.raises(BrokerUnavailable) as refused:
            async with asyncio.timeout(WAIT):
                await broker.publish("events", b"lost")
        assert refused.value.status_code == 503
        assert refused.value.errors == {
            "broker": ["cannot publish: Redis is unavailable, retry shortly"]
        }
    finally:
        await broker.close()


async def test_subscribers_hear_of_a_lost_connection_and_keep_receiving_after_it(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    broker = redis_broker(private_redis.url, "reconnect")
    publisher = redis_broker(private_redis.url, "reconnect")
    await broker.open()
    await publisher.open()
    try:
        async with broker.subscribe("events") as messages:
            async with asyncio.timeout(WAIT):
                await broker.connected.wait()
            await publisher.publish("events", b"before")
            assert await receive(messages) == b"before"

            private_redis.kill()
            with pytest.raises(BrokerUnavailable):
                await publisher.publish("events", b"while down")
            private_redis.start()  # the same port
            assert await receive(messages) is None  # reconnected: may have lost messages
            await publisher.publish("events", b"after")
            assert await receive(messages) == b"after"
    finally:
        await broker.close()
        await publisher.close()
