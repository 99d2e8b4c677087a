"""Security headers on every answer, trusted hosts, docs exposure, gzip, CORS on errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pressroom.core.security_headers import API_CSP, DOCS_CSP
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.factories import make_article, register

YEAR = 365 * 24 * 3600


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


async def client_for(
    stack: AsyncExitStack, app: FastAPI, base_url: str = "http://test"
) -> httpx.AsyncClient:
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url=base_url)
    )


def add_failing_route(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/explode", explode)


def assert_hardened(response: httpx.Response, csp: bytes = API_CSP) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == csp.decode()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])


# ---------------------------------------------------------------- headers
async def test_every_answer_carries_the_security_headers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    add_failing_route(app)
    answers = {
        200: await client.get("/api/tags"),
        404: await client.get("/api/no-such-route"),
        405: await client.delete("/api/tags"),
        422: await client.post("/api/users", json={"user": {}}),
        500: await client.get("/api/explode"),
    }

    for status, response in answers.items():
        assert response.status_code == status
        assert_hardened(response)
        assert "strict-transport-security" not in response.headers  # plain http
        if status == 200:  # a public read: revalidated by its ETag (docs/caching.md)
            assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"
        else:
            assert "cache-control" not in response.headers  # anonymous


@pytest.mark.parametrize(
    "credentials",
    [{"Authorization": "Token not-a-valid-token"}, {"X-API-Key": "some-key"}],
    ids=["Authorization", "X-API-Key"],
)
async def test_answers_to_requests_with_credentials_are_not_stored(
    client: httpx.AsyncClient, credentials: dict[str, str]
) -> None:
    refused = await client.get("/api/user", headers=credentials)
    public = await client.get("/api/tags", headers=credentials)

    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"
    # A read that may carry per-viewer fields: only the caller's own cache may keep it.
    assert public.headers.get_list("cache-control") == ["private, no-cache"]


async def test_an_authenticated_answer_is_not_stored(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")

    me = await client.get("/api/user", headers=alice.auth)
    anonymous = await client.get("/api/tags")

    assert me.status_code == 200
    assert me.headers.get_list("cache-control") == ["no-store"]
    assert anonymous.headers["cache-control"] == "public, max-age=0, must-revalidate"


async def test_hsts_only_over_https(app: FastAPI, stack: AsyncExitStack) -> None:
    https = await client_for(stack, app, "https://test")
    http = await client_for(stack, app, "http://test")

    secure = await https.get("/api/no-such-route")
    plain = await http.get("/api/no-such-route")

    assert secure.headers["strict-transport-security"] == f"max-age={YEAR}"
    assert "strict-transport-security" not in plain.headers


@pytest.mark.parametrize(("max_age", "expected"), [(600, "max-age=600"), (0, None)])
async def test_hsts_max_age_is_configurable(
    tmp_path: Path, stack: AsyncExitStack, max_age: int, expected: str | None
) -> None:
    settings = base_settings(tmp_path, security={"hsts_max_age": max_age})
    client = await client_for(stack, create_app(settings), "https://test")

    response = await client.get("/api/no-such-route")

    assert response.headers.get("strict-transport-security") == expected


# ---------------------------------------------------------------- docs
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_get_a_policy_that_lets_them_work_offline(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    assert_hardened(response, DOCS_CSP)
    # Everything the page loads comes from this origin ('self' in the policy) and is served.
    loaded = re.findall(r'(?:src|href|url|spec-url)\s*[=:]\s*["\']([^"\']+)["\']', response.text)
    assert loaded
    for url in loaded:
        assert url.startswith("/"), url
        assert (await client.get(url)).status_code == 200, url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy  # Swagger UI starts inline
    assert "worker-src 'self' blob:" in policy  # ReDoc's worker


async def test_a_route_named_like_a_docs_page_keeps_the_api_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/articles/docs")

    assert response.status_code == 404
    assert response.headers["content-security-policy"] == API_CSP.decode()


PRODUCTION: dict[str, Any] = {"env": "production", "security": {"allowed_hosts": ["test"]}}


async def test_production_serves_no_docs(tmp_path: Path, stack: AsyncExitStack) -> None:
    client = await client_for(stack, create_app(base_settings(tmp_path, **PRODUCTION)))

    for path in ["/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui.css"]:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"errors": {"route": ["not found"]}}


async def test_production_can_publish_docs(tmp_path: Path, stack: AsyncExitStack) -> None:
    settings = base_settings(
        tmp_path, env="production", security={"allowed_hosts": ["test"], "docs": "public"}
    )
    client = await client_for(stack, create_app(settings))

    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200


# ---------------------------------------------------------------- hosts
HOSTS = {"allowed_hosts": ["api.example.com", "*.example.org"]}


@pytest.mark.parametrize("host", ["evil.example", "example.org", "api.example.com.evil.example"])
async def test_a_foreign_host_is_refused_in_the_envelope(
    tmp_path: Path, stack: AsyncExitStack, host: str
) -> None:
    client = await client_for(stack, create_app(base_settings(tmp_path, security=HOSTS)))

    response = await client.get("/api/no-such-route", headers={"Host": host})

    assert response.status_code == 400
    assert response.json() == {"errors": {"host": ["is not allowed"]}}
    assert_hardened(response)


@pytest.mark.parametrize("host", ["api.example.com", "API.example.com:8443", "eu.example.org"])
async def test_listed_hosts_are_served(tmp_path: Path, stack: AsyncExitStack, host: str) -> None:
    client = await client_for(stack, create_app(base_settings(tmp_path, security=HOSTS)))

    response = await client.get("/api/no-such-route", headers={"Host": host})

    assert response.status_code == 404


async def test_development_answers_any_host(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no-such-route", headers={"Host": "anything.example"})

    assert response.status_code == 404


# ---------------------------------------------------------------- gzip
async def test_large_answers_are_gzipped_for_clients_that_accept_it(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    for n in range(5):
        await make_article(client, alice, title=f"Article {n}", description="d" * 200)
    gzip = {"Accept-Encoding": "gzip"}

    large = await client.get("/api/articles", headers=gzip)
    plain = await client.get("/api/articles", headers={"Accept-Encoding": "identity"})
    small = await client.get("/api/tags", headers=gzip)

    assert len(large.content) > 1024
    assert large.headers["content-encoding"] == "gzip"
    assert int(large.headers["content-length"]) < len(large.content)
    assert large.json() == plain.json()
    assert "content-encoding" not in plain.headers
    assert "content-encoding" not in small.headers


async def test_gzip_minimum_size_is_configurable(
    tmp_path: Path, stack: AsyncExitStack, database_url: str
) -> None:
    settings = base_settings(tmp_path, database_url, security={"gzip_minimum_bytes": 0})
    client = await client_for(stack, create_app(settings))

    response = await client.get("/api/tags", headers={"Accept-Encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"


# ---------------------------------------------------------------- CORS on errors
async def test_an_internal_error_still_carries_cors_headers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    add_failing_route(app)

    response = await client.get("/api/explode", headers={"Origin": "http://localhost:5173"})

    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "X-Request-ID"


async def test_a_foreign_origin_gets_no_cors_headers_on_errors(
    tmp_path: Path, stack: AsyncExitStack
) -> None:
    settings: dict[str, Any] = {**PRODUCTION, "cors": {"allow_origins": ["https://app.example"]}}
    app = create_app(base_settings(tmp_path, **settings))
    add_failing_route(app)
    client = await client_for(stack, app)

    failed = await client.get("/api/explode", headers={"Origin": "https://evil.example"})
    listed = await client.get("/api/explode", headers={"Origin": "https://app.example"})

    assert failed.status_code == 500
    assert "access-control-allow-origin" not in failed.headers
    assert listed.headers["access-control-allow-origin"] == "https://app.example"
