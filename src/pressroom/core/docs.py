"""Swagger UI and ReDoc served from an installed package: /docs works with no internet.

`PRESSROOM_SECURITY__DOCS` decides who sees them: everyone (`public`, the development
default) or no one (`off`, the production default: no /docs, /redoc, /openapi.json).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from pressroom.core.settings import DocsMode

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs-assets"
OPENAPI_PATH = "/openapi.json"
PAGES = ("/docs", "/redoc")


def openapi_url(mode: DocsMode) -> str | None:
    """For `FastAPI(openapi_url=...)`: None serves no schema."""
    # An `admin` mode (docs for an admin's token only) goes here and in install_docs: serve
    # the schema and the pages from routes that depend on an admin caller.
    return None if mode is DocsMode.OFF else OPENAPI_PATH


def docs_pages(mode: DocsMode) -> Iterable[str]:
    """The HTML pages served, which need a looser Content-Security-Policy than the API."""
    return () if mode is DocsMode.OFF else PAGES


def install_docs(app: FastAPI, title: str, mode: DocsMode) -> None:
    if mode is DocsMode.OFF:
        return
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
