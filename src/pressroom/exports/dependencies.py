from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pressroom.exports.service import ExportService


async def get_export_service(request: Request) -> ExportService:
    state = request.app.state
    return ExportService(
        state.database, state.exports, state.settings.exports, state.lifecycle.closing
    )


ExportServiceDep = Annotated[ExportService, Depends(get_export_service)]
