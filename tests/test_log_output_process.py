"""The real server in production: every line it writes is JSON, and no secret is among them."""

from __future__ import annotations

import signal
import subprocess
import sys
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
    stop,
    wait_until_answering,
)

pytestmark = pytest.mark.slow
PASSWORD = "correct-horse-battery-staple"
WRONG_PASSWORD = "incorrect-donkey-battery"


def test_production_logs_are_json_lines_without_secrets(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = environment(
        PRESSROOM_ENV="production",
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_AUTH__JWT_SECRET=SECRET,
        PRESSROOM_SECURITY__ALLOWED_HOSTS="127.0.0.1",
        PRESSROOM_SECURITY__DOCS="public",  # wait_until_answering polls /openapi.json
    )
    migrate(env)
    command = [sys.executable, "-m", "pressroom", "serve", "--port", str(port)]

    with running(command, env, log) as process:
        wait_until_answering(base_url, process, log)
        with httpx.Client(base_url=base_url, timeout=10) as client:
            user = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
            registered = client.post("/api/users", json={"user": user})
            login = {"email": "alice@example.com", "password": PASSWORD}
            token = client.post("/api/users/login", json={"user": login}).json()["user"]["token"]
            auth = {"Authorization": f"Token {token}", "X-Request-ID": "trace-logs-1"}
            key = client.post(
                "/api/auth/api-keys", json={"apiKey": {"name": "bot"}}, headers=auth
            ).json()["apiKey"]["key"]
            by_key = client.get("/api/user", headers={"X-API-Key": key})
            wrong = client.post(
                "/api/users/login",
                json={"user": {"email": "alice@example.com", "password": WRONG_PASSWORD}},
            )
            forged = client.get("/api/user", headers={"Authorization": f"Token {token}x"})
        stop(process, signal.SIGTERM, log)

    assert registered.status_code == 201
    assert by_key.status_code == 200
    assert wrong.status_code == 401
    assert forged.status_code == 401
    output = log.read_bytes()
    lines = [orjson.loads(line) for line in output.splitlines()]  # each one JSON, or this fails
    assert all(isinstance(line, dict) and line["event"] for line in lines)
    for secret in (PASSWORD, WRONG_PASSWORD, token, key, SECRET):
        assert secret.encode() not in output
    events = {line["event"] for line in lines}
    assert "Application startup complete." in events  # uvicorn's own lines, through the pipeline
    access = [line for line in lines if line.get("logger") == "pressroom.access"]
    assert ("POST", "/api/auth/api-keys", 201, "trace-logs-1") in {
        (line["method"], line["route"], line["status"], line["request_id"]) for line in access
    }
    assert [line["status"] for line in access if line["route"] == "/api/users/login"] == [200, 401]
    # The API key's owner is named; a forged token names nobody.
    users = [line["user_id"] for line in access if line["route"] == "/api/user"]
    assert isinstance(users[0], int)
    assert users[1:] == [None]


def test_migrate_in_production_logs_json_lines(tmp_path: Path) -> None:
    env = environment(
        PRESSROOM_ENV="production",
        PRESSROOM_DATA_DIR=str(tmp_path),
        PRESSROOM_AUTH__JWT_SECRET=SECRET,
        PRESSROOM_SECURITY__ALLOWED_HOSTS="127.0.0.1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pressroom", "migrate"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    events = [line["event"] for line in lines]
    assert any(event.startswith("Running upgrade") for event in events), events
    assert events[-1].startswith("database at head: sqlite+aiosqlite:///"), events
    assert all(line["level"] == "info" for line in lines)
    assert SECRET not in done.stdout.decode() + done.stderr.decode()
