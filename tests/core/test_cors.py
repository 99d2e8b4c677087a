"""CORS: any origin without credentials in development, an explicit allow-list in production."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from pressroom.core.settings import Settings
from pressroom.main import create_app

SECRET = "c" * 40
LISTED = ["https://app.example", "https://admin.example"]
ORIGIN_LISTS = {
    "comma-separated": ", ".join(LISTED),
    "JSON list": f'["{LISTED[0]}", "{LISTED[1]}"]',
}
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}

ClientFactory = Callable[[dict[str, str]], httpx.AsyncClient]


@pytest.fixture
async def make_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[ClientFactory]:
    """An in-process client for an app configured by PRESSROOM_* variables, as in deployment."""
    for name in list(os.environ):
        if name.startswith("PRESSROOM_"):
            monkeypatch.delenv(name)
    clients: list[httpx.AsyncClient] = []

    def make(env: dict[str, str]) -> httpx.AsyncClient:
        # The schema answers in production too: these tests use it as a request with no DB.
        env = {
            "PRESSROOM_SECURITY__ALLOWED_HOSTS": "api.test",
            "PRESSROOM_SECURITY__DOCS": "public",
            **env,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings(_env_file=None, data_dir=tmp_path, auth={"jwt_secret": SECRET})
        transport = httpx.ASGITransport(app=create_app(settings))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://api.test"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.options("/api/articles", headers={"Origin": origin, **PREFLIGHT})


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://anything.example"])
async def test_development_allows_any_origin_without_credentials(
    make_client: ClientFactory, origin: str
) -> None:
    response = await preflight(make_client({}), origin)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= set(allowed_headers.replace(" ", "").split(","))


@pytest.mark.parametrize("origin", LISTED)
@pytest.mark.parametrize("origins", list(ORIGIN_LISTS.values()), ids=list(ORIGIN_LISTS))
async def test_production_allows_listed_origins(
    make_client: ClientFactory, origins: str, origin: str
) -> None:
    client = make_client({"PRESSROOM_ENV": "production", "PRESSROOM_CORS__ALLOW_ORIGINS": origins})

    response = await preflight(client, origin)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("origins", list(ORIGIN_LISTS.values()), ids=list(ORIGIN_LISTS))
async def test_production_refuses_other_origins(make_client: ClientFactory, origins: str) -> None:
    client = make_client({"PRESSROOM_ENV": "production", "PRESSROOM_CORS__ALLOW_ORIGINS": origins})

    response = await preflight(client, "https://evil.example")
    actual = await client.get("/openapi.json", headers={"Origin": "https://evil.example"})

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert actual.status_code == 200
    assert "access-control-allow-origin" not in actual.headers


async def test_production_without_a_list_allows_no_origin(make_client: ClientFactory) -> None:
    client = make_client({"PRESSROOM_ENV": "production"})

    response = await preflight(client, LISTED[0])

    assert "access-control-allow-origin" not in response.headers


async def test_production_grants_credentials_to_a_listed_origin(
    make_client: ClientFactory,
) -> None:
    client = make_client(
        {
            "PRESSROOM_ENV": "production",
            "PRESSROOM_CORS__ALLOW_ORIGINS": LISTED[0],
            "PRESSROOM_CORS__ALLOW_CREDENTIALS": "true",
        }
    )

    response = await client.get("/openapi.json", headers={"Origin": LISTED[0]})

    assert response.headers["access-control-allow-origin"] == LISTED[0]
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_development_actual_response_allows_any_origin(make_client: ClientFactory) -> None:
    response = await make_client({}).get(
        "/openapi.json", headers={"Origin": "http://localhost:5173"}
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
