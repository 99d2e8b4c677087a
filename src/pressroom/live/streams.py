"""`GET /api/events`: the Server-Sent Events stream of one client."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio
import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pressroom.core.broker import Broker
from pressroom.core.settings import LiveSettings
from pressroom.live.events import CHANNEL, LiveEvent
from pressroom.live.service import LiveService

KEEP_ALIVE: Final = b": keep-alive\n\n"
RECENT_IDS = 10_000


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Which events a stream carries. Author and feed match the article's author, for the
    article's own events and the comments on it alike."""

    author: str | None = None  # lower case
    tag: str | None = None
    feed: frozenset[str] | None = None  # lower-case usernames the caller follows

    def matches(self, event: LiveEvent) -> bool:
        author = event.author.lower() if event.author is not None else None
        if self.author is not None and author != self.author:
            return False
        if self.tag is not None and self.tag not in event.tags:
            return False
        return self.feed is None or author in self.feed


def frame(event: LiveEvent) -> bytes:
    data = orjson.dumps(event.data())
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.kind.encode(), data)


def reset(reason: str) -> bytes:
    """Tells the client the stream cannot say what it missed: reload, then keep listening."""
    return b"event: reset\ndata: %s\n\n" % orjson.dumps({"reason": reason})


def parse_event_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return None
    return int(value.strip())


class _Recent:
    """Ids already sent (replay and live can overlap): the last `RECENT_IDS` of them."""

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()

    def add(self, event_id: int) -> bool:
        """False when `event_id` was already sent."""
        if event_id in self._ids:
            return False
        self._ids.add(event_id)
        self._order.append(event_id)
        if len(self._order) > RECENT_IDS:
            self._ids.discard(self._order.popleft())
        return True


class EventStream:
    """The frames of one client's stream: what it missed, then live events, keep-alives in
    between, until the server closes or the client leaves."""

    def __init__(
        self,
        service: LiveService,
        broker: Broker,
        closing: asyncio.Event,
        settings: LiveSettings,
        filter_: StreamFilter,
    ) -> None:
        self.service = service
        self.broker = broker
        self.closing = closing
        self.settings = settings
        self.filter = filter_
        self._sent = _Recent()
        self._position: int | None = None  # the highest id seen, for gap recovery

    async def frames(self, last_event_id: str | None) -> AsyncIterator[bytes]:
        # Subscribed before the replay is read: nothing falls between the two.
        async with self.broker.subscribe(CHANNEL) as messages:
            yield b"retry: %d\n: connected\n\n" % self.settings.retry_ms
            if last_event_id is not None:
                async for chunk in self._catch_up(last_event_id):
                    yield chunk
            async for chunk in self._follow(messages):
                yield chunk

    async def _catch_up(self, last_event_id: str) -> AsyncIterator[bytes]:
        after = parse_event_id(last_event_id)
        if after is None:
            yield reset("unknown Last-Event-ID")
            return
        self._position = after
        async for chunk in self._replay(after):
            yield chunk

    async def _replay(self, after: int) -> AsyncIterator[bytes]:
        replay = await self.service.replay(after)
        if not replay.complete:
            yield reset("missed events are no longer available")
        for event in replay.events:
            framed = self._accept(event)
            if framed is not None:
                yield framed

    def _accept(self, event: LiveEvent) -> bytes | None:
        if not self._sent.add(event.id):
            return None
        self._position = max(self._position or 0, event.id)
        return frame(event) if self.filter.matches(event) else None

    async def _follow(self, messages: AsyncIterator[bytes | None]) -> AsyncIterator[bytes]:
        closing = asyncio.ensure_future(self.closing.wait())
        pending: asyncio.Future[bytes | None] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(messages))
                waiting: set[asyncio.Future[Any]] = {pending, closing}
                done, _ = await asyncio.wait(
                    waiting,
                    timeout=self.settings.keepalive_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if closing in done:
                    return
                if pending not in done:
                    yield KEEP_ALIVE
                    continue
                try:
                    message = pending.result()
                except StopAsyncIteration:
                    return  # the broker closed
                pending = None
                if message is None:
                    async for chunk in self._recover():
                        yield chunk
                    continue
                framed = self._accept(LiveEvent.decode(message))
                if framed is not None:
                    yield framed
        finally:
            closing.cancel()
            if pending is not None:
                pending.cancel()

    async def _recover(self) -> AsyncIterator[bytes]:
        """The broker may have lost messages: read them from the outbox instead."""
        if self._position is None:
            yield reset("live events may have been lost")
            return
        async for chunk in self._replay(self._position):
            yield chunk


class EventStreamResponse(StreamingResponse):
    """`text/event-stream`, never buffered by proxies; `on_close` runs however it ends."""

    media_type = "text/event-stream"

    def __init__(
        self, frames: AsyncIterator[bytes], on_close: Callable[[], Awaitable[None]]
    ) -> None:
        headers = {"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"}
        super().__init__(frames, headers=headers, media_type=self.media_type)
        self.frames = frames
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:

                async def until_disconnected() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnected)
                async for chunk in self.frames:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        except OSError:
            pass  # the client went away while we wrote
        finally:
            await self.on_close()  # shielded by the callee: it runs while cancelled too
            aclose = getattr(self.frames, "aclose", None)
            if aclose is not None:
                await aclose()
