"""Every SQL statement about tags."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.articles.models import Article
from pressroom.core.reads import Reader
from pressroom.core.upserts import insert_ignoring_conflicts
from pressroom.tags.models import ArticleTag, Tag
from pressroom.users.models import User


@cache
def _popular() -> Select[Any]:
    # Uses of each tag by soft-deleted authors, reached from the few deleted users (a partial
    # index holds only them): subtracted, rather than joining every use to its author.
    hidden = (
        select(ArticleTag.tag_id, func.count().label("uses"))
        .select_from(User)
        .join(Article, Article.author_id == User.id)
        .join(ArticleTag, ArticleTag.article_id == Article.id)
        .where(User.deleted_at.is_not(None))
        .group_by(ArticleTag.tag_id)
        .subquery()
    )
    uses = func.count(ArticleTag.article_id) - func.coalesce(func.max(hidden.c.uses), 0)
    return (
        select(Tag.name)
        .join(ArticleTag, ArticleTag.tag_id == Tag.id)
        .outerjoin(hidden, hidden.c.tag_id == Tag.id)
        .group_by(Tag.id, Tag.name)
        .having(uses > 0)  # tags used only by soft-deleted authors drop out
        .order_by(uses.desc(), Tag.name)
        .limit(bindparam("limit"))
    )


class TagReads:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def popular(self, limit: int) -> list[str]:
        """Tags in use, most used first, then by name."""
        return [row["name"] for row in await self.reader.all(_popular(), {"limit": limit})]


class TagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_for_article(self, article_id: int, names: Iterable[str]) -> None:
        """Replace an article's tags, creating tags that do not exist yet."""
        wanted = sorted(set(names))
        await self.session.execute(delete(ArticleTag).where(ArticleTag.article_id == article_id))
        if not wanted:
            return
        await insert_ignoring_conflicts(
            self.session,
            Tag.__table__,  # type: ignore[arg-type]
            [{"name": name} for name in wanted],
        )
        # Linked only while the article exists: a concurrent DELETE that the caller's UPDATE
        # waited for has removed it, and a link to it would break the foreign key (a 500).
        linked = select(Article.id, Tag.id).join_from(Article, Tag, Tag.name.in_(wanted))
        await self.session.execute(
            insert(ArticleTag).from_select(
                ["article_id", "tag_id"], linked.where(Article.id == article_id)
            )
        )
