"""Live updates cross workers: a change made through one worker reaches a stream or socket
opened on another (through Redis pub/sub), within a second of the change's answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from tests.factories import Person, make_article, make_comment, register
from tests.fleet.cluster import ORIGIN, Cluster

pytestmark = pytest.mark.slow

FAN_OUT_SECONDS = 1.0  # the bound, from the writer's answer to the other worker's push
WAIT = 10.0  # for what is not the measured fan-out (connecting, the stream's first comment)


@pytest.fixture
async def workers(cluster: Cluster) -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [httpx.AsyncClient(base_url=url, timeout=10) for url in cluster.urls]
    yield clients
    for client in clients:
        await client.aclose()


class EventStream:
    """The frames of one open `GET /api/events` answer, read one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.chunks = response.aiter_text()
        self.buffer = ""

    async def frame(self) -> dict[str, Any]:
        """The next frame as its fields (`comments` listed); keep-alive frames included."""
        async with asyncio.timeout(WAIT):
            while "\n\n" not in self.buffer:
                self.buffer += await anext(self.chunks)
        raw, self.buffer = self.buffer.split("\n\n", 1)
        frame: dict[str, Any] = {"comments": []}
        for line in raw.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame["comments"].append(value)
            elif name == "data":
                frame["data"] = orjson.loads(value)
            else:
                frame[name] = value
        return frame

    async def event(self) -> dict[str, Any]:
        """The next frame carrying an event (keep-alives skipped)."""
        async with asyncio.timeout(WAIT):
            while True:
                frame = await self.frame()
                if "event" in frame:
                    return frame


@asynccontextmanager
async def event_stream(client: httpx.AsyncClient, **params: str) -> AsyncIterator[EventStream]:
    async with client.stream("GET", "/api/events", params=params, timeout=WAIT) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        # The first frame says the subscription is in place: what happens next is streamed.
        assert "connected" in (await stream.frame())["comments"]
        yield stream


async def received_within(stream: EventStream, since: float) -> tuple[dict[str, Any], float]:
    frame = await stream.event()
    return frame, time.monotonic() - since


async def test_article_events_through_one_worker_reach_a_stream_on_another(
    workers: list[httpx.AsyncClient],
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")

    async with event_stream(b, author="alice") as stream:
        article = await make_article(a, alice, title="Fanned out", tagList=["live"])
        created, created_after = await received_within(stream, time.monotonic())

        updated_answer = await c.put(
            f"/api/articles/{article['slug']}",
            json={"article": {"title": "Fanned out again"}},
            headers=alice.auth,
        )
        assert updated_answer.status_code == 200, updated_answer.text
        updated, updated_after = await received_within(stream, time.monotonic())
        new_slug = updated_answer.json()["article"]["slug"]

        deleted_answer = await a.delete(f"/api/articles/{new_slug}", headers=alice.auth)
        assert deleted_answer.status_code == 204
        deleted, deleted_after = await received_within(stream, time.monotonic())

    assert created["event"] == "article.created"
    assert created["data"]["article"]["slug"] == article["slug"]
    assert created["data"]["article"]["tagList"] == ["live"]
    assert updated["event"] == "article.updated"
    assert updated["data"]["article"]["title"] == "Fanned out again"
    assert updated["data"]["previousSlug"] == article["slug"]
    assert deleted["event"] == "article.deleted"
    assert deleted["data"]["article"]["slug"] == new_slug
    assert int(created["id"]) < int(updated["id"]) < int(deleted["id"])
    for after in (created_after, updated_after, deleted_after):
        assert after < FAN_OUT_SECONDS


@asynccontextmanager
async def live_comments(url: str, slug: str, person: Person) -> AsyncIterator[ClientConnection]:
    ws_url = url.replace("http://", "ws://") + f"/api/articles/{slug}/live"
    async with connect(
        ws_url,
        additional_headers={"Authorization": f"Token {person.token}"},
        origin=Origin(ORIGIN),
        open_timeout=WAIT,
    ) as socket:
        yield socket


async def next_message(socket: ClientConnection) -> tuple[dict[str, Any], float]:
    """The next message other than a heartbeat, and when it came."""
    async with asyncio.timeout(WAIT):
        while True:
            message: dict[str, Any] = orjson.loads(await socket.recv())
            if message["type"] != "ping":
                return message, time.monotonic()


async def test_comments_through_one_worker_reach_a_socket_on_another(
    workers: list[httpx.AsyncClient], cluster: Cluster
) -> None:
    a, b, c = workers
    alice = await register(a, "alice")
    bob = await register(b, "bob")
    article = await make_article(a, alice, title="Talk about it")
    slug = article["slug"]
    other = await make_article(a, alice, title="Elsewhere")

    async with live_comments(cluster.urls[1], slug, bob) as socket:
        # The socket is open once the server accepted it; the subscription follows at once,
        # so a comment on another article first proves the pipe is in place.
        await make_comment(c, bob, other["slug"], "not this one")
        comment = await make_comment(a, alice, slug, "hello from a")
        answered = time.monotonic()
        created, created_at = await next_message(socket)

        deleted_answer = await c.delete(
            f"/api/articles/{slug}/comments/{comment['id']}", headers=alice.auth
        )
        assert deleted_answer.status_code in {200, 204}, deleted_answer.text
        deleted_answered = time.monotonic()
        deleted, deleted_at = await next_message(socket)

    assert created["type"] == "comment.created"
    assert created["slug"] == slug
    assert created["comment"]["body"] == "hello from a"
    assert created["comment"]["author"]["username"] == "alice"
    assert created_at - answered < FAN_OUT_SECONDS
    assert deleted["type"] == "comment.deleted"
    assert deleted["comment"]["id"] == comment["id"]
    assert deleted_at - deleted_answered < FAN_OUT_SECONDS
