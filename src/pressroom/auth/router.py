"""OAuth2 tokens (password and refresh grants), logout, and the caller's sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import Response

from pressroom.auth import schemas
from pressroom.auth.dependencies import (
    SessionCaller,
    SessionServiceDep,
    client_of,
)
from pressroom.auth.errors import InvalidCredentialsGrant, InvalidGrant, UnsupportedGrantType
from pressroom.auth.rate_limits import LoginThrottleDep
from pressroom.auth.service import Grant, Reused
from pressroom.core.errors import InvalidCredentials, error_responses
from pressroom.core.models import isoformat
from pressroom.core.responses import json_response
from pressroom.users.dependencies import LoginServiceDep
from pressroom.users.errors import AccountSuspended

router = APIRouter(prefix="/auth", tags=["auth"])

FormText = Annotated[str | None, Form(max_length=4096)]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Session ids are `secrets.token_urlsafe(16)`: anything else is a 422, never a database query
# (Postgres refuses NUL characters in text with an error, which would be a 500).
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"


def _token(grant: Grant) -> Response:
    body = {
        "access_token": grant.access_token,
        "token_type": "bearer",
        "expires_in": grant.expires_in,
        "refresh_token": grant.refresh_token,
        "scope": " ".join(sorted(grant.scopes)),
    }
    return json_response(body, headers=_NO_STORE)


async def _refresh(sessions: SessionServiceDep, refresh_token: str | None) -> Response:
    if not refresh_token:
        raise InvalidGrant(field="refresh_token", message="can't be blank")
    outcome = await sessions.refresh(refresh_token)
    if isinstance(outcome, Reused):
        # Answered, not raised: the transaction commits, so the session stays revoked.
        error = InvalidGrant()
        return json_response(error.body(), status_code=error.status_code, headers=_NO_STORE)
    return _token(outcome)


@router.post(
    "/token",
    summary="OAuth2 token endpoint: password and refresh_token grants",
    response_model=schemas.TokenResponse,
    responses=error_responses(400, 422, 429),
)
async def issue_token(
    request: Request,
    logins: LoginServiceDep,
    sessions: SessionServiceDep,
    throttle: LoginThrottleDep,
    grant_type: Annotated[str, Form(max_length=32)],
    username: FormText = None,
    password: FormText = None,
    scope: Annotated[str | None, Form(max_length=255)] = None,
    refresh_token: FormText = None,
) -> Response:
    """`username` is an email or a username. The access token is short-lived; use the refresh
    token (once) at `/api/auth/refresh` for a new pair."""
    if grant_type == "refresh_token":
        return await _refresh(sessions, refresh_token)
    if grant_type != "password":
        raise UnsupportedGrantType()
    if not username or not password:
        raise InvalidCredentialsGrant()
    attempts_key = await logins.login_key(username)
    await throttle.before_check(request, attempts_key)
    try:
        user = await logins.authenticate(username, password)
    except InvalidCredentials:
        raise InvalidCredentialsGrant() from None
    except AccountSuspended:
        raise InvalidGrant(field="account", message="is suspended") from None
    await throttle.succeeded(attempts_key)
    return _token(await sessions.start_oauth(user, scope, client_of(request)))


@router.post(
    "/refresh",
    summary="Trade a refresh token (usable once) for a new access and refresh token",
    response_model=schemas.TokenResponse,
    responses=error_responses(400, 422),
)
async def refresh_token(
    sessions: SessionServiceDep,
    refresh_token: Annotated[str, Form(max_length=4096)],
    grant_type: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    """Presenting a refresh token a second time revokes its whole session: a used token is
    taken as stolen. Clients must not refresh one session from two places at once."""
    if grant_type not in (None, "refresh_token"):
        raise UnsupportedGrantType()
    return await _refresh(sessions, refresh_token)


@router.post(
    "/logout",
    summary="End the session of the token used",
    status_code=204,
    responses=error_responses(401, 403),
)
async def logout(caller: SessionCaller, sessions: SessionServiceDep) -> Response:
    assert caller.session_id is not None
    await sessions.end(caller.session_id)
    return Response(status_code=204)


@router.post(
    "/logout-all",
    summary="Log out everywhere: end every session of the caller, this one included",
    status_code=204,
    responses=error_responses(401, 403),
)
async def logout_everywhere(caller: SessionCaller, sessions: SessionServiceDep) -> Response:
    await sessions.end_all(caller.id)
    return Response(status_code=204)


@router.get(
    "/sessions",
    summary="The caller's live sessions",
    response_model=schemas.SessionsResponse,
    responses=error_responses(401, 403),
)
async def list_sessions(caller: SessionCaller, sessions: SessionServiceDep) -> Response:
    rows = await sessions.live(caller.id)
    return json_response(
        {
            "sessions": [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "createdAt": isoformat(row.created_at),
                    "lastSeenAt": isoformat(row.last_seen_at),
                    "expiresAt": isoformat(row.expires_at),
                    "userAgent": row.user_agent,
                    "ip": row.ip,
                    "scopes": row.scopes.split(),
                    "current": row.id == caller.session_id,
                }
                for row in rows
            ]
        }
    )


@router.delete(
    "/sessions/{session_id}",
    summary="Revoke one of the caller's sessions",
    status_code=204,
    responses=error_responses(401, 403, 404, 422),
)
async def revoke_session(
    session_id: Annotated[str, Path(max_length=64, pattern=SESSION_ID_PATTERN)],
    caller: SessionCaller,
    sessions: SessionServiceDep,
) -> Response:
    await sessions.end_owned(caller.id, session_id)
    return Response(status_code=204)
