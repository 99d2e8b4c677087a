"""Request bodies: too large (declared or streamed), too slow, nested too deeply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pressroom.core.request_body import nested_deeper_than
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.factories import Person, register

CAP = 2048
TOO_LARGE = {"errors": {"body": ["too large"]}}


@pytest.fixture
async def limited(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app with a 2 KiB body cap and a 0.2 s body deadline."""
    security = {"max_body_bytes": CAP, "body_timeout": 0.2, "max_json_depth": 8}
    app: FastAPI = create_app(base_settings(tmp_path, database_url, security=security))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def alice(limited: httpx.AsyncClient) -> Person:
    return await register(limited, "alice")


def article(body_size: int) -> bytes:
    fields = {"title": "Big", "description": "d", "body": "b" * body_size}
    return json.dumps({"article": fields}).encode()


async def chunks(content: bytes, size: int = 512, pause: float = 0) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        if start and pause:
            await asyncio.sleep(pause)
        yield content[start : start + size]


async def articles_count(client: httpx.AsyncClient) -> int:
    count: int = (await client.get("/api/articles")).json()["articlesCount"]
    return count


def json_headers(person: Person) -> dict[str, str]:
    return {**person.auth, "Content-Type": "application/json"}


# ---------------------------------------------------------------- size
async def test_a_declared_length_over_the_cap_is_413_and_creates_nothing(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    response = await limited.post(
        "/api/articles", content=article(CAP), headers=json_headers(alice)
    )

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert response.headers["connection"] == "close"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert await articles_count(limited) == 0


async def test_a_streamed_body_over_the_cap_is_413_and_creates_nothing(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    request = limited.build_request(
        "POST", "/api/articles", content=chunks(article(CAP)), headers=json_headers(alice)
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"

    response = await limited.send(request)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert await articles_count(limited) == 0


async def test_a_streamed_body_under_the_cap_is_served(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    response = await limited.post(
        "/api/articles", content=chunks(article(CAP // 2)), headers=json_headers(alice)
    )

    assert response.status_code == 201, response.text
    assert await articles_count(limited) == 1


async def test_the_default_cap_is_one_mebibyte(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    headers = json_headers(alice)

    over = await client.post("/api/articles", content=article(1024 * 1024), headers=headers)
    under = await client.post("/api/articles", content=article(64 * 1024), headers=headers)

    assert over.status_code == 413
    assert under.status_code == 201


# ---------------------------------------------------------------- time
async def test_a_body_that_does_not_arrive_in_time_is_408_and_creates_nothing(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    # The second chunk would come long after the 0.2 s deadline: the answer does not wait.
    slow = chunks(article(600), pause=30)
    response = await limited.post("/api/articles", content=slow, headers=json_headers(alice))

    assert response.status_code == 408
    assert response.json() == {"errors": {"body": ["not received in time"]}}
    assert response.headers["connection"] == "close"
    assert await articles_count(limited) == 0


# ---------------------------------------------------------------- nesting
def nested(depth: int) -> Any:
    value: Any = "tag"
    for _ in range(depth):
        value = [value]
    return value


async def test_a_body_nested_deeper_than_the_limit_is_a_clear_422(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    # {"article": {...}} is two levels: with 7 nested lists, 9.
    body = {"article": {"title": "t", "description": "d", "body": "b", "tagList": nested(7)}}

    response = await limited.post("/api/articles", json=body, headers=alice.auth)

    assert response.status_code == 422
    assert response.json() == {"errors": {"body": ["is nested too deeply (maximum depth is 8)"]}}
    assert await articles_count(limited) == 0


async def test_a_body_within_the_depth_limit_reaches_validation(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    body = {"article": {"title": "t", "description": "d", "body": "b", "tagList": nested(6)}}

    response = await limited.post("/api/articles", json=body, headers=alice.auth)

    assert response.status_code == 422
    assert "tagList" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "deeper_than_2"),
    [
        (b'{"a": [1, 2]}', False),
        (b'{"a": [[1]]}', True),
        (b"[[], [], {}]", False),
        (b'{"a": "[[[[[[", "b": "]]]]{{{{"}', False),
        (b'{"a": "\\"[[[[\\\\", "b": [1]}', False),
        (b'{"a": "\\\\", "b": [[1]]}', True),
        (b"[" * 10, False),  # malformed: left to the parser
        (b'{"t": "' + b"[" * 5000 + b'"}', False),
    ],
)
def test_nesting_depth_ignores_brackets_in_strings(body: bytes, deeper_than_2: bool) -> None:
    assert nested_deeper_than(body, 2) is deeper_than_2


async def test_many_brackets_inside_strings_are_not_nesting(
    limited: httpx.AsyncClient, alice: Person
) -> None:
    markdown = "[link](x) " * 50
    body = {"article": {"title": "t", "description": "d", "body": markdown}}

    response = await limited.post("/api/articles", json=body, headers=alice.auth)

    assert response.status_code == 201, response.text
