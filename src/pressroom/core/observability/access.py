"""The access log: one line per request, written when the answer is complete.

`core.hardening.HttpGuard` times each request and calls `AccessLog.record` at its end; the
auth dependency leaves the caller's id in the request scope (`remember_user`). Routing leaves
the matched route in `scope["route"]`, so the line names the route template
(`/api/articles/{slug}`), which groups requests where raw paths would not.
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any
from weakref import WeakKeyDictionary

import structlog
from fastapi.routing import iter_route_contexts
from starlette.types import Scope

LOGGER = "pressroom.access"
USER_ID = "user_id"
# An unmatched path is the client's text: logged only this far.
MAX_PATH = 200


def remember_user(scope: Scope, user_id: int) -> None:
    """Note who is calling, for the access line (the scope outlives the dependency)."""
    scope.setdefault("state", {})[USER_ID] = user_id


def route_of(scope: Scope) -> str | None:
    """The template of the route that matched, if one did, with its router's prefix."""
    route = scope.get("route")
    if route is None:
        return None
    app = scope.get("app")
    templates = _templates.get(app) if app is not None else None
    if templates is None or id(route) not in templates:
        templates = _route_templates(app)
    template = templates.get(id(route))
    return template if template is not None else getattr(route, "path", None)


# FastAPI matches an included router's routes in place: `scope["route"]` is the route as its
# router declared it (`/articles/{slug}`), without the prefix it was included under (`/api`).
# The application's route contexts know the full template: read them once per application.
_templates: WeakKeyDictionary[Any, dict[int, str]] = WeakKeyDictionary()


def _route_templates(app: Any) -> dict[int, str]:
    templates: dict[int, str] = {}
    for context in iter_route_contexts(getattr(app, "routes", ())):
        if context.path_format is not None:
            templates.setdefault(id(context.original_route), context.path_format)
    if app is not None:
        _templates[app] = templates
    return templates


def server_timing(started: float) -> tuple[bytes, bytes]:
    """`Server-Timing: app;dur=<ms>`: the time from the request's arrival to this answer."""
    return b"server-timing", b"app;dur=%.2f" % ((perf_counter() - started) * 1000)


class AccessLog:
    def __init__(self) -> None:
        # Bound at the first line, once logging is configured: a bound logger skips the lazy
        # proxy's lookup on every call.
        self.logger: Any = None

    def record(self, scope: Scope, status: int, started: float) -> None:
        duration_ms = round((perf_counter() - started) * 1000, 2)
        route = route_of(scope)
        client = scope.get("client")
        fields: dict[str, Any] = {
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": scope.get("state", {}).get(USER_ID),
            "client": client[0] if client else None,
        }
        if route is None:
            fields["path"] = scope["path"][:MAX_PATH]
        if self.logger is None:
            self.logger = (
                structlog.get_logger(LOGGER).bind()
                if structlog.is_configured()
                else _StandardRecords()
            )
        self.logger.info("request", **fields)


class _StandardRecords:
    """Until the pipeline is configured (tests, an app embedding Pressroom), access lines are
    standard-library records, which that logging setup shows or drops: structlog's default
    would print them."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(LOGGER)

    def info(self, event: str, **fields: Any) -> None:
        self.logger.info(event, extra=fields)
