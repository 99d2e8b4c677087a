"""Real `pressroom worker` processes on Postgres: two relays, one killed mid-batch, and every
event's effect applied exactly once (by idempotency key)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import base_settings, create_pg_database, drop_pg_database
from tests.outbox.helpers import add_events, open_database, outbox_rows
from tests.test_server_process import ROOT, environment, migrate, running

pytestmark = pytest.mark.slow

EVENTS = 300
DEADLINE = 60.0
STOP_SECONDS = 15


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"pressroom_worker_{uuid.uuid4().hex[:12]}"
    url = create_pg_database(name)
    yield url
    drop_pg_database(name)


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def query(url: str, sql: str) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn(url), timeout=5)
        try:
            return list(await connection.fetch(sql))
        finally:
            await connection.close()

    return asyncio.run(run())


def wait_for(condition: Callable[[], bool], what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    output = "\n".join(log.read_text() for log in logs)
    pytest.fail(f"{what}: not within {DEADLINE}s\n{output}")


def test_two_workers_one_killed_mid_batch_apply_every_effect_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    env = environment(
        PRESSROOM_DATABASE__URL=database_url,
        PRESSROOM_DATA_DIR=str(tmp_path / "data"),
        PRESSROOM_LOGGING__FORMAT="json",
        PRESSROOM_OUTBOX__BATCH_SIZE="10",
        PRESSROOM_OUTBOX__CONCURRENCY="5",
        PRESSROOM_OUTBOX__HANDLER_TIMEOUT="2",
        PRESSROOM_OUTBOX__LEASE_SECONDS="5",
        PRESSROOM_OUTBOX__POLL_INTERVAL="0.2",
        PYTHONPATH=str(ROOT),
    )
    migrate(env)
    query(database_url, "CREATE TABLE test_effects (key text NOT NULL, pid integer NOT NULL)")
    settings = base_settings(tmp_path, database_url)

    async def add() -> list[str]:
        async with open_database(settings) as database:
            return [event.key for event in await add_events(database, "test.effect", EVENTS)]

    command = [sys.executable, "-m", "tests.outbox.effect_worker"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    logs = [first_log, second_log]
    with (
        running(command, env, first_log) as first,
        running(command, env, second_log) as second,
    ):
        # Both relays up before the events arrive, so both take a share of them.
        wait_for(
            lambda: all("outbox worker started" in log.read_text() for log in logs),
            "both workers started",
            logs,
        )
        keys = asyncio.run(add())

        def first_is_busy() -> bool:
            sql = f"SELECT count(*) FROM test_effects WHERE pid = {first.pid}"  # noqa: S608
            done = query(database_url, sql)
            return int(done[0][0]) >= 20

        wait_for(first_is_busy, "the first worker applying effects", logs)
        first.send_signal(signal.SIGKILL)  # mid-batch: leases held, a transaction maybe open
        first.wait(STOP_SECONDS)

        def all_delivered() -> bool:
            rows = query(
                database_url, "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL"
            )
            return int(rows[0][0]) == 0

        wait_for(all_delivered, "every event delivered by the surviving worker", logs)
        second.send_signal(signal.SIGTERM)
        code = second.wait(STOP_SECONDS)

    output = second_log.read_text()
    assert code == 0, output
    assert "outbox worker stopped" in output
    assert "Traceback" not in output
    effects = query(database_url, "SELECT key, count(*) AS times FROM test_effects GROUP BY key")
    assert {row["key"] for row in effects} == set(keys)
    assert {row["times"] for row in effects} == {1}
    # The killed worker's leased events went to the survivor once their lease expired.
    retried = query(database_url, "SELECT count(*) FROM outbox_events WHERE attempts > 1")
    assert int(retried[0][0]) >= 1
    dead = query(database_url, "SELECT count(*) FROM outbox_events WHERE dead_at IS NOT NULL")
    assert int(dead[0][0]) == 0


def test_worker_once_delivers_what_is_due_and_exits(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pressroom.db'}"
    env = environment(PRESSROOM_DATABASE__URL=url, PRESSROOM_DATA_DIR=str(tmp_path))
    migrate(env)
    settings = base_settings(tmp_path, url)

    async def add_and_read(add: bool) -> list[bool]:
        async with open_database(settings) as database:
            if add:
                await add_events(database, "article.created", 3)
            rows = await outbox_rows(database)
            return [row.delivered_at is not None for row in rows]

    assert asyncio.run(add_and_read(True)) == [False] * 3
    done = subprocess.run(
        [sys.executable, "-m", "pressroom", "worker", "--once"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "3 events handled" in done.stdout.decode()
    assert asyncio.run(add_and_read(False)) == [True] * 3
