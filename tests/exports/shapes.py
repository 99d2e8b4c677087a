"""Reading an NDJSON export and checking every line against the documented contract."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from pydantic import RootModel

from pressroom.exports import schemas

NDJSON = "application/x-ndjson"


def lines_of(
    body: bytes, contract: type[RootModel[Any]] = schemas.UserExportLine
) -> list[dict[str, Any]]:
    """The export's lines, each valid against `contract` (which refuses unknown fields)."""
    assert body.endswith(b"\n"), body[-200:]
    lines = [orjson.loads(line) for line in body.splitlines()]
    for line in lines:
        contract.model_validate(line)
    assert lines[0]["type"] == "export"
    assert lines[-1]["type"] == "end"
    assert all(line["type"] not in {"export", "end"} for line in lines[1:-1])
    return lines


def of_type(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["type"] == kind]


def export_lines(
    response: httpx.Response, contract: type[RootModel[Any]] = schemas.UserExportLine
) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == NDJSON
    return lines_of(response.content, contract)
