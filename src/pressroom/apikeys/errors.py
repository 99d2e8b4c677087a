"""API key outcomes, in the Pressroom envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pressroom.core.errors import AppError, NotFound, Unprocessable


class ApiKeyNotFound(NotFound):
    """No key with that id among the caller's: another user's key looks exactly like this."""

    field = "apiKey"


class ScopeNotAllowed(Unprocessable):
    """A scope the caller's role cannot hold: a key never grants more than its owner has."""

    field = "scopes"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"not allowed for your account: {' '.join(names)}")


class TooManyApiKeys(AppError):
    status_code: ClassVar[int] = 409
    field = "apiKeys"

    def __init__(self, limit: int) -> None:
        super().__init__(f"limit of {limit} live keys reached: revoke one first")
