"""A real server against a Postgres of the test's own, which the test freezes and stops.

Never the shared Postgres: the cluster is created here (initdb into a temporary directory, on
a free port), frozen with SIGSTOP on its own processes, stopped with `pg_ctl stop -m
immediate`, and removed at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.test_server_process import (
    environment,
    free_port,
    migrate,
    running,
    stop,
    wait_until_answering,
)

pytestmark = pytest.mark.slow

BOUND = 5.0  # seconds: 503 after the database goes, success after it returns


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PrivatePostgres:
    """A Postgres cluster of this test run's own, on a free port, with trust authentication."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pressroom-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        # initdb refuses to run as root: the cluster belongs to the `postgres` OS user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.directory, "postgres")
        self.frozen: list[int] = []

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        done = subprocess.run(  # noqa: S603
            [*self.as_user, str(self.bin / command[0]), *command[1:]],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (done.stdout + done.stderr).decode() + self.server_log()

    def server_log(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options)

    def stop_immediately(self) -> None:
        self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", "immediate")

    def _processes(self) -> list[int]:
        """The postmaster, then every process it started (backends, background workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    children.append(int(Path(stat).parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        self.frozen = self._processes()
        for pid in self.frozen:  # the postmaster first: it forks no backend from then on
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in reversed(self.frozen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []

    def remove(self) -> None:
        self.thaw()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop_immediately()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _postgres_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        message = "initdb/pg_ctl not found (PATH, /usr/lib/postgresql/*/bin)"
        if IN_CI:
            pytest.fail(f"{message}: CI=true needs them for the database outage tests")
        pytest.skip(f"{message}: install PostgreSQL's server package to run this test")
    cluster = PrivatePostgres(bin_dir)
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def served(private_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[ServedApp]:
    port = free_port()
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_DATABASE__URL=private_postgres.url,
        PRESSROOM_AUTH__JWT_SECRET="s" * 40,
        # Reads must need the database here: a cached answer is served while it is down.
        PRESSROOM_CACHE__ENABLED="false",
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--port", str(port)]
    with running(command, env, log) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_answering(base_url, process, log)
        app = ServedApp(base_url, process, log, private_postgres)
        app.sign_up()
        yield app
        private_postgres.thaw()
        stop(process, signal.SIGTERM, log)


class ServedApp:
    def __init__(
        self,
        base_url: str,
        process: subprocess.Popen[bytes],
        log: Path,
        postgres: PrivatePostgres,
    ) -> None:
        self.base_url = base_url
        self.process = process
        self.log = log
        self.postgres = postgres
        self.token = ""

    def logs(self) -> str:
        return f"{self.log.read_text()}\n--- postgres ---\n{self.postgres.server_log()}"

    def sign_up(self) -> None:
        user = {"username": "alice", "email": "alice@example.com", "password": "x" * 12}
        response = httpx.post(f"{self.base_url}/api/users", json={"user": user}, timeout=10)
        assert response.status_code == 201, response.text
        self.token = response.json()["user"]["token"]

    def requests(self) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
        """Requests that need the database: a read, an authenticated read, a write."""
        auth = {"Authorization": f"Token {self.token}"}
        article = {"article": {"title": "T", "description": "d", "body": "b"}}
        return {
            "list articles": lambda client: client.get("/api/articles"),
            "current user": lambda client: client.get("/api/user", headers=auth),
            "create article": lambda client: client.post(
                "/api/articles", json=article, headers=auth
            ),
            "readiness": lambda client: client.get("/readyz"),
        }

    def all_at_once(self, copies: int = 1) -> list[tuple[str, httpx.Response, float]]:
        """Every request of `requests()`, `copies` times each, in parallel: (name, response,
        seconds it took)."""

        def timed(call: Callable[[httpx.Client], httpx.Response]) -> tuple[httpx.Response, float]:
            with httpx.Client(base_url=self.base_url, timeout=30) as client:
                started = time.monotonic()
                response = call(client)
                return response, time.monotonic() - started

        calls = [(name, call) for name, call in self.requests().items() for _ in range(copies)]
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = [(name, pool.submit(timed, call)) for name, call in calls]
            return [(name, *future.result()) for name, future in futures]

    def assert_unavailable_within_bound(self) -> None:
        # More requests at once than the pool has connections: some wait on a connection
        # the database no longer answers on, others open new ones.
        for name, response, took in self.all_at_once(copies=6):
            assert response.status_code == 503, (name, response.text, self.logs())
            assert took < BOUND, (name, took, self.logs())
            if name != "readiness":
                assert list(response.json()["errors"]) == ["database"], (name, response.text)
                assert int(response.headers["retry-after"]) > 0
        assert "Traceback" not in self.log.read_text(), self.logs()

    def assert_recovers_within_bound(self) -> None:
        """Every request succeeds again within BOUND seconds."""
        started = time.monotonic()
        while True:
            answers = self.all_at_once()
            if all(response.status_code < 300 for _, response, _ in answers):
                return
            assert time.monotonic() - started < BOUND, (
                [(name, response.status_code) for name, response, _ in answers],
                self.logs(),
            )
            time.sleep(0.1)

    def assert_all_succeed(self) -> None:
        for name, response, _ in self.all_at_once():
            assert response.status_code < 300, (name, response.text, self.logs())


def test_frozen_database_gives_503_within_seconds_and_the_app_recovers(
    served: ServedApp,
) -> None:
    served.assert_all_succeed()
    pid = served.process.pid

    served.postgres.freeze()
    served.assert_unavailable_within_bound()
    served.assert_unavailable_within_bound()  # and keeps answering fast while frozen
    served.postgres.thaw()
    served.assert_recovers_within_bound()

    assert served.process.poll() is None
    assert served.process.pid == pid  # the same process: no restart
    served.assert_all_succeed()


def test_stopped_database_gives_503_within_seconds_and_the_app_recovers(
    served: ServedApp,
) -> None:
    served.assert_all_succeed()

    served.postgres.stop_immediately()
    served.assert_unavailable_within_bound()
    served.postgres.start()
    served.assert_recovers_within_bound()

    assert served.process.poll() is None
    served.assert_all_succeed()
