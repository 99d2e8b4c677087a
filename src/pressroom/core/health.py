"""Liveness and readiness for load balancers and orchestrators.

`/healthz` answers while the process can answer at all: it touches no dependency, so a slow
database never gets a healthy process restarted. `/readyz` checks what serving needs (the
database answers, its schema is at the newest migration) and reports Redis, which is optional:
when it fails the rate limiter counts per worker, so the process is degraded, not unready.
From a stop signal on, the process is draining (core/lifecycle.py) and `/readyz` says 503 at
once, without asking the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Select, column, literal, select, table
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from pressroom.core import migrations
from pressroom.core.reads import Reader
from pressroom.core.responses import json_response
from pressroom.core.settings import Settings

CHECK_TIMEOUT = 2.0  # seconds for all database checks together
_NO_STORE = {"Cache-Control": "no-store"}
_PING = select(literal(1))
_VERSION: Select[Any] = select(column("version_num")).select_from(table("alembic_version"))


@dataclass(frozen=True, slots=True)
class ExpectedSchema:
    head: str | None
    known: frozenset[str]  # every revision this code ships


async def database_checks(reader: Reader, head: ExpectedSchema) -> tuple[bool, dict[str, Any]]:
    """(ready, the database and migrations checks)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await reader.scalar(_PING, {})
    except (TimeoutError, SQLAlchemyError, OSError) as exc:
        failing = {"status": "failing", "error": type(exc).__name__}
        return False, {"database": failing, "migrations": {"status": "unknown"}}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            revision = await reader.scalar(_VERSION, {})
    except (TimeoutError, SQLAlchemyError, OSError):
        revision = None  # no alembic_version table: never migrated
    if revision is not None and revision == head.head:
        status = "ok"
    elif revision is not None and revision not in head.known:
        # Migrated by a newer release while this one still runs (a rolling update): migrations
        # expand before they contract, so this code keeps working and stays ready.
        status = "ahead"
    else:
        status = "failing"  # behind this code, or never migrated
    schema = {"status": status, "revision": revision, "expected": head.head}
    return status != "failing", {"database": {"status": "ok"}, "migrations": schema}


def install_health(app: FastAPI, settings: Settings) -> None:
    # Read from the installed package, no database.
    head = ExpectedSchema(migrations.head_revision(settings), migrations.known_revisions())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return json_response({"status": "ok"}, headers=_NO_STORE)

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        state = request.app.state
        if state.lifecycle.draining.is_set():
            # Stopping: no need to ask the database to know the answer is no.
            body = {"status": "not ready", "checks": {"draining": {"status": "failing"}}}
            return json_response(body, status_code=503, headers=_NO_STORE)
        ready, checks = await database_checks(state.database.reader, head)
        limiter = state.ratelimiter.status()
        if limiter.backend == "redis":
            checks["redis"] = {"status": "degraded" if limiter.degraded else "ok"}
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return json_response(body, status_code=200 if ready else 503, headers=_NO_STORE)
