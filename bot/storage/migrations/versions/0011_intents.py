"""the business's intents in the database (examples, actions) and the trained intent models

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intents",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_intents")),
    )
    op.create_table(
        "intent_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent"],
            ["intents.name"],
            name=op.f("fk_intent_examples_intent_intents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_examples")),
        sa.UniqueConstraint("text_key", name=op.f("uq_intent_examples_text_key")),
    )
    with op.batch_alter_table("intent_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intent_examples_intent"), ["intent"])
    op.create_table(
        "intent_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_models")),
    )
    with op.batch_alter_table("intent_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intent_models_data_hash"), ["data_hash"])


def downgrade() -> None:
    with op.batch_alter_table("intent_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intent_models_data_hash"))
    op.drop_table("intent_models")
    with op.batch_alter_table("intent_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intent_examples_intent"))
    op.drop_table("intent_examples")
    op.drop_table("intents")
