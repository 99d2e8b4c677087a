from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from pressroom.articles.service import ArticleService
from pressroom.core.db import SessionDep
from pressroom.core.text import Line


# Dependencies are `async def`: a plain `def` would be run in the thread pool on every request.
async def get_article_service(session: SessionDep) -> ArticleService:
    return ArticleService(session)


ArticleServiceDep = Annotated[ArticleService, Depends(get_article_service)]
SlugPath = Annotated[Line, Path(max_length=320, description="The article's slug.")]
