"""A fleet of real `pressroom serve` processes sharing one Postgres database and one Redis.

Each worker is a process of its own on a port of its own, started the way production starts
one (`PRESSROOM_ENV=production`, a JWT secret, rate limits on), so whatever one worker keeps
in its memory is invisible to the others: only what goes through Postgres or Redis is shared.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from tests.conftest import IN_CI, _truncate, create_pg_database, drop_pg_database
from tests.test_server_process import ROOT, SECRET, environment, free_port, migrate, running

# `pressroom serve`, plus a recorder of outbox deliveries (see recording_serve.py).
SERVE = [sys.executable, "-m", "tests.fleet.recording_serve", "serve"]
ORIGIN = "https://app.example.com"  # the fleet's CORS allow-list: live sockets check Origin
READY_SECONDS = 60.0
STOP_SECONDS = 15.0
LOG_TAIL_CHARS = 6000

# Generous enough that the tests' own traffic from 127.0.0.1 never trips them; a test that
# checks a limit relies on one of the per-account or per-user budgets left at their defaults.
LIMITS = {
    "PRESSROOM_RATE_LIMIT__DEFAULT_PER_IP": "100000/minute",
    "PRESSROOM_RATE_LIMIT__LOGIN_PER_IP": "100000/minute",
    "PRESSROOM_RATE_LIMIT__REGISTRATION_PER_IP": "100000/hour",
}


def redis_or_fail(url: str) -> None:
    """Skips locally without Redis; fails when CI=true."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        message = f"Redis not reachable at {url}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: fleet tests must run)", pytrace=False)
        pytest.skip(f"{message}; start Redis to run the fleet tests")


@dataclass
class Worker:
    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return text[-LOG_TAIL_CHARS:]


@dataclass
class Cluster:
    workers: list[Worker]
    database_url: str
    redis_url: str
    key_prefix: str
    env: dict[str, str] = field(repr=False)
    exit_codes: dict[str, int | None] = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [worker.url for worker in self.workers]

    def logs(self) -> str:
        return "\n".join(
            f"----- {worker.name} ({worker.url}), log {worker.log}\n{worker.log_tail()}"
            for worker in self.workers
        )

    def redis_keys(self) -> list[bytes]:
        with redis.Redis.from_url(self.redis_url, socket_timeout=2) as client:
            return list(client.scan_iter(match=f"{self.key_prefix}:*"))

    def forget_redis(self) -> None:
        """Deletes every key of this fleet (rate limit budgets, cache entries)."""
        with redis.Redis.from_url(self.redis_url, socket_timeout=2) as client:
            for key in client.scan_iter(match=f"{self.key_prefix}:*"):
                client.delete(key)

    async def execute(self, statement: str, *args: object) -> None:
        """One SQL statement on the fleet's database, behind every worker's back (no event)."""
        dsn = self.database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.execute(statement, *args)
        finally:
            await connection.close()

    def reset(self) -> None:
        """Empty tables and no Redis keys, as a freshly migrated fleet."""
        asyncio.run(_truncate(self.database_url))
        self.forget_redis()


def wait_until_ready(worker: Worker) -> None:
    """Until the worker's /readyz says 200 (database reachable and migrated)."""
    deadline = time.monotonic() + READY_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(
                f"{worker.name} exited with {worker.process.returncode}:\n{worker.log_tail()}"
            )
        try:
            answer = httpx.get(f"{worker.url}/readyz", timeout=2)
        except httpx.TransportError as exc:
            last = repr(exc)
        else:
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text}"
        time.sleep(0.1)
    pytest.fail(f"{worker.name} not ready within {READY_SECONDS}s ({last}):\n{worker.log_tail()}")


def stop_all(workers: list[Worker]) -> dict[str, int | None]:
    """SIGTERM to every worker at once, then SIGKILL to any still running after the bound."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    codes: dict[str, int | None] = {}
    for worker in workers:
        try:
            codes[worker.name] = worker.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(STOP_SECONDS)
            codes[worker.name] = None  # did not stop in time
    return codes


@contextmanager
def fleet(directory: Path, redis_url: str, count: int = 3, **settings: str) -> Iterator[Cluster]:
    """`count` workers on one fresh, migrated Postgres database and one Redis key prefix.

    `settings` are extra PRESSROOM_* variables for every worker. On the way out the workers
    are stopped and the database and keys are dropped; `Cluster.exit_codes` says how each
    worker ended (None: killed after not stopping within STOP_SECONDS)."""
    redis_or_fail(redis_url)
    database = f"pressroom_fleet_{uuid.uuid4().hex[:12]}"
    database_url = create_pg_database(database)
    key_prefix = f"pressroom-fleet-{uuid.uuid4().hex}"
    env = environment(
        PRESSROOM_ENV="production",
        PRESSROOM_DATA_DIR=str(directory),
        PRESSROOM_DATABASE__URL=database_url,
        PRESSROOM_AUTH__JWT_SECRET=SECRET,
        PRESSROOM_REDIS__URL=redis_url,
        PRESSROOM_REDIS__KEY_PREFIX=key_prefix,
        PRESSROOM_SECURITY__ALLOWED_HOSTS="127.0.0.1",
        PRESSROOM_CORS__ALLOW_ORIGINS=ORIGIN,
        PRESSROOM_SERVER__DRAIN_SECONDS="0",
        PRESSROOM_SERVER__SHUTDOWN_GRACE_SECONDS="5",
        PRESSROOM_RATE_LIMIT__ENABLED="true",
        # Each worker runs an outbox relay; they also look for each other's events often.
        PRESSROOM_OUTBOX__RELAY="in_process",
        PRESSROOM_OUTBOX__POLL_INTERVAL="0.2",
        PYTHONPATH=str(ROOT),
        **LIMITS,
        **settings,
    )
    cluster = Cluster([], database_url, redis_url, key_prefix, env)
    try:
        migrate(env)  # once, for the whole fleet, as a deployment's migration job does
        with ExitStack() as stack:
            for index in range(count):
                name = f"worker-{'abcdefgh'[index]}"
                port = free_port()
                log = directory / f"{name}.log"
                command = [*SERVE, "--port", str(port)]
                process = stack.enter_context(running(command, env, log))
                cluster.workers.append(Worker(name, port, log, process))
            for worker in cluster.workers:
                wait_until_ready(worker)
            try:
                yield cluster
            finally:
                cluster.exit_codes = stop_all(cluster.workers)
    finally:
        cluster.forget_redis()
        drop_pg_database(database)
