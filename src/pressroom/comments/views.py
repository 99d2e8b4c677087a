"""Read model of a comment as a given caller sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pressroom.core.models import isoformat
from pressroom.profiles.views import ProfileView


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    body: str
    created_at: datetime
    updated_at: datetime
    author: ProfileView

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": isoformat(self.created_at),
            "updatedAt": isoformat(self.updated_at),
            "body": self.body,
            "author": self.author.to_json(),
        }
