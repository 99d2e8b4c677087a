"""Request and response models of the auth endpoints (OAuth2 tokens and sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pressroom.auth.account_tokens import MAX_TOKEN_LENGTH
from pressroom.core.schemas import APIModel
from pressroom.core.text import Line
from pressroom.users.schemas import Email, Password


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


MailedToken = Annotated[
    Line,
    Field(
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        description="The `token` query parameter of the link in the mail.",
    ),
]


class PasswordResetUser(APIModel):
    email: Email


class PasswordResetRequest(APIModel):
    user: PasswordResetUser


class PasswordResetConfirm(APIModel):
    token: MailedToken
    password: Password


class VerifyEmailRequest(APIModel):
    token: MailedToken


class EmailVerification(APIModel):
    email: str
    verified: bool
    verified_at: datetime | None


class EmailVerificationResponse(APIModel):
    email_verification: EmailVerification
