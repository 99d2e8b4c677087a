"""argon2id password hashing, run in a worker thread so the event loop never blocks."""

from __future__ import annotations

from functools import cached_property

import anyio
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from pressroom.core.settings import AuthSettings


class Passwords:
    def __init__(self, settings: AuthSettings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    memory_cost=settings.argon2_memory_cost,
                    time_cost=settings.argon2_time_cost,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )

    @cached_property
    def _dummy(self) -> str:
        # Checked against when the account does not exist, so both paths cost one hash.
        return self._hash.hash("pressroom-dummy-password")

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one uses outdated parameters)."""
        if hashed is None:
            # The dummy hash is made (once) in the worker thread too, never on the event loop.
            await anyio.to_thread.run_sync(lambda: self._hash.verify(password, self._dummy))
            return False, None
        return await anyio.to_thread.run_sync(self._hash.verify_and_update, password, hashed)
