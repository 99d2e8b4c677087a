"""Read model of the caller's own account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pressroom.users.models import User


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    username: str
    email: str
    bio: str | None
    image: str | None

    @classmethod
    def of(cls, user: User) -> AccountView:
        return cls(user.id, user.username, user.email, user.bio, user.image)

    def to_json(self, token: str) -> dict[str, Any]:
        """The Conduit `user` object, with the token the caller holds."""
        return {
            "email": self.email,
            "token": token,
            "username": self.username,
            "bio": self.bio,
            "image": self.image,
        }
