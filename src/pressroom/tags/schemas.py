from __future__ import annotations

from pressroom.core.schemas import APIModel


class TagsResponse(APIModel):
    tags: list[str]
