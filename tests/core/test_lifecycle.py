"""Draining after a stop signal: the signal path inside one process, and what /readyz says."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from pressroom.core.lifecycle import STOP_SIGNALS, Lifecycle, draining_on_signals
from tests.conftest import base_settings


@pytest.fixture
def uvicorn_server() -> Iterator[uvicorn.Server]:
    """A uvicorn server's stop handlers installed as `Server.serve` installs them (it is not
    started: the handlers only set its flags)."""
    server = uvicorn.Server(uvicorn.Config(FastAPI()))
    originals = {sig: signal.signal(sig, server.handle_exit) for sig in STOP_SIGNALS}
    try:
        yield server
    finally:
        for sig, handler in originals.items():
            signal.signal(sig, handler)


async def settle() -> None:
    """Lets the loop run the callbacks a signal handler scheduled."""
    for _ in range(3):
        await asyncio.sleep(0.01)


async def test_sigterm_drains_first_then_hands_over_to_uvicorn(
    uvicorn_server: uvicorn.Server,
) -> None:
    lifecycle = Lifecycle()
    with draining_on_signals(lifecycle, drain_seconds=0.3):
        os.kill(os.getpid(), signal.SIGTERM)
        await settle()
        assert lifecycle.draining.is_set()
        assert not lifecycle.closing.is_set()
        assert not uvicorn_server.should_exit  # still accepting and serving

        await asyncio.wait_for(lifecycle.closing.wait(), timeout=2)
        assert uvicorn_server.should_exit

    assert signal.getsignal(signal.SIGTERM) == uvicorn_server.handle_exit


async def test_a_second_signal_ends_the_drain_and_a_third_forces_the_exit(
    uvicorn_server: uvicorn.Server,
) -> None:
    lifecycle = Lifecycle()
    with draining_on_signals(lifecycle, drain_seconds=60):
        os.kill(os.getpid(), signal.SIGINT)
        await settle()
        assert lifecycle.draining.is_set()
        assert not uvicorn_server.should_exit

        os.kill(os.getpid(), signal.SIGINT)  # impatient: stop draining
        await settle()
        assert lifecycle.closing.is_set()
        assert uvicorn_server.should_exit
        assert not uvicorn_server.force_exit

        os.kill(os.getpid(), signal.SIGINT)  # uvicorn's own rule: a second Ctrl+C forces
        await settle()
        assert uvicorn_server.force_exit


async def test_no_drain_period_closes_at_once(uvicorn_server: uvicorn.Server) -> None:
    lifecycle = Lifecycle()
    with draining_on_signals(lifecycle, drain_seconds=0):
        os.kill(os.getpid(), signal.SIGTERM)
        await settle()
        assert lifecycle.closing.is_set()
        assert uvicorn_server.should_exit


async def test_other_hosts_keep_their_own_signal_handling() -> None:
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    with draining_on_signals(Lifecycle(), drain_seconds=5):
        assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before


async def test_readiness_is_503_while_draining_and_liveness_stays_200(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/readyz")).status_code == 200

    app.state.lifecycle.drain()
    ready = await client.get("/readyz")
    alive = await client.get("/healthz")
    articles = await client.get("/api/articles")  # still serving

    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "checks": {"draining": {"status": "failing"}}}
    assert ready.headers["cache-control"] == "no-store"
    assert alive.status_code == 200
    assert articles.status_code == 200


@pytest.mark.parametrize(
    ("env", "drain", "expected"),
    [("development", None, 0.0), ("production", None, 5.0), ("production", 0, 0.0)],
)
def test_drain_period_defaults_to_0_in_development_and_a_few_seconds_in_production(
    tmp_path: Path, env: str, drain: float | None, expected: float
) -> None:
    settings = base_settings(
        tmp_path, env=env, server={"drain_seconds": drain}, security={"allowed_hosts": ["*"]}
    )
    assert settings.drain_seconds == expected
