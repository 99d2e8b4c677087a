"""What `pressroom serve` does for metrics before uvicorn starts its workers.

Workers count into files of a directory shared by all of them (prometheus-client's
multiprocess mode), so a scrape adds up every worker exactly. The directory is new for each
start, so nothing from an earlier run is counted again, and is named after the serving
process so a later start can remove what a killed one left. The variable must be set before
any worker imports prometheus_client, which is why this module imports it only after.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

from pressroom.core.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PREFIX = "pressroom-metrics-"
_DIRECTORY = re.compile(re.escape(_PREFIX) + r"(\d+)-\w+")


def prepare_worker_metrics(settings: Settings) -> Path | None:
    """Sets up multiprocess metrics for the workers about to start, and the metrics port.

    Returns the directory, or None when metrics are off (nothing is set up then).
    """
    metrics = settings.metrics
    if not metrics.collected:
        return None
    directory = _fresh_directory()
    os.environ[MULTIPROC_ENV] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    if metrics.port is not None:
        from prometheus_client import CollectorRegistry

        from pressroom.core.metrics.exposition import scrape_registry, serve_port

        # Served by this process for as long as it runs (a daemon thread): workers come and
        # go, the port stays, and it adds up every worker's files.
        registry = scrape_registry(directory, CollectorRegistry(auto_describe=False), None)
        serve_port(registry, metrics.port, metrics.host or settings.server.host)
    return directory


def _fresh_directory() -> Path:
    parent = Path(tempfile.gettempdir())
    for stale in parent.glob(f"{_PREFIX}*"):
        match = _DIRECTORY.fullmatch(stale.name)
        if match is not None and not _alive(int(match[1])):
            shutil.rmtree(stale, ignore_errors=True)  # left by a server that was killed
    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
