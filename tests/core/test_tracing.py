"""Tracing, switched on: spans reach an OTLP receiver, and log lines name their trace."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from pressroom.main import create_app
from tests.conftest import base_settings
from tests.core.log_capture import captured_logs

SERVER = Span.SpanKind.SPAN_KIND_SERVER


class Receiver(ThreadingHTTPServer):
    """A minimal OTLP/HTTP traces endpoint: keeps every span posted to /v1/traces."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[tuple[str, Span]] = []  # (service name, span)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                attribute.value.string_value
                for attribute in resource_spans.resource.attributes
                if attribute.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                self.server.spans += [(service, span) for span in scope_spans.spans]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _attributes(span: Span) -> dict[str, object]:
    values: dict[str, object] = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value") or "string_value")
    return values


async def test_a_request_is_a_server_span_with_sql_below_it_and_logs_name_the_trace(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = base_settings(
        tmp_path,
        database_url,
        logging={"format": "json"},
        tracing={"enabled": True, "endpoint": receiver.endpoint, "service_name": "press-test"},
    )
    with captured_logs(settings) as logs:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.get("/api/articles/some-slug")
        # Leaving the lifespan flushed every span to the receiver.

    assert response.status_code == 404
    spans = [span for _service, span in receiver.spans]
    assert {service for service, _span in receiver.spans} == {"press-test"}
    (server,) = [span for span in spans if span.kind == SERVER]
    assert server.name == "GET /api/articles/{slug}"
    assert _attributes(server)["http.route"] == "/api/articles/{slug}"
    assert _attributes(server)["http.response.status_code"] == 404
    by_id = {span.span_id: span for span in spans}

    def under_server(span: Span) -> bool:
        while span.parent_span_id:
            if span.parent_span_id == server.span_id:
                return True
            span = by_id[span.parent_span_id]
        return False

    sql = [
        span
        for span in spans
        if "db.statement" in _attributes(span) or "db.query.text" in _attributes(span)
    ]
    assert sql, [span.name for span in spans]
    assert all(span.trace_id == server.trace_id for span in sql)
    assert any(under_server(span) for span in sql)
    (line,) = logs.access()
    assert line["trace_id"] == server.trace_id.hex()
    assert len(line["span_id"]) == 16


def test_tracing_off_loads_no_tracer_exporter_or_instrumentation(tmp_path: Path) -> None:
    # (redis-py imports OpenTelemetry's metrics SDK by itself when it is installed.)
    script = (
        "import sys\n"
        "from pressroom.core.settings import Settings\n"
        "from pressroom.main import create_app\n"
        f"create_app(Settings(_env_file=None, data_dir={str(tmp_path)!r}))\n"
        "loaded = [name for name in sys.modules if name.startswith("
        "('opentelemetry.sdk.trace', 'opentelemetry.exporter', 'opentelemetry.instrumentation'))]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_redis_commands_are_spans_of_the_request(
    tmp_path: Path, database_url: str, receiver: Receiver, redis_url: str, key_prefix: str
) -> None:
    settings = base_settings(
        tmp_path,
        database_url,
        redis={"url": redis_url, "key_prefix": key_prefix},
        rate_limit={"enabled": True},
        tracing={"enabled": True, "endpoint": receiver.endpoint},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/api/tags")

    assert response.status_code == 200
    spans = [span for _service, span in receiver.spans]
    (server,) = [span for span in spans if span.kind == SERVER]
    redis_spans = [span for span in spans if _attributes(span).get("db.system") == "redis"]
    assert redis_spans, [span.name for span in spans]
    # The rate limiter's check is part of the request (opening the pool at startup is not).
    assert any(span.trace_id == server.trace_id for span in redis_spans)
