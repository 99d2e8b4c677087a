"""Response models of the admin endpoints (the API contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pressroom.core.schemas import APIModel


class AdminUser(APIModel):
    id: int
    username: str
    email: str
    role: Literal["user", "admin"]
    created_at: datetime
    suspended_at: datetime | None
    deleted_at: datetime | None


class AdminUserResponse(APIModel):
    user: AdminUser


class AdminUsersResponse(APIModel):
    users: list[AdminUser]
    users_count: int


class AuditRecord(APIModel):
    id: int
    actor_id: int | None
    actor: str | None
    action: str
    target_type: Literal["user", "article", "comment", "outbox_event"]
    target_id: str
    details: dict[str, Any] | None
    created_at: datetime


class AuditRecordsResponse(APIModel):
    audit_records: list[AuditRecord]
    audit_records_count: int


class DeadLetter(APIModel):
    """An outbox event the relay gave up on (its payload is not shown)."""

    id: int
    key: str
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    dead_at: datetime | None


class DeadLettersResponse(APIModel):
    dead_letters: list[DeadLetter]
    dead_letters_count: int


class DeadLetterResponse(APIModel):
    dead_letter: DeadLetter
