"""Server-side sessions: listed, revoked one by one or all at once, seen by the next request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from pressroom.auth.models import Session
from pressroom.core.models import utcnow
from tests.factories import PASSWORD, Person, assert_error, register


async def login(client: httpx.AsyncClient, person: Person, agent: str = "test-agent") -> Person:
    response = await client.post(
        "/api/users/login",
        json={"user": {"email": person.email, "password": PASSWORD}},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    return Person(person.username, person.email, response.json()["user"]["token"])


async def sessions_of(client: httpx.AsyncClient, person: Person) -> list[dict[str, Any]]:
    response = await client.get("/api/auth/sessions", headers=person.auth)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["sessions"]
    return found


def sid(person: Person) -> str:
    value: str = jwt.decode(person.token, options={"verify_signature": False})["sid"]
    return value


async def works(client: httpx.AsyncClient, person: Person) -> bool:
    response = await client.get("/api/user", headers=person.auth)
    if response.status_code == 401:
        assert_error(response, 401, "token", "is invalid")
        return False
    assert response.status_code == 200, response.text
    return True


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Person:
    return await register(client, "alice")


async def test_every_login_is_a_session_with_its_client(
    client: httpx.AsyncClient, alice: Person
) -> None:
    phone = await login(client, alice, agent="Phone/1.0")
    listed = await sessions_of(client, phone)
    assert [row["id"] for row in listed if row["current"]] == [sid(phone)]
    assert {row["id"] for row in listed} == {sid(alice), sid(phone)}
    mine = next(row for row in listed if row["current"])
    assert mine["userAgent"] == "Phone/1.0"
    assert mine["ip"] == "127.0.0.1"
    assert mine["kind"] == "conduit"
    assert set(mine) == {
        "id", "kind", "createdAt", "lastSeenAt", "expiresAt", "userAgent", "ip", "scopes",
        "current",
    }  # fmt: skip


async def test_a_conduit_token_lives_as_long_as_its_session(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600
    async with app.state.database.session(readonly=True) as session:
        row = await session.get(Session, sid(alice))
    assert row is not None
    assert abs(row.expires_at.timestamp() - claims["exp"]) < 1


async def test_revoking_one_session_ends_only_that_one(
    client: httpx.AsyncClient, alice: Person
) -> None:
    laptop = await login(client, alice)
    response = await client.delete(f"/api/auth/sessions/{sid(laptop)}", headers=alice.auth)
    assert response.status_code == 204
    assert not await works(client, laptop)
    assert await works(client, alice)
    assert [row["id"] for row in await sessions_of(client, alice)] == [sid(alice)]


async def test_another_users_session_is_not_found_and_stays(
    client: httpx.AsyncClient, alice: Person
) -> None:
    bob = await register(client, "bob")
    response = await client.delete(f"/api/auth/sessions/{sid(bob)}", headers=alice.auth)
    assert_error(response, 404, "session", "not found")
    assert await works(client, bob)


async def test_revoking_twice_is_not_found(client: httpx.AsyncClient, alice: Person) -> None:
    laptop = await login(client, alice)
    path = f"/api/auth/sessions/{sid(laptop)}"
    assert (await client.delete(path, headers=alice.auth)).status_code == 204
    assert_error(await client.delete(path, headers=alice.auth), 404, "session", "not found")


async def test_logout_ends_the_session_of_the_token(
    client: httpx.AsyncClient, alice: Person
) -> None:
    laptop = await login(client, alice)
    assert (await client.post("/api/auth/logout", headers=laptop.auth)).status_code == 204
    assert not await works(client, laptop)
    assert await works(client, alice)
    # logging out again with the dead token is a 401, not a 500 or a 204
    assert_error(await client.post("/api/auth/logout", headers=laptop.auth), 401, "token")


async def test_log_out_everywhere(client: httpx.AsyncClient, alice: Person) -> None:
    others = [await login(client, alice) for _ in range(3)]
    bob = await register(client, "bob")
    assert (await client.post("/api/auth/logout-all", headers=alice.auth)).status_code == 204
    for person in [alice, *others]:
        assert not await works(client, person)
    assert await works(client, bob)
    fresh = await login(client, alice)
    assert await works(client, fresh)


async def test_a_new_password_ends_every_other_session(
    client: httpx.AsyncClient, alice: Person
) -> None:
    laptop = await login(client, alice)
    phone = await login(client, alice)
    response = await client.put(
        "/api/user", json={"user": {"password": "a brand new password"}}, headers=laptop.auth
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["token"] == laptop.token
    assert await works(client, laptop)
    assert not await works(client, phone)
    assert not await works(client, alice)


async def test_other_changes_end_no_session(client: httpx.AsyncClient, alice: Person) -> None:
    laptop = await login(client, alice)
    response = await client.put("/api/user", json={"user": {"bio": "hi"}}, headers=laptop.auth)
    assert response.status_code == 200
    assert await works(client, alice)


async def test_a_session_revoked_in_the_database_is_refused_at_once(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    # What another worker's logout looks like to this one: only the row changed.
    async with app.state.database.session() as session:
        await session.execute(update(Session).values(revoked_at=utcnow()))
    assert not await works(client, alice)


async def test_an_expired_session_is_refused(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    async with app.state.database.session() as session:
        await session.execute(update(Session).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert not await works(client, alice)


async def test_last_seen_is_kept_without_a_write_per_request(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    long_ago = utcnow() - timedelta(hours=1)
    async with app.state.database.session() as session:
        await session.execute(update(Session).values(last_seen_at=long_ago))
    assert await works(client, alice)
    await app.state.background.drain()
    async with app.state.database.session(readonly=True) as session:
        seen = await session.scalar(select(Session.last_seen_at))
    assert seen is not None
    assert seen > long_ago + timedelta(minutes=59)
    # within session_touch_seconds (5 minutes) the next requests write nothing
    for _ in range(3):
        assert await works(client, alice)
    await app.state.background.drain()
    async with app.state.database.session(readonly=True) as session:
        assert await session.scalar(select(Session.last_seen_at)) == seen


async def test_sessions_need_a_token(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/auth/sessions"),
        ("POST", "/api/auth/logout"),
        ("POST", "/api/auth/logout-all"),
        ("DELETE", "/api/auth/sessions/" + "A" * 22),
    ]:
        assert_error(await client.request(method, path), 401, "token", "is missing")


@pytest.mark.parametrize("bad", ["short", "A" * 23, "A" * 21 + "!"])
async def test_a_malformed_session_id_is_422(
    client: httpx.AsyncClient, alice: Person, bad: str
) -> None:
    response = await client.delete(f"/api/auth/sessions/{bad}", headers=alice.auth)
    assert_error(response, 422, "session_id")
