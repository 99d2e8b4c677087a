"""The real server, started the way the README starts it, called over real HTTP, then stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = "p" * 40
STARTUP_SECONDS = 60
STOP_SECONDS = 10

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def environment(**values: str) -> dict[str, str]:
    """This process's environment without any PRESSROOM_* setting, plus `values`."""
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith("PRESSROOM_")
    }
    return {**inherited, **values}


def migrate(env: dict[str, str]) -> None:
    """`pressroom migrate` in a process of its own, with `env`."""
    done = subprocess.run(
        [sys.executable, "-m", "pressroom", "migrate"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts `command`, and kills it if the test left it running."""
    with (
        log.open("wb") as output,
        subprocess.Popen(  # noqa: S603
            command, env=env, cwd=log.parent, stdout=output, stderr=subprocess.STDOUT
        ) as process,
    ):
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(STOP_SECONDS)


def wait_until_answering(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    pytest.fail(f"server did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes], how: signal.Signals, log: Path) -> None:
    process.send_signal(how)
    try:
        code = process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"server still running {STOP_SECONDS}s after {how.name}:\n{log.read_text()}")
    output = log.read_text()
    # A graceful stop is a success: exit 0, not death by the re-raised signal.
    assert code == 0, output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_quick_start_serves_the_api_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    # The README's `python3 dev.py serve`: sync the venv (already synced, so offline), migrate,
    # then exec `pressroom serve`; only the data directory and the port differ.
    command = [sys.executable, str(ROOT / "dev.py"), "serve", "--port", str(port)]
    env = environment(PRESSROOM_DATA_DIR=str(data_dir), UV_OFFLINE="1")

    with running(command, env, log) as process:
        wait_until_answering(base_url, process, log)
        with httpx.Client(base_url=base_url, timeout=10) as client:
            registered = client.post(
                "/api/users",
                json={
                    "user": {"username": "alice", "email": "a@example.com", "password": "x" * 12}
                },
            )
            token = registered.json()["user"]["token"]
            created = client.post(
                "/api/articles",
                json={"article": {"title": "Hello", "description": "first", "body": "words"}},
                headers={"Authorization": f"Token {token}"},
            )
            listed = client.get("/api/articles")
            docs = client.get("/docs")
            schema = client.get("/openapi.json")
        stop(process, signal.SIGINT, log)

    assert registered.status_code == 201, registered.text
    assert created.status_code == 201, created.text
    assert listed.status_code == 200
    assert [a["title"] for a in listed.json()["articles"]] == ["Hello"]
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in docs.text
    assert "/api/articles" in orjson.loads(schema.content)["paths"]
    for response in (registered, created, listed, docs, schema):
        assert "server" not in response.headers
    assert (data_dir / "pressroom.db").is_file()


def test_serve_takes_host_and_port_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_SERVER__HOST="127.0.0.1",
        PRESSROOM_SERVER__PORT=str(port),
    )

    with running([sys.executable, "-m", "pressroom", "serve"], env, log) as process:
        wait_until_answering(f"http://127.0.0.1:{port}", process, log)
        stop(process, signal.SIGTERM, log)


def test_production_serves_sqlite_with_several_workers_when_allowed(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_ENV="production",
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_AUTH__JWT_SECRET=SECRET,
        PRESSROOM_DATABASE__ALLOW_SQLITE_MULTIWORKER="true",
        PRESSROOM_SECURITY__ALLOWED_HOSTS="127.0.0.1",
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--workers", "2", "--port", str(port)]

    with running(command, env, log) as process:
        wait_until_answering(f"http://127.0.0.1:{port}", process, log)
        tags = httpx.get(f"http://127.0.0.1:{port}/api/tags", timeout=10)
        stop(process, signal.SIGTERM, log)

    assert tags.status_code == 200
    assert tags.json() == {"tags": []}
