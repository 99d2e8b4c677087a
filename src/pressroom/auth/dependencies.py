"""Who is calling, and what they may do.

Credentials, in order: `Authorization: Token <jwt>` or `Bearer <jwt>` (an access token bound
to a server-side session), else `X-API-Key: prk_...`. Every request checks the session or key
against the database, so a revocation is seen by the next request on every worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.openapi.models import OAuthFlowPassword, OAuthFlows
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from pressroom.apikeys import secrets as api_key_secrets
from pressroom.apikeys.repository import ApiKeyReads, ApiKeyRepository
from pressroom.auth import scopes as scope_names
from pressroom.auth.passwords import Passwords
from pressroom.auth.repository import SessionReads, SessionRepository
from pressroom.auth.service import Client, SessionService
from pressroom.auth.tokens import Tokens
from pressroom.core.background import BackgroundWrites
from pressroom.core.db import Database, SessionDep
from pressroom.core.errors import InsufficientScope, InvalidToken, Unauthorized
from pressroom.core.models import utcnow
from pressroom.core.observability.access import remember_user
from pressroom.core.reads import Record
from pressroom.core.settings import Settings
from pressroom.users.views import AccountView

_SCHEMES = frozenset({"token", "bearer"})
TOKEN_URL = "/api/auth/token"  # noqa: S105 (a path, not a secret)
REFRESH_URL = "/api/auth/refresh"


class Caller:
    """The authenticated account, the credential presented and what it grants."""

    __slots__ = ("account", "api_key_id", "role", "scopes", "session_id", "token")

    def __init__(
        self,
        account: AccountView,
        token: str,
        *,
        role: str,
        scopes: frozenset[str],
        session_id: str | None = None,
        api_key_id: int | None = None,
    ) -> None:
        self.account = account
        self.token = token
        self.role = role
        self.scopes = scopes
        self.session_id = session_id
        self.api_key_id = api_key_id

    @property
    def id(self) -> int:
        return self.account.id


def _account(row: Record) -> AccountView:
    return AccountView(row["id"], row["username"], row["email"], row["bio"], row["image"])


class CallerScheme(SecurityBase):
    """A security dependency, documented as OAuth2 (password flow) with its scopes.

    It reads the headers and looks up the session or key in one step: each dependency FastAPI
    solves costs every request. The Conduit `Token` scheme and API keys are listed as
    alternatives in the OpenAPI document by `core.docs`.
    """

    def __init__(self) -> None:
        self.model = OAuth2Model(
            flows=OAuthFlows(
                password=OAuthFlowPassword(
                    tokenUrl=TOKEN_URL, refreshUrl=REFRESH_URL, scopes=scope_names.DESCRIPTIONS
                )
            ),
            description="Log in with email (or username) and password; the access token is "
            "sent as `Authorization: Bearer <token>`.",
        )
        self.scheme_name = "OAuth2"

    async def resolve(self, request: Request) -> Caller | None:
        headers = request.headers
        header = headers.get("authorization")
        key = headers.get("x-api-key") if header is None else None
        if header is not None:
            caller = await self._from_token(request, header)
        elif key is not None:
            caller = await self._from_api_key(request, key)
        else:
            return None
        remember_user(request.scope, caller.id)
        return caller

    async def _from_token(self, request: HTTPConnection, header: str) -> Caller:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in _SCHEMES or not token or " " in token:
            raise InvalidToken()
        state = request.app.state
        tokens: Tokens = state.tokens
        claims = tokens.verify(token)
        now = utcnow()
        # Read without a session: a GET stays free of transactions.
        row = await SessionReads(state.database.reader).caller(
            claims.session_id, claims.user_id, now
        )
        if row is None:
            raise InvalidToken()
        if _stale(row["last_seen_at"], now, state.settings.auth.session_touch_seconds):
            _spawn_touch(request, "session", claims.session_id, now)
        role = row["role"]
        return Caller(
            _account(row),
            token,
            role=role,
            scopes=claims.scopes & scope_names.for_role(role),
            session_id=claims.session_id,
        )

    async def _from_api_key(self, request: Request, presented: str) -> Caller:
        parts = api_key_secrets.split(presented.strip())
        if parts is None:
            raise InvalidToken(field="api_key")
        prefix, secret = parts
        state = request.app.state
        now = utcnow()
        row = await ApiKeyReads(state.database.reader).caller(prefix, now)
        if not api_key_secrets.matches(secret, row["secret_hash"] if row else None):
            raise InvalidToken(field="api_key")
        assert row is not None
        if _stale(row["last_used_at"], now, state.settings.auth.session_touch_seconds):
            _spawn_touch(request, "api_key", row["key_id"], now)
        role = row["role"]
        granted = scope_names.parse(row["scopes"]) & scope_names.for_role(role)
        return Caller(_account(row), "", role=role, scopes=granted, api_key_id=row["key_id"])


def _stale(seen: datetime | None, now: datetime, every_seconds: int) -> bool:
    return seen is None or now - seen >= timedelta(seconds=every_seconds)


def _spawn_touch(request: HTTPConnection, kind: str, ident: Any, now: datetime) -> None:
    database: Database = request.app.state.database
    background: BackgroundWrites = request.app.state.background

    async def touch() -> None:
        async with database.session() as session:
            if kind == "session":
                await SessionRepository(session).touch(ident, now)
            else:
                await ApiKeyRepository(session).touch(ident, now)

    background.spawn(touch())


def _check_scopes(caller: Caller, security_scopes: SecurityScopes) -> Caller:
    missing = [name for name in security_scopes.scopes if name not in caller.scopes]
    if missing:
        raise InsufficientScope(missing)
    return caller


class OptionalCallerScheme(CallerScheme):
    async def __call__(self, request: Request) -> Caller | None:
        return await self.resolve(request)


class RequiredCallerScheme(CallerScheme):
    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Caller:
        caller = await self.resolve(request)
        if caller is None:
            raise Unauthorized()
        return _check_scopes(caller, security_scopes) if security_scopes.scopes else caller


optional_caller = OptionalCallerScheme()
current_caller = RequiredCallerScheme()
OptionalCaller = Annotated[Caller | None, Depends(optional_caller)]
CurrentCaller = Annotated[Caller, Security(current_caller)]
ArticleWriter = Annotated[Caller, Security(current_caller, scopes=[scope_names.ARTICLES_WRITE])]
CommentWriter = Annotated[Caller, Security(current_caller, scopes=[scope_names.COMMENTS_WRITE])]
ProfileWriter = Annotated[Caller, Security(current_caller, scopes=[scope_names.PROFILE_WRITE])]
Admin = Annotated[Caller, Security(current_caller, scopes=[scope_names.ADMIN])]


async def _session_caller(caller: CurrentCaller) -> Caller:
    """A caller holding a session token: API keys cannot manage sessions or keys."""
    if caller.session_id is None:
        raise InsufficientScope([], message="needs a session token, not an API key")
    return caller


SessionCaller = Annotated[Caller, Depends(_session_caller)]


async def get_tokens(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.tokens
    return tokens


async def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


TokensDep = Annotated[Tokens, Depends(get_tokens)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]


# For routes where a token is optional: OpenAPI's empty requirement means "or no credentials".
# FastAPI appends this to the security list it derives from the dependency.
OPTIONAL_AUTH: dict[str, object] = {"security": [{}]}


async def get_session_service(
    request: Request, session: SessionDep, tokens: TokensDep
) -> SessionService:
    settings: Settings = request.app.state.settings
    return SessionService(session, tokens, settings.auth)


SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]


def client_of(request: Request) -> Client:
    """The user agent and address a login came from (the address as the server sees it:
    behind a trusted proxy, uvicorn has already put the client's own there)."""
    host = request.client.host if request.client else None
    return Client(user_agent=request.headers.get("user-agent"), ip=host)


async def caller_from_token(connection: HTTPConnection, token: str) -> Caller:
    """The caller an access token names, for connections without headers to carry it
    (a browser's WebSocket); raises `InvalidToken` like a bad `Authorization` header."""
    caller = await optional_caller._from_token(connection, f"Bearer {token}")
    remember_user(connection.scope, caller.id)
    return caller
