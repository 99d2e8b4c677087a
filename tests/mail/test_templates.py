"""Templates and the SMTP transport on their own."""

from __future__ import annotations

import pytest

from pressroom.core.mail import MailError, OutgoingMail, SmtpMailer
from pressroom.core.settings import MailSettings
from pressroom.mail import templates
from pressroom.mail.templates import Templates, lifetime_text
from tests.mail.conftest import SmtpServer, mail_settings


def render(name: str, username: str) -> OutgoingMail:
    settings = MailSettings(site_name="Press & Co", base_url="https://app.example.com/")
    return Templates(settings).render(
        name,
        to="a@example.com",
        message_id="<x@example.com>",
        username=username,
        email="a@example.com",
        link="https://app.example.com/verify-email?token=abc&x=<y>",
        lifetime="1 hour",
    )


@pytest.mark.parametrize("name", templates.NAMES)
def test_html_is_escaped_and_text_is_not(name: str) -> None:
    mail = render(name, "<b>bob</b>")
    assert "&lt;b&gt;bob&lt;/b&gt;" in mail.html
    assert "<b>bob</b>" not in mail.html
    assert "<b>bob</b>" in mail.text
    assert "Press &amp; Co" in mail.html
    assert "\n" not in mail.subject


def test_links_are_escaped_in_html_attributes() -> None:
    mail = render(templates.VERIFY_EMAIL, "bob")
    assert 'href="https://app.example.com/verify-email?token=abc&amp;x=&lt;y&gt;"' in mail.html
    assert "https://app.example.com/verify-email?token=abc&x=<y>" in mail.text


def test_a_subject_stays_one_line() -> None:
    assert render(templates.WELCOME, "bob\r\nBcc: eve@example.com").subject == (
        "Welcome to Press & Co, bob Bcc: eve@example.com"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600, "1 hour"),
        (7200, "2 hours"),
        (5400, "90 minutes"),
        (604800, "7 days"),
        (61, "1 minutes"),
    ],
)
def test_lifetimes_read_naturally(seconds: int, text: str) -> None:
    assert lifetime_text(seconds) == text


def test_links_join_the_base_url_without_a_double_slash() -> None:
    settings = MailSettings(base_url="https://app.example.com/")
    assert settings.links("reset-password", "t") == "https://app.example.com/reset-password?token=t"


@pytest.mark.parametrize(("security", "port"), [("tls", 465), ("starttls", 587), ("none", 25)])
def test_the_port_follows_the_security_mode(security: str, port: int) -> None:
    assert MailSettings(smtp_security=security).port == port


@pytest.fixture
def mail() -> OutgoingMail:
    return OutgoingMail("a@example.com", "Hi", "text", "<p>html</p>", "<1@example.com>")


async def test_starttls_is_required_never_skipped(
    smtp_server: SmtpServer, mail: OutgoingMail
) -> None:
    """The test server offers no STARTTLS: the mail is refused, not sent in the clear."""
    settings = MailSettings(**mail_settings(smtp_server.port, smtp_security="starttls"))
    with pytest.raises(MailError, match="STARTTLS"):
        await SmtpMailer(settings).send(mail)
    assert smtp_server.inbox.received == []


async def test_a_plain_connection_delivers(smtp_server: SmtpServer, mail: OutgoingMail) -> None:
    await SmtpMailer(MailSettings(**mail_settings(smtp_server.port))).send(mail)
    [received] = smtp_server.inbox.received
    assert received.envelope_to == ["a@example.com"]
    assert received.message["Message-ID"] == "<1@example.com>"
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert received.text.strip() == "text"
    assert received.html.strip() == "<p>html</p>"


def test_blank_smtp_values_mean_unset() -> None:
    settings = MailSettings(smtp_host=" ", smtp_port="", smtp_username="", smtp_password="")
    assert settings.smtp_host is None
    assert settings.smtp_port is None
    assert settings.smtp_username is None
    assert settings.smtp_password is None
