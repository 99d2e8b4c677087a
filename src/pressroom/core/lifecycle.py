"""Stopping without dropping requests: draining on SIGTERM and SIGINT.

The timeline after a stop signal, in each server process:

1. draining (`drain_seconds`): `/readyz` answers 503 at once, so load balancers take the
   process out of rotation, while it still accepts and serves every request;
2. closing: the server stops accepting and asks long-lived streams to end (`closing` is set);
   requests in flight finish within `shutdown_grace_seconds` (uvicorn's graceful shutdown);
3. the lifespan closes the database and Redis, and the process exits 0.

A second signal while draining skips the rest of the drain period; one while closing goes to
uvicorn (a second Ctrl+C stops at once). With `--workers N`, uvicorn's supervisor passes
SIGTERM and SIGINT on to every worker, so each worker drains alike.

Hook: uvicorn's `Server` installs its own signal handlers before it starts the app. The
lifespan puts ours in front of them and hands the signal on once the drain period is over.
Any other host of the app (tests, an embedding program) keeps its signals untouched.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

logger = logging.getLogger("pressroom.lifecycle")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Handler = Callable[[int, FrameType | None], Any]


class Lifecycle:
    """Where one server process is in its life; on `app.state.lifecycle`.

    Long-lived responses (streams) wait on `closing` and end when it is set: they must finish
    within the shutdown grace, or they are cancelled.
    """

    def __init__(self) -> None:
        self.draining = asyncio.Event()
        """Set when a stop signal arrives: not ready, still serving."""
        self.closing = asyncio.Event()
        """Set when the server stops accepting: streams must end now."""

    def drain(self) -> None:
        self.draining.set()

    def close(self) -> None:
        self.draining.set()
        self.closing.set()


def _is_uvicorn_handler(handler: object) -> bool:
    from uvicorn.server import Server

    return isinstance(getattr(handler, "__self__", None), Server)


@contextmanager
def draining_on_signals(lifecycle: Lifecycle, drain_seconds: float) -> Iterator[None]:
    """Puts draining in front of uvicorn's stop handlers while the block runs.

    Does nothing unless uvicorn's server handles the stop signals in this thread: signals
    reach only the main thread, and any other host keeps its own handling.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Handler] = {}
    for stop_signal in STOP_SIGNALS:
        handler = signal.getsignal(stop_signal)
        if not _is_uvicorn_handler(handler):
            yield
            return
        assert callable(handler)
        previous[stop_signal] = handler
    loop = asyncio.get_running_loop()
    pending: asyncio.TimerHandle | None = None

    def close(sig: int, frame: FrameType | None) -> None:
        nonlocal pending
        pending = None
        logger.info("closing: no new connections, requests in flight finish")
        lifecycle.close()
        previous[sig](sig, frame)  # uvicorn: stop accepting, graceful shutdown

    def stop(sig: int, frame: FrameType | None) -> None:
        if lifecycle.closing.is_set():
            previous[sig](sig, frame)
        elif lifecycle.draining.is_set():
            if pending is not None:
                pending.cancel()
            close(sig, frame)  # asked again: no more draining
        else:
            _start_draining(sig, frame)

    def _start_draining(sig: int, frame: FrameType | None) -> None:
        nonlocal pending
        lifecycle.drain()
        name = signal.Signals(sig).name
        logger.info("%s: draining for %ss (readiness 503, still serving)", name, drain_seconds)
        if drain_seconds > 0:
            pending = loop.call_later(drain_seconds, close, sig, frame)
        else:
            close(sig, frame)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        # A signal handler runs between two bytecodes of whatever the loop was doing: the
        # work itself is done by the loop, as its next callback.
        loop.call_soon_threadsafe(stop, sig, frame)

    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, on_signal)
    try:
        yield
    finally:
        if pending is not None:
            pending.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
