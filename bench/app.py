"""The benchmarked server: Pressroom as deployed, plus the floor on the same process.

    uvicorn --factory --app-dir bench app:create_app

The floor is a bare Starlette endpoint, `GET /__floor/{size}`, that returns `size` bytes of
JSON built once and cached: the same server, event loop and HTTP stack as Pressroom, without
Pressroom's routing, validation, dependencies, database or serialisation. Requests under
`/__floor/` never reach Pressroom's middleware either, so the floor is what uvicorn and
Starlette alone cost for a response of that size.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pressroom.core.observability.logs import configure_logging
from pressroom.core.settings import Settings
from pressroom.main import create_app as create_pressroom

FLOOR_PREFIX = "/__floor/"
MAX_FLOOR_BYTES = 4 * 1024 * 1024
_ENVELOPE = len(b'{"a":""}')


def floor_body(size: int) -> bytes:
    """Exactly `size` bytes of valid JSON."""
    if size < _ENVELOPE:
        return b"1" * size
    return b'{"a":"' + b"x" * (size - _ENVELOPE) + b'"}'


def create_floor() -> Starlette:
    bodies: dict[int, bytes] = {}

    async def floor(request: Request) -> Response:
        size: int = request.path_params["size"]
        body = bodies.get(size)
        if body is None:
            if not 0 < size <= MAX_FLOOR_BYTES:
                return Response(status_code=404)
            body = bodies[size] = floor_body(size)
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/__floor/{size:int}", floor)])


def create_app() -> ASGIApp:
    """Settings come from the environment (PRESSROOM_*), as in `pressroom serve`.

    Logging is set up as `pressroom serve` sets it up (JSON lines in production, one access
    line per request into the server's log file), so its cost is part of every measurement.
    """
    settings = Settings()
    configure_logging(settings)
    pressroom = create_pressroom(settings)
    floor = create_floor()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(FLOOR_PREFIX):
            await floor(scope, receive, send)
        else:  # everything else, the lifespan included, is Pressroom's
            await pressroom(scope, receive, send)

    return app
