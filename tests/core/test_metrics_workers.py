"""Metrics of a real `pressroom serve --workers 2`: exact across both workers."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from pressroom.core.metrics.app import FLUSH_SECONDS
from tests.metrics_scrapes import sample_total
from tests.test_server_process import (
    environment,
    free_port,
    migrate,
    running,
    stop,
    wait_until_answering,
)

pytestmark = pytest.mark.slow

TOKEN = "workers-token-" + "w" * 20
REQUESTS = 1_000
CONNECTIONS = 100  # fresh connections, so the kernel hands them to both workers
THREADS = 8


def send(base_url: str, count: int) -> list[int]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return [client.get("/api/tags").status_code for _ in range(count)]


def scrape_until_counted(url: str, headers: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + FLUSH_SECONDS * 5
    while True:
        response = httpx.get(url, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        counted = sample_total(response.text, "pressroom_http_requests_total", route="/api/tags")
        if counted >= REQUESTS or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def per_worker_requests(directory: Path, scratch: Path) -> dict[str, float]:
    """Requests counted by each worker, read from its own file alone."""
    counts = {}
    for path in sorted(directory.glob("counter_*.db")):
        alone = scratch / path.stem
        alone.mkdir()
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(alone))  # type: ignore[no-untyped-call]
        text = generate_latest(registry).decode()
        counts[path.stem] = sample_total(text, "pressroom_http_requests_total", route="/api/tags")
    return counts


def test_two_workers_count_exactly_1000_requests(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    temp = tmp_path / "tmp"
    temp.mkdir()
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path / "data"),
        PRESSROOM_METRICS__TOKEN=TOKEN,
        PRESSROOM_RATE_LIMIT__ENABLED="false",  # 1,000 requests from one address
        PRESSROOM_METRICS__PORT=str(metrics_port),
        TMPDIR=str(temp),  # where serve makes the directory the workers share
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--workers", "2", "--port", str(port)]

    with running(command, env, log) as process:
        wait_until_answering(base_url, process, log)
        with ThreadPoolExecutor(THREADS) as pool:
            batches = pool.map(
                send, [base_url] * CONNECTIONS, [REQUESTS // CONNECTIONS] * CONNECTIONS
            )
            statuses = [status for batch in batches for status in batch]
        # Each worker writes its counts out at least every second (FLUSH_SECONDS).
        on_port = scrape_until_counted(f"http://127.0.0.1:{metrics_port}/metrics", {})
        on_api = scrape_until_counted(f"{base_url}/metrics", {"Authorization": f"Bearer {TOKEN}"})
        time.sleep(FLUSH_SECONDS * 1.5)
        again = scrape_until_counted(f"http://127.0.0.1:{metrics_port}/metrics", {})
        refused = httpx.get(f"{base_url}/metrics", timeout=10)
        [directory] = temp.glob("pressroom-metrics-*")
        workers = per_worker_requests(directory, tmp_path)
        stop(process, signal.SIGTERM, log)

    assert statuses == [200] * REQUESTS
    for scrape in (on_port, on_api, again):  # all of them, and never one more
        text = scrape.text
        assert sample_total(text, "pressroom_http_requests_total", route="/api/tags") == REQUESTS
        assert (
            sample_total(text, "pressroom_http_request_duration_seconds_count", route="/api/tags")
            == REQUESTS
        )
    # Only the scrape on the API port is itself a request in flight.
    assert sample_total(on_port.text, "pressroom_http_requests_in_flight") == 0
    assert sample_total(on_api.text, "pressroom_http_requests_in_flight") == 1
    assert "pid=" in on_port.text  # pool gauges: one series per live worker
    assert refused.status_code == 401
    # Both workers served some of them.
    assert len(workers) == 2, workers
    assert all(count > 0 for count in workers.values()), workers
    assert sum(workers.values()) == REQUESTS
    assert not directory.exists()  # removed when the server stopped
