"""article lifecycle: drafts, published and retired articles, their revisions, and admins'
guided prompts kept in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        # every article imported so far was answered: published, at its first revision
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="published")
        )
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("draft_revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("imported_revision", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("changed_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_articles_changed_version"), ["changed_version"])
    # the imported articles' revision 1 is their import
    op.execute("UPDATE articles SET imported_revision = 1")
    op.create_table(
        "article_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_revisions_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_revisions")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_article_revisions_article_id")),
    )
    # revision 1 of every article there is: its import
    op.execute(
        "INSERT INTO article_revisions (article_id, number, action, status, title, category,"
        " tags, questions, body, changes, actor, platform, at)"
        " SELECT id, 1, 'import', 'published', title, category, tags, questions, body, '[]',"
        " 'import', 'cli', updated_at FROM articles"
    )
    op.create_table(
        "admin_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_prompts")),
        sa.UniqueConstraint("channel", "user_id", name=op.f("uq_admin_prompts_channel")),
    )


def downgrade() -> None:
    op.drop_table("admin_prompts")
    op.drop_table("article_revisions")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_changed_version"))
        batch_op.drop_column("changed_version")
        batch_op.drop_column("imported_revision")
        batch_op.drop_column("draft_revision")
        batch_op.drop_column("revision")
        batch_op.drop_column("status")
