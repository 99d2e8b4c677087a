"""Where mail goes: an SMTP server, or a folder of `.eml` files when none is configured."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

import aiosmtplib
import anyio

from pressroom.core.settings import MailSettings, Settings, SmtpSecurity

MAIL_FOLDER = "mail"
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")


class MailError(Exception):
    """The mail could not be handed over; the outbox delivery fails and is retried."""


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str
    # Stable per event and template: a mail sent twice (at-least-once delivery) carries the
    # same Message-ID, which receivers may use to drop the copy.
    message_id: str


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML as the richer part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class Mailer(Protocol):
    description: str
    """Where mails go, for logs: `smtp://host:port` or the folder's path."""

    async def send(self, mail: OutgoingMail) -> None:
        """Hand the mail over; `MailError` when that failed."""
        ...


class SmtpMailer:
    def __init__(self, settings: MailSettings) -> None:
        assert settings.smtp_host is not None
        self.settings = settings
        self.description = f"smtp://{settings.smtp_host}:{settings.port}"

    async def send(self, mail: OutgoingMail) -> None:
        settings = self.settings
        password = settings.smtp_password
        try:
            await aiosmtplib.send(
                build_message(mail, settings.sender),
                hostname=settings.smtp_host,
                port=settings.port,
                username=settings.smtp_username,
                password=password.get_secret_value() if password is not None else None,
                use_tls=settings.smtp_security is SmtpSecurity.TLS,
                # True: STARTTLS or fail, never a silent fallback to plain text.
                start_tls=settings.smtp_security is SmtpSecurity.STARTTLS,
                timeout=settings.smtp_timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(f"{self.description}: {type(exc).__name__}: {exc}") from exc


class FolderMailer:
    """Writes each mail as `<folder>/<message id>.eml`: open it in any mail client."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender
        self.description = str(folder)

    async def send(self, mail: OutgoingMail) -> None:
        data = bytes(build_message(mail, self.sender))
        name = _UNSAFE_FILE_CHARACTERS.sub("_", mail.message_id.strip("<>")) + ".eml"
        try:
            await anyio.to_thread.run_sync(self._write, name, data)
        except OSError as exc:
            raise MailError(f"{self.folder}: {exc}") from exc

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a mail.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".mail-")
        try:
            with os.fdopen(fd, "wb") as output:
                output.write(data)
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def create_mailer(settings: Settings) -> Mailer:
    """SMTP when `mail.smtp_host` is set, else the `<data dir>/mail` folder."""
    if settings.mail.smtp_host:
        return SmtpMailer(settings.mail)
    return FolderMailer(settings.data_dir / MAIL_FOLDER, settings.mail.sender)


def production_warnings(settings: Settings) -> list[str]:
    """What a production start should say about mail: it starts anyway (see docs/email.md)."""
    if not settings.is_production:
        return []
    warnings = []
    if not settings.mail.smtp_host:
        warnings.append(
            "no PRESSROOM_MAIL__SMTP_HOST set: account mails (password reset, verification) "
            f"are written to {settings.data_dir / MAIL_FOLDER} instead of being sent"
        )
    if settings.mail.base_url == MailSettings.model_fields["base_url"].default:
        warnings.append(
            "no PRESSROOM_MAIL__BASE_URL set: links in mails point to "
            f"{settings.mail.base_url}, not to your frontend"
        )
    return warnings
