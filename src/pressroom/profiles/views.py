"""Read model of a profile as a given caller sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ProfileView:
    username: str
    bio: str | None
    image: str | None
    following: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "bio": self.bio,
            "image": self.image,
            "following": self.following,
        }
