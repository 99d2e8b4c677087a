"""`WS /api/articles/{slug}/live`: comments pushed to the sockets of their article."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Person, make_article, make_comment, register
from tests.live.drivers import WebSocketClient

Sockets = Callable[..., Any]


@pytest.fixture
def socket(app: FastAPI) -> Sockets:
    @asynccontextmanager
    async def connect(
        url: str, headers: dict[str, str] | None = None, **options: Any
    ) -> AsyncIterator[WebSocketClient]:
        client = WebSocketClient(app, url, headers, **options)
        await client.connect()
        try:
            yield client
        finally:
            if client.task is not None and not client.task.done():
                await client.disconnect()

    return connect


@pytest.fixture
async def jake(client: httpx.AsyncClient) -> Person:
    return await register(client, "jake")


@pytest.fixture
async def slug(client: httpx.AsyncClient, jake: Person) -> str:
    article = await make_article(client, jake, title="Live")
    return str(article["slug"])


async def test_comments_created_and_deleted_are_pushed_to_their_article_only(
    client: httpx.AsyncClient, socket: Sockets, jake: Person, slug: str
) -> None:
    other = (await make_article(client, jake, title="Other"))["slug"]
    async with socket(f"/api/articles/{slug}/live") as live:
        assert live.accepted
        await make_comment(client, jake, other, "elsewhere")
        comment = await make_comment(client, jake, slug, "hello")
        await client.delete(f"/api/articles/{slug}/comments/{comment['id']}", headers=jake.auth)
        created, deleted = await live.receive(), await live.receive()
    assert created["type"] == "comment.created"
    assert created["slug"] == slug
    assert created["comment"]["body"] == "hello"
    assert created["comment"]["id"] == comment["id"]
    assert isinstance(created["id"], int)
    assert deleted == {
        "type": "comment.deleted",
        "id": deleted["id"],
        "slug": slug,
        "comment": {"id": comment["id"], "author": "jake"},
    }
    assert deleted["id"] > created["id"]


async def test_a_valid_token_is_accepted_in_the_query_or_a_header(
    socket: Sockets, jake: Person, slug: str
) -> None:
    async with socket(f"/api/articles/{slug}/live?token={jake.token}") as by_query:
        assert by_query.accepted
        assert by_query.close_code is None
    async with socket(f"/api/articles/{slug}/live", jake.auth) as by_header:
        assert by_header.accepted
        assert by_header.close_code is None


async def test_a_bad_token_closes_with_1008(socket: Sockets, slug: str) -> None:
    async with socket(f"/api/articles/{slug}/live?token=forged") as live:
        assert await live.wait_closed() == (1008, "token is invalid")


async def test_an_unknown_article_closes_with_4404(socket: Sockets) -> None:
    async with socket("/api/articles/no-such-article/live") as live:
        assert await live.wait_closed() == (4404, "article not found")


@pytest.mark.parametrize(
    "live_options", [{"cors": {"allow_origins": ["https://app.example"]}}], indirect=True
)
async def test_origins_outside_the_cors_allow_list_are_refused(socket: Sockets, slug: str) -> None:
    url = f"/api/articles/{slug}/live"
    async with socket(url, {"Origin": "https://evil.example"}) as refused:
        assert not refused.accepted  # closed before the handshake completes: HTTP 403
        assert refused.close_code == 1008
    async with socket(url, {"Origin": "https://app.example"}) as allowed:
        assert allowed.accepted
    async with socket(url) as without_origin:  # not a browser
        assert without_origin.accepted


@pytest.mark.parametrize(
    "live_options", [{"live": {"websocket_allow_missing_origin": False}}], indirect=True
)
async def test_a_missing_origin_can_be_refused(socket: Sockets, slug: str) -> None:
    async with socket(f"/api/articles/{slug}/live") as refused:
        assert not refused.accepted


@pytest.mark.parametrize("live_options", [{"live": {"websocket_queue": 2}}], indirect=True)
async def test_a_slow_client_is_dropped_and_the_others_keep_receiving(
    client: httpx.AsyncClient, socket: Sockets, jake: Person, slug: str
) -> None:
    async with (
        socket(f"/api/articles/{slug}/live", slow=True, ip="10.0.0.7") as slow,
        socket(f"/api/articles/{slug}/live", ip="10.0.0.8") as fast,
    ):
        bodies = [f"comment {n}" for n in range(6)]
        for body in bodies:
            await make_comment(client, jake, slug, body)
        assert await slow.wait_closed() == (1013, "too slow: messages were dropped, reconnect")
        received = [(await fast.receive())["comment"]["body"] for _ in bodies]
        assert received == bodies
        assert fast.close_code is None


async def test_shutdown_closes_sockets_with_1001(app: FastAPI, socket: Sockets, slug: str) -> None:
    async with socket(f"/api/articles/{slug}/live") as live:
        app.state.lifecycle.close()
        assert await live.wait_closed() == (1001, "server shutting down")


@pytest.mark.parametrize(
    "live_options", [{"live": {"websocket_heartbeat_seconds": 0.1}}], indirect=True
)
async def test_quiet_sockets_get_heartbeats(socket: Sockets, slug: str) -> None:
    async with socket(f"/api/articles/{slug}/live") as live:
        assert await live.receive(pings=True) == {"type": "ping"}
        assert await live.receive(pings=True) == {"type": "ping"}


async def test_deleting_the_article_tells_its_sockets_and_closes_them(
    client: httpx.AsyncClient, socket: Sockets, jake: Person, slug: str
) -> None:
    async with socket(f"/api/articles/{slug}/live") as live:
        await client.delete(f"/api/articles/{slug}", headers=jake.auth)
        assert (await live.receive())["type"] == "article.deleted"
        assert await live.wait_closed() == (1000, "article deleted")


@pytest.mark.parametrize("live_options", [{"live": {"max_streams_per_user": 1}}], indirect=True)
async def test_live_sockets_count_against_the_stream_cap(
    app: FastAPI, socket: Sockets, jake: Person, slug: str
) -> None:
    url = f"/api/articles/{slug}/live"
    async with socket(url, jake.auth) as first, socket(url, jake.auth) as second:
        assert first.close_code is None
        assert (await second.wait_closed())[0] == 4429
    assert app.state.live_slots.count("user:1") == 0


@pytest.mark.parametrize(
    "live_options", [{"security": {"allowed_hosts": ["api.example"]}}], indirect=True
)
async def test_sockets_to_a_host_not_allowed_are_refused(socket: Sockets) -> None:
    async with socket("/api/articles/some-slug/live") as refused:  # Host: testserver
        assert not refused.accepted
    async with socket("/api/articles/some-slug/live", {"Host": "api.example"}) as allowed:
        assert allowed.accepted
        assert await allowed.wait_closed() == (4404, "article not found")
