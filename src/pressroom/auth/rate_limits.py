"""Rate limits on the routes that need more than the per-IP ceiling: sign-ups per IP, writes
per user, and login attempts per account and per IP."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from pressroom.auth.dependencies import ArticleWriter, CommentWriter
from pressroom.core.errors import TooManyRequests
from pressroom.core.ratelimit import Policy, RateLimiter, client_ip, record


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.ratelimiter
    return limiter


async def enforce(request: Request, policy: Policy, key: str) -> None:
    """Consume one unit of `policy` for `key`; 429 when the budget is spent. The decision
    is recorded for the `RateLimit-*` headers either way."""
    limiter = limiter_of(request)
    if not limiter.enabled:
        return
    decision = await limiter.hit(policy, key)
    record(request.scope, decision)
    if not decision.allowed:
        raise TooManyRequests(decision.reset_after())


async def limit_registration(request: Request) -> None:
    await enforce(request, limiter_of(request).policies.registration, client_ip(request.scope))


# The same annotated caller as the route's, so FastAPI resolves the caller once per request.
async def limit_article_creation(request: Request, caller: ArticleWriter) -> None:
    await enforce(request, limiter_of(request).policies.article_creation, str(caller.id))


async def limit_comment_creation(request: Request, caller: CommentWriter) -> None:
    await enforce(request, limiter_of(request).policies.comment_creation, str(caller.id))


def account_key(identifier: str) -> str:
    """The normalized login identifier, hashed: Redis never holds email addresses, and an
    unknown email is counted exactly like a known one."""
    return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]


class LoginThrottle:
    """Failed-login limits, per account and per client IP.

    Call `before_check` before verifying the password (it consumes the budget first, so
    concurrent attempts cannot slip past the count), and `succeeded` after a correct one (it
    clears the account's count, so the account policy counts failures only). The IP policy
    counts every attempt.
    """

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def before_check(self, request: Request, identifier: str) -> None:
        """Count one attempt for the caller's IP and for `identifier`; 429 when either is spent."""
        policies = self.limiter.policies
        await enforce(request, policies.login_ip, client_ip(request.scope))
        await enforce(request, policies.login_account, account_key(identifier))

    async def succeeded(self, identifier: str) -> None:
        """Clear `identifier`'s failed attempts after a successful login."""
        if self.limiter.enabled:
            await self.limiter.clear(self.limiter.policies.login_account, account_key(identifier))


async def get_login_throttle(request: Request) -> LoginThrottle:
    return LoginThrottle(limiter_of(request))


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
