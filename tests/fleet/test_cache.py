"""Cached reads stay fresh across workers: a write through one worker invalidates what it
changed on every worker, so the next read anywhere shows the change at once.

Each test first proves the answer really is cached: a change made in the database behind the
API's back (no event, so no invalidation) is not seen. Then the same kind of change made
through the API on another worker is seen at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Person, make_article, make_comment, register
from tests.fleet.cluster import Cluster

pytestmark = pytest.mark.slow


async def get(client: httpx.AsyncClient, path: str, person: Person | None = None) -> Any:
    response = await client.get(path, headers=person.auth if person else None)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_article_changed_through_one_worker_is_fresh_on_another(
    workers: list[httpx.AsyncClient], cluster: Cluster
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")
    article = await make_article(a, alice, title="Cached", tagList=["before"])
    path = f"/api/articles/{article['slug']}"
    first = await b.get(path)
    etag = first.headers["etag"]
    await get(c, "/api/articles")
    await get(c, "/api/tags")

    await cluster.execute("UPDATE articles SET body = 'behind the back'")
    assert (await get(b, path))["article"]["body"] == "the body"  # B's answer is cached
    assert (await b.get(path, headers={"If-None-Match": etag})).status_code == 304

    changed = await a.put(
        path,
        json={"article": {"body": "a new body", "description": "new", "tagList": ["after"]}},
        headers=alice.auth,
    )
    assert changed.status_code == 200, changed.text

    assert (await get(b, path))["article"]["body"] == "a new body"
    listed = await get(c, "/api/articles")
    assert [(x["description"], x["tagList"]) for x in listed["articles"]] == [("new", ["after"])]
    assert "after" in (await get(c, "/api/tags"))["tags"]
    # The ETag B handed out before the change no longer matches: a full answer, not 304.
    revalidated = await b.get(path, headers={"If-None-Match": etag})
    assert revalidated.status_code == 200
    assert revalidated.json()["article"]["body"] == "a new body"
    assert revalidated.headers["etag"] != etag

    assert (await a.delete(path, headers=alice.auth)).status_code == 204
    assert (await b.get(path)).status_code == 404
    assert (await get(c, "/api/articles"))["articles"] == []


async def test_a_favorite_through_one_worker_counts_at_once_on_another(
    workers: list[httpx.AsyncClient], cluster: Cluster
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")
    bob = await register(a, "bob")
    article = await make_article(a, alice, title="Liked")
    path = f"/api/articles/{article['slug']}"
    await get(b, path)
    await get(c, "/api/articles")

    await cluster.execute("UPDATE articles SET title = 'Renamed behind the back'")
    assert (await get(b, path))["article"]["title"] == "Liked"  # cached
    assert (await a.post(f"{path}/favorite", headers=bob.auth)).status_code == 200

    fresh = (await get(b, path))["article"]
    assert (fresh["favoritesCount"], fresh["favorited"]) == (1, False)
    assert fresh["title"] == "Renamed behind the back"  # re-read from the database
    mine = (await get(b, path, bob))["article"]
    assert (mine["favoritesCount"], mine["favorited"]) == (1, True)
    # Per-user fields never come from a shared entry: alice has not favorited it.
    assert (await get(b, path, alice))["article"]["favorited"] is False
    assert [x["favoritesCount"] for x in (await get(c, "/api/articles"))["articles"]] == [1]

    assert (await c.delete(f"{path}/favorite", headers=bob.auth)).status_code == 200
    assert (await get(b, path))["article"]["favoritesCount"] == 0
    mine = (await get(b, path, bob))["article"]
    assert (mine["favoritesCount"], mine["favorited"]) == (0, False)
    assert [x["favoritesCount"] for x in (await get(c, "/api/articles"))["articles"]] == [0]


async def test_a_new_bio_shows_in_the_author_block_on_another_worker(
    workers: list[httpx.AsyncClient], cluster: Cluster
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")
    bob = await register(a, "bob")
    article = await make_article(a, alice, title="Who wrote this")
    slug = article["slug"]
    await make_comment(a, alice, slug, "the author speaks")
    article_path, comments_path = f"/api/articles/{slug}", f"/api/articles/{slug}/comments"
    for path in (article_path, comments_path, "/api/profiles/alice"):
        await get(b, path)

    await cluster.execute("UPDATE users SET bio = 'behind the back'")
    assert (await get(b, article_path))["article"]["author"]["bio"] is None  # cached
    assert (await get(b, "/api/profiles/alice"))["profile"]["bio"] is None  # cached

    changed = await a.put("/api/user", json={"user": {"bio": "I write here"}}, headers=alice.auth)
    assert changed.status_code == 200, changed.text
    followed = await c.post("/api/profiles/alice/follow", headers=bob.auth)
    assert followed.status_code == 200, followed.text

    assert (await get(b, article_path))["article"]["author"]["bio"] == "I write here"
    bios = [x["author"]["bio"] for x in (await get(b, comments_path))["comments"]]
    assert bios == ["I write here"]
    assert (await get(b, "/api/profiles/alice"))["profile"]["bio"] == "I write here"
    # `following` is the caller's own: true for bob through B, right after following through C.
    assert (await get(b, "/api/profiles/alice", bob))["profile"]["following"] is True
    assert (await get(b, "/api/profiles/alice"))["profile"]["following"] is False
