"""Prometheus metrics in one process: what a scrape shows, and who may scrape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from pressroom.core.settings import Settings
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.metrics_scrapes import route_labels, sample_total
from tests.test_server_process import free_port

TOKEN = "metrics-token-" + "m" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REQUESTS = "pressroom_http_requests_total"
DURATION = "pressroom_http_request_duration_seconds"


def metrics_settings(database_url: str, tmp_path: Path, **metrics: Any) -> Settings:
    return base_settings(
        tmp_path,
        database_url,
        metrics={"token": TOKEN, **metrics},
        database={"pool_size": 2, "max_overflow": 5},
    )


async def serve(app: FastAPI, stack: AsyncExitStack) -> httpx.AsyncClient:
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url="http://test")
    )


@pytest.fixture
async def metered(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(metrics_settings(database_url, tmp_path))
    async with AsyncExitStack() as stack:
        yield app, await serve(app, stack)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_method_and_status_class(
    metered: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = metered
    for _ in range(3):
        assert (await client.get("/api/tags")).status_code == 200
    for slug in ("one", "two"):
        assert (await client.get(f"/api/articles/{slug}")).status_code == 404
    assert (await client.get("/no/such/path/1")).status_code == 404
    assert (await client.get("/no/such/path/2")).status_code == 404
    assert (await client.request("BREW", "/api/tags")).status_code == 405

    text = await scrape(client)

    assert sample_total(text, REQUESTS, route="/api/tags", method="GET", status_class="2xx") == 3
    slug_404 = {"route": "/api/articles/{slug}", "method": "GET", "status_class": "4xx"}
    assert sample_total(text, REQUESTS, **slug_404) == 2
    # Unmatched paths and odd methods share one label value each: no series per client whim.
    assert sample_total(text, REQUESTS, route="unmatched", status_class="4xx") == 2
    assert sample_total(text, REQUESTS, route="/api/tags", method="other") == 1
    assert route_labels(text) == {"/api/tags", "/api/articles/{slug}", "unmatched"}
    # Classes nobody saw yet are there at zero, so rates and ratios work from the start.
    assert sample_total(text, REQUESTS, route="/api/tags", method="GET", status_class="5xx") == 0


async def test_latency_histogram_counts_every_request_into_cumulative_buckets(
    metered: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = metered
    for _ in range(4):
        await client.get("/api/tags")

    text = await scrape(client)

    labels = {"route": "/api/tags", "method": "GET"}
    assert sample_total(text, f"{DURATION}_count", **labels) == 4
    assert 0 < sample_total(text, f"{DURATION}_sum", **labels) < 10
    assert sample_total(text, f"{DURATION}_bucket", le="+Inf", **labels) == 4
    small = sample_total(text, f"{DURATION}_bucket", le="0.0005", **labels)
    large = sample_total(text, f"{DURATION}_bucket", le="10.0", **labels)
    assert small <= large == 4


async def test_metrics_requests_are_not_counted_per_route(
    metered: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = metered
    await scrape(client)
    await client.get("/metrics")  # refused: not counted either

    assert "/metrics" not in route_labels(await scrape(client))


async def test_requests_in_flight_include_a_request_still_sending_its_body(
    metered: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = metered
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"user": '
        await release.wait()
        yield b"{}}"

    slow = asyncio.create_task(client.post("/api/users", content=slow_body()))
    await asyncio.sleep(0.05)
    during = sample_total(await scrape(client), "pressroom_http_requests_in_flight")
    release.set()
    assert (await slow).status_code == 422
    after = sample_total(await scrape(client), "pressroom_http_requests_in_flight")

    # The scrape itself is a request in flight too.
    assert (during, after) == (2, 1)


async def test_pool_gauges_follow_connections_checked_out(
    metered: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = metered
    engine = app.state.database.engine
    async with AsyncExitStack() as connections:
        for _ in range(3):  # pool_size is 2: the third is an overflow connection
            await connections.enter_async_context(engine.connect())
        busy = await scrape(client)
    idle = await scrape(client)

    assert sample_total(busy, "pressroom_db_pool_checked_out_connections") == 3
    assert sample_total(busy, "pressroom_db_pool_overflow_connections") == 1
    assert sample_total(busy, "pressroom_db_pool_size_connections") == 2
    assert sample_total(busy, "pressroom_db_pool_max_overflow_connections") == 5
    assert sample_total(idle, "pressroom_db_pool_checked_out_connections") == 0
    assert sample_total(idle, "pressroom_db_pool_overflow_connections") == 0


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-wrong-token", f"Token {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
)
async def test_metrics_without_the_right_token_are_refused(
    metered: tuple[FastAPI, httpx.AsyncClient], authorization: str | None
) -> None:
    _, client = metered
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert list(response.json()["errors"]) == ["token"]
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert "pressroom_" not in response.text


async def test_metrics_stay_out_of_the_openapi_schema(
    metered: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = metered
    assert "/metrics" not in app.openapi()["paths"]


@pytest.mark.parametrize(
    "metrics",
    [{}, {"enabled": False, "token": TOKEN}],
    ids=["neither token nor port", "disabled"],
)
async def test_metrics_are_unreachable_unless_configured(
    sqlite_template: Path, tmp_path: Path, metrics: dict[str, Any]
) -> None:
    url = f"sqlite+aiosqlite:///{sqlite_template}"
    app = create_app(base_settings(tmp_path, url, metrics=metrics))
    async with AsyncExitStack() as stack:
        client = await serve(app, stack)
        response = await client.get("/metrics", headers=AUTH)

    assert response.status_code == 404
    assert response.json() == {"errors": {"route": ["not found"]}}
    assert app.state.metrics is None  # and nothing is recorded per request


async def test_metrics_port_serves_them_apart_from_the_api(
    sqlite_template: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"sqlite+aiosqlite:///{sqlite_template}"
    app = create_app(base_settings(tmp_path, url, metrics={"port": port}))
    async with AsyncExitStack() as stack:
        client = await serve(app, stack)
        await client.get("/api/tags")
        on_api_port = await client.get("/metrics", headers=AUTH)
        async with httpx.AsyncClient(timeout=5) as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")

    assert on_api_port.status_code == 404
    assert scraped.status_code == 200
    assert sample_total(scraped.text, REQUESTS, route="/api/tags", status_class="2xx") == 1
    with pytest.raises(httpx.TransportError):  # closed with the app
        async with httpx.AsyncClient(timeout=1) as scraper:
            await scraper.get(f"http://127.0.0.1:{port}/metrics")


def test_a_short_metrics_token_is_refused_at_boot(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        base_settings(tmp_path, metrics={"token": "short"})


async def test_an_unexpected_error_counts_as_5xx_of_its_route(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(metrics_settings(database_url, tmp_path))

    @app.get("/api/broken/{part}")
    async def broken(part: str) -> None:
        raise RuntimeError(part)

    async with AsyncExitStack() as stack:
        client = await serve(app, stack)
        assert (await client.get("/api/broken/gear")).status_code == 500
        text = await scrape(client)

    labels = {"route": "/api/broken/{part}", "method": "GET"}
    assert sample_total(text, REQUESTS, status_class="5xx", **labels) == 1
    assert sample_total(text, f"{DURATION}_count", **labels) == 1
