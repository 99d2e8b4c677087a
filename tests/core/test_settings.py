"""Settings: environment and `.env`, secrets, zero-config development, production refusals,
and the database timeouts that keep a hung database from hanging a request."""

from __future__ import annotations

import gc
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import event, text

from pressroom.core import migrations
from pressroom.core.db import create_engine
from pressroom.core.settings import JWT_SECRET_FILE, MIN_SECRET_LENGTH, Settings
from pressroom.main import create_app
from tests.factories import register

GOOD_SECRET = "s" * MIN_SECRET_LENGTH
CLOSED_PORT_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/pressroom"

# Production configurations that must not boot: the environment, and what the reason names.
PRODUCTION_REFUSALS: dict[str, tuple[dict[str, str], str]] = {
    "missing JWT secret": ({}, "PRESSROOM_AUTH__JWT_SECRET"),
    "short JWT secret": (
        {"PRESSROOM_AUTH__JWT_SECRET": "s" * (MIN_SECRET_LENGTH - 1)},
        "PRESSROOM_AUTH__JWT_SECRET",
    ),
    "short previous JWT secret": (
        {
            "PRESSROOM_AUTH__JWT_SECRET": GOOD_SECRET,
            "PRESSROOM_AUTH__JWT_PREVIOUS_SECRETS": GOOD_SECRET + ",p" + "p" * 30,
        },
        "PRESSROOM_AUTH__JWT_PREVIOUS_SECRETS",
    ),
    "SQLite with several workers": (
        {"PRESSROOM_AUTH__JWT_SECRET": GOOD_SECRET, "PRESSROOM_SERVER__WORKERS": "2"},
        "SQLite with several workers",
    ),
    "wildcard CORS with credentials": (
        {
            "PRESSROOM_AUTH__JWT_SECRET": GOOD_SECRET,
            "PRESSROOM_CORS__ALLOW_ORIGINS": "*",
            "PRESSROOM_CORS__ALLOW_CREDENTIALS": "true",
        },
        "wildcard origin cannot be combined with credentials",
    ),
    "no allowed hosts": (
        {"PRESSROOM_AUTH__JWT_SECRET": GOOD_SECRET},
        "PRESSROOM_SECURITY__ALLOWED_HOSTS",
    ),
}
UNKNOWN_DATABASE_URLS = [
    "mysql+aiomysql://user@localhost/pressroom",
    "postgresql://user@localhost/pressroom",
    "sqlite:///pressroom.db",
]


# No PRESSROOM_* variable or `.env` file of the developer's leaks into these tests.
pytestmark = pytest.mark.usefixtures("clean_environment")


def dev_settings(data_dir: Path, **values: Any) -> Settings:
    """Development settings as a fresh checkout has them: nothing configured but the data dir."""
    return Settings(_env_file=None, data_dir=data_dir, **values)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


# ---------------------------------------------------------------- environment and .env
def test_environment_fills_nested_sections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PRESSROOM_ENV", "production")
    monkeypatch.setenv("PRESSROOM_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PRESSROOM_DATABASE__URL", "postgresql+asyncpg://app@db.internal/press")
    monkeypatch.setenv("PRESSROOM_DATABASE__POOL_SIZE", "3")
    monkeypatch.setenv("PRESSROOM_REDIS__URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("PRESSROOM_AUTH__JWT_SECRET", GOOD_SECRET)
    monkeypatch.setenv("PRESSROOM_SECURITY__ALLOWED_HOSTS", "api.example.com,*.example.org")

    settings = Settings()

    assert settings.is_production
    assert settings.data_dir == tmp_path / "state"
    assert settings.database_url == "postgresql+asyncpg://app@db.internal/press"
    assert not settings.is_sqlite
    assert settings.database.pool_size == 3
    assert settings.redis.url is not None
    assert settings.redis.url.get_secret_value() == "redis://cache.internal:6379/0"
    assert settings.signing_key() == GOOD_SECRET
    assert settings.allowed_hosts == ["api.example.com", "*.example.org"]


def test_dotenv_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "PRESSROOM_DATA_DIR=from-dotenv\n"
        "PRESSROOM_DATABASE__URL=sqlite+aiosqlite:///from-dotenv.db\n"
        "PRESSROOM_SERVER__PORT=9123\n",
        encoding="utf-8",
    )

    settings = Settings()

    assert settings.data_dir == Path("from-dotenv")
    assert settings.database_url == "sqlite+aiosqlite:///from-dotenv.db"
    assert settings.server.port == 9123


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PRESSROOM_SERVER__PORT=9123\n", encoding="utf-8")
    monkeypatch.setenv("PRESSROOM_SERVER__PORT", "9456")

    assert Settings().server.port == 9456


@pytest.mark.parametrize(
    "value",
    [f"{'a' * 40},{'b' * 40}", f" {'a' * 40} , {'b' * 40} ,", f'["{"a" * 40}", "{"b" * 40}"]'],
    ids=["comma-separated", "with spaces", "JSON list"],
)
def test_previous_jwt_secrets_come_from_one_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PRESSROOM_AUTH__JWT_PREVIOUS_SECRETS", value)

    settings = Settings()

    keys = [key.get_secret_value() for key in settings.auth.jwt_previous_secrets]
    assert keys == ["a" * 40, "b" * 40]
    assert "a" * 40 not in repr(settings)


@pytest.mark.parametrize("render", [repr, str])
def test_secrets_never_appear_when_settings_are_printed(
    monkeypatch: pytest.MonkeyPatch, render: Any
) -> None:
    secrets = {
        "PRESSROOM_AUTH__JWT_SECRET": "jwt-secret-value-" + "j" * 32,
        "PRESSROOM_DATABASE__URL": "postgresql+asyncpg://app:db-password-value@db/press",
        "PRESSROOM_REDIS__URL": "redis://:redis-password-value@cache:6379/0",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)

    settings = Settings()
    shown = render(settings)

    assert settings.database_url == secrets["PRESSROOM_DATABASE__URL"]
    assert settings.signing_key() == secrets["PRESSROOM_AUTH__JWT_SECRET"]
    for leaked in ("jwt-secret-value", "db-password-value", "redis-password-value"):
        assert leaked not in shown


def test_importing_the_application_reads_no_environment(tmp_path: Path) -> None:
    script = (
        "import importlib, pkgutil\n"
        "import pressroom\n"
        "for module in pkgutil.walk_packages(pressroom.__path__, 'pressroom.'):\n"
        "    if not module.name.startswith(('pressroom.migrations', 'pressroom.__main__')):\n"
        "        importlib.import_module(module.name)\n"
        "print('imported')\n"
        "from pydantic import ValidationError\n"
        "from pressroom.core.settings import Settings\n"
        "try:\n"
        "    Settings()\n"
        "except ValidationError as exc:\n"
        "    print('refused', sorted({str(error['loc'][0]) for error in exc.errors()}))\n"
    )
    bogus = {
        "PRESSROOM_ENV": "bogus",
        "PRESSROOM_SERVER__PORT": "not-a-port",
        "PRESSROOM_DATABASE__URL": "mysql://nowhere/db",
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSROOM_")}

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env={**env, **bogus},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["imported", "refused ['database', 'env', 'server']"]


# ---------------------------------------------------------------- zero-config development
def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = dev_settings(data_dir)

    migrations.upgrade(settings)

    assert settings.database_url == f"sqlite+aiosqlite:///{data_dir / 'pressroom.db'}"
    assert (data_dir / "pressroom.db").is_file()


async def _start(app: FastAPI) -> None:
    async with app.router.lifespan_context(app):
        pass


async def test_generated_key_is_private_kept_and_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = tmp_path / JWT_SECRET_FILE

    with caplog.at_level(logging.WARNING, logger="pressroom"):
        await _start(create_app(dev_settings(tmp_path)))
    first = key.read_text(encoding="utf-8")
    await _start(create_app(dev_settings(tmp_path)))

    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(first.strip()) >= MIN_SECRET_LENGTH
    assert key.read_text(encoding="utf-8") == first
    assert list(tmp_path.iterdir()) == [key]  # no temporary file left behind
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("PRESSROOM_AUTH__JWT_SECRET" in record.getMessage() for record in warnings)


async def test_configured_secret_writes_no_key_and_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="pressroom"):
        await _start(create_app(dev_settings(tmp_path, auth={"jwt_secret": GOOD_SECRET})))

    assert not (tmp_path / JWT_SECRET_FILE).exists()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
def migrated_data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    migrations.upgrade(dev_settings(data_dir))
    return data_dir


async def test_tokens_survive_a_restart_with_the_generated_key(
    migrated_data_dir: Path, tmp_path: Path
) -> None:
    async with serving(dev_settings(migrated_data_dir)) as first_run:
        alice = await register(first_run, "alice")

    async with serving(dev_settings(migrated_data_dir)) as second_run:
        response = await second_run.get("/api/user", headers=alice.auth)
    # Same database, another data directory: another generated key, so the token is refused.
    same_database = {"url": dev_settings(migrated_data_dir).database_url}
    async with serving(dev_settings(tmp_path / "other", database=same_database)) as elsewhere:
        refused = await elsewhere.get("/api/user", headers=alice.auth)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "alice"
    assert refused.status_code == 401


# ---------------------------------------------------------------- production refusals
@pytest.mark.parametrize(
    ("env", "reason"), list(PRODUCTION_REFUSALS.values()), ids=list(PRODUCTION_REFUSALS)
)
def test_production_refuses_unsafe_configuration(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], reason: str
) -> None:
    monkeypatch.setenv("PRESSROOM_ENV", "production")
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=reason):
        Settings()


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"PRESSROOM_SERVER__WORKERS": "4", "PRESSROOM_DATABASE__ALLOW_SQLITE_MULTIWORKER": "true"},
        {"PRESSROOM_SERVER__WORKERS": "4", "PRESSROOM_DATABASE__URL": "postgresql+asyncpg://db/p"},
        {
            "PRESSROOM_CORS__ALLOW_ORIGINS": "https://app.example",
            "PRESSROOM_CORS__ALLOW_CREDENTIALS": "1",
        },
    ],
    ids=["defaults", "sqlite multiworker allowed", "postgres multiworker", "credentials with list"],
)
def test_production_accepts_safe_configuration(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.setenv("PRESSROOM_ENV", "production")
    monkeypatch.setenv("PRESSROOM_AUTH__JWT_SECRET", GOOD_SECRET)
    monkeypatch.setenv("PRESSROOM_SECURITY__ALLOWED_HOSTS", "*")
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert Settings().is_production


@pytest.mark.parametrize(
    "env",
    [{"PRESSROOM_AUTH__JWT_SECRET": "short"}, {"PRESSROOM_SERVER__WORKERS": "2"}],
    ids=["short secret", "sqlite multiworker"],
)
def test_development_tolerates_what_production_refuses(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert not Settings().is_production


@pytest.mark.parametrize("url", UNKNOWN_DATABASE_URLS)
def test_unknown_database_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match=r"sqlite\+aiosqlite:// or postgresql\+asyncpg://"):
        Settings(_env_file=None, database={"url": url})


# ---------------------------------------------------------------- engine and timeouts
@pytest.mark.parametrize(
    ("url", "dialect", "driver"),
    [
        ("sqlite+aiosqlite:///{tmp}/pressroom.db", "sqlite", "aiosqlite"),
        ("postgresql+asyncpg://app@db.internal/press", "postgresql", "asyncpg"),
    ],
)
async def test_database_url_selects_the_engine(
    tmp_path: Path, url: str, dialect: str, driver: str
) -> None:
    engine = create_engine(dev_settings(tmp_path, database={"url": url.format(tmp=tmp_path)}))
    try:
        assert (engine.dialect.name, engine.dialect.driver) == (dialect, driver)
    finally:
        await engine.dispose()


async def test_postgres_defaults_bound_every_wait(tmp_path: Path) -> None:
    settings = dev_settings(tmp_path, database={"url": CLOSED_PORT_URL})
    engine = create_engine(settings)
    sent: dict[str, Any] = {}

    @event.listens_for(engine.sync_engine, "do_connect")
    def _record(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        sent.update(params)

    try:
        with pytest.raises(ConnectionRefusedError):
            async with engine.connect():
                pass
        pool_timeout = engine.pool.timeout()  # type: ignore[attr-defined]
    finally:
        await engine.dispose()

    statement_ms = int(sent["server_settings"]["statement_timeout"])
    assert 0 < pool_timeout <= 10
    assert 0 < sent["timeout"] <= 10
    assert 0 < statement_ms <= 30_000
    assert statement_ms / 1000 < sent["command_timeout"] <= 31


async def test_sqlite_waits_for_a_lock_only_a_few_seconds(tmp_path: Path) -> None:
    engine = create_engine(dev_settings(tmp_path))
    try:
        async with engine.connect() as connection:
            busy_ms = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()

    assert 0 < busy_ms <= 10_000


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word, like a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("database", ["closed port", "silent server"])
async def test_unreachable_postgres_fails_the_request_fast_with_503(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    port = 1 if database == "closed port" else request.getfixturevalue("silent_port")
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/pressroom"
    settings = dev_settings(tmp_path, database={"url": url}, auth={"jwt_secret": GOOD_SECRET})

    async with serving(settings) as client:
        started = time.monotonic()
        with anyio.fail_after(30):
            response = await client.get("/api/articles")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert list(response.json()["errors"]) == ["database"]
    assert elapsed < settings.database.connect_timeout + 3


async def test_exhausted_pool_fails_the_request_after_pool_timeout(
    migrated_data_dir: Path,
) -> None:
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5}
    settings = dev_settings(migrated_data_dir, database=pool, auth={"jwt_secret": GOOD_SECRET})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            app.state.database.engine.connect(),  # the only connection, held by someone else
        ):
            started = time.monotonic()
            with anyio.fail_after(30):
                response = await client.get("/api/articles")
            elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert list(response.json()["errors"]) == ["database"]
    assert 0.5 <= elapsed < 3


async def test_postgres_sessions_carry_the_statement_timeout(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = dev_settings(tmp_path, database={"url": postgres_url})
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            shown = (await connection.execute(text("SHOW statement_timeout"))).scalar_one()
    finally:
        await engine.dispose()

    assert shown == f"{int(settings.database.statement_timeout)}s"


async def test_statement_blocked_on_postgres_fails_instead_of_hanging(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = dev_settings(
        tmp_path,
        database={"url": postgres_url, "statement_timeout": 0.2},
        auth={"jwt_secret": GOOD_SECRET},
    )
    locker = await asyncpg.connect(postgres_url.replace("+asyncpg", ""), timeout=5)
    try:
        async with serving(settings) as client:
            async with locker.transaction():
                # Another session holds the table: every read of it now waits for that lock.
                await locker.execute("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
                started = time.monotonic()
                with anyio.fail_after(30):
                    blocked = await client.get("/api/articles")
                elapsed = time.monotonic() - started
            released = await client.get("/api/articles")
    finally:
        await locker.close()

    assert blocked.status_code == 503
    assert list(blocked.json()["errors"]) == ["database"]
    assert elapsed < 3
    assert released.status_code == 200


def test_building_the_app_writes_no_key(tmp_path: Path) -> None:
    # `pressroom openapi` builds the app without serving it: no state is created on disk.
    create_app(dev_settings(tmp_path))
    assert not (tmp_path / JWT_SECRET_FILE).exists()


@pytest.mark.parametrize("freeze", [True, False])
async def test_startup_objects_are_frozen_out_of_gc_passes_while_serving(
    migrated_data_dir: Path, freeze: bool
) -> None:
    settings = dev_settings(migrated_data_dir, server={"freeze_gc": freeze})
    assert gc.get_freeze_count() == 0
    async with serving(settings) as client:
        frozen_while_serving = gc.get_freeze_count()
        assert (await client.get("/api/tags")).status_code == 200
    assert (frozen_while_serving > 0) is freeze
    assert gc.get_freeze_count() == 0  # given back at shutdown: nothing leaks past the app
