"""An article's tag names as one column of the article's own row (no second query)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from pressroom.tags.models import ArticleTag, Tag


def tag_names_of(article_id: ColumnElement[int] | InstrumentedAttribute[int], dialect: str) -> Any:
    """A correlated subquery: Postgres gives an array (or NULL), SQLite a JSON array text."""
    aggregate = (
        func.array_agg(Tag.name) if dialect == "postgresql" else func.json_group_array(Tag.name)
    )
    return (
        select(aggregate)
        .select_from(ArticleTag)
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id == article_id)
        .scalar_subquery()
    )


def parse_tag_names(value: object) -> list[str]:
    """The column's value as a sorted list of names."""
    if value is None:
        return []
    names = orjson.loads(value) if isinstance(value, str) else value
    assert isinstance(names, list)
    return sorted(names)
