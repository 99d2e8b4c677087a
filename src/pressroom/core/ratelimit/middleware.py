"""The per-IP ceiling on every request, and the `RateLimit-*` headers on every answer."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.core.errors import TooManyRequests, error_response
from pressroom.core.ratelimit.limiter import RateLimiter
from pressroom.core.ratelimit.storage import Decision

STATE_KEY = "pressroom.ratelimit"


def client_ip(scope: Scope) -> str:
    """The peer address uvicorn reports: rewritten from X-Forwarded-For for trusted proxies
    only (`PRESSROOM_SERVER__FORWARDED_ALLOW_IPS`), so a client cannot pick its own key."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def record(scope: MutableMapping[str, Any], decision: Decision) -> None:
    """Keep a decision where the middleware finds it when the response starts."""
    state: dict[str, Any] = scope.setdefault("state", {})
    state.setdefault(STATE_KEY, []).append(decision)


def tightest(decisions: list[Decision]) -> Decision:
    """The decision with the least remaining; on a tie, the one that resets last."""
    return min(decisions, key=lambda decision: (decision.remaining, -decision.reset_at))


def headers(decision: Decision, now: float) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_after(now)).encode()),
    ]


class RateLimitMiddleware:
    """Pure ASGI: counts every HTTP request against the per-IP ceiling, answers 429 past it,
    and adds the tightest recorded decision's headers to the response, errors included."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(self.limiter.policies.default, client_ip(scope))
        record(scope, decision)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decisions: list[Decision] = scope["state"][STATE_KEY]
                extra = headers(tightest(decisions), time.time())
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if not decision.allowed:
            refused = TooManyRequests(decision.reset_after())
            response = error_response(refused.status_code, refused.errors, refused.headers)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
