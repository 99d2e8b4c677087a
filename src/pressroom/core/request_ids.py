"""One id per request: taken from a sane `X-Request-ID` or made up, echoed on every answer.

The id is kept in a context variable (`current_request_id()`) and in `scope["state"]`, so the
500 handler, and later the logs, can name it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
# Ids from a client or a proxy end up in logs and answers: short, and nothing to escape.
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,128}")

_request_id: ContextVar[str | None] = ContextVar("pressroom_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def _incoming(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value if _SANE.fullmatch(value) else None
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _incoming(scope) or uuid.uuid4().hex.encode()
        request_id = raw.decode("ascii")
        scope.setdefault("state", {})["request_id"] = request_id
        echoed = (HEADER, raw)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
