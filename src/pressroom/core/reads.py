"""Reads: prebuilt statements run without a session, and inside one.

A GET needs no transaction and no ORM: it runs one or two prebuilt statements and renders
the rows. Opening an `AsyncSession` for that costs more than the statement itself, so reads
go through a `Reader`:

- `SessionReader`: on the session's connection, inside its transaction (a write that reads
  back what it wrote);
- `PooledReader`: each statement on a pooled connection through SQLAlchemy Core, in
  autocommit (SQLite);
- `DriverReader`: each statement compiled once by SQLAlchemy for asyncpg and executed on the
  pooled connection's driver (Postgres). SQLAlchemy still builds the SQL and owns the pool;
  only its per-execution machinery (execution context, result processing, events) is
  skipped, which is most of a short read's cost. Rows are asyncpg records, whose values are
  already the Python types the views need (aware UTC datetimes, lists for arrays).

Statements given to a reader must be built once (module-level or `functools.cache`), never
per request: the driver reader compiles each one once and keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

Params = Mapping[str, Any]
StatementObserver = Callable[[str, Any], None]
"""Called with each statement's SQL and the driver connection about to run it."""
MAX_COMPILED = 1024


class Record(Protocol):
    """A result row whose columns are read by label: `row["slug"]`."""

    def __getitem__(self, key: str, /) -> Any: ...


class Reader(Protocol):
    dialect: str
    """The database's dialect name (`postgresql`, `sqlite`): statements are built per dialect."""

    async def first(self, statement: Executable, params: Params) -> Record | None:
        """The first row, or None."""
        ...

    async def all(self, statement: Executable, params: Params) -> Sequence[Record]:
        """Every row."""
        ...

    async def scalar(self, statement: Executable, params: Params) -> Any:
        """The first column of the first row, or None."""
        ...


class SessionReader:
    """Reads inside the session's transaction: they see what it has written."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    async def first(self, statement: Executable, params: Params) -> Record | None:
        connection = await self.session.connection()
        return (await connection.execute(statement, params)).mappings().first()

    async def all(self, statement: Executable, params: Params) -> Sequence[Record]:
        connection = await self.session.connection()
        return (await connection.execute(statement, params)).mappings().all()

    async def scalar(self, statement: Executable, params: Params) -> Any:
        connection = await self.session.connection()
        return (await connection.execute(statement, params)).scalar()


class PooledReader:
    """Each read on its own pooled connection, through SQLAlchemy Core, in autocommit."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    async def first(self, statement: Executable, params: Params) -> Record | None:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement, params)).mappings().first()

    async def all(self, statement: Executable, params: Params) -> Sequence[Record]:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement, params)).mappings().all()

    async def scalar(self, statement: Executable, params: Params) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement, params)).scalar()


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement compiled for asyncpg: SQL with `$n` placeholders and how to fill them."""

    sql: str
    # Per placeholder: the bind name, whether the caller must supply it, the constant the
    # statement carries otherwise (`name = 'articles'`), and the type's bind processor if any.
    binds: tuple[tuple[str, bool, Any, Callable[[Any], Any] | None], ...]

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> DriverStatement:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("expanding or literal-execute parameters need SQLAlchemy's executor")
        binds = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, bind.required, bind.value, processor))
        return cls(compiled.string, tuple(binds))

    def arguments(self, params: Params) -> list[Any]:
        values = []
        for name, required, constant, processor in self.binds:
            value = params[name] if required or name in params else constant
            values.append(value if processor is None else processor(value))
        return values


class DriverReader:
    """Postgres: statements compiled once, executed on the pooled connection's asyncpg driver."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.observers: list[StatementObserver] = []
        self._compiled: dict[int, tuple[Executable, DriverStatement]] = {}

    async def first(self, statement: Executable, params: Params) -> Record | None:
        record: Record | None = await self._run("fetchrow", statement, params)
        return record

    async def all(self, statement: Executable, params: Params) -> Sequence[Record]:
        records: Sequence[Record] = await self._run("fetch", statement, params)
        return records

    async def scalar(self, statement: Executable, params: Params) -> Any:
        return await self._run("fetchval", statement, params)

    def prepare(self, statement: Executable) -> DriverStatement:
        entry = self._compiled.get(id(statement))
        if entry is not None and entry[0] is statement:
            return entry[1]
        if len(self._compiled) >= MAX_COMPILED:  # statements built per call: keep memory flat
            self._compiled.clear()
        prepared = DriverStatement.compile(statement, self.engine.dialect)
        self._compiled[id(statement)] = (statement, prepared)
        return prepared

    async def _run(self, method: str, statement: Executable, params: Params) -> Any:
        prepared = self.prepare(statement)
        arguments = prepared.arguments(params)
        pooled = await self.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            for observe in self.observers:
                observe(prepared.sql, driver)
            result = await getattr(driver, method)(prepared.sql, *arguments)
        except BaseException as exc:
            refused = isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, _UNAVAILABLE)
            if not refused:
                # Lost, timed out or cancelled mid-query: the connection's state is unknown,
                # so it is closed rather than handed to the next request. (A statement the
                # server refused leaves it idle and reusable.)
                await greenlet_spawn(pooled.invalidate, exc if isinstance(exc, Exception) else None)
            if isinstance(exc, _UNAVAILABLE):
                sql = prepared.sql
                raise OperationalError(sql, None, exc, connection_invalidated=True) from exc
            raise
        finally:
            # Inside a greenlet: returning an overflow connection closes it, which awaits.
            await greenlet_spawn(pooled.close)
        return result


# Failures that say nothing about the statement: the database is unreachable, restarting or
# too slow. They become 503 (see core.errors), as the same failures do through SQLAlchemy.
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # class 08: the connection is gone
    asyncpg.exceptions.OperatorInterventionError,  # 57: statement timeout, shutdown, restart
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)


def create_reader(engine: AsyncEngine) -> Reader:
    """The fastest reader the engine's driver supports."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
        return DriverReader(engine)
    return PooledReader(engine)
