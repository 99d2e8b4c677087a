"""The mail handlers as the relay calls them: once per event, retried after a failure."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from pressroom.core.mail import MailError
from pressroom.core.models import utcnow
from pressroom.core.outbox import Delivery, Handlers, ProcessedEvent
from pressroom.main import create_app
from pressroom.users.models import User
from tests.conftest import base_settings
from tests.factories import register
from tests.mail.conftest import BASE_URL, SmtpServer, deliver, parse, pending
from tests.test_server_process import free_port


async def run(app: FastAPI, delivery: Delivery) -> None:
    handlers: Handlers = app.state.event_handlers
    for handler in handlers.for_kind(delivery.kind):
        await handler(delivery)


async def sent_rows(app: FastAPI) -> int:
    async with app.state.database.session(readonly=True) as session:
        count: int = (
            await session.scalar(select(func.count()).where(ProcessedEvent.handler.like("mail.%")))
            or 0
        )
    return count


async def test_a_redelivered_event_sends_nothing_twice(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer
) -> None:
    await register(client, "alice")
    [registered] = await pending(app)
    assert registered.kind == "user.registered"

    await run(app, registered)
    await run(app, registered)  # at least once: the relay may deliver it again

    assert len(smtp_server.inbox.received) == 2  # welcome and verification, once each
    assert await sent_rows(app) == 2
    ids = {mail.message["Message-ID"] for mail in smtp_server.inbox.received}
    assert ids == {
        f"<{registered.key}.welcome@pressroom.test>",
        f"<{registered.key}.verify_email@pressroom.test>",
    }


async def test_a_refused_mail_raises_so_the_relay_retries(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer
) -> None:
    await register(client, "alice")
    [registered] = await pending(app)
    smtp_server.inbox.refuse = True

    with pytest.raises(MailError, match="451"):
        await run(app, registered)
    assert await sent_rows(app) == 0

    smtp_server.inbox.refuse = False
    await run(app, registered)
    assert sorted(mail.subject for mail in smtp_server.inbox.received) == [
        "Confirm your email address for Pressroom",
        "Welcome to Pressroom, alice",
    ]


async def test_an_unreachable_server_raises(database_url: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = base_settings(
        tmp_path,
        database_url,
        mail={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"},
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await register(http, "alice")
        [registered] = await pending(application)
        with pytest.raises(MailError, match=f"smtp://127.0.0.1:{port}"):
            await run(application, registered)


@pytest.mark.parametrize("state", ["suspended_at", "deleted_at"])
async def test_an_inactive_account_gets_no_mail(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer, state: str
) -> None:
    await register(client, "alice")
    async with app.state.database.session() as session:
        await session.execute(update(User).values({state: utcnow()}))
    await client.post("/api/auth/password-reset", json={"user": {"email": "alice@example.com"}})

    assert len(await deliver(app)) == 2
    assert smtp_server.inbox.received == []


async def test_a_reset_delivered_after_its_lifetime_sends_no_dead_link(
    client: httpx.AsyncClient, app: FastAPI, smtp_server: SmtpServer
) -> None:
    await register(client, "alice")
    await deliver(app)
    await client.post("/api/auth/password-reset", json={"user": {"email": "alice@example.com"}})
    [late] = await pending(app)
    two_hours_ago = late.created_at - timedelta(hours=2)
    late = Delivery(late.id, late.key, late.kind, late.payload, two_hours_ago, late.attempt)

    await run(app, late)

    assert [mail.subject for mail in smtp_server.inbox.received if "Reset" in mail.subject] == []


async def test_without_smtp_mails_are_files_in_the_data_directory(
    database_url: str, tmp_path: Path
) -> None:
    settings = base_settings(tmp_path, database_url, mail={"base_url": BASE_URL})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await register(http, "alice")
            await deliver(application)
            await deliver(application)

    files = sorted((tmp_path / "mail").iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]
    messages = [parse(path.read_bytes()) for path in files]
    assert {str(message["To"]) for message in messages} == {"alice@example.com"}
    subjects = {str(message["Subject"]) for message in messages}
    assert subjects == {"Welcome to Pressroom, alice", "Confirm your email address for Pressroom"}
    for message in messages:
        assert message.get_body(preferencelist=("plain",)) is not None
        assert message.get_body(preferencelist=("html",)) is not None


PRODUCTION = {"env": "production", "security": {"allowed_hosts": ["test"]}}


async def test_production_without_smtp_warns_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = base_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", **PRODUCTION)
    application = create_app(settings)
    with caplog.at_level(logging.WARNING, logger="pressroom"):
        async with application.router.lifespan_context(application):
            pass
    warnings = [record.getMessage() for record in caplog.records]
    assert any("PRESSROOM_MAIL__SMTP_HOST" in text and str(tmp_path) in text for text in warnings)
    assert any("PRESSROOM_MAIL__BASE_URL" in text for text in warnings)


async def test_production_with_smtp_and_a_base_url_starts_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mail = {"smtp_host": "smtp.example.com", "base_url": BASE_URL}
    settings = base_settings(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", mail=mail, **PRODUCTION
    )
    application = create_app(settings)
    with caplog.at_level(logging.WARNING, logger="pressroom"):
        async with application.router.lifespan_context(application):
            pass
    assert not [r for r in caplog.records if "PRESSROOM_MAIL" in r.getMessage()]
