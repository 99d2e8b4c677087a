"""Every failure answers in the Conduit envelope, with the status and headers a client expects:
unknown routes, wrong methods, bad credentials, validation errors and the unexpected."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from jwt.warnings import InsecureKeyLengthWarning

from tests.conftest import TEST_SECRET
from tests.core import (
    ENDPOINTS,
    VALID_BODIES,
    Endpoint,
    World,
    assert_no_problems,
    endpoints,
    envelope_problem,
    leaves,
    make_world,
    with_raw,
)

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI) -> World:
    return await make_world(client, app)


# ---------------------------------------------------------------- routing
UNKNOWN_PATHS = [
    "/",
    "/nope",
    "/api",
    "/api/nope",
    "/api/users/login/extra",
    "/api/articles/a-slug/comments/1/extra",
    "/api/profiles/someone/follow/extra",
    "/api/%00",
    "/%F0%9F%A6%9C",
]


async def test_unknown_routes_are_404_in_the_envelope(client: httpx.AsyncClient) -> None:
    problems = []
    for path in UNKNOWN_PATHS:
        for method in METHODS:
            response = await client.request(method, path)
            if response.status_code != 404 or response.json() != {
                "errors": {"route": ["not found"]}
            }:
                problems.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert_no_problems(problems)


def _concrete(endpoint: Endpoint) -> str:
    values = {
        "slug": "some-slug",
        "username": "someone",
        "comment_id": "1",
        "key_id": "1",
        "event_id": "1",
        "session_id": "s" * 22,
    }
    return endpoint.path.format(**{name: values[name] for name in endpoint.path_params})


async def test_wrong_methods_are_405_listing_the_allowed_ones(client: httpx.AsyncClient) -> None:
    problems = []
    for path in sorted({_concrete(endpoint) for endpoint in ENDPOINTS}):
        allowed = {e.method for e in ENDPOINTS if e.pattern.match(path)}
        for method in sorted(set(METHODS) - allowed):
            response = await client.request(method, path, headers={"Origin": "http://x.test"})
            if problem := envelope_problem(response, "method", status_code=405):
                problems.append(problem)
            elif set(response.headers.get("Allow", "").split(", ")) != allowed:
                problems.append(f"{method} {path}: Allow {response.headers.get('Allow')!r}")
    assert_no_problems(problems)


# ---------------------------------------------------------------- credentials
def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _resigned(
    token: str,
    key: str = TEST_SECRET,
    algorithm: str = "HS256",
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """The claims of `token`, changed by `claims` (None removes one), signed again, with the
    access-token header plus `header`."""
    payload = {**jwt.decode(token, options={"verify_signature": False}), **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    headers = {"typ": "at+jwt", **(header or {})}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def _hs512(token: str) -> str:
    with warnings.catch_warnings():  # the test key is shorter than HS512 recommends
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return _resigned(token, algorithm="HS512")


def _unsigned(token: str, alg: str = "none") -> str:
    payload = jwt.decode(token, options={"verify_signature": False})
    return f"{_b64({'alg': alg, 'typ': 'at+jwt'})}.{_b64(payload)}."


def _flipped_signature_byte(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[len(raw) // 2] ^= 0x01
    return f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return f"{header}.{_b64({**claims, 'sub': str(int(claims['sub']) + 1)})}.{signature}"


HOUR = 3600
# Each builds an Authorization value from a valid token; each must be refused with a 401.
BAD_HEADERS: dict[str, Callable[[str], str]] = {
    "empty": lambda _: "",
    "only spaces": lambda _: "   ",
    "scheme only": lambda _: "Token",
    "scheme and a space": lambda _: "Token ",
    "no scheme": lambda token: token,
    "Basic scheme": lambda token: f"Basic {token}",
    "unknown scheme": lambda token: f"JWT {token}",
    "two tokens": lambda token: f"Token {token} {token}",
    "garbage": lambda _: "Token not-a-jwt",
    "three dots": lambda _: "Token ...",
    "non-ASCII bytes": lambda _: "Token \xff\xfe\xfd",
    "control characters": lambda token: f"Token {token}\x00\x1b",
    "oversized": lambda token: f"Token {token}{'a' * 100_000}",
    "just over 4 KiB": lambda token: f"Token {token}.{'a' * 4096}",
}
BAD_TOKENS: dict[str, Callable[[str], str]] = {
    "signed with another key": lambda token: _resigned(token, key="another-key-" + "y" * 40),
    "expired": lambda token: _resigned(
        token, iat=int(time.time()) - 2 * HOUR, exp=int(time.time()) - HOUR
    ),
    "alg none": _unsigned,
    "alg NONE": lambda token: _unsigned(token, "NONE"),
    "alg None": lambda token: _unsigned(token, "None"),
    "alg nOnE": lambda token: _unsigned(token, "nOnE"),
    "flipped signature byte": _flipped_signature_byte,
    "not before in the future": lambda token: _resigned(token, nbf=int(time.time()) + HOUR),
    "plain JWT type": lambda token: _resigned(token, header={"typ": "JWT"}),
    "kid header": lambda token: _resigned(token, header={"kid": "attacker-key"}),
    "jku header": lambda token: _resigned(token, header={"jku": "https://evil.test/jwks"}),
    "x5u header": lambda token: _resigned(token, header={"x5u": "https://evil.test/cert"}),
    "jwk header": lambda token: _resigned(token, header={"jwk": {"kty": "oct", "k": "AAAA"}}),
    "no session": lambda token: _resigned(token, sid=None),
    "unknown session": lambda token: _resigned(token, sid="A" * 22),
    "no scope claim": lambda token: _resigned(token, scope=None),
    "expired beyond the leeway": lambda token: _resigned(
        token, iat=int(time.time()) - HOUR, exp=int(time.time()) - 11
    ),
    "HS512 with the right key": _hs512,
    "tampered claims": _tampered,
    "truncated signature": lambda token: token[:-8],
    "wrong audience": lambda token: _resigned(token, aud="someone-else"),
    "wrong issuer": lambda token: _resigned(token, iss="someone-else"),
    "no expiry": lambda token: _resigned(token, exp=None),
    "no subject": lambda token: _resigned(token, sub=None),
    "unknown user": lambda token: _resigned(token, sub="999999"),
    "subject not a number": lambda token: _resigned(token, sub="alice"),
    "subject too big": lambda token: _resigned(token, sub="9" * 30),
}
TOKEN_ENDPOINTS = endpoints(reads_token=True)


def test_optional_auth_endpoints_are_among_those_checked() -> None:
    optional = {str(e) for e in TOKEN_ENDPOINTS if not e.requires_auth}
    assert {"GET /api/articles", "GET /api/profiles/{username}"} <= optional


@pytest.mark.parametrize("family", ["malformed header", "bad token"])
async def test_bad_credentials_are_401_with_a_challenge_everywhere(
    client: httpx.AsyncClient, world: World, family: str
) -> None:
    token = world.author.token
    for scheme in ["Token", "Bearer"]:  # the control: re-signing alone changes nothing
        control = {"Authorization": f"{scheme} {_resigned(token)}"}
        assert (await client.get("/api/user", headers=control)).status_code == 200
    if family == "malformed header":
        values = {name: build(token) for name, build in BAD_HEADERS.items()}
    else:
        values = {name: f"Token {build(token)}" for name, build in BAD_TOKENS.items()}
    problems = []
    for endpoint in TOKEN_ENDPOINTS:
        body = VALID_BODIES.get(str(endpoint))
        for name, value in values.items():
            # Sent as raw bytes: httpx would refuse some of these values as text.
            headers = [(b"Authorization", value.encode("latin-1"))]
            response = await client.request(
                endpoint.method, world.path(endpoint), json=body, headers=headers
            )
            if problem := envelope_problem(response, "token", status_code=401):
                problems.append(f"{name}: {problem}")
            elif "Token" not in response.headers.get("WWW-Authenticate", ""):
                problems.append(f"{name}: {endpoint}: no WWW-Authenticate challenge")
    assert_no_problems(problems)


async def test_missing_credentials_are_401_with_a_challenge(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in endpoints(requires_auth=True):
        body = VALID_BODIES.get(str(endpoint))
        response = await client.request(endpoint.method, world.path(endpoint), json=body)
        if response.status_code != 401 or response.json() != {"errors": {"token": ["is missing"]}}:
            problems.append(f"{endpoint}: {response.status_code} {response.text[:200]}")
        elif "Token" not in response.headers.get("WWW-Authenticate", ""):
            problems.append(f"{endpoint}: no WWW-Authenticate challenge")
    assert_no_problems(problems)


# ---------------------------------------------------------------- validation
async def _send(
    client: httpx.AsyncClient, world: World, endpoint: Endpoint, content: bytes
) -> httpx.Response:
    headers = {**world.author.auth, "Content-Type": "application/json"}
    return await client.request(
        endpoint.method, world.path(endpoint), content=content, headers=headers
    )


async def test_missing_null_or_empty_required_fields_say_cant_be_blank(
    client: httpx.AsyncClient, world: World
) -> None:
    problems = []
    for endpoint in endpoints(has_body=True):
        assert endpoint.body_model is not None
        valid = VALID_BODIES[str(endpoint)]
        fields = leaves(endpoint.body_model)
        wrappers = {leaf.at[:-1] for leaf in fields}
        cases = [(wrapper, raw) for wrapper in wrappers for raw in (None, "null")]
        for leaf in fields:
            if leaf.required:
                cases += [(leaf.at, raw) for raw in (None, "null", '""')]
        for at, raw in cases:
            response = await _send(client, world, endpoint, with_raw(valid, at, raw))
            expected = {"errors": {at[-1]: ["can't be blank"]}}
            if response.status_code != 422 or response.json() != expected:
                shown = "absent" if raw is None else raw
                problems.append(f"{endpoint} {'.'.join(at)} {shown}: {response.text[:200]}")
    assert_no_problems(problems)


# ---------------------------------------------------------------- the unexpected
async def test_an_unexpected_error_is_a_plain_500_logged_once(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret detail: postgres://admin:hunter2@db")

    app.add_api_route("/api/explode", explode)
    response = await client.get("/api/explode")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json() == {"errors": {"server": [f"internal error (request id {request_id})"]}}
    assert "hunter2" not in response.text
    logged = [record.exc_info for record in caplog.records if record.exc_info]
    assert len(logged) == 1
    assert "hunter2" in str(logged[0][1])


async def test_length_errors_say_the_limit(client: httpx.AsyncClient, world: World) -> None:
    user = {"username": "carol", "email": "carol@example.com", "password": "long enough"}
    article = VALID_BODIES["POST /api/articles"]["article"]
    too_long = "is too long (maximum is {} characters)"
    cases = [
        (
            {"user": {**user, "password": "short"}},
            "password",
            "is too short (minimum is 8 characters)",
        ),
        ({"user": {**user, "username": "c" * 33}}, "username", too_long.format(32)),
        ({"user": {**user, "username": "   "}}, "username", "can't be blank"),
        ({"article": {**article, "title": "t" * 257}}, "title", too_long.format(256)),
        ({"article": {**article, "tagList": ["t" * 33]}}, "tagList", too_long.format(32)),
        (
            {"article": {**article, "tagList": [f"t{n}" for n in range(51)]}},
            "tagList",
            "is too long (maximum is 50 items)",
        ),
    ]
    for body, field, message in cases:
        path = "/api/users" if "user" in body else "/api/articles"
        response = await client.post(path, json=body, headers=world.author.auth)
        assert response.status_code == 422
        assert response.json() == {"errors": {field: [message]}}, response.text
    response = await client.get("/api/articles", params={"tag": "t" * 33})
    assert response.json() == {"errors": {"tag": [too_long.format(32)]}}
