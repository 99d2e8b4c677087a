from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from pressroom.articles.service import ArticleReadService, ArticleService
from pressroom.core.db import SessionDep
from pressroom.core.text import Line


# Dependencies are `async def`: a plain `def` would be run in the thread pool on every request.
async def get_article_service(session: SessionDep) -> ArticleService:
    return ArticleService(session)


async def get_article_read_service(request: Request) -> ArticleReadService:
    # Reads take no session: no transaction, no ORM, one pooled connection per statement.
    return ArticleReadService(request.app.state.database.reader)


ArticleServiceDep = Annotated[ArticleService, Depends(get_article_service)]
ArticleReadServiceDep = Annotated[ArticleReadService, Depends(get_article_read_service)]
SlugPath = Annotated[Line, Path(max_length=320, description="The article's slug.")]
