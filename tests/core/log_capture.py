"""Capture what the log pipeline writes, as the lines an operator would read."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import structlog

from pressroom.core.observability.logs import configure_logging
from pressroom.core.settings import Settings


class LogLines:
    def __init__(self, output: io.BytesIO) -> None:
        self.output = output

    @property
    def text(self) -> str:
        return self.output.getvalue().decode()

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed: each must be one JSON object."""
        return [orjson.loads(line) for line in self.output.getvalue().splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.records() if line.get("logger") == "pressroom.access"]


@contextmanager
def captured_logs(settings: Settings) -> Iterator[LogLines]:
    """The process's log pipeline, configured from `settings`, writing into memory; the
    previous logging setup is restored afterwards."""
    output = io.BytesIO()
    with restored_logging():
        configure_logging(settings, output)
        yield LogLines(output)


@contextmanager
def restored_logging() -> Iterator[None]:
    """Whatever the block does to the root logger and structlog is undone after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()
