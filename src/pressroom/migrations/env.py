"""Alembic environment: async, URL from Pressroom's settings, batch mode on SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from pressroom.admin import models as _admin  # noqa: F401  (registers tables)
from pressroom.apikeys import models as _apikeys  # noqa: F401
from pressroom.articles import models as _articles  # noqa: F401
from pressroom.auth import models as _auth  # noqa: F401
from pressroom.comments import models as _comments  # noqa: F401
from pressroom.core.db import create_engine, transactional
from pressroom.core.models import Base
from pressroom.core.outbox import models as _outbox  # noqa: F401
from pressroom.core.settings import Settings
from pressroom.profiles import models as _profiles  # noqa: F401
from pressroom.tags import models as _tags  # noqa: F401
from pressroom.users import models as _users  # noqa: F401

config = context.config
target_metadata = Base.metadata


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_settings())
    try:
        async with transactional(engine).connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_settings().database_url, target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
