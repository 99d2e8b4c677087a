from __future__ import annotations

import httpx
import pytest

from tests.articles.shapes import article_of, page_of
from tests.factories import assert_error, make_article, register


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello Wörld!", "hello-world"),
        ("  Spaces   everywhere ", "spaces-everywhere"),
        ("C'est déjà l'été", "c-est-deja-l-ete"),
        ("Straße über Ærø", "strasse-uber-aero"),
        ("Привет мир", "privet-mir"),
        ("!!!", "article"),
    ],
)
async def test_slug_is_derived_from_the_title(
    client: httpx.AsyncClient, title: str, slug: str
) -> None:
    alice = await register(client, "alice")
    assert (await make_article(client, alice, title=title))["slug"] == slug
    assert article_of(await client.get(f"/api/articles/{slug}"))["title"] == title.strip()


async def test_long_titles_give_bounded_slugs(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, title="word " * 51))["slug"]
    assert slug.startswith("word-word-")
    assert len(slug) <= 200
    article_of(await client.get(f"/api/articles/{slug}"))


async def test_repeated_titles_get_unique_slugs(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slugs = [
        (await make_article(client, author, title="Same Title"))["slug"]
        for author in (alice, alice, bob)
    ]
    assert slugs[0] == "same-title"
    assert len(set(slugs)) == 3
    assert all(slug.startswith("same-title-") for slug in slugs[1:])
    for slug, author in zip(slugs, ["alice", "alice", "bob"], strict=True):
        article = article_of(await client.get(f"/api/articles/{slug}"))
        assert (article["slug"], article["author"]["username"]) == (slug, author)


async def test_new_title_gives_a_new_slug_and_retires_the_old(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    old = (await make_article(client, alice, title="Old title"))["slug"]
    body = {"article": {"title": "Brand New Title"}}
    article = article_of(await client.put(f"/api/articles/{old}", json=body, headers=alice.auth))
    assert article["slug"] == "brand-new-title"
    assert article_of(await client.get("/api/articles/brand-new-title"))["title"] == (
        "Brand New Title"
    )
    assert_error(await client.get(f"/api/articles/{old}"), 404, "article", "not found")


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "new"},
        {"body": "new"},
        {"tagList": ["x"]},
        {"title": "Old title"},
        {"title": "OLD Title!"},
    ],
    ids=["description", "body", "tags", "same-title", "title-with-the-same-slug"],
)
async def test_slug_stays_when_the_title_does(
    client: httpx.AsyncClient, changes: dict[str, object]
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, title="Old title"))["slug"]
    body = {"article": changes}
    article = article_of(await client.put(f"/api/articles/{slug}", json=body, headers=alice.auth))
    assert article["slug"] == slug == "old-title"
    assert article["title"] == changes.get("title", "Old title")


async def test_retitling_to_a_used_title_keeps_both_slugs_unique(
    client: httpx.AsyncClient,
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    await make_article(client, alice, title="Taken")
    mine = (await make_article(client, bob, title="Mine"))["slug"]
    body = {"article": {"title": "Taken"}}
    article = article_of(await client.put(f"/api/articles/{mine}", json=body, headers=bob.auth))
    assert article["slug"].startswith("taken-")
    assert article_of(await client.get("/api/articles/taken"))["author"]["username"] == "alice"
    assert article_of(await client.get(f"/api/articles/{article['slug']}"))["title"] == "Taken"


@pytest.mark.parametrize("title", ["Feed", "feed", "FEED!", " feed "])
async def test_a_feed_title_never_takes_the_feed_path(
    client: httpx.AsyncClient, title: str
) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice, title=title))["slug"]
    assert slug != "feed"
    assert slug.startswith("feed-")
    assert article_of(await client.get(f"/api/articles/{slug}"))["title"] == title.strip()
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    articles, total = page_of(await client.get("/api/articles/feed", headers=bob.auth))
    assert ([article["slug"] for article in articles], total) == ([slug], 1)


async def test_retitling_to_feed_never_takes_the_feed_path(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, title="Something"))["slug"]
    body = {"article": {"title": "Feed"}}
    article = article_of(await client.put(f"/api/articles/{slug}", json=body, headers=alice.auth))
    assert article["slug"].startswith("feed-")
    assert page_of(await client.get("/api/articles/feed", headers=alice.auth)) == ([], 0)
    assert_error(await client.get("/api/articles/feed"), 401, "token", "is missing")
