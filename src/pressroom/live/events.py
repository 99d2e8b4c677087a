"""What a live event is, how it travels through the broker, and what clients receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

CHANNEL = "live"
"""The broker channel carrying every live event."""

KINDS = (
    "article.created",
    "article.updated",
    "article.deleted",
    "comment.created",
    "comment.deleted",
)
COMMENT_KINDS = frozenset({"comment.created", "comment.deleted"})


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One committed outbox event, with what stream filters need to know about its article."""

    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    author: str | None  # the article's author (any event), when known
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def article_id(self) -> int | None:
        value = self.payload.get("article_id")
        return value if isinstance(value, int) else None

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "kind": self.kind,
                "payload": self.payload,
                "created_at": self.created_at.isoformat(),
                "author": self.author,
                "tags": sorted(self.tags),
            }
        )

    @classmethod
    def decode(cls, message: bytes) -> LiveEvent:
        data = orjson.loads(message)
        return cls(
            id=int(data["id"]),
            kind=str(data["kind"]),
            payload=dict(data["payload"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            author=data["author"],
            tags=frozenset(data["tags"]),
        )

    def data(self) -> dict[str, Any]:
        """The JSON clients receive: the public article or comment, never internal ids."""
        payload = self.payload
        if self.kind.startswith("article."):
            data: dict[str, Any] = {"article": payload.get("article")}
            if self.kind == "article.updated":
                data["previousSlug"] = payload.get("previous_slug")
            return data
        if self.kind == "comment.created":
            return {"slug": payload.get("slug"), "comment": payload.get("comment")}
        return {
            "slug": payload.get("slug"),
            "comment": {"id": payload.get("comment_id"), "author": payload.get("author")},
        }


def article_context(kind: str, payload: dict[str, Any]) -> tuple[str | None, frozenset[str]]:
    """Author and tags an article event carries itself (comment events need a lookup)."""
    article = payload.get("article")
    if kind in COMMENT_KINDS or not isinstance(article, dict):
        return None, frozenset()
    author = article.get("author")
    username = author.get("username") if isinstance(author, dict) else None
    tags = article.get("tagList")
    return (
        username if isinstance(username, str) else None,
        frozenset(tag for tag in tags if isinstance(tag, str))
        if isinstance(tags, list)
        else frozenset(),
    )
