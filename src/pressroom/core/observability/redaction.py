"""Secrets never reach a log line: known sensitive keys are masked, credentials in text scrubbed.

Pressroom never logs headers or bodies in the first place; this is the second line, for a
library or a future change that logs more than it should.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "cookie",
        "cookies",
        "set-cookie",
        "set_cookie",
        "x-api-key",
        "x_api_key",
        "api_key",
        "apikey",
        "headers",
        "body",
    }
)
# Any key naming one of these is sensitive: `password`, `new_password`, `refresh_token`, ...
SENSITIVE_PARTS = ("password", "passwd", "secret", "token", "credential")
# Credentials that may hide in free text: JWTs, Pressroom API keys, `Bearer`/`Token` values.
_IN_TEXT = re.compile(
    r"eyJ[\w-]+\.[\w-]+\.[\w-]*|prk_[\w-]+|\b(?:Bearer|Token|Basic)\s+[\w.~+/=-]+", re.IGNORECASE
)
_TEXT_KEYS = ("event", "exception")
MIN_CREDENTIAL_TEXT = 16


def is_sensitive(key: str) -> bool:
    verdict = _verdicts.get(key)
    if verdict is None:
        name = key.lower()
        verdict = name in SENSITIVE_KEYS or any(part in name for part in SENSITIVE_PARTS)
        if len(_verdicts) < MAX_REMEMBERED:
            _verdicts[key] = verdict
    return verdict


# Log lines use a handful of keys, over and over: each is judged once.
MAX_REMEMBERED = 4096
_verdicts: dict[str, bool] = {}


def scrub(text: str) -> str:
    """`text` with anything that looks like a token or an API key replaced."""
    return _IN_TEXT.sub(REDACTED, text)


# The pipeline's own fields and the access line's: plain values, never secrets. Skipping them
# keeps redaction cheap on the line written for every request.
KNOWN_SAFE = frozenset(
    {
        "event",
        "level",
        "logger",
        "timestamp",
        "request_id",
        "trace_id",
        "span_id",
        "method",
        "route",
        "path",
        "status",
        "duration_ms",
        "user_id",
        "client",
        "exception",
    }
)


def _redact_mapping(values: MutableMapping[str, Any], known_safe: frozenset[str]) -> None:
    for key in values:
        if key in known_safe:
            continue
        if is_sensitive(key):
            values[key] = REDACTED  # replacing a value while iterating is safe; adding is not
        elif type(values[key]) is dict:
            _redact_mapping(values[key], frozenset())


def redact(_logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """A structlog processor: sensitive keys masked, credentials scrubbed from the message."""
    _redact_mapping(event_dict, KNOWN_SAFE)
    for key in _TEXT_KEYS:
        text = event_dict.get(key)
        # Shorter text cannot hold a credential: the access line's "request" skips the regex.
        if type(text) is str and len(text) >= MIN_CREDENTIAL_TEXT:
            event_dict[key] = scrub(text)
    return event_dict
