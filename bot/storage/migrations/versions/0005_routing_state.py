"""routing state: the lines of case reply chains, the threads followed in shared channels

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_chains",
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("thread_key", sa.String(length=100), nullable=False),
        sa.Column("thread", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_key", name=op.f("pk_reply_chains")),
    )
    with op.batch_alter_table("reply_chains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reply_chains_thread_key"), ["thread_key"], unique=False
        )
    op.create_table(
        "followed_threads",
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation", name=op.f("pk_followed_threads")),
    )


def downgrade() -> None:
    op.drop_table("followed_threads")
    with op.batch_alter_table("reply_chains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_chains_thread_key"))
    op.drop_table("reply_chains")
