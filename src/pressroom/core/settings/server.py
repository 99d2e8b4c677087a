"""The server and rate limit sections."""

from __future__ import annotations

from typing import Annotated, Literal

import limits
from pydantic import AfterValidator, BaseModel, Field


class ServerSettings(BaseModel):
    """`pressroom serve`: where it listens, how many workers, which proxies it trusts."""

    host: str = Field(
        default="127.0.0.1",
        description="Interface `pressroom serve` binds (`0.0.0.0` in a container). "
        "`--host` overrides it.",
    )
    port: int = Field(
        default=8000, ge=0, le=65535, description="Port to bind. `--port` overrides it."
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes. `--workers` overrides it. In-memory rate limit budgets "
        "are divided by it.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated addresses, or `*`) whose `X-Forwarded-For` and "
        "`X-Forwarded-Proto` headers are trusted.",
    )
    freeze_gc: bool = Field(
        default=True,
        description="After startup, `gc.freeze()` the objects built so far: the garbage "
        "collector's full passes skip them, which removed 50-70 ms p99 spikes under load.",
    )
    http: Literal["auto", "httptools", "h11"] = Field(
        default="auto",
        description="HTTP/1.1 parser of `pressroom serve`: httptools when installed (`auto`), "
        "or h11.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="`pressroom serve`: seconds a connection may take to send a complete "
        "request head, counted from its opening or the previous answer; then it is closed "
        "(slowloris).",
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="`pressroom serve`: largest request head (request line and headers), in "
        "bytes; larger answers 431.",
    )
    drain_seconds: float | None = Field(
        default=None,
        ge=0,
        le=300,
        description="After SIGTERM or SIGINT: seconds /readyz answers 503 while the server still "
        "accepts and serves, so load balancers stop sending traffic before it stops accepting. "
        "Default: 0 in development, 5 in production; 0 under Kubernetes with a preStop pause.",
    )
    shutdown_grace_seconds: int = Field(
        default=20,
        ge=1,
        le=3600,
        description="Once the server stops accepting: seconds requests in flight have to finish "
        "before they are cancelled. Keep drain + grace (+ preStop) below Kubernetes' "
        "terminationGracePeriodSeconds.",
    )


def _rate_limit(value: str) -> str:
    try:
        if limits.parse(value).amount < 1:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate limit: write it as '<count>/<period>', "
            "e.g. '5/15 minutes' or '20/minute'"
        ) from None
    return value


RateLimit = Annotated[
    str,
    AfterValidator(_rate_limit),
    Field(json_schema_extra={"shown_type": "rate limit: `<count>/<period>`"}),
]
"""One limit in the `limits` notation: "5/15 minutes", "20/minute", "100 per hour"."""


class RateLimitSettings(BaseModel):
    """Request rate limits (the `limits` library); see docs/rate-limits.md."""

    enabled: bool = Field(default=True, description="Switch every rate limit on or off.")
    allow_disabled_in_production: bool = Field(
        default=False, description="Let production start with `ENABLED=false`."
    )
    default_per_ip: RateLimit = Field(
        default="600/minute", description="Every request, per client IP."
    )
    login_per_account: RateLimit = Field(
        default="5/15 minutes",
        description="Login attempts per account (email); a successful login clears the count.",
    )
    login_per_ip: RateLimit = Field(
        default="20/minute", description="Login attempts per client IP."
    )
    registration_per_ip: RateLimit = Field(
        default="5/hour", description="Registration attempts per client IP."
    )
    article_creation_per_user: RateLimit = Field(
        default="30/hour", description="Articles created per user."
    )
    password_reset_per_account: RateLimit = Field(
        default="3/hour",
        description="Password reset requests per email address (known or not).",
    )
    password_reset_per_ip: RateLimit = Field(
        default="10/hour", description="Password reset requests per client IP."
    )
    verification_mail_per_user: RateLimit = Field(
        default="3/hour", description="Verification mails a user may ask to be sent again."
    )
    comment_creation_per_user: RateLimit = Field(
        default="60/10 minutes", description="Comments created per user."
    )
    redis_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="After Redis fails, seconds on the in-memory fallback before trying it again.",
    )
