"""Metrics for one app: what `create_app` installs and its lifespan opens and closes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from wsgiref.simple_server import WSGIServer

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, disable_created_metrics
from sqlalchemy.ext.asyncio import AsyncEngine

from pressroom.core.metrics.exposition import (
    close_port,
    forget_worker,
    install_metrics_endpoint,
    multiprocess_directory,
    scrape_registry,
    serve_port,
)
from pressroom.core.metrics.families import Families
from pressroom.core.metrics.pool import PoolGauges
from pressroom.core.metrics.requests import RequestMetrics
from pressroom.core.settings import Settings

FLUSH_SECONDS = 1.0
"""Multiprocess mode: how far, at most, a worker's files lag behind its requests."""


class AppMetrics:
    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.settings = settings
        self.directory = multiprocess_directory()
        # `_created` samples: nothing here reads them, and they double a scrape's size.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.families = Families(self.registry)
        self.requests = RequestMetrics(self.families, lambda: app.routes)
        self.pool: PoolGauges | None = None
        self.scrape = scrape_registry(self.directory, self.registry, self.flush)
        self.port_server: WSGIServer | None = None
        self.flusher: asyncio.Task[None] | None = None
        # A scrape on the metrics port flushes from the server's thread.
        self.flush_lock = threading.Lock()

    def flush(self) -> None:
        """Brings the metrics up to date with this process's requests and pool."""
        with self.flush_lock:
            self.requests.flush()
            if self.pool is not None:
                self.pool.sample()

    def open(self, engine: AsyncEngine) -> None:
        """Called from the lifespan, once the database is open."""
        max_overflow = self.settings.database.max_overflow
        self.pool = PoolGauges(self.families, engine, max_overflow=max_overflow)
        port = self.settings.metrics.port
        if self.directory is not None:
            # Another process may answer the scrape: keep this worker's files current.
            self.flusher = asyncio.get_running_loop().create_task(self._flush_often())
        elif port is not None:
            # A single process on its own serves the port itself; under `pressroom serve`
            # (multiprocess mode) the serving process does, for every worker.
            host = self.settings.metrics.host or self.settings.server.host
            self.port_server = serve_port(self.scrape, port, host)

    def close(self) -> None:
        if self.flusher is not None:
            self.flusher.cancel()
            self.flusher = None
        if self.port_server is not None:
            close_port(self.port_server)
            self.port_server = None
        self.flush()  # the last requests, before the process goes
        if self.directory is not None:
            forget_worker(os.getpid(), self.directory)

    async def _flush_often(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                self.flush()


def install_metrics(app: FastAPI, settings: Settings) -> AppMetrics | None:
    """The app's metrics, or None when nothing could read them (then nothing is recorded)."""
    if not settings.metrics.collected:
        return None
    metrics = AppMetrics(app, settings)
    if settings.metrics.token is not None:
        install_metrics_endpoint(app, settings.metrics.token, metrics.scrape)
    return metrics
