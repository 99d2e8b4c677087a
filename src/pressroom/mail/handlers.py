"""The account mails, sent by outbox handlers when the relay delivers an event.

- `user.registered`: a welcome mail and a verification mail;
- `user.updated` with `email` among the fields: a verification mail to the new address;
- `mail.verify_email` (asked again through the API): a verification mail;
- `mail.password_reset`: a reset mail, when the address belongs to an active account.

Delivery is at least once. Each (event key, template) pair is sent once: `processed_events`
records it (handler `mail.<template>`) after the SMTP server accepted the mail, and a
redelivery finds it there. A failure to hand
the mail over raises, so the relay retries it with backoff. Tokens are made here, at delivery,
and only their hashes are stored: the outbox never holds a usable link.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pressroom.auth import account_tokens
from pressroom.auth import events as auth_events
from pressroom.auth.account_tokens import AccountTokenRepository
from pressroom.core.db import Database
from pressroom.core.mail import Mailer, create_mailer
from pressroom.core.models import utcnow
from pressroom.core.outbox import Delivery, Handlers
from pressroom.core.settings import Settings
from pressroom.mail import templates
from pressroom.mail.repository import SentMailRepository
from pressroom.mail.templates import Templates, lifetime_text
from pressroom.users import events as user_events
from pressroom.users.models import User
from pressroom.users.repository import UserRepository

logger = logging.getLogger("pressroom.mail")

RESET_PATH = "reset-password"
VERIFY_PATH = "verify-email"

Prepared = tuple[str, dict[str, Any]] | None
"""The recipient and the template's variables, or None: no mail for this event."""


def _active(user: User | None) -> User | None:
    if user is None or user.deleted_at is not None or user.suspended_at is not None:
        return None
    return user


class AccountMails:
    def __init__(self, settings: Settings, database: Database, mailer: Mailer | None = None):
        self.settings = settings.mail
        self.database = database
        self.mailer = mailer if mailer is not None else create_mailer(settings)
        self.templates = Templates(settings.mail)
        domain = parseaddr(settings.mail.sender)[1].rpartition("@")[2]
        self._message_domain = domain or "pressroom.invalid"

    def register(self, handlers: Handlers) -> None:
        handlers.on(user_events.REGISTERED, self.welcome)
        handlers.on(user_events.REGISTERED, self.verification)
        handlers.on(user_events.UPDATED, self.verification_of_new_email)
        handlers.on(auth_events.VERIFICATION_REQUESTED, self.verification)
        handlers.on(auth_events.PASSWORD_RESET_REQUESTED, self.password_reset)

    async def welcome(self, delivery: Delivery) -> None:
        async def prepare(session: AsyncSession) -> Prepared:
            user = _active(await UserRepository(session).get(delivery.payload["user_id"]))
            if user is None:
                return None
            return user.email, {"username": user.username}

        await self._send_once(delivery, templates.WELCOME, prepare)

    async def verification(self, delivery: Delivery) -> None:
        lifetime = self.settings.verification_lifetime_seconds

        async def prepare(session: AsyncSession) -> Prepared:
            user = _active(await UserRepository(session).get(delivery.payload["user_id"]))
            if user is None or user.email_verified_at is not None:
                return None
            token = await AccountTokenRepository(session).issue(
                user, account_tokens.VERIFY_EMAIL, now=utcnow(), lifetime=lifetime
            )
            return user.email, {
                "username": user.username,
                "email": user.email,
                "link": self.settings.links(VERIFY_PATH, token),
                "lifetime": lifetime_text(lifetime),
            }

        await self._send_once(delivery, templates.VERIFY_EMAIL, prepare)

    async def verification_of_new_email(self, delivery: Delivery) -> None:
        if "email" in delivery.payload.get("fields", ()):
            # Skipped by `verification` when the address did not actually change.
            await self.verification(delivery)

    async def password_reset(self, delivery: Delivery) -> None:
        lifetime = self.settings.password_reset_lifetime_seconds

        async def prepare(session: AsyncSession) -> Prepared:
            user = _active(await UserRepository(session).get_by_email(delivery.payload["email"]))
            # The link's lifetime runs from the request: a late delivery sends no dead link.
            asked_at = delivery.created_at
            if user is None or asked_at + timedelta(seconds=lifetime) <= utcnow():
                return None
            token = await AccountTokenRepository(session).issue(
                user, account_tokens.PASSWORD_RESET, now=asked_at, lifetime=lifetime
            )
            return user.email, {
                "username": user.username,
                "link": self.settings.links(RESET_PATH, token),
                "lifetime": lifetime_text(lifetime),
            }

        await self._send_once(delivery, templates.PASSWORD_RESET, prepare)

    async def _send_once(
        self,
        delivery: Delivery,
        template: str,
        prepare: Callable[[AsyncSession], Awaitable[Prepared]],
    ) -> None:
        # The token is committed before the mail leaves: its link works as soon as it arrives.
        # No transaction stays open while the SMTP server is talked to.
        async with self.database.session() as session:
            if await SentMailRepository(session).sent(delivery.key, template):
                return
            prepared = await prepare(session)
        if prepared is None:
            return
        to, context = prepared
        message_id = f"<{delivery.key}.{template}@{self._message_domain}>"
        mail = self.templates.render(template, to=to, message_id=message_id, **context)
        await self.mailer.send(mail)
        async with self.database.session() as session:
            await SentMailRepository(session).mark(delivery.key, template)
        logger.info(
            "mail %s sent for event %s via %s", template, delivery.key, self.mailer.description
        )
