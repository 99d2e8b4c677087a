"""A real SMTP server (aiosmtpd) on loopback, and delivery of outbox events to the handlers."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from sqlalchemy import select, update

from pressroom.core.models import utcnow
from pressroom.core.outbox import Delivery, Handlers, OutboxEvent
from pressroom.core.settings import Settings
from tests.conftest import base_settings
from tests.test_server_process import free_port

LINK = re.compile(
    r"https://app\.example\.com/(reset-password|verify-email)\?token=([A-Za-z0-9_-]+)"
)
BASE_URL = "https://app.example.com"


@dataclass
class Received:
    envelope_to: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())

    def link(self) -> tuple[str, str]:
        """(path, token) of the link in the text part, which the HTML part carries too."""
        found = LINK.search(self.text)
        assert found is not None, self.text
        assert found.group(0) in self.html
        return found.group(1), found.group(2)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class Inbox:
    """What the SMTP server accepted. `refuse` makes it answer 451 to every message."""

    received: list[Received] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if self.refuse:
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), raw, parse(raw)))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [mail for mail in self.received if address in mail.envelope_to]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


def mail_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_timeout": 5,
        "sender": "Pressroom <no-reply@pressroom.test>",
        "base_url": BASE_URL,
        **extra,
    }


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return base_settings(tmp_path, database_url, mail=mail_settings(smtp_server.port))


async def pending(app: FastAPI) -> list[Delivery]:
    async with app.state.database.session(readonly=True) as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.dead_at.is_(None))
            .order_by(OutboxEvent.id)
        )
        return [
            Delivery(row.id, row.key, row.kind, row.payload, row.created_at, row.attempts + 1)
            for row in rows
        ]


async def deliver(app: FastAPI) -> list[Delivery]:
    """What the relay does: every pending event to its handlers, then marked delivered."""
    handlers: Handlers = app.state.event_handlers
    deliveries = await pending(app)
    for delivery in deliveries:
        for handler in handlers.for_kind(delivery.kind):
            await handler(delivery)
        async with app.state.database.session() as session:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == delivery.id)
                .values(delivered_at=utcnow(), attempts=delivery.attempt)
            )
    return deliveries
