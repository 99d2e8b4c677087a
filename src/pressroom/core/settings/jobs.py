"""The mail and outbox sections: work delivered after the request, by the outbox relay."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class MailSettings(BaseModel):
    """Outgoing email (account mails: welcome, verification, password reset); see
    docs/email.md. Without `smtp_host`, mails are written as `.eml` files to `<data dir>/mail`."""

    smtp_host: str | None = Field(
        default=None,
        description="SMTP server to send through. Unset: every mail is written as an `.eml` "
        "file to `<data dir>/mail/` instead (development; production warns at start).",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port. Default: 465 with `tls`, 587 with `starttls`, 25 with `none`.",
    )
    smtp_security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS,
        description="`starttls` (plain connection upgraded to TLS, refused if the server cannot), "
        "`tls` (implicit TLS from the first byte, usually port 465) or `none` (no encryption: "
        "only for a mail catcher on a private network).",
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login; unset sends without authentication."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds to connect to the SMTP server and for each of its replies; a "
        "timeout fails the delivery, which the outbox retries with backoff.",
    )
    sender: str = Field(
        default="Pressroom <no-reply@localhost>",
        min_length=3,
        description="`From` of every mail: `Name <address>` or a bare address.",
    )
    base_url: str = Field(
        default="http://localhost:3000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Public URL of the frontend that the links in mails point to: "
        "`{base_url}/reset-password?token=...` and `{base_url}/verify-email?token=...`.",
    )
    site_name: str = Field(
        default="Pressroom", min_length=1, max_length=100, description="Name used in mails."
    )
    password_reset_lifetime_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How long a password reset link works after it was asked for.",
    )
    verification_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=300,
        le=90 * 24 * 3600,
        description="How long an email verification link works after it was sent.",
    )

    @field_validator("smtp_host", "smtp_port", "smtp_username", "smtp_password", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `PRESSROOM_MAIL__SMTP_USERNAME=` (as compose passes an unset `${VAR:-}`) means none.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {SmtpSecurity.TLS: 465, SmtpSecurity.STARTTLS: 587}.get(self.smtp_security, 25)

    def links(self, path: str, token: str) -> str:
        """`{base_url}/{path}?token=...` (tokens are URL-safe base64)."""
        return f"{self.base_url.rstrip('/')}/{path}?token={token}"


class RelayMode(StrEnum):
    IN_PROCESS = "in_process"
    EXTERNAL = "external"


class OutboxSettings(BaseModel):
    """The outbox relay: delivering domain events to their handlers; see docs/jobs.md."""

    relay: RelayMode = Field(
        default=RelayMode.IN_PROCESS,
        description="`in_process`: each API process runs a relay (the embedded default); "
        "`external`: the API only records events and `pressroom worker` processes deliver "
        "them (the fleet).",
    )
    poll_interval: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds between looks for due events when nothing woke the relay (a "
        "commit in the same process wakes it at once; retries and other processes' events "
        "are found by polling).",
    )
    batch_size: int = Field(
        default=20, ge=1, le=1000, description="Events claimed at once by one relay."
    )
    concurrency: int = Field(
        default=4, ge=1, le=100, description="Events of a batch delivered at the same time."
    )
    handler_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds one event's handlers may take; longer counts as a failed attempt.",
    )
    lease_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How long a claimed event stays reserved for the relay that claimed it. A "
        "relay that dies mid-batch leaves its events to another relay once the lease expires. "
        "Must exceed `handler_timeout` x ceil(`batch_size` / `concurrency`).",
    )
    max_attempts: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Attempts before an event is dead-lettered (kept for an admin to retry).",
    )
    backoff_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Delay before the first retry; each further retry waits twice as long "
        "(with random jitter of up to half the delay).",
    )
    backoff_max_seconds: float = Field(
        default=3600.0, gt=0, le=7 * 86400, description="Longest delay between two attempts."
    )
    retention_hours: float = Field(
        default=24.0,
        ge=1,
        le=24 * 365,
        description="Delivered events are kept this long, then purged by the relay (live "
        "updates replay missed events from them, so keep it at least as long as that window). "
        "Dead letters are never purged automatically.",
    )

    @model_validator(mode="after")
    def _lease_covers_a_batch(self) -> Self:
        rounds = -(-self.batch_size // self.concurrency)
        if self.lease_seconds <= self.handler_timeout * rounds:
            raise ValueError(
                f"outbox lease_seconds ({self.lease_seconds:g}) must exceed handler_timeout x "
                f"ceil(batch_size / concurrency) = {self.handler_timeout * rounds:g}, or a slow "
                "batch would be delivered twice"
            )
        return self
