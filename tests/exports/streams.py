"""A client that holds an export open at the ASGI level, as a slow or vanishing peer would.

httpx's ASGI transport runs an app to the end before it returns a response, so a test that
needs a stream in progress (to start a second one beside it, to disconnect half-way, to
shut down under it) calls the app itself: the server side is the real app, lines and all.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.types import Message


class HeldStream:
    """GET `path` on `app`; after each body chunk, sending waits until `resume()`."""

    def __init__(self, app: FastAPI, path: str, headers: dict[str, str]) -> None:
        self.app = app
        self.path = path
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.body = bytearray()
        self.finished = False  # the app sent its last body message
        self.chunk = asyncio.Event()  # a body chunk arrived
        self._go = asyncio.Event()  # let the app send its next chunk
        self._gone = asyncio.Event()  # the client disconnected
        self._requested = False
        self._free = False  # send without waiting
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> HeldStream:
        """Runs the app until its first body chunk (or its whole answer)."""
        self.task = asyncio.create_task(self.app(self._scope(), self._receive, self._send))
        chunk = asyncio.create_task(self.chunk.wait())
        await asyncio.wait({self.task, chunk}, return_when=asyncio.FIRST_COMPLETED, timeout=10)
        chunk.cancel()
        return self

    def _scope(self) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"test"), *self.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
            "state": {},
        }

    async def _receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {k.decode(): v.decode() for k, v in message["headers"]}
            return
        if self._gone.is_set():
            return  # as uvicorn does: sends to a closed connection are dropped
        self.body += message.get("body", b"")
        if not message.get("more_body", False):
            self.finished = True
            return
        self.chunk.set()
        if not self._free:
            await self._go.wait()
            self._go.clear()

    def step(self) -> None:
        """Lets the app send one more chunk."""
        self._go.set()

    async def advance(self, chunks: int) -> None:
        """Lets the app send `chunks` more chunks, and waits until they have arrived."""
        for _ in range(chunks):
            self.chunk.clear()
            self.step()
            await asyncio.wait_for(self.chunk.wait(), 10)

    async def read_to_end(self) -> None:
        """Reads everything that is left, as fast as the app sends it."""
        self._free = True
        self._go.set()
        await self.wait()

    async def disconnect(self) -> None:
        """The client goes away; returns once the app has returned."""
        self._gone.set()
        self._free = True
        self._go.set()
        await self.wait()

    async def wait(self) -> None:
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in bytes(self.body).splitlines()]
