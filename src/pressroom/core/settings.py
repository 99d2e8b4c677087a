"""Typed configuration: one `Settings` object, read from the environment and `.env`."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

import limits
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_LENGTH = 32
JWT_SECRET_FILE = "jwt-secret"  # noqa: S105 (a file name, not a secret)
MIN_METRICS_TOKEN_LENGTH = 16


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class DatabaseSettings(BaseModel):
    """The database, its connection pool, and the timeouts that turn a hung database into a
    503 within seconds instead of a request that never ends; see docs/configuration.md."""

    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL; its scheme picks the engine: `sqlite+aiosqlite:///path.db` "
        "or `postgresql+asyncpg://user:pass@host/db`. Any other scheme is refused at boot.",
        json_schema_extra={"shown_default": "a SQLite file, `<data dir>/pressroom.db`"},
    )
    pool_size: int = Field(
        default=10, ge=1, le=200, description="Connections kept open per worker process."
    )
    max_overflow: int = Field(
        default=10, ge=0, le=200, description="Extra connections a worker may open under load."
    )
    pool_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a request waits for a free pooled connection before failing with "
        "503 and `Retry-After`.",
    )
    connect_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to open a new Postgres connection."
    )
    statement_timeout: float = Field(
        default=15.0,
        ge=0.001,
        le=600,
        description="Seconds one Postgres statement may run (its `statement_timeout`; the driver "
        "gives up one second later).",
    )
    busy_timeout: float = Field(
        default=5.0, gt=0, le=60, description="SQLite: seconds a writer waits for the write lock."
    )
    probe_interval: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Postgres: seconds between the SELECT 1 each worker sends on a connection of "
        "its own to notice a database that stopped answering; 0 switches the probe off.",
    )
    probe_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Postgres: seconds the probe waits for an answer. Without one the database "
        "counts as down: requests waiting on it end with 503 and new ones fail at once, until "
        "the probe gets an answer again.",
    )
    allow_sqlite_multiworker: bool = Field(
        default=False,
        description="Let production run several server workers on one SQLite file.",
    )
    echo: bool = Field(
        default=False,
        description=(
            "Log every SQL statement with its parameters through the log pipeline (development "
            "only: parameters include password hashes; noisy and slow)."
        ),
    )


class RedisSettings(BaseModel):
    """Redis, optional: shares rate limit budgets and the read cache between workers; see
    docs/rate-limits.md and docs/caching.md."""

    url: SecretStr | None = Field(
        default=None,
        description="`redis://host:6379/0`: rate limits and the read cache shared by every "
        "worker and machine. Unset, each worker counts and caches on its own in memory.",
    )
    key_prefix: str = Field(
        default="pressroom",
        min_length=1,
        max_length=64,
        description="Prefix of every key Pressroom writes: give each deployment sharing one Redis "
        "its own.",
    )
    socket_timeout: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Seconds to connect to Redis or wait for one reply before it counts as down "
        "(rate limits then fall back to memory).",
    )


class AuthSettings(BaseModel):
    """Token signing, session lifetimes and password hashing; see docs/auth.md."""

    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key that signs and verifies access tokens, at least 32 characters. "
        "Required in production.",
        json_schema_extra={
            "shown_default": "development: generated once into `<data dir>/jwt-secret` (mode "
            "0600) and reused; production: none, required"
        },
    )
    jwt_previous_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys that used to be `JWT_SECRET`: tokens they signed are still accepted, "
        "new tokens are always signed with `JWT_SECRET`. Each at least 32 characters in "
        'production. See "Rotating the JWT secret" in docs/operations.md.',
    )
    jwt_issuer: str = Field(
        default="pressroom", min_length=1, description="`iss` claim, checked on every token."
    )
    jwt_audience: str = Field(
        default="pressroom-api", min_length=1, description="`aud` claim, checked on every token."
    )
    token_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        le=90 * 24 * 3600,
        description="Lifetime of a Conduit login: its session and the token returned by login "
        "and registration (Conduit frontends cannot refresh).",
    )
    access_token_lifetime_seconds: int = Field(
        default=15 * 60,
        ge=30,
        le=24 * 3600,
        description="Lifetime of an OAuth2 access token; never longer than its session.",
    )
    refresh_token_lifetime_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=300,
        le=365 * 24 * 3600,
        description="Lifetime of an OAuth2 session: its refresh tokens work (once each) until "
        "then.",
    )
    session_touch_seconds: int = Field(
        default=300,
        ge=1,
        le=24 * 3600,
        description="A session's last-seen time and an API key's last-used time are written at "
        "most this often, after the answer.",
    )
    jwt_leeway_seconds: int = Field(
        default=10,
        ge=0,
        le=300,
        description="Clock skew tolerated on a token's `exp`, `nbf` and `iat`, in seconds.",
    )
    argon2_memory_cost: int = Field(
        default=19456,
        ge=19456,
        description="Argon2id memory per password hash, in KiB (19456 is the OWASP minimum). "
        "Raising it is safe: old hashes are upgraded at each user's next login.",
    )
    argon2_time_cost: int = Field(default=2, ge=2, description="Argon2id iterations.")
    argon2_parallelism: int = Field(default=1, ge=1, le=16, description="Argon2id lanes.")

    @field_validator("jwt_previous_secrets", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)


def _split_list(value: object) -> object:
    """A comma-separated string or a JSON list, as environment variables carry lists."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import orjson

            return orjson.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class CorsSettings(BaseModel):
    """Cross-origin requests from browsers."""

    allow_origins: Annotated[list[str], NoDecode] | None = Field(
        default=None,
        description="Origins allowed to call the API from a browser: "
        "`https://app.example.com,https://admin.example.com`.",
        json_schema_extra={"shown_default": "development: `*` (any origin); production: none"},
    )
    allow_credentials: bool = Field(
        default=False,
        description="Send `Access-Control-Allow-Credentials: true`; refused at boot together with "
        "the `*` origin.",
    )

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)


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


class ExportSettings(BaseModel):
    """Streaming exports (`GET /api/user/export`, `GET /api/admin/exports/articles`)."""

    batch_rows: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Rows fetched from the database cursor at a time, and sent as one chunk: "
        "memory per export stays about this many rows, whatever the export's size.",
    )
    max_per_worker: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Exports one server process streams at once; more are refused with 503. "
        "Each holds a database connection for its whole length: keep it below the pool size.",
    )
    retry_after_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="`Retry-After` sent when an export is refused because one is already "
        "running (409) or the process is at `max_per_worker` (503).",
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


class DocsMode(StrEnum):
    PUBLIC = "public"
    OFF = "off"
    # ADMIN ("admin": docs only for an admin's token) is planned; see core/docs.py.


class SecuritySettings(BaseModel):
    """HTTP hardening: hosts, headers, request size and time limits; see docs/security.md."""

    allowed_hosts: Annotated[list[str], NoDecode] | None = Field(
        default=None,
        description="Host names the API answers to: `api.example.com`, `*.example.com`, or `*` "
        "for any (when a proxy in front checks them). Another `Host` gets 400.",
        json_schema_extra={
            "shown_default": "development: `*` (any host); production: none, required"
        },
    )
    docs: DocsMode | None = Field(
        default=None,
        description="`public` serves the API docs (`/docs`, `/redoc`, `/openapi.json`); `off` "
        "serves none of them.",
        json_schema_extra={"shown_default": "development: `public`; production: `off`"},
    )
    hsts_max_age: int = Field(
        default=365 * 24 * 3600,
        ge=0,
        le=2 * 365 * 24 * 3600,
        description="Strict-Transport-Security max-age in seconds, sent on HTTPS answers only; "
        "0 sends no HSTS header.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body, in bytes, declared or streamed; larger answers 413.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a request body may take to arrive once the request head is in; "
        "then 408.",
    )
    max_json_depth: int = Field(
        default=32,
        ge=2,
        le=512,
        description="Deepest nesting of arrays and objects accepted in a request body; deeper "
        "answers 422.",
    )
    gzip_minimum_bytes: int = Field(
        default=1024,
        ge=0,
        description="Answers at least this large are gzip-compressed for clients that accept it.",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or []:
            wildcard = pattern.startswith("*") and not pattern.startswith("*.")
            if pattern != "*" and ("*" in pattern[1:] or wildcard):
                raise ValueError(f"host {pattern!r}: a wildcard must look like *.example.com")
        return value


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LoggingSettings(BaseModel):
    """Log output (structlog); see docs/observability.md."""

    format: LogFormat = Field(
        default=LogFormat.AUTO,
        description="`json` (one JSON object a line), `console` (readable, for a terminal) or "
        "`auto`: JSON in production, console in development.",
    )
    level: LogLevel = Field(
        default=LogLevel.INFO,
        description="Lowest level written: `debug`, `info`, `warning` or `error`. Applies to "
        "Pressroom, uvicorn, SQLAlchemy and every other library logging through Python's "
        "`logging`.",
    )
    access_log: bool = Field(
        default=True,
        description="One `info` line per request (method, route, status, duration, request "
        "id, user id, client address). Off: no per-request logging work at all.",
    )


class TracingSettings(BaseModel):
    """OpenTelemetry tracing, exported over OTLP (HTTP/protobuf); see docs/observability.md."""

    enabled: bool = Field(
        default=False,
        description="Trace requests, SQL statements and Redis commands. Off: nothing of "
        "OpenTelemetry's SDK is loaded.",
    )
    endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces",
        description="OTLP/HTTP traces URL of a collector (the OpenTelemetry Collector, Jaeger, "
        "Tempo ...), including its `/v1/traces` path.",
    )
    service_name: str = Field(
        default="pressroom",
        min_length=1,
        description="`service.name` of every span: how the tracing backend names this service.",
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded, 0 to 1; a request that arrives with a "
        "`traceparent` follows its caller's decision.",
    )


class MetricsSettings(BaseModel):
    """Prometheus metrics; see docs/metrics.md. With neither a token nor a port, /metrics is
    not reachable at all."""

    enabled: bool = Field(
        default=True,
        description="Collect Prometheus metrics. They are collected, and cost each request "
        "about a microsecond, only when `token` or `port` says where to read them.",
    )
    token: SecretStr | None = Field(
        default=None,
        description="Serve `/metrics` on the API port, only to requests carrying "
        "`Authorization: Bearer <token>` (at least 16 characters). Unset: no `/metrics` on "
        "the API port.",
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve `/metrics` on this port of its own, without a token, from the "
        "`pressroom serve` process (every worker's metrics together). Keep it off the public "
        "network.",
    )
    host: str | None = Field(
        default=None,
        description="Interface the metrics port binds. Default: the server's `host`.",
    )

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(
                f"the metrics token needs at least {MIN_METRICS_TOKEN_LENGTH} characters"
            )
        return value

    @property
    def collected(self) -> bool:
        """Whether anything can read the metrics, so whether they are worth collecting."""
        return self.enabled and (self.token is not None or self.port is not None)


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class MailSettings(BaseModel):
    """Outgoing email (account mails: welcome, verification, password reset); see
    docs/email.md. Without `smtp_host`, mails are written as `.eml` files to `<data dir>/mail`."""

    smtp_host: str | None = Field(
        default=None,
        description="SMTP server to send through. Unset: every mail is written as an `.eml` "
        "file to `<data dir>/mail/` instead (development; production warns at start).",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port. Default: 465 with `tls`, 587 with `starttls`, 25 with `none`.",
    )
    smtp_security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS,
        description="`starttls` (plain connection upgraded to TLS, refused if the server cannot), "
        "`tls` (implicit TLS from the first byte, usually port 465) or `none` (no encryption: "
        "only for a mail catcher on a private network).",
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login; unset sends without authentication."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds to connect to the SMTP server and for each of its replies; a "
        "timeout fails the delivery, which the outbox retries with backoff.",
    )
    sender: str = Field(
        default="Pressroom <no-reply@localhost>",
        min_length=3,
        description="`From` of every mail: `Name <address>` or a bare address.",
    )
    base_url: str = Field(
        default="http://localhost:3000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Public URL of the frontend that the links in mails point to: "
        "`{base_url}/reset-password?token=...` and `{base_url}/verify-email?token=...`.",
    )
    site_name: str = Field(
        default="Pressroom", min_length=1, max_length=100, description="Name used in mails."
    )
    password_reset_lifetime_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How long a password reset link works after it was asked for.",
    )
    verification_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=300,
        le=90 * 24 * 3600,
        description="How long an email verification link works after it was sent.",
    )

    @field_validator("smtp_host", "smtp_port", "smtp_username", "smtp_password", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `PRESSROOM_MAIL__SMTP_USERNAME=` (as compose passes an unset `${VAR:-}`) means none.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {SmtpSecurity.TLS: 465, SmtpSecurity.STARTTLS: 587}.get(self.smtp_security, 25)

    def links(self, path: str, token: str) -> str:
        """`{base_url}/{path}?token=...` (tokens are URL-safe base64)."""
        return f"{self.base_url.rstrip('/')}/{path}?token={token}"


class RelayMode(StrEnum):
    IN_PROCESS = "in_process"
    EXTERNAL = "external"


class OutboxSettings(BaseModel):
    """The outbox relay: delivering domain events to their handlers; see docs/jobs.md."""

    relay: RelayMode = Field(
        default=RelayMode.IN_PROCESS,
        description="`in_process`: each API process runs a relay (the embedded default); "
        "`external`: the API only records events and `pressroom worker` processes deliver "
        "them (the fleet).",
    )
    poll_interval: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds between looks for due events when nothing woke the relay (a "
        "commit in the same process wakes it at once; retries and other processes' events "
        "are found by polling).",
    )
    batch_size: int = Field(
        default=20, ge=1, le=1000, description="Events claimed at once by one relay."
    )
    concurrency: int = Field(
        default=4, ge=1, le=100, description="Events of a batch delivered at the same time."
    )
    handler_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds one event's handlers may take; longer counts as a failed attempt.",
    )
    lease_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How long a claimed event stays reserved for the relay that claimed it. A "
        "relay that dies mid-batch leaves its events to another relay once the lease expires. "
        "Must exceed `handler_timeout` x ceil(`batch_size` / `concurrency`).",
    )
    max_attempts: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Attempts before an event is dead-lettered (kept for an admin to retry).",
    )
    backoff_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Delay before the first retry; each further retry waits twice as long "
        "(with random jitter of up to half the delay).",
    )
    backoff_max_seconds: float = Field(
        default=3600.0, gt=0, le=7 * 86400, description="Longest delay between two attempts."
    )
    retention_hours: float = Field(
        default=24.0,
        ge=1,
        le=24 * 365,
        description="Delivered events are kept this long, then purged by the relay (live "
        "updates replay missed events from them, so keep it at least as long as that window). "
        "Dead letters are never purged automatically.",
    )

    @model_validator(mode="after")
    def _lease_covers_a_batch(self) -> Self:
        rounds = -(-self.batch_size // self.concurrency)
        if self.lease_seconds <= self.handler_timeout * rounds:
            raise ValueError(
                f"outbox lease_seconds ({self.lease_seconds:g}) must exceed handler_timeout x "
                f"ceil(batch_size / concurrency) = {self.handler_timeout * rounds:g}, or a slow "
                "batch would be delivered twice"
            )
        return self


class LiveSettings(BaseModel):
    """Live updates: the Server-Sent Events stream, the comments WebSocket and the broker that
    carries events between workers; see docs/live.md."""

    keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        le=15,
        description="Seconds between keep-alive comments on a quiet event stream (at most 15, "
        "so proxies with a 30-60 s idle timeout keep the stream open).",
    )
    retry_ms: int = Field(
        default=3000,
        ge=0,
        le=600_000,
        description="The `retry:` an event stream announces: milliseconds a client waits before "
        "it reconnects.",
    )
    replay_window_seconds: int = Field(
        default=3600,
        ge=0,
        le=86_400,
        description="How far back a client reconnecting with `Last-Event-ID` is sent what it "
        "missed (at most the outbox's retention of delivered events, 24 h by default). Older "
        "ids get no replay: the client reloads instead.",
    )
    replay_max_events: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="Most events replayed to one reconnecting client; past it the stream says "
        "so (event `reset`) and the client reloads.",
    )
    max_streams_per_user: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Concurrent event streams and live sockets one signed-in user may hold: "
        "across all workers when `redis.url` is set (leases in Redis), in each worker process "
        "without Redis or while it fails.",
    )
    max_streams_per_ip: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Concurrent anonymous event streams and live sockets per client IP: across "
        "all workers when `redis.url` is set (leases in Redis), in each worker process without "
        "Redis or while it fails.",
    )
    subscriber_buffer: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Messages the broker buffers for one subscriber that falls behind; past it "
        "the buffer is dropped and the subscriber is told it lost messages.",
    )
    publish_timeout: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="Seconds publishing one message through Redis may take before the broker "
        "counts as unavailable.",
    )
    websocket_queue: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Messages waiting for one WebSocket client; a client that falls further "
        "behind is closed with code 1013 (others never wait for it).",
    )
    websocket_heartbeat_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description="Seconds between heartbeats on a live socket: a `ping` message from the "
        "app, and a protocol ping from `pressroom serve` that closes peers not answering "
        "within as long again.",
    )
    websocket_allow_missing_origin: bool = Field(
        default=True,
        description="Accept WebSocket handshakes without an `Origin` header (non-browser "
        "clients; browsers always send one). A present Origin must be in the CORS allow-list.",
    )


class CacheSettings(BaseModel):
    """The read cache and conditional requests; see docs/caching.md."""

    enabled: bool = Field(
        default=True,
        description="Cache anonymous answers of public reads (articles, lists, comments, "
        "profiles, tags): in Redis when `REDIS__URL` is set, in this process otherwise. ETags "
        "and 304 answers work either way.",
    )
    ttl_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="Longest life of a cached answer. Writes invalidate what they change at "
        "once; the TTL only bounds what an invalidation lost to a cache outage could leave.",
    )
    max_entries: int = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description="In-process cache only: answers kept, least recently used dropped first.",
    )
    max_entry_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=16 * 1_048_576,
        description="Answers larger than this are not cached.",
    )
    retry_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="After Redis fails, seconds of reading straight from the database before "
        "trying the cache again.",
    )
    in_process_with_workers: bool = Field(
        default=False,
        description="Keep the in-process cache when `SERVER__WORKERS` > 1 and no Redis is set. "
        "Each worker then sees other workers' writes only when its entries expire "
        "(`TTL_SECONDS`); off by default, which turns the cache off in that case.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PRESSROOM_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`production` refuses to start on unsafe settings (see Production checks in "
        "docs/configuration.md) and serves no API docs unless asked to.",
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the default SQLite file and the generated development key; "
        "created on demand.",
    )
    debug: bool = Field(
        default=False,
        description="FastAPI debug mode (tracebacks in answers); ignored in production.",
    )
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    cors: CorsSettings = CorsSettings()
    server: ServerSettings = ServerSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    security: SecuritySettings = SecuritySettings()
    logging: LoggingSettings = LoggingSettings()
    tracing: TracingSettings = TracingSettings()
    metrics: MetricsSettings = MetricsSettings()
    mail: MailSettings = MailSettings()
    outbox: OutboxSettings = OutboxSettings()
    live: LiveSettings = LiveSettings()
    exports: ExportSettings = ExportSettings()
    cache: CacheSettings = CacheSettings()

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def database_url(self) -> str:
        if self.database.url is not None and self.database.url.get_secret_value():
            return self.database.url.get_secret_value()
        return f"sqlite+aiosqlite:///{self.data_dir / 'pressroom.db'}"

    @property
    def drain_seconds(self) -> float:
        if self.server.drain_seconds is not None:
            return self.server.drain_seconds
        return 5.0 if self.is_production else 0.0

    @property
    def allowed_hosts(self) -> list[str]:
        if self.security.allowed_hosts is not None:
            return self.security.allowed_hosts
        return [] if self.is_production else ["*"]

    @property
    def log_format(self) -> LogFormat:
        if self.logging.format is not LogFormat.AUTO:
            return self.logging.format
        return LogFormat.JSON if self.is_production else LogFormat.CONSOLE

    @property
    def docs_mode(self) -> DocsMode:
        if self.security.docs is not None:
            return self.security.docs
        return DocsMode.OFF if self.is_production else DocsMode.PUBLIC

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cors_origins(self) -> list[str]:
        if self.cors.allow_origins is not None:
            return self.cors.allow_origins
        return [] if self.is_production else ["*"]

    @field_validator("database")
    @classmethod
    def _known_driver(cls, value: DatabaseSettings) -> DatabaseSettings:
        url = value.url.get_secret_value() if value.url is not None else ""
        if url and not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @model_validator(mode="after")
    def _safe_for_production(self) -> Self:
        if "*" in self.cors_origins and self.cors.allow_credentials:
            raise ValueError("CORS: a wildcard origin cannot be combined with credentials")
        if not self.is_production:
            return self
        if not self.rate_limit.enabled and not self.rate_limit.allow_disabled_in_production:
            raise ValueError(
                "production refuses to run with rate limits off: set "
                "PRESSROOM_RATE_LIMIT__ALLOW_DISABLED_IN_PRODUCTION=true to force it"
            )
        secret = self.auth.jwt_secret
        if secret is None or len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"production needs PRESSROOM_AUTH__JWT_SECRET of at least {MIN_SECRET_LENGTH} "
                "characters"
            )
        if any(
            len(old.get_secret_value()) < MIN_SECRET_LENGTH
            for old in self.auth.jwt_previous_secrets
        ):
            raise ValueError(
                f"production needs every PRESSROOM_AUTH__JWT_PREVIOUS_SECRETS key to have at "
                f"least {MIN_SECRET_LENGTH} characters"
            )
        if (
            self.is_sqlite
            and self.server.workers > 1
            and not self.database.allow_sqlite_multiworker
        ):
            raise ValueError(
                "SQLite with several workers: use Postgres, or set "
                "PRESSROOM_DATABASE__ALLOW_SQLITE_MULTIWORKER=true"
            )
        if not self.allowed_hosts:
            raise ValueError(
                "production needs PRESSROOM_SECURITY__ALLOWED_HOSTS: the host names the API "
                "answers to (or * when a proxy in front already checks them)"
            )
        return self

    def signing_key(self) -> str:
        """The JWT key; in development, generated once and kept in the data directory."""
        if self.auth.jwt_secret is not None:
            return self.auth.jwt_secret.get_secret_value()
        path = self.data_dir / JWT_SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Written aside, then linked into place: concurrent workers agree on one key.
            fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".jwt-")
            try:
                os.write(fd, secrets.token_urlsafe(48).encode())
                os.close(fd)
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        return path.read_text(encoding="utf-8").strip()

    def has_generated_secret(self) -> bool:
        return self.auth.jwt_secret is None
