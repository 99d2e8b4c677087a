"""`pressroom serve` as a real process: request-head deadline and size cap, no server banner.

Slow and oversized request heads are handled by uvicorn's protocol, before the app sees
anything: only raw sockets against a real server show it.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.test_server_process import environment, free_port, running, stop, wait_until_answering

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 1.0
# Far above the deadline: a loaded machine is slow to answer, never early.
GIVE_UP_SECONDS = 20.0


class Server:
    def __init__(self, port: int, http: str) -> None:
        self.port = port
        self.http = http
        self.base_url = f"http://127.0.0.1:{port}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=GIVE_UP_SECONDS)


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    http: str = request.param
    port = free_port()
    tmp_path = tmp_path_factory.mktemp(f"serve-{http}")
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_SERVER__PORT=str(port),
        PRESSROOM_SERVER__HTTP=http,
        PRESSROOM_SERVER__HEADER_TIMEOUT=str(HEADER_TIMEOUT),
    )
    with running([sys.executable, "-m", "pressroom", "serve"], env, log) as process:
        wait_until_answering(f"http://127.0.0.1:{port}", process, log)
        yield Server(port, http)
        stop(process, signal.SIGTERM, log)


def closed_by_server(connection: socket.socket, trickle: bytes) -> bytes:
    """Sends `trickle` every 0.2 s until the server closes; what it answered before closing."""
    answered = b""
    connection.settimeout(0.2)
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while time.monotonic() < give_up:
        try:
            if trickle:
                connection.sendall(trickle)
            data = connection.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return answered
        if not data:
            return answered
        answered += data
    pytest.fail(f"server kept the connection open for {GIVE_UP_SECONDS}s")


def test_a_slow_request_head_is_cut_off_while_others_are_served(server: Server) -> None:
    with server.connect() as slow:
        slow.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        served = httpx.get(f"{server.base_url}/openapi.json", timeout=GIVE_UP_SECONDS)
        started = time.monotonic()
        # One header byte at a time: each would restart uvicorn's keep-alive timer.
        answered = closed_by_server(slow, b"X")
        waited = time.monotonic() - started

    assert served.status_code == 200
    assert answered == b""
    assert waited < GIVE_UP_SECONDS


def test_a_connection_gets_a_new_head_deadline_after_each_answer(server: Server) -> None:
    with server.connect() as client:
        client.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = client.recv(65536)
        client.sendall(b"GET /openapi.json HTTP/1.1\r\n")
        answered = closed_by_server(client, b"X")

    assert first.startswith(b"HTTP/1.1 200 ")
    # Only the rest of the first answer, if it came in pieces: nothing for the slow second.
    assert b"HTTP/1.1" not in answered


def test_an_oversized_request_head_is_refused(server: Server) -> None:
    head = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * 32 * 1024
    with server.connect() as client:
        client.sendall(head + b"\r\n\r\n")
        answered = closed_by_server(client, b"")

    assert answered.startswith(b"HTTP/1.1 431 "), answered[:200]
    assert answered.endswith(b'{"errors":{"headers":["too large"]}}')


def test_a_large_body_after_a_small_head_is_not_taken_for_a_large_head(server: Server) -> None:
    body = b"[" + b"1," * 20_000 + b"1]"
    head = (
        b"POST /api/users/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    )
    with server.connect() as client:
        client.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        answered = client.recv(65536)

    assert answered.startswith(b"HTTP/1.1 422 "), answered[:200]


def test_answers_carry_no_server_banner(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=GIVE_UP_SECONDS) as client:
        answers = [client.get("/openapi.json"), client.get("/api/no-such-route")]

    assert [answer.status_code for answer in answers] == [200, 404]
    for answer in answers:
        assert "server" not in answer.headers
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-request-id"]


def test_pipelined_requests_are_all_answered(server: Server) -> None:
    request = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with server.connect() as client:
        client.sendall(request * 3)
        answered = b""
        while answered.count(b"HTTP/1.1 200 ") < 3:
            data = client.recv(65536)
            assert data, answered[-300:]
            answered += data
