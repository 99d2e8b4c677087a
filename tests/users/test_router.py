from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, register


async def test_register_returns_user_with_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/users",
        json={"user": {"username": "alice", "email": "Alice@Example.com", "password": PASSWORD}},
    )
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["username"] == "alice"
    assert user["email"] == "Alice@example.com"
    assert user["bio"] is None
    assert user["image"] is None
    assert user["token"]


async def test_login_with_any_email_case(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    response = await client.post(
        "/api/users/login", json={"user": {"email": "ALICE@example.com", "password": PASSWORD}}
    )
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
async def test_login_failure_is_the_same_401(
    client: httpx.AsyncClient, email: str, password: str
) -> None:
    await register(client, "alice")
    response = await client.post(
        "/api/users/login", json={"user": {"email": email, "password": password}}
    )
    assert response.status_code == 401
    assert response.json() == {"errors": {"credentials": ["invalid"]}}
    assert "WWW-Authenticate" in response.headers
