"""`pressroom serve` with one handler more: every outbox delivery is recorded in Redis.

The fleet's workers run this instead of `python -m pressroom` so a test can count how often
each event (by its idempotency key) was handed to a handler, whichever worker's relay did it.
Everything else is the production code path: the handlers of `pressroom.jobs` still run, and
the recorder is one more handler of every event kind.

    python -m tests.fleet.recording_serve serve --port 8001
"""

from __future__ import annotations

import os

import orjson
import redis.asyncio

import pressroom.main
from pressroom import jobs
from pressroom.articles import events as article_events
from pressroom.cli import main as cli
from pressroom.comments import events as comment_events
from pressroom.core.db import Database
from pressroom.core.outbox import Delivery, Handlers
from pressroom.core.settings import Settings
from pressroom.profiles import events as profile_events
from pressroom.users import events as user_events

KINDS = (
    user_events.REGISTERED,
    user_events.UPDATED,
    article_events.CREATED,
    article_events.UPDATED,
    article_events.DELETED,
    article_events.FAVORITED,
    article_events.UNFAVORITED,
    comment_events.CREATED,
    comment_events.DELETED,
    profile_events.FOLLOWED,
    profile_events.UNFOLLOWED,
)

_production_handlers = jobs.event_handlers


def deliveries_key(key_prefix: str) -> str:
    """The Redis list of recorded deliveries: JSON {key, kind, attempt, pid} per delivery."""
    return f"{key_prefix}:fleet:deliveries"


def recording_handlers(settings: Settings, database: Database) -> Handlers:
    handlers = _production_handlers(settings, database)
    if settings.redis.url is None:
        raise SystemExit("recording_serve needs PRESSROOM_REDIS__URL")
    client = redis.asyncio.Redis.from_url(settings.redis.url.get_secret_value())
    deliveries = deliveries_key(settings.redis.key_prefix)
    pid = os.getpid()

    async def record(delivery: Delivery) -> None:
        entry = {"key": delivery.key, "kind": delivery.kind, "attempt": delivery.attempt}
        await client.rpush(deliveries, orjson.dumps({**entry, "pid": pid}))

    for kind in KINDS:
        handlers.on(kind, record)
    return handlers


def main() -> None:
    # main.py imported `event_handlers` by name: the relay it starts looks it up there.
    jobs.event_handlers = recording_handlers
    pressroom.main.event_handlers = recording_handlers  # type: ignore[attr-defined]
    cli()


if __name__ == "__main__":
    main()
