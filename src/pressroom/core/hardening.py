"""The HTTP hardening layer, wrapped around the whole app.

It sits outside Starlette's ServerErrorMiddleware, so that every answer, a 500 included,
carries the request id, the security headers and the CORS headers. In effect, outermost first:

    request id -> security headers -> CORS -> trusted hosts -> gzip -> request body limits
    -> (Starlette: server errors -> app middlewares -> exception handlers -> routes)

One pass over the request head decides which of those a request needs, and it goes through
only those: a plain GET (no `Origin`, no gzip, no body) crosses a single layer. Each ASGI layer
costs every request a few microseconds, which a chain of six made a tenth of an article read.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pressroom.core.docs import docs_pages
from pressroom.core.errors import error_response, internal_error
from pressroom.core.observability.access import AccessLog, server_timing
from pressroom.core.observability.failures import log_unexpected
from pressroom.core.request_body import RequestBodyMiddleware
from pressroom.core.request_ids import HEADER as REQUEST_ID
from pressroom.core.request_ids import request_id_from, request_id_var
from pressroom.core.security_headers import (
    CREDENTIAL_HEADERS,
    SecurityHeaders,
    with_security_headers,
)
from pressroom.core.settings import Settings
from pressroom.core.trusted_hosts import TrustedHosts

if TYPE_CHECKING:
    from pressroom.core.metrics.requests import RequestMetrics

# Level 6 (zlib's default): most of level 9's saving on JSON for a fraction of its CPU.
GZIP_LEVEL = 6


def install_http_hardening(
    app: FastAPI, settings: Settings, metrics: RequestMetrics | None = None
) -> None:
    build_app_stack = app.build_middleware_stack

    def build() -> ASGIApp:
        return HttpGuard(build_app_stack(), settings, metrics)

    # Starlette builds the stack on the first request, after every add_middleware().
    app.build_middleware_stack = build  # type: ignore[method-assign]


class HttpGuard:
    def __init__(
        self, app: ASGIApp, settings: Settings, metrics: RequestMetrics | None = None
    ) -> None:
        security = settings.security
        self.app = app
        self.metrics = metrics
        self.headers = SecurityHeaders(
            hsts_max_age=security.hsts_max_age, docs_paths=docs_pages(settings.docs_mode)
        )
        hosts = settings.allowed_hosts
        self.hosts = None if "*" in hosts else TrustedHosts(hosts)
        body = RequestBodyMiddleware(
            app,
            max_bytes=security.max_body_bytes,
            timeout=security.body_timeout,
            max_json_depth=security.max_json_depth,
        )
        layers = _Layers(settings)
        # [has a body][accepts gzip][sent an Origin]: the layers each kind of request needs.
        self.chains: list[list[list[ASGIApp]]] = [
            [[layers.around(inner, gzip=gzip, cors=cors) for cors in (False, True)]
             for gzip in (False, True)]
            for inner in (app, body)
        ]  # fmt: skip
        refusal = error_response(400, {"host": ["is not allowed"]})
        self.host_refusal: list[ASGIApp] = [refusal, layers.around(refusal, gzip=False, cors=True)]
        self.access = AccessLog() if settings.logging.access_log else None

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """WebSockets and lifespan: request ids, security headers, CORS, gzip and body limits
        are HTTP matters. A WebSocket to a host not allowed is refused (a 403 handshake)."""
        hosts = self.hosts if scope["type"] == "websocket" else None
        if hosts is not None and not hosts.allows(dict(scope["headers"]).get(b"host")):
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        await self.app(scope, receive, send)

    # One function on purpose: each call on this path costs every request.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0912
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        metrics = self.metrics
        started = metrics.start() if metrics is not None else perf_counter()
        status = 0  # until a response starts: metrics count 0 (nothing answered) as 5xx
        incoming = host = None
        personal = origin = gzip = has_body = False
        for name, value in scope["headers"]:
            if name == REQUEST_ID:
                incoming = value
            elif name in CREDENTIAL_HEADERS:
                personal = True
            elif name == b"origin":
                origin = True
            elif name == b"accept-encoding":
                gzip = b"gzip" in value.lower()
            elif name == b"host":
                host = value
            elif name == b"content-length":
                has_body = has_body or value != b"0"
            elif name == b"transfer-encoding":
                has_body = True
        raw_id = request_id_from(incoming)
        request_id = raw_id.decode("ascii")
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [
            (REQUEST_ID, raw_id),
            *self.headers.for_request(
                scope["path"],
                scope.get("root_path", ""),
                https=scope.get("scheme") == "https",
                personal=personal,
            ),
        ]

        async def send_guarded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_security_headers(
                    message.get("headers", ()), [*extra, server_timing(started)], personal=personal
                )
            await send(message)

        token = request_id_var.set(request_id)
        try:
            if self.hosts is not None and not self.hosts.allows(host):
                await self.host_refusal[origin](scope, receive, send_guarded)
                return
            await self.chains[has_body][gzip][origin](scope, receive, send_guarded)
        except Exception as exc:
            # Logged here (or already by the 500 handler) and answered: not raised on to the
            # server, which would log it a second time.
            log_unexpected(scope, exc)
            if not status:
                await internal_error(request_id)(scope, receive, send_guarded)
        finally:
            if self.access is not None:
                self.access.record(scope, status, started)
            request_id_var.reset(token)
            if metrics is not None:
                metrics.end(scope, status, started)


class _Layers:
    """Builds the optional layers around an app, as settings configure them."""

    def __init__(self, settings: Settings) -> None:
        self.gzip_minimum = settings.security.gzip_minimum_bytes
        self.origins = settings.cors_origins
        self.credentials = settings.cors.allow_credentials

    def around(self, app: ASGIApp, *, gzip: bool, cors: bool) -> ASGIApp:
        if gzip:
            app = GZipMiddleware(app, minimum_size=self.gzip_minimum, compresslevel=GZIP_LEVEL)
        if cors and self.origins:
            # Starlette's CORS does nothing for a request without `Origin`: those skip it.
            app = CORSMiddleware(
                app,
                allow_origins=self.origins,
                allow_credentials=self.credentials,
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Requested-With", "X-API-Key"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            )
        return app
