"""An unexpected exception is logged once, with its stack and the request id.

Starlette's error middleware hands it to the 500 handler (`core.errors`), which logs it here,
then raises it again for the server to log; `core.hardening.HttpGuard` stops it there, so
uvicorn never logs it a second time. An exception that escapes every handler (a middleware's
own failure) is logged by `HttpGuard` through the same function.
"""

from __future__ import annotations

import logging

from starlette.types import Scope

from pressroom.core.observability.access import MAX_PATH, route_of

logger = logging.getLogger("pressroom.errors")
LOGGED = "logged_exception"


def log_unexpected(scope: Scope, exc: BaseException) -> None:
    state = scope.setdefault("state", {})
    if state.get(LOGGED) is exc:
        return
    state[LOGGED] = exc
    route = route_of(scope)
    where = {"method": scope.get("method"), "route": route}
    if route is None:
        where["path"] = scope.get("path", "")[:MAX_PATH]
    logger.error("unhandled %s", type(exc).__name__, exc_info=exc, extra=where)
