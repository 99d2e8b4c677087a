"""Every SQL statement about articles and favorites."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.articles import queries
from pressroom.articles.models import Article, Favorite
from pressroom.articles.queries import ArticleFilters
from pressroom.articles.views import ArticleJSON, ArticlePage, article_json
from pressroom.core.models import utcnow
from pressroom.core.reads import Reader, SessionReader
from pressroom.core.upserts import insert_ignoring_conflicts
from pressroom.tags.repository import TagRepository
from pressroom.users.models import User


class ArticleReads:
    """Articles as a caller sees them: prebuilt statements, through any reader."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def view(self, article_id: int, viewer_id: int | None) -> ArticleJSON | None:
        """One article with body, tags and the viewer's flags: one statement."""
        return await self._one("id", article_id, viewer_id)

    async def view_by_slug(self, slug: str, viewer_id: int | None) -> ArticleJSON | None:
        """The article at `slug` with body, tags and the viewer's flags: one statement."""
        return await self._one("slug", slug, viewer_id)

    async def id_by_slug(self, slug: str) -> int | None:
        article_id: int | None = await self.reader.scalar(queries.id_by_slug(), {"slug": slug})
        return article_id

    async def page(
        self, filters: ArticleFilters, viewer_id: int | None, *, limit: int, offset: int
    ) -> ArticlePage:
        """A page of articles (no body), newest first, and the total: one statement."""
        shape, params = filters.shape(), filters.params()
        statement = queries.page(
            self.reader.dialect, shape, personal=viewer_id is not None, limit=limit, offset=offset
        )
        rows = await self.reader.all(statement, {**params, "viewer_id": viewer_id})
        if rows:
            count = rows[0]["total"]
        elif offset:  # past the last page: the total still counts (a second statement)
            count = await self.reader.scalar(queries.count(shape), params)
        else:
            count = 0
        articles = [article_json(row, with_body=False) for row in rows]
        return ArticlePage(articles=articles, count=count or 0)

    async def _one(self, by: str, key: object, viewer_id: int | None) -> ArticleJSON | None:
        personal = viewer_id is not None
        statement = queries.article(self.reader.dialect, by=by, personal=personal)
        row = await self.reader.first(statement, {by: key, "viewer_id": viewer_id})
        return None if row is None else article_json(row, with_body=True)


class ArticleRepository:
    """Writing articles and favorites, inside the request's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.tags = TagRepository(session)
        # Reads inside this transaction see what it wrote (the view returned after a write).
        self.reads = ArticleReads(SessionReader(session))

    async def ownership(self, slug: str) -> tuple[int, int, str] | None:
        """(article id, author id, title) of the article at `slug`, unless its author is
        soft-deleted."""
        row = (
            await self.session.execute(
                select(Article.id, Article.author_id, Article.title)
                .join(User, User.id == Article.author_id)
                .where(Article.slug == slug, User.deleted_at.is_(None))
            )
        ).first()
        return None if row is None else (row.id, row.author_id, row.title)

    async def slug_taken(self, slug: str) -> bool:
        return bool(await self.session.scalar(select(exists().where(Article.slug == slug))))

    async def insert(self, values: dict[str, Any]) -> int:
        result = await self.session.execute(insert(Article).values(values).returning(Article.id))
        return result.scalar_one()

    async def update(self, article_id: int, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )

    async def delete(self, article_id: int) -> None:
        # Tags links, favorites and comments go with it (ON DELETE CASCADE).
        await self.session.execute(delete(Article).where(Article.id == article_id))

    async def hold(self, article_id: int) -> bool:
        """Keep the article from being deleted until commit; False if it is already gone.

        A DELETE committing between the caller's lookup and an INSERT that references the
        article would make that INSERT a foreign key violation. FOR KEY SHARE waits for such a
        delete and then finds no row. (SQLite serializes writers with BEGIN IMMEDIATE and
        renders no locking clause.)
        """
        locked = select(Article.id).where(Article.id == article_id)
        return (
            await self.session.scalar(locked.with_for_update(read=True, key_share=True)) is not None
        )

    async def favorite(self, user_id: int, article_id: int) -> bool:
        """True if the favorite is new."""
        if not await self.hold(article_id):
            return False
        row = {"user_id": user_id, "article_id": article_id, "created_at": utcnow()}
        added = await insert_ignoring_conflicts(self.session, Favorite.__table__, [row])  # type: ignore[arg-type]
        if added:
            await self._bump_favorites(article_id, 1)
        return bool(added)

    async def unfavorite(self, user_id: int, article_id: int) -> bool:
        """True if there was a favorite to take back."""
        result = await self.session.execute(
            delete(Favorite).where(Favorite.user_id == user_id, Favorite.article_id == article_id)
        )
        removed = bool(getattr(result, "rowcount", 0))
        if removed:
            await self._bump_favorites(article_id, -1)
        return removed

    async def _bump_favorites(self, article_id: int, delta: int) -> None:
        # Computed by the database under its row lock: exact however many run at once.
        await self.session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(favorites_count=Article.favorites_count + delta)
            .execution_options(synchronize_session=False)
        )
