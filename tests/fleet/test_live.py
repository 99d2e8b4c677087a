"""Live comments cross workers: a comment created or deleted through one worker reaches a
WebSocket (`/api/articles/{slug}/live`) opened on another, through Redis pub/sub, within a
second of the writer's answer. (An article event reaching an SSE stream on another server is
tested with the live updates: tests/live/test_live_process.py.)"""

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
PROBE_SECONDS = 1.0
PROBES = 10
WAIT = 10.0  # for what is not the measured fan-out


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
    """The next message other than a heartbeat or a probe, and when it came."""
    async with asyncio.timeout(WAIT):
        while True:
            message: dict[str, Any] = orjson.loads(await socket.recv())
            probe = message.get("comment", {}).get("body", "").startswith("probe")
            if message["type"] != "ping" and not probe:
                return message, time.monotonic()


async def listening(
    socket: ClientConnection, writer: httpx.AsyncClient, person: Person, slug: str
) -> None:
    """Until a probe comment written through `writer` arrives: the server accepts the socket
    before it subscribes, so what is published in between is not for this socket."""
    for attempt in range(PROBES):
        await make_comment(writer, person, slug, f"probe {attempt}")
        try:
            async with asyncio.timeout(PROBE_SECONDS):
                while True:
                    message = orjson.loads(await socket.recv())
                    if message.get("comment", {}).get("body", "").startswith("probe"):
                        return
        except TimeoutError:
            continue
    pytest.fail(f"no probe comment reached the socket in {PROBES} tries")


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
        await listening(socket, a, alice, slug)
        await make_comment(c, bob, other["slug"], "on another article: not pushed here")
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
