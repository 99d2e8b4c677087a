"""`limit` and `offset` query parameters with the API's bounds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_LIMIT = 100
MAX_OFFSET = 10_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Items to skip, 0-{MAX_OFFSET}.")]
