"""Typed configuration: one `Settings` object, read from the environment and `.env`.

`root` holds `Settings` itself; each other module holds the sections of one concern:
`database` (database, redis), `auth` (auth, cors, security), `server` (server, rate_limit),
`observability` (logging, tracing, metrics), `jobs` (mail, outbox), `streaming` (live,
exports), `cache` (cache).
"""

from pressroom.core.settings.auth import AuthSettings, CorsSettings, DocsMode, SecuritySettings
from pressroom.core.settings.cache import CacheSettings
from pressroom.core.settings.database import DatabaseSettings, RedisSettings
from pressroom.core.settings.jobs import MailSettings, OutboxSettings, RelayMode, SmtpSecurity
from pressroom.core.settings.observability import (
    MIN_METRICS_TOKEN_LENGTH,
    LogFormat,
    LoggingSettings,
    LogLevel,
    MetricsSettings,
    TracingSettings,
)
from pressroom.core.settings.root import (
    JWT_SECRET_FILE,
    MIN_SECRET_LENGTH,
    Environment,
    Settings,
)
from pressroom.core.settings.server import RateLimit, RateLimitSettings, ServerSettings
from pressroom.core.settings.streaming import ExportSettings, LiveSettings

__all__ = [
    "JWT_SECRET_FILE",
    "MIN_METRICS_TOKEN_LENGTH",
    "MIN_SECRET_LENGTH",
    "AuthSettings",
    "CacheSettings",
    "CorsSettings",
    "DatabaseSettings",
    "DocsMode",
    "Environment",
    "ExportSettings",
    "LiveSettings",
    "LogFormat",
    "LogLevel",
    "LoggingSettings",
    "MailSettings",
    "MetricsSettings",
    "OutboxSettings",
    "RateLimit",
    "RateLimitSettings",
    "RedisSettings",
    "RelayMode",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "SmtpSecurity",
    "TracingSettings",
]
