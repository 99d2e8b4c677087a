"""Who is calling: `Token <jwt>` or `Bearer <jwt>` in `Authorization`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from pressroom.auth.passwords import Passwords
from pressroom.auth.tokens import Tokens
from pressroom.core.db import SessionDep
from pressroom.core.errors import InvalidToken, Unauthorized
from pressroom.users.models import User
from pressroom.users.repository import UserRepository

_SCHEMES = frozenset({"token", "bearer"})


class ConduitToken(SecurityBase):
    """Reads the raw token; documented as HTTP bearer so Swagger UI's Authorize can send one."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="Paste the `token` from login or registration. "
            "Conduit clients send `Authorization: Token <jwt>`; `Bearer <jwt>` works too.",
        )
        self.scheme_name = "ConduitToken"

    async def __call__(self, request: Request) -> str | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in _SCHEMES or not token or " " in token:
            raise InvalidToken()
        return token


conduit_token = ConduitToken()
RawToken = Annotated[str | None, Depends(conduit_token)]


async def get_tokens(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.tokens
    return tokens


async def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


TokensDep = Annotated[Tokens, Depends(get_tokens)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]


class Caller:
    """The authenticated user and the token they presented."""

    __slots__ = ("token", "user")

    def __init__(self, user: User, token: str) -> None:
        self.user = user
        self.token = token

    @property
    def id(self) -> int:
        return self.user.id


async def get_optional_caller(
    token: RawToken, tokens: TokensDep, session: SessionDep
) -> Caller | None:
    if token is None:
        return None
    user = await UserRepository(session).get(tokens.user_id(token))
    if user is None:
        raise InvalidToken()
    return Caller(user, token)


async def get_caller(caller: Annotated[Caller | None, Depends(get_optional_caller)]) -> Caller:
    if caller is None:
        raise Unauthorized()
    return caller


OptionalCaller = Annotated[Caller | None, Depends(get_optional_caller)]
CurrentCaller = Annotated[Caller, Depends(get_caller)]


# For routes where a token is optional: OpenAPI's empty requirement means "or no credentials".
# FastAPI appends this to the security list it derives from the dependency.
OPTIONAL_AUTH: dict[str, object] = {"security": [{}]}
