"""Email verification: the mail sent at registration and on an email change, and its link."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from pressroom.auth.models import AccountToken
from pressroom.core.models import utcnow
from pressroom.main import create_app
from tests.conftest import base_settings
from tests.factories import Person, assert_error, register
from tests.mail.conftest import Received, SmtpServer, deliver, mail_settings

CONFIRM_SUBJECT = "Confirm your email address for Pressroom"


async def state(client: httpx.AsyncClient, person: Person) -> dict[str, object]:
    response = await client.get("/api/auth/email-verification", headers=person.auth)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()["emailVerification"]
    return body


async def verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/verify-email", json={"token": token})


def verification_mails(smtp_server: SmtpServer, address: str) -> list[Received]:
    return [mail for mail in smtp_server.inbox.to(address) if mail.subject == CONFIRM_SUBJECT]


@pytest.fixture
async def alice(client: httpx.AsyncClient, app: FastAPI) -> Person:
    person = await register(client, "alice")
    await deliver(app)
    return person


async def test_registration_sends_a_welcome_and_a_verification_mail(
    smtp_server: SmtpServer, alice: Person
) -> None:
    subjects = sorted(mail.subject for mail in smtp_server.inbox.to(alice.email))
    assert subjects == [CONFIRM_SUBJECT, "Welcome to Pressroom, alice"]
    welcome = next(m for m in smtp_server.inbox.received if m.subject.startswith("Welcome"))
    assert "https://app.example.com/login" in welcome.text
    assert 'href="https://app.example.com/login"' in welcome.html
    [mail] = verification_mails(smtp_server, alice.email)
    path, _ = mail.link()
    assert path == "verify-email"
    assert "7 days" in mail.text
    assert "alice@example.com" in mail.html


async def test_the_link_verifies_the_address_once(
    client: httpx.AsyncClient, smtp_server: SmtpServer, alice: Person
) -> None:
    assert await state(client, alice) == {
        "email": "alice@example.com",
        "verified": False,
        "verifiedAt": None,
    }
    [mail] = verification_mails(smtp_server, alice.email)
    _, token = mail.link()

    response = await verify(client, token)  # no credentials: the token is the proof

    assert response.status_code == 200, response.text
    verified = response.json()["emailVerification"]
    assert verified["email"] == "alice@example.com"
    assert verified["verified"] is True
    assert verified["verifiedAt"].endswith("Z")
    assert await state(client, alice) == verified
    assert_error(await verify(client, token), 400, "token", "has already been used")


async def test_the_conduit_user_object_is_unchanged(
    client: httpx.AsyncClient, alice: Person
) -> None:
    response = await client.get("/api/user", headers=alice.auth)
    assert set(response.json()["user"]) == {"email", "token", "username", "bio", "image"}


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    [mail] = verification_mails(smtp_server, alice.email)
    async with app.state.database.session() as session:
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_error(await verify(client, mail.link()[1]), 400, "token", "has expired")
    assert (await state(client, alice))["verified"] is False


async def test_an_email_change_needs_a_new_verification(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    [first] = verification_mails(smtp_server, alice.email)
    assert (await verify(client, first.link()[1])).status_code == 200
    moved = await client.put(
        "/api/user", json={"user": {"email": "new@example.com"}}, headers=alice.auth
    )
    assert moved.status_code == 200, moved.text

    assert (await state(client, alice))["verified"] is False
    await deliver(app)
    [second] = verification_mails(smtp_server, "new@example.com")
    assert (await verify(client, second.link()[1])).status_code == 200
    assert await state(client, alice) == {
        "email": "new@example.com",
        "verified": True,
        "verifiedAt": (await state(client, alice))["verifiedAt"],
    }


async def test_a_link_to_a_previous_address_stops_working(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    [old] = verification_mails(smtp_server, alice.email)
    await client.put("/api/user", json={"user": {"email": "new@example.com"}}, headers=alice.auth)

    assert_error(await verify(client, old.link()[1]), 400, "token", "is no longer valid")


async def test_an_unchanged_email_sends_no_mail(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    [mail] = verification_mails(smtp_server, alice.email)
    assert (await verify(client, mail.link()[1])).status_code == 200
    same = await client.put(
        "/api/user", json={"user": {"email": "ALICE@example.com", "bio": "hi"}}, headers=alice.auth
    )
    assert same.status_code == 200
    await deliver(app)
    assert len(verification_mails(smtp_server, alice.email)) == 1
    assert (await state(client, alice))["verified"] is True


async def test_the_mail_can_be_asked_for_again_until_verified(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    again = await client.post("/api/auth/email-verification", headers=alice.auth)
    assert again.status_code == 204, again.text
    await deliver(app)
    mails = verification_mails(smtp_server, alice.email)
    assert len(mails) == 2
    assert mails[0].link() != mails[1].link()
    assert (await verify(client, mails[1].link()[1])).status_code == 200

    refused = await client.post("/api/auth/email-verification", headers=alice.auth)
    assert_error(refused, 409, "email", "is already verified")


async def test_the_verification_state_needs_credentials(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/auth/email-verification"), 401, "token")
    assert_error(await client.post("/api/auth/email-verification"), 401, "token")


async def test_a_reset_token_cannot_verify_an_address(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, alice: Person
) -> None:
    await client.post("/api/auth/password-reset", json={"user": {"email": alice.email}})
    await deliver(app)
    reset = next(m for m in smtp_server.inbox.to(alice.email) if "Reset" in m.subject)
    assert_error(await verify(client, reset.link()[1]), 400, "token", "is invalid")


async def test_sending_again_is_rate_limited_per_user(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = base_settings(
        tmp_path,
        database_url,
        mail=mail_settings(smtp_server.port),
        rate_limit={"enabled": True, "verification_mail_per_user": "2/hour"},
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            bob = await register(http, "bob")
            answers = [
                (await http.post("/api/auth/email-verification", headers=bob.auth)).status_code
                for _ in range(3)
            ]
            carol = await register(http, "carol")
            other = await http.post("/api/auth/email-verification", headers=carol.auth)

    assert answers == [204, 204, 429]
    assert other.status_code == 204
