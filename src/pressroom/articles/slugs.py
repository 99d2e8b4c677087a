"""Slugs: lower case, words joined by `-`, non-ASCII transliterated, unique."""

from __future__ import annotations

import secrets

from slugify import slugify

MAX_BASE_LENGTH = 200
# Paths that a slug must never shadow: GET /articles/feed is the feed, not an article.
RESERVED = frozenset({"feed"})
FALLBACK = "article"


def base_slug(title: str) -> str:
    return slugify(title, max_length=MAX_BASE_LENGTH, word_boundary=True) or FALLBACK


def unique_variant(base: str) -> str:
    return f"{base}-{secrets.token_hex(4)}"


def is_reserved(slug: str) -> bool:
    return slug in RESERVED
