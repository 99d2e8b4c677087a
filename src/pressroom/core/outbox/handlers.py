"""What the relay hands an event to: handlers registered per event kind."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt at delivering one event. `key` is the idempotency key: a handler that
    must not act twice (send one email) deduplicates on it, since delivery is at least once."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempt: int  # 1 for the first delivery


Handler = Callable[[Delivery], Awaitable[None]]


class Handlers:
    """Event kind -> the handlers that act on it. An event succeeds when all of them do."""

    def __init__(self) -> None:
        self._by_kind: defaultdict[str, list[Handler]] = defaultdict(list)

    def on(self, kind: str, handler: Handler) -> None:
        self._by_kind[kind].append(handler)

    def for_kind(self, kind: str) -> list[Handler]:
        return list(self._by_kind.get(kind, ()))

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._by_kind)
