"""Streaming exports as NDJSON (`application/x-ndjson`): see docs/export.md."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pressroom.auth.dependencies import Admin, CurrentCaller
from pressroom.core.errors import ErrorEnvelope, error_responses
from pressroom.exports import schemas
from pressroom.exports.dependencies import ExportServiceDep
from pressroom.exports.streaming import ExportResponse, NDJSONResponse

router = APIRouter(tags=["exports"])

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorEnvelope,
        "description": "An export of this account is already running",
        "headers": _RETRY_AFTER,
    },
    503: {
        "model": ErrorEnvelope,
        "description": "This server streams its maximum of exports at once",
        "headers": _RETRY_AFTER,
    },
}


def _streamed(line: type[Any], what: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": line,
            "description": f"{what}, one JSON object per line (NDJSON), each with a `type`; "
            "the first line is `export`, the last `end`.",
        }
    }


@router.get(
    "/user/export",
    summary="Export your own data as NDJSON: profile, articles, comments, follows, favorites",
    response_class=NDJSONResponse,
    responses={
        **_streamed(schemas.UserExportLine, "Your data"),
        **error_responses(401),
        **_REFUSED,
    },
)
async def export_user(
    request: Request, caller: CurrentCaller, service: ExportServiceDep
) -> Response:
    """Streamed from one consistent snapshot of the database (docs/export.md). One export at
    a time per account: a second one while the first runs is refused with 409. The export is
    complete only if its last line is `{"type": "end", "complete": true, ...}`."""
    export = await service.user_export(caller.id)
    return ExportResponse(export, request.app.state.lifecycle.closing)


@router.get(
    "/admin/exports/articles",
    summary="Export every article as NDJSON (admin)",
    response_class=NDJSONResponse,
    responses={
        **_streamed(schemas.ArticlesExportLine, "Every article, in id order"),
        **error_responses(401, 403),
        **_REFUSED,
    },
)
async def export_articles(request: Request, caller: Admin, service: ExportServiceDep) -> Response:
    """Articles of soft-deleted authors included, flagged in `author.deleted`. Counts as the
    admin's one running export."""
    export = await service.articles_export(caller.id)
    return ExportResponse(export, request.app.state.lifecycle.closing)
