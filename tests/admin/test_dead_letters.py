"""Admins list outbox dead letters and send them back to the relay; the retry is audited."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from pressroom.admin.models import AuditRecord
from pressroom.core.db import Database
from pressroom.core.outbox import CommittedEvent, Delivery, Handlers
from pressroom.core.outbox.relay import Relay
from pressroom.core.settings import OutboxSettings
from tests.factories import TIMESTAMP, assert_error, caller_headers, db_rows, make_admin
from tests.outbox.helpers import add_events, ago, outbox_row, set_columns

URL = "/api/admin/outbox/dead-letters"


async def kill(
    database: Database, count: int, kind: str = "article.created"
) -> list[CommittedEvent]:
    """`count` events that failed every attempt, through a real relay."""
    events = await add_events(database, kind, count, email="someone@example.com")

    async def refuse(_delivery: Delivery) -> None:
        raise ConnectionRefusedError("mail server refused the connection")

    handlers = Handlers()
    handlers.on(kind, refuse)
    relay = Relay(database, handlers, OutboxSettings(max_attempts=1))
    await relay.deliver_due()  # (events of other kinds, handled by nobody, are settled too)
    for event in events:
        assert (await outbox_row(database, event.id)).dead_at is not None
    return events


async def test_admins_list_dead_letters_newest_first_without_payloads(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    database: Database = app.state.database
    older, newer = await kill(database, 2)
    await set_columns(database, [older.id], dead_at=ago(minutes=5))
    await add_events(database, "comment.created")  # pending: not a dead letter

    response = await client.get(URL, headers=admin.auth)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deadLettersCount"] == 2
    letters = body["deadLetters"]
    assert [letter["id"] for letter in letters] == [newer.id, older.id]
    first = letters[0]
    assert set(first) == {
        "id",
        "key",
        "kind",
        "attempts",
        "lastError",
        "createdAt",
        "nextAttemptAt",
        "deadAt",
    }
    assert (first["key"], first["kind"], first["attempts"]) == (newer.key, "article.created", 1)
    assert first["lastError"] == "ConnectionRefusedError: mail server refused the connection"
    assert TIMESTAMP.match(first["createdAt"])
    assert TIMESTAMP.match(first["deadAt"])
    assert "someone@example.com" not in response.text

    page = await client.get(URL, params={"limit": 1, "offset": 1}, headers=admin.auth)
    assert [letter["id"] for letter in page.json()["deadLetters"]] == [older.id]
    assert page.json()["deadLettersCount"] == 2


async def test_a_retried_dead_letter_is_delivered_again_and_audited(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    database: Database = app.state.database
    [event] = await kill(database, 1)

    response = await client.post(f"{URL}/{event.id}/retry", headers=admin.auth)

    assert response.status_code == 200, response.text
    letter = response.json()["deadLetter"]
    assert (letter["id"], letter["attempts"], letter["deadAt"]) == (event.id, 0, None)
    assert (await client.get(URL, headers=admin.auth)).json()["deadLettersCount"] == 0
    audit = await db_rows(
        app, select(AuditRecord.action, AuditRecord.target_type, AuditRecord.target_id)
    )
    assert audit[-1] == ("outbox.retry", "outbox_event", str(event.id))
    listed = (await client.get("/api/admin/audit", headers=admin.auth)).json()["auditRecords"]
    assert listed[0]["details"] == {"kind": "article.created", "key": event.key, "attempts": 1}

    # Due again: the next relay delivers it, this time to a handler that works.
    delivered: list[Delivery] = []

    async def works(delivery: Delivery) -> None:
        delivered.append(delivery)

    handlers = Handlers()
    handlers.on("article.created", works)
    await Relay(database, handlers, OutboxSettings()).deliver_due()
    assert [(d.key, d.attempt) for d in delivered] == [(event.key, 1)]
    assert (await outbox_row(database, event.id)).delivered_at is not None

    # No longer dead: a second retry is a 404.
    again = await client.post(f"{URL}/{event.id}/retry", headers=admin.auth)
    assert_error(again, 404, "outbox_event")


async def test_retrying_an_unknown_or_live_event_is_404(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(client, app)
    [pending] = await add_events(app.state.database, "comment.created")
    audit_before = await db_rows(app, select(AuditRecord.id))

    unknown = await client.post(f"{URL}/999999/retry", headers=admin.auth)
    live = await client.post(f"{URL}/{pending.id}/retry", headers=admin.auth)
    bad = await client.post(f"{URL}/0/retry", headers=admin.auth)

    assert_error(unknown, 404, "outbox_event", "no dead letter with this id")
    assert_error(live, 404, "outbox_event")
    assert bad.status_code == 422
    assert await db_rows(app, select(AuditRecord.id)) == audit_before


@pytest.mark.parametrize("caller", ["anonymous", "bad-token", "other"])
async def test_only_admins_see_or_retry_dead_letters(
    client: httpx.AsyncClient, app: FastAPI, caller: str
) -> None:
    [event] = await kill(app.state.database, 1)
    headers = await caller_headers(client, caller)

    listing = await client.get(URL, headers=headers)
    retry = await client.post(f"{URL}/{event.id}/retry", headers=headers)

    expected = 403 if caller == "other" else 401
    assert listing.status_code == expected
    assert retry.status_code == expected
    assert (await outbox_row(app.state.database, event.id)).dead_at is not None
