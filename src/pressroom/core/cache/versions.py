"""Version counters: what each cached answer depends on, and what each write changes.

A cached answer is stored with the values its counters had *before* it was read from the
database; it is served only while they still have those values. A write bumps the counters
of what it changed, so every answer that depended on them stops matching at once, on every
worker sharing the store, including an answer a slow reader stores after the write.

Event kinds are the domains' outbox events (see core/outbox); they are matched here by name
so that core imports no domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pressroom.core.cache.store import EPOCH

LISTS = "v:lists"
"""Every article list (filters and pages) and the tag list."""
AUTHORS = "v:authors"
"""Every author block (bio, image, username) shown in articles and comments, and which
authors' content is visible at all (soft delete)."""


KINDS = (
    "article.created",
    "article.updated",
    "article.deleted",
    "article.favorited",
    "article.unfavorited",
    "comment.created",
    "comment.deleted",
    "user.updated",
    "user.moderated",
)
"""The event kinds that change a cached answer (for registering an outbox handler)."""


def article(slug: str) -> str:
    return f"v:article:{slug}"


def comments(slug: str) -> str:
    return f"v:comments:{slug}"


def profile(username: str) -> str:
    return f"v:profile:{username.lower()}"


def for_article(slug: str) -> list[str]:
    return [EPOCH, AUTHORS, article(slug)]


def for_comments(slug: str) -> list[str]:
    return [EPOCH, AUTHORS, comments(slug)]


def for_profile(username: str) -> list[str]:
    return [EPOCH, profile(username)]


def for_lists() -> list[str]:
    return [EPOCH, LISTS]


def changed_by(kind: str, payload: dict[str, Any]) -> list[str]:
    """The counters an event's write changed (none for events no cached answer shows)."""
    keys: list[str] = []
    if kind in ("article.created", "article.updated", "article.deleted"):
        slugs = {_slug(payload), payload.get("previous_slug")} - {None}
        keys.append(LISTS)
        for slug in slugs:
            keys += [article(str(slug)), comments(str(slug))]
    elif kind in ("article.favorited", "article.unfavorited"):
        keys += [LISTS, article(str(payload["slug"]))]
    elif kind in ("comment.created", "comment.deleted"):
        keys.append(comments(str(payload["slug"])))
    elif kind in ("user.updated", "user.moderated"):
        # A new bio or image shows in every article and comment of the user; a soft delete
        # or restore hides or shows all of them: every author block and list is suspect.
        keys += [AUTHORS, LISTS]
        keys += [profile(str(name)) for name in _names(payload)]
    return keys


def changed_by_all(events: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    keys: dict[str, None] = {}
    for kind, payload in events:
        keys.update(dict.fromkeys(changed_by(kind, payload)))
    return list(keys)


def _slug(payload: dict[str, Any]) -> str | None:
    data = payload.get("article")
    if isinstance(data, dict) and data.get("slug"):
        return str(data["slug"])
    slug = payload.get("slug")
    return None if slug is None else str(slug)


def _names(payload: dict[str, Any]) -> set[str]:
    names = {payload.get("username"), payload.get("previous_username")}
    return {str(name) for name in names if name}
