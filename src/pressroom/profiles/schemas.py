from __future__ import annotations

from pressroom.core.schemas import APIModel


class Profile(APIModel):
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileResponse(APIModel):
    profile: Profile
