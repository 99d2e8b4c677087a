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


# Every control character (C0, DEL, C1: tab, newline, NEL ...) and the Unicode line and
# paragraph separators, which break a line as surely as a newline does.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, AfterValidator(_storable)]
"""Multi-line text (bodies): anything but NUL and lone surrogates."""

Line = Annotated[str, AfterValidator(_storable), AfterValidator(_single_line)]
"""A single line (titles, tags, names): no control characters either."""

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=USERNAME_PATTERN),
]
