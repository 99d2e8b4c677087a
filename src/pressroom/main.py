"""`create_app(settings)`: the one place that wires Pressroom together."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from pressroom import __version__
from pressroom.admin.router import router as admin_router
from pressroom.apikeys.router import router as apikeys_router
from pressroom.articles.router import router as articles_router
from pressroom.auth import openapi as auth_openapi
from pressroom.auth.passwords import Passwords
from pressroom.auth.recovery_router import router as recovery_router
from pressroom.auth.router import router as auth_router
from pressroom.auth.tokens import Tokens
from pressroom.comments.router import router as comments_router
from pressroom.core import docs
from pressroom.core.background import BackgroundWrites
from pressroom.core.broker import create_broker
from pressroom.core.cache import create_cache
from pressroom.core.cache.middleware import CachedReads
from pressroom.core.db import Database, create_engine
from pressroom.core.db_watch import watch_database
from pressroom.core.errors import install_error_handlers
from pressroom.core.hardening import install_http_hardening
from pressroom.core.health import install_health
from pressroom.core.lifecycle import Lifecycle, draining_on_signals
from pressroom.core.mail import production_warnings as mail_warnings
from pressroom.core.metrics.app import install_metrics
from pressroom.core.outbox import Handlers
from pressroom.core.outbox.relay import Relay
from pressroom.core.ratelimit import RateLimiter, RateLimitMiddleware
from pressroom.core.settings import RelayMode, Settings
from pressroom.exports import openapi as exports_openapi
from pressroom.exports.gate import ExportGate
from pressroom.exports.router import router as exports_router
from pressroom.jobs import event_handlers
from pressroom.live.repository import LiveReads
from pressroom.live.router import router as live_router
from pressroom.live.service import LiveService
from pressroom.live.slots import create_stream_slots
from pressroom.profiles.router import router as profiles_router
from pressroom.tags.router import router as tags_router
from pressroom.users.router import router as users_router

logger = logging.getLogger("pressroom")

TITLE = "Pressroom"
DESCRIPTION = (
    "A publishing platform API that speaks the RealWorld **Conduit** API. "
    'Errors always have the shape `{"errors": {"<field>": ["message"]}}`.'
)


# FastAPI's native OpenTelemetry (request spans, metrics, logs) stays off unless tracing is
# switched on: when on, it checks the global providers on every request.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Opens what the app uses (database, probe, rate limiter, tracing, metrics), then closes it."""
    settings: Settings = app.state.settings
    tracing = app.state.tracing
    metrics = app.state.metrics
    _warn_about(settings)
    app.state.tokens.load()  # generate the development key now, not mid-request
    app.state.database = Database(create_engine(settings))
    _listen_to_commits(app, settings)
    if tracing is not None:
        tracing.start(app.state.database.engine)
    if metrics is not None:
        metrics.open(app.state.database.engine)
    app.state.background = BackgroundWrites()
    if app.state.cache is not None:
        await app.state.cache.open()
    await app.state.ratelimiter.open()
    await app.state.broker.open()
    await app.state.live_slots.open()
    if settings.server.freeze_gc:
        # Everything built so far (the app, its routes, models, SQLAlchemy's metadata and
        # caches) lives as long as the process: freezing it spares each full collection
        # from walking it again. Under load that walk showed as 50-70 ms p99 spikes.
        gc.freeze()
    # Postgres: a probe notices a database that stops answering (core/db_watch.py).
    db = settings.database
    # The probe's task keeps the context it starts in: untraced, so no span every second.
    with tracing.untraced() if tracing is not None else nullcontext():
        watch = watch_database(
            app.state.database.engine, interval=db.probe_interval, timeout=db.probe_timeout
        )
    relay = app.state.relay = _start_relay(app.state.database, settings, app.state.event_handlers)
    try:
        with draining_on_signals(app.state.lifecycle, settings.drain_seconds):
            yield
    finally:
        if settings.server.freeze_gc:
            gc.unfreeze()
        if relay is not None:
            await relay.stop(settings.server.shutdown_grace_seconds)
        await app.state.background.drain()
        await app.state.ratelimiter.close()
        await app.state.live_slots.close()
        await app.state.broker.close()
        if app.state.cache is not None:
            await app.state.cache.close()
        if watch is not None:
            await watch.stop()
        await app.state.database.dispose()
        if tracing is not None:
            tracing.stop()
        if metrics is not None:
            metrics.close()


def _warn_about(settings: Settings) -> None:
    """Log what is fine for development but not for production."""
    if settings.has_generated_secret():
        logger.warning(
            "no PRESSROOM_AUTH__JWT_SECRET set: using a generated key kept in %s "
            "(fine for development, refused in production)",
            settings.data_dir,
        )
    for warning in mail_warnings(settings):
        logger.warning(warning)


def _listen_to_commits(app: FastAPI, settings: Settings) -> None:
    """What happens after a commit that recorded outbox events (besides waking the relay)."""
    database: Database = app.state.database
    # What the outbox relay calls for each event kind (mails ...): see jobs.py.
    app.state.event_handlers = event_handlers(settings, database)
    if app.state.cache is not None:
        # Every commit bumps the cache versions of what it changed (core/cache/versions.py).
        database.commit_listeners.append(app.state.cache.invalidate)
    # Live updates: each committed article or comment event goes to every worker's streams.
    live = LiveService(LiveReads(database.engine), app.state.broker, settings.live)
    database.commit_listeners.append(live.publish)


def _start_relay(database: Database, settings: Settings, handlers: Handlers) -> Relay | None:
    """The outbox relay of this process, unless `pressroom worker` processes deliver."""
    if settings.outbox.relay is not RelayMode.IN_PROCESS:
        return None
    relay = Relay(database, handlers, settings.outbox)
    # Woken by each commit that recorded events, so delivery follows the request at once.
    database.commit_listeners.append(relay.on_commit)
    relay.start()
    return relay


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    tracing = None
    if settings.tracing.enabled:  # imported only when on: OpenTelemetry's SDK costs nothing off
        from pressroom.core.observability.tracing import Tracing

        tracing = Tracing(settings)

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=docs.openapi_url(settings.docs_mode),
        # Operation ids are the route functions' names: `get_articles_feed`, `follow_user`.
        generate_unique_id_function=lambda route: route.name,
        telemetry=tracing.fastapi_telemetry() if tracing is not None else TELEMETRY_OFF,
        debug=settings.debug and not settings.is_production,
    )
    app.state.settings = settings
    app.state.tracing = tracing
    # Draining and closing after SIGTERM: /readyz reads it, long-lived streams wait on it.
    app.state.lifecycle = Lifecycle()
    app.state.tokens = Tokens(settings)
    app.state.passwords = Passwords(settings.auth)
    # Redis, when configured, is connected in the lifespan (`open`), never here.
    app.state.ratelimiter = RateLimiter(settings)
    # Live updates between workers: Redis pub/sub when configured (core/broker.py).
    app.state.broker = create_broker(settings)
    # Caps on live streams: counted in Redis across workers when configured (live/slots.py).
    app.state.live_slots = create_stream_slots(settings)
    # The exports this process streams: one per user, `exports.max_per_worker` in all.
    app.state.exports = ExportGate(settings.exports.max_per_worker)

    # Each router is included once, directly: FastAPI matches nested includes level by level,
    # which costs every request. The most requested routes come first.
    routers = (
        articles_router,
        comments_router,
        profiles_router,
        tags_router,
        users_router,
        admin_router,
        apikeys_router,
        live_router,
        exports_router,
    )
    for router in (*routers, auth_router, recovery_router):
        app.include_router(router, prefix="/api")

    install_error_handlers(app)
    docs.install_docs(app, TITLE, settings.docs_mode)
    install_health(app, settings)
    # Prometheus metrics (/metrics behind a token, or a port of their own): core/metrics.
    metrics = app.state.metrics = install_metrics(app, settings)
    auth_openapi.install(app)
    exports_openapi.install(app)
    # Cached reads and ETags (core/cache), inside the rate limits and the hardening layer.
    app.state.cache = create_cache(settings)
    app.add_middleware(CachedReads, cache=app.state.cache)
    if settings.rate_limit.enabled:
        app.add_middleware(RateLimitMiddleware, limiter=app.state.ratelimiter)
    # HTTP hardening (request ids, security headers, CORS, trusted hosts, gzip, body limits)
    # wraps the whole app, outside Starlette's error middleware: see core/hardening.py.
    install_http_hardening(app, settings, metrics.requests if metrics is not None else None)
    return app
