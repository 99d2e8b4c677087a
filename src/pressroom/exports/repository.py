"""Every statement an export runs, and the snapshot they run in.

An export holds one pooled connection for its whole length, inside one read-only
transaction, so every section sees the same moment of the database:

- Postgres: REPEATABLE READ, READ ONLY. The rows come through a server-side cursor, a batch
  at a time (`yield_per`). The transaction also takes an advisory lock on the user
  (`pg_try_advisory_xact_lock`): one export per user across every worker. The lock ends with
  the transaction, or with the session if the connection dies.
- SQLite: a deferred `BEGIN`, which in WAL mode reads one snapshot without blocking writers;
  the driver's cursor is stepped a batch at a time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from pressroom.articles.models import Article, Favorite
from pressroom.comments.models import Comment
from pressroom.profiles.models import Follow
from pressroom.tags.queries import tag_names_of
from pressroom.users.models import User

# The first key of the two-key advisory lock: "EXPT", so it names exports among other locks.
LOCK_NAMESPACE = 0x45585054
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:namespace, :user_id)")


class Snapshot:
    """One connection in one read-only transaction, released by `close()` whatever happened."""

    def __init__(self, connection: AsyncConnection, batch_rows: int) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.batch_rows = batch_rows
        # Set while a fetch is on the wire: interrupted there, the connection's state is
        # unknown, so it is closed rather than rolled back and reused (which on Postgres also
        # ends the transaction and the lock, server-side).
        self._fetching = False
        self._closed = False

    @classmethod
    async def open(cls, engine: AsyncEngine, user_id: int, batch_rows: int) -> Snapshot | None:
        """The snapshot, or None if another export of this user holds the lock (Postgres)."""
        connection = await engine.connect()
        snapshot = cls(connection, batch_rows)
        try:
            if snapshot.dialect == "postgresql":
                await connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
                await connection.begin()
                locked = await connection.scalar(
                    _TRY_LOCK, {"namespace": LOCK_NAMESPACE, "user_id": user_id}
                )
                if not locked:
                    await snapshot.close()
                    return None
            else:
                # The engine leaves SQLite's driver in autocommit (see core.db): open the
                # read transaction by hand; SQLAlchemy's rollback ends it. A deferred BEGIN
                # takes its snapshot at the first read: take it now, as Postgres does.
                await connection.begin()
                await connection.exec_driver_sql("BEGIN")
                await connection.exec_driver_sql("SELECT 1 FROM users LIMIT 1")
        except BaseException:
            await snapshot.close()
            raise
        return snapshot

    async def batches(
        self, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
    ) -> AsyncGenerator[Sequence[RowMapping], None]:
        """The statement's rows, `batch_rows` at a time, from a cursor."""
        result = await self.connection.stream(
            statement.execution_options(yield_per=self.batch_rows), dict(params)
        )
        partitions = result.mappings().partitions()
        try:
            while True:
                self._fetching = True
                try:
                    rows = await anext(partitions)
                except StopAsyncIteration:
                    self._fetching = False
                    return
                # Left set if the fetch raised or was cancelled: `close` then discards the
                # connection.
                self._fetching = False
                yield rows
        finally:
            if not self._fetching and not self._closed:
                await result.close()

    async def close(self) -> None:
        """Ends the transaction (and the lock with it) and returns the connection to the pool.

        Idempotent. Call it shielded from cancellation: it must finish to release anything.
        """
        if self._closed:
            return
        self._closed = True
        connection = self.connection
        try:
            if self._fetching or connection.closed:
                await connection.invalidate()
            elif connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()


# ---------------------------------------------------------------- statements
@cache
def profile() -> Select[*tuple[Any, ...]]:
    return select(
        User.username, User.email, User.bio, User.image, User.created_at, User.updated_at
    ).where(User.id == bindparam("user_id"))


def _article_columns(dialect: str) -> tuple[Any, ...]:
    return (
        Article.slug,
        Article.title,
        Article.description,
        Article.body,
        tag_names_of(Article.id, dialect).label("tags"),
        Article.favorites_count,
        Article.created_at,
        Article.updated_at,
    )


@cache
def articles_of(dialect: str) -> Select[*tuple[Any, ...]]:
    """The user's articles, oldest first (the author's created_at index)."""
    return (
        select(*_article_columns(dialect))
        .where(Article.author_id == bindparam("user_id"))
        .order_by(Article.created_at, Article.id)
    )


@cache
def comments_of() -> Select[*tuple[Any, ...]]:
    """The user's comments, oldest first, with the slug of the article each is on."""
    return (
        select(
            Comment.id,
            Article.slug,
            Comment.body,
            Comment.created_at,
            Comment.updated_at,
        )
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == bindparam("user_id"))
        .order_by(Comment.id)
    )


@cache
def follows_of() -> Select[*tuple[Any, ...]]:
    """Whom the user follows; soft-deleted users are hidden here as everywhere."""
    return (
        select(User.username, Follow.created_at)
        .join(User, User.id == Follow.followee_id)
        .where(Follow.follower_id == bindparam("user_id"), User.deleted_at.is_(None))
        .order_by(Follow.created_at, User.id)
    )


@cache
def favorites_of() -> Select[*tuple[Any, ...]]:
    """The user's favorites; articles of soft-deleted authors are hidden here as everywhere."""
    return (
        select(Article.slug, Article.title, User.username, Favorite.created_at)
        .join(Article, Article.id == Favorite.article_id)
        .join(User, User.id == Article.author_id)
        .where(Favorite.user_id == bindparam("user_id"), User.deleted_at.is_(None))
        .order_by(Favorite.created_at, Article.id)
    )


@cache
def every_article(dialect: str) -> Select[*tuple[Any, ...]]:
    """Every article with its author's username, in id order (the primary key's index).

    Articles of soft-deleted authors are included, flagged: this is the admin's view."""
    author = aliased(User)
    return (
        select(
            *_article_columns(dialect),
            author.username,
            author.deleted_at.is_not(None).label("author_deleted"),
        )
        .join(author, author.id == Article.author_id)
        .order_by(Article.id)
    )
