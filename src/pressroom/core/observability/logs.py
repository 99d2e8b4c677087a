"""One log pipeline for the whole process: structlog's lines and the standard library's records.

Every line, from Pressroom, uvicorn, SQLAlchemy or Alembic, passes the same processors (time,
level, logger, request id, trace ids, redaction) and is written by one writer to standard
output: a JSON object a line in production, readable text in development.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from pressroom.core.observability.redaction import redact
from pressroom.core.request_ids import request_id_var
from pressroom.core.settings import LogFormat, Settings

# Routed to the root handler, so they pass the pipeline like Pressroom's own records.
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "sqlalchemy", "alembic")
# uvicorn's access log: replaced by `core.observability.access`. With no handler anywhere,
# uvicorn does not even format its line.
SILENCED_LOGGERS = ("uvicorn.access",)
# Chatty at `info` about nothing an operator acts on (Alembic lists its plugins on each load).
WARNING_ONLY = ("alembic.runtime.plugins",)
TraceIds = Callable[[], tuple[str, str] | None]

_trace_ids: list[TraceIds] = []


def add_timestamp(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """When, in UTC: a datetime, which orjson writes as RFC 3339 itself (`...T23:26:23.131714Z`),
    several times faster than formatting it in Python first."""
    event_dict["timestamp"] = datetime.now(UTC)
    return event_dict


def format_exception(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """`exc_info` as a plain traceback string (no local variables: they may hold a password)."""
    if "exc_info" not in event_dict:  # most lines: skip structlog's own check, which costs more
        return event_dict
    return structlog.processors.format_exc_info(logger, method, event_dict)


def add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The id of the request being served, on every line logged while serving it."""
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The current trace and span ids, when tracing is on (`core.observability.tracing`)."""
    for current in _trace_ids:
        ids = current()
        if ids is not None:
            event_dict.setdefault("trace_id", ids[0])
            event_dict.setdefault("span_id", ids[1])
    return event_dict


def use_trace_ids(source: TraceIds | None) -> None:
    """Name the function that gives the current trace and span ids (None: no trace ids)."""
    _trace_ids.clear()
    if source is not None:
        _trace_ids.append(source)


# Fields a standard-library record may carry as `extra=` (core.observability.failures).
EXTRA_FIELDS = ("method", "route", "path")


def _shared_processors() -> list[Processor]:
    # No `merge_contextvars`: it copies the whole context on every line. The request id comes
    # from its own context variable; other fields are bound on a logger (`logger.bind(...)`).
    return [
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        add_timestamp,
        add_request_id,
        add_trace_ids,
    ]


def _to_json(event_dict: MutableMapping[str, Any], **_kwargs: Any) -> bytes:
    return orjson.dumps(event_dict, default=repr, option=orjson.OPT_UTC_Z)


def _renderers(log_format: LogFormat) -> tuple[Processor, Processor]:
    """The last processor for structlog's loggers (bytes) and for standard records (text)."""
    if log_format is LogFormat.JSON:
        as_bytes: Processor = structlog.processors.JSONRenderer(serializer=_to_json)

        def as_text(logger: WrappedLogger, method: str, event_dict: EventDict) -> str:
            rendered: bytes = as_bytes(logger, method, event_dict)  # type: ignore[assignment]
            return rendered.decode()

        return as_bytes, as_text
    console = structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )

    def encoded(logger: WrappedLogger, method: str, event_dict: EventDict) -> bytes:
        text: str = console(logger, method, event_dict)
        return text.encode()

    return encoded, console


class LineHandler(logging.Handler):
    """Hands standard-library records to structlog's processors and the shared writer."""

    def __init__(self, writer: structlog.BytesLogger, formatter: logging.Formatter) -> None:
        super().__init__()
        self.writer = writer
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.msg(self.format(record).encode())
        except Exception:  # a failing log line must not fail the request
            self.handleError(record)


def configure_logging(settings: Settings, stream: BinaryIO | None = None) -> None:
    """Route every log line of this process through one pipeline, to `stream` (stdout)."""
    log_format = settings.log_format
    level = getattr(logging, settings.logging.level.upper())
    output = stream if stream is not None else sys.stdout.buffer
    writer = structlog.BytesLogger(output)
    # Before rendering: exc_info becomes a plain traceback string (no local variables, which
    # could hold a password), then secrets are masked in it and everywhere else.
    finishing: list[Processor] = [format_exception, redact]
    as_bytes, as_text = _renderers(log_format)
    structlog.configure(
        processors=[*_shared_processors(), *finishing, as_bytes],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *args: structlog.BytesLogger(
            output, name=str(args[0]) if args else None
        ),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder(EXTRA_FIELDS)],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *finishing,
            as_text,
        ],
    )
    handler = LineHandler(writer, formatter)
    handler.setLevel(level)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's and SQLAlchemy's loggers write through the root handler, nowhere else.
    for name in (*ROUTED_LOGGERS, *SILENCED_LOGGERS):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = name in ROUTED_LOGGERS
    for name in WARNING_ONLY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    # With `echo`, SQLAlchemy gives its engine logger a handler of its own, printing plain
    # text, unless the logger has one already: this one does nothing, records still propagate.
    engine_logger = logging.getLogger("sqlalchemy.engine.Engine")
    if not engine_logger.handlers:
        engine_logger.addHandler(logging.NullHandler())


def get_logger(name: str) -> Any:
    """A structlog logger writing through the pipeline `configure_logging` set up."""
    return structlog.get_logger(name)


def configured_handler(**_options: Any) -> logging.Handler:
    """For uvicorn's `log_config` (`logging.config.dictConfig`): configure, then hand back the
    handler that configuration made. Every uvicorn process (the supervisor and each worker)
    calls it, so each sets up its own pipeline from the environment's settings."""
    configure_logging(Settings())
    return logging.getLogger().handlers[0]


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """`uvicorn.run` keyword arguments that send uvicorn's logs through this pipeline, at the
    configured level, and turn off uvicorn's access log (`core.observability.access` writes
    one line per request instead)."""
    level = settings.logging.level.value
    return {
        "log_config": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"pressroom": {"()": f"{__name__}.configured_handler"}},
            "root": {"handlers": ["pressroom"], "level": level.upper()},
        },
        "log_level": level,
        "access_log": False,
    }
