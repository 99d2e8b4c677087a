from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from pressroom.articles.models import Article, Favorite
from pressroom.comments.models import Comment
from pressroom.tags.models import ArticleTag
from tests.articles.shapes import article_of, page_of
from tests.factories import (
    assert_error,
    caller_headers,
    db_rows,
    make_article,
    make_comment,
    register,
)

VALID = {"title": "A title", "description": "about it", "body": "the body"}
READ_ONLY = {
    "slug": "chosen-by-client",
    "author": {"username": "bob", "bio": "x", "image": None, "following": True},
    "favorited": True,
    "favoritesCount": 99,
    "createdAt": "2000-01-01T00:00:00.000Z",
    "updatedAt": "2000-01-01T00:00:00.000Z",
    "id": 4242,
    "authorId": 2,
}
TOO_LONG = [
    ({"title": "t" * 257}, "title"),
    ({"description": "d" * 1025}, "description"),
    ({"body": "b" * (64 * 1024 + 1)}, "body"),
    ({"body": "é" * (32 * 1024 + 1)}, "body"),  # 2 bytes each: the limit counts bytes
    ({"tagList": [f"tag{i}" for i in range(11)]}, "tagList"),
    ({"tagList": ["t" * 33]}, "tagList"),
]
MALFORMED = [
    ({"title": " \t "}, "title"),
    ({"title": "two\nlines"}, "title"),
    ({"description": "   "}, "description"),
    ({"body": "\n"}, "body"),
    ({"body": "nul \x00"}, "body"),
    ({"tagList": "go"}, "tagList"),
    ({"tagList": ["new\nline"]}, "tagList"),
]


async def article_rows(app: FastAPI) -> list[tuple[Any, ...]]:
    query = select(
        Article.id,
        Article.slug,
        Article.title,
        Article.description,
        Article.body,
        Article.author_id,
        Article.favorites_count,
        Article.created_at,
        Article.updated_at,
    )
    return await db_rows(app, query.order_by(Article.id))


async def count(app: FastAPI, model: type[Any], article_id: int) -> int:
    rows = await db_rows(
        app, select(func.count()).select_from(model).where(model.article_id == article_id)
    )
    return int(rows[0][0])


# ---------------------------------------------------------------- create
async def test_create_returns_the_new_article(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    body = {"article": {**VALID, "tagList": ["python", "fastapi"]}}
    article = article_of(await client.post("/api/articles", json=body, headers=alice.auth), 201)
    assert {key: article[key] for key in VALID} == VALID
    assert article["slug"] == "a-title"
    assert article["tagList"] == ["fastapi", "python"]
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert article["author"] == {
        "username": "alice",
        "bio": None,
        "image": None,
        "following": False,
    }
    assert article["createdAt"] == article["updatedAt"]
    assert article_of(await client.get("/api/articles/a-title")) == article


async def test_create_without_tag_list_has_no_tags(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    assert (await make_article(client, alice))["tagList"] == []


@pytest.mark.parametrize("caller", ["anonymous", "bad-token"])
async def test_create_requires_a_valid_token(
    client: httpx.AsyncClient, app: FastAPI, caller: str
) -> None:
    headers = await caller_headers(client, caller)
    response = await client.post("/api/articles", json={"article": VALID}, headers=headers)
    assert_error(response, 401, "token")
    assert await article_rows(app) == []


@pytest.mark.parametrize("missing", ["title", "description", "body"])
async def test_create_requires_title_description_and_body(
    client: httpx.AsyncClient, missing: str
) -> None:
    alice = await register(client, "alice")
    article = {key: value for key, value in VALID.items() if key != missing}
    response = await client.post("/api/articles", json={"article": article}, headers=alice.auth)
    assert_error(response, 422, missing, "can't be blank")


@pytest.mark.parametrize("body", [{}, {"title": "x"}, {"article": None}, {"article": []}])
async def test_create_requires_the_article_envelope(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    alice = await register(client, "alice")
    response = await client.post("/api/articles", json=body, headers=alice.auth)
    assert_error(response, 422, "article")


@pytest.mark.parametrize(("fields", "key"), TOO_LONG + MALFORMED)
async def test_create_validates_fields(
    client: httpx.AsyncClient, app: FastAPI, fields: dict[str, Any], key: str
) -> None:
    alice = await register(client, "alice")
    body = {"article": {**VALID, **fields}}
    assert_error(await client.post("/api/articles", json=body, headers=alice.auth), 422, key)
    assert await article_rows(app) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "t" * 256},
        {"description": "d" * 1024},
        {"body": "b" * (64 * 1024)},
        {"body": "é" * (32 * 1024)},
        {"tagList": [f"tag{i}" for i in range(10)]},
        {"tagList": ["t" * 32]},
        {"body": "line one\nline two\ttabbed"},
    ],
    ids=["title", "description", "body-ascii", "body-utf8", "ten-tags", "long-tag", "multiline"],
)
async def test_create_accepts_values_just_inside_the_bounds(
    client: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    alice = await register(client, "alice")
    body = {"article": {**VALID, **fields}}
    article = article_of(await client.post("/api/articles", json=body, headers=alice.auth), 201)
    stored = article_of(await client.get(f"/api/articles/{article['slug']}"))
    for key, value in fields.items():
        assert stored[key] == (sorted(value) if key == "tagList" else value)


async def test_create_trims_the_title(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    article = await make_article(client, alice, title="  Padded title  ")
    assert (article["title"], article["slug"]) == ("Padded title", "padded-title")


async def test_create_ignores_read_only_fields(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    body = {"article": {**VALID, **READ_ONLY}}
    article = article_of(await client.post("/api/articles", json=body, headers=alice.auth), 201)
    assert article["slug"] == "a-title"
    assert article["author"]["username"] == "alice"
    assert (article["favorited"], article["favoritesCount"]) == (False, 0)
    assert not article["createdAt"].startswith("2000")
    assert not article["updatedAt"].startswith("2000")
    [row] = await article_rows(app)
    assert (row[0], row[1], row[5], row[6]) == (1, "a-title", 1, 0)


# ---------------------------------------------------------------- update
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "A new title"),
        ("description", "a new description"),
        ("body", "a new body"),
        ("tagList", ["z", "y", "z"]),
    ],
)
async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    alice = await register(client, "alice")
    before = await make_article(client, alice, tagList=["keep"])
    response = await client.put(
        f"/api/articles/{before['slug']}", json={"article": {field: value}}, headers=alice.auth
    )
    after = article_of(response)
    expected = {**before, field: sorted(set(value)) if field == "tagList" else value}
    if field == "title":
        expected["slug"] = "a-new-title"
    assert {key: after[key] for key in after if key != "updatedAt"} == {
        key: expected[key] for key in expected if key != "updatedAt"
    }
    assert after["updatedAt"] >= before["updatedAt"]
    assert article_of(await client.get(f"/api/articles/{after['slug']}")) == after


async def test_update_with_no_fields_keeps_the_content(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    before = await make_article(client, alice, tagList=["keep"])
    response = await client.put(
        f"/api/articles/{before['slug']}", json={"article": {}}, headers=alice.auth
    )
    after = article_of(response)
    assert {key: after[key] for key in after if key != "updatedAt"} == {
        key: before[key] for key in before if key != "updatedAt"
    }


@pytest.mark.parametrize("cleared", [[], None, [" ", ""]], ids=["empty", "null", "blanks"])
async def test_update_tag_list_can_clear_the_tags(client: httpx.AsyncClient, cleared: Any) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, tagList=["go"]))["slug"]
    body = {"article": {"tagList": cleared}}
    article = article_of(await client.put(f"/api/articles/{slug}", json=body, headers=alice.auth))
    assert article["tagList"] == []


@pytest.mark.parametrize("field", ["title", "description", "body"])
@pytest.mark.parametrize("value", [None, ""], ids=["null", "empty"])
async def test_update_refuses_blanking_a_required_field(
    client: httpx.AsyncClient, app: FastAPI, field: str, value: Any
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    rows = await article_rows(app)
    body = {"article": {field: value}}
    response = await client.put(f"/api/articles/{slug}", json=body, headers=alice.auth)
    assert_error(response, 422, field, "can't be blank")
    assert await article_rows(app) == rows


@pytest.mark.parametrize(("fields", "key"), [*TOO_LONG, *MALFORMED[1:3], MALFORMED[-1]])
async def test_update_validates_fields(
    client: httpx.AsyncClient, app: FastAPI, fields: dict[str, Any], key: str
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, tagList=["keep"]))["slug"]
    rows = await article_rows(app)
    body = {"article": fields}
    response = await client.put(f"/api/articles/{slug}", json=body, headers=alice.auth)
    assert_error(response, 422, key)
    assert await article_rows(app) == rows
    assert article_of(await client.get(f"/api/articles/{slug}"))["tagList"] == ["keep"]


async def test_update_ignores_read_only_fields(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    before = await make_article(client, alice)
    rows = await article_rows(app)
    body = {"article": READ_ONLY}
    response = await client.put(f"/api/articles/{before['slug']}", json=body, headers=alice.auth)
    after = article_of(response)
    assert after["slug"] == before["slug"]
    assert after["createdAt"] == before["createdAt"]
    assert after["author"]["username"] == "alice"
    assert (after["favorited"], after["favoritesCount"]) == (False, 0)
    [row] = await article_rows(app)
    assert row[:8] == rows[0][:8]  # everything but updatedAt


async def test_update_unknown_article_is_404(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    body = {"article": {"title": "x"}}
    response = await client.put("/api/articles/nothing-here", json=body, headers=alice.auth)
    assert_error(response, 404, "article", "not found")


# ---------------------------------------------------------------- who may write
OUTSIDERS = [("anonymous", 401, "token"), ("bad-token", 401, "token"), ("other", 403, "article")]


@pytest.mark.parametrize(("caller", "status", "key"), OUTSIDERS)
async def test_only_the_author_may_update(
    client: httpx.AsyncClient, app: FastAPI, caller: str, status: int, key: str
) -> None:
    alice = await register(client, "alice")
    before = await make_article(client, alice, tagList=["mine"])
    rows = await article_rows(app)
    headers = await caller_headers(client, caller)
    changes = {"title": "Owned", "body": "defaced", "tagList": ["spam"]}
    response = await client.put(
        f"/api/articles/{before['slug']}", json={"article": changes}, headers=headers
    )
    assert_error(response, status, key)
    assert article_of(await client.get(f"/api/articles/{before['slug']}")) == before
    assert await article_rows(app) == rows


@pytest.mark.parametrize(("caller", "status", "key"), OUTSIDERS)
async def test_only_the_author_may_delete(
    client: httpx.AsyncClient, app: FastAPI, caller: str, status: int, key: str
) -> None:
    alice = await register(client, "alice")
    before = await make_article(client, alice)
    rows = await article_rows(app)
    headers = await caller_headers(client, caller)
    response = await client.delete(f"/api/articles/{before['slug']}", headers=headers)
    assert_error(response, status, key)
    assert article_of(await client.get(f"/api/articles/{before['slug']}")) == before
    assert await article_rows(app) == rows


# ---------------------------------------------------------------- delete
async def test_delete_by_the_author_removes_the_article(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    response = await client.delete(f"/api/articles/{slug}", headers=alice.auth)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await client.get(f"/api/articles/{slug}"), 404, "article", "not found")
    assert page_of(await client.get("/api/articles")) == ([], 0)
    assert await article_rows(app) == []


async def test_delete_twice_is_404(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    await client.delete(f"/api/articles/{slug}", headers=alice.auth)
    response = await client.delete(f"/api/articles/{slug}", headers=alice.auth)
    assert_error(response, 404, "article", "not found")


async def test_delete_removes_comments_favorites_and_tag_links(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    slug = (await make_article(client, alice, tagList=["gone"]))["slug"]
    other = (await make_article(client, alice, title="Other", tagList=["kept"]))["slug"]
    for target in (slug, other):
        await make_comment(client, bob, target)
        await client.post(f"/api/articles/{target}/favorite", headers=bob.auth)
    assert (await client.delete(f"/api/articles/{slug}", headers=alice.auth)).status_code == 204
    for model in (Comment, Favorite, ArticleTag):
        assert await count(app, model, 1) == 0
        assert await count(app, model, 2) == 1
    assert page_of(await client.get("/api/articles?favorited=bob"))[1] == 1
    assert (await client.get("/api/tags")).json() == {"tags": ["kept"]}
