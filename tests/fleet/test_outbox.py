"""Every API worker runs an outbox relay: together they deliver each event exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import redis

from tests.factories import Person, make_article, register
from tests.fleet.cluster import Cluster
from tests.fleet.recording_serve import deliveries_key

pytestmark = pytest.mark.slow

DELIVERY_SECONDS = 15.0


async def outbox_rows(cluster: Cluster) -> list[asyncpg.Record]:
    dsn = cluster.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        return list(
            await connection.fetch(
                "SELECT key::text AS key, kind, attempts, delivered_at, dead_at FROM outbox_events"
            )
        )
    finally:
        await connection.close()


def recorded(cluster: Cluster) -> list[dict[str, Any]]:
    with redis.Redis.from_url(cluster.redis_url, socket_timeout=2) as client:
        entries = client.lrange(deliveries_key(cluster.key_prefix), 0, -1)
    return [orjson.loads(entry) for entry in entries]


async def traffic(workers: list[httpx.AsyncClient]) -> None:
    """Users, articles, favorites, comments and follows, spread over every worker at once."""
    people: list[Person] = await asyncio.gather(
        *(register(workers[i % len(workers)], f"writer{i}") for i in range(6))
    )

    async def write(i: int, person: Person) -> None:
        here, there = workers[i % len(workers)], workers[(i + 1) % len(workers)]
        article = await make_article(here, person, title=f"Article {i}")
        slug = article["slug"]
        other = people[(i + 1) % len(people)]
        answers = [
            await there.post(f"/api/articles/{slug}/favorite", headers=other.auth),
            await here.post(
                f"/api/articles/{slug}/comments",
                json={"comment": {"body": f"comment {i}"}},
                headers=other.auth,
            ),
            await there.post(f"/api/profiles/{person.username}/follow", headers=other.auth),
            await here.put(
                f"/api/articles/{slug}",
                json={"article": {"description": "edited"}},
                headers=person.auth,
            ),
        ]
        for answer in answers:
            assert answer.status_code in {200, 201}, answer.text

    await asyncio.gather(*(write(i, person) for i, person in enumerate(people)))


async def test_every_event_is_delivered_exactly_once_by_the_workers_relays(
    workers: list[httpx.AsyncClient], cluster: Cluster
) -> None:
    await traffic(workers)

    deadline = time.monotonic() + DELIVERY_SECONDS
    rows = await outbox_rows(cluster)
    while any(row["delivered_at"] is None for row in rows) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        rows = await outbox_rows(cluster)

    # 6 registrations, then per writer: article, favorite, comment, follow, update.
    assert Counter(row["kind"] for row in rows) == {
        "user.registered": 6,
        "article.created": 6,
        "article.favorited": 6,
        "comment.created": 6,
        "profile.followed": 6,
        "article.updated": 6,
    }
    pending = [row["kind"] for row in rows if row["delivered_at"] is None]
    assert not pending, f"not delivered within {DELIVERY_SECONDS}s: {pending}"
    assert all(row["dead_at"] is None for row in rows)
    deliveries = recorded(cluster)
    per_key = Counter(delivery["key"] for delivery in deliveries)
    assert set(per_key) == {row["key"] for row in rows}
    twice = {key: count for key, count in per_key.items() if count > 1}
    assert not twice, f"delivered more than once: {twice}"
    assert {delivery["attempt"] for delivery in deliveries} == {1}
    # More than one worker's relay took part: the exactly-once held between competitors.
    assert len({delivery["pid"] for delivery in deliveries}) >= 2, deliveries
