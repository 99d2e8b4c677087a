"""OAuth2 token endpoint errors (RFC 6749 section 5.2), in the Pressroom envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pressroom.core.errors import AppError, NotFound, envelope


class OAuthError(AppError):
    """400 with the envelope plus RFC 6749's `error` and `error_description`, which OAuth2
    clients (Swagger UI's Authorize among them) read."""

    status_code = 400
    code = "invalid_request"

    def body(self) -> dict[str, Any]:
        field, messages = next(iter(self.errors.items()))
        return {
            **envelope(self.errors),
            "error": self.code,
            "error_description": f"{field} {messages[0]}",
        }


class InvalidGrant(OAuthError):
    code = "invalid_grant"
    field = "grant"
    message = "is invalid, expired or revoked"


class InvalidCredentialsGrant(OAuthError):
    code = "invalid_grant"
    field = "credentials"
    message = "invalid"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"
    field = "grant_type"
    message = "must be password or refresh_token"


class InvalidScope(OAuthError):
    code = "invalid_scope"
    field = "scope"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"not allowed: {' '.join(names)}")


class SessionNotFound(NotFound):
    field = "session"
