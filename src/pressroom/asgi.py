"""Entry point for ASGI servers: `uvicorn --factory pressroom.asgi:create_app_from_env`."""

from __future__ import annotations

from fastapi import FastAPI

from pressroom.core.observability.logs import configure_logging
from pressroom.core.settings import Settings
from pressroom.main import create_app


def create_app_from_env() -> FastAPI:
    settings = Settings()
    # `pressroom serve` has configured logging already (uvicorn's log_config); any other
    # server has not. Configuring again replaces the pipeline, it does not add a second one.
    configure_logging(settings)
    return create_app(settings)
