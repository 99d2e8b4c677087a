"""Metrics for one app: what `create_app` installs and its lifespan opens and closes."""

from __future__ import annotations

import os
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
from pressroom.core.metrics.pool import watch_pool
from pressroom.core.metrics.requests import RequestMetrics
from pressroom.core.settings import Settings


class AppMetrics:
    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.settings = settings
        self.directory = multiprocess_directory()
        # `_created` samples: nothing here reads them, and they double a scrape's size.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.families = Families(self.registry)
        self.requests = RequestMetrics(self.families, lambda: app.routes)
        self.scrape = scrape_registry(self.directory, self.registry)
        self.port_server: WSGIServer | None = None

    def open(self, engine: AsyncEngine) -> None:
        watch_pool(self.families, engine, max_overflow=self.settings.database.max_overflow)
        port = self.settings.metrics.port
        # Under `pressroom serve` (multiprocess mode) the serving process owns the port; a
        # single process on its own (no multiprocess directory) serves it itself.
        if port is not None and self.directory is None:
            host = self.settings.metrics.host or self.settings.server.host
            self.port_server = serve_port(self.scrape, port, host)

    def close(self) -> None:
        if self.port_server is not None:
            close_port(self.port_server)
            self.port_server = None
        if self.directory is not None:
            forget_worker(os.getpid(), self.directory)


def install_metrics(app: FastAPI, settings: Settings) -> AppMetrics | None:
    """The app's metrics, or None when nothing could read them (then nothing is recorded)."""
    if not settings.metrics.collected:
        return None
    metrics = AppMetrics(app, settings)
    if settings.metrics.token is not None:
        install_metrics_endpoint(app, settings.metrics.token, metrics.scrape)
    return metrics
