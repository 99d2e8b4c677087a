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


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class DatabaseSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL: `sqlite+aiosqlite:///path.db` or "
        "`postgresql+asyncpg://user:pass@host/db`. Default: a SQLite file in the data directory.",
    )
    pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept per worker.")
    max_overflow: int = Field(default=10, ge=0, le=200, description="Extra connections under load.")
    pool_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to wait for a free pooled connection."
    )
    connect_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to establish a new connection."
    )
    statement_timeout: float = Field(
        default=15.0, ge=0.001, le=600, description="Seconds one SQL statement may run."
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
        default=False, description="Allow several server workers on one SQLite file in production."
    )
    echo: bool = Field(default=False, description="Log every SQL statement (development only).")


class RedisSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None, description="redis:// URL; unset means in-process cache, limiter and broker."
    )
    key_prefix: str = Field(
        default="pressroom",
        min_length=1,
        max_length=64,
        description="Prefix of every key Pressroom writes, so several deployments can share one "
        "Redis.",
    )
    socket_timeout: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Seconds to connect to Redis or wait for one reply before treating it as down.",
    )


class AuthSettings(BaseModel):
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 signing key, at least 32 characters. Required in production; "
        "in development a random one is generated once and kept in the data directory.",
    )
    jwt_issuer: str = Field(default="pressroom", min_length=1)
    jwt_audience: str = Field(default="pressroom-api", min_length=1)
    token_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        le=90 * 24 * 3600,
        description="Lifetime of a Conduit login (its session and its `user.token`): Conduit "
        "frontends cannot refresh.",
    )
    access_token_lifetime_seconds: int = Field(
        default=15 * 60, ge=30, le=24 * 3600, description="OAuth2 access token lifetime."
    )
    refresh_token_lifetime_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=300,
        le=365 * 24 * 3600,
        description="OAuth2 session lifetime: a refresh token works until then (once).",
    )
    session_touch_seconds: int = Field(
        default=300,
        ge=1,
        le=24 * 3600,
        description="How often, at most, a session's last-seen time and an API key's "
        "last-used time are written.",
    )
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=300)
    argon2_memory_cost: int = Field(default=19456, ge=19456, description="KiB (OWASP minimum).")
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)


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
    allow_origins: Annotated[list[str], NoDecode] | None = Field(
        default=None,
        description="Allowed origins, comma-separated or a JSON list. Default: any origin "
        "(without credentials) in development, none in production.",
    )
    allow_credentials: bool = False

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1", description="Proxies whose X-Forwarded-* headers are trusted."
    )
    freeze_gc: bool = Field(
        default=True,
        description="After startup, keep the objects built so far out of the garbage "
        "collector's full passes (shorter pauses: p99 latency).",
    )
    http: Literal["auto", "httptools", "h11"] = Field(
        default="auto", description="HTTP/1.1 parser: httptools when installed (auto), or h11."
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a connection may take to send a complete request head, counted "
        "from the connection opening or the previous response (slow clients, slowloris).",
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest request head (request line and headers), in bytes: 431 above it.",
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


RateLimit = Annotated[str, AfterValidator(_rate_limit)]
"""One limit in the `limits` notation: "5/15 minutes", "20/minute", "100 per hour"."""


class RateLimitSettings(BaseModel):
    """Request rate limits (the `limits` library); see docs/rate-limits.md."""

    enabled: bool = Field(default=True, description="Switch every rate limit on or off.")
    allow_disabled_in_production: bool = Field(
        default=False, description="Let production start with rate limits switched off."
    )
    default_per_ip: RateLimit = Field(
        default="600/minute", description="Every request, per client IP."
    )
    login_per_account: RateLimit = Field(
        default="5/15 minutes",
        description="Login attempts per account (email); a successful login clears the count.",
    )
    login_per_ip: RateLimit = Field(default="20/minute", description="Login attempts per IP.")
    registration_per_ip: RateLimit = Field(
        default="5/hour", description="Registration attempts per IP."
    )
    article_creation_per_user: RateLimit = Field(
        default="30/hour", description="Articles created per user."
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
        description="Host names the API answers to (`api.example.com`, `*.example.com`, or `*` "
        "for any), comma-separated or a JSON list. Default: any host in development; "
        "required in production.",
    )
    docs: DocsMode | None = Field(
        default=None,
        description="API docs (/docs, /redoc, /openapi.json): `public` or `off`. "
        "Default: public in development, off in production.",
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
        description="Largest request body, in bytes: 413 above it.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a request body may take to arrive once the request head is in: "
        "408 after that.",
    )
    max_json_depth: int = Field(
        default=32,
        ge=2,
        le=512,
        description="Deepest nesting of arrays and objects accepted in a request body: 422 above.",
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PRESSROOM_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default=Path("data"), description="Where SQLite and local state live.")
    debug: bool = False
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    auth: AuthSettings = AuthSettings()
    cors: CorsSettings = CorsSettings()
    server: ServerSettings = ServerSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    security: SecuritySettings = SecuritySettings()

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
