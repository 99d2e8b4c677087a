from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.tags.repository import TagRepository

POPULAR_TAGS = 100


class TagService:
    def __init__(self, session: AsyncSession) -> None:
        self.tags = TagRepository(session)

    async def popular(self) -> list[str]:
        """The most used tags, most used first, then by name."""
        return await self.tags.popular(POPULAR_TAGS)
