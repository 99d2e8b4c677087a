"""The auth, CORS and security sections."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


class AuthSettings(BaseModel):
    """Token signing, session lifetimes and password hashing; see docs/auth.md."""

    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key that signs and verifies access tokens, at least 32 characters. "
        "Required in production.",
        json_schema_extra={
            "shown_default": "development: generated once into `<data dir>/jwt-secret` (mode "
            "0600) and reused; production: none, required"
        },
    )
    jwt_previous_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys that used to be `JWT_SECRET`: tokens they signed are still accepted, "
        "new tokens are always signed with `JWT_SECRET`. Each at least 32 characters in "
        'production. See "Rotating the JWT secret" in docs/operations.md.',
    )
    jwt_issuer: str = Field(
        default="pressroom", min_length=1, description="`iss` claim, checked on every token."
    )
    jwt_audience: str = Field(
        default="pressroom-api", min_length=1, description="`aud` claim, checked on every token."
    )
    token_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        le=90 * 24 * 3600,
        description="Lifetime of a Conduit login: its session and the token returned by login "
        "and registration (Conduit frontends cannot refresh).",
    )
    access_token_lifetime_seconds: int = Field(
        default=15 * 60,
        ge=30,
        le=24 * 3600,
        description="Lifetime of an OAuth2 access token; never longer than its session.",
    )
    refresh_token_lifetime_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=300,
        le=365 * 24 * 3600,
        description="Lifetime of an OAuth2 session: its refresh tokens work (once each) until "
        "then.",
    )
    session_touch_seconds: int = Field(
        default=300,
        ge=1,
        le=24 * 3600,
        description="A session's last-seen time and an API key's last-used time are written at "
        "most this often, after the answer.",
    )
    jwt_leeway_seconds: int = Field(
        default=10,
        ge=0,
        le=300,
        description="Clock skew tolerated on a token's `exp`, `nbf` and `iat`, in seconds.",
    )
    argon2_memory_cost: int = Field(
        default=19456,
        ge=19456,
        description="Argon2id memory per password hash, in KiB (19456 is the OWASP minimum). "
        "Raising it is safe: old hashes are upgraded at each user's next login.",
    )
    argon2_time_cost: int = Field(default=2, ge=2, description="Argon2id iterations.")
    argon2_parallelism: int = Field(default=1, ge=1, le=16, description="Argon2id lanes.")

    @field_validator("jwt_previous_secrets", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)


def _split_list(value: object) -> object:
    """A comma-separated string or a JSON list, as environment variables carry lists."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import orjson

            return orjson.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class CorsSettings(BaseModel):
    """Cross-origin requests from browsers."""

    allow_origins: Annotated[list[str], NoDecode] | None = Field(
        default=None,
        description="Origins allowed to call the API from a browser: "
        "`https://app.example.com,https://admin.example.com`.",
        json_schema_extra={"shown_default": "development: `*` (any origin); production: none"},
    )
    allow_credentials: bool = Field(
        default=False,
        description="Send `Access-Control-Allow-Credentials: true`; refused at boot together with "
        "the `*` origin.",
    )

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)


class DocsMode(StrEnum):
    PUBLIC = "public"
    OFF = "off"
    # ADMIN ("admin": docs only for an admin's token) is planned; see core/docs.py.


class SecuritySettings(BaseModel):
    """HTTP hardening: hosts, headers, request size and time limits; see docs/security.md."""

    allowed_hosts: Annotated[list[str], NoDecode] | None = Field(
        default=None,
        description="Host names the API answers to: `api.example.com`, `*.example.com`, or `*` "
        "for any (when a proxy in front checks them). Another `Host` gets 400.",
        json_schema_extra={
            "shown_default": "development: `*` (any host); production: none, required"
        },
    )
    docs: DocsMode | None = Field(
        default=None,
        description="`public` serves the API docs (`/docs`, `/redoc`, `/openapi.json`); `off` "
        "serves none of them.",
        json_schema_extra={"shown_default": "development: `public`; production: `off`"},
    )
    hsts_max_age: int = Field(
        default=365 * 24 * 3600,
        ge=0,
        le=2 * 365 * 24 * 3600,
        description="Strict-Transport-Security max-age in seconds, sent on HTTPS answers only; "
        "0 sends no HSTS header.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body, in bytes, declared or streamed; larger answers 413.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a request body may take to arrive once the request head is in; "
        "then 408.",
    )
    max_json_depth: int = Field(
        default=32,
        ge=2,
        le=512,
        description="Deepest nesting of arrays and objects accepted in a request body; deeper "
        "answers 422.",
    )
    gzip_minimum_bytes: int = Field(
        default=1024,
        ge=0,
        description="Answers at least this large are gzip-compressed for clients that accept it.",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or []:
            wildcard = pattern.startswith("*") and not pattern.startswith("*.")
            if pattern != "*" and ("*" in pattern[1:] or wildcard):
                raise ValueError(f"host {pattern!r}: a wildcard must look like *.example.com")
        return value
