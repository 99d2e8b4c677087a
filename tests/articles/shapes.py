"""What an article and an article list look like on the wire."""

from __future__ import annotations

from typing import Any

import httpx

from pressroom.articles import schemas
from tests.factories import PROFILE_KEYS, TIMESTAMP

LIST_ITEM_KEYS = {
    "slug",
    "title",
    "description",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}
ARTICLE_KEYS = LIST_ITEM_KEYS | {"body"}


def _check(article: dict[str, Any], keys: set[str]) -> None:
    assert set(article) == keys, sorted(article)
    assert set(article["author"]) == PROFILE_KEYS
    assert TIMESTAMP.match(article["createdAt"]), article["createdAt"]
    assert TIMESTAMP.match(article["updatedAt"]), article["updatedAt"]
    assert article["updatedAt"] >= article["createdAt"]


def article_of(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The `article` of a single-article response, after checking its exact shape."""
    assert response.status_code == status, response.text
    schemas.SingleArticleResponse.model_validate(response.json())
    assert list(response.json()) == ["article"]
    article: dict[str, Any] = response.json()["article"]
    _check(article, ARTICLE_KEYS)
    return article


def page_of(response: httpx.Response) -> tuple[list[dict[str, Any]], int]:
    """(articles, articlesCount) of a list response; the items never carry `body`."""
    assert response.status_code == 200, response.text
    schemas.MultipleArticlesResponse.model_validate(response.json())
    body = response.json()
    assert set(body) == {"articles", "articlesCount"}
    for article in body["articles"]:
        _check(article, LIST_ITEM_KEYS)
    articles: list[dict[str, Any]] = body["articles"]
    count: int = body["articlesCount"]
    assert isinstance(count, int)
    return articles, count


def slugs_of(response: httpx.Response) -> list[str]:
    return [article["slug"] for article in page_of(response)[0]]
