"""Input string types: text that every database can store and every client can read back."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value) or "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, AfterValidator(_storable)]
"""Multi-line text (bodies): anything but NUL and lone surrogates."""

Line = Annotated[str, AfterValidator(_storable), AfterValidator(_single_line)]
"""A single line (titles, tags, names): no control characters either."""

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=USERNAME_PATTERN)
]
