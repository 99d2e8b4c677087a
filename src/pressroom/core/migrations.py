"""Running Alembic from code: `pressroom migrate`, the tests and the health checks use it."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from pressroom.core.settings import Settings

SCRIPT_LOCATION = "pressroom:migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    command.downgrade(alembic_config(settings), revision)


def head_revision(settings: Settings) -> str | None:
    """The newest revision this code ships (`settings` names no other scripts)."""
    return _shipped()[0]


def known_revisions() -> frozenset[str]:
    """Every revision this code ships: a database at another one was migrated by newer code."""
    return _shipped()[1]


@cache
def _shipped() -> tuple[str | None, frozenset[str]]:
    """The newest revision and all of them, read once from the installed package."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    script = ScriptDirectory.from_config(config)
    return script.get_current_head(), frozenset(rev.revision for rev in script.walk_revisions())
