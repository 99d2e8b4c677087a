"""initial schema: users, follows, articles, tags, article tags, favorites, comments

Revision ID: 0447e60f747e
Revises:
Create Date: 2026-11-22 03:10:26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0447e60f747e"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(column: str, table: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("image", sa.String(length=2048), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("name", name="uq_tags_name"),
    )

    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followee_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("follower_id <> followee_id", name="ck_follows_not_self"),
        _fk("follower_id", "follows", "users"),
        _fk("followee_id", "follows", "users"),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name="pk_follows"),
    )
    op.create_index("ix_follows_followee_id", "follows", ["followee_id"])

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=320), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("favorites_count", sa.Integer(), server_default="0", nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _fk("author_id", "articles", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("slug", name="uq_articles_slug"),
    )
    op.create_index("ix_articles_created_at_id", "articles", ["created_at", "id"])
    op.create_index(
        "ix_articles_author_id_created_at", "articles", ["author_id", "created_at", "id"]
    )

    op.create_table(
        "article_tags",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        _fk("article_id", "article_tags", "articles"),
        _fk("tag_id", "article_tags", "tags"),
        sa.PrimaryKeyConstraint("article_id", "tag_id", name="pk_article_tags"),
    )
    op.create_index("ix_article_tags_tag_id", "article_tags", ["tag_id", "article_id"])

    op.create_table(
        "favorites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _fk("user_id", "favorites", "users"),
        _fk("article_id", "favorites", "articles"),
        sa.PrimaryKeyConstraint("user_id", "article_id", name="pk_favorites"),
    )
    op.create_index("ix_favorites_article_id", "favorites", ["article_id"])

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _fk("article_id", "comments", "articles"),
        _fk("author_id", "comments", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
    )
    op.create_index(
        "ix_comments_article_id_created_at", "comments", ["article_id", "created_at", "id"]
    )
    op.create_index("ix_comments_author_id", "comments", ["author_id"])


def downgrade() -> None:
    for table in ("comments", "favorites", "article_tags", "articles", "follows", "tags", "users"):
        op.drop_table(table)
