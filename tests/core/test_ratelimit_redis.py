"""Rate limits in Redis: one budget for every worker, and the in-memory fallback while Redis
is down. Uses the shared Redis at 127.0.0.1:6379 (or PRESSROOM_TEST_REDIS_URL) and private
`redis-server` processes; skipped locally without them, a failure when CI=true."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio
from fastapi import FastAPI

from pressroom.core.ratelimit import RateLimiter
from pressroom.core.settings import Settings
from tests.conftest import base_settings
from tests.factories import register
from tests.redis_fixtures import REDIS_URL, unavailable
from tests.test_server_process import (
    environment,
    free_port,
    migrate,
    running,
    stop,
    wait_until_answering,
)

START_SECONDS = 10.0


def redis_keys(prefix: str) -> list[bytes]:
    with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as client:
        return list(client.scan_iter(match=f"{prefix}:*"))


def limiter_settings(tmp_path: Path, url: str, prefix: str, **limits: object) -> Settings:
    return base_settings(
        tmp_path,
        redis={"url": url, "key_prefix": prefix},
        server={"workers": 2},
        rate_limit={"enabled": True, **limits},
    )


async def test_workers_share_one_budget_in_redis(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    settings = limiter_settings(tmp_path, redis_url, key_prefix, login_per_account="5/hour")
    workers = [RateLimiter(settings), RateLimiter(settings)]
    for limiter in workers:
        await limiter.open()
    try:
        policy = workers[0].policies.login_account
        decisions = [await workers[i % 2].hit(policy, "account") for i in range(8)]
        statuses = [limiter.status() for limiter in workers]
        await workers[1].clear(policy, "account")
        after_clear = await workers[0].hit(policy, "account")
    finally:
        for limiter in workers:
            await limiter.close()

    # Memory would allow ceil(5/2) per worker, 6 in all: Redis counts one budget of 5.
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert {d.limit for d in decisions} == {5}
    assert all(s.backend == "redis" and not s.degraded for s in statuses)
    assert after_clear.allowed
    assert after_clear.remaining == 4
    assert redis_keys(key_prefix)


# ---------------------------------------------------------------- a private Redis to stop
class RedisServer:
    """A `redis-server` of this test's own on a free port, with nothing written to disk."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                with redis.Redis(port=self.port, socket_timeout=1) as client:
                    client.ping()
            except (redis.RedisError, OSError):
                time.sleep(0.05)
            else:
                return
        pytest.fail(f"redis-server did not answer on port {self.port} within {START_SECONDS}s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("no redis-server binary on PATH")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, private_redis: RedisServer) -> Settings:
    return base_settings(
        tmp_path,
        database_url,
        redis={"url": private_redis.url, "key_prefix": "fallback-test"},
        server={"workers": 2},
        rate_limit={
            "enabled": True,
            "login_per_account": "4/hour",
            "redis_retry_seconds": 0.2,
        },
    )


async def wrong_login(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(
        "/api/users/login", json={"user": {"email": email, "password": "wrong"}}
    )


async def until_recovered(client: httpx.AsyncClient, limiter: RateLimiter) -> None:
    deadline = time.monotonic() + START_SECONDS
    while limiter.degraded and time.monotonic() < deadline:
        assert (await client.get("/api/tags")).status_code == 200
        await asyncio.sleep(0.05)
    assert not limiter.degraded, limiter.status()


@pytest.fixture
def limiter(app: FastAPI) -> RateLimiter:
    ratelimiter: RateLimiter = app.state.ratelimiter
    return ratelimiter


async def test_a_dead_redis_falls_back_to_memory_and_recovers(
    client: httpx.AsyncClient,
    limiter: RateLimiter,
    private_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pressroom.ratelimit")
    alice = await register(client, "alice")
    assert (await wrong_login(client, alice.email)).headers["RateLimit-Limit"] == "4"
    assert limiter.status().backend == "redis"
    assert not limiter.degraded

    private_redis.kill()
    served = [await client.get("/api/tags") for _ in range(5)]
    during = [await wrong_login(client, alice.email) for _ in range(4)]

    # The API still answers; login is still throttled, at this worker's share (4 / 2 workers).
    assert [r.status_code for r in served] == [200] * 5
    assert [r.status_code for r in during] == [401, 401, 429, 429]
    assert during[0].headers["RateLimit-Limit"] == "2"
    status = limiter.status()
    assert status.degraded
    assert status.degraded_since is not None
    assert status.last_error
    fallback = [r for r in caplog.records if "Redis failed" in r.getMessage()]
    assert len(fallback) == 1, caplog.text  # once, not once per request

    private_redis.start()  # same port
    await until_recovered(client, limiter)
    after = await wrong_login(client, alice.email)

    assert after.status_code == 401  # the new Redis starts empty
    assert after.headers["RateLimit-Limit"] == "4"
    recovered = [r for r in caplog.records if "answers again" in r.getMessage()]
    assert len(recovered) == 1, caplog.text
    assert len([r for r in caplog.records if "Redis failed" in r.getMessage()]) == 1


async def test_a_redis_down_at_startup_starts_on_the_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pressroom.ratelimit")
    closed = f"redis://127.0.0.1:{free_port()}/0"
    limiter = RateLimiter(limiter_settings(tmp_path, closed, "down", registration_per_ip="5/hour"))
    await limiter.open()
    try:
        decisions = [await limiter.hit(limiter.policies.registration, "ip") for _ in range(4)]
    finally:
        await limiter.close()

    assert limiter.degraded
    assert [d.allowed for d in decisions] == [True, True, True, False]  # ceil(5 / 2) = 3
    assert "Redis failed" in caplog.text


# ---------------------------------------------------------------- two real worker processes
@pytest.mark.slow
def test_two_server_workers_share_the_login_budget(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_REDIS__URL=redis_url,
        PRESSROOM_REDIS__KEY_PREFIX=key_prefix,
        PRESSROOM_RATE_LIMIT__LOGIN_PER_ACCOUNT="4/hour",
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--workers", "2", "--port", str(port)]

    with running(command, env, log) as process:
        wait_until_answering(base_url, process, log)
        answers = []
        for _ in range(12):
            # A new connection each time, so the kernel can hand it to either worker.
            with httpx.Client(base_url=base_url, timeout=10) as client:
                answers.append(
                    client.post(
                        "/api/users/login",
                        json={"user": {"email": "victim@example.com", "password": "guess"}},
                    )
                )
        stop(process, signal.SIGTERM, log)

    # Each worker alone would allow ceil(4 / 2) = 2 and say so in RateLimit-Limit.
    assert [a.status_code for a in answers] == [401] * 4 + [429] * 8, log.read_text()
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"4"}
    assert [a.headers["RateLimit-Remaining"] for a in answers[:4]] == ["3", "2", "1", "0"]
    assert redis_keys(key_prefix)
