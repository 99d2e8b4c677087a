"""Writing, reading, listing and favoriting articles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.articles import events, schemas, slugs
from pressroom.articles.errors import ArticleNotFound, NotArticleAuthor
from pressroom.articles.queries import ArticleFilters
from pressroom.articles.repository import ArticleReads, ArticleRepository
from pressroom.articles.views import ArticleJSON, ArticlePage
from pressroom.core.models import utcnow
from pressroom.core.reads import Reader

SLUG_ATTEMPTS = 8
T = TypeVar("T")


class ArticleReadService:
    """Reading articles: no session, no transaction."""

    def __init__(self, reader: Reader) -> None:
        self.articles = ArticleReads(reader)

    async def get(self, slug: str, viewer_id: int | None) -> ArticleJSON:
        """One article as `viewer_id` sees it."""
        view = await self.articles.view_by_slug(slug, viewer_id)
        if view is None:
            raise ArticleNotFound()
        return view

    async def list(
        self, filters: ArticleFilters, viewer_id: int | None, *, limit: int, offset: int
    ) -> ArticlePage:
        """Articles matching every filter, newest first."""
        return await self.articles.page(filters, viewer_id, limit=limit, offset=offset)


class ArticleService:
    """Writing articles and favorites: one transaction, the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.articles = ArticleRepository(session)

    async def create(self, author_id: int, data: schemas.NewArticle) -> ArticleJSON:
        """Publish an article under a unique slug derived from its title."""
        now = utcnow()
        values = {
            "title": data.title,
            "description": data.description,
            "body": data.body,
            "author_id": author_id,
            "favorites_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        article_id = await self._with_unique_slug(
            data.title, lambda slug: self.articles.insert({**values, "slug": slug})
        )
        await self.articles.tags.set_for_article(article_id, data.tag_list or [])
        view = await self._view(article_id, author_id)
        await events.article_written(self.session, events.CREATED, article_id, view)
        return view

    async def update(self, slug: str, editor_id: int, data: schemas.UpdateArticle) -> ArticleJSON:
        """Change the fields sent; only the author may. A retitle can change the slug."""
        article_id, title = await self._owned(slug, editor_id)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if data.description is not None:
            values["description"] = data.description
        if data.body is not None:
            values["body"] = data.body
        new_title = data.title if data.title is not None and data.title != title else None
        if new_title is not None:
            values["title"] = new_title
        # A new slug only when the title's slug changes ("Hello world" -> "Hello World!" keeps it).
        if new_title is not None and slugs.base_slug(new_title) != slugs.base_slug(title):
            await self._with_unique_slug(
                new_title, lambda new: self.articles.update(article_id, {**values, "slug": new})
            )
        else:
            await self.articles.update(article_id, values)
        if data.tag_list is not None:
            await self.articles.tags.set_for_article(article_id, data.tag_list)
        view = await self._view(article_id, editor_id)
        await events.article_written(
            self.session, events.UPDATED, article_id, view, previous_slug=slug
        )
        return view

    async def delete(self, slug: str, editor_id: int) -> None:
        """Delete an article with its comments and favorites; only the author may."""
        article_id, _ = await self._owned(slug, editor_id)
        view = await self._view(article_id, editor_id)
        await self.articles.delete(article_id)
        await events.article_written(self.session, events.DELETED, article_id, view)

    async def favorite(self, slug: str, user_id: int) -> ArticleJSON:
        """Favorite an article; doing it twice is not an error."""
        article_id = await self._id(slug)
        changed = await self.articles.favorite(user_id, article_id)
        view = await self._view(article_id, user_id)
        if changed:
            await events.favorite_changed(self.session, events.FAVORITED, article_id, view, user_id)
        return view

    async def unfavorite(self, slug: str, user_id: int) -> ArticleJSON:
        """Take a favorite back; one never given is not an error."""
        article_id = await self._id(slug)
        changed = await self.articles.unfavorite(user_id, article_id)
        view = await self._view(article_id, user_id)
        if changed:
            await events.favorite_changed(
                self.session, events.UNFAVORITED, article_id, view, user_id
            )
        return view

    async def _id(self, slug: str) -> int:
        article_id = await self.articles.reads.id_by_slug(slug)
        if article_id is None:
            raise ArticleNotFound()
        return article_id

    async def _owned(self, slug: str, editor_id: int) -> tuple[int, str]:
        found = await self.articles.ownership(slug)
        if found is None:
            raise ArticleNotFound()
        article_id, author_id, title = found
        if author_id != editor_id:
            raise NotArticleAuthor()
        return article_id, title

    async def _view(self, article_id: int | None, viewer_id: int | None) -> ArticleJSON:
        view = None if article_id is None else await self.articles.reads.view(article_id, viewer_id)
        if view is None:
            raise ArticleNotFound()
        return view

    async def _with_unique_slug(self, title: str, write: Callable[[str], Awaitable[T]]) -> T:
        base = slugs.base_slug(title)
        candidate = base
        if slugs.is_reserved(base) or await self.articles.slug_taken(base):
            candidate = slugs.unique_variant(base)
        for _ in range(SLUG_ATTEMPTS):
            try:
                # A savepoint: losing a race for a slug must not abort the whole request.
                async with self.session.begin_nested():
                    return await write(candidate)
            except IntegrityError:
                candidate = slugs.unique_variant(base)
        raise RuntimeError("no free slug after several attempts")  # pragma: no cover
