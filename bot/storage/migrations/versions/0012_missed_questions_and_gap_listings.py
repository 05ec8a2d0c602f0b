"""missed questions (knowledge gaps and intent-example suggestions) and the gap listings shown

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "missed_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("article_slug", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review", sa.String(length=16), nullable=True),
        sa.Column("reviewed_intent", sa.String(length=100), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_missed_questions_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missed_questions")),
    )
    with op.batch_alter_table("missed_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missed_questions_conversation"), ["conversation"])
        batch_op.create_index(batch_op.f("ix_missed_questions_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_missed_questions_created_at"), ["created_at"])
    op.create_table(
        "gap_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("shown_by", sa.String(length=200), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_listings")),
    )
    with op.batch_alter_table("gap_listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gap_listings_channel"), ["channel"])


def downgrade() -> None:
    with op.batch_alter_table("gap_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gap_listings_channel"))
    op.drop_table("gap_listings")
    with op.batch_alter_table("missed_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missed_questions_created_at"))
        batch_op.drop_index(batch_op.f("ix_missed_questions_customer_id"))
        batch_op.drop_index(batch_op.f("ix_missed_questions_conversation"))
    op.drop_table("missed_questions")
