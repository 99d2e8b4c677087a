"""`GET /api/events`: Server-Sent Events for articles and comments, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from pressroom.core.broker import MemoryBroker
from pressroom.core.db import Database
from pressroom.core.models import utcnow
from pressroom.core.outbox import OutboxEvent
from tests.factories import make_article, make_comment, register
from tests.live.drivers import EventStreamClient

Streams = Callable[..., Any]


@pytest.fixture
def stream(app: FastAPI) -> Callable[..., Any]:
    @asynccontextmanager
    async def open_stream(
        url: str = "/api/events", headers: dict[str, str] | None = None, ip: str = "10.0.0.1"
    ) -> AsyncIterator[EventStreamClient]:
        client = EventStreamClient(app, url, headers, ip)
        await client.open()
        try:
            yield client
        finally:
            if client.task is not None and not client.task.done():
                await client.disconnect()

    return open_stream


async def test_each_change_is_an_event_with_id_kind_and_json_data(
    client: httpx.AsyncClient, stream: Streams
) -> None:
    jake = await register(client, "jake")
    async with stream() as events:
        assert events.status == 200
        assert events.headers["content-type"].startswith("text/event-stream")
        assert events.headers["x-accel-buffering"] == "no"
        assert events.headers["cache-control"].startswith("no-cache")
        first = await events.frame()
        assert first.retry == 3000

        article = await make_article(client, jake, title="Dragons", tagList=["dragons"])
        slug = article["slug"]
        changed = await client.put(
            f"/api/articles/{slug}", json={"article": {"title": "Wyverns"}}, headers=jake.auth
        )
        new_slug = changed.json()["article"]["slug"]
        comment = await make_comment(client, jake, new_slug, "first!")
        await client.delete(f"/api/articles/{new_slug}/comments/{comment['id']}", headers=jake.auth)
        await client.delete(f"/api/articles/{new_slug}", headers=jake.auth)

        received = [await events.event() for _ in range(5)]

    assert [frame.event for frame in received] == [
        "article.created",
        "article.updated",
        "comment.created",
        "comment.deleted",
        "article.deleted",
    ]
    ids = [int(frame.id or 0) for frame in received]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    created, updated, commented, uncommented, deleted = (frame.data for frame in received)
    assert created["article"]["title"] == "Dragons"
    assert created["article"]["tagList"] == ["dragons"]
    assert created["article"]["author"]["username"] == "jake"
    assert "body" not in created["article"]
    assert updated == {"article": updated["article"], "previousSlug": slug}
    assert updated["article"]["slug"] == new_slug
    assert commented == {"slug": new_slug, "comment": commented["comment"]}
    assert commented["comment"]["body"] == "first!"
    assert "following" not in commented["comment"]["author"]
    assert uncommented == {"slug": new_slug, "comment": {"id": comment["id"], "author": "jake"}}
    assert deleted["article"]["slug"] == new_slug


async def test_author_and_tag_filters(client: httpx.AsyncClient, stream: Streams) -> None:
    jake, anna = await register(client, "jake"), await register(client, "anna")
    async with (
        stream("/api/events?author=JAKE") as by_jake,
        stream("/api/events?tag=dragons") as dragons,
        stream("/api/events?author=anna&tag=dragons") as annas_dragons,
    ):
        jakes = await make_article(client, jake, title="Jake on dragons", tagList=["dragons"])
        await make_article(client, anna, title="Anna on cats", tagList=["cats"])
        annas = await make_article(client, anna, title="Anna on dragons", tagList=["dragons"])
        await make_comment(client, anna, jakes["slug"], "nice")  # a comment on Jake's article

        assert (await by_jake.event()).data["article"]["slug"] == jakes["slug"]
        comment = await by_jake.event()
        assert (comment.event, comment.data["slug"]) == ("comment.created", jakes["slug"])
        assert await by_jake.quiet()

        titles = [(await dragons.event()).data for _ in range(3)]
        assert [t.get("article", {}).get("title") for t in titles[:2]] == [
            "Jake on dragons",
            "Anna on dragons",
        ]
        assert titles[2]["slug"] == jakes["slug"]  # comments carry their article's tags

        assert (await annas_dragons.event()).data["article"]["slug"] == annas["slug"]
        assert await annas_dragons.quiet()


async def test_the_feed_carries_followed_authors_only(
    client: httpx.AsyncClient, stream: Streams, app: FastAPI
) -> None:
    jake, anna, bob = [await register(client, name) for name in ("jake", "anna", "bob")]
    refused = await EventStreamClient(app, "/api/events?feed=true").open()
    assert refused.status == 401
    assert refused.body == b'{"errors":{"token":["is missing"]}}'

    await client.post("/api/profiles/anna/follow", headers=jake.auth)
    async with stream("/api/events?feed=true", headers=jake.auth) as feed:
        await make_article(client, bob, title="By Bob")
        followed = await make_article(client, anna, title="By Anna")
        assert (await feed.event()).data["article"]["slug"] == followed["slug"]
        assert await feed.quiet()


async def test_a_reconnecting_client_receives_what_it_missed(
    client: httpx.AsyncClient, stream: Streams
) -> None:
    jake = await register(client, "jake")
    async with stream() as events:
        await make_article(client, jake, title="Seen")
        seen = await events.event()
    missed = [await make_article(client, jake, title=f"Missed {n}") for n in range(2)]
    await make_comment(client, jake, missed[0]["slug"], "also missed")

    async with stream(headers={"Last-Event-ID": seen.id or ""}) as again:
        replayed = [await again.event() for _ in range(3)]
        later = await make_article(client, jake, title="Live again")
        live = await again.event()

    assert [frame.data.get("article", {}).get("slug") for frame in replayed[:2]] == [
        article["slug"] for article in missed
    ]
    assert replayed[2].event == "comment.created"
    assert live.data["article"]["slug"] == later["slug"]
    # The query parameter works alike, for a first connection that cannot set headers.
    async with stream(f"/api/events?lastEventId={seen.id}&author=jake") as by_query:
        assert (await by_query.event()).data["article"]["slug"] == missed[0]["slug"]


async def test_ids_older_than_the_replay_window_get_a_reset_instead(
    client: httpx.AsyncClient, stream: Streams, app: FastAPI
) -> None:
    jake = await register(client, "jake")
    async with stream() as events:
        await make_article(client, jake, title="Long ago")
        old = await events.event()
    await make_article(client, jake, title="Missed")
    database: Database = app.state.database
    async with database.session() as session:
        long_ago = utcnow() - timedelta(hours=2)  # the window is 1 h by default
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == int(old.id or 0))
            .values(created_at=long_ago)
        )

    for last_id in (old.id or "", "not-a-number", "999999999"):
        async with stream(headers={"Last-Event-ID": last_id}) as again:
            reset = await again.event()
            assert reset.event == "reset"
            assert reset.id is None
            assert reset.data["reason"]
            assert await again.quiet()  # nothing replayed


@pytest.mark.parametrize("live_options", [{"live": {"keepalive_seconds": 0.1}}], indirect=True)
async def test_a_quiet_stream_sends_keep_alive_comments(stream: Streams) -> None:
    async with stream() as events:
        await events.frame()  # retry and "connected"
        for _ in range(2):
            frame = await events.frame(keepalives=True)
            assert frame.comments == ["keep-alive"]


@pytest.mark.parametrize(
    "live_options", [{"live": {"max_streams_per_user": 2, "max_streams_per_ip": 1}}], indirect=True
)
async def test_streams_per_user_and_per_anonymous_address_are_capped(
    client: httpx.AsyncClient, stream: Streams, app: FastAPI
) -> None:
    jake = await register(client, "jake")
    async with stream(headers=jake.auth) as first, stream(headers=jake.auth):
        async with stream(headers=jake.auth) as third:
            assert third.status == 429
            assert third.body == (
                b'{"errors":{"streams":["this user already holds 2 live streams: '
                b'close one before opening another"]}}'
            )
            assert third.headers["retry-after"] == "5"
        async with stream(ip="10.9.9.9") as anonymous, stream(ip="10.9.9.9") as second:
            assert (anonymous.status, second.status) == (200, 429)
        await first.disconnect()
        async with stream(headers=jake.auth) as again:
            assert again.status == 200


async def test_a_client_that_leaves_releases_its_stream(app: FastAPI, stream: Streams) -> None:
    broker = app.state.broker
    assert isinstance(broker, MemoryBroker)
    async with stream() as events:
        await events.frame()
        assert broker._fanout.inboxes  # subscribed
        await events.disconnect()
    assert not broker._fanout.inboxes
    assert app.state.live_slots.count("ip:10.0.0.1") == 0


async def test_shutting_down_ends_every_stream(app: FastAPI, stream: Streams) -> None:
    async with stream() as one, stream(ip="10.0.0.2") as two:
        await one.frame()
        app.state.lifecycle.close()
        for events in (one, two):
            await events.finished()
            assert events.ended.is_set()
    assert not app.state.broker._fanout.inboxes
