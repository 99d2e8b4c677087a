"""The `pressroom` command: help, migrate, openapi, and one-line errors from the real process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from pressroom.cli import main
from pressroom.core import migrations
from pressroom.core.settings import Settings
from tests.core.log_capture import restored_logging
from tests.core.test_settings import PRODUCTION_REFUSALS, UNKNOWN_DATABASE_URLS


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Pressroom = Callable[..., Outcome]


# No PRESSROOM_* variable or `.env` file of the developer's leaks into these tests.
pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.fixture
def pressroom(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Pressroom:
    """Runs the command's entry point in this process, as `pressroom <args>` would."""

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["pressroom", *args])
        # A command may set up the process's log pipeline on the captured stdout, which is
        # closed after the test: later tests must not log into it.
        with restored_logging(), pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        code = exited.value.code
        return Outcome(code if isinstance(code, int) else int(code is not None), *captured)

    return run


def run_process(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m pressroom <args>` as a separate process with exactly these PRESSROOM_* values."""
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith("PRESSROOM_")
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pressroom", *args],
        env={**inherited, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def schema_version(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    connection.close()
    return str(row[0])


# ---------------------------------------------------------------- help
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["serve", "worker", "migrate", "openapi"]),
        (["serve"], ["--host", "--port", "--workers", "--reload"]),
        (["worker"], ["--once", "SIGTERM"]),
        (["migrate"], ["revision", "[default: head]"]),
        (["openapi"], ["--output"]),
    ],
    ids=["pressroom", "serve", "worker", "migrate", "openapi"],
)
def test_help_describes_each_command(
    pressroom: Pressroom, args: list[str], expected: list[str]
) -> None:
    outcome = pressroom(*args, "--help")

    assert outcome.code == 0
    for word in expected:
        assert word in outcome.out


# ---------------------------------------------------------------- migrate
@pytest.mark.parametrize("configured_by", ["PRESSROOM_DATA_DIR", "PRESSROOM_DATABASE__URL"])
def test_migrate_brings_the_configured_database_to_head(
    pressroom: Pressroom, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, configured_by: str
) -> None:
    if configured_by == "PRESSROOM_DATA_DIR":
        database = tmp_path / "state" / "pressroom.db"
        monkeypatch.setenv(configured_by, str(database.parent))
    else:
        database = tmp_path / "elsewhere.db"
        monkeypatch.setenv(configured_by, f"sqlite+aiosqlite:///{database}")
    head = migrations.head_revision(Settings())

    outcome = pressroom("migrate")

    assert outcome.code == 0, outcome.err
    assert str(database) in outcome.out
    assert schema_version(database) == head
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        database.relative_to(tmp_path).parts[0]
    ]


def test_migrate_twice_keeps_the_data(
    pressroom: Pressroom, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRESSROOM_DATA_DIR", str(tmp_path))
    database = tmp_path / "pressroom.db"
    assert pressroom("migrate").code == 0
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO tags (name) VALUES ('kept')")
    connection.close()

    again = pressroom("migrate")

    assert again.code == 0, again.err
    assert schema_version(database) == migrations.head_revision(Settings())
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT name FROM tags").fetchall() == [("kept",)]
    connection.close()


# ---------------------------------------------------------------- openapi
def test_openapi_writes_the_schema_without_touching_the_database(
    pressroom: Pressroom, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRESSROOM_DATA_DIR", str(tmp_path / "data"))
    output = tmp_path / "schema" / "openapi.json"
    output.parent.mkdir()

    outcome = pressroom("openapi", "-o", str(output))

    assert outcome.code == 0, outcome.err
    assert str(output) in outcome.out
    schema = orjson.loads(output.read_bytes())
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Pressroom"
    assert {
        "/api/users",
        "/api/users/login",
        "/api/user",
        "/api/profiles/{username}",
        "/api/articles",
        "/api/articles/feed",
        "/api/articles/{slug}",
        "/api/articles/{slug}/comments",
        "/api/tags",
    } <= set(schema["paths"])
    assert not (tmp_path / "data" / "pressroom.db").exists()


# ---------------------------------------------------------------- errors: one line, no traceback
ONE_LINE_ERRORS: dict[str, tuple[list[str], dict[str, str], str]] = {
    "migrate against unreachable Postgres": (
        ["migrate"],
        {"PRESSROOM_DATABASE__URL": "postgresql+asyncpg://postgres@127.0.0.1:1/pressroom"},
        "Connect call failed ('127.0.0.1', 1)",
    ),
    **{
        f"unknown database scheme {url.split(':', 1)[0]}": (
            ["serve"],
            {"PRESSROOM_DATABASE__URL": url},
            "database URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
        )
        for url in UNKNOWN_DATABASE_URLS
    },
    "port out of range": (["serve", "--port", "70000"], {}, "(server.port)"),
    **{
        f"production with {name}": (["serve"], {"PRESSROOM_ENV": "production", **env}, reason)
        for name, (env, reason) in PRODUCTION_REFUSALS.items()
    },
}


@pytest.mark.parametrize(
    ("args", "env", "reason"), list(ONE_LINE_ERRORS.values()), ids=list(ONE_LINE_ERRORS)
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], reason: str
) -> None:
    result = run_process(*args, env={"PRESSROOM_DATA_DIR": str(tmp_path), **env}, cwd=tmp_path)

    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert reason in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
