"""Password reset through the API, with the mail received by a real SMTP server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from pressroom.auth.models import AccountToken
from pressroom.core.models import utcnow
from pressroom.core.settings import Settings
from tests.conftest import base_settings
from tests.factories import PASSWORD, Person, assert_error, login, register
from tests.mail.conftest import Received, SmtpServer, deliver, mail_settings

NEW_PASSWORD = "a brand new passphrase"


async def ask_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset", json={"user": {"email": email}})


async def confirm(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def reset_mail(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, person: Person
) -> Received:
    response = await ask_reset(client, person.email)
    assert response.status_code == 204, response.text
    await deliver(app)
    mails = [mail for mail in smtp_server.inbox.to(person.email) if "Reset" in mail.subject]
    assert mails
    return mails[-1]


async def reset_token(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, person: Person
) -> str:
    path, token = (await reset_mail(client, app, smtp_server, person)).link()
    assert path == "reset-password"
    return token


async def works(client: httpx.AsyncClient, person: Person) -> bool:
    response = await client.get("/api/user", headers=person.auth)
    return response.status_code == 200


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Person:
    return await register(client, "alice")


async def test_the_mailed_link_resets_the_password_and_ends_every_session(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    mail = await reset_mail(client, app, smtp_server, alice)

    assert mail.envelope_to == ["alice@example.com"]
    assert mail.message["To"] == "alice@example.com"
    assert mail.message["From"] == "Pressroom <no-reply@pressroom.test>"
    assert mail.subject == "Reset your Pressroom password"
    assert "alice" in mail.text
    assert "1 hour" in mail.text
    assert mail.html.startswith("<!doctype html>")
    path, token = mail.link()
    assert path == "reset-password"
    assert await works(client, alice)

    assert (await confirm(client, token, NEW_PASSWORD)).status_code == 204

    assert not await works(client, alice)  # the session that existed is over
    assert (await login(client, alice.email, PASSWORD)).status_code == 401
    assert (await login(client, alice.email, NEW_PASSWORD)).status_code == 200


async def test_a_reset_ends_oauth_sessions_and_their_refresh_tokens(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    form = {"grant_type": "password", "username": alice.email, "password": PASSWORD}
    granted = await client.post("/api/auth/token", data=form)
    assert granted.status_code == 200, granted.text
    token = await reset_token(client, app, smtp_server, alice)
    assert (await confirm(client, token, NEW_PASSWORD)).status_code == 204

    access = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    assert (await client.get("/api/user", headers=access)).status_code == 401
    refreshed = await client.post(
        "/api/auth/refresh", data={"refresh_token": granted.json()["refresh_token"]}
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


async def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    known = await ask_reset(client, alice.email)
    unknown = await ask_reset(client, "nobody@example.com")

    def shape(response: httpx.Response) -> tuple[Any, ...]:
        varying = {"x-request-id", "date", "server-timing"}  # per request, whatever it asks
        headers = {k: v for k, v in response.headers.items() if k not in varying}
        return response.status_code, response.content, headers, sorted(response.headers)

    assert shape(known) == shape(unknown)
    assert known.status_code == 204
    await deliver(app)
    assert smtp_server.inbox.to("nobody@example.com") == []
    subjects = sorted(mail.subject for mail in smtp_server.inbox.to(alice.email))
    assert subjects == [
        "Confirm your email address for Pressroom",
        "Reset your Pressroom password",
        "Welcome to Pressroom, alice",
    ]


async def test_a_token_works_once(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    token = await reset_token(client, app, smtp_server, alice)
    assert (await confirm(client, token, NEW_PASSWORD)).status_code == 204

    again = await confirm(client, token, "yet another passphrase")

    assert_error(again, 400, "token", "has already been used")
    assert (await login(client, alice.email, NEW_PASSWORD)).status_code == 200


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    token = await reset_token(client, app, smtp_server, alice)
    async with app.state.database.session() as session:
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )

    assert_error(await confirm(client, token, NEW_PASSWORD), 400, "token", "has expired")
    assert (await login(client, alice.email, PASSWORD)).status_code == 200


async def test_a_password_change_outdates_the_token(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    token = await reset_token(client, app, smtp_server, alice)
    changed = await client.put(
        "/api/user", json={"user": {"password": "changed the usual way"}}, headers=alice.auth
    )
    assert changed.status_code == 200, changed.text

    refused = await confirm(client, token, NEW_PASSWORD)

    assert_error(refused, 400, "token", "is no longer valid")
    assert (await login(client, alice.email, "changed the usual way")).status_code == 200


async def test_a_second_reset_outdates_the_first_token(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    first = await reset_token(client, app, smtp_server, alice)
    second = await reset_token(client, app, smtp_server, alice)
    assert first != second
    assert (await confirm(client, second, NEW_PASSWORD)).status_code == 204

    assert_error(await confirm(client, first, "the first one"), 400, "token", "is no longer valid")
    assert (await login(client, alice.email, NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "token", ["not-a-token", "x" * 128, "é" * 10], ids=["unknown", "longest", "unicode"]
)
async def test_an_unknown_token_is_refused(client: httpx.AsyncClient, token: str) -> None:
    assert_error(await confirm(client, token, NEW_PASSWORD), 400, "token", "is invalid")


async def test_a_verification_token_cannot_reset_a_password(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    await deliver(app)
    verification = next(m for m in smtp_server.inbox.to(alice.email) if "Confirm" in m.subject)
    _, token = verification.link()

    assert_error(await confirm(client, token, NEW_PASSWORD), 400, "token", "is invalid")


BAD_REQUESTS: dict[str, tuple[str, Any, str]] = {
    "no user": ("/api/auth/password-reset", {}, "user"),
    "bad email": ("/api/auth/password-reset", {"user": {"email": "not an email"}}, "email"),
    "email not a string": ("/api/auth/password-reset", {"user": {"email": 5}}, "email"),
    "no token": ("/api/auth/password-reset/confirm", {"password": NEW_PASSWORD}, "token"),
    "empty token": (
        "/api/auth/password-reset/confirm",
        {"token": "", "password": NEW_PASSWORD},
        "token",
    ),
    "token too long": (
        "/api/auth/password-reset/confirm",
        {"token": "x" * 129, "password": NEW_PASSWORD},
        "token",
    ),
    "NUL in token": (
        "/api/auth/password-reset/confirm",
        {"token": "abc\x00def", "password": NEW_PASSWORD},
        "token",
    ),
    "short password": (
        "/api/auth/password-reset/confirm",
        {"token": "t", "password": "x"},
        "password",
    ),
    "no password": ("/api/auth/password-reset/confirm", {"token": "t"}, "password"),
    "not an object": ("/api/auth/password-reset/confirm", [1, 2], "body"),
    "no verification token": ("/api/auth/verify-email", {}, "token"),
}


@pytest.mark.parametrize(("path", "body", "field"), BAD_REQUESTS.values(), ids=BAD_REQUESTS)
async def test_malformed_bodies_get_the_envelope(
    client: httpx.AsyncClient, path: str, body: Any, field: str
) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"], response.text


async def test_no_mail_ever_holds_a_password(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    token = await reset_token(client, app, smtp_server, alice)
    assert (await confirm(client, token, NEW_PASSWORD)).status_code == 204
    logged_in = await login(client, alice.email, NEW_PASSWORD)
    headers = {"Authorization": f"Token {logged_in.json()['user']['token']}"}
    moved = await client.put(
        "/api/user", json={"user": {"email": "alice2@example.com"}}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    await ask_reset(client, "alice2@example.com")
    await deliver(app)

    received = smtp_server.inbox.received
    assert len(received) == 5  # welcome, verification, reset, new-address verification, reset
    for mail in received:
        for secret in (PASSWORD, NEW_PASSWORD):
            assert secret.encode() not in mail.raw
            assert secret not in mail.text
            assert secret not in mail.html


async def test_only_the_token_hash_is_stored(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    token = await reset_token(client, app, smtp_server, alice)
    async with app.state.database.session(readonly=True) as session:
        stored = (await session.scalars(select(AccountToken.token_hash))).all()
    assert stored
    assert token not in stored


# ---------------------------------------------------------------- rate limits
@pytest.fixture
def limited_settings(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return base_settings(
        tmp_path,
        database_url,
        mail=mail_settings(smtp_server.port),
        rate_limit={
            "enabled": True,
            "password_reset_per_account": "2/hour",
            "password_reset_per_ip": "1000/hour",
            "registration_per_ip": "1000/hour",
        },
    )


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
async def test_reset_requests_are_rate_limited_per_address_alike(
    limited_settings: Settings, email: str
) -> None:
    from pressroom.main import create_app

    application = create_app(limited_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await register(http, "alice")
            answers = [(await ask_reset(http, email)) for _ in range(3)]
            other = await ask_reset(http, "someone.else@example.com")

    assert [answer.status_code for answer in answers] == [204, 204, 429]
    assert_error(answers[2], 429, "rate_limit")
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert other.status_code == 204  # another address has its own budget
