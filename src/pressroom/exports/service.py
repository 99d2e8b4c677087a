"""Starting an export (or refusing it), and producing its lines."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import SQLAlchemyError

from pressroom.core.db import Database
from pressroom.core.models import utcnow
from pressroom.core.settings import ExportSettings
from pressroom.exports import repository, views
from pressroom.exports.errors import ExportInProgress, ExportsBusy
from pressroom.exports.gate import Entry, ExportGate
from pressroom.exports.repository import Snapshot

logger = logging.getLogger("pressroom.exports")


@dataclass(frozen=True, slots=True)
class Section:
    statement: Select[*tuple[Any, ...]]
    render: views.Render


class Export:
    """A started export: holds its snapshot (and lock) until `close()`."""

    def __init__(
        self,
        kind: str,
        sections: list[Section],
        params: Mapping[str, Any],
        snapshot: Snapshot,
        release: Callable[[], None],
        closing: asyncio.Event,
    ) -> None:
        self.kind = kind
        self.sections = sections
        self.params = params
        self.snapshot = snapshot
        self._release = release
        self.closing = closing
        self._chunks: AsyncGenerator[bytes, None] | None = None
        self._closed = False

    def chunks(self) -> AsyncIterator[bytes]:
        """The export as NDJSON, one chunk per batch of rows. Ends with an `end` line."""
        if self._chunks is None:
            self._chunks = self._produce()
        return self._chunks

    async def _produce(self) -> AsyncGenerator[bytes, None]:
        yield views.encode(views.header(self.kind, utcnow()))
        lines = 0
        try:
            for section in self.sections:
                batches = self.snapshot.batches(section.statement, self.params)
                async with aclosing(batches):
                    async for rows in batches:
                        if self.closing.is_set():
                            yield self._end(lines, "the server is shutting down")
                            return
                        lines += len(rows)
                        yield b"".join(views.encode(section.render(row)) for row in rows)
        except SQLAlchemyError:
            # The status line is long gone: the last line tells the client it is incomplete.
            logger.exception("export of %s stopped by a database error", self.kind)
            yield self._end(lines, "a database error ended the export; retry it")
            return
        yield views.encode(views.end(complete=True, lines=lines))

    @staticmethod
    def _end(lines: int, reason: str) -> bytes:
        return views.encode(views.end(complete=False, lines=lines, reason=reason))

    async def close(self) -> None:
        """Stops producing and releases the connection and the lock. Idempotent; call it
        shielded from cancellation."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._chunks is not None:
                await self._chunks.aclose()
        finally:
            try:
                await self.snapshot.close()
            finally:
                self._release()


class ExportService:
    def __init__(
        self,
        database: Database,
        gate: ExportGate,
        settings: ExportSettings,
        closing: asyncio.Event,
    ) -> None:
        self.database = database
        self.gate = gate
        self.settings = settings
        self.closing = closing

    async def user_export(self, user_id: int) -> Export:
        """The user's profile, articles, comments, follows and favorites."""
        dialect = self.database.engine.dialect.name
        sections = [
            Section(repository.profile(), views.profile),
            Section(repository.articles_of(dialect), views.article),
            Section(repository.comments_of(), views.comment),
            Section(repository.follows_of(), views.follow),
            Section(repository.favorites_of(), views.favorite),
        ]
        return await self._start("user", user_id, sections, {"user_id": user_id})

    async def articles_export(self, user_id: int) -> Export:
        """Every article (admin): counts as the export of the admin who asked."""
        dialect = self.database.engine.dialect.name
        sections = [Section(repository.every_article(dialect), views.admin_article)]
        return await self._start("articles", user_id, sections, {})

    async def _start(
        self, kind: str, user_id: int, sections: list[Section], params: Mapping[str, Any]
    ) -> Export:
        retry_after = self.settings.retry_after_seconds
        entry = self.gate.enter(user_id)
        if entry is Entry.RUNNING:
            raise ExportInProgress(retry_after)
        if entry is Entry.FULL:
            raise ExportsBusy(retry_after)
        try:
            snapshot = await Snapshot.open(self.database.engine, user_id, self.settings.batch_rows)
        except BaseException:
            self.gate.leave(user_id)
            raise
        if snapshot is None:  # another worker streams this user's export
            self.gate.leave(user_id)
            raise ExportInProgress(retry_after)
        return Export(
            kind, sections, params, snapshot, lambda: self.gate.leave(user_id), self.closing
        )
