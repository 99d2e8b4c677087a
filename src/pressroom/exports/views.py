"""Export lines: one JSON object per row, each with its `type`. The contract is `schemas`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import RowMapping

from pressroom.core.models import isoformat
from pressroom.tags.queries import parse_tag_names

FORMAT = 1
"""Bumped when a line changes incompatibly; added fields do not change it."""

Line = dict[str, Any]
Render = Callable[[RowMapping], Line]


def encode(line: Line) -> bytes:
    return orjson.dumps(line) + b"\n"


def header(kind: str, at: datetime) -> Line:
    return {"type": "export", "kind": kind, "format": FORMAT, "exportedAt": isoformat(at)}


def end(*, complete: bool, lines: int, reason: str | None = None) -> Line:
    line: Line = {"type": "end", "complete": complete, "lines": lines}
    if reason is not None:
        line["reason"] = reason
    return line


def profile(row: RowMapping) -> Line:
    return {
        "type": "profile",
        "username": row["username"],
        "email": row["email"],
        "bio": row["bio"],
        "image": row["image"],
        "createdAt": isoformat(row["created_at"]),
        "updatedAt": isoformat(row["updated_at"]),
    }


def article(row: RowMapping) -> Line:
    return {
        "type": "article",
        "slug": row["slug"],
        "title": row["title"],
        "description": row["description"],
        "body": row["body"],
        "tagList": parse_tag_names(row["tags"]),
        "favoritesCount": row["favorites_count"],
        "createdAt": isoformat(row["created_at"]),
        "updatedAt": isoformat(row["updated_at"]),
    }


def admin_article(row: RowMapping) -> Line:
    line = article(row)
    line["author"] = {"username": row["username"], "deleted": bool(row["author_deleted"])}
    return line


def comment(row: RowMapping) -> Line:
    return {
        "type": "comment",
        "id": row["id"],
        "article": row["slug"],
        "body": row["body"],
        "createdAt": isoformat(row["created_at"]),
        "updatedAt": isoformat(row["updated_at"]),
    }


def follow(row: RowMapping) -> Line:
    return {
        "type": "follow",
        "username": row["username"],
        "createdAt": isoformat(row["created_at"]),
    }


def favorite(row: RowMapping) -> Line:
    return {
        "type": "favorite",
        "article": row["slug"],
        "title": row["title"],
        "author": row["username"],
        "createdAt": isoformat(row["created_at"]),
    }
