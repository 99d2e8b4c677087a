"""Export memory benchmark: how much a server process grows while it streams a large export.

    .venv/bin/python bench/export_memory.py [--articles 100000] [--max-growth-mb 64]
                                            [--database pressroom_bench_export]
                                            [--batch-rows 500] [--json] [--keep]

A fresh Postgres database (dropped and created again), migrated and seeded with
`pressroom.seeding` (articles only: comments and favorites do not appear in this export); the
demo user made an admin; one `pressroom serve` worker. After a warm-up (the admin's own small
user export, which runs the same code on a few rows), the whole admin export
(`GET /api/admin/exports/articles`) is read as fast as the client can, while the server's
resident memory (VmRSS in /proc) is sampled every 10 ms. Growth is the highest sample minus
the resident memory before the export.

Exits 1 if the growth passes --max-growth-mb, or if the export is not complete. With --json,
the last line printed is the result as JSON (tests/exports/test_export_process.py reads it).
docs/performance.md records the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from run import JWT_SECRET, free_port, pg_admin, settings_for, wait_until_up

from pressroom import seeding
from pressroom.admin.service import AdminAccounts
from pressroom.auth.passwords import Passwords
from pressroom.core import migrations
from pressroom.core.db import Database, create_engine
from pressroom.core.settings import Settings

EXPORT = "/api/admin/exports/articles"
MB = 1024 * 1024


def log(message: str, *, quiet: bool) -> None:
    if not quiet:
        print(message, flush=True)


# ---------------------------------------------------------------- the database
def prepare(admin_dsn: str, name: str, articles: int, workdir: Path) -> tuple[str, str, str]:
    """A fresh, seeded database; its URL, and the admin's email and password."""
    asyncio.run(
        pg_admin(
            admin_dsn,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}"',
        )
    )
    server = admin_dsn.split("://", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql+asyncpg://{server}/{name}"
    settings = settings_for(url, workdir)
    migrations.upgrade(settings)
    plan = seeding.SeedPlan(
        articles=articles, comments_per_article=0, favorites_per_article=0, seed_value=2026
    )
    seeded = asyncio.run(seeding.seed(settings, plan))
    asyncio.run(_promote(settings, seeded.demo_username))
    asyncio.run(pg_admin(url.replace("postgresql+asyncpg://", "postgresql://"), "VACUUM ANALYZE"))
    return url, seeded.demo_email, seeded.password


async def _promote(settings: Settings, username: str) -> None:
    database = Database(create_engine(settings))
    try:
        async with database.session() as session:
            await AdminAccounts(session, Passwords(settings.auth)).promote(username)
    finally:
        await database.dispose()


def drop(admin_dsn: str, name: str) -> None:
    asyncio.run(pg_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ---------------------------------------------------------------- the server
def start_server(url: str, workdir: Path, port: int, batch_rows: int) -> subprocess.Popen[bytes]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PRESSROOM_")},
        "PRESSROOM_ENV": "production",
        "PRESSROOM_DATA_DIR": str(workdir),
        "PRESSROOM_DATABASE__URL": url,
        "PRESSROOM_AUTH__JWT_SECRET": JWT_SECRET,
        "PRESSROOM_SECURITY__ALLOWED_HOSTS": "127.0.0.1",
        "PRESSROOM_SERVER__PORT": str(port),
        "PRESSROOM_SERVER__HOST": "127.0.0.1",
        "PRESSROOM_SERVER__WORKERS": "1",
        "PRESSROOM_LOGGING__ACCESS_LOG": "false",
        "PRESSROOM_EXPORTS__BATCH_ROWS": str(batch_rows),
    }
    output = (workdir / "server.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "pressroom", "serve"],
        env=env,
        cwd=workdir,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def resident_bytes(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


class Sampler(threading.Thread):
    """Samples a process's resident memory every `interval` seconds; keeps the highest."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, resident_bytes(self.pid))
            self.samples += 1
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.peak = max(self.peak, resident_bytes(self.pid))


# ---------------------------------------------------------------- the measurement
def read_export(http: httpx.Client, headers: dict[str, str]) -> Any:
    """Reads the whole export; (lines, bytes, last line)."""
    count = size = 0
    last = b""
    with http.stream("GET", EXPORT, headers=headers) as response:
        if response.status_code != 200:
            sys.exit(f"the export answered {response.status_code}: {response.read()!r}")
        for line in response.iter_lines():
            count += 1
            size += len(line) + 1
            last = line.encode()
    return count, size, last


def measure(base: str, pid: int, email: str, password: str, quiet: bool) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post("/api/users/login", json={"user": {"email": email, "password": password}})
        login.raise_for_status()
        headers = {"Authorization": f"Token {login.json()['user']['token']}"}
        # Warm-up: the admin's own small export runs the same code (cursor, rendering,
        # streaming) on a few rows, so one-time costs (imports, compiled statements) are
        # not counted, while anything sized by the rows of the big export still is.
        with http.stream("GET", "/api/user/export", headers=headers) as warm_up:
            warm_up.read()
        time.sleep(1.0)
        before = resident_bytes(pid)
        sampler = Sampler(pid)
        sampler.start()
        started = time.perf_counter()
        count, size, last = read_export(http, headers)
        seconds = time.perf_counter() - started
        sampler.stop()
        after = resident_bytes(pid)
    end = orjson.loads(last)
    result = {
        "lines": count,
        "export_mb": round(size / MB, 1),
        "seconds": round(seconds, 1),
        "rss_before_mb": round(before / MB, 1),
        "rss_peak_mb": round(sampler.peak / MB, 1),
        "rss_after_mb": round(after / MB, 1),
        "growth_mb": round((sampler.peak - before) / MB, 1),
        "samples": sampler.samples,
        "complete": end.get("type") == "end" and end.get("complete") is True,
        "articles": end.get("lines"),
    }
    log(
        f"  {count} lines, {result['export_mb']} MB in {result['seconds']} s; server RSS "
        f"{result['rss_before_mb']} MB before, peak {result['rss_peak_mb']} MB, "
        f"{result['rss_after_mb']} MB after: growth {result['growth_mb']} MB",
        quiet=quiet,
    )
    return result


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--max-growth-mb", type=float, default=64.0)
    parser.add_argument("--database", default="pressroom_bench_export")
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=500,
        help="PRESSROOM_EXPORTS__BATCH_ROWS of the server (large: what buffering costs).",
    )
    parser.add_argument(
        "--admin-dsn",
        default=os.environ.get(
            "PRESSROOM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="A Postgres login that may create databases (any database name in it).",
    )
    parser.add_argument("--json", action="store_true", help="Print the result as JSON, last.")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    return parser.parse_args()


def main() -> None:
    args = options()
    quiet = args.json
    with tempfile.TemporaryDirectory(prefix="pressroom-export-bench-") as directory:
        workdir = Path(directory)
        log(f"seeding {args.articles} articles into {args.database} ...", quiet=quiet)
        started = time.perf_counter()
        url, email, password = prepare(args.admin_dsn, args.database, args.articles, workdir)
        log(f"  seeded in {time.perf_counter() - started:.1f} s", quiet=quiet)
        port = free_port()
        process = start_server(url, workdir, port, args.batch_rows)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, process, workdir / "server.log")
            result = measure(base, process.pid, email, password, quiet)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if not args.keep:
                drop(args.admin_dsn, args.database)
    result["batch_rows"] = args.batch_rows
    result["max_growth_mb"] = args.max_growth_mb
    result["passed"] = result["complete"] and result["growth_mb"] <= args.max_growth_mb
    if args.json:
        print(json.dumps(result))
    else:
        verdict = "PASS" if result["passed"] else "FAIL"
        log(
            f"{verdict}: growth {result['growth_mb']} MB (limit {args.max_growth_mb} MB)",
            quiet=False,
        )
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
