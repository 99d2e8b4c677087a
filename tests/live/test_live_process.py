"""Live updates through real `pressroom serve` processes: a WebSocket through uvicorn, and
events fanned out between two servers sharing Postgres and Redis."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import create_pg_database, drop_pg_database
from tests.live.drivers import parse_frame
from tests.test_server_process import (
    environment,
    free_port,
    migrate,
    running,
    wait_until_answering,
)

SERVE = [sys.executable, "-m", "pressroom", "serve"]


def signed_up(base_url: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.post(
            "/api/users",
            json={
                "user": {
                    "username": username,
                    "email": f"{username}@example.com",
                    "password": "x" * 12,
                }
            },
        )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Token {response.json()['user']['token']}"}


def post(base_url: str, path: str, body: dict[str, Any], auth: dict[str, str]) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.post(path, json=body, headers=auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_websocket_through_pressroom_serve(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path / "data"),
        PRESSROOM_SERVER__PORT=str(port),
        PRESSROOM_SERVER__HEADER_TIMEOUT="0.5",
        PRESSROOM_CORS__ALLOW_ORIGINS="https://app.example",
        PRESSROOM_RATE_LIMIT__ENABLED="false",
    )
    migrate(env)
    log = tmp_path / "server.log"
    with running(SERVE, env, log) as process:
        wait_until_answering(base_url, process, log)
        auth = signed_up(base_url, "jake")
        slug = post(base_url, "/api/articles", {"article": {"title": "Live", "description": "d",
                    "body": "b"}}, auth)["article"]["slug"]  # fmt: skip
        url = f"ws://127.0.0.1:{port}/api/articles/{slug}/live"

        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403

        token = auth["Authorization"].removeprefix("Token ")
        async with connect(f"{url}?token={token}", origin="https://app.example") as socket:  # type: ignore[arg-type]
            # Longer than the request-head deadline: an upgraded connection is not cut.
            await asyncio.sleep(1.0)
            body = {"comment": {"body": "through uvicorn"}}
            post(base_url, f"/api/articles/{slug}/comments", body, auth)
            async with asyncio.timeout(5):
                message = orjson.loads(await socket.recv())
        assert message["type"] == "comment.created"
        assert message["comment"]["body"] == "through uvicorn"
    assert "Traceback" not in log.read_text()


@pytest.fixture
def fleet_database() -> Iterator[str]:
    name = f"pressroom_live_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = create_pg_database(name)
    yield url
    drop_pg_database(name)


async def test_an_event_caused_on_one_server_reaches_a_stream_on_another(
    tmp_path: Path,
    fleet_database: str,
    redis_url: str,
) -> None:
    common = {
        "PRESSROOM_DATABASE__URL": fleet_database,
        "PRESSROOM_REDIS__URL": redis_url,
        "PRESSROOM_REDIS__KEY_PREFIX": f"pressroom-live-{uuid.uuid4().hex}",
        "PRESSROOM_RATE_LIMIT__ENABLED": "false",
    }
    ports = [free_port(), free_port()]
    envs = [
        environment(
            PRESSROOM_DATA_DIR=str(tmp_path / f"data{n}"),
            PRESSROOM_SERVER__PORT=str(port),
            **common,
        )
        for n, port in enumerate(ports)
    ]
    migrate(envs[0])
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    with (
        running(SERVE, envs[0], tmp_path / "a.log") as server_a,
        running(SERVE, envs[1], tmp_path / "b.log") as server_b,
    ):
        wait_until_answering(a, server_a, tmp_path / "a.log")
        wait_until_answering(b, server_b, tmp_path / "b.log")
        auth = signed_up(a, "jake")
        async with (
            httpx.AsyncClient(base_url=b, timeout=10) as client,
            client.stream("GET", "/api/events?author=jake") as stream,
        ):
            assert stream.status_code == 200
            lines = stream.aiter_text()
            buffer = ""
            while "connected" not in buffer:
                buffer += await anext(lines)
            buffer = ""
            await asyncio.sleep(0.5)  # B's broker subscription is live (Redis SUBSCRIBE sent)
            body = {"article": {"title": "Fan out", "description": "d", "body": "b"}}
            created = await asyncio.to_thread(post, a, "/api/articles", body, auth)
            written = time.monotonic()
            async with asyncio.timeout(5):
                while "\n\n" not in buffer:
                    buffer += await anext(lines)
            arrived = time.monotonic() - written
        frame = parse_frame(buffer.split("\n\n", 1)[0])
    assert frame.event == "article.created"
    assert frame.data["article"]["slug"] == created["article"]["slug"]
    assert arrived < 1.0, f"the event reached worker B after {arrived:.2f}s"
