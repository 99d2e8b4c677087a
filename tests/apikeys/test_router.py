"""API keys: made, listed and revoked with a session token; used with `X-API-Key`."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Executable, func, select, update

from pressroom.apikeys.models import ApiKey
from pressroom.apikeys.service import MAX_LIVE_KEYS
from pressroom.articles.models import Article
from pressroom.core.db import Database
from pressroom.users.models import User
from tests.factories import PASSWORD, TIMESTAMP, Person, assert_error, db_rows, register

KEYS = "/api/auth/api-keys"
USER_SCOPES = ["articles:write", "comments:write", "profile:write"]
LISTED = {"id", "name", "prefix", "scopes", "createdAt", "expiresAt", "lastUsedAt", "revokedAt"}
ARTICLE = {"article": {"title": "By a robot", "description": "automated", "body": "beep"}}


async def make_key(client: httpx.AsyncClient, owner: Person, **fields: Any) -> dict[str, Any]:
    body = {"apiKey": {"name": "bot", **fields}}
    response = await client.post(KEYS, json=body, headers=owner.auth)
    assert response.status_code == 201, response.text
    key: dict[str, Any] = response.json()["apiKey"]
    return key


def secret_of(plaintext: str) -> str:
    """The part after `prk_<12 hex>_` (the secret itself may contain `_`)."""
    return plaintext[len("prk_") + 12 + 1 :]


def key_auth(key: dict[str, Any]) -> dict[str, str]:
    return {"X-API-Key": key["key"]}


async def db_write(app: FastAPI, statement: Executable) -> None:
    """A change written straight to the database, as an operator or another worker would."""
    database: Database = app.state.database
    async with database.session() as session:
        await session.execute(statement)


async def listed(client: httpx.AsyncClient, owner: Person) -> list[dict[str, Any]]:
    response = await client.get(KEYS, headers=owner.auth)
    assert response.status_code == 200, response.text
    keys: list[dict[str, Any]] = response.json()["apiKeys"]
    return keys


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Person:
    return await register(client, "alice")


# ---------------------------------------------------------------- making and listing
async def test_a_new_key_is_shown_once_and_listed_without_its_secret(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    response = await client.post(KEYS, json={"apiKey": {"name": "deploy"}}, headers=alice.auth)
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    created = response.json()["apiKey"]
    assert set(created) == LISTED | {"key"}
    assert created["key"].startswith(f"{created['prefix']}_")
    assert len(created["key"]) == len("prk_") + 12 + 1 + 43
    assert created["name"] == "deploy"
    assert created["scopes"] == USER_SCOPES  # by default, every scope the owner holds
    assert TIMESTAMP.match(created["createdAt"])
    assert created["expiresAt"] is created["lastUsedAt"] is created["revokedAt"] is None

    listing = await client.get(KEYS, headers=alice.auth)
    secret = secret_of(created["key"])
    assert secret not in listing.text
    [shown] = listing.json()["apiKeys"]
    assert shown == {name: created[name] for name in LISTED}

    [(stored_hash,)] = await db_rows(app, select(ApiKey.secret_hash))
    assert stored_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored_hash not in response.text + listing.text


async def test_a_key_has_the_scopes_asked_for_and_an_expiry(
    client: httpx.AsyncClient, alice: Person
) -> None:
    expires = datetime.now(UTC) + timedelta(days=30, hours=1)
    in_paris = expires.astimezone(timezone(timedelta(hours=2)))  # any zone: answered in UTC
    key = await make_key(
        client,
        alice,
        scopes=["comments:write", "articles:write", "comments:write"],
        expiresAt=in_paris.isoformat(),
    )
    assert key["scopes"] == ["articles:write", "comments:write"]
    assert key["expiresAt"] == expires.isoformat(timespec="milliseconds")[:-6] + "Z"


async def test_keys_are_listed_oldest_first_and_only_the_owners(
    client: httpx.AsyncClient, alice: Person
) -> None:
    bob = await register(client, "bob")
    first = await make_key(client, alice, name="first")
    await make_key(client, bob, name="bob's")
    second = await make_key(client, alice, name="second")
    assert [key["id"] for key in await listed(client, alice)] == [first["id"], second["id"]]
    assert [key["name"] for key in await listed(client, bob)] == ["bob's"]


async def test_an_admin_may_give_a_key_the_admin_scope(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    boss = await register(client, "boss")
    await db_write(app, update(User).where(User.username == "boss").values(role="admin"))
    boss = Person(boss.username, boss.email, await _login(client, boss))  # now holds admin
    assert (await make_key(client, boss, scopes=["admin"]))["scopes"] == ["admin"]
    assert "admin" in (await make_key(client, boss))["scopes"]


async def _login(client: httpx.AsyncClient, person: Person) -> str:
    body = {"user": {"email": person.email, "password": PASSWORD}}
    response = await client.post("/api/users/login", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["user"]["token"]
    return token


# ---------------------------------------------------------------- bad input
def _in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"scopes": ["admin"]}, "scopes", "not allowed for your account: admin"),
        ({"scopes": ["articles:write", "admin"]}, "scopes", "not allowed for your account: admin"),
        ({"scopes": ["articles:read"]}, "scopes", ""),
        ({"scopes": "articles:write"}, "scopes", ""),
        ({"name": ""}, "name", "can't be blank"),
        ({"name": "   "}, "name", "can't be blank"),
        ({"name": "x" * 65}, "name", "is too long (maximum is 64 characters)"),
        ({"name": "two\nlines"}, "name", ""),
        ({"expiresAt": _in_days(-1)}, "expiresAt", "must be in the future"),
        ({"expiresAt": _in_days(366)}, "expiresAt", "must be at most 365 days from now"),
        ({"expiresAt": "2030-01-01T00:00:00"}, "expiresAt", ""),  # no time zone
        ({"expiresAt": 4102444800}, "expiresAt", ""),  # a number, not a timestamp
        ({"expiresAt": "next week"}, "expiresAt", ""),
    ],
    ids=lambda value: str(value)[:40],
)
async def test_bad_input_is_422_naming_the_field_and_makes_no_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: Person,
    fields: dict[str, Any],
    key: str,
    message: str,
) -> None:
    body = {"apiKey": {"name": "bot", **fields}}
    response = await client.post(KEYS, json=body, headers=alice.auth)
    assert_error(response, 422, key, message)
    assert await db_rows(app, select(ApiKey.id)) == []


async def test_live_keys_are_capped_per_user(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    keys = [await make_key(client, alice, name=f"key {n}") for n in range(MAX_LIVE_KEYS)]
    response = await client.post(KEYS, json={"apiKey": {"name": "one more"}}, headers=alice.auth)
    assert_error(response, 409, "apiKeys", "limit of 20 live keys reached: revoke one first")
    # Revoked and expired keys do not count.
    assert (await client.delete(f"{KEYS}/{keys[0]['id']}", headers=alice.auth)).status_code == 204
    await make_key(client, alice, name="replaces a revoked one")
    past = datetime.now(UTC) - timedelta(minutes=1)
    await db_write(app, update(ApiKey).where(ApiKey.id == keys[1]["id"]).values(expires_at=past))
    await make_key(client, alice, name="replaces an expired one")
    # Another user has a cap of their own.
    await make_key(client, await register(client, "bob"))


async def test_the_cap_holds_under_concurrent_requests(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    for n in range(MAX_LIVE_KEYS - 3):
        await make_key(client, alice, name=f"key {n}")
    responses = await asyncio.gather(
        *(
            client.post(KEYS, json={"apiKey": {"name": f"racer {n}"}}, headers=alice.auth)
            for n in range(6)
        )
    )
    assert sorted(response.status_code for response in responses) == [201] * 3 + [409] * 3
    [(count,)] = await db_rows(app, select(func.count()).select_from(ApiKey))
    assert count == MAX_LIVE_KEYS


# ---------------------------------------------------------------- using a key
async def test_a_key_acts_as_its_owner_within_its_scopes(
    client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice, scopes=["articles:write"])
    response = await client.post("/api/articles", json=ARTICLE, headers=key_auth(key))
    assert response.status_code == 201, response.text
    assert response.json()["article"]["author"]["username"] == "alice"
    me = await client.get("/api/user", headers=key_auth(key))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "alice"


async def test_a_key_without_the_scope_is_403_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice, scopes=["comments:write"])
    response = await client.post("/api/articles", json=ARTICLE, headers=key_auth(key))
    assert_error(response, 403, "scope", "requires articles:write")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert await db_rows(app, select(Article.id)) == []


async def test_a_key_with_no_scopes_only_reads(client: httpx.AsyncClient, alice: Person) -> None:
    key = await make_key(client, alice, scopes=[])
    assert key["scopes"] == []
    assert (await client.get("/api/articles/feed", headers=key_auth(key))).status_code == 200
    response = await client.put("/api/user", json={"user": {"bio": "x"}}, headers=key_auth(key))
    assert_error(response, 403, "scope", "requires profile:write")


async def test_a_key_may_change_the_bio_but_not_email_or_password(
    client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice, scopes=["profile:write"])
    bio = await client.put("/api/user", json={"user": {"bio": "A bot"}}, headers=key_auth(key))
    assert bio.status_code == 200, bio.text
    assert bio.json()["user"]["bio"] == "A bot"
    for change in [{"email": "mallory@example.com"}, {"password": "taken over!"}]:
        response = await client.put("/api/user", json={"user": change}, headers=key_auth(key))
        assert_error(response, 403, "scope")
    me = await client.get("/api/user", headers=alice.auth)
    assert me.json()["user"]["email"] == "alice@example.com"
    assert await _login(client, alice)  # the password is unchanged


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: "not-a-key",
        lambda key: key + "x",  # malformed: too long
        lambda key: key.upper(),  # malformed: the prefix is lower-case hex
        lambda key: "prk_" + "0" * 12 + key[16:],  # an unknown prefix
        lambda key: key[:17] + ("A" if key[17] != "A" else "B") + key[18:],  # a wrong secret
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # a wrong secret
    ],
    ids=["garbage", "too long", "upper case", "unknown prefix", "wrong secret", "last char"],
)
async def test_a_bad_key_is_401(client: httpx.AsyncClient, alice: Person, mangle: Any) -> None:
    key = (await make_key(client, alice))["key"]
    response = await client.get("/api/user", headers={"X-API-Key": mangle(key)})
    assert_error(response, 401, "api_key", "is invalid")
    # A bad key is a 401 where authentication is optional too: never silently anonymous.
    response = await client.get("/api/articles", headers={"X-API-Key": mangle(key)})
    assert_error(response, 401, "api_key", "is invalid")


async def test_a_revoked_key_is_401_at_once_and_stays_listed(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice)
    assert (await client.get("/api/user", headers=key_auth(key))).status_code == 200
    await app.state.background.drain()  # the last-used time is written by then
    response = await client.delete(f"{KEYS}/{key['id']}", headers=alice.auth)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await client.get("/api/user", headers=key_auth(key)), 401, "api_key")
    [shown] = await listed(client, alice)
    assert TIMESTAMP.match(shown["revokedAt"])
    # Revoking it again changes nothing, not even the time.
    assert (await client.delete(f"{KEYS}/{key['id']}", headers=alice.auth)).status_code == 204
    assert (await listed(client, alice))[0]["revokedAt"] == shown["revokedAt"]


async def test_an_expired_key_is_401(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice, expiresAt=_in_days(1))
    assert (await client.get("/api/user", headers=key_auth(key))).status_code == 200
    past = datetime.now(UTC) - timedelta(seconds=1)
    await db_write(app, update(ApiKey).where(ApiKey.id == key["id"]).values(expires_at=past))
    assert_error(await client.get("/api/user", headers=key_auth(key)), 401, "api_key")
    [shown] = await listed(client, alice)
    assert shown["expiresAt"] is not None
    assert shown["revokedAt"] is None


async def test_the_key_of_a_suspended_user_is_401(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice)
    await db_write(app, update(User).values(suspended_at=datetime.now(UTC)))
    assert_error(await client.get("/api/user", headers=key_auth(key)), 401, "api_key")


async def test_using_a_key_records_when(
    app: FastAPI, client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice)
    assert (await client.get("/api/user", headers=key_auth(key))).status_code == 200
    await app.state.background.drain()
    [shown] = await listed(client, alice)
    assert TIMESTAMP.match(shown["lastUsedAt"])
    assert shown["lastUsedAt"] >= shown["createdAt"]


# ---------------------------------------------------------------- what a key cannot do
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", KEYS),
        ("GET", KEYS),
        ("DELETE", f"{KEYS}/{{id}}"),
        ("GET", "/api/auth/sessions"),
        ("POST", "/api/auth/logout-all"),
    ],
)
async def test_a_key_cannot_manage_keys_or_sessions(
    app: FastAPI, client: httpx.AsyncClient, alice: Person, method: str, path: str
) -> None:
    key = await make_key(client, alice)
    body = {"apiKey": {"name": "child"}} if method == "POST" else None
    response = await client.request(
        method, path.format(id=key["id"]), json=body, headers=key_auth(key)
    )
    assert_error(response, 403, "scope", "needs a session token, not an API key")
    [(revoked_at,)] = await db_rows(app, select(ApiKey.revoked_at))
    assert revoked_at is None
    assert len(await listed(client, alice)) == 1


async def test_another_users_key_is_404_and_stays_live(
    client: httpx.AsyncClient, alice: Person
) -> None:
    key = await make_key(client, alice)
    bob = await register(client, "bob")
    for key_id in [key["id"], key["id"] + 1000]:  # someone else's, or none: the same answer
        response = await client.delete(f"{KEYS}/{key_id}", headers=bob.auth)
        assert_error(response, 404, "apiKey", "not found")
    assert (await client.get("/api/user", headers=key_auth(key))).status_code == 200
    [shown] = await listed(client, alice)
    assert shown["revokedAt"] is None


async def test_key_management_needs_a_login(client: httpx.AsyncClient, alice: Person) -> None:
    key = await make_key(client, alice)
    for method, path in [("POST", KEYS), ("GET", KEYS), ("DELETE", f"{KEYS}/{key['id']}")]:
        response = await client.request(method, path, json={"apiKey": {"name": "x"}})
        assert_error(response, 401, "token", "is missing")
    assert len(await listed(client, alice)) == 1


# ---------------------------------------------------------------- secrets stay secret
async def test_key_secrets_never_reach_the_logs(
    app: FastAPI, client: httpx.AsyncClient, alice: Person, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = await make_key(client, alice, scopes=["articles:write"])
    assert (await client.post("/api/articles", json=ARTICLE, headers=key_auth(key))).is_success
    wrong = key["key"][:-1] + ("A" if key["key"][-1] != "A" else "B")
    await client.get("/api/user", headers={"X-API-Key": wrong})
    await app.state.background.drain()
    secret = secret_of(key["key"])
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    assert caplog.records  # the capture works: requests are logged
    assert secret not in logged
    assert secret[:-1] not in logged
    assert key["key"] not in logged
