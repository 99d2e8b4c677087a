"""`WS /api/articles/{slug}/live`: the comments of one article, pushed as they happen.

Each client has a bounded queue between the broker and its socket: a client that falls
`websocket_queue` messages behind is closed with 1013, and nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from pressroom.core.settings import LiveSettings
from pressroom.live.events import COMMENT_KINDS, LiveEvent

logger = logging.getLogger("pressroom.live")

# Close codes (docs/live.md).
NORMAL = 1000
GOING_AWAY = 1001  # the server shuts down
POLICY = 1008  # bad token
TRY_AGAIN = 1013  # too slow, or messages may have been lost: reconnect and reload
NOT_FOUND = 4404  # no article with that slug
TOO_MANY = 4429  # past the cap on live streams


@dataclass(frozen=True, slots=True)
class Close(Exception):
    code: int
    reason: str


class CommentFeed:
    """Pumps one article's comment events into one socket until something ends it."""

    def __init__(
        self, websocket: WebSocket, article_id: int, closing: asyncio.Event, settings: LiveSettings
    ) -> None:
        self.websocket = websocket
        self.article_id = article_id
        self.closing = closing
        self.settings = settings
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(settings.websocket_queue)

    async def run(self, messages: AsyncIterator[bytes | None]) -> Close | None:
        """How the socket must be closed, or None when the client already left."""
        tasks = [
            asyncio.ensure_future(self._pump(messages)),
            asyncio.ensure_future(self._send()),
            asyncio.ensure_future(self._heartbeat()),
            asyncio.ensure_future(self._receive()),
            asyncio.ensure_future(self._shutdown()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        outcome = next(iter(done)).exception()
        if isinstance(outcome, Close):
            return outcome
        if outcome is None or isinstance(outcome, WebSocketDisconnect | OSError):
            return None
        logger.error("live socket failed", exc_info=outcome)
        return Close(1011, "internal error")

    def _push(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(orjson.dumps(message))
        except asyncio.QueueFull:
            raise Close(TRY_AGAIN, "too slow: messages were dropped, reconnect") from None

    async def _pump(self, messages: AsyncIterator[bytes | None]) -> None:
        async for message in messages:
            if message is None:
                raise Close(TRY_AGAIN, "messages may have been lost, reconnect")
            event = LiveEvent.decode(message)
            if event.article_id != self.article_id:
                continue
            if event.kind in COMMENT_KINDS:
                self._push({"type": event.kind, "id": event.id, **event.data()})
            elif event.kind == "article.deleted":
                self._push({"type": event.kind, "id": event.id})
                await self.queue.join()  # delivered, then closed
                raise Close(NORMAL, "article deleted")
        raise Close(GOING_AWAY, "server shutting down")  # the broker closed

    async def _send(self) -> None:
        while True:
            message = await self.queue.get()
            await self.websocket.send_text(message.decode())
            self.queue.task_done()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.websocket_heartbeat_seconds)
            self._push({"type": "ping"})

    async def _receive(self) -> None:
        """Reads (and ignores) what the client sends, until it leaves."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def _shutdown(self) -> None:
        await self.closing.wait()
        raise Close(GOING_AWAY, "server shutting down")
