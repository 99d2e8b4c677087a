"""The `Settings` object: its sections in order, the values derived from them, and the checks
that refuse unsafe production settings at boot."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pressroom.core.settings.auth import AuthSettings, CorsSettings, DocsMode, SecuritySettings
from pressroom.core.settings.cache import CacheSettings
from pressroom.core.settings.database import DatabaseSettings, RedisSettings
from pressroom.core.settings.jobs import MailSettings, OutboxSettings
from pressroom.core.settings.observability import (
    LogFormat,
    LoggingSettings,
    MetricsSettings,
    TracingSettings,
)
from pressroom.core.settings.server import RateLimitSettings, ServerSettings
from pressroom.core.settings.streaming import ExportSettings, LiveSettings

MIN_SECRET_LENGTH = 32
JWT_SECRET_FILE = "jwt-secret"  # noqa: S105 (a file name, not a secret)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


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
