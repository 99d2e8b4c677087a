"""ETags, If-None-Match and Cache-Control on every public GET family (docs/caching.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pressroom.core.cache import versions
from pressroom.core.cache.middleware import etag_of, none_match
from tests.factories import Person, make_article, make_comment, register

PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE = "private, no-cache"


async def _paths(client: httpx.AsyncClient) -> tuple[Person, Person, list[str]]:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice, tagList=["go"]))["slug"]
    await make_comment(client, bob, slug)
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    paths = [
        f"/api/articles/{slug}",
        "/api/articles",
        "/api/articles?tag=go&limit=5",
        f"/api/articles/{slug}/comments",
        "/api/profiles/alice",
        "/api/tags",
    ]
    return alice, bob, paths


@pytest.mark.parametrize("viewer", ["anonymous", "bob"])
async def test_every_public_read_can_be_revalidated(client: httpx.AsyncClient, viewer: str) -> None:
    _, bob, paths = await _paths(client)
    headers = bob.auth if viewer == "bob" else {}
    paths += ["/api/articles/feed"] if viewer == "bob" else []

    for path in paths:
        first = await client.get(path, headers=headers)
        etag = first.headers["etag"]
        again = await client.get(path, headers={**headers, "If-None-Match": etag})
        other = await client.get(path, headers={**headers, "If-None-Match": 'W/"other"'})

        assert first.status_code == 200, path
        assert etag.startswith('W/"')
        assert first.headers["cache-control"] == (PRIVATE if viewer == "bob" else PUBLIC)
        assert "Authorization" in first.headers["vary"]
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["x-request-id"]  # still through the outer layers
        assert other.status_code == 200
        assert other.content == first.content


async def test_a_write_changes_the_etag(client: httpx.AsyncClient) -> None:
    alice, _, paths = await _paths(client)
    slug = paths[0].rsplit("/", 1)[1]
    before = await client.get(paths[0])

    await client.put(f"/api/articles/{slug}", json={"article": {"body": "new"}}, headers=alice.auth)
    after = await client.get(paths[0], headers={"If-None-Match": before.headers["etag"]})

    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["article"]["body"] == "new"


async def test_viewers_with_different_flags_get_different_etags(
    client: httpx.AsyncClient,
) -> None:
    _, bob, _ = await _paths(client)
    carol = await register(client, "carol")
    profile = "/api/profiles/alice"

    as_bob = await client.get(profile, headers=bob.auth)
    as_carol = await client.get(profile, headers=carol.auth)
    carol_with_bobs_tag = await client.get(
        profile, headers={**carol.auth, "If-None-Match": as_bob.headers["etag"]}
    )

    assert as_bob.json()["profile"]["following"] is True
    assert as_carol.json()["profile"]["following"] is False
    assert as_bob.headers["etag"] != as_carol.headers["etag"]
    assert carol_with_bobs_tag.status_code == 200
    assert carol_with_bobs_tag.json()["profile"]["following"] is False


async def test_errors_and_writes_carry_no_validators(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    missing = await client.get("/api/articles/no-such-article", headers={"If-None-Match": "*"})
    created = await client.post(
        "/api/articles",
        json={"article": {"title": "t", "description": "d", "body": "b"}},
        headers=alice.auth,
    )

    assert missing.status_code == 404
    assert "etag" not in missing.headers
    assert created.status_code == 201
    assert "etag" not in created.headers


async def test_a_gzipped_answer_keeps_its_etag(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    for number in range(30):
        await make_article(client, alice, title=f"Article {number}")
    plain = await client.get("/api/articles", headers={"Accept-Encoding": "identity"})
    zipped = await client.get("/api/articles", headers={"Accept-Encoding": "gzip"})
    revalidated = await client.get(
        "/api/articles", headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]}
    )

    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"]  # weak: same content, any coding
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert revalidated.status_code == 304


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (b"*", True),
        (b'W/"abc"', True),
        (b'"abc"', True),  # weak comparison: W/ is ignored on either side
        (b'"x", W/"abc"', True),
        (b' "x" ,  "abc" ', True),
        (b'"x", "y"', False),
        (b'"ab"', False),
        (b"", False),
        (b"abc", False),  # not a quoted entity tag
    ],
)
def test_if_none_match_uses_the_weak_comparison(header: bytes, matches: bool) -> None:
    assert none_match(header, b'W/"abc"') is matches


def test_an_etag_is_a_weak_tag_of_the_content() -> None:
    assert etag_of(b"{}") == etag_of(b"{}")
    assert etag_of(b"{}") != etag_of(b"[]")
    assert etag_of(b"{}").startswith(b'W/"')


def test_every_invalidating_kind_bumps_a_counter() -> None:
    payloads: dict[str, Any] = {
        "article": {"slug": "s"},
        "slug": "s",
        "username": "u",
        "previous_username": "u",
    }
    for kind in versions.KINDS:
        assert versions.changed_by(kind, payloads), kind
    assert versions.changed_by("profile.followed", payloads) == []
