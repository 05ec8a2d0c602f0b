"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 08:04:15.609595
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_articles_slug")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("platform", "event_id", name=op.f("uq_inbox_platform")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_ref", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("ref_key", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_conversation"), ["conversation"], unique=False)
        batch_op.create_index("ix_outbox_pending", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "sent_refs",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("ref", sa.JSON(), nullable=False),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_refs")),
    )
    with op.batch_alter_table("sent_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_refs_message_key"), ["message_key"], unique=False)

    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("article_slug", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_answer_feedback_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
    )
    with op.batch_alter_table("answer_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_feedback_conversation"), ["conversation"], unique=False
        )

    op.create_table(
        "article_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_chunks_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_chunks")),
        sa.UniqueConstraint("article_id", "ordinal", name=op.f("uq_article_chunks_article_id")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("origin_platform", sa.String(length=32), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("assignee_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cases_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_conversation"), ["conversation"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_cases_status_priority", ["status", "priority"], unique=False)

    op.create_table(
        "customer_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("platform_user_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_identities_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_identities")),
        sa.UniqueConstraint(
            "platform", "platform_user_id", name=op.f("uq_customer_identities_platform")
        ),
    )
    with op.batch_alter_table("customer_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_identities_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "dialog_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_dialog_sessions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog_sessions")),
        sa.UniqueConstraint("conversation", name=op.f("uq_dialog_sessions_conversation")),
    )
    with op.batch_alter_table("dialog_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dialog_sessions_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))

    op.drop_table("case_events")
    with op.batch_alter_table("dialog_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_sessions_customer_id"))

    op.drop_table("dialog_sessions")
    with op.batch_alter_table("customer_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_identities_customer_id"))

    op.drop_table("customer_identities")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_priority")
        batch_op.drop_index(batch_op.f("ix_cases_customer_id"))
        batch_op.drop_index(batch_op.f("ix_cases_conversation"))

    op.drop_table("cases")
    op.drop_table("article_chunks")
    with op.batch_alter_table("answer_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_feedback_conversation"))

    op.drop_table("answer_feedback")
    with op.batch_alter_table("sent_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_refs_message_key"))

    op.drop_table("sent_refs")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.drop_index(batch_op.f("ix_outbox_conversation"))

    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("customers")
    op.drop_table("articles")
