"""Sending mail: SMTP (aiosmtplib) when configured, `.eml` files in a folder otherwise."""

from pressroom.core.mail.transport import (
    FolderMailer,
    Mailer,
    MailError,
    OutgoingMail,
    SmtpMailer,
    build_message,
    create_mailer,
    production_warnings,
)

__all__ = [
    "FolderMailer",
    "MailError",
    "Mailer",
    "OutgoingMail",
    "SmtpMailer",
    "build_message",
    "create_mailer",
    "production_warnings",
]
