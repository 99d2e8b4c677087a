"""Commenting on articles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.articles.errors import ArticleNotFound
from pressroom.articles.repository import ArticleReads, ArticleRepository
from pressroom.comments import events, schemas
from pressroom.comments.errors import CommentNotFound, NotCommentAuthor
from pressroom.comments.repository import CommentReads, CommentRepository
from pressroom.comments.views import CommentView
from pressroom.core.models import utcnow
from pressroom.core.reads import Reader


class CommentReadService:
    """Reading comments: no session, no transaction."""

    def __init__(self, reader: Reader) -> None:
        self.articles = ArticleReads(reader)
        self.comments = CommentReads(reader)

    async def list(
        self, slug: str, viewer_id: int | None, *, limit: int | None, offset: int
    ) -> list[CommentView]:
        """The article's comments, newest first."""
        article_id = await self.articles.id_by_slug(slug)
        if article_id is None:
            raise ArticleNotFound()
        return await self.comments.for_article(article_id, viewer_id, limit=limit, offset=offset)


class CommentService:
    """Writing comments: one transaction, the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.articles = ArticleRepository(session)
        self.comments = CommentRepository(session)

    async def create(self, slug: str, author_id: int, data: schemas.NewComment) -> CommentView:
        """Comment on the article at `slug`."""
        article_id = await self._article_id(slug)
        if not await self.articles.hold(article_id):
            raise ArticleNotFound()
        now = utcnow()
        comment_id = await self.comments.insert(
            {
                "body": data.body,
                "article_id": article_id,
                "author_id": author_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        view = await self.comments.reads.view(comment_id, author_id)
        assert view is not None
        await events.comment_created(self.session, article_id, slug, view)
        return view

    async def delete(self, slug: str, comment_id: int, user_id: int) -> None:
        """Delete a comment; only its author may."""
        article_id = await self._article_id(slug)
        author_id = await self.comments.author_of(comment_id, article_id)
        if author_id is None:
            raise CommentNotFound()
        if author_id != user_id:
            raise NotCommentAuthor()
        view = await self.comments.reads.view(comment_id, None)
        await self.comments.delete(comment_id)
        if view is not None:
            await events.comment_deleted(
                self.session, comment_id, article_id, slug, view.author.username
            )

    async def _article_id(self, slug: str) -> int:
        article_id = await self.articles.reads.id_by_slug(slug)
        if article_id is None:
            raise ArticleNotFound()
        return article_id
