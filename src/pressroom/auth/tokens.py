"""HS256 JSON Web Tokens with issuer, audience, subject, issued-at and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property

import jwt

from pressroom.core.errors import InvalidToken
from pressroom.core.settings import Settings

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp"]


class Tokens:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        auth = settings.auth
        self._issuer = auth.jwt_issuer
        self._audience = auth.jwt_audience
        self._lifetime = timedelta(seconds=auth.token_lifetime_seconds)
        self._leeway = timedelta(seconds=auth.jwt_leeway_seconds)

    @cached_property
    def _key(self) -> str:
        # Resolved on first use: building the app (for `pressroom openapi`) writes no key file.
        return self._settings.signing_key()

    def load(self) -> None:
        """Resolve the signing key (in development, generate it on first start)."""
        _ = self._key

    def issue(self, user_id: int) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "iat": now,
            "exp": now + self._lifetime,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def user_id(self, token: str) -> int:
        """The subject of a valid token; `InvalidToken` for anything else."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
            subject = claims["sub"]
            if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
                raise InvalidToken()
            return int(subject)
        except jwt.PyJWTError:
            raise InvalidToken() from None
