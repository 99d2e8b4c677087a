"""The error tree and the one renderer that turns every failure into the Conduit envelope."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pressroom.core.observability.failures import log_unexpected
from pressroom.core.request_ids import current_request_id
from pressroom.core.responses import json_response

logger = logging.getLogger("pressroom.errors")

AUTH_CHALLENGE = 'Token realm="pressroom", Bearer realm="pressroom"'


class ErrorEnvelope(BaseModel):
    """`{"errors": {"<field or topic>": ["message", ...]}}`"""

    errors: dict[str, list[str]]


class AppError(Exception):
    status_code: ClassVar[int] = 400
    field: ClassVar[str] = "request"
    message: ClassVar[str] = "is invalid"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.errors: dict[str, list[str]] = {
            field or self.field: [message or self.message],
        }
        super().__init__(self.errors)

    @property
    def headers(self) -> dict[str, str] | None:
        return None

    def body(self) -> dict[str, Any]:
        return envelope(self.errors)


class Unauthorized(AppError):
    status_code = 401
    field = "token"
    message = "is missing"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": AUTH_CHALLENGE}


class InvalidToken(Unauthorized):
    message = "is invalid"


class InvalidCredentials(Unauthorized):
    field = "credentials"
    message = "invalid"


class Forbidden(AppError):
    status_code = 403
    message = "forbidden"


class InsufficientScope(Forbidden):
    """Authenticated, but the credential lacks a scope the route needs (RFC 6750)."""

    field = "scope"

    def __init__(self, missing: Sequence[str], *, message: str | None = None) -> None:
        self.missing = " ".join(missing)
        super().__init__(message or f"requires {self.missing}")

    @property
    def headers(self) -> dict[str, str]:
        challenge = 'Bearer realm="pressroom", error="insufficient_scope"'
        return {
            "WWW-Authenticate": f'{challenge}, scope="{self.missing}"'
            if self.missing
            else challenge
        }


class NotFound(AppError):
    status_code = 404
    message = "not found"


class Conflict(AppError):
    status_code = 409
    message = "has already been taken"

    def __init__(self, fields: Iterable[str]) -> None:
        super().__init__()
        self.errors = {name: [self.message] for name in fields}


class Unprocessable(AppError):
    status_code = 422
    message = "is invalid"


class RetryLater(AppError):
    """A refusal that says when to come back: `Retry-After` seconds."""

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyRequests(RetryLater):
    status_code = 429
    field = "rate_limit"
    message = "too many requests, retry later"


class ServiceUnavailable(AppError):
    status_code = 503
    field = "service"
    message = "temporarily unavailable, retry shortly"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


class BodyRejected(StarletteHTTPException):
    """A request body refused while it streams in (too large, too slow, nested too deeply).

    An HTTPException, not an AppError: FastAPI turns any other error raised while it reads a
    body into a 400, but lets HTTPExceptions through to their handler.
    """

    def __init__(self, status_code: int, message: str, *, close: bool = False) -> None:
        # After a refused body the rest of it may still be on the wire: end the connection.
        super().__init__(status_code, message, {"Connection": "close"} if close else None)
        self.message = message


def envelope(errors: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    return {"errors": {key: list(messages) for key, messages in errors.items()}}


def error_response(
    status_code: int, errors: Mapping[str, Sequence[str]], headers: Mapping[str, str] | None = None
) -> Response:
    return json_response(envelope(errors), status_code=status_code, headers=headers)


_TOO_SHORT = frozenset({"string_too_short", "too_short"})
_TOO_LONG = frozenset({"string_too_long", "too_long"})
_HTTP_TOPICS = {
    # FastAPI answers 400 when a body cannot be parsed at all (nesting too deep, a number
    # too long): for a client that is the same mistake as malformed JSON, so the same 422.
    400: ("body", "is not valid JSON"),
    401: ("token", "is missing"),
    403: ("request", "forbidden"),
    404: ("route", "not found"),
    405: ("method", "not allowed"),
    413: ("body", "too large"),
}


def _validation_field(loc: Sequence[int | str]) -> str:
    """The innermost named part: ("body", "user", "email") -> "email"."""
    names = [part for part in loc if isinstance(part, str)]
    return names[-1] if names else "body"


def _validation_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    value = error.get("input")
    if kind == "json_invalid":
        return "is not valid JSON"
    loc = tuple(error.get("loc", ()))
    explicit_null = value is None and bool(loc) and isinstance(loc[-1], str)
    blank = value is None or (isinstance(value, str) and not value.strip())
    if kind == "missing" or explicit_null or (kind in _TOO_SHORT and blank):
        return "can't be blank"
    if kind in _TOO_SHORT | _TOO_LONG and isinstance(value, str | list):
        # Pydantic says "Value should have at least 8 items after validation" for a
        # constrained string type; say it the way Conduit clients show it.
        unit = "characters" if isinstance(value, str) else "items"
        ctx = error.get("ctx") or {}
        if kind in _TOO_SHORT and "min_length" in ctx:
            return f"is too short (minimum is {ctx['min_length']} {unit})"
        if kind in _TOO_LONG and "max_length" in ctx:
            return f"is too long (maximum is {ctx['max_length']} {unit})"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for error in errors:
        field = _validation_field(tuple(error.get("loc", ())))
        message = _validation_message(error)
        bucket = result.setdefault(field, [])
        if message not in bucket:
            bucket.append(message)
    return result or {"body": ["is invalid"]}


async def _app_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return json_response(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, validation_errors(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, BodyRejected):
        return error_response(exc.status_code, {"body": [exc.message]}, exc.headers)
    field, message = _HTTP_TOPICS.get(exc.status_code, ("request", str(exc.detail).lower()))
    status_code = 422 if exc.status_code == 400 else exc.status_code
    if exc.status_code == 401:
        headers = {"WWW-Authenticate": AUTH_CHALLENGE, **(exc.headers or {})}
    else:
        headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return error_response(status_code, {field: [message]}, headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to: the router's own `Allow` names only the first route
    that matched the path (`POST /api/user` would say `GET`, not `GET, PUT`)."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(f"{root}/"):
        path = path.removeprefix(root)
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    return _app_error_response(ServiceUnavailable(field="database"))


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or _is_connection_failure(exc):
        return await _database_unavailable(request, exc)
    return await _unexpected(request, exc)


def _is_connection_failure(exc: DBAPIError) -> bool:
    names = {type(exc.orig).__name__, type(getattr(exc.orig, "__cause__", None)).__name__}
    return bool(
        names
        & {
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "ConnectionRefusedError",
            "CannotConnectNowError",
            "TooManyConnectionsError",
            "QueryCanceledError",
            "TimeoutError",
            # Transient conflicts between transactions: retrying the request succeeds.
            "SerializationError",
            "DeadlockDetectedError",
        }
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log_unexpected(request.scope, exc)
    return internal_error(current_request_id())


def internal_error(request_id: str | None) -> Response:
    # Nothing about the failure itself: the id finds it in the logs.
    return error_response(500, {"server": [f"internal error (request id {request_id})"]})


def _app_error_response(exc: AppError) -> Response:
    return error_response(exc.status_code, exc.errors, exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(TimeoutError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given error codes, all with the envelope schema."""
    descriptions = {
        400: "OAuth2 error: the envelope, plus `error` and `error_description` (RFC 6749)",
        401: "Missing or invalid credentials",
        403: "Authenticated but not allowed",
        404: "Not found",
        409: "Already taken",
        422: "Validation failed",
        429: "Rate limit reached",
    }
    return {
        code: {"model": ErrorEnvelope, "description": descriptions.get(code, "Error")}
        for code in codes
    }
