"""What Prometheus metrics cost each request: HttpGuard with and without them.

    .venv/bin/python bench/metrics_overhead.py [--requests 20000] [--rounds 5]

Each round sends the same GET through HttpGuard (request id, security headers) around an
endpoint that does nothing but answer, without a server, with metrics off and on,
alternating, and keeps the fastest round of each: the difference is the per-request cost of
the accounting in HttpGuard, free of the noise a whole app adds. It runs once with
prometheus-client's in-memory values (one process) and once in multiprocess mode (the values
`pressroom serve` uses), each in a fresh interpreter, since the mode is chosen at import.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Route:
    path = "/api/articles/{slug}"


ROUTE = Route()


async def endpoint(scope: Scope, _receive: Receive, send: Send) -> None:
    """What the router leaves behind: the matched route in the scope, then a response."""
    scope["route"] = ROUTE
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def drive(app: ASGIApp, requests: int) -> float:
    """Seconds per request for `requests` GET requests through `app`."""
    template = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/api/articles/a-slug",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"accept", b"application/json")],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(template), receive, send)
    return (time.perf_counter() - started) / requests


async def measure(requests: int, rounds: int) -> tuple[float, float]:
    from prometheus_client import CollectorRegistry

    from pressroom.core.hardening import HttpGuard
    from pressroom.core.metrics.families import Families
    from pressroom.core.metrics.requests import RequestMetrics
    from pressroom.core.settings import Settings

    settings = Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()))
    metrics = RequestMetrics(Families(CollectorRegistry()), list)
    # The guard hands every request to `end`; flushing is per scrape, not per request.
    guards = {False: HttpGuard(endpoint, settings), True: HttpGuard(endpoint, settings, metrics)}
    best = {False: float("inf"), True: float("inf")}
    for guard in guards.values():
        await drive(guard, 2000)  # warm up, create the label children
    for _ in range(rounds):
        for on, guard in guards.items():
            best[on] = min(best[on], await drive(guard, requests))
    return best[False], best[True]


def child(requests: int, rounds: int) -> None:
    off, on = asyncio.run(measure(requests, rounds))
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "in-memory"
    print(
        f"{mode:>12}: {off * 1e6:6.1f} µs/request off, {on * 1e6:6.1f} µs on, "
        f"metrics cost {(on - off) * 1e6:4.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.requests, args.rounds)
        return
    command = [sys.executable, __file__, "--child", f"--requests={args.requests}"]
    command.append(f"--rounds={args.rounds}")
    subprocess.run(command, check=True)
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        subprocess.run(command, check=True, env=env)


if __name__ == "__main__":
    main()
