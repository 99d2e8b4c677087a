"""The whole path with the API process's own outbox relay: no test code delivers anything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pressroom.main import create_app
from tests.conftest import base_settings
from tests.factories import login, register
from tests.mail.conftest import Received, SmtpServer, mail_settings


@pytest.fixture
async def app(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[FastAPI]:
    settings = base_settings(
        tmp_path,
        database_url,
        mail=mail_settings(smtp_server.port),
        # Retries are due at once and found by the next poll.
        outbox={"relay": "in_process", "poll_interval": 0.05, "backoff_seconds": 0.05},
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def arrived(smtp_server: SmtpServer, address: str, subject: str) -> Received:
    """The mail, once the relay has sent it (within 10 seconds)."""
    async with asyncio.timeout(10):
        while True:
            for mail in smtp_server.inbox.to(address):
                if mail.subject.startswith(subject):
                    return mail
            await asyncio.sleep(0.02)


async def test_register_verify_and_reset_through_the_relay(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    alice = await register(client, "alice")
    await arrived(smtp_server, alice.email, "Welcome")
    verification = await arrived(smtp_server, alice.email, "Confirm")
    verified = await client.post("/api/auth/verify-email", json={"token": verification.link()[1]})
    assert verified.status_code == 200, verified.text

    asked = await client.post("/api/auth/password-reset", json={"user": {"email": alice.email}})
    assert asked.status_code == 204
    reset = await arrived(smtp_server, alice.email, "Reset")
    confirmed = await client.post(
        "/api/auth/password-reset/confirm",
        json={"token": reset.link()[1], "password": "through the relay"},
    )

    assert confirmed.status_code == 204, confirmed.text
    assert (await login(client, alice.email, "through the relay")).status_code == 200
    assert len(smtp_server.inbox.received) == 3


async def test_a_refusing_server_gets_the_mail_on_a_retry(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    smtp_server.inbox.refuse = True
    await register(client, "alice")
    await asyncio.sleep(0.3)  # a few refused attempts
    assert smtp_server.inbox.received == []

    smtp_server.inbox.refuse = False

    await arrived(smtp_server, "alice@example.com", "Welcome")
    await arrived(smtp_server, "alice@example.com", "Confirm")
    await asyncio.sleep(0.3)
    assert len(smtp_server.inbox.received) == 2  # each once, despite the retries
