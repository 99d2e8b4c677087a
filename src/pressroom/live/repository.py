"""Every SQL statement live updates run: article context for comment events, the caller's
follows, and the replay of missed events from the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, Select, bindparam, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from pressroom.articles.models import Article
from pressroom.core.outbox import OutboxEvent
from pressroom.live.events import KINDS
from pressroom.profiles.models import Follow
from pressroom.tags.models import ArticleTag, Tag
from pressroom.users.models import User


@cache
def _authors() -> Select[int, str]:
    return (
        select(Article.id, User.username)
        .join(User, User.id == Article.author_id)
        .where(Article.id.in_(bindparam("ids", expanding=True)))
    )


@cache
def _tags() -> Select[int, str]:
    return (
        select(ArticleTag.article_id, Tag.name)
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(bindparam("ids", expanding=True)))
    )


@cache
def _followees() -> Select[Any]:
    return (
        select(User.username)
        .join(Follow, Follow.followee_id == User.id)
        .where(Follow.follower_id == bindparam("user_id"), User.deleted_at.is_(None))
    )


@cache
def _article_by_slug() -> Select[Any]:
    return select(Article.id).where(Article.slug == bindparam("slug"))


@cache
def _replay() -> Select[Any]:
    return (
        select(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.payload, OutboxEvent.created_at)
        .where(
            OutboxEvent.id > bindparam("after"),
            OutboxEvent.kind.in_(KINDS),
            OutboxEvent.created_at >= bindparam("since"),
        )
        .order_by(OutboxEvent.id)
        .limit(bindparam("limit"))
    )


@cache
def _event_time() -> Select[Any]:
    return select(OutboxEvent.created_at).where(OutboxEvent.id == bindparam("id"))


class LiveReads:
    """Reads on pooled connections through SQLAlchemy (lists of ids are bound as `IN`), each
    statement outside any transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _all(self, statement: Executable, params: dict[str, Any]) -> list[RowMapping]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(statement, params)).mappings().all())

    async def _scalar(self, statement: Executable, params: dict[str, Any]) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement, params)).scalar()

    async def articles(self, ids: Iterable[int]) -> dict[int, tuple[str, frozenset[str]]]:
        """Author username and tags of each existing article among `ids`."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        params = {"ids": wanted}
        authors = {row["id"]: row["username"] for row in await self._all(_authors(), params)}
        tags: dict[int, set[str]] = {}
        for row in await self._all(_tags(), params):
            tags.setdefault(row["article_id"], set()).add(row["name"])
        return {id_: (name, frozenset(tags.get(id_, ()))) for id_, name in authors.items()}

    async def followees(self, user_id: int) -> frozenset[str]:
        rows = await self._all(_followees(), {"user_id": user_id})
        return frozenset(row["username"].lower() for row in rows)

    async def article_id(self, slug: str) -> int | None:
        value = await self._scalar(_article_by_slug(), {"slug": slug})
        return int(value) if value is not None else None

    async def event_time(self, event_id: int) -> datetime | None:
        value = await self._scalar(_event_time(), {"id": event_id})
        return value if isinstance(value, datetime) else None

    async def events_after(self, after: int, since: datetime, limit: int) -> list[RowMapping]:
        """Live events with an id above `after`, recorded at or after `since`, oldest first."""
        params = {"after": after, "since": since, "limit": limit}
        return await self._all(_replay(), params)
