"""Exports from a real server process on Postgres: flat memory, and a client that hangs up
mid-export gives back its connection and its lock at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from pressroom import seeding
from pressroom.admin.service import AdminAccounts
from pressroom.auth.passwords import Passwords
from pressroom.core import migrations
from pressroom.core.db import Database, create_engine
from pressroom.core.settings import Settings
from pressroom.exports.repository import LOCK_NAMESPACE
from tests.conftest import base_settings, create_pg_database, drop_pg_database
from tests.exports.test_one_at_a_time import EXPORT_LOCKS
from tests.test_server_process import (
    STOP_SECONDS,
    environment,
    free_port,
    running,
    wait_until_answering,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXPORT = "/api/admin/exports/articles"
METRICS_TOKEN = "m" * 32
# About 25 MB of NDJSON: more than the client's and the server's socket buffers hold, so
# the export is still running when the client hangs up.
ARTICLES = 20_000
# 10,000 seeded articles make 12.5 MB of NDJSON. Holding them in memory would grow the server
# by about 40 MB (bench/export_memory.py --batch-rows 10000 measures it); streaming grows it
# by about 1 MB.
MEMORY_ARTICLES = 10_000
MAX_GROWTH_MB = 8


def test_streaming_a_large_export_keeps_the_server_memory_flat(tmp_path: Path) -> None:
    name = f"pressroom_test_export_memory_{os.getpid()}"
    create_pg_database(name)  # skips without Postgres (fails in CI); the bench recreates it
    done = subprocess.run(  # noqa: S603 (this repository's own script)
        [
            sys.executable, str(ROOT / "bench" / "export_memory.py"), "--json",
            "--articles", str(MEMORY_ARTICLES), "--max-growth-mb", str(MAX_GROWTH_MB),
            "--database", name,
        ],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
        env=environment(),
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["complete"], result
    assert result["articles"] == MEMORY_ARTICLES
    assert result["export_mb"] > MAX_GROWTH_MB  # the bound means something
    assert result["growth_mb"] <= MAX_GROWTH_MB, result
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- hanging up mid-export
async def _promote(settings: Settings, username: str) -> None:
    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            await AdminAccounts(session, Passwords(settings.auth)).promote(username)
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A Postgres database with ARTICLES articles; its URL and its admin's login."""
    name = f"pressroom_test_export_{os.getpid()}"
    url = create_pg_database(name)
    settings = base_settings(tmp_path_factory.mktemp("export"), url)
    migrations.upgrade(settings)
    plan = seeding.SeedPlan(
        articles=ARTICLES, comments_per_article=0, favorites_per_article=0, seed_value=5
    )
    result = asyncio.run(seeding.seed(settings, plan))
    asyncio.run(_promote(settings, result.demo_username))
    yield url, result.demo_email, result.password
    drop_pg_database(name)


async def _database_state(url: str) -> tuple[int, int]:
    """(the app's sessions inside a transaction, advisory locks held), seen from outside.

    The liveness probe's `SELECT 1` (core/db_watch.py), every second, is not counted."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        busy = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'pressroom' "
            "AND state IN ('active', 'idle in transaction') AND query <> 'SELECT 1'"
        )
        locks = await connection.fetchval(EXPORT_LOCKS, LOCK_NAMESPACE)
    finally:
        await connection.close()
    return busy, locks


def database_state(url: str) -> tuple[int, int]:
    return asyncio.run(_database_state(url))


def pool_checked_out(http: httpx.Client) -> float:
    metrics = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200, metrics.text
    for line in metrics.text.splitlines():
        if line.startswith("pressroom_db_pool_checked_out_connections"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no pool gauge in /metrics")


def wait_for(check: object, expected: object, seconds: float = 2.0) -> object:
    """Polls `check()` until it returns `expected` or `seconds` pass; returns the last value."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def serve(url: str, tmp_path: Path) -> tuple[list[str], dict[str, str], str]:
    """`pressroom serve` on a free port: (command, environment, base URL)."""
    port = free_port()
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path / "data"),
        PRESSROOM_DATABASE__URL=url,
        PRESSROOM_AUTH__JWT_SECRET="e" * 40,
        PRESSROOM_METRICS__TOKEN=METRICS_TOKEN,
        PRESSROOM_RATE_LIMIT__ENABLED="false",
    )
    command = [sys.executable, "-m", "pressroom", "serve", "--port", str(port)]
    return command, env, f"http://127.0.0.1:{port}"


def log_in(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    login = http.post("/api/users/login", json={"user": {"email": email, "password": password}})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Token {login.json()['user']['token']}"}


def test_a_client_that_hangs_up_mid_export_frees_the_connection_and_lock_at_once(
    seeded: tuple[str, str, str], tmp_path: Path
) -> None:
    url, email, password = seeded
    command, env, base = serve(url, tmp_path)
    log = tmp_path / "server.log"
    with running(command, env, log) as process, httpx.Client(base_url=base, timeout=10) as http:
        wait_until_answering(base, process, log)
        auth = log_in(http, email, password)
        assert database_state(url) == (0, 0)

        with (
            httpx.Client(base_url=base, timeout=10) as hanging_up,
            hanging_up.stream("GET", EXPORT, headers=auth) as stream,
        ):
            lines = stream.iter_lines()
            first = [orjson.loads(next(lines)) for _ in range(10)]
            # Mid-export: its snapshot and lock are held while the client reads.
            assert database_state(url) == (1, 1)
            assert pool_checked_out(http) == 1
            second = http.get(EXPORT, headers=auth)
        # Leaving the block closed the response and its connection mid-stream.

        assert wait_for(lambda: database_state(url), (0, 0)) == (0, 0)
        assert wait_for(lambda: pool_checked_out(http), 0) == 0
        again = http.get(EXPORT, headers=auth)

    assert first[0]["type"] == "export"
    assert second.status_code == 409, second.text
    assert second.json() == {
        "errors": {
            "export": ["an export is already running for this account; retry when it has finished"]
        }
    }
    assert again.status_code == 200
    end = orjson.loads(again.content.splitlines()[-1])
    assert end == {"type": "end", "complete": True, "lines": ARTICLES}
    assert "Traceback" not in log.read_text()


def test_a_stopping_server_ends_a_running_export_with_an_incomplete_last_line(
    seeded: tuple[str, str, str], tmp_path: Path
) -> None:
    url, email, password = seeded
    command, env, base = serve(url, tmp_path)
    log = tmp_path / "server.log"
    with running(command, env, log) as process, httpx.Client(base_url=base, timeout=10) as http:
        wait_until_answering(base, process, log)
        auth = log_in(http, email, password)
        with http.stream("GET", EXPORT, headers=auth) as stream:
            lines = stream.iter_lines()
            first = [next(lines) for _ in range(10)]
            process.send_signal(signal.SIGTERM)
            rest = list(lines)
        code = process.wait(STOP_SECONDS)

    assert orjson.loads(first[0])["type"] == "export"
    end = orjson.loads(rest[-1])
    assert end["type"] == "end"
    assert end["complete"] is False
    assert end["reason"] == "the server is shutting down"
    assert end["lines"] == len(first) + len(rest) - 2 < ARTICLES
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert database_state(url) == (0, 0)
