"""Every SQL statement about articles and favorites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, exists, false, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pressroom.articles.models import Article, Favorite
from pressroom.articles.views import ArticlePage, ArticleView
from pressroom.core.models import utcnow
from pressroom.core.upserts import insert_ignoring_conflicts
from pressroom.profiles.models import Follow
from pressroom.profiles.views import ProfileView
from pressroom.tags.models import ArticleTag, Tag
from pressroom.tags.repository import TagRepository
from pressroom.users.models import User

_NEWEST_FIRST = (Article.created_at.desc(), Article.id.desc())


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None
    followed_by: int | None = None


class ArticleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.tags = TagRepository(session)

    async def ownership(self, slug: str) -> tuple[int, int, str] | None:
        """(article id, author id, title) of the article at `slug`."""
        row = (
            await self.session.execute(
                select(Article.id, Article.author_id, Article.title).where(Article.slug == slug)
            )
        ).first()
        return None if row is None else (row.id, row.author_id, row.title)

    async def id_by_slug(self, slug: str) -> int | None:
        return await self.session.scalar(select(Article.id).where(Article.slug == slug))

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

    async def view(self, article_id: int, viewer_id: int | None) -> ArticleView | None:
        """One article with body, tags and the viewer's favorite/follow flags: two statements."""
        query = _article_select(viewer_id, with_body=True).where(Article.id == article_id)
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        article = _view(row)
        article.tags = (await self.tags.for_articles([article_id])).get(article_id, [])
        return article

    async def page(
        self, filters: ArticleFilters, viewer_id: int | None, *, limit: int, offset: int
    ) -> ArticlePage:
        """A page of articles (no body), newest first, and the total: three statements."""
        count = await self.session.scalar(
            _filtered(select(func.count()).select_from(Article), filters)
        )
        query = _filtered(_article_select(viewer_id, with_body=False), filters)
        rows = await self.session.execute(
            query.order_by(*_NEWEST_FIRST).limit(limit).offset(offset)
        )
        articles = [_view(row) for row in rows]
        if articles:
            tags = await self.tags.for_articles([article.id for article in articles])
            for article in articles:
                article.tags = tags.get(article.id, [])
        return ArticlePage(articles=articles, count=count or 0)

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

    async def favorite(self, user_id: int, article_id: int) -> None:
        if not await self.hold(article_id):
            return
        row = {"user_id": user_id, "article_id": article_id, "created_at": utcnow()}
        added = await insert_ignoring_conflicts(self.session, Favorite.__table__, [row])  # type: ignore[arg-type]
        if added:
            await self._bump_favorites(article_id, 1)

    async def unfavorite(self, user_id: int, article_id: int) -> None:
        result = await self.session.execute(
            delete(Favorite).where(Favorite.user_id == user_id, Favorite.article_id == article_id)
        )
        if getattr(result, "rowcount", 0):
            await self._bump_favorites(article_id, -1)

    async def _bump_favorites(self, article_id: int, delta: int) -> None:
        # Computed by the database under its row lock: exact however many run at once.
        await self.session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(favorites_count=Article.favorites_count + delta)
            .execution_options(synchronize_session=False)
        )


def _article_select(viewer_id: int | None, *, with_body: bool) -> Select[Any]:
    columns: list[Any] = [
        Article.id,
        Article.slug,
        Article.title,
        Article.description,
        Article.created_at,
        Article.updated_at,
        Article.favorites_count,
        User.username,
        User.bio,
        User.image,
    ]
    if with_body:
        columns.append(Article.body)
    if viewer_id is None:
        columns += [false().label("favorited"), false().label("following")]
    else:
        columns += [
            exists()
            .where(Favorite.article_id == Article.id, Favorite.user_id == viewer_id)
            .label("favorited"),
            exists()
            .where(Follow.follower_id == viewer_id, Follow.followee_id == Article.author_id)
            .label("following"),
        ]
    return select(*columns).join(User, User.id == Article.author_id)


def _filtered(query: Select[Any], filters: ArticleFilters) -> Select[Any]:
    # Subqueries use aliases so they never correlate with the author join of the outer query.
    if filters.tag is not None:
        tag_link, tag = aliased(ArticleTag), aliased(Tag)
        query = query.where(
            Article.id.in_(
                select(tag_link.article_id)
                .join(tag, tag.id == tag_link.tag_id)
                .where(tag.name == filters.tag)
            )
        )
    if filters.author is not None:
        author = aliased(User)
        query = query.where(
            Article.author_id.in_(
                select(author.id).where(func.lower(author.username) == filters.author.lower())
            )
        )
    if filters.favorited_by is not None:
        fan, favorite = aliased(User), aliased(Favorite)
        query = query.where(
            Article.id.in_(
                select(favorite.article_id)
                .join(fan, fan.id == favorite.user_id)
                .where(func.lower(fan.username) == filters.favorited_by.lower())
            )
        )
    if filters.followed_by is not None:
        follow = aliased(Follow)
        query = query.where(
            Article.author_id.in_(
                select(follow.followee_id).where(follow.follower_id == filters.followed_by)
            )
        )
    return query


def _view(row: Row[Any]) -> ArticleView:
    mapping = row._mapping
    return ArticleView(
        id=mapping["id"],
        slug=mapping["slug"],
        title=mapping["title"],
        description=mapping["description"],
        body=mapping.get("body"),
        created_at=mapping["created_at"],
        updated_at=mapping["updated_at"],
        favorites_count=mapping["favorites_count"],
        favorited=bool(mapping["favorited"]),
        author=ProfileView(
            username=mapping["username"],
            bio=mapping["bio"],
            image=mapping["image"],
            following=bool(mapping["following"]),
        ),
    )
