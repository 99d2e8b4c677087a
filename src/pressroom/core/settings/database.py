"""The database and Redis sections."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class DatabaseSettings(BaseModel):
    """The database, its connection pool, and the timeouts that turn a hung database into a
    503 within seconds instead of a request that never ends; see docs/configuration.md."""

    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL; its scheme picks the engine: `sqlite+aiosqlite:///path.db` "
        "or `postgresql+asyncpg://user:pass@host/db`. Any other scheme is refused at boot.",
        json_schema_extra={"shown_default": "a SQLite file, `<data dir>/pressroom.db`"},
    )
    pool_size: int = Field(
        default=10, ge=1, le=200, description="Connections kept open per worker process."
    )
    max_overflow: int = Field(
        default=10, ge=0, le=200, description="Extra connections a worker may open under load."
    )
    pool_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds a request waits for a free pooled connection before failing with "
        "503 and `Retry-After`.",
    )
    connect_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to open a new Postgres connection."
    )
    statement_timeout: float = Field(
        default=15.0,
        ge=0.001,
        le=600,
        description="Seconds one Postgres statement may run (its `statement_timeout`; the driver "
        "gives up one second later).",
    )
    busy_timeout: float = Field(
        default=5.0, gt=0, le=60, description="SQLite: seconds a writer waits for the write lock."
    )
    probe_interval: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Postgres: seconds between the SELECT 1 each worker sends on a connection of "
        "its own to notice a database that stopped answering; 0 switches the probe off.",
    )
    probe_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Postgres: seconds the probe waits for an answer. Without one the database "
        "counts as down: requests waiting on it end with 503 and new ones fail at once, until "
        "the probe gets an answer again.",
    )
    allow_sqlite_multiworker: bool = Field(
        default=False,
        description="Let production run several server workers on one SQLite file.",
    )
    echo: bool = Field(
        default=False,
        description=(
            "Log every SQL statement with its parameters through the log pipeline (development "
            "only: parameters include password hashes; noisy and slow)."
        ),
    )


class RedisSettings(BaseModel):
    """Redis, optional: shares rate limit budgets and the read cache between workers; see
    docs/rate-limits.md and docs/caching.md."""

    url: SecretStr | None = Field(
        default=None,
        description="`redis://host:6379/0`: rate limits and the read cache shared by every "
        "worker and machine. Unset, each worker counts and caches on its own in memory.",
    )
    key_prefix: str = Field(
        default="pressroom",
        min_length=1,
        max_length=64,
        description="Prefix of every key Pressroom writes: give each deployment sharing one Redis "
        "its own.",
    )
    socket_timeout: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Seconds to connect to Redis or wait for one reply before it counts as down "
        "(rate limits then fall back to memory).",
    )
