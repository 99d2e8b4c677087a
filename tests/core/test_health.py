"""Liveness and readiness: what a load balancer or Kubernetes sees."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pressroom.core import migrations
from pressroom.main import create_app
from tests.conftest import StatementLog, base_settings
from tests.test_server_process import free_port


async def test_healthz_touches_nothing(client: httpx.AsyncClient, sql: StatementLog) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    assert len(sql) == 0


async def test_readyz_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"status": "ok"}
    head = migrations.head_revision(base_settings(Path("unused")))
    assert body["checks"]["migrations"] == {"status": "ok", "revision": head, "expected": head}
    assert "redis" not in body["checks"]  # not configured: nothing to report
    assert response.headers["cache-control"] == "no-store"


async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def closed_port() -> int:
    return free_port()  # nothing listens there once its probe socket is closed


@pytest.fixture
def old_database(tmp_path: Path) -> Path:
    """A SQLite database one migration short of the newest (Alembic runs its own loop, so
    this fixture is not async)."""
    path = tmp_path / "old.db"
    settings = base_settings(tmp_path, f"sqlite+aiosqlite:///{path}")
    migrations.upgrade(settings, "head")
    migrations.downgrade(settings, "-1")
    return path


@pytest.fixture
async def behind(tmp_path: Path, old_database: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = base_settings(tmp_path, f"sqlite+aiosqlite:///{old_database}")
    async for http in serve(create_app(settings)):
        yield http


async def test_a_database_behind_the_code_is_not_ready(behind: httpx.AsyncClient) -> None:
    response = await behind.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"status": "ok"}
    assert checks["migrations"]["status"] == "failing"
    assert checks["migrations"]["revision"] != checks["migrations"]["expected"]
    assert (await behind.get("/healthz")).status_code == 200


async def test_a_database_migrated_by_a_newer_release_stays_ready(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """During a rolling update the new release migrates first; the old one keeps serving."""
    path = tmp_path / "newer.db"
    shutil.copy(sqlite_template, path)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    connection.close()
    async for http in serve(create_app(base_settings(tmp_path, f"sqlite+aiosqlite:///{path}"))):
        response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    head = migrations.head_revision(base_settings(Path("unused")))
    migrations_check = {"status": "ahead", "revision": "f00dfeedbeef", "expected": head}
    assert response.json()["checks"]["migrations"] == migrations_check


async def test_an_unreachable_database_is_not_ready_but_alive(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/nowhere"
    settings = base_settings(tmp_path, url, database={"connect_timeout": 1})
    async for http in serve(create_app(settings)):
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["status"] == "failing"
        assert ready.json()["status"] == "not ready"
        assert (await http.get("/healthz")).status_code == 200


async def test_a_never_migrated_database_is_not_ready(tmp_path: Path) -> None:
    settings = base_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    async for http in serve(create_app(settings)):
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"]["revision"] is None


async def test_a_failing_redis_is_reported_degraded_not_unready(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "db.db"
    shutil.copy(sqlite_template, path)
    settings = base_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{path}",
        redis={"url": f"redis://127.0.0.1:{closed_port()}/0"},
        rate_limit={"enabled": True},
    )
    async for http in serve(create_app(settings)):
        await http.get("/api/tags")  # a request the limiter counts, in memory, as it falls back
        response = await http.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["redis"] == {"status": "degraded"}
