"""inbox claims: status, attempts, lease and the conversation that orders handling

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 02:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_inbox = sa.table(
    "inbox",
    sa.column("id", sa.Integer()),
    sa.column("payload", sa.JSON()),
    sa.column("status", sa.String()),
    sa.column("conversation", sa.String()),
    sa.column("processed_at", sa.DateTime(timezone=True)),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.column("error", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("conversation", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))

    # Rows handled before this revision: done, or failed when they carry an error. Rows never
    # handled stay pending, in their conversation (the channel they came from).
    op.execute(
        _inbox.update()
        .where(_inbox.c.processed_at.is_not(None), _inbox.c.error.is_(None))
        .values(status="done")
    )
    op.execute(
        _inbox.update()
        .where(_inbox.c.processed_at.is_not(None), _inbox.c.error.is_not(None))
        .values(status="failed")
    )
    op.execute(_inbox.update().values(next_attempt_at=_inbox.c.received_at))
    connection = op.get_bind()
    pending = connection.execute(
        sa.select(_inbox.c.id, _inbox.c.payload).where(_inbox.c.status == "pending")
    ).all()
    for row_id, payload in pending:
        channel = str((payload or {}).get("channel", ""))[:255]
        connection.execute(
            _inbox.update().where(_inbox.c.id == row_id).values(conversation=channel)
        )

    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.alter_column(
            "next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_index("ix_inbox_status_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_inbox_conversation_status", ["conversation", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_conversation_status")
        batch_op.drop_index("ix_inbox_status_due")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")
        batch_op.drop_column("conversation")
