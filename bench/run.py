"""Load benchmark: Pressroom at one worker, against a bare Starlette floor on the same server.

    .venv/bin/python bench/run.py [--backend sqlite|postgres|both] [--sizes 1000,50000]
                                  [--duration 10] [--connections 16]

For each backend and size: a fresh database (Postgres: `pressroom_bench`, dropped and created
again; SQLite: a temporary file), migrated and seeded with `pressroom.seeding`; one uvicorn
worker serving bench/app.py; then, for every scenario, a warm-up, a wrk run, and a wrk run of
the floor with a body of the same size. Prints a table per run and the targets, and writes
bench/results/<time>.json. docs/performance.md explains the scenarios and the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from pressroom import seeding
from pressroom.core import migrations
from pressroom.core.settings import Settings

BENCH = Path(__file__).resolve().parent
WRK_SCRIPTS = BENCH / "wrk"
RESULTS = BENCH / "results"
PG_DATABASE = "pressroom_bench"
JWT_SECRET = "bench-only-secret-" + "x" * 32
TARGETS = {
    "single article": 12.0,
    "list": 6.0,
    "single article (cached)": 40.0,
    "list (cached)": 25.0,
}
LIST_SCALING = 1.2  # list latency at the largest size within 20% of the smallest


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    method: str = "GET"
    signed_in: bool = False
    # Served by a second server with the read cache on (docs/caching.md); the others run
    # with it off, so that they keep measuring the database path.
    cached: bool = False

    @property
    def script(self) -> Path:
        return WRK_SCRIPTS / ("create_article.lua" if self.method == "POST" else "get.lua")


@dataclass
class Measurement:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    # CPU time of the server process (all its threads) per request: far less sensitive to
    # other load on the machine than req/s. Database server CPU is not included.
    server_cpu_us: float
    errors: dict[str, int]

    @classmethod
    def from_wrk(cls, report: dict[str, Any], cpu_seconds: float) -> Measurement:
        seconds = report["duration_us"] / 1e6
        requests = max(report["requests"], 1)
        return cls(
            requests_per_s=round(report["requests"] / seconds, 1),
            p50_ms=round(report["p50_us"] / 1000, 2),
            p99_ms=round(report["p99_us"] / 1000, 2),
            server_cpu_us=round(cpu_seconds / requests * 1e6, 1),
            errors={kind: count for kind, count in report["errors"].items() if count},
        )


@dataclass
class Result:
    scenario: str
    request: str
    body_bytes: int
    app: Measurement
    floor: Measurement

    @property
    def percent_of_floor(self) -> float:
        return round(100 * self.app.requests_per_s / self.floor.requests_per_s, 1)

    @property
    def cpu_percent_of_floor(self) -> float:
        """The same ratio from server CPU per request: steadier on a busy machine."""
        return round(100 * self.floor.server_cpu_us / max(self.app.server_cpu_us, 1e-9), 1)


@dataclass
class Run:
    backend: str
    size: int
    seed_seconds: float
    seeded: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    code: str = ""
    results: list[Result] = field(default_factory=list)

    def result(self, scenario: str) -> Result | None:
        return next((r for r in self.results if r.scenario == scenario), None)


# ---------------------------------------------------------------- databases
def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database={"url": url},
        auth={"jwt_secret": JWT_SECRET},
    )


async def pg_admin(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def fresh_database(backend: str, workdir: Path, admin_dsn: str) -> str:
    if backend == "sqlite":
        path = workdir / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    asyncio.run(
        pg_admin(
            admin_dsn,
            f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)',
            f'CREATE DATABASE "{PG_DATABASE}"',
        )
    )
    server = admin_dsn.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{server}/{PG_DATABASE}"


def prepare(backend: str, size: int, workdir: Path, admin_dsn: str) -> tuple[str, Run]:
    url = fresh_database(backend, workdir, admin_dsn)
    settings = settings_for(url, workdir)
    migrations.upgrade(settings)
    started = time.perf_counter()
    plan = seeding.SeedPlan(articles=size, seed_value=2026)
    seeded = asyncio.run(seeding.seed(settings, plan))
    seconds = time.perf_counter() - started
    if backend == "postgres":
        # Fresh bulk-loaded tables have no planner statistics yet; autovacuum would add them.
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        asyncio.run(pg_admin(dsn, "VACUUM ANALYZE"))
    print(f"  seeded in {seconds:.1f}s: {seeded}", flush=True)
    run = Run(backend, size, round(seconds, 1), asdict(seeded), os.getloadavg())
    return url, run


# ---------------------------------------------------------------- the server
def code_version() -> str:
    """The commit the server runs, marked `+dirty` when src/ has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--", "src") else "")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(
    url: str, workdir: Path, pool_size: int, *, cache: bool = False
) -> Iterator[tuple[str, int]]:
    """One uvicorn worker serving bench/app.py; yields (base URL, pid).

    The pool holds as many connections as wrk keeps open, as an operator would size it:
    a smaller pool makes overflow connections open and close on every burst.
    """
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PRESSROOM_")},
        "PRESSROOM_ENV": "production",
        "PRESSROOM_DATA_DIR": str(workdir),
        "PRESSROOM_DATABASE__URL": url,
        "PRESSROOM_AUTH__JWT_SECRET": JWT_SECRET,
        "PRESSROOM_SECURITY__ALLOWED_HOSTS": "127.0.0.1",
        "PRESSROOM_RATE_LIMIT__ENABLED": "false",
        "PRESSROOM_RATE_LIMIT__ALLOW_DISABLED_IN_PRODUCTION": "true",
        "PRESSROOM_DATABASE__POOL_SIZE": str(pool_size),
        "PRESSROOM_CACHE__ENABLED": "true" if cache else "false",
    }
    command = [
        sys.executable, "-m", "uvicorn", "app:create_app", "--factory",
        "--app-dir", str(BENCH), "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=output, stderr=output)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/api/tags", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    sys.exit(f"the server did not start within 60 s:\n{log.read_text(errors='replace')[-3000:]}")


# ---------------------------------------------------------------- scenarios
def scenarios(base: str, seeded: dict[str, Any]) -> tuple[list[Scenario], str]:
    """The scenarios for this database, and the demo user's token."""
    with httpx.Client(base_url=base, timeout=10) as http:
        login = {"user": {"email": seeded["demo_email"], "password": seeded["password"]}}
        response = http.post("/api/users/login", json=login)
        response.raise_for_status()
        token: str = response.json()["user"]["token"]
        tag = http.get("/api/tags").json()["tags"][0]
        slug = _typical_article(http)
    return [
        Scenario("list", "/api/articles"),
        Scenario("list by tag", f"/api/articles?tag={tag}"),
        Scenario("single article", f"/api/articles/{slug}"),
        Scenario("feed", "/api/articles/feed", signed_in=True),
        Scenario("comments", f"/api/articles/{slug}/comments"),
        Scenario("create article", "/api/articles", method="POST", signed_in=True),
        Scenario("single article (cached)", f"/api/articles/{slug}", cached=True),
        Scenario("list (cached)", "/api/articles", cached=True),
    ], token


def _typical_article(http: httpx.Client) -> str:
    """A recent article with a few comments (3 to 6): what a reader opens."""
    articles = http.get("/api/articles", params={"limit": 100}).json()["articles"]
    counts: dict[str, int] = {}
    for article in articles:
        comments = http.get(f"/api/articles/{article['slug']}/comments").json()["comments"]
        if 3 <= len(comments) <= 6:
            return str(article["slug"])
        counts[article["slug"]] = len(comments)
    return max(counts, key=counts.__getitem__)


def probe(base: str, scenario: Scenario, token: str) -> int:
    """One request as wrk will send it: checks the status and returns the body size."""
    headers = {"Authorization": f"Token {token}"} if scenario.signed_in else {}
    with httpx.Client(base_url=base, timeout=10) as http:
        if scenario.method == "POST":
            article = {"title": "Probe", "description": "probe", "body": "x" * 912}
            response = http.post(scenario.path, json={"article": article}, headers=headers)
        else:
            response = http.get(scenario.path, headers=headers)
    if response.status_code not in (200, 201):
        sys.exit(f"{scenario.name}: {response.status_code} {response.text[:300]}")
    return len(response.content)


def wrk(url: str, script: Path, token: str, options: argparse.Namespace, seconds: int) -> Any:
    command = [
        "wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{seconds}s",
        "--timeout", "10s", "-s", str(script), url,
    ]  # fmt: skip
    env = {**os.environ, "BENCH_TOKEN": token}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    sys.exit(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")


def measure(
    url: str, script: Path, token: str, options: argparse.Namespace, profile: Path | None = None
) -> Measurement:
    if options.warmup > 0:
        wrk(url, script, token, options, options.warmup)
    cpu_before = cpu_seconds(options.server_pid)
    report = wrk(url, script, token, options, options.duration)
    measured = Measurement.from_wrk(report, cpu_seconds(options.server_pid) - cpu_before)
    if profile is not None:
        record_profile(url, script, token, options, profile)
    return measured


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record_profile(
    url: str, script: Path, token: str, options: argparse.Namespace, output: Path
) -> None:
    """A separate, unmeasured wrk run with py-spy sampling the server (collapsed stacks)."""
    command = [
        options.py_spy, "record", "--pid", str(options.server_pid), "--rate", "200",
        "--duration", str(int(options.duration)), "--format", "raw", "--nonblocking",
        "--output", str(output),
    ]  # fmt: skip
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    wrk(url, script, token, options, options.duration)
    sampler.wait(timeout=60)


def wanted(scenario: Scenario, options: argparse.Namespace) -> bool:
    return not options.scenarios or scenario.name in options.scenarios


def bench(
    run: Run, base: str, token: str, plan: list[Scenario], options: argparse.Namespace
) -> None:
    floor_script = WRK_SCRIPTS / "get.lua"
    for scenario in plan:
        if not wanted(scenario, options) or scenario.cached != options.cache:
            continue
        size = probe(base, scenario, token)
        profile = None
        if options.py_spy and scenario.name in options.profile:
            slug = scenario.name.replace(" ", "-")
            profile = RESULTS / f"{options.stamp}-{run.backend}-{run.size}-{slug}.collapsed"
        caller = token if scenario.signed_in else ""
        app = measure(base + scenario.path, scenario.script, caller, options, profile)
        floor = measure(f"{base}/__floor/{size}", floor_script, "", options)
        result = Result(scenario.name, f"{scenario.method} {scenario.path}", size, app, floor)
        run.results.append(result)
        errors = f"  ERRORS {app.errors}" if app.errors else ""
        print(
            f"  {scenario.name:<24} {app.requests_per_s:>7.0f} req/s  p50 {app.p50_ms:>7.2f} ms"
            f"  p99 {app.p99_ms:>7.2f} ms  {app.server_cpu_us:>6.0f} µs CPU/req"
            f"  floor {floor.requests_per_s:>6.0f} req/s {floor.server_cpu_us:>4.0f} µs"
            f"  {result.percent_of_floor:>5.1f}%{errors}",
            flush=True,
        )


# ---------------------------------------------------------------- reporting
def table(run: Run) -> str:
    lines = [
        f"### {run.backend}, {run.size} articles",
        "",
        f"Code {run.code}. Seeded in {run.seed_seconds} s. Load average (1 min) "
        f"{run.load_before[0]:.1f} before, {run.load_after[0]:.1f} after.",
        "",
        "| scenario | body | req/s | p50 ms | p99 ms | CPU/req | floor req/s | floor CPU/req "
        "| % of floor | % of floor by CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in run.results:
        lines.append(
            f"| {r.scenario} | {r.body_bytes:,} B | {r.app.requests_per_s:,.0f} | "
            f"{r.app.p50_ms:.2f} | {r.app.p99_ms:.2f} | {r.app.server_cpu_us:,.0f} µs | "
            f"{r.floor.requests_per_s:,.0f} | {r.floor.server_cpu_us:,.0f} µs | "
            f"{r.percent_of_floor:.1f}% | {r.cpu_percent_of_floor:.1f}% |"
        )
    return "\n".join(lines)


def ratios(run: Run) -> dict[str, dict[str, float]]:
    return {
        r.scenario: {"throughput": r.percent_of_floor, "server_cpu": r.cpu_percent_of_floor}
        for r in run.results
    }


def targets(runs: list[Run]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for run in runs:
        if run.backend != "postgres":  # the floor targets are Postgres's (docs/performance.md)
            continue
        for scenario, minimum in TARGETS.items():
            result = run.result(scenario)
            if result is not None:
                checks.append(
                    {
                        "target": f"{scenario} >= {minimum:g}% of floor",
                        "backend": run.backend,
                        "size": run.size,
                        "value": f"{result.percent_of_floor:.1f}% "
                        f"(by server CPU: {result.cpu_percent_of_floor:.1f}%)",
                        "met": result.percent_of_floor >= minimum,
                    }
                )
    for backend in sorted({run.backend for run in runs}):
        sized = sorted((r for r in runs if r.backend == backend), key=lambda r: r.size)
        small, large = sized[0].result("list"), sized[-1].result("list")
        if len(sized) > 1 and small is not None and large is not None:
            ratio = large.app.p50_ms / small.app.p50_ms
            checks.append(
                {
                    "target": f"list p50 at {sized[-1].size} within 20% of {sized[0].size}",
                    "backend": backend,
                    "size": sized[-1].size,
                    "value": f"{large.app.p50_ms:.2f} ms vs {small.app.p50_ms:.2f} ms "
                    f"({ratio:.2f}x)",
                    "met": ratio <= LIST_SCALING,
                }
            )
    return checks


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo")
    memory = meminfo.read_text().splitlines()[0].split()[1] if meminfo.exists() else "0"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0],
    }


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="1000,50000", help="Articles to seed, comma-separated.")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run.")
    parser.add_argument("--warmup", type=int, default=2, help="Seconds of warm-up per run.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (cores are few).")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get(
            "PRESSROOM_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help=f"Postgres to connect to for dropping and creating {PG_DATABASE}.",
    )
    parser.add_argument(
        "--scenarios",
        default="",
        help="Comma-separated scenarios to run (default: all), e.g. 'single article,list'.",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="Comma-separated scenarios to profile with py-spy in an extra, unmeasured run.",
    )
    parsed = parser.parse_args()
    parsed.sizes = [int(size) for size in parsed.sizes.split(",") if size]
    parsed.scenarios = {name.strip() for name in parsed.scenarios.split(",") if name.strip()}
    parsed.profile = {name.strip() for name in parsed.profile.split(",") if name.strip()}
    parsed.py_spy = shutil.which("py-spy") if parsed.profile else None
    if parsed.profile and parsed.py_spy is None:
        sys.exit("--profile needs py-spy on PATH (pip install py-spy, outside the project)")
    parsed.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return parsed


def main() -> None:
    opts = options()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: sudo apt-get update && sudo apt-get install -y wrk")
    backends = ["sqlite", "postgres"] if opts.backend == "both" else [opts.backend]
    RESULTS.mkdir(exist_ok=True)
    info = machine()
    print(f"machine: {info}; load average {os.getloadavg()}", flush=True)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="pressroom-bench-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            for size in opts.sizes:
                print(f"{backend}, {size} articles", flush=True)
                url, run = prepare(backend, size, workdir, opts.pg_dsn)
                run.code = code_version()  # what the server process is about to import
                for cache in (False, True):
                    if opts.scenarios and all(
                        (name.endswith("(cached)")) != cache for name in opts.scenarios
                    ):
                        continue
                    with server(url, workdir, opts.connections, cache=cache) as (base, pid):
                        opts.server_pid, opts.cache = pid, cache
                        plan, token = scenarios(base, run.seeded)
                        bench(run, base, token, plan, opts)
                run.load_after = os.getloadavg()
                runs.append(run)
    print()
    for run in runs:
        print(table(run), end="\n\n")
    checks = targets(runs)
    for check in checks:
        mark = "met" if check["met"] else "NOT met"
        print(f"{mark:>8}: {check['target']} ({check['backend']}): {check['value']}")
    output = RESULTS / f"{opts.stamp}.json"
    document = {
        "date": opts.stamp,
        "machine": info,
        "options": {
            k: v
            for k, v in vars(opts).items()
            if k in {"duration", "warmup", "connections", "threads", "sizes"}
        },
        "runs": [asdict(run) | {"percent_of_floor": ratios(run)} for run in runs],
        "targets": checks,
    }
    output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {output.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
