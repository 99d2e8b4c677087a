"""Reading the metrics: the registry a scrape collects, `/metrics` behind a token, the port."""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import anyio
from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from pydantic import SecretStr
from starlette.responses import Response

from pressroom.core.errors import Unauthorized
from pressroom.core.metrics.requests import METRICS_PATH

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def multiprocess_directory() -> Path | None:
    """Where this process's values are kept, when prometheus_client runs in multiprocess mode.

    What counts is the mode prometheus_client chose when first imported, not the environment now.
    """
    if values.ValueClass is values.MutexValue:
        return None
    return Path(os.environ[MULTIPROC_ENV])


def forget_dead_workers(directory: Path) -> None:
    """Drops the live gauges (in flight, pool) of workers that are gone, even killed ones.

    Counters and histograms of dead workers stay: what they counted still happened.
    """
    own = os.getpid()
    for path in directory.glob("gauge_live*_*.db"):
        match = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if match is None or int(match[1]) == own:
            continue
        pid = int(match[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            forget_worker(pid, directory)
        except PermissionError:  # alive, another user's
            continue


def forget_worker(pid: int, directory: Path) -> None:
    """Drops the live gauges of worker `pid`: it has stopped."""
    mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


class LiveWorkers(Collector):
    """Every worker's metrics, read from the multiprocess directory, dead workers' gauges
    left out; `flush` first brings this process's own files up to date."""

    def __init__(self, directory: Path, flush: Callable[[], None] | None) -> None:
        self.directory = directory
        self.flush = flush
        self.collector = MultiProcessCollector(None, str(directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        if self.flush is not None:
            self.flush()
        forget_dead_workers(self.directory)
        metrics: Iterable[Metric] = self.collector.collect()  # type: ignore[no-untyped-call]
        return metrics


class Flushed(Collector):
    """`registry`'s metrics, once `flush` has brought them up to date."""

    def __init__(self, registry: CollectorRegistry, flush: Callable[[], None]) -> None:
        self.registry = registry
        self.flush = flush

    def collect(self) -> Iterable[Metric]:
        self.flush()
        return self.registry.collect()


def scrape_registry(
    directory: Path | None, registry: CollectorRegistry, flush: Callable[[], None] | None
) -> CollectorRegistry:
    """What a scrape collects: this process's `registry`, or in multiprocess mode every
    worker's files. `flush` (if any) runs first, on every scrape."""
    scrape = CollectorRegistry(auto_describe=False)
    if directory is not None:
        scrape.register(LiveWorkers(directory, flush))
    elif flush is not None:
        scrape.register(Flushed(registry, flush))
    else:
        return registry
    return scrape


def serve_port(registry: CollectorRegistry, port: int, host: str) -> WSGIServer:
    """Serves the metrics on a port of their own, from a thread; `close_port` stops it."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def close_port(server: WSGIServer) -> None:
    server.shutdown()
    server.server_close()


class MetricsTokenRequired(Unauthorized):
    message = "is missing or wrong: /metrics needs `Authorization: Bearer <metrics token>`"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="metrics"'}


def install_metrics_endpoint(app: FastAPI, token: SecretStr, registry: CollectorRegistry) -> None:
    expected = token.get_secret_value().encode()

    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        # compare_digest: the time taken says nothing about how much of the token matched.
        given = credentials.strip().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
            raise MetricsTokenRequired
        # Reading every worker's files is blocking I/O: off the event loop.
        body = await anyio.to_thread.run_sync(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
