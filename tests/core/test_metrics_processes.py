"""What `pressroom serve` prepares for worker metrics, and how dead workers are forgotten."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from pressroom.core.metrics.exposition import forget_dead_workers, scrape_registry
from pressroom.core.metrics.processes import MULTIPROC_ENV, prepare_worker_metrics
from tests.conftest import base_settings


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(MULTIPROC_ENV, "restored after the test")
    return tmp_path


def test_serve_gives_workers_a_fresh_directory_and_removes_one_left_by_a_killed_server(
    temp_dir: Path,
) -> None:
    stale = temp_dir / f"pressroom-metrics-{dead_pid()}-abc123"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"old counts")
    running = temp_dir / f"pressroom-metrics-{os.getppid()}-def456"
    running.mkdir()

    directory = prepare_worker_metrics(base_settings(temp_dir, metrics={"token": "t" * 16}))

    assert directory is not None
    assert directory.is_dir()
    assert list(directory.iterdir()) == []
    assert os.environ[MULTIPROC_ENV] == str(directory)
    assert directory.name.startswith(f"pressroom-metrics-{os.getpid()}-")
    assert not stale.exists()
    assert running.exists()  # another server still uses it


def test_serve_prepares_nothing_when_metrics_cannot_be_read(temp_dir: Path) -> None:
    assert prepare_worker_metrics(base_settings(temp_dir)) is None
    assert os.environ[MULTIPROC_ENV] == "restored after the test"
    assert list(temp_dir.glob("pressroom-metrics-*")) == []


def test_dead_workers_gauges_are_dropped_and_their_counts_kept(tmp_path: Path) -> None:
    dead, alive = dead_pid(), os.getppid()
    for name in (
        f"gauge_livesum_{dead}.db",
        f"gauge_liveall_{dead}.db",
        f"counter_{dead}.db",
        f"histogram_{dead}.db",
        f"gauge_livesum_{alive}.db",
        f"gauge_liveall_{os.getpid()}.db",
    ):
        (tmp_path / name).write_bytes(b"")

    forget_dead_workers(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [
            f"counter_{dead}.db",
            f"histogram_{dead}.db",
            f"gauge_livesum_{alive}.db",
            f"gauge_liveall_{os.getpid()}.db",
        ]
    )


def test_a_scrape_of_the_workers_files_first_brings_this_process_up_to_date(
    tmp_path: Path,
) -> None:
    flushes: list[str] = []
    registry = scrape_registry(tmp_path, CollectorRegistry(), lambda: flushes.append("flushed"))
    (tmp_path / f"gauge_livesum_{dead_pid()}.db").write_bytes(b"")

    assert generate_latest(registry) == b""
    assert flushes == ["flushed"]
    assert list(tmp_path.iterdir()) == []  # the dead worker's gauges went before reading
