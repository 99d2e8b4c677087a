"""Small writes that need not hold up the answer (a session's last-seen time).

Each runs as its own task and transaction; the lifespan waits for the ones in flight before
the database closes. A failure is logged and dropped: nothing here is a user's data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("pressroom.background")


class BackgroundWrites:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # a strong reference: the loop keeps only weak ones
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.warning("background write failed: %s: %s", type(error).__name__, error)

    async def drain(self) -> None:
        """Wait for every write in flight."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
