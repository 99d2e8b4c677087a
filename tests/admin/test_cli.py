"""`pressroom create-admin`: create or promote, against the test database, then log in."""

from __future__ import annotations

import io
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from pressroom.admin.models import AuditRecord
from pressroom.cli import app as cli_app
from pressroom.cli import main
from pressroom.users.models import User
from tests.factories import PASSWORD, db_rows, login, register

NEW_PASSWORD = "a long admin password"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Pressroom = Callable[..., Awaitable[Outcome]]


@pytest.fixture
def pressroom(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clean_environment: None,
    database_url: str,
    app: FastAPI,
) -> Pressroom:
    """`pressroom <args>` in this process, on the database the app under test uses."""
    monkeypatch.setenv("PRESSROOM_DATABASE__URL", database_url)

    async def run(*args: str, stdin: str = "") -> Outcome:
        monkeypatch.setattr(sys, "argv", ["pressroom", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        with pytest.raises(SystemExit) as exited:
            # In a thread: the command runs its own event loop, as it does from a shell.
            await anyio.to_thread.run_sync(main)
        captured = capsys.readouterr()
        code = exited.value.code
        return Outcome(code if isinstance(code, int) else int(code is not None), *captured)

    return run


async def roles(app: FastAPI) -> dict[str, str]:
    return dict(await db_rows(app, select(User.username, User.role)))


async def admin_scope_works(client: httpx.AsyncClient, email: str, password: str) -> bool:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    token = {"Authorization": f"Token {response.json()['user']['token']}"}
    return (await client.get("/api/admin/users", headers=token)).status_code == 200


async def test_create_admin_reads_the_password_from_stdin(
    pressroom: Pressroom, app: FastAPI, client: httpx.AsyncClient
) -> None:
    outcome = await pressroom(
        "create-admin",
        "--username",
        "root",
        "--email",
        "Root@Example.com",
        "--password-stdin",
        stdin=f"{NEW_PASSWORD}\n",
    )

    assert outcome.code == 0, outcome.err
    assert outcome.out == "created admin root <Root@example.com>\n"
    assert NEW_PASSWORD not in outcome.out + outcome.err
    assert await roles(app) == {"root": "admin"}
    assert await admin_scope_works(client, "root@example.com", NEW_PASSWORD)
    rows = await db_rows(app, select(AuditRecord.actor_id, AuditRecord.action))
    assert rows == [(None, "user.create_admin")]


async def test_create_admin_prompts_twice_without_echoing(
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    monkeypatch.setenv("PRESSROOM_DATABASE__URL", database_url)
    args = ["create-admin", "--username", "root", "--email", "root@example.com"]

    typed = f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli_app, args, input=typed))

    assert result.exit_code == 0, result.output
    assert "created admin root" in result.output
    assert NEW_PASSWORD not in result.output
    assert await admin_scope_works(client, "root@example.com", NEW_PASSWORD)


@pytest.mark.parametrize("login_name", ["bob", "BOB@example.com"])
async def test_promote_makes_an_existing_user_an_admin(
    pressroom: Pressroom, app: FastAPI, client: httpx.AsyncClient, login_name: str
) -> None:
    await register(client, "bob")

    outcome = await pressroom("create-admin", "--promote", login_name)

    assert outcome.code == 0, outcome.err
    assert outcome.out == "promoted bob <bob@example.com> to admin\n"
    assert await admin_scope_works(client, "bob@example.com", PASSWORD)
    again = await pressroom("create-admin", "--promote", "bob")
    assert (again.code, again.out) == (0, "bob is already an admin\n")
    rows = await db_rows(app, select(AuditRecord.action, AuditRecord.target_id))
    assert rows == [("user.promote", "bob")]


BAD_INPUT = {
    "short password": (
        ["--username", "root", "--email", "root@example.com", "--password-stdin"],
        "short\n",
        "error: password is too short (minimum is 8 characters)",
    ),
    "empty password": (
        ["--username", "root", "--email", "root@example.com", "--password-stdin"],
        "",
        "error: password can't be blank",
    ),
    "bad email": (
        ["--username", "root", "--email", "not-an-email", "--password-stdin"],
        f"{NEW_PASSWORD}\n",
        "error: email is invalid",
    ),
    "bad username": (
        ["--username", "no spaces", "--email", "root@example.com", "--password-stdin"],
        f"{NEW_PASSWORD}\n",
        "error: username ",
    ),
    "taken name": (
        ["--username", "BOB", "--email", "root@example.com", "--password-stdin"],
        f"{NEW_PASSWORD}\n",
        "error: username has already been taken",
    ),
    "no email": (["--username", "root"], "", "error: --username and --email are required"),
    "unknown user": (["--promote", "nobody"], "", "error: no user with username or email"),
    "promote and create": (
        ["--promote", "bob", "--username", "root"],
        "",
        "error: --promote takes no --username",
    ),
}


@pytest.mark.parametrize(("args", "stdin", "message"), BAD_INPUT.values(), ids=list(BAD_INPUT))
async def test_bad_input_is_one_line_and_changes_nothing(
    pressroom: Pressroom,
    app: FastAPI,
    client: httpx.AsyncClient,
    args: list[str],
    stdin: str,
    message: str,
) -> None:
    await register(client, "bob")

    outcome = await pressroom("create-admin", *args, stdin=stdin)

    assert outcome.code != 0
    assert outcome.out == ""
    assert len(outcome.err.splitlines()) == 1, outcome.err
    assert outcome.err.startswith(message), outcome.err
    assert NEW_PASSWORD not in outcome.err
    assert await roles(app) == {"bob": "user"}
    assert await db_rows(app, select(AuditRecord.id)) == []
