"""article counter: an exact total of articles kept by triggers

Revision ID: 5b1d7c2e9a10
Revises: 0447e60f747e
Create Date: 2026-11-22 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1d7c2e9a10"
down_revision: str | None = "0447e60f747e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRES = [
    """
    CREATE FUNCTION pressroom_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE counters SET value = value + (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
        WHERE name = 'articles';
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER articles_counter AFTER INSERT OR DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION pressroom_count_articles()
    """,
]
_SQLITE = [
    """
    CREATE TRIGGER articles_counter_insert AFTER INSERT ON articles BEGIN
        UPDATE counters SET value = value + 1 WHERE name = 'articles';
    END
    """,
    """
    CREATE TRIGGER articles_counter_delete AFTER DELETE ON articles BEGIN
        UPDATE counters SET value = value - 1 WHERE name = 'articles';
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.execute("INSERT INTO counters (name, value) SELECT 'articles', count(*) FROM articles")
    for statement in _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER articles_counter ON articles")
        op.execute("DROP FUNCTION pressroom_count_articles()")
    else:
        op.execute("DROP TRIGGER articles_counter_insert")
        op.execute("DROP TRIGGER articles_counter_delete")
    op.drop_table("counters")
