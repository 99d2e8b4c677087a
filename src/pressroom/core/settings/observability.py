"""The logging, tracing and metrics sections."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr, field_validator

MIN_METRICS_TOKEN_LENGTH = 16


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
