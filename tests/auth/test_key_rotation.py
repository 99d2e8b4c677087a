"""Rotating the JWT signing key (`auth.jwt_previous_secrets`) without logging anybody out, and
ending every session at once when a key leaks (the runbook in docs/operations.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pressroom.main import create_app
from tests.auth.test_oauth import refresh, tokens_for
from tests.conftest import base_settings
from tests.factories import Person, assert_error, login, register

OLD = "old-signing-key-" + "o" * 40
NEW = "new-signing-key-" + "n" * 40
UNKNOWN = "unknown-signing-key-" + "u" * 40
OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"
# Copied from docs/operations.md ("The key leaked").
REVOKE_EVERY_SESSION = (
    "UPDATE sessions SET revoked_at = CURRENT_TIMESTAMP WHERE revoked_at IS NULL;"
)


@asynccontextmanager
async def serving(
    database_url: str, data_dir: Path, secret: str, previous: list[str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An instance of the app on the shared database, as one deployment step runs it."""
    auth = {"jwt_secret": secret, "jwt_previous_secrets": previous or []}
    app = create_app(base_settings(data_dir, database_url, auth=auth))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def end_every_session(database_url: str) -> None:
    """The runbook's statement, run from outside the app as an operator would."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(REVOKE_EVERY_SESSION))
    finally:
        await engine.dispose()


def signed_with(token: str, key: str) -> dict[str, str]:
    """The same header and claims, signed with another key: only the signature differs."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, key, algorithm="HS256", headers={"typ": header["typ"]})
    return {"Authorization": f"Token {forged}"}


def key_of(token: str) -> str:
    for key in (OLD, NEW):
        try:
            jwt.decode(token, key, algorithms=["HS256"], audience="pressroom-api")
        except jwt.InvalidSignatureError:
            continue
        return key
    raise AssertionError("signed with neither key")


async def current_user(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/api/user", headers=headers)


async def test_rotation_keeps_everybody_logged_in_until_the_old_key_goes(
    database_url: str, tmp_path: Path
) -> None:
    async with serving(database_url, tmp_path, OLD) as before:
        alice = await register(before, "alice")
    assert key_of(alice.token) == OLD

    async with serving(database_url, tmp_path, NEW, previous=[OLD]) as rotated:
        assert (await current_user(rotated, alice.auth)).status_code == 200
        answer = await login(rotated, alice.email)
        assert answer.status_code == 200, answer.text
        again = Person("alice", alice.email, answer.json()["user"]["token"])
        assert key_of(again.token) == NEW  # new tokens use the current key only

    async with serving(database_url, tmp_path, NEW) as after:
        assert_error(await current_user(after, alice.auth), 401, "token", "is invalid")
        assert (await current_user(after, again.auth)).status_code == 200


async def test_only_a_current_or_previous_key_is_accepted(
    database_url: str, tmp_path: Path
) -> None:
    async with serving(database_url, tmp_path, NEW, previous=[OLD]) as client:
        alice = await register(client, "alice")

        for key in (NEW, OLD):
            assert (await current_user(client, signed_with(alice.token, key))).status_code == 200
        answer = await current_user(client, signed_with(alice.token, UNKNOWN))

    assert_error(answer, 401, "token", "is invalid")


async def test_an_expired_token_stays_refused_under_a_previous_key(
    database_url: str, tmp_path: Path
) -> None:
    async with serving(database_url, tmp_path, NEW, previous=[OLD]) as client:
        alice = await register(client, "alice")
        claims: dict[str, Any] = jwt.decode(alice.token, options={"verify_signature": False})
        claims["exp"] = claims["iat"] - 3600
        expired = jwt.encode(claims, OLD, algorithm="HS256", headers={"typ": "at+jwt"})

        answer = await current_user(client, {"Authorization": f"Token {expired}"})

    assert_error(answer, 401, "token", "is invalid")


@pytest.mark.parametrize("previous", [[], [OLD]], ids=["without", "with previous keys"])
async def test_the_runbooks_statement_ends_every_session_at_once(
    database_url: str, tmp_path: Path, previous: list[str]
) -> None:
    async with serving(database_url, tmp_path, NEW, previous=previous) as client:
        alice = await register(client, "alice")
        await register(client, "bob")
        oauth = await tokens_for(client, "bob")
        bearer = {"Authorization": f"Bearer {oauth['access_token']}"}
        assert (await current_user(client, bearer)).status_code == 200

        assert REVOKE_EVERY_SESSION in OPERATIONS.read_text(encoding="utf-8")
        await end_every_session(database_url)

        assert_error(await current_user(client, alice.auth), 401, "token", "is invalid")
        assert_error(await current_user(client, bearer), 401, "token", "is invalid")
        assert (await refresh(client, oauth["refresh_token"])).status_code == 400
