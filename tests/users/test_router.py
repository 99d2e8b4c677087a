from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.users import schemas
from pressroom.users.models import User
from tests.factories import PASSWORD, assert_error, caller_headers, db_rows, register

USER_KEYS = {"email", "token", "username", "bio", "image"}


def user_of(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    schemas.UserResponse.model_validate(response.json())
    assert list(response.json()) == ["user"]
    user: dict[str, Any] = response.json()["user"]
    assert set(user) == USER_KEYS
    return user


def new_user(**overrides: Any) -> dict[str, Any]:
    return {
        "user": {
            "username": "alice",
            "email": "alice@example.com",
            "password": PASSWORD,
            **overrides,
        }
    }


async def user_rows(app: FastAPI) -> list[tuple[Any, ...]]:
    query = select(User.id, User.username, User.email, User.password_hash, User.bio, User.image)
    return await db_rows(app, query.order_by(User.id))


def token_for(app: FastAPI, user_id: str, like: str, **claims: Any) -> dict[str, str]:
    """A token signed here with the app's key (or `secret`), for the session of the real token
    `like`, so each claim can be wrong alone."""
    secret = claims.pop("secret", None) or app.state.settings.signing_key()
    real = jwt.decode(like, options={"verify_signature": False})
    now = datetime.now(UTC)
    payload = {
        "iss": "pressroom",
        "aud": "pressroom-api",
        "sub": user_id,
        "sid": real["sid"],
        "scope": real["scope"],
        "iat": now,
        "exp": now + timedelta(hours=1),
        **claims,
    }
    token = jwt.encode(payload, secret, algorithm="HS256", headers={"typ": "at+jwt"})
    return {"Authorization": f"Token {token}"}


# ---------------------------------------------------------------- registration
async def test_register_returns_user_with_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/users",
        json={"user": {"username": "alice", "email": "Alice@Example.com", "password": PASSWORD}},
    )
    user = user_of(response, 201)
    assert user["username"] == "alice"
    assert user["email"] == "Alice@example.com"
    assert user["bio"] is None
    assert user["image"] is None
    assert user["token"]


async def test_register_token_authenticates_the_new_user(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    user = user_of(await client.get("/api/user", headers=alice.auth))
    assert (user["username"], user["email"]) == ("alice", "alice@example.com")


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "ALICE"), ("email", "ALICE@EXAMPLE.COM")],
)
async def test_register_refuses_taken_name_ignoring_case(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    await register(client, "alice")
    other = {"username": "bob", "email": "bob@example.com", field: value}
    response = await client.post("/api/users", json=new_user(**other))
    assert_error(response, 409, field, "has already been taken")


async def test_register_names_every_taken_field(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    response = await client.post("/api/users", json=new_user())
    assert response.status_code == 409
    assert response.json() == {
        "errors": {"email": ["has already been taken"], "username": ["has already been taken"]}
    }


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"username": ""}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "two words"}, "username"),
        ({"username": "dot.ted"}, "username"),
        ({"username": "ünïcode"}, "username"),
        ({"username": 42}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"password": "x" * 7}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"password": "nul\x00nul\x00"}, "password"),
    ],
    ids=lambda value: repr(value)[:24] if isinstance(value, dict) else str(value),
)
async def test_register_validates_fields(
    client: httpx.AsyncClient, overrides: dict[str, Any], key: str
) -> None:
    response = await client.post("/api/users", json=new_user(**overrides))
    assert_error(response, 422, key)


@pytest.mark.parametrize("missing", ["username", "email", "password"])
async def test_register_requires_every_field(client: httpx.AsyncClient, missing: str) -> None:
    body = new_user()
    del body["user"][missing]
    response = await client.post("/api/users", json=body)
    assert_error(response, 422, missing, "can't be blank")


@pytest.mark.parametrize(
    ("body", "key"),
    [({"username": "alice"}, "user"), ({"user": "alice"}, "user"), ([], "body")],
    ids=["no-wrapper", "wrapper-not-object", "not-object"],
)
async def test_register_requires_the_user_envelope(
    client: httpx.AsyncClient, body: Any, key: str
) -> None:
    assert_error(await client.post("/api/users", json=body), 422, key)


async def test_register_refuses_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/users", content=b'{"user": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "body", "is not valid JSON")


@pytest.mark.parametrize(
    ("username", "password"),
    [("a", "x" * 8), ("A" * 32, "x" * 256), ("Under_score-9", PASSWORD)],
    ids=["shortest", "longest", "all-classes"],
)
async def test_register_accepts_bounds(
    client: httpx.AsyncClient, username: str, password: str
) -> None:
    body = new_user(username=username, password=password)
    user = user_of(await client.post("/api/users", json=body), 201)
    assert user["username"] == username
    login = {"user": {"email": "alice@example.com", "password": password}}
    assert (await client.post("/api/users/login", json=login)).status_code == 200


async def test_register_ignores_read_only_fields(client: httpx.AsyncClient, app: FastAPI) -> None:
    body = new_user(id=999, token="forged", bio="set at birth", image="https://x.test/a.png")
    user = user_of(await client.post("/api/users", json=body), 201)
    assert user["token"] != "forged"
    assert (user["bio"], user["image"]) == (None, None)
    assert [row[0] for row in await user_rows(app)] == [1]


# ---------------------------------------------------------------- login
async def test_login_returns_user_with_working_token(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    response = await client.post(
        "/api/users/login", json={"user": {"email": "alice@example.com", "password": PASSWORD}}
    )
    user = user_of(response)
    assert user["username"] == "alice"
    me = user_of(await client.get("/api/user", headers={"Authorization": f"Token {user['token']}"}))
    assert me["username"] == "alice"


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


@pytest.mark.parametrize("missing", ["email", "password"])
async def test_login_requires_email_and_password(client: httpx.AsyncClient, missing: str) -> None:
    user = {"email": "alice@example.com", "password": PASSWORD}
    del user[missing]
    response = await client.post("/api/users/login", json={"user": user})
    assert_error(response, 422, missing, "can't be blank")


# ---------------------------------------------------------------- GET /user
@pytest.mark.parametrize("scheme", ["Token", "bearer"])
async def test_get_user_accepts_token_and_bearer(client: httpx.AsyncClient, scheme: str) -> None:
    alice = await register(client, "alice")
    response = await client.get("/api/user", headers={"Authorization": f"{scheme} {alice.token}"})
    user = user_of(response)
    assert user == {
        "email": "alice@example.com",
        "token": alice.token,
        "username": "alice",
        "bio": None,
        "image": None,
    }


async def test_get_user_without_token_is_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/user"), 401, "token", "is missing")


@pytest.mark.parametrize(
    "header",
    [
        "Token not-a-jwt",
        "Token",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
        "Token a b",
    ],
)
async def test_get_user_with_malformed_token_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/user", headers={"Authorization": header})
    assert_error(response, 401, "token", "is invalid")


@pytest.mark.parametrize(
    "claims",
    [
        {"secret": "another-secret-" + "y" * 40},
        {"exp": datetime.now(UTC) - timedelta(hours=1)},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"sub": "999"},
        {"sub": "not-a-number"},
    ],
    ids=["wrong-key", "expired", "wrong-audience", "wrong-issuer", "unknown-user", "bad-subject"],
)
async def test_get_user_with_untrusted_token_is_401(
    client: httpx.AsyncClient, app: FastAPI, claims: dict[str, Any]
) -> None:
    alice = await register(client, "alice")
    response = await client.get("/api/user", headers=token_for(app, "1", alice.token, **claims))
    assert_error(response, 401, "token", "is invalid")


async def test_a_self_made_token_for_a_real_user_works(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # Guards the test above: the forged tokens fail for their one wrong claim only.
    alice = await register(client, "alice")
    response = await client.get("/api/user", headers=token_for(app, "1", alice.token))
    assert user_of(response)["username"] == "alice"


# ---------------------------------------------------------------- PUT /user
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "alicia"),
        ("email", "alicia@example.org"),
        ("bio", "I write things."),
        ("image", "https://images.example.com/alice.png"),
    ],
)
async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    alice = await register(client, "alice")
    before = user_of(await client.get("/api/user", headers=alice.auth))
    response = await client.put("/api/user", json={"user": {field: value}}, headers=alice.auth)
    expected = {**before, field: value}
    assert user_of(response) == expected
    assert user_of(await client.get("/api/user", headers=alice.auth)) == expected


async def test_update_with_nothing_changes_nothing(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    await client.put("/api/user", json={"user": {"bio": "hi"}}, headers=alice.auth)
    rows = await user_rows(app)
    response = await client.put("/api/user", json={"user": {}}, headers=alice.auth)
    assert user_of(response)["bio"] == "hi"
    assert await user_rows(app) == rows


@pytest.mark.parametrize("blank", ["", None], ids=["empty", "null"])
async def test_update_blank_bio_and_image_clear_to_null(
    client: httpx.AsyncClient, blank: str | None
) -> None:
    alice = await register(client, "alice")
    filled = {"bio": "hello", "image": "http://images.example.com/a.png"}
    await client.put("/api/user", json={"user": filled}, headers=alice.auth)
    cleared = {"bio": blank, "image": blank}
    response = await client.put("/api/user", json={"user": cleared}, headers=alice.auth)
    user = user_of(response)
    assert (user["bio"], user["image"]) == (None, None)
    profile = (await client.get("/api/profiles/alice")).json()["profile"]
    assert (profile["bio"], profile["image"]) == (None, None)


@pytest.mark.parametrize(
    "image",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "vbscript:msgbox(1)",
        "ftp://files.example.com/a.png",
        "not a url",
        "https://" + "a" * 2048 + ".example.com",
    ],
)
async def test_update_refuses_an_unsafe_image(
    client: httpx.AsyncClient, app: FastAPI, image: str
) -> None:
    alice = await register(client, "alice")
    rows = await user_rows(app)
    response = await client.put("/api/user", json={"user": {"image": image}}, headers=alice.auth)
    assert_error(response, 422, "image")
    assert await user_rows(app) == rows


@pytest.mark.parametrize("field", ["email", "username", "password"])
async def test_update_refuses_explicit_null(
    client: httpx.AsyncClient, app: FastAPI, field: str
) -> None:
    alice = await register(client, "alice")
    rows = await user_rows(app)
    response = await client.put("/api/user", json={"user": {field: None}}, headers=alice.auth)
    assert_error(response, 422, field, "can't be blank")
    assert await user_rows(app) == rows


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", ""),
        ("username", "a" * 33),
        ("username", "no spaces"),
        ("email", "nope"),
        ("password", "x" * 7),
        ("password", "x" * 257),
        ("bio", "b" * 4097),
        ("bio", "nul\x00"),
    ],
    ids=lambda value: str(value)[:12],
)
async def test_update_validates_fields(
    client: httpx.AsyncClient, app: FastAPI, field: str, value: str
) -> None:
    alice = await register(client, "alice")
    rows = await user_rows(app)
    response = await client.put("/api/user", json={"user": {field: value}}, headers=alice.auth)
    assert_error(response, 422, field)
    assert await user_rows(app) == rows


async def test_update_requires_the_user_envelope(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    response = await client.put("/api/user", json={"bio": "hi"}, headers=alice.auth)
    assert_error(response, 422, "user", "can't be blank")


@pytest.mark.parametrize(("password", "bio"), [("x" * 8, None), ("y" * 256, "b" * 4096)])
async def test_update_accepts_bounds(
    client: httpx.AsyncClient, password: str, bio: str | None
) -> None:
    alice = await register(client, "alice")
    changes = {"password": password, "username": "z" * 32, **({"bio": bio} if bio else {})}
    user = user_of(await client.put("/api/user", json={"user": changes}, headers=alice.auth))
    assert user["username"] == "z" * 32
    assert user["bio"] == bio


async def test_changed_password_works_for_login_and_old_does_not(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    new = {"password": "a brand new secret"}
    user_of(await client.put("/api/user", json={"user": new}, headers=alice.auth))
    logins = [
        await client.post(
            "/api/users/login", json={"user": {"email": "alice@example.com", "password": secret}}
        )
        for secret in (new["password"], PASSWORD)
    ]
    assert user_of(logins[0])["username"] == "alice"
    assert_error(logins[1], 401, "credentials", "invalid")


async def test_changed_email_works_for_login_and_old_does_not(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    changes = {"email": "new@example.org"}
    user_of(await client.put("/api/user", json={"user": changes}, headers=alice.auth))
    logins = [
        await client.post("/api/users/login", json={"user": {"email": email, "password": PASSWORD}})
        for email in ("new@example.org", "alice@example.com")
    ]
    assert logins[0].status_code == 200
    assert_error(logins[1], 401, "credentials", "invalid")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "bob"),
        ("username", "BOB"),
        ("email", "bob@example.com"),
        ("email", "Bob@EXAMPLE.com"),
    ],
)
async def test_update_to_a_taken_name_is_409_ignoring_case(
    client: httpx.AsyncClient, app: FastAPI, field: str, value: str
) -> None:
    alice = await register(client, "alice")
    await register(client, "bob")
    rows = await user_rows(app)
    response = await client.put("/api/user", json={"user": {field: value}}, headers=alice.auth)
    assert_error(response, 409, field, "has already been taken")
    assert await user_rows(app) == rows


@pytest.mark.parametrize(
    ("field", "value"), [("username", "ALICE"), ("email", "ALICE@example.com")]
)
async def test_update_may_recase_the_callers_own_name(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    alice = await register(client, "alice")
    response = await client.put("/api/user", json={"user": {field: value}}, headers=alice.auth)
    assert user_of(response)[field] == value


async def test_token_survives_a_username_change(client: httpx.AsyncClient) -> None:
    alice = await register(client, "alice")
    response = await client.put(
        "/api/user", json={"user": {"username": "alicia"}}, headers=alice.auth
    )
    assert user_of(response)["token"] == alice.token
    assert user_of(await client.get("/api/user", headers=alice.auth))["username"] == "alicia"
    assert_error(await client.get("/api/profiles/alice"), 404, "profile", "not found")


async def test_update_ignores_read_only_fields(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    rows = await user_rows(app)
    forged = {"id": 42, "token": "forged", "following": True, "createdAt": "2000-01-01T00:00:00Z"}
    response = await client.put("/api/user", json={"user": forged}, headers=alice.auth)
    assert user_of(response)["token"] == alice.token
    assert await user_rows(app) == rows


async def test_update_only_ever_changes_the_caller(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice = await register(client, "alice")
    bob = await register(client, "bob")
    alice_before = user_of(await client.get("/api/user", headers=alice.auth))
    alice_row = (await user_rows(app))[0]
    changes = {"username": "bobby", "bio": "pwned", "image": "https://evil.example/x.png"}
    body = {"user": {**changes, "email": "bobby@example.com", "id": 1}}
    user = user_of(await client.put("/api/user", json=body, headers=bob.auth))
    assert user["username"] == "bobby"
    assert user_of(await client.get("/api/user", headers=alice.auth)) == alice_before
    assert (await user_rows(app))[0] == alice_row


@pytest.mark.parametrize("caller", ["anonymous", "bad-token"])
async def test_update_requires_a_valid_token(
    client: httpx.AsyncClient, app: FastAPI, caller: str
) -> None:
    await register(client, "alice")
    rows = await user_rows(app)
    headers = await caller_headers(client, caller)
    response = await client.put("/api/user", json={"user": {"bio": "x"}}, headers=headers)
    assert_error(response, 401, "token")
    assert await user_rows(app) == rows
