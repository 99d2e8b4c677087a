"""Which exports this server process is streaming: one per user, at most N in all.

In-process only. Across processes on Postgres, the export's own connection also holds an
advisory lock (`repository.Snapshot`); on SQLite, which runs one process, this is the lock.
"""

from __future__ import annotations

from enum import Enum


class Entry(Enum):
    ENTERED = "entered"
    RUNNING = "running"  # this user already has one
    FULL = "full"  # the process streams its maximum


class ExportGate:
    def __init__(self, max_running: int) -> None:
        self.max_running = max_running
        self._users: set[int] = set()

    @property
    def running(self) -> int:
        return len(self._users)

    def enter(self, user_id: int) -> Entry:
        if user_id in self._users:
            return Entry.RUNNING
        if len(self._users) >= self.max_running:
            return Entry.FULL
        self._users.add(user_id)
        return Entry.ENTERED

    def leave(self, user_id: int) -> None:
        self._users.discard(user_id)
