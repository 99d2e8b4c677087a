"""Export responses in the OpenAPI document: a stream of typed lines.

FastAPI documents a response model as the schema of the whole body. An NDJSON body is a
sequence: OpenAPI 3.2 describes it with `itemSchema` (the schema of each line), as FastAPI
itself does for its own `application/jsonl` streams. This moves the line model there, and
gives the errors of those routes their real media type: they are the JSON envelope.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pressroom.exports.streaming import NDJSON

JSON = "application/json"


def document_lines(schema: dict[str, Any]) -> dict[str, Any]:
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                media = content.get(NDJSON)
                if media is None or "$ref" not in media.get("schema", {}):
                    continue
                if not code.startswith("2"):
                    content[JSON] = content.pop(NDJSON)
                    continue
                media["itemSchema"] = {"$ref": media["schema"]["$ref"]}
                media["schema"] = {
                    "type": "string",
                    "description": "Newline-delimited JSON: one `itemSchema` object per line.",
                }
    return schema


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_lines(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
