from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.articles.shapes import article_of, page_of
from tests.factories import assert_error, make_article, register


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (["zebra", "apple", "mango"], ["apple", "mango", "zebra"]),
        (["go", "go", "rust", "go"], ["go", "rust"]),
        (["", "  ", "kept", "\u00a0"], ["kept"]),
        ([" padded ", "padded"], ["padded"]),
        (["Go", "go"], ["Go", "go"]),
        ([], []),
        (None, []),
    ],
    ids=["sorted", "deduplicated", "blanks-dropped", "trimmed", "case-kept", "empty", "null"],
)
async def test_tag_list_is_sorted_unique_and_without_blanks(
    client: httpx.AsyncClient, sent: list[str] | None, stored: list[str]
) -> None:
    alice = await register(client, "alice")
    created = await make_article(client, alice, tagList=sent)
    assert created["tagList"] == stored
    assert article_of(await client.get(f"/api/articles/{created['slug']}"))["tagList"] == stored
    [item], _ = page_of(await client.get("/api/articles"))
    assert item["tagList"] == stored


@pytest.mark.parametrize(
    ("tags", "ok"),
    [
        ([f"t{n}" for n in range(10)], True),
        ([f"t{n}" for n in range(10)] + ["t0", " ", ""], True),
        ([f"t{n}" for n in range(11)], False),
        (["x" * 32], True),
        (["x" * 33], False),
    ],
    ids=["ten", "ten-after-dedup", "eleven", "32-chars", "33-chars"],
)
async def test_tag_list_bounds(client: httpx.AsyncClient, tags: list[str], ok: bool) -> None:
    alice = await register(client, "alice")
    body: dict[str, Any] = {
        "article": {"title": "t", "description": "d", "body": "b", "tagList": tags}
    }
    response = await client.post("/api/articles", json=body, headers=alice.auth)
    if ok:
        assert article_of(response, 201)["tagList"] == sorted(set(tags) - {"", " "})
    else:
        assert_error(response, 422, "tagList")


async def test_update_replaces_the_tag_list(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, tagList=["old", "both"]))["slug"]
    body = {"article": {"tagList": ["new", "both", "new"]}}
    article = article_of(await client.put(f"/api/articles/{slug}", json=body, headers=alice.auth))
    assert article["tagList"] == ["both", "new"]
    assert page_of(await client.get("/api/articles?tag=old")) == ([], 0)
    assert page_of(await client.get("/api/articles?tag=new"))[1] == 1
