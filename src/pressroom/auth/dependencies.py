"""Who is calling: `Token <jwt>` or `Bearer <jwt>` in `Authorization`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from pressroom.auth.passwords import Passwords
from pressroom.auth.tokens import Tokens
from pressroom.core.errors import InvalidToken, Unauthorized
from pressroom.users.repository import UserReads
from pressroom.users.views import AccountView

_SCHEMES = frozenset({"token", "bearer"})


class Caller:
    """The authenticated user's account and the token they presented."""

    __slots__ = ("account", "token")

    def __init__(self, account: AccountView, token: str) -> None:
        self.account = account
        self.token = token

    @property
    def id(self) -> int:
        return self.account.id


class ConduitToken(SecurityBase):
    """The caller, from `Authorization: Token <jwt>` (or `Bearer <jwt>`).

    A security dependency, documented as HTTP bearer so Swagger UI's Authorize can send a
    token. It reads the header and looks the user up in one step: each dependency FastAPI
    solves costs every request.
    """

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="Paste the `token` from login or registration. "
            "Conduit clients send `Authorization: Token <jwt>`; `Bearer <jwt>` works too.",
        )
        self.scheme_name = "ConduitToken"

    async def resolve(self, request: Request) -> Caller | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in _SCHEMES or not token or " " in token:
            raise InvalidToken()
        state = request.app.state
        tokens: Tokens = state.tokens
        # Read without a session: a GET stays free of transactions.
        account = await UserReads(state.database.reader).account(tokens.user_id(token))
        if account is None:
            raise InvalidToken()
        return Caller(account, token)


class OptionalConduitToken(ConduitToken):
    async def __call__(self, request: Request) -> Caller | None:
        return await self.resolve(request)


class RequiredConduitToken(ConduitToken):
    async def __call__(self, request: Request) -> Caller:
        caller = await self.resolve(request)
        if caller is None:
            raise Unauthorized()
        return caller


optional_caller = OptionalConduitToken()
current_caller = RequiredConduitToken()
OptionalCaller = Annotated[Caller | None, Depends(optional_caller)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]


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
