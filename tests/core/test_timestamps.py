"""Timestamps in answers: ISO 8601 in UTC with milliseconds, whatever zone the value has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pressroom.core.models import isoformat, utcnow


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 2, 18, 3, 22, 56, 637000, tzinfo=UTC), "2026-02-18T03:22:56.637Z"),
        (datetime(2026, 2, 18, 3, 22, 56, tzinfo=UTC), "2026-02-18T03:22:56.000Z"),
        (datetime(2026, 2, 18, 3, 22, 56, 637999, tzinfo=UTC), "2026-02-18T03:22:56.637Z"),
        (
            datetime(2026, 2, 18, 5, 22, 56, 1000, tzinfo=timezone(timedelta(hours=2))),
            "2026-02-18T03:22:56.001Z",
        ),
        (
            datetime(2026, 2, 17, 22, 22, 56, tzinfo=timezone(timedelta(hours=-5))),
            "2026-02-18T03:22:56.000Z",
        ),
    ],
)
def test_isoformat_is_utc_with_milliseconds(value: datetime, expected: str) -> None:
    assert isoformat(value) == expected


def test_utcnow_round_trips_through_isoformat() -> None:
    now = utcnow()
    assert datetime.fromisoformat(isoformat(now).replace("Z", "+00:00")) == now
