"""One id per request: taken from a sane `X-Request-ID` or made up, echoed on every answer.

The id is kept in a context variable (`current_request_id()`) and in `scope["state"]`, so the
500 handler, and later the logs, can name it. `core.hardening` applies it.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

HEADER = b"x-request-id"
# Ids from a client or a proxy end up in logs and answers: short, and nothing to escape.
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,128}")

request_id_var: ContextVar[str | None] = ContextVar("pressroom_request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def request_id_from(incoming: bytes | None) -> bytes:
    """The client's id when it is sane, a new one otherwise."""
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return os.urandom(16).hex().encode()  # 128 random bits, 32 hex digits
