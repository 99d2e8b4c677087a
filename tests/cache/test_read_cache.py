"""The read cache as a user sees it: writes show on the next read, every viewer keeps their
own `favorited`/`following`, cached anonymous reads skip the database, a broken cache is
bypassed. Each test runs on SQLite and Postgres, with the in-process store and with Redis
(127.0.0.1:6379 or PRESSROOM_TEST_REDIS_URL; skipped locally without it, a failure when
CI=true)."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI

from pressroom.core.cache import create_cache
from pressroom.core.cache.store import MemoryStore, RedisStore
from pressroom.core.settings import Settings
from pressroom.main import create_app
from tests.conftest import IN_CI, StatementLog, base_settings
from tests.factories import make_admin, make_article, make_comment, register
from tests.redis_fixtures import REDIS_URL


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings for the cache's store; Redis keys under a prefix of this test's own."""
    if request.param == "memory":
        yield {}
        return
    try:
        with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as probe:
            probe.ping()
    except (redis.RedisError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"no Redis at {REDIS_URL}: {exc} (CI=true: Redis tests must run)")
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"pressroom-test-{uuid.uuid4().hex}"
    yield {"redis": {"url": REDIS_URL, "key_prefix": prefix}}
    with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as cleanup:
        for key in cleanup.scan_iter(match=f"{prefix}:*"):
            cleanup.delete(key)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, store: dict[str, Any]) -> Settings:
    return base_settings(tmp_path, database_url, cache={"enabled": True}, **store)


async def test_a_write_shows_on_the_next_read(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    article = await make_article(client, alice, title="First", tagList=["go"])
    slug = article["slug"]
    paths = [f"/api/articles/{slug}", "/api/articles", "/api/tags", "/api/profiles/alice"]
    for path in paths:  # twice: the second answer is the cached one
        assert (await client.get(path)).status_code == 200
        assert (await client.get(path)).status_code == 200

    edited = await client.put(
        f"/api/articles/{slug}",
        json={"article": {"description": "edited", "tagList": ["rust"]}},
        headers=alice.auth,
    )
    await client.put("/api/user", json={"user": {"bio": "new bio"}}, headers=alice.auth)

    assert edited.status_code == 200
    single = (await client.get(f"/api/articles/{slug}")).json()["article"]
    assert single["description"] == "edited"
    assert single["author"]["bio"] == "new bio"
    listed = (await client.get("/api/articles")).json()["articles"]
    assert listed[0]["description"] == "edited"
    assert listed[0]["author"]["bio"] == "new bio"
    assert (await client.get("/api/tags")).json()["tags"] == ["rust"]
    assert (await client.get("/api/profiles/alice")).json()["profile"]["bio"] == "new bio"


async def test_a_new_slug_and_a_deletion_show_at_once(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice, title="Old title"))["slug"]
    assert (await client.get(f"/api/articles/{slug}")).status_code == 200

    retitled = await client.put(
        f"/api/articles/{slug}", json={"article": {"title": "New title"}}, headers=alice.auth
    )
    new_slug = retitled.json()["article"]["slug"]

    assert (await client.get(f"/api/articles/{slug}")).status_code == 404
    assert (await client.get(f"/api/articles/{new_slug}")).json()["article"]["title"] == (
        "New title"
    )
    await client.delete(f"/api/articles/{new_slug}", headers=alice.auth)
    assert (await client.get(f"/api/articles/{new_slug}")).status_code == 404
    assert (await client.get(f"/api/articles/{new_slug}/comments")).status_code == 404
    assert (await client.get("/api/articles")).json()["articlesCount"] == 0


async def test_favorites_and_comments_show_at_once(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]
    for path in (f"/api/articles/{slug}", f"/api/articles/{slug}/comments", "/api/articles"):
        await client.get(path)

    await client.post(f"/api/articles/{slug}/favorite", headers=bob.auth)
    comment = await make_comment(client, bob, slug, "hello")

    assert (await client.get(f"/api/articles/{slug}")).json()["article"]["favoritesCount"] == 1
    assert (await client.get("/api/articles")).json()["articles"][0]["favoritesCount"] == 1
    comments = (await client.get(f"/api/articles/{slug}/comments")).json()["comments"]
    assert [c["body"] for c in comments] == ["hello"]

    await client.delete(f"/api/articles/{slug}/comments/{comment['id']}", headers=bob.auth)
    assert (await client.get(f"/api/articles/{slug}/comments")).json()["comments"] == []


async def test_each_viewer_sees_their_own_flags(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    slug = (await make_article(client, alice))["slug"]
    await client.post(f"/api/articles/{slug}/favorite", headers=bob.auth)
    await client.post("/api/profiles/alice/follow", headers=bob.auth)
    path = f"/api/articles/{slug}"
    await client.get(path)  # the anonymous answer is cached

    as_bob = (await client.get(path, headers=bob.auth)).json()["article"]
    as_carol = (await client.get(path, headers=carol.auth)).json()["article"]
    anonymous = (await client.get(path)).json()["article"]

    assert (as_bob["favorited"], as_bob["author"]["following"]) == (True, True)
    assert (as_carol["favorited"], as_carol["author"]["following"]) == (False, False)
    assert (anonymous["favorited"], anonymous["author"]["following"]) == (False, False)
    assert anonymous["favoritesCount"] == as_bob["favoritesCount"] == 1
    profile = (await client.get("/api/profiles/alice", headers=bob.auth)).json()["profile"]
    assert profile["following"] is True


async def test_a_soft_deleted_authors_articles_vanish_from_cached_reads(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    for path in (f"/api/articles/{slug}", "/api/articles", "/api/profiles/alice"):
        assert (await client.get(path)).status_code == 200

    deleted = await client.delete("/api/admin/users/alice", headers=admin.auth)

    assert deleted.status_code in (200, 204), deleted.text
    assert (await client.get(f"/api/articles/{slug}")).status_code == 404
    assert (await client.get("/api/articles")).json()["articlesCount"] == 0
    assert (await client.get("/api/profiles/alice")).status_code == 404


async def test_a_cached_anonymous_read_runs_no_sql(
    client: httpx.AsyncClient, sql: StatementLog
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    paths = [
        f"/api/articles/{slug}",
        "/api/articles?limit=20",
        f"/api/articles/{slug}/comments",
        "/api/profiles/alice",
        "/api/tags",
    ]
    first = [await client.get(path) for path in paths]
    sql.clear()

    again = [await client.get(path) for path in paths]

    assert len(sql) == 0, sql.statements
    assert [r.content for r in again] == [r.content for r in first]
    assert [r.headers["etag"] for r in again] == [r.headers["etag"] for r in first]


async def test_an_authenticated_read_is_never_served_from_the_cache(
    client: httpx.AsyncClient, sql: StatementLog
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    await client.get(f"/api/articles/{slug}")
    sql.clear()

    response = await client.get(f"/api/articles/{slug}", headers=alice.auth)

    assert response.status_code == 200
    assert len(sql) > 0  # the caller and the flags come from the database


# ---------------------------------------------------------------- a broken cache
@pytest.fixture
def broken_redis(database_url: str, tmp_path: Path) -> Settings:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    return base_settings(
        tmp_path,
        database_url,
        cache={"enabled": True, "retry_seconds": 0.01},
        redis={"url": url, "socket_timeout": 0.2},
    )


@pytest.fixture
async def broken_client(broken_redis: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(broken_redis)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_a_cache_that_is_down_is_bypassed(
    broken_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pressroom.cache")
    alice = await register(broken_client, "alice")
    slug = (await make_article(broken_client, alice))["slug"]

    reads = [await broken_client.get(f"/api/articles/{slug}") for _ in range(3)]
    await broken_client.put(
        f"/api/articles/{slug}", json={"article": {"body": "changed"}}, headers=alice.auth
    )
    after = await broken_client.get(f"/api/articles/{slug}")

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert after.json()["article"]["body"] == "changed"
    assert "etag" in after.headers
    warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per request


# ---------------------------------------------------------------- which store
def test_the_store_follows_the_settings(tmp_path: Path) -> None:
    memory = create_cache(base_settings(tmp_path))
    shared = create_cache(base_settings(tmp_path, redis={"url": REDIS_URL}))
    off = create_cache(base_settings(tmp_path, cache={"enabled": False}))

    assert isinstance(getattr(memory, "store", None), MemoryStore)
    assert isinstance(getattr(shared, "store", None), RedisStore)
    assert off is None


def test_several_workers_without_redis_keep_no_in_process_cache(tmp_path: Path) -> None:
    # Each worker would keep answers the other workers' writes never invalidate.
    several = base_settings(tmp_path, server={"workers": 4})
    forced = base_settings(tmp_path, server={"workers": 4}, cache={"in_process_with_workers": True})

    assert create_cache(several) is None
    assert create_cache(forced) is not None


# ---------------------------------------------------------------- two workers, one Redis
@pytest.fixture
async def second_worker(
    settings: Settings, store: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the same database and the same Redis, as a second worker would be."""
    if not store:
        pytest.skip("in-process caches are per worker; this checks the shared one")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_a_write_on_one_worker_shows_on_another(
    client: httpx.AsyncClient, second_worker: httpx.AsyncClient
) -> None:
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    path = f"/api/articles/{slug}"
    first = await client.get(path)
    from_the_other = await second_worker.get(path)  # stored by the first worker

    await client.put(path, json={"article": {"body": "edited"}}, headers=alice.auth)
    after = await second_worker.get(path)

    assert from_the_other.content == first.content
    assert after.json()["article"]["body"] == "edited"


async def test_a_damaged_entry_is_a_miss(client: httpx.AsyncClient, store: dict[str, Any]) -> None:
    if not store:
        pytest.skip("only a shared store can hold what another program wrote")
    alice = await register(client, "alice")
    slug = (await make_article(client, alice))["slug"]
    path = f"/api/articles/{slug}"
    first = await client.get(path)
    key = f"{store['redis']['key_prefix']}:cache:a:{path}?"
    with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as direct:
        assert direct.exists(key)
        direct.set(key, b"not an entry")

    again = await client.get(path)

    assert again.status_code == 200
    assert again.content == first.content
