"""/docs (Swagger UI) and /redoc work with no internet: the app serves their assets itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI

from pressroom.main import create_app
from tests.conftest import base_settings

PAGES = ["/docs", "/redoc"]
ASSET_TYPES = {
    "script": ("text/javascript", "application/javascript"),
    "stylesheet": ("text/css",),
    "icon": ("image/",),
}


class _Assets(HTMLParser):
    """Every URL the page makes the browser fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and values.get("src"):
            self.found.append(("script", values["src"]))
        elif tag == "link" and values.get("href"):
            kind = "stylesheet" if "stylesheet" in values.get("rel", "") else "icon"
            self.found.append((kind, values["href"]))
        elif tag == "img" and values.get("src"):
            self.found.append(("icon", values["src"]))


def assets(html: str) -> list[tuple[str, str]]:
    parser = _Assets()
    parser.feed(html)
    return parser.found


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app alone: the docs need no database."""
    return create_app(base_settings(tmp_path_factory.mktemp("docs")))


@pytest.fixture(params=["", "/behind-a-proxy"], ids=["root", "root_path"])
async def docs_client(
    request: pytest.FixtureRequest, docs_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, served at the root or under a proxy's root path."""
    root_path: str = request.param
    transport = httpx.ASGITransport(app=docs_app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://test{root_path}") as http:
        yield http


@pytest.mark.parametrize("page", PAGES)
async def test_docs_pages_name_no_other_host(docs_client: httpx.AsyncClient, page: str) -> None:
    response = await docs_client.get(page.lstrip("/"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assert "cdn" not in html.lower()
    found = assets(html)
    assert {kind for kind, _ in found} >= (
        {"script"} if page == "/redoc" else {"script", "stylesheet"}
    )
    root = str(docs_client.base_url.path).rstrip("/")
    for _, url in found:
        assert url.startswith(f"{root}/"), url
        assert not url.startswith("//"), url


@pytest.mark.parametrize("page", PAGES)
async def test_every_docs_asset_is_served_by_the_app(
    docs_client: httpx.AsyncClient, page: str
) -> None:
    html = (await docs_client.get(page.lstrip("/"))).text
    root = str(docs_client.base_url.path).rstrip("/")
    for kind, url in assets(html):
        response = await docs_client.get(url.removeprefix(f"{root}/"))
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(ASSET_TYPES[kind]), url
        assert len(response.content) > 1000, url


@pytest.mark.parametrize("page", PAGES)
async def test_docs_pages_load_the_schema_from_the_app(
    docs_client: httpx.AsyncClient, page: str
) -> None:
    html = (await docs_client.get(page.lstrip("/"))).text
    root = str(docs_client.base_url.path).rstrip("/")
    assert f"{root}/openapi.json" in html
    schema = await docs_client.get("openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Pressroom"


async def test_swagger_ui_keeps_the_token_across_reloads(docs_client: httpx.AsyncClient) -> None:
    html = (await docs_client.get("docs")).text
    assert '"persistAuthorization": true' in html


async def test_a_missing_asset_is_404_in_the_envelope(docs_client: httpx.AsyncClient) -> None:
    response = await docs_client.get("docs-assets/missing.js")
    assert response.status_code == 404
    assert response.json() == {"errors": {"route": ["not found"]}}
