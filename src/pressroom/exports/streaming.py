"""The HTTP side of an export: an NDJSON response that always releases what it holds.

Whatever ends the response (the last line sent, the client gone, the server shutting down,
a cancellation) the export is closed, shielded from cancellation: its connection goes back
to the pool and its lock is released at once, not when the garbage collector gets to it.
"""

from __future__ import annotations

import asyncio

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pressroom.exports.service import Export

NDJSON = "application/x-ndjson"
# After shutdown begins, an export ends itself at its next batch with an `end` line; one
# stuck sending to a client that stopped reading is cut after this long.
STOP_GRACE_SECONDS = 1.0


class NDJSONResponse(StreamingResponse):
    media_type = NDJSON


class ExportResponse(NDJSONResponse):
    def __init__(self, export: Export, closing: asyncio.Event) -> None:
        # No caching anywhere: the body is personal and changes with every write.
        super().__init__(export.chunks(), headers={"Cache-Control": "no-store"})
        self.export = export
        self.closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._cut_after_closing, group.cancel_scope)
                await super().__call__(scope, receive, send)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self.export.close()

    async def _cut_after_closing(self, scope: anyio.CancelScope) -> None:
        await self.closing.wait()
        await anyio.sleep(STOP_GRACE_SECONDS)
        scope.cancel()
