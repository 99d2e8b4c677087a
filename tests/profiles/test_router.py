from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.profiles import schemas
from pressroom.profiles.models import Follow
from tests.factories import (
    BAD_TOKEN,
    PROFILE_KEYS,
    Person,
    assert_error,
    caller_headers,
    db_rows,
    register,
)


def profile_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    schemas.ProfileResponse.model_validate(response.json())
    assert list(response.json()) == ["profile"]
    profile: dict[str, Any] = response.json()["profile"]
    assert set(profile) == PROFILE_KEYS
    return profile


async def follows(app: FastAPI) -> list[tuple[Any, ...]]:
    query = select(Follow.follower_id, Follow.followee_id)
    return await db_rows(app, query.order_by(Follow.follower_id, Follow.followee_id))


async def following(client: httpx.AsyncClient, viewer: Person | None, username: str) -> bool:
    headers = viewer.auth if viewer else {}
    profile = profile_of(await client.get(f"/api/profiles/{username}", headers=headers))
    value = profile["following"]
    assert isinstance(value, bool)
    return value


# ---------------------------------------------------------------- GET /profiles/{username}
async def test_get_profile_shows_public_fields(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    changes = {"bio": "I write.", "image": "https://images.example.com/alice.png"}
    await client.put("/api/user", json={"user": changes}, headers=alice.auth)
    profile = profile_of(await client.get("/api/profiles/alice"))
    assert profile == {"username": "alice", "following": False, **changes}


async def test_get_profile_ignores_username_case(client: httpx.AsyncClient) -> None:
    await register(client, "Alice")
    assert profile_of(await client.get("/api/profiles/aLICE"))["username"] == "Alice"


@pytest.mark.parametrize("username", ["nobody", "%C3%BCber", "a" * 64])
async def test_get_unknown_profile_is_404(client: httpx.AsyncClient, username: str) -> None:
    response = await client.get(f"/api/profiles/{username}")
    assert_error(response, 404, "profile", "not found")


async def test_get_profile_with_bad_token_is_401(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    response = await client.get("/api/profiles/alice", headers=BAD_TOKEN)
    assert_error(response, 401, "token", "is invalid")


async def test_following_is_per_viewer(client: httpx.AsyncClient) -> None:
    alice, bob, carol = [await register(client, name) for name in ("alice", "bob", "carol")]
    await client.post("/api/profiles/carol/follow", headers=alice.auth)
    assert await following(client, alice, "carol") is True
    assert await following(client, bob, "carol") is False
    assert await following(client, carol, "carol") is False
    assert await following(client, None, "carol") is False
    assert await following(client, carol, "alice") is False


# ---------------------------------------------------------------- follow / unfollow
async def test_follow_returns_the_followed_profile(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    profile = profile_of(await client.post("/api/profiles/BOB/follow", headers=alice.auth))
    assert profile == {"username": "bob", "bio": None, "image": None, "following": True}
    assert await follows(app) == [(1, 2)]
    assert await following(client, alice, "bob") is True


async def test_follow_is_idempotent(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    for _ in range(2):
        response = await client.post("/api/profiles/bob/follow", headers=alice.auth)
        assert profile_of(response)["following"] is True
    assert await follows(app) == [(1, 2)]


async def test_unfollow_is_idempotent(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    for _ in range(2):
        response = await client.delete("/api/profiles/bob/follow", headers=alice.auth)
        assert profile_of(response)["following"] is False
    assert await follows(app) == []
    assert await following(client, alice, "bob") is False


async def test_unfollow_someone_never_followed_is_fine(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    response = await client.delete("/api/profiles/bob/follow", headers=alice.auth)
    assert profile_of(response)["following"] is False


@pytest.mark.parametrize("username", ["alice", "ALICE"])
async def test_following_yourself_is_422(
    client: httpx.AsyncClient, app: FastAPI, username: str
) -> None:
    alice = await register(client, "alice")
    response = await client.post(f"/api/profiles/{username}/follow", headers=alice.auth)
    assert_error(response, 422, "profile", "cannot follow yourself")
    assert await follows(app) == []


async def test_unfollowing_yourself_is_a_no_op(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    response = await client.delete("/api/profiles/alice/follow", headers=alice.auth)
    assert profile_of(response)["following"] is False


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_follow_unknown_profile_is_404(client: httpx.AsyncClient, method: str) -> None:
    alice = await register(client, "alice")
    response = await client.request(method, "/api/profiles/nobody/follow", headers=alice.auth)
    assert_error(response, 404, "profile", "not found")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize("caller", ["anonymous", "bad-token"])
async def test_follow_requires_a_valid_token(
    client: httpx.AsyncClient, app: FastAPI, method: str, caller: str
) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    await client.post("/api/profiles/bob/follow", headers=alice.auth)
    headers = await caller_headers(client, caller)
    response = await client.request(method, "/api/profiles/bob/follow", headers=headers)
    assert_error(response, 401, "token")
    assert await follows(app) == [(1, 2)]


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_follow_only_ever_changes_the_callers_follows(
    client: httpx.AsyncClient, app: FastAPI, method: str
) -> None:
    alice, bob, _ = [await register(client, name) for name in ("alice", "bob", "carol")]
    await client.post("/api/profiles/carol/follow", headers=alice.auth)
    response = await client.request(method, "/api/profiles/carol/follow", headers=bob.auth)
    assert profile_of(response)["following"] is (method == "POST")
    expected = [(1, 3), (2, 3)] if method == "POST" else [(1, 3)]
    assert await follows(app) == expected
    assert await following(client, alice, "carol") is True


async def test_profile_path_is_bounded(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/profiles/" + "a" * 65), 422, "username")


async def test_claiming_anothers_username_leaves_their_profile_alone(
    client: httpx.AsyncClient,
) -> None:
    # No endpoint writes someone else's profile: PUT /user only ever changes the caller.
    await register(client, "alice")
    headers = await caller_headers(client, "other")
    body = {"user": {"username": "alice", "bio": "hijacked"}}
    assert_error(await client.put("/api/user", json=body, headers=headers), 409, "username")
    assert profile_of(await client.get("/api/profiles/alice"))["bio"] is None
