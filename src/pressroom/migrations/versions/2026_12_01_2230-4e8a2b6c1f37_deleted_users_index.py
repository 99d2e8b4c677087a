"""deleted users index: a partial index of the soft-deleted users only

Revision ID: 4e8a2b6c1f37
Revises: 9c3e51a7d2f4
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e8a2b6c1f37"
down_revision: str | None = "9c3e51a7d2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DELETED = sa.text("deleted_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_users_deleted",
        "users",
        ["id"],
        postgresql_where=_DELETED,
        sqlite_where=_DELETED,
    )


def downgrade() -> None:
    op.drop_index("ix_users_deleted", table_name="users")
