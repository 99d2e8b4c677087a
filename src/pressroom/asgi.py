"""Entry point for ASGI servers: `uvicorn --factory pressroom.asgi:create_app_from_env`."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from pressroom.core.settings import Settings
from pressroom.main import create_app


def create_app_from_env() -> FastAPI:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(Settings())
