"""What happens when the outbox relay delivers an event: the handlers for each event kind.

The in-process relay (main.py) and `pressroom worker` both build their handlers here.
"""

from __future__ import annotations

from pressroom.core.db import Database
from pressroom.core.outbox import Handlers
from pressroom.core.settings import Settings
from pressroom.mail.handlers import AccountMails


def event_handlers(settings: Settings, database: Database) -> Handlers:
    handlers = Handlers()
    # Welcome, verification and password reset mails.
    AccountMails(settings, database).register(handlers)
    return handlers
