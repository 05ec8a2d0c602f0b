"""web chat: the durable per-session log a reconnecting browser resumes from

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 09:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_chat_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_chat_log")),
        sa.UniqueConstraint("session", "client_id", name="uq_web_chat_log_session_client_id"),
    )
    op.create_index("ix_web_chat_log_session_id", "web_chat_log", ["session", "id"])


def downgrade() -> None:
    op.drop_index("ix_web_chat_log_session_id", table_name="web_chat_log")
    op.drop_table("web_chat_log")
