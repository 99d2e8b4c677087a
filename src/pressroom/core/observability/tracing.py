"""OpenTelemetry tracing, switched on by `PRESSROOM_TRACING__ENABLED`.

Imported only when tracing is on (`main.create_app`): with it off, no part of OpenTelemetry's
SDK, exporter or instrumentation is loaded, and FastAPI's own telemetry stays off.

- HTTP requests: FastAPI's native telemetry makes the server span (route template, status)
  and spans for dependencies, the endpoint and serialization, given this provider.
- SQL: SQLAlchemy's engine (every statement through SQLAlchemy) and asyncpg (the Postgres
  reads that `core.reads.DriverReader` sends to the driver directly).
- Redis: every command of redis-py (rate limits).

Spans leave in batches over OTLP/HTTP (protobuf); log lines get `trace_id` and `span_id`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from sqlalchemy.ext.asyncio import AsyncEngine

from pressroom import __version__
from pressroom.core.observability.logs import use_trace_ids
from pressroom.core.settings import Settings

# One batch's export, retries included. A collector that is down then delays the process's
# exit by this much at most, not by the exporter's default 10 seconds.
EXPORT_SECONDS = 2


def current_trace_ids() -> tuple[str, str] | None:
    """The trace and span ids of the current span, as tracing backends print them."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class Tracing:
    """One application's tracer provider, and the libraries traced while it runs."""

    def __init__(self, settings: Settings) -> None:
        options = settings.tracing
        self.provider = TracerProvider(
            resource=Resource.create(
                {"service.name": options.service_name, "service.version": __version__}
            ),
            sampler=ParentBased(TraceIdRatioBased(options.sample_ratio)),
            shutdown_on_exit=False,
        )
        exporter = OTLPSpanExporter(options.endpoint, timeout=EXPORT_SECONDS)
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self._instrumentors: list[Any] = []

    def fastapi_telemetry(self) -> TelemetryConfig:
        """FastAPI's `telemetry=`: request spans on this provider; no metrics or OTel logs
        (the Prometheus metrics and the log pipeline cover those)."""
        return {
            "tracer_provider": self.provider,
            "tracing": True,
            "metrics": False,
            "logs": False,
            "operation_spans": True,
            "auto_configure": False,
        }

    def start(self, engine: AsyncEngine) -> None:
        """Trace SQL on `engine`, asyncpg and Redis; put trace ids on log lines."""
        sqlalchemy = SQLAlchemyInstrumentor()
        # The instrumentation declares SQLAlchemy < 2.1 and would do nothing on 2.1; the
        # engine events it uses are unchanged there (tests/core/test_tracing.py proves it).
        sqlalchemy.instrument(
            engine=engine.sync_engine, tracer_provider=self.provider, skip_dep_check=True
        )
        self._instrumentors.append(sqlalchemy)
        asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
        for instrumentor in (asyncpg, RedisInstrumentor()):
            instrumentor.instrument(tracer_provider=self.provider)
            self._instrumentors.append(instrumentor)
        use_trace_ids(current_trace_ids)

    @staticmethod
    def untraced() -> AbstractContextManager[None]:
        """Work started inside makes no spans: for background loops such as the database
        probe, whose `SELECT 1` every second would otherwise be a trace of its own."""
        return suppress_instrumentation()

    def stop(self) -> None:
        """Undo `start`, and send the spans still waiting."""
        use_trace_ids(None)
        while self._instrumentors:
            self._instrumentors.pop().uninstrument()
        self.provider.shutdown()
