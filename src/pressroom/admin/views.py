"""What an admin sees of users and of the audit log, rendered straight to JSON."""

from __future__ import annotations

from typing import Any

import orjson

from pressroom.admin.models import AuditRecord
from pressroom.core.models import isoformat
from pressroom.users.models import User


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "createdAt": isoformat(user.created_at),
        "suspendedAt": None if user.suspended_at is None else isoformat(user.suspended_at),
        "deletedAt": None if user.deleted_at is None else isoformat(user.deleted_at),
    }


def audit_json(record: AuditRecord, actor: str | None) -> dict[str, Any]:
    return {
        "id": record.id,
        "actorId": record.actor_id,
        "actor": actor,
        "action": record.action,
        "targetType": record.target_type,
        "targetId": record.target_id,
        "details": orjson.loads(record.details) if record.details else None,
        "createdAt": isoformat(record.created_at),
    }
