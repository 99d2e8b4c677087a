"""Rate limits on logins, sign-ups, articles and comments, through the API on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pressroom.auth.passwords import Passwords
from pressroom.core.settings import Settings
from tests.conftest import base_settings
from tests.factories import PASSWORD, Person, assert_error, make_article, register

LIMITS = {
    "enabled": True,
    "login_per_account": "5/15 minutes",
    "login_per_ip": "1000/minute",
    "registration_per_ip": "1000/hour",
    "article_creation_per_user": "3/hour",
    "comment_creation_per_user": "2/10 minutes",
}
HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")

ClientAt = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return base_settings(tmp_path, database_url, rate_limit={**LIMITS, **overrides})


def limits(**overrides: Any) -> pytest.MarkDecorator:
    """Parametrize the `settings` fixture with rate limit overrides."""
    return pytest.mark.parametrize("settings", [overrides], indirect=True, ids=["limits"])


@pytest.fixture
async def client_at(app: FastAPI) -> AsyncIterator[ClientAt]:
    """A client whose requests come from the given IP address."""
    clients: list[httpx.AsyncClient] = []

    def make(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 4321))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://test"))
        return clients[-1]

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
def hash_checks(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password that reached the argon2 check."""
    passwords: Passwords = app.state.passwords
    checked: list[str] = []
    verify = passwords.verify

    async def counting(password: str, hashed: str | None) -> tuple[bool, str | None]:
        checked.append(password)
        return await verify(password, hashed)

    monkeypatch.setattr(passwords, "verify", counting)
    return checked


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/users/login", json={"user": {"email": email, "password": password}}
    )


def assert_limited(response: httpx.Response) -> None:
    assert_error(response, 429, "rate_limit")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Remaining"] == "0"


async def test_wrong_passwords_reach_the_hash_check_at_most_five_times(
    client: httpx.AsyncClient, client_at: ClientAt, hash_checks: list[str]
) -> None:
    alice = await register(client, "alice")

    # From 100 addresses: the account's own budget holds whatever the attacker's IPs.
    answers = [
        await login(client_at(f"10.0.{i // 250}.{i % 250}"), alice.email, f"guess-{i}")
        for i in range(100)
    ]

    assert [a.status_code for a in answers] == [401] * 5 + [429] * 95
    assert len(hash_checks) == 5
    assert_limited(answers[-1])
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 15 * 60
    # Not even the right password gets through now.
    assert_limited(await login(client, alice.email, PASSWORD))
    assert len(hash_checks) == 5


async def test_the_token_endpoint_shares_the_budget_between_username_and_email(
    client: httpx.AsyncClient, client_at: ClientAt, hash_checks: list[str]
) -> None:
    alice = await register(client, "alice")
    logins = [alice.username, alice.email, alice.username.upper(), alice.email.upper()]

    answers = []
    for i in range(20):
        form = {"grant_type": "password", "username": logins[i % 4], "password": f"guess-{i}"}
        answers.append(await client_at(f"10.1.0.{i}").post("/api/auth/token", data=form))

    assert [a.status_code for a in answers] == [400] * 5 + [429] * 15
    assert len(hash_checks) == 5
    assert_limited(answers[-1])


async def test_the_account_key_ignores_case_and_spaces(
    client: httpx.AsyncClient, hash_checks: list[str]
) -> None:
    alice = await register(client, "alice")
    for variant in ("ALICE@example.com", " alice@EXAMPLE.com ", "Alice@Example.Com"):
        await login(client, variant, "wrong")
    await login(client, alice.email, "wrong")
    await login(client, alice.email, "wrong")

    assert_limited(await login(client, alice.email, "wrong"))
    assert len(hash_checks) == 5


async def test_an_unknown_email_gets_the_same_answers(
    client: httpx.AsyncClient, hash_checks: list[str]
) -> None:
    alice = await register(client, "alice")
    known = [await login(client, alice.email, "wrong") for _ in range(7)]
    unknown = [await login(client, "nobody@example.com", "wrong") for _ in range(7)]

    def shape(response: httpx.Response) -> tuple[int, Any, str, str | None]:
        headers = response.headers
        return (
            response.status_code,
            response.json(),
            headers["RateLimit-Remaining"],
            headers.get("Retry-After") and "set",
        )

    assert [shape(a) for a in known] == [shape(a) for a in unknown]
    assert len(hash_checks) == 10


async def test_a_successful_login_clears_the_account_count(
    client: httpx.AsyncClient, hash_checks: list[str]
) -> None:
    alice = await register(client, "alice")
    for _ in range(4):
        assert (await login(client, alice.email, "wrong")).status_code == 401
    assert (await login(client, alice.email, PASSWORD)).status_code == 200

    answers = [await login(client, alice.email, "wrong") for _ in range(6)]

    assert [a.status_code for a in answers] == [401] * 5 + [429]


@limits(login_per_ip="3/minute")
async def test_login_attempts_are_limited_per_ip(
    client_at: ClientAt, client: httpx.AsyncClient, hash_checks: list[str]
) -> None:
    await register(client, "alice")
    mallory = client_at("203.0.113.9")
    # Each attempt names another account: only the IP budget applies.
    answers = [await login(mallory, f"user{i}@example.com", "wrong") for i in range(5)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert_limited(answers[-1])
    assert len(hash_checks) == 3
    # Another address still gets in.
    assert (
        await login(client_at("203.0.113.10"), "alice@example.com", PASSWORD)
    ).status_code == 200


@limits(registration_per_ip="5/hour")
async def test_the_sixth_registration_from_one_ip_is_refused(client_at: ClientAt) -> None:
    here = client_at("198.51.100.7")
    for i in range(5):
        await register(here, f"user{i}")
    body = {"user": {"username": "user5", "email": "user5@example.com", "password": PASSWORD}}

    refused = await here.post("/api/users", json=body)

    assert_limited(refused)
    assert refused.headers["RateLimit-Limit"] == "5"
    assert (await client_at("198.51.100.8").post("/api/users", json=body)).status_code == 201


async def test_article_creation_is_limited_per_user(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    for i in range(3):
        await make_article(client, alice, title=f"Post {i}")
    article = {"title": "One more", "description": "d", "body": "b"}

    refused = await client.post("/api/articles", json={"article": article}, headers=alice.auth)

    assert_limited(refused)
    assert refused.headers["RateLimit-Limit"] == "3"
    allowed = await client.post("/api/articles", json={"article": article}, headers=bob.auth)
    assert allowed.status_code == 201


async def comment(client: httpx.AsyncClient, author: Person, slug: str) -> httpx.Response:
    return await client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": "hi"}}, headers=author.auth
    )


async def test_comments_are_limited_per_user(client: httpx.AsyncClient) -> None:
    alice, bob = await register(client, "alice"), await register(client, "bob")
    slug = (await make_article(client, alice))["slug"]

    answers = [await comment(client, bob, slug) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert_limited(answers[-1])
    assert (await comment(client, alice, slug)).status_code == 201


async def test_limited_routes_send_the_tightest_policy_on_every_answer(
    client: httpx.AsyncClient,
) -> None:
    alice = await register(client, "alice")
    created = await client.post(
        "/api/articles",
        json={"article": {"title": "T", "description": "d", "body": "b"}},
        headers=alice.auth,
    )
    invalid = await client.post("/api/articles", json={"article": {}}, headers=alice.auth)
    wrong = await login(client, alice.email, "wrong")
    missing = await comment(client, alice, "no-such-article")

    assert created.status_code == 201
    assert (created.headers["RateLimit-Limit"], created.headers["RateLimit-Remaining"]) == (
        "3",
        "2",
    )
    assert invalid.status_code == 422
    assert invalid.headers["RateLimit-Remaining"] == "1"
    assert wrong.status_code == 401
    assert (wrong.headers["RateLimit-Limit"], wrong.headers["RateLimit-Remaining"]) == ("5", "4")
    assert missing.status_code == 404
    assert (missing.headers["RateLimit-Limit"], missing.headers["RateLimit-Remaining"]) == (
        "2",
        "1",
    )
    for response in (created, invalid, wrong, missing):
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 3600


async def test_every_request_counts_against_the_per_ip_ceiling(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tags")

    assert response.status_code == 200
    assert response.headers["RateLimit-Limit"] == "600"
    assert response.headers["RateLimit-Remaining"] == "599"


@limits(default_per_ip="3/minute")
async def test_past_the_per_ip_ceiling_every_route_answers_429(client_at: ClientAt) -> None:
    here = client_at("192.0.2.1")
    answers = [await here.get("/api/tags") for _ in range(3)]
    refused = await here.get("/api/articles")
    unknown_route = await here.get("/api/nowhere")

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert_limited(refused)
    assert_limited(unknown_route)
    assert (await client_at("192.0.2.2").get("/api/tags")).status_code == 200


@limits(enabled=False, login_per_account="1/hour", default_per_ip="1/minute")
async def test_switched_off_nothing_is_limited_and_no_header_is_sent(
    client: httpx.AsyncClient, hash_checks: list[str]
) -> None:
    alice = await register(client, "alice")
    answers = [await login(client, alice.email, "wrong") for _ in range(8)]
    await register(client, "bob")
    answers += [await client.get("/api/tags"), await client.get("/api/tags")]

    assert [a.status_code for a in answers] == [401] * 8 + [200, 200]
    assert len(hash_checks) == 8
    for response in answers:
        assert not set(HEADERS) & set(response.headers)
