from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.comments import schemas
from pressroom.comments.models import Comment
from tests.factories import (
    BAD_TOKEN,
    PROFILE_KEYS,
    TIMESTAMP,
    Person,
    assert_error,
    caller_headers,
    db_rows,
    make_article,
    make_comment,
    register,
)

COMMENT_KEYS = {"id", "createdAt", "updatedAt", "body", "author"}


def check_comment(comment: dict[str, Any]) -> None:
    assert set(comment) == COMMENT_KEYS
    assert set(comment["author"]) == PROFILE_KEYS
    assert isinstance(comment["id"], int)
    assert TIMESTAMP.match(comment["createdAt"]), comment["createdAt"]
    assert TIMESTAMP.match(comment["updatedAt"]), comment["updatedAt"]


def comment_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    schemas.SingleCommentResponse.model_validate(response.json())
    assert list(response.json()) == ["comment"]
    comment: dict[str, Any] = response.json()["comment"]
    check_comment(comment)
    return comment


def comments_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    schemas.MultipleCommentsResponse.model_validate(response.json())
    assert list(response.json()) == ["comments"]
    comments: list[dict[str, Any]] = response.json()["comments"]
    for comment in comments:
        check_comment(comment)
    return comments


async def comment_rows(app: FastAPI) -> list[tuple[Any, ...]]:
    query = select(Comment.id, Comment.body, Comment.article_id, Comment.author_id)
    return await db_rows(app, query.order_by(Comment.id))


async def post_comment(
    client: httpx.AsyncClient, slug: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/api/articles/{slug}/comments", json={"comment": body}, headers=headers
    )


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Person:
    return await register(client, "alice")


@pytest.fixture
async def slug(client: httpx.AsyncClient, alice: Person) -> str:
    return str((await make_article(client, alice))["slug"])


# ---------------------------------------------------------------- create
async def test_create_returns_the_comment(
    client: httpx.AsyncClient, alice: Person, slug: str
) -> None:
    bob = await register(client, "bob")
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    comment = comment_of(await post_comment(client, slug, {"body": "Nice read."}, bob.auth))
    assert comment["body"] == "Nice read."
    assert comment["createdAt"] == comment["updatedAt"]
    assert comment["author"] == {"username": "bob", "bio": None, "image": None, "following": False}
    listed = comments_of(await client.get(f"/api/articles/{slug}/comments"))
    assert listed == [comment]


@pytest.mark.parametrize("caller", ["anonymous", "bad-token"])
async def test_create_requires_a_valid_token(
    client: httpx.AsyncClient, app: FastAPI, slug: str, caller: str
) -> None:
    headers = await caller_headers(client, caller)
    response = await post_comment(client, slug, {"body": "hi"}, headers)
    assert_error(response, 401, "token")
    assert await comment_rows(app) == []


async def test_create_on_unknown_article_is_404(client: httpx.AsyncClient, alice: Person) -> None:
    response = await post_comment(client, "no-such-article", {"body": "hi"}, alice.auth)
    assert_error(response, 404, "article", "not found")


@pytest.mark.parametrize(
    ("comment", "key"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": " \n\t "}, "body"),
        ({"body": None}, "body"),
        ({"body": 7}, "body"),
        ({"body": "b" * (8 * 1024 + 1)}, "body"),
        ({"body": "é" * (4 * 1024 + 1)}, "body"),
        ({"body": "nul\x00"}, "body"),
        (None, "comment"),
        ("just text", "comment"),
    ],
    ids=lambda value: repr(value)[:16],
)
async def test_create_validates_the_body(
    client: httpx.AsyncClient, app: FastAPI, alice: Person, slug: str, comment: Any, key: str
) -> None:
    assert_error(await post_comment(client, slug, comment, alice.auth), 422, key)
    assert await comment_rows(app) == []


@pytest.mark.parametrize(
    "body", ["x", "b" * (8 * 1024), "é" * (4 * 1024), "two\nlines"], ids=lambda v: str(len(v))
)
async def test_create_accepts_bodies_within_the_bounds(
    client: httpx.AsyncClient, alice: Person, slug: str, body: str
) -> None:
    comment = comment_of(await post_comment(client, slug, {"body": body}, alice.auth))
    assert comment["body"] == body


async def test_create_ignores_read_only_fields(
    client: httpx.AsyncClient, app: FastAPI, alice: Person, slug: str
) -> None:
    await register(client, "bob")
    forged = {
        "body": "mine",
        "id": 999,
        "author": {"username": "bob"},
        "createdAt": "2000-01-01T00:00:00.000Z",
        "updatedAt": "2000-01-01T00:00:00.000Z",
    }
    comment = comment_of(await post_comment(client, slug, forged, alice.auth))
    assert comment["id"] == 1
    assert comment["author"]["username"] == "alice"
    assert not comment["createdAt"].startswith("2000")
    assert await comment_rows(app) == [(1, "mine", 1, 1)]


# ---------------------------------------------------------------- list
async def test_list_is_newest_first_and_only_this_articles(
    client: httpx.AsyncClient, alice: Person, slug: str
) -> None:
    other = (await make_article(client, alice, title="Other"))["slug"]
    ids = [(await make_comment(client, alice, slug, f"c{n}"))["id"] for n in range(3)]
    await make_comment(client, alice, other, "elsewhere")
    comments = comments_of(await client.get(f"/api/articles/{slug}/comments"))
    assert [comment["id"] for comment in comments] == ids[::-1]
    assert [comment["body"] for comment in comments] == ["c2", "c1", "c0"]


async def test_list_without_comments_is_empty(client: httpx.AsyncClient, slug: str) -> None:
    response = await client.get(f"/api/articles/{slug}/comments")
    assert response.json() == {"comments": []}


async def test_list_shows_following_per_viewer(
    client: httpx.AsyncClient, alice: Person, slug: str
) -> None:
    bob = await register(client, "bob")
    await make_comment(client, alice, slug)
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    seen: dict[str, bool] = {}
    for name, headers in [("bob", bob.auth), ("alice", alice.auth), ("anonymous", {})]:
        [comment] = comments_of(await client.get(f"/api/articles/{slug}/comments", headers=headers))
        seen[name] = comment["author"]["following"]
    assert seen == {"bob": True, "alice": False, "anonymous": False}


async def test_list_pages_with_limit_and_offset(
    client: httpx.AsyncClient, alice: Person, slug: str
) -> None:
    ids = [(await make_comment(client, alice, slug, f"c{n}"))["id"] for n in range(3)]
    response = await client.get(f"/api/articles/{slug}/comments?limit=1&offset=1")
    assert [comment["id"] for comment in comments_of(response)] == [ids[1]]


@pytest.mark.parametrize(("name", "value"), [("limit", "0"), ("limit", "101"), ("offset", "-1")])
async def test_list_paging_out_of_bounds_is_422(
    client: httpx.AsyncClient, slug: str, name: str, value: str
) -> None:
    response = await client.get(f"/api/articles/{slug}/comments", params={name: value})
    assert_error(response, 422, name)


async def test_list_of_unknown_article_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/articles/nothing/comments")
    assert_error(response, 404, "article", "not found")


async def test_list_with_bad_token_is_401(client: httpx.AsyncClient, slug: str) -> None:
    response = await client.get(f"/api/articles/{slug}/comments", headers=BAD_TOKEN)
    assert_error(response, 401, "token", "is invalid")


# ---------------------------------------------------------------- delete
async def test_author_deletes_their_comment(
    client: httpx.AsyncClient, app: FastAPI, alice: Person, slug: str
) -> None:
    doomed = await make_comment(client, alice, slug, "doomed")
    kept = await make_comment(client, alice, slug, "kept")
    response = await client.delete(
        f"/api/articles/{slug}/comments/{doomed['id']}", headers=alice.auth
    )
    assert response.status_code == 204
    assert response.content == b""
    assert comments_of(await client.get(f"/api/articles/{slug}/comments")) == [kept]
    assert await comment_rows(app) == [(2, "kept", 1, 1)]


async def test_deleting_twice_is_404(client: httpx.AsyncClient, alice: Person, slug: str) -> None:
    comment = await make_comment(client, alice, slug)
    path = f"/api/articles/{slug}/comments/{comment['id']}"
    await client.delete(path, headers=alice.auth)
    assert_error(await client.delete(path, headers=alice.auth), 404, "comment", "not found")


@pytest.mark.parametrize(
    ("caller", "status", "key"),
    [
        ("anonymous", 401, "token"),
        ("bad-token", 401, "token"),
        ("other", 403, "comment"),
        ("article-author", 403, "comment"),
    ],
)
async def test_only_the_comment_author_may_delete(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: Person,
    slug: str,
    caller: str,
    status: int,
    key: str,
) -> None:
    bob = await register(client, "bob")
    comment = await make_comment(client, bob, slug, "bob's words")
    rows = await comment_rows(app)
    headers = alice.auth if caller == "article-author" else await caller_headers(client, caller)
    response = await client.delete(
        f"/api/articles/{slug}/comments/{comment['id']}", headers=headers
    )
    assert_error(response, status, key)
    assert comments_of(await client.get(f"/api/articles/{slug}/comments")) == [comment]
    assert await comment_rows(app) == rows


async def test_deleting_via_another_articles_slug_is_404(
    client: httpx.AsyncClient, app: FastAPI, alice: Person, slug: str
) -> None:
    other = (await make_article(client, alice, title="Other"))["slug"]
    comment = await make_comment(client, alice, slug)
    response = await client.delete(
        f"/api/articles/{other}/comments/{comment['id']}", headers=alice.auth
    )
    assert_error(response, 404, "comment", "not found")
    assert len(await comment_rows(app)) == 1


@pytest.mark.parametrize(
    ("path", "status", "key"),
    [
        ("/api/articles/nothing/comments/1", 404, "article"),
        ("/api/articles/{slug}/comments/999", 404, "comment"),
        ("/api/articles/{slug}/comments/0", 422, "comment_id"),
        ("/api/articles/{slug}/comments/abc", 422, "comment_id"),
        ("/api/articles/{slug}/comments/2147483648", 422, "comment_id"),
    ],
)
async def test_deleting_a_missing_comment(
    client: httpx.AsyncClient, alice: Person, slug: str, path: str, status: int, key: str
) -> None:
    await make_comment(client, alice, slug)
    response = await client.delete(path.format(slug=slug), headers=alice.auth)
    assert_error(response, status, key)
