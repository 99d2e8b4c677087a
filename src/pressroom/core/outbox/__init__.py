"""The transactional outbox: domain events written in the same transaction as the change.

`record(session, kind, payload)` inserts one row into `outbox_events` inside the request's
transaction, so the event exists exactly when the change does. After the commit, the events
are handed to the database's commit listeners (live updates, cache invalidation, waking the
relay); the relay (`relay.py`) delivers them to their handlers at least once, and
`exactly_once` / `first_time` (`idempotency.py`) let a handler act once per event anyway.
"""

from pressroom.core.outbox.handlers import Delivery, Handler, Handlers
from pressroom.core.outbox.idempotency import exactly_once, first_time
from pressroom.core.outbox.models import OutboxEvent, ProcessedEvent
from pressroom.core.outbox.record import CommittedEvent, committed_events, record

__all__ = [
    "CommittedEvent",
    "Delivery",
    "Handler",
    "Handlers",
    "OutboxEvent",
    "ProcessedEvent",
    "committed_events",
    "exactly_once",
    "first_time",
    "record",
]
