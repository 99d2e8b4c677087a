"""The API key format: `prk_<prefix>_<secret>`. The prefix finds the row; only a hash of the
secret is stored, and it is compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PUBLIC_PREFIX = "prk_"
PREFIX_BYTES = 6  # 12 hex characters: a public lookup id, unique per key
SECRET_BYTES = 32
_FORMAT = re.compile(r"^prk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# Compared against when no key has the prefix, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"pressroom-no-such-key").hexdigest()


@dataclass(frozen=True, slots=True)
class NewKey:
    prefix: str
    secret_hash: str
    plaintext: str  # shown to its owner once, never stored


def generate() -> NewKey:
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return NewKey(prefix, digest(secret), f"{PUBLIC_PREFIX}{prefix}_{secret}")


def split(presented: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key; None for anything else."""
    match = _FORMAT.match(presented)
    return (match.group(1), match.group(2)) if match else None


def digest(secret: str) -> str:
    # A key is 256 random bits, not a password: a fast hash is the right tool (no brute force
    # of a 256-bit space), and it keeps every machine request cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_hash: str | None) -> bool:
    expected = stored_hash if stored_hash is not None else _DUMMY_HASH
    return hmac.compare_digest(digest(secret), expected) and stored_hash is not None
