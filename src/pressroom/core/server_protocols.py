"""uvicorn's HTTP/1.1 protocols with a deadline and a size cap on request heads.

Why: uvicorn (0.54) has no timeout for a client that sends its request head slowly. Its
keep-alive timer stops at the first byte, so a client trickling one header byte every few
seconds (slowloris) holds its connection, and a few hundred such clients hold every file
descriptor. h11 caps the size of a head (`h11_max_incomplete_event_size`), httptools does not.

Here a connection must deliver a complete request head within `header_timeout` seconds of
opening, or of the previous response; otherwise it is closed. A head larger than
`max_header_bytes` is answered 431 and the connection closed. `pressroom serve` passes
these classes to uvicorn (`http=`).

uvicorn starts worker processes with `spawn`: a value set on a class here in the parent would
not reach them, so each process reads its limits from the settings (the environment, where
`pressroom serve` also leaves its command-line overrides) once, at its first connection.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pressroom.core.settings import ServerSettings, Settings

_HEAD_TOO_LARGE_BODY = b'{"errors":{"headers":["too large"]}}'
HEAD_TOO_LARGE = b"".join(
    [
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(_HEAD_TOO_LARGE_BODY),
        b"connection: close\r\n\r\n",
        _HEAD_TOO_LARGE_BODY,
    ]
)


END_OF_HEAD = b"\r\n\r\n"


@functools.cache
def server_settings() -> ServerSettings:
    return Settings().server


class _HeadDeadline(asyncio.Protocol):
    """Mixed in before a uvicorn protocol class: the request head must come in time.

    A head is complete when the protocol has started a new request cycle (`self.cycle`).
    """

    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes: int = 0
    _tail: bytes = b""
    _cycle_before: object = None

    # Set by uvicorn's protocol classes.
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None and self._head_too_large(data):
            self._head_timer.cancel()
            self._head_timer = None
            self.transport.write(HEAD_TOO_LARGE)
            self.transport.close()
            return
        super().data_received(data)
        if self._head_timer is not None and (
            getattr(self, "cycle", None) is not self._cycle_before
            # Upgraded to a WebSocket: the connection now belongs to the WebSocket protocol.
            or self.transport.get_protocol() is not self
        ):
            self._head_timer.cancel()  # the head is in
            self._head_timer = None

    def _head_too_large(self, data: bytes) -> bool:
        """Counts the bytes of the head so far; the body that may follow it is not counted."""
        if (self._tail + data[:3]).find(END_OF_HEAD) >= 0:
            return False
        end = data.find(END_OF_HEAD)
        self._head_bytes += len(data) if end < 0 else end
        self._tail = data[-3:]
        return self._head_bytes > server_settings().max_header_bytes

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]  # defined by both uvicorn classes
        cycle = getattr(self, "cycle", None)
        # A pipelined request already queued has its head in: no deadline for it.
        if not self.transport.is_closing() and getattr(cycle, "response_complete", True):
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_bytes = 0
        self._tail = b""
        self._cycle_before = getattr(self, "cycle", None)
        self._head_timer = self.loop.call_later(
            server_settings().header_timeout, self._head_too_late
        )

    def _head_too_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class HttpToolsWithDeadlines(_HeadDeadline, HttpToolsProtocol):
    pass


class H11WithDeadlines(_HeadDeadline, H11Protocol):
    pass


def protocol_class(name: str) -> type[asyncio.Protocol]:
    """The protocol for ServerSettings.http: `auto` is httptools when it is installed."""
    if name == "h11":
        return H11WithDeadlines
    if name == "httptools":
        return HttpToolsWithDeadlines
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover
        return H11WithDeadlines
    return HttpToolsWithDeadlines
