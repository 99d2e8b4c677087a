"""Base for every API model: camelCase on the wire, unknown request fields ignored."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class APIModel(BaseModel):
    # extra="ignore": fields a client may not set (author, slug, favoritesCount ...) are dropped.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", str_max_length=1_000_000
    )


def max_bytes(limit: int) -> Callable[[str], str]:
    """A validator capping the UTF-8 size of a string (what storage and the wire pay for)."""

    def check(value: str) -> str:
        if len(value.encode("utf-8")) > limit:
            raise ValueError(f"is too long (maximum is {limit} bytes)")
        return value

    return check


def reject_null(value: object) -> object:
    """For optional update fields: absent means unchanged, but an explicit null is refused."""
    if value is None:
        raise ValueError("can't be blank")
    return value
