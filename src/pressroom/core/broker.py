"""Publish/subscribe between the app's workers: Redis pub/sub when configured, in-process
otherwise.

    async with broker.subscribe("events") as messages:
        async for message in messages:   # bytes, or None: "messages may have been lost here"
            ...
    await broker.publish("events", b"...")  # BrokerUnavailable when Redis cannot take it

Delivery is at most once, to the subscribers present when the message arrives: a subscriber
that must not miss anything reads the durable record (the outbox) after a `None`. A `None`
comes after Redis reconnected, and when a subscriber fell more than its buffer behind (the
buffer is then emptied: a slow subscriber never slows the others, nor grows without bound).
Each process holds one Redis pub/sub connection, shared by all of its subscribers.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Final, Protocol

import redis.asyncio
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from pressroom.core.errors import ServiceUnavailable
from pressroom.core.settings import Settings

logger = logging.getLogger("pressroom.broker")

# What a dead, restarting or unreachable Redis raises through redis-py.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)

Subscription = AbstractAsyncContextManager[AsyncIterator[bytes | None]]
"""`async with broker.subscribe(channel) as messages`: an iterator of bytes or `None`."""


class BrokerUnavailable(ServiceUnavailable):
    """The broker cannot take a message now (Redis down or too slow)."""

    field = "broker"


class Broker(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, message: bytes) -> None:
        """Hand `message` to every current subscriber of `channel`, on every worker.

        Raises `BrokerUnavailable` when it cannot (within a bounded time)."""
        ...

    def subscribe(self, channel: str) -> Subscription: ...


class _Closed:
    """Put in an inbox when the broker closes: the subscriber's iteration ends."""


_CLOSED: Final = _Closed()


class Inbox:
    """One subscriber's buffer: bounded, never blocks whoever puts into it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: deque[bytes | _Closed | None] = deque()
        self._ready = asyncio.Event()

    def put(self, message: bytes | None) -> None:
        if message is not None and len(self._items) >= self._limit:
            # Too far behind: drop what is buffered and say so once.
            self._items.clear()
            message = None
        if message is None and self._items and self._items[-1] is None:
            return  # one "may have lost" is enough
        self._items.append(message)
        self._ready.set()

    def end(self) -> None:
        self._items.append(_CLOSED)
        self._ready.set()

    def __aiter__(self) -> Inbox:
        return self

    async def __anext__(self) -> bytes | None:
        # No generator state: a reader cancelled while it waits can simply read again.
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items[0]
        if isinstance(item, _Closed):
            raise StopAsyncIteration
        self._items.popleft()
        return item


class _Fanout:
    """Subscribers by channel, shared by both brokers."""

    def __init__(self, buffer: int) -> None:
        self.buffer = buffer
        self.inboxes: dict[str, set[Inbox]] = {}
        self.closed = False

    def add(self, channel: str) -> Inbox:
        inbox = Inbox(self.buffer)
        if self.closed:
            inbox.end()
        self.inboxes.setdefault(channel, set()).add(inbox)
        return inbox

    def remove(self, channel: str, inbox: Inbox) -> bool:
        """Forget `inbox`; True when it was the channel's last subscriber."""
        inboxes = self.inboxes.get(channel)
        if inboxes is None:
            return False
        inboxes.discard(inbox)
        if inboxes:
            return False
        del self.inboxes[channel]
        return True

    def deliver(self, channel: str, message: bytes | None) -> None:
        for inbox in self.inboxes.get(channel, ()):
            inbox.put(message)

    def deliver_all(self, message: bytes | None) -> None:
        for inboxes in self.inboxes.values():
            for inbox in inboxes:
                inbox.put(message)

    def end_all(self) -> None:
        self.closed = True
        for inboxes in self.inboxes.values():
            for inbox in inboxes:
                inbox.end()


class MemoryBroker:
    """Subscribers in this process only: the broker of a single worker without Redis."""

    def __init__(self, buffer: int = 1000) -> None:
        self._fanout = _Fanout(buffer)

    async def open(self) -> None:
        self._fanout.closed = False

    async def close(self) -> None:
        self._fanout.end_all()

    async def publish(self, channel: str, message: bytes) -> None:
        self._fanout.deliver(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes | None]]:
        inbox = self._fanout.add(channel)
        try:
            yield inbox
        finally:
            self._fanout.remove(channel, inbox)


class RedisBroker:
    """Redis pub/sub: one connection per process carries every channel this process listens
    to, reconnecting with backoff; publishing uses a short-timeout pool without retries.

    Channel names in Redis are `<key_prefix>:broker:<channel>`.
    """

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str,
        timeout: float,
        publish_timeout: float,
        buffer: int = 1000,
        max_backoff: float = 5.0,
    ) -> None:
        self._url = url
        self._prefix = f"{key_prefix}:broker:"
        self._timeout = timeout
        self._publish_timeout = publish_timeout
        self._max_backoff = max_backoff
        self._fanout = _Fanout(buffer)
        self._client: redis.asyncio.Redis | None = None
        self._listener: redis.asyncio.Redis | None = None
        self._pubsub: PubSub | None = None  # set while connected and subscribed
        self._reader: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        """Set while the pub/sub connection is up (tests and health read it)."""

    def _redis(self, *, socket_timeout: float | None) -> redis.asyncio.Redis:
        return redis.asyncio.Redis.from_url(
            self._url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
        )

    async def open(self) -> None:
        self._fanout.closed = False
        self._client = self._redis(socket_timeout=self._timeout)
        # The listening connection waits for messages as long as it takes.
        self._listener = self._redis(socket_timeout=None)
        self._reader = asyncio.create_task(self._listen(), name="pressroom-broker")

    async def close(self) -> None:
        self._fanout.end_all()
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for client in (self._client, self._listener):
            if client is not None:
                await client.aclose()
        self._client = self._listener = None

    async def publish(self, channel: str, message: bytes) -> None:
        if self._client is None:
            raise BrokerUnavailable("is not open")
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._client.publish(self._prefix + channel, message)
        except REDIS_FAILURES as exc:
            raise BrokerUnavailable("cannot publish: Redis is unavailable, retry shortly") from exc

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes | None]]:
        first = channel not in self._fanout.inboxes
        inbox = self._fanout.add(channel)
        try:
            if first:
                await self._send("subscribe", channel)
            yield inbox
        finally:
            if self._fanout.remove(channel, inbox):
                await self._send("unsubscribe", channel)

    async def _send(self, command: str, channel: str) -> None:
        """(Un)subscribe on the live connection; while it is down, the reader subscribes
        every channel with subscribers when it reconnects."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await getattr(pubsub, command)(self._prefix + channel)
        except REDIS_FAILURES as exc:
            logger.debug("broker: %s %s failed (%s); the reader reconnects", command, channel, exc)

    async def _listen(self) -> None:
        backoff = 0.1
        failed = False
        while True:
            assert self._listener is not None
            pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
            try:
                # A channel of our own keeps the connection subscribed (and read) when no
                # subscriber listens: a lost connection is noticed at once.
                subscribed = {"~"}
                await pubsub.subscribe(self._prefix + "~")
                while missing := set(self._fanout.inboxes) - subscribed:
                    await pubsub.subscribe(*(self._prefix + name for name in missing))
                    subscribed |= missing
                self._pubsub = pubsub
                self.connected.set()
                if failed:
                    logger.warning("broker: Redis pub/sub reconnected; messages may have been lost")
                    self._fanout.deliver_all(None)
                    failed = False
                backoff = 0.1
                await self._read(pubsub)
            except REDIS_FAILURES as exc:
                if not failed:
                    logger.warning("broker: Redis pub/sub failed (%s); reconnecting", exc)
                failed = True
            finally:
                self._pubsub = None
                self.connected.clear()
                with suppress(*REDIS_FAILURES):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(backoff * (0.5 + random.random()))  # noqa: S311 (jitter)
            backoff = min(backoff * 2, self._max_backoff)

    async def _read(self, pubsub: PubSub) -> None:
        prefix = len(self._prefix)
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None or message["type"] != "message":
                continue
            channel = message["channel"].decode()[prefix:]
            self._fanout.deliver(channel, message["data"])


def create_broker(settings: Settings) -> Broker:
    """Redis pub/sub when `redis.url` is set, else this process only."""
    live = settings.live
    url = settings.redis.url
    if url is None or not url.get_secret_value():
        return MemoryBroker(live.subscriber_buffer)
    return RedisBroker(
        url.get_secret_value(),
        key_prefix=settings.redis.key_prefix,
        timeout=settings.redis.socket_timeout,
        publish_timeout=live.publish_timeout,
        buffer=live.subscriber_buffer,
    )
