"""The HTTP hardening layers, wrapped around the whole app.

They sit outside Starlette's ServerErrorMiddleware, so that every answer, a 500 included,
carries the request id, the security headers and the CORS headers. Outermost first:

    request id -> security headers -> CORS -> trusted hosts -> gzip -> request body limits
    -> (Starlette: server errors -> app middlewares -> exception handlers -> routes)
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from pressroom.core.compression import GZipWhenAccepted
from pressroom.core.docs import docs_pages
from pressroom.core.request_body import RequestBodyMiddleware
from pressroom.core.request_ids import RequestIdMiddleware
from pressroom.core.security_headers import SecurityHeadersMiddleware
from pressroom.core.settings import Settings
from pressroom.core.trusted_hosts import TrustedHosts


def install_http_hardening(app: FastAPI, settings: Settings) -> None:
    build_app_stack = app.build_middleware_stack

    def build() -> ASGIApp:
        return harden(build_app_stack(), settings)

    # Starlette builds the stack on the first request, after every add_middleware().
    app.build_middleware_stack = build  # type: ignore[method-assign]


def harden(app: ASGIApp, settings: Settings) -> ASGIApp:
    security = settings.security
    app = RequestBodyMiddleware(
        app,
        max_bytes=security.max_body_bytes,
        timeout=security.body_timeout,
        max_json_depth=security.max_json_depth,
    )
    app = GZipWhenAccepted(app, minimum_size=security.gzip_minimum_bytes)
    if "*" not in settings.allowed_hosts:
        app = TrustedHosts(app, settings.allowed_hosts)
    if origins := settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=settings.cors.allow_credentials,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Requested-With"],
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    app = SecurityHeadersMiddleware(
        app, hsts_max_age=security.hsts_max_age, docs_paths=docs_pages(settings.docs_mode)
    )
    return RequestIdMiddleware(app)
