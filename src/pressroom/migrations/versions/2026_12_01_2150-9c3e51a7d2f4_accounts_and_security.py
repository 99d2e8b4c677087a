"""accounts and security: roles, suspension, soft delete, sessions, refresh tokens, API keys,
audit log

Revision ID: 9c3e51a7d2f4
Revises: 5b1d7c2e9a10
Create Date: 2026-12-01 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c3e51a7d2f4"
down_revision: str | None = "5b1d7c2e9a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_fk(table: str, column: str = "user_id", ondelete: str = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def upgrade() -> None:
    # ADD COLUMN in place on both databases (no table rebuild).
    op.add_column(
        "users", sa.Column("role", sa.String(length=16), server_default="user", nullable=False)
    )
    op.add_column("users", _timestamp("suspended_at", nullable=True))
    op.add_column("users", _timestamp("deleted_at", nullable=True))

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        _timestamp("created_at"),
        _timestamp("last_seen_at"),
        _timestamp("expires_at"),
        _timestamp("revoked_at", nullable=True),
        _user_fk("sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_refresh_tokens_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_refresh_tokens"),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at", nullable=True),
        _timestamp("last_used_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        _user_fk("api_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=320), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _user_fk("audit_log", "actor_id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_created_at_id", "audit_log", ["created_at", "id"])


def downgrade() -> None:
    for table in ("audit_log", "api_keys", "refresh_tokens", "sessions"):
        op.drop_table(table)
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild the table from reflection,
    # which on SQLite silently loses the lower() unique indexes.
    for column in ("deleted_at", "suspended_at", "role"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
