"""Minimal ASGI clients for long-lived connections, run against the app in the test's loop:
an event stream that can be read frame by frame and disconnected, and a WebSocket whose
client can be made slow (it stops taking messages, as a stalled TCP peer does)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Message

WAIT = 5.0  # a generous bound for something that should happen at once; never a speed check


def _scope(kind: str, url: str, headers: dict[str, str], client: str) -> dict[str, Any]:
    parts = urlsplit(url)
    raw = [
        (b"host", b"testserver"),
        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    return {
        "type": kind,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http" if kind == "http" else "ws",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": raw,
        "client": (client, 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "state": {},
    }


@dataclass
class Frame:
    id: str | None = None
    event: str | None = None
    data: Any = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)


def parse_frame(raw: str) -> Frame:
    frame = Frame()
    data: list[str] = []
    for line in raw.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            frame.comments.append(value)
        elif name == "id":
            frame.id = value
        elif name == "event":
            frame.event = value
        elif name == "data":
            data.append(value)
        elif name == "retry":
            frame.retry = int(value)
    if data:
        frame.data = orjson.loads("\n".join(data))
    return frame


class EventStreamClient:
    def __init__(
        self, app: ASGIApp, url: str, headers: dict[str, str] | None = None, ip: str = "10.0.0.1"
    ) -> None:
        self.app = app
        self.scope = _scope("http", url, headers or {}, ip)
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.ended = asyncio.Event()
        self._started = asyncio.Event()
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._buffer = ""
        self._gone = asyncio.Event()
        self._requested = False
        self.task: asyncio.Future[None] | None = None

    async def _receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            self._started.set()
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            self._chunks.put_nowait(message.get("body", b""))
            if not message.get("more_body", False):
                self.ended.set()

    async def open(self) -> EventStreamClient:
        self.task = asyncio.ensure_future(self.app(self.scope, self._receive, self._send))
        async with asyncio.timeout(WAIT):
            await self._started.wait()
        if self.status != 200:
            async with asyncio.timeout(WAIT):
                await self.ended.wait()
        return self

    async def frame(self, *, keepalives: bool = False) -> Frame:
        """The next frame (keep-alive-only frames skipped unless asked for)."""
        async with asyncio.timeout(WAIT):
            while True:
                while "\n\n" not in self._buffer:
                    if self.ended.is_set() and self._chunks.empty():
                        raise EOFError("the stream ended")
                    self._buffer += (await self._chunks.get()).decode()
                raw, self._buffer = self._buffer.split("\n\n", 1)
                frame = parse_frame(raw)
                if frame.event or frame.data is not None or keepalives or frame.retry is not None:
                    return frame

    async def event(self) -> Frame:
        """The next frame carrying an event."""
        while True:
            frame = await self.frame()
            if frame.event is not None:
                return frame

    async def quiet(self, seconds: float = 0.3) -> bool:
        """True when no event arrives for `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                await self.event()
        except TimeoutError:
            return True
        return False

    async def disconnect(self) -> None:
        self._gone.set()
        await self.finished()

    async def finished(self) -> None:
        assert self.task is not None
        async with asyncio.timeout(WAIT):
            await self.task


class WebSocketClient:
    def __init__(
        self,
        app: ASGIApp,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        ip: str = "10.0.0.1",
        slow: bool = False,
    ) -> None:
        self.app = app
        self.scope = _scope("websocket", url, headers or {}, ip)
        self.slow = slow
        self.accepted = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        self._incoming: asyncio.Queue[Message] = asyncio.Queue()
        self._incoming.put_nowait({"type": "websocket.connect"})
        self._decided = asyncio.Event()
        self.closed = asyncio.Event()
        self._stalled = asyncio.Event()  # never set: where a slow client's sends wait
        self.task: asyncio.Future[None] | None = None

    async def _receive(self) -> Message:
        return await self._incoming.get()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted = True
            self._decided.set()
        elif kind == "websocket.send":
            if self.slow:
                await self._stalled.wait()
            self.messages.put_nowait(orjson.loads(message["text"]))
        elif kind == "websocket.close":
            self.close_code = message.get("code", 1000)
            self.close_reason = message.get("reason") or ""
            self._decided.set()
            self.closed.set()

    async def connect(self) -> WebSocketClient:
        self.task = asyncio.ensure_future(self.app(self.scope, self._receive, self._send))
        async with asyncio.timeout(WAIT):
            await self._decided.wait()
        return self

    async def receive(self, *, pings: bool = False) -> Any:
        async with asyncio.timeout(WAIT):
            while True:
                message = await self.messages.get()
                if pings or message.get("type") != "ping":
                    return message

    async def wait_closed(self) -> tuple[int | None, str]:
        async with asyncio.timeout(WAIT):
            await self.closed.wait()
        return self.close_code, self.close_reason

    async def disconnect(self) -> None:
        self._incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        async with asyncio.timeout(WAIT):
            await self.task
