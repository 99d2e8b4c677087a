"""Request and response models of the API key endpoints (the API contract)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from pressroom.auth import scopes as scope_names
from pressroom.core.schemas import APIModel
from pressroom.core.text import Line

MAX_NAME = 64
MAX_LIFETIME = timedelta(days=365)
SCOPE_CHOICES = sorted(scope_names.DESCRIPTIONS)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("can't be blank")
    return value


def _known_scope(value: str) -> str:
    # The message never repeats the input: it may be anything, even unprintable.
    if value not in scope_names.DESCRIPTIONS:
        raise ValueError(f"must be one of: {', '.join(SCOPE_CHOICES)}")
    return value


def _distinct(value: list[str] | None) -> list[str] | None:
    return None if value is None else sorted(set(value))


def _timestamp_text(value: Any) -> Any:
    # JSON numbers would pass as Unix times: only an ISO 8601 string is taken.
    if value is not None and not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp with a time zone")
    return value


def _future_within_a_year(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    now = datetime.now(UTC)
    if value <= now:
        raise ValueError("must be in the future")
    if value > now + MAX_LIFETIME:
        raise ValueError("must be at most 365 days from now")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


KeyName = Annotated[
    Line,
    Field(min_length=1, max_length=MAX_NAME, description="1-64 characters on one line."),
    AfterValidator(_not_blank),
    AfterValidator(str.strip),
]
ScopeName = Annotated[
    str,
    Field(max_length=32, json_schema_extra={"enum": SCOPE_CHOICES}),
    AfterValidator(_known_scope),
]
Scopes = Annotated[
    list[ScopeName] | None,
    Field(
        max_length=len(SCOPE_CHOICES),
        description="What the key may do: a subset of your own scopes. Absent or null: all of "
        "your scopes. `[]`: none, a read-only key.",
    ),
    AfterValidator(_distinct),
]
ExpiresAt = Annotated[
    AwareDatetime | None,
    BeforeValidator(_timestamp_text),
    AfterValidator(_future_within_a_year),
    Field(
        description="When the key stops working: an ISO 8601 timestamp with a time zone, in "
        "the future and at most 365 days away. Absent or null: it works until revoked.",
    ),
]


class NewApiKey(APIModel):
    name: KeyName
    scopes: Scopes = None
    expires_at: ExpiresAt = None


class NewApiKeyRequest(APIModel):
    api_key: NewApiKey


class ApiKey(APIModel):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters (`prk_` and 12 hex digits).")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="Updated at most every few minutes (`auth.session_touch_seconds`)."
    )
    revoked_at: datetime | None


class CreatedApiKey(ApiKey):
    key: str = Field(
        description="The key itself, for the `X-API-Key` header. Shown in this answer only: "
        "Pressroom keeps just a hash of it."
    )


class CreatedApiKeyResponse(APIModel):
    api_key: CreatedApiKey


class MultipleApiKeysResponse(APIModel):
    api_keys: list[ApiKey]
