"""SIGTERM on a real server: readiness turns 503 at once, requests in flight finish, exit 0."""

from __future__ import annotations

import signal
import socket
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest

from tests.test_server_process import (
    SECRET,
    environment,
    free_port,
    migrate,
    running,
    wait_until_answering,
)

pytestmark = pytest.mark.slow

DRAIN = 4.0
TURNS = 2.5  # seconds for readiness to say 503: 0.5 s for the supervisor, the rest for load
GRACE = 15
IN_FLIGHT = 4
TRICKLE_SECONDS = 4.0  # each slow request's body arrives over this long


def register(base_url: str) -> str:
    user = {"username": "alice", "email": "alice@example.com", "password": "x" * 12}
    response = httpx.post(f"{base_url}/api/users", json={"user": user}, timeout=10)
    assert response.status_code == 201, response.text
    token: str = response.json()["user"]["token"]
    return token


def slow_update(port: int, token: str, bio: str) -> tuple[int, bytes]:
    """`PUT /api/user` whose body trickles in over TRICKLE_SECONDS: a request in flight the
    whole time, as a client on a slow link makes one. (status, body)."""
    body = orjson.dumps({"user": {"bio": bio}})
    head = (
        f"PUT /api/user HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    pieces = 8
    step = -(-len(body) // pieces)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        for start in range(0, len(body), step):
            time.sleep(TRICKLE_SECONDS / pieces)
            connection.sendall(body[start : start + step])
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def readiness(base_url: str) -> int:
    return httpx.get(f"{base_url}/readyz", timeout=5).status_code


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_then_finishes_requests_in_flight_and_exits_0(
    tmp_path: Path, workers: int
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_ENV="production",
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_AUTH__JWT_SECRET=SECRET,
        PRESSROOM_DATABASE__ALLOW_SQLITE_MULTIWORKER="true",
        PRESSROOM_SECURITY__ALLOWED_HOSTS="127.0.0.1",
        PRESSROOM_SERVER__DRAIN_SECONDS=str(DRAIN),
        PRESSROOM_SERVER__SHUTDOWN_GRACE_SECONDS=str(GRACE),
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--workers", str(workers)]
    command += ["--port", str(port)]

    with running(command, env, log) as process, ThreadPoolExecutor(IN_FLIGHT) as pool:
        wait_until_answering(base_url, process, log)
        token = register(base_url)
        assert readiness(base_url) == 200
        in_flight: list[Future[tuple[int, bytes]]] = [
            pool.submit(slow_update, port, token, f"bio {n}") for n in range(IN_FLIGHT)
        ]
        time.sleep(TRICKLE_SECONDS / 4)  # every slow request has started sending its body
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        # Readiness says 503 at once (the supervisor of several workers passes the signal
        # on within half a second), while the server still accepts and serves.
        while readiness(base_url) != 503:
            assert time.monotonic() - signalled < TURNS, log.read_text()
            time.sleep(0.05)
        turned = time.monotonic() - signalled
        during_drain = httpx.get(f"{base_url}/api/tags", timeout=5)
        draining = httpx.get(f"{base_url}/readyz", timeout=5)

        results = [future.result(timeout=30) for future in in_flight]
        code = process.wait(DRAIN + GRACE + 10)
        stopped = time.monotonic() - signalled

    output = log.read_text()
    assert turned < TURNS
    assert during_drain.status_code == 200, output
    assert draining.json() == {"status": "not ready", "checks": {"draining": {"status": "failing"}}}
    for status, body in results:
        assert status == 200, (body, output)
        assert orjson.loads(body)["user"]["bio"].startswith("bio ")
    assert code == 0, output
    # The drain period was honoured (the server stopped accepting only after it), and the
    # process did not wait for the whole grace once the requests were done.
    assert DRAIN <= stopped < DRAIN + GRACE, output
    assert "Traceback" not in output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/healthz", timeout=2)


def test_sigterm_cancels_what_outlasts_the_grace(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_AUTH__JWT_SECRET=SECRET,
        PRESSROOM_SERVER__SHUTDOWN_GRACE_SECONDS="1",
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--port", str(port)]

    with running(command, env, log) as process, ThreadPoolExecutor(1) as pool:
        wait_until_answering(base_url, process, log)
        token = register(base_url)
        slow = pool.submit(_never_finishing_body, port, token)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = process.wait(15)
        stopped = time.monotonic() - signalled
        slow.result(timeout=15)

    output = log.read_text()
    assert code == 0, output
    assert stopped < 1 + 5, output  # development: no drain; 1 s of grace, then cancelled
    assert "timeout graceful shutdown exceeded" in output


def _never_finishing_body(port: int, token: str) -> None:
    head = (
        f"PUT /api/user HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            try:
                connection.sendall(b" ")
            except OSError:
                return  # the server closed the connection
            time.sleep(0.2)
