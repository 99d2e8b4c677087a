"""Request and response models of the auth endpoints (OAuth2 tokens and sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from pressroom.core.schemas import APIModel


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1 (snake_case, as OAuth2 clients expect)."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str
    scope: str


class SessionInfo(APIModel):
    id: str
    kind: Literal["conduit", "oauth"]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    scopes: list[str]
    current: bool


class SessionsResponse(APIModel):
    sessions: list[SessionInfo]
