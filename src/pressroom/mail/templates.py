"""The account mails' templates (Jinja2, shipped in `pressroom/mail/templates`).

Each mail `<name>` has three files: `<name>.subject.txt`, `<name>.txt` (plain text) and
`<name>.html`. HTML is autoescaped; a variable that is missing is an error, never a blank.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from pressroom.core.mail import OutgoingMail
from pressroom.core.settings import MailSettings

WELCOME = "welcome"
VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 (a template name)
NAMES = (WELCOME, VERIFY_EMAIL, PASSWORD_RESET)


def lifetime_text(seconds: int) -> str:
    """`1 hour`, `90 minutes`, `7 days`: how long a link works, for people."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds // 60} minutes" if seconds >= 60 else f"{seconds} seconds"


class Templates:
    def __init__(self, settings: MailSettings) -> None:
        loader = PackageLoader("pressroom.mail", "templates")
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "keep_trailing_newline": True,
        }
        self._text = Environment(autoescape=False, **common)  # noqa: S701 (plain text, not HTML)
        self._html = Environment(autoescape=True, **common)
        self._globals = {
            "site_name": settings.site_name,
            "base_url": settings.base_url.rstrip("/"),
        }

    def render(self, name: str, *, to: str, message_id: str, **context: Any) -> OutgoingMail:
        values = {**self._globals, **context}
        subject = self._text.get_template(f"{name}.subject.txt").render(values)
        return OutgoingMail(
            to=to,
            # One line, whatever a variable held: a header cannot be split.
            subject=" ".join(subject.split()),
            text=self._text.get_template(f"{name}.txt").render(values),
            html=self._html.get_template(f"{name}.html").render(values),
            message_id=message_id,
        )
