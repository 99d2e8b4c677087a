"""Request bodies: a size cap, a deadline, and a nesting-depth limit.

A `Content-Length` over the cap is answered 413 before anything is read. Other bodies are
watched while they stream in: the app's reads raise `BodyRejected` (413, 408 or 422) as soon
as the body passes the cap, misses its deadline, or turns out nested too deeply. Requests
without a body (GET) are passed through untouched.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.core.errors import BodyRejected, error_response

TOO_LARGE = "too large"
TOO_SLOW = "not received in time"
_CURLY = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in a JSON `body` nest more than `limit` levels deep.

    Only byte-level passes in C: drop escaped backslashes and quotes, keep quotes and
    brackets, drop what sits between quotes (strings), then strip innermost `[]` pairs once
    per level. Malformed JSON is left to the parser.
    """
    text = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_CURLY, _NOT_STRUCTURE)
    text = b"".join(text.split(b'"')[::2])
    for _ in range(limit):
        if b"[]" not in text:
            return False
        text = text.replace(b"[]", b"")
    return b"[]" in text


def _declared_length(scope: Scope) -> int | None:
    """The `Content-Length` (-1 when unreadable), 0 for no body, None for a chunked body."""
    length = 0
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else -1
        elif name == b"transfer-encoding":
            return None
    return length


class RequestBodyMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, timeout: float, max_json_depth: int
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _declared_length(scope)
        if length == 0:
            await self.app(scope, receive, send)
            return
        if length is not None and length > self.max_bytes:
            # Refused from the header alone: not one byte of the body is read.
            response = error_response(413, {"body": [TOO_LARGE]}, {"Connection": "close"})
            await response(scope, receive, send)
            return
        reader = _BodyReader(self, receive, asyncio.get_running_loop().time() + self.timeout)
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, reader.receive, send_tracked)
        except BodyRejected as exc:  # raised where no handler turned it into an answer
            if started:
                raise
            errors = {"body": [exc.message]}
            await error_response(exc.status_code, errors, exc.headers)(scope, receive, send)


class _BodyReader:
    __slots__ = ("_receive", "chunks", "deadline", "limits", "size")

    def __init__(self, limits: RequestBodyMiddleware, receive: Receive, deadline: float) -> None:
        self.limits = limits
        self._receive = receive
        self.deadline = deadline
        self.size = 0
        self.chunks: list[bytes] = []

    async def receive(self) -> Message:
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            raise BodyRejected(408, TOO_SLOW, close=True) from None
        if message["type"] != "http.request":
            return message
        limits = self.limits
        body: bytes = message.get("body", b"")
        self.size += len(body)
        if self.size > limits.max_bytes:
            raise BodyRejected(413, TOO_LARGE, close=True)
        if body:
            self.chunks.append(body)
        if not message.get("more_body", False) and self._too_deep():
            depth = limits.max_json_depth
            raise BodyRejected(422, f"is nested too deeply (maximum depth is {depth})")
        return message

    def _too_deep(self) -> bool:
        depth = self.limits.max_json_depth
        # Counting is one fast pass; almost every body has fewer brackets than the limit.
        if sum(chunk.count(b"[") + chunk.count(b"{") for chunk in self.chunks) <= depth:
            return False
        return nested_deeper_than(b"".join(self.chunks), depth)
