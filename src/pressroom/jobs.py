"""What happens when a domain event is delivered: the handlers of every event kind.

Both relays use this wiring: the one inside the API process (`PRESSROOM_OUTBOX__RELAY=
in_process`, started by main.py's lifespan) and `pressroom worker`. A kind with no handler is
marked delivered at once (its row stays for the retention window: live updates replay from
it). Handlers must tolerate a second delivery of one event: see docs/jobs.md.
"""

from __future__ import annotations

from pressroom.core.db import Database
from pressroom.core.outbox import Handlers
from pressroom.core.settings import Settings


def event_handlers(settings: Settings, database: Database) -> Handlers:
    """The handlers of each event kind, built once per process (`handlers.on(kind, handler)`;
    wrap database effects in `exactly_once`)."""
    return Handlers()
