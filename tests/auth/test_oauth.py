"""The OAuth2 token endpoint: password and refresh grants, scopes, rotation, reuse detection."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from pressroom.articles.models import Article
from pressroom.auth.models import RefreshToken, Session
from pressroom.core.models import utcnow
from pressroom.users.models import User
from tests.factories import PASSWORD, Person, assert_error, register

USER_SCOPES = "articles:write comments:write profile:write"


async def password_grant(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **fields: str
) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password, **fields}
    return await client.post("/api/auth/token", data=form)


async def tokens_for(client: httpx.AsyncClient, username: str, **fields: str) -> dict[str, Any]:
    response = await password_grant(client, username, **fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", data={"refresh_token": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_oauth_error(response: httpx.Response, code: str, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == code, body
    assert list(body["errors"]) == [field], body


async def count(app: FastAPI, model: Any) -> int:
    async with app.state.database.session(readonly=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Person:
    return await register(client, "alice")


# ---------------------------------------------------------------- password grant
@pytest.mark.parametrize("login", ["alice@example.com", "ALICE@example.com", "alice"])
async def test_password_grant_by_email_or_username(
    client: httpx.AsyncClient, alice: Person, login: str
) -> None:
    response = await password_grant(client, login)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "bearer"
    assert 890 <= body["expires_in"] <= 900  # 15 minutes by default
    assert body["scope"] == USER_SCOPES
    assert response.headers["cache-control"] == "no-store"
    me = await client.get("/api/user", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "alice"
    assert me.json()["user"]["token"] == body["access_token"]


async def test_access_token_carries_session_and_scopes(
    client: httpx.AsyncClient, alice: Person
) -> None:
    body = await tokens_for(client, "alice")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    assert claims["sub"] == "1"
    assert claims["scope"] == USER_SCOPES
    assert claims["exp"] - claims["iat"] == 900
    assert len(claims["sid"]) == 22


async def test_unknown_account_and_wrong_password_answer_alike(
    client: httpx.AsyncClient, alice: Person
) -> None:
    unknown = await password_grant(client, "nobody@example.com")
    wrong = await password_grant(client, "alice@example.com", "not the password")
    assert_oauth_error(unknown, "invalid_grant", "credentials")
    assert unknown.content == wrong.content
    assert unknown.headers.get("www-authenticate") == wrong.headers.get("www-authenticate")


async def test_missing_credentials_are_invalid_grant(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/token", data={"grant_type": "password"})
    assert_oauth_error(response, "invalid_grant", "credentials")


async def test_unsupported_grant_type(client: httpx.AsyncClient, alice: Person) -> None:
    response = await client.post(
        "/api/auth/token", data={"grant_type": "client_credentials", "username": "alice"}
    )
    assert_oauth_error(response, "unsupported_grant_type", "grant_type")


async def test_missing_grant_type_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/token", data={"username": "a", "password": "b"})
    assert_error(response, 422, "grant_type")


async def test_json_instead_of_a_form_is_422(client: httpx.AsyncClient, alice: Person) -> None:
    response = await client.post(
        "/api/auth/token",
        json={"grant_type": "password", "username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 422, response.text
    assert "errors" in response.json()


# ---------------------------------------------------------------- scopes
async def test_a_narrower_scope_is_granted_when_asked(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    body = await tokens_for(client, "alice", scope="comments:write")
    assert body["scope"] == "comments:write"
    response = await client.post(
        "/api/articles",
        json={"article": {"title": "T", "description": "d", "body": "b"}},
        headers=bearer(body["access_token"]),
    )
    assert_error(response, 403, "scope", "requires articles:write")
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="articles:write"' in challenge
    assert await count(app, Article) == 0


@pytest.mark.parametrize("scope", ["admin", "articles:write admin", "everything"])
async def test_a_user_cannot_ask_for_more_than_their_role_holds(
    client: httpx.AsyncClient, app: FastAPI, alice: Person, scope: str
) -> None:
    response = await password_grant(client, "alice", scope=scope)
    assert_oauth_error(response, "invalid_scope", "scope")
    assert await count(app, Session) == 1  # registration's session only


async def test_demoting_an_admin_takes_admin_away_at_once(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    async with app.state.database.session() as session:
        await session.execute(update(User).values(role="admin"))
    body = await tokens_for(client, "alice")
    assert "admin" in body["scope"].split()
    async with app.state.database.session() as session:
        await session.execute(update(User).values(role="user"))
    # The token still says admin; the role decides: the scopes are their intersection.
    caller = await client.get("/api/user", headers=bearer(body["access_token"]))
    assert caller.status_code == 200


# ---------------------------------------------------------------- refresh rotation
async def test_refresh_rotates_both_tokens(client: httpx.AsyncClient, alice: Person) -> None:
    first = await tokens_for(client, "alice")
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    claims = [
        jwt.decode(body["access_token"], options={"verify_signature": False})
        for body in (first, second)
    ]
    assert claims[0]["sid"] == claims[1]["sid"]  # the same session goes on
    assert (await client.get("/api/user", headers=bearer(second["access_token"]))).is_success


async def test_refresh_grant_at_the_token_endpoint(
    client: httpx.AsyncClient, alice: Person
) -> None:
    first = await tokens_for(client, "alice")
    response = await client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert response.status_code == 200, response.text


async def test_a_reused_refresh_token_revokes_the_whole_session(
    client: httpx.AsyncClient, alice: Person
) -> None:
    first = await tokens_for(client, "alice")
    second = (await refresh(client, first["refresh_token"])).json()
    reuse = await refresh(client, first["refresh_token"])
    assert_oauth_error(reuse, "invalid_grant", "grant")
    # Everything the session holds is dead: the newest access and refresh tokens too.
    me = await client.get("/api/user", headers=bearer(second["access_token"]))
    assert_error(me, 401, "token", "is invalid")
    assert_oauth_error(await refresh(client, second["refresh_token"]), "invalid_grant", "grant")
    # Other sessions of the user are untouched.
    assert (await client.get("/api/user", headers=alice.auth)).is_success


async def test_ten_concurrent_refreshes_give_exactly_one_success(
    client: httpx.AsyncClient, alice: Person
) -> None:
    first = await tokens_for(client, "alice")
    answers = await asyncio.gather(*(refresh(client, first["refresh_token"]) for _ in range(10)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [400] * 9, [answer.text for answer in answers]


@pytest.mark.parametrize(
    "token", ["", "not-a-refresh-token", "A" * 43, "x" * 4096], ids=["empty", "junk", "43", "4k"]
)
async def test_unknown_refresh_tokens_are_invalid_grant(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await refresh(client, token)
    if token:
        assert_oauth_error(response, "invalid_grant", "grant")
    else:
        assert response.status_code in (400, 422)


async def test_an_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, alice: Person
) -> None:
    body = await tokens_for(client, "alice")
    assert_oauth_error(await refresh(client, body["access_token"]), "invalid_grant", "grant")


async def test_a_refresh_token_is_not_an_access_token(
    client: httpx.AsyncClient, alice: Person
) -> None:
    body = await tokens_for(client, "alice")
    response = await client.get("/api/user", headers=bearer(body["refresh_token"]))
    assert_error(response, 401, "token", "is invalid")


async def test_no_refresh_after_the_session_expired(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    body = await tokens_for(client, "alice")
    async with app.state.database.session() as session:
        await session.execute(update(Session).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_oauth_error(await refresh(client, body["refresh_token"]), "invalid_grant", "grant")


async def test_no_refresh_for_a_suspended_user(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    body = await tokens_for(client, "alice")
    async with app.state.database.session() as session:
        await session.execute(update(User).values(suspended_at=utcnow()))
    assert_oauth_error(await refresh(client, body["refresh_token"]), "invalid_grant", "grant")
    # and no login either, told only to whoever knows the password
    assert_oauth_error(await password_grant(client, "alice"), "invalid_grant", "account")
    login = await client.post(
        "/api/users/login", json={"user": {"email": "alice@example.com", "password": PASSWORD}}
    )
    assert_error(login, 403, "account", "is suspended")


async def test_refresh_tokens_are_stored_only_as_hashes(
    client: httpx.AsyncClient, app: FastAPI, alice: Person
) -> None:
    body = await tokens_for(client, "alice")
    async with app.state.database.session(readonly=True) as session:
        stored = set((await session.scalars(select(RefreshToken.token_hash))).all())
    assert stored == {hashlib.sha256(body["refresh_token"].encode()).hexdigest()}


# ---------------------------------------------------------------- Swagger UI's Authorize
def test_the_security_scheme_points_swagger_ui_at_the_token_endpoint(app: FastAPI) -> None:
    scheme = app.openapi()["components"]["securitySchemes"]["OAuth2"]
    flow = scheme["flows"]["password"]
    assert flow["tokenUrl"] == "/api/auth/token"
    assert flow["refreshUrl"] == "/api/auth/refresh"
    assert set(flow["scopes"]) == {*USER_SCOPES.split(), "admin"}
