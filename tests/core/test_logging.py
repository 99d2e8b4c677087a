"""The log pipeline as an operator reads it: one access line per request, the request id on
every line, one stack for an unexpected error, and no secrets."""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import text

from pressroom.core.hardening import HttpGuard
from pressroom.core.observability.logs import uvicorn_options
from pressroom.core.settings import LogFormat, Settings
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.core.log_capture import LogLines, captured_logs, restored_logging
from tests.factories import PASSWORD, register

SERVER_TIMING = re.compile(r"app;dur=\d+\.\d\d")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return base_settings(tmp_path, database_url, logging={"format": "json"})


@pytest.fixture
def logs(settings: Settings) -> Iterator[LogLines]:
    with captured_logs(settings) as lines:
        yield lines


@pytest.fixture
async def app(settings: Settings, logs: LogLines) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def _user_id(app: FastAPI, username: str) -> int:
    async with app.state.database.session(readonly=True) as session:
        found = await session.scalar(
            text("SELECT id FROM users WHERE username = :name"), {"name": username}
        )
    assert isinstance(found, int)
    return found


async def test_each_request_writes_one_access_line(
    app: FastAPI, client: httpx.AsyncClient, logs: LogLines
) -> None:
    alice = await register(client, "alice")
    response = await client.get(
        "/api/profiles/alice", headers={**alice.auth, "X-Request-ID": "trace-42"}
    )

    lines = logs.access()
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("POST", "/api/users", 201),
        ("GET", "/api/profiles/{username}", 200),
    ]
    line = lines[-1]
    assert line["request_id"] == "trace-42" == response.headers["x-request-id"]
    assert line["user_id"] == await _user_id(app, "alice")
    assert line["client"] == "127.0.0.1"
    assert line["level"] == "info"
    assert line["event"] == "request"
    assert 0 < line["duration_ms"] < 10_000
    assert "path" not in line  # the template says it; the raw path is not repeated
    assert lines[0]["user_id"] is None  # registering is anonymous


async def test_an_api_key_caller_is_named_too(
    app: FastAPI, client: httpx.AsyncClient, logs: LogLines
) -> None:
    alice = await register(client, "alice")
    created = await client.post(
        "/api/auth/api-keys", json={"apiKey": {"name": "bot"}}, headers=alice.auth
    )
    key = created.json()["apiKey"]["key"]

    await client.get("/api/user", headers={"X-API-Key": key})

    assert logs.access()[-1]["user_id"] == await _user_id(app, "alice")


async def test_an_unmatched_path_is_logged_cut_short(
    client: httpx.AsyncClient, logs: LogLines
) -> None:
    await client.get("/" + "x" * 5000)

    (line,) = logs.access()
    assert line["route"] is None
    assert line["status"] == 404
    assert line["path"] == "/" + "x" * 199


async def test_every_line_logged_during_a_request_carries_its_id(
    app: FastAPI, client: httpx.AsyncClient, logs: LogLines
) -> None:
    async def chatty() -> dict[str, str]:
        logging.getLogger("pressroom.test").warning("from the standard library")
        structlog.get_logger("pressroom.test").info("from structlog", detail=1)
        return {}

    app.add_api_route("/api/chatty", chatty)

    await client.get("/api/chatty", headers={"X-Request-ID": "trace-7"})
    logging.getLogger("pressroom.test").warning("outside any request")

    by_event = {line["event"]: line for line in logs.records()}
    assert by_event["from the standard library"]["request_id"] == "trace-7"
    assert by_event["from the standard library"]["logger"] == "pressroom.test"
    assert by_event["from structlog"]["request_id"] == "trace-7"
    assert by_event["from structlog"]["detail"] == 1
    assert "request_id" not in by_event["outside any request"]


async def test_an_unexpected_error_is_logged_once_with_its_stack(
    app: FastAPI, logs: LogLines
) -> None:
    async def explode() -> None:
        raise RuntimeError("the detail")

    app.add_api_route("/api/explode/{part}", explode)
    # The error must not reach the server either: it would log it a second time.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/explode/1", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    errors = [line for line in logs.records() if line["level"] == "error"]
    assert len(errors) == 1
    (error,) = errors
    assert error["request_id"] == "trace-500"
    assert error["route"] == "/api/explode/{part}"
    assert error["method"] == "GET"
    assert error["event"] == "unhandled RuntimeError"
    assert "Traceback" in error["exception"]
    assert "RuntimeError: the detail" in error["exception"]
    assert logs.access()[-1]["status"] == 500


async def test_a_failure_outside_the_error_handlers_is_answered_and_logged_once(
    settings: Settings, logs: LogLines
) -> None:
    async def broken(scope: object, receive: object, send: object) -> None:
        raise ValueError("in a middleware")

    guard = HttpGuard(broken, settings)
    transport = httpx.ASGITransport(app=guard, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/anything", headers={"X-Request-ID": "trace-9"})

    assert response.status_code == 500
    assert response.json() == {"errors": {"server": ["internal error (request id trace-9)"]}}
    assert response.headers["x-request-id"] == "trace-9"
    errors = [line for line in logs.records() if line["level"] == "error"]
    assert len(errors) == 1
    assert "ValueError: in a middleware" in errors[0]["exception"]
    assert logs.access()[-1]["status"] == 500


async def test_secrets_never_reach_a_line(
    app: FastAPI, client: httpx.AsyncClient, logs: LogLines
) -> None:
    async def careless() -> dict[str, str]:
        structlog.get_logger("pressroom.test").info(
            "careless",
            password="hunter2-password",
            authorization="Token hunter2-token",
            headers={"x-api-key": "hunter2-key"},
            form={"new_password": "hunter2-new", "name": "kept"},
        )
        logging.getLogger("pressroom.test").warning(
            "sent Authorization: Bearer %s and %s", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "prk_x_y"
        )
        return {}

    app.add_api_route("/api/careless", careless)
    alice = await register(client, "alice")
    await client.post(
        "/api/users/login", json={"user": {"email": alice.email, "password": "wrong password"}}
    )
    await client.get("/api/careless", headers=alice.auth)

    output = logs.text
    for secret in ("hunter2", "eyJ", "prk_", alice.token, PASSWORD, "wrong password"):
        assert secret not in output
    logged = next(line for line in logs.records() if line["event"] == "careless")
    assert logged["password"] == "[redacted]"
    assert logged["form"] == {"new_password": "[redacted]", "name": "kept"}


async def test_answers_say_how_long_the_app_took(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tags")
    missing = await client.get("/nowhere")

    assert SERVER_TIMING.fullmatch(response.headers["server-timing"])
    assert SERVER_TIMING.fullmatch(missing.headers["server-timing"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_no_access_lines_when_switched_off(tmp_path: Path, database_url: str) -> None:
    settings = base_settings(
        tmp_path, database_url, logging={"access_log": False, "format": "json"}
    )
    with captured_logs(settings) as logs:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.get("/api/tags")

    assert response.status_code == 200
    assert "server-timing" in response.headers
    assert logs.access() == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_development_lines_are_readable_text(tmp_path: Path, database_url: str) -> None:
    settings = base_settings(tmp_path, database_url)
    assert settings.log_format is LogFormat.CONSOLE
    with captured_logs(settings) as logs:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await client.get("/api/tags", headers={"X-Request-ID": "trace-3"})

    (line,) = [line for line in logs.text.splitlines() if "pressroom.access" in line]
    assert not line.startswith("{")
    for part in ("request", "method=GET", "route=/api/tags", "status=200", "request_id=trace-3"):
        assert part in line


def test_production_writes_json_and_development_text(tmp_path: Path) -> None:
    production = base_settings(tmp_path, env="production", security={"allowed_hosts": ["*"]})
    forced = base_settings(tmp_path, logging={"format": "json"})

    assert production.log_format is LogFormat.JSON
    assert base_settings(tmp_path).log_format is LogFormat.CONSOLE
    assert forced.log_format is LogFormat.JSON


def test_uvicorn_logs_through_the_pipeline_without_its_access_log(tmp_path: Path) -> None:
    options = uvicorn_options(base_settings(tmp_path, logging={"level": "warning"}))

    assert options["access_log"] is False
    assert options["log_level"] == "warning"
    config = options["log_config"]
    assert config["root"] == {"handlers": ["pressroom"], "level": "WARNING"}
    assert config["handlers"]["pressroom"]["()"].endswith("configured_handler")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_echoed_sql_goes_through_the_pipeline(tmp_path: Path, database_url: str) -> None:
    settings = base_settings(
        tmp_path, database_url, logging={"format": "json"}, database={"echo": True}
    )
    with captured_logs(settings) as logs:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await client.get("/api/tags", headers={"X-Request-ID": "trace-sql"})

    statements = [line for line in logs.records() if line["logger"] == "sqlalchemy.engine.Engine"]
    assert any("SELECT" in line["event"] for line in statements)
    selects = [line for line in statements if "SELECT" in line["event"]]
    assert all(line["request_id"] == "trace-sql" for line in selects)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_without_the_pipeline_access_lines_are_standard_records(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # An app embedding Pressroom (or a test) keeps its own logging setup: nothing is printed
    # behind its back, and its handlers see the lines.
    caplog.set_level(logging.INFO, logger="pressroom.access")
    app = create_app(base_settings(tmp_path, database_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/api/tags")

    (record,) = [record for record in caplog.records if record.name == "pressroom.access"]
    assert record.getMessage() == "request"
    assert record.__dict__["route"] == "/api/tags"
    assert record.__dict__["status"] == 200


@pytest.mark.usefixtures("clean_environment")
def test_uvicorn_log_config_sets_up_the_pipeline_in_each_process(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # uvicorn applies log_config in its supervisor and in every worker, each of which reads
    # its settings from the environment.
    monkeypatch.setenv("PRESSROOM_LOGGING__FORMAT", "json")
    monkeypatch.setenv("PRESSROOM_LOGGING__LEVEL", "warning")
    options = uvicorn_options(Settings())
    with restored_logging():
        logging.config.dictConfig(options["log_config"])
        logging.getLogger("uvicorn.error").info("below the level")
        logging.getLogger("uvicorn.error").warning("Shutting down")
        output = capsysbinary.readouterr().out

    (line,) = [orjson.loads(raw) for raw in output.splitlines()]
    assert line["event"] == "Shutting down"
    assert line["logger"] == "uvicorn.error"
    assert line["level"] == "warning"
