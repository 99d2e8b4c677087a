"""Every SQL statement of the administration: users in any state, targets, the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pressroom.admin.models import AuditRecord
from pressroom.articles.models import Article, Counter
from pressroom.comments.models import Comment
from pressroom.core.models import utcnow
from pressroom.core.outbox import OutboxEvent
from pressroom.users.models import User

UserStatus = Literal["active", "suspended", "deleted"]


@dataclass(frozen=True, slots=True)
class UserFilters:
    q: str | None = None
    status: UserStatus | None = None
    include_deleted: bool = False

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.q:
            text = self.q.lower()
            found.append(
                or_(
                    func.lower(User.username).contains(text, autoescape=True),
                    func.lower(User.email).contains(text, autoescape=True),
                )
            )
        if self.status == "active":
            found += [User.suspended_at.is_(None), User.deleted_at.is_(None)]
        elif self.status == "suspended":
            found.append(User.suspended_at.is_not(None))
        elif self.status == "deleted":
            found.append(User.deleted_at.is_not(None))
        if not self.include_deleted and self.status != "deleted":
            found.append(User.deleted_at.is_(None))
        return found


@dataclass(frozen=True, slots=True)
class ArticleTarget:
    id: int
    slug: str
    title: str
    author_id: int
    author: str


@dataclass(frozen=True, slots=True)
class CommentTarget:
    id: int
    slug: str
    author: str
    article_id: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An outbox event the relay gave up on; its payload stays out of admin answers."""

    id: int
    key: str
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    dead_at: datetime | None


_DEAD_LETTER_COLUMNS = (
    OutboxEvent.id,
    OutboxEvent.key,
    OutboxEvent.kind,
    OutboxEvent.attempts,
    OutboxEvent.last_error,
    OutboxEvent.created_at,
    OutboxEvent.next_attempt_at,
    OutboxEvent.dead_at,
)


class AdminRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------ users
    async def users_page(
        self, filters: UserFilters, *, limit: int, offset: int
    ) -> tuple[Sequence[User], int]:
        """A page of users, newest first, and the total for the filters: one statement (two
        when the page is past the end)."""
        conditions = filters.conditions()
        count = select(func.count()).select_from(User).where(*conditions)
        total = count.correlate(None).scalar_subquery().label("total")
        rows = (
            await self.session.execute(
                select(User, total)
                .where(*conditions)
                .order_by(User.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
        if rows:
            return [row[0] for row in rows], int(rows[0][1])
        return [], int(await self.session.scalar(count) or 0) if offset else 0

    async def user_for_update(self, username: str) -> User | None:
        """The user (in any state) named `username`, ignoring case, locked until commit.

        The lock (FOR UPDATE, which conflicts with the key-share lock an article insert takes
        on its author) keeps the count of the user's articles exact while the change runs.
        """
        result = await self.session.scalars(
            select(User).where(func.lower(User.username) == username.lower()).with_for_update()
        )
        return result.first()

    async def lock_user(self, user_id: int) -> User | None:
        result = await self.session.scalars(
            select(User).where(User.id == user_id).with_for_update()
        )
        return result.first()

    async def user_by_login(self, login: str) -> User | None:
        """The user whose username or (with an `@`) email is `login`, ignoring case."""
        column = User.email if "@" in login else User.username
        result = await self.session.scalars(
            select(User).where(func.lower(column) == login.lower()).with_for_update()
        )
        return result.first()

    async def articles_by(self, user_id: int) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(Article).where(Article.author_id == user_id)
        )
        return int(count or 0)

    async def adjust_article_total(self, delta: int) -> None:
        """Move the trigger-kept `articles` total, which counts only visible articles."""
        if delta:
            await self.session.execute(
                update(Counter)
                .where(Counter.name == "articles")
                .values(value=Counter.value + delta)
                .execution_options(synchronize_session=False)
            )

    # ------------------------------------------------------------ content
    async def article(self, slug: str) -> ArticleTarget | None:
        row = (
            await self.session.execute(
                select(Article.id, Article.slug, Article.title, User.id, User.username)
                .join(User, User.id == Article.author_id)
                .where(Article.slug == slug)
            )
        ).first()
        return None if row is None else ArticleTarget(*row)

    async def comment(self, comment_id: int) -> CommentTarget | None:
        row = (
            await self.session.execute(
                select(Comment.id, Article.slug, User.username, Article.id)
                .join(Article, Article.id == Comment.article_id)
                .join(User, User.id == Comment.author_id)
                .where(Comment.id == comment_id)
            )
        ).first()
        return None if row is None else CommentTarget(*row)

    # ------------------------------------------------------------ audit log
    async def record(self, record: AuditRecord) -> None:
        self.session.add(record)
        await self.session.flush()

    async def audit_page(
        self, action: str | None, *, limit: int, offset: int
    ) -> tuple[Sequence[tuple[AuditRecord, str | None]], int]:
        """A page of audit records, newest first, with each actor's username, and the total."""
        actor = aliased(User)
        count: Select[Any] = select(func.count()).select_from(AuditRecord)
        if action:
            count = count.where(AuditRecord.action == action)
        total = count.correlate(None).scalar_subquery().label("total")
        query = (
            select(AuditRecord, actor.username, total)
            .outerjoin(actor, actor.id == AuditRecord.actor_id)
            .order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if action:
            query = query.where(AuditRecord.action == action)
        rows = (await self.session.execute(query)).all()
        if rows:
            return [(row[0], row[1]) for row in rows], int(rows[0][2])
        return [], int(await self.session.scalar(count) or 0) if offset else 0

    # ------------------------------------------------------------ outbox dead letters
    async def dead_letters_page(self, *, limit: int, offset: int) -> tuple[list[DeadLetter], int]:
        """A page of dead letters, most recently dead first, and their total."""
        dead = OutboxEvent.dead_at.is_not(None)
        total = await self.session.scalar(select(func.count()).select_from(OutboxEvent).where(dead))
        rows = (
            await self.session.execute(
                select(*_DEAD_LETTER_COLUMNS)
                .where(dead)
                .order_by(OutboxEvent.dead_at.desc(), OutboxEvent.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [DeadLetter(*row) for row in rows], int(total or 0)

    async def revive_dead_letter(self, event_id: int) -> tuple[DeadLetter, DeadLetter] | None:
        """Make a dead letter due again with a fresh count of attempts: (before, after), or
        None when no dead event has this id. Its last error stays until the next attempt."""
        before = (
            await self.session.execute(
                select(*_DEAD_LETTER_COLUMNS)
                .where(OutboxEvent.id == event_id, OutboxEvent.dead_at.is_not(None))
                .with_for_update()
            )
        ).first()
        if before is None:
            return None
        after = (
            await self.session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_id)
                .values(dead_at=None, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
                .returning(*_DEAD_LETTER_COLUMNS)
            )
        ).one()
        return DeadLetter(**before._asdict()), DeadLetter(**after._asdict())
