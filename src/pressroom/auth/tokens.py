"""HS256 access tokens: who (`sub`), which session (`sid`), what they may do (`scope`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import jwt

from pressroom.auth import scopes
from pressroom.core.errors import InvalidToken
from pressroom.core.settings import Settings

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068: the JWT type of an access token)
MAX_TOKEN_LENGTH = 4096
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "sid", "scope"]
# Headers we write. Anything else (`kid`, `jku`, `x5u`, `jwk`, `crit` ...) marks a token we did
# not issue; such headers are never looked at, let alone fetched.
_KNOWN_HEADERS = frozenset({"alg", "typ"})


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str
    scopes: frozenset[str]


class Tokens:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        auth = settings.auth
        self._issuer = auth.jwt_issuer
        self._audience = auth.jwt_audience
        self._leeway = timedelta(seconds=auth.jwt_leeway_seconds)
        self._decoder = jwt.PyJWT()

    @cached_property
    def _keys(self) -> tuple[str, ...]:
        """The signing key, then the previous ones (verification only, during a rotation).

        Resolved on first use: building the app (for `pressroom openapi`) writes no key file."""
        previous = self._settings.auth.jwt_previous_secrets
        return (self._settings.signing_key(), *(key.get_secret_value() for key in previous))

    def load(self) -> None:
        """Resolve the signing key (in development, generate it on first start)."""
        _ = self._keys

    def issue(
        self,
        user_id: int,
        session_id: str,
        granted: frozenset[str],
        issued_at: datetime,
        expires_at: datetime,
    ) -> str:
        """A signed access token; `iat` and `exp` come from the caller's one clock reading."""
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": session_id,
            "scope": scopes.render(granted),
            "iat": issued_at,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(12),  # two tokens issued in one second still differ
        }
        return jwt.encode(claims, self._keys[0], algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; `InvalidToken` for anything else."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        decoded = self._decode(token)
        header, claims = decoded["header"], decoded["payload"]
        if header.get("typ") != TOKEN_TYPE or not _KNOWN_HEADERS.issuperset(header):
            raise InvalidToken()
        subject, session_id, scope = claims["sub"], claims["sid"], claims["scope"]
        if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
            raise InvalidToken()
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 32:
            raise InvalidToken()
        if not isinstance(scope, str):
            raise InvalidToken()
        return AccessClaims(int(subject), session_id, scopes.parse(scope))

    def _decode(self, token: str) -> dict[str, Any]:
        """The verified header and claims. Previous keys are tried only when the current one
        does not match the signature: a current token still costs one HMAC."""
        for key in self._keys:
            try:
                decoded: dict[str, Any] = self._decoder.decode_complete(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=self._leeway,
                    options={"require": _REQUIRED_CLAIMS},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                raise InvalidToken() from None
            return decoded
        raise InvalidToken()
