"""The API process's own relay (the embedded default) and the `external` mode for the fleet."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pressroom.core.db import Database
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.factories import register
from tests.outbox.helpers import outbox_rows


async def delivered_kinds(database: Database) -> list[str]:
    return [row.kind for row in await outbox_rows(database) if row.delivered_at is not None]


async def until_delivered(database: Database) -> None:
    """The effect is in the database, which signals nothing: look until it shows."""
    for _ in range(1000):
        if await delivered_kinds(database):
            return
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("mode", ["in_process", "external"])
async def test_the_api_process_relays_events_unless_told_they_are_external(
    database_url: str, tmp_path: Path, mode: str
) -> None:
    # Polling alone would take a minute: delivery within seconds means the commit woke it.
    settings = base_settings(tmp_path, database_url, outbox={"relay": mode, "poll_interval": 60})
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await register(client, "alice")
        database: Database = app.state.database
        if mode == "in_process":
            async with asyncio.timeout(10):
                await until_delivered(database)
            assert await delivered_kinds(database) == ["user.registered"]
        else:
            assert app.state.relay is None
            await asyncio.sleep(0.2)
            rows = await outbox_rows(database)
            assert [(row.kind, row.delivered_at) for row in rows] == [("user.registered", None)]
    # The lifespan stopped the relay before closing the database: nothing left running.
    assert all(task.get_name() != "outbox-relay" for task in asyncio.all_tasks())
