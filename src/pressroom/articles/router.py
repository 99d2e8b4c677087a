"""Articles: list, feed, read, write, favorite."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from pressroom.articles import schemas
from pressroom.articles.dependencies import ArticleReadServiceDep, ArticleServiceDep, SlugPath
from pressroom.articles.queries import ArticleFilters
from pressroom.articles.views import ArticleJSON
from pressroom.auth.dependencies import (
    OPTIONAL_AUTH,
    ArticleWriter,
    CurrentCaller,
    OptionalCaller,
)
from pressroom.auth.rate_limits import limit_article_creation
from pressroom.core.errors import error_responses
from pressroom.core.pagination import Limit, Offset
from pressroom.core.responses import json_response
from pressroom.core.text import Line

router = APIRouter(prefix="/articles", tags=["articles"])

UsernameQuery = Annotated[Line | None, Query(max_length=64)]


def _article(article: ArticleJSON, status_code: int = 200) -> Response:
    return json_response({"article": article}, status_code=status_code)


@router.get(
    "",
    summary="List articles, newest first",
    response_model=schemas.MultipleArticlesResponse,
    responses=error_responses(401, 422),
    openapi_extra=OPTIONAL_AUTH,
)
async def list_articles(
    caller: OptionalCaller,
    service: ArticleReadServiceDep,
    query: Annotated[schemas.ListArticlesQuery, Query()],
) -> Response:
    filters = ArticleFilters(tag=query.tag, author=query.author, favorited_by=query.favorited)
    viewer_id = caller.id if caller else None
    page = await service.list(filters, viewer_id, limit=query.limit, offset=query.offset)
    return json_response(page.to_json())


@router.get(
    "/feed",
    summary="Articles by the authors the caller follows, newest first",
    response_model=schemas.MultipleArticlesResponse,
    responses=error_responses(401, 422),
)
async def get_articles_feed(
    caller: CurrentCaller, service: ArticleReadServiceDep, limit: Limit = 20, offset: Offset = 0
) -> Response:
    filters = ArticleFilters(followed_by=caller.id)
    page = await service.list(filters, caller.id, limit=limit, offset=offset)
    return json_response(page.to_json())


@router.get(
    "/{slug}",
    summary="Get an article",
    response_model=schemas.SingleArticleResponse,
    responses=error_responses(401, 404, 422),
    openapi_extra=OPTIONAL_AUTH,
)
async def get_article(
    slug: SlugPath, caller: OptionalCaller, service: ArticleReadServiceDep
) -> Response:
    return _article(await service.get(slug, caller.id if caller else None))


@router.post(
    "",
    summary="Create an article",
    status_code=201,
    response_model=schemas.SingleArticleResponse,
    responses=error_responses(401, 422, 429),
    dependencies=[Depends(limit_article_creation)],
)
async def create_article(
    body: schemas.NewArticleRequest, caller: ArticleWriter, service: ArticleServiceDep
) -> Response:
    return _article(await service.create(caller.id, body.article), status_code=201)


@router.put(
    "/{slug}",
    summary="Update an article (author only)",
    response_model=schemas.SingleArticleResponse,
    responses=error_responses(401, 403, 404, 422),
)
async def update_article(
    slug: SlugPath,
    body: schemas.UpdateArticleRequest,
    caller: ArticleWriter,
    service: ArticleServiceDep,
) -> Response:
    return _article(await service.update(slug, caller.id, body.article))


@router.delete(
    "/{slug}",
    summary="Delete an article (author only)",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_article(
    slug: SlugPath, caller: ArticleWriter, service: ArticleServiceDep
) -> Response:
    await service.delete(slug, caller.id)
    return Response(status_code=204)


@router.post(
    "/{slug}/favorite",
    summary="Favorite an article (idempotent)",
    response_model=schemas.SingleArticleResponse,
    responses=error_responses(401, 404, 422),
)
async def favorite_article(
    slug: SlugPath, caller: ArticleWriter, service: ArticleServiceDep
) -> Response:
    return _article(await service.favorite(slug, caller.id))


@router.delete(
    "/{slug}/favorite",
    summary="Unfavorite an article (idempotent)",
    response_model=schemas.SingleArticleResponse,
    responses=error_responses(401, 404, 422),
)
async def unfavorite_article(
    slug: SlugPath, caller: ArticleWriter, service: ArticleServiceDep
) -> Response:
    return _article(await service.unfavorite(slug, caller.id))
