"""deploy/healthcheck.py (the image's HEALTHCHECK) against a real server."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.deploy.files import DEPLOY
from tests.test_server_process import (
    environment,
    free_port,
    running,
    stop,
    wait_until_answering,
)

SCRIPT = DEPLOY / "healthcheck.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A development server that answers only to *.example.com."""
    directory = tmp_path_factory.mktemp("healthcheck")
    number = free_port()
    log = directory / "server.log"
    env = environment(
        PRESSROOM_DATA_DIR=str(directory),
        PRESSROOM_SERVER__PORT=str(number),
        PRESSROOM_SECURITY__ALLOWED_HOSTS="*.example.com",
    )
    with running([sys.executable, "-m", "pressroom", "serve"], env, log) as process:
        # Any answer counts, even this server's 400 to a Host it refuses: it is up.
        wait_until_answering(f"http://127.0.0.1:{number}", process, log)
        yield number
        stop(process, signal.SIGTERM, log)


def check(port: int, *args: str, allowed_hosts: str = "*.example.com") -> tuple[int, str]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(SCRIPT), *args],
        env=environment(
            PRESSROOM_SERVER__PORT=str(port), PRESSROOM_SECURITY__ALLOWED_HOSTS=allowed_hosts
        ),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    "allowed_hosts", ["*.example.com", "api.example.com,localhost", '["api.example.com"]']
)
def test_a_live_server_is_healthy(port: int, allowed_hosts: str) -> None:
    assert check(port, "/healthz", allowed_hosts=allowed_hosts) == (0, "")


def test_the_default_path_is_healthz(port: int) -> None:
    assert check(port) == (0, "")


def test_an_answer_other_than_200_is_unhealthy(port: int) -> None:
    code, message = check(port, "/no-such-path")

    assert code == 1
    assert "answered 404" in message


def test_a_host_the_server_refuses_is_unhealthy(port: int) -> None:
    # With any host allowed the script sends localhost, which this server does not accept:
    # the Host it sends is what decides, so the script must derive it from the settings.
    code, message = check(port, "/healthz", allowed_hosts="*")

    assert code == 1
    assert "answered 400" in message


def test_nothing_listening_is_unhealthy() -> None:
    code, message = check(free_port(), "/healthz")

    assert code == 1
    assert "unhealthy: /healthz" in message
