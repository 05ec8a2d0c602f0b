"""link requests: a typed link code waits for its owner's confirmation before a merge

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("link_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("conversation", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("private_to", sa.String(length=255), nullable=False, server_default="")
        )
    op.create_table(
        "link_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("private_to", sa.String(length=255), nullable=False),
        sa.Column("claimant_platform", sa.String(length=32), nullable=False),
        sa.Column("claimant_user_id", sa.String(length=255), nullable=False),
        sa.Column("claimant_name", sa.String(length=255), nullable=False),
        sa.Column("claimant_conversation", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["code"], ["link_codes.code"], name=op.f("fk_link_requests_code_link_codes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_link_requests_code")),
    )
    with op.batch_alter_table("link_requests", schema=None) as batch_op:
        batch_op.create_index("ix_link_requests_open", ["conversation", "answered_at"])
        batch_op.create_index(batch_op.f("ix_link_requests_expires_at"), ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("link_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_requests_expires_at"))
        batch_op.drop_index("ix_link_requests_open")
    op.drop_table("link_requests")
    with op.batch_alter_table("link_codes", schema=None) as batch_op:
        batch_op.drop_column("private_to")
        batch_op.drop_column("conversation")
