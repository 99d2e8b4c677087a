"""The fleet fixture: one cluster of real workers for the whole package, reset between tests.

A failing test's report carries the tail of every worker's log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import httpx
import pytest

from tests.fleet.cluster import Cluster, fleet
from tests.redis_fixtures import REDIS_URL


@pytest.fixture(scope="package")
def fleet_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with fleet(tmp_path_factory.mktemp("fleet"), REDIS_URL) as cluster:
        yield cluster
    stuck = {name: code for name, code in cluster.exit_codes.items() if code != 0}
    if stuck:
        pytest.fail(f"workers did not stop cleanly {stuck}:\n{cluster.logs()}", pytrace=False)


@pytest.fixture
def cluster(fleet_cluster: Cluster) -> Cluster:
    """The package's fleet with empty tables and no Redis keys (budgets, cache entries)."""
    fleet_cluster.reset()
    return fleet_cluster


@pytest.fixture
async def workers(cluster: Cluster) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per worker: A, B, C."""
    clients = [httpx.AsyncClient(base_url=url, timeout=10) for url in cluster.urls]
    yield clients
    for client in clients:
        await client.aclose()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        found = getattr(item, "funcargs", {}).get("cluster")
        if isinstance(found, Cluster):
            report.sections.append(("fleet worker logs", found.logs()))
    return report
