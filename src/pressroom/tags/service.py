from __future__ import annotations

from pressroom.core.reads import Reader
from pressroom.tags.repository import TagReads

POPULAR_TAGS = 100


class TagReadService:
    def __init__(self, reader: Reader) -> None:
        self.tags = TagReads(reader)

    async def popular(self) -> list[str]:
        """The most used tags, most used first, then by name."""
        return await self.tags.popular(POPULAR_TAGS)
