from __future__ import annotations

from typing import Any

import httpx

from pressroom.tags import schemas
from tests.factories import BAD_TOKEN, make_article, register


def tags_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    schemas.TagsResponse.model_validate(response.json())
    assert list(response.json()) == ["tags"]
    tags: list[str] = response.json()["tags"]
    return tags


async def test_no_articles_means_no_tags(client: httpx.AsyncClient) -> None:
    assert tags_of(await client.get("/api/tags")) == []


async def test_tags_are_listed_most_used_first_then_by_name(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    for title, tags in [
        ("One", ["rare", "common", "middle"]),
        ("Two", ["common", "middle", "also-rare"]),
        ("Three", ["common"]),
        ("Four", []),
    ]:
        await make_article(client, alice, title=title, tagList=tags)
    assert tags_of(await client.get("/api/tags")) == ["common", "middle", "also-rare", "rare"]


async def test_tags_no_longer_used_disappear(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    retagged = (await make_article(client, alice, title="One", tagList=["old", "stays"]))["slug"]
    deleted = (await make_article(client, alice, title="Two", tagList=["doomed"]))["slug"]
    body: dict[str, Any] = {"article": {"tagList": ["stays", "new"]}}
    await client.put(f"/api/articles/{retagged}", json=body, headers=alice.auth)
    await client.delete(f"/api/articles/{deleted}", headers=alice.auth)
    assert tags_of(await client.get("/api/tags")) == ["new", "stays"]


async def test_tags_need_no_authentication(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    await make_article(client, alice, tagList=["go"])
    assert tags_of(await client.get("/api/tags", headers=alice.auth)) == ["go"]
    # No auth at all on this endpoint: even a bad token is not looked at.
    assert tags_of(await client.get("/api/tags", headers=BAD_TOKEN)) == ["go"]
