"""How many live connections each user (or anonymous IP) holds in this worker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from pressroom.core.errors import TooManyRequests


class TooManyStreams(TooManyRequests):
    field = "streams"


class StreamSlots:
    """Counts open streams and sockets per key (`user:<id>` or `ip:<address>`) in this worker.

    With several workers, each counts its own: a client can hold up to the cap on each
    worker it reaches (docs/live.md).
    """

    def __init__(self, per_user: int, per_ip: int) -> None:
        self.per_user = per_user
        self.per_ip = per_ip
        self._open: Counter[str] = Counter()

    def acquire(self, user_id: int | None, ip: str) -> str:
        """Take a slot, or raise `TooManyStreams`; returns the key to release."""
        if user_id is not None:
            key, limit, who = f"user:{user_id}", self.per_user, "this user"
        else:
            key, limit, who = f"ip:{ip}", self.per_ip, "this address"
        if self._open[key] >= limit:
            raise TooManyStreams(
                5, f"{who} already holds {limit} live streams: close one before opening another"
            )
        self._open[key] += 1
        return key

    def release(self, key: str) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]

    @contextmanager
    def held(self, user_id: int | None, ip: str) -> Iterator[None]:
        key = self.acquire(user_id, ip)
        try:
            yield
        finally:
            self.release(key)

    def count(self, key: str) -> int:
        return self._open[key]
