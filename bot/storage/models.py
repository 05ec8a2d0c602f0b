"""The database schema. Every change to it comes with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both backends (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the injected clock")
        return value.astimezone(UTC)  # SQLite keeps no offset: store UTC

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Customer(Base):
    """A person who asks for help; may have identities on several platforms."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")


class CustomerIdentity(Base):
    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    customer: Mapped[Customer] = relationship(back_populates="identities")


class DialogSession(Base):
    """The persisted dialog state of one conversation (a channel ref, thread included)."""

    __tablename__ = "dialog_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), default="idle")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    # the platform refuses delivery for good (e.g. the customer blocked the bot)
    blocked_at: Mapped[datetime | None]


class Case(Base):
    """A support case. Its ``id`` is the case number people see (#12)."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_priority", "status", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    intent: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    origin_platform: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(64), default="default")
    assignee: Mapped[str | None] = mapped_column(String(200))
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened_at: Mapped[datetime | None]
    csat: Mapped[int | None]
    csat_comment: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the claimer's last action on the case: auto-release when they go silent
    last_agent_activity_at: Mapped[datetime | None]
    # SLA: due times in wall-clock UTC, computed through the business-hours calendar
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    sla_paused_at: Mapped[datetime | None]  # set while pending on the customer
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sla_state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # warnings/breaches sent
    pending_since: Mapped[datetime | None]
    nudged_at: Mapped[datetime | None]
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> int:
        return self.id


class CaseEvent(Base):
    """One line of a case's transcript and audit trail."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # see bot.cases.transcript.EventKind
    author: Mapped[str] = mapped_column(String(200))  # "customer:telegram:42", "bot", "agent:…"
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    case: Mapped[Case] = relationship(back_populates="events")


class Article(Base):
    """A knowledge-base article, imported from Markdown with front matter."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    # "draft" (never shown to customers), "published" (indexed and answered), "retired"
    status: Mapped[str] = mapped_column(String(16), default="published")
    revision: Mapped[int] = mapped_column(Integer, default=1)  # the revision this row holds
    # an edit of a published article waiting to be published (a revision number), or None
    draft_revision: Mapped[int | None] = mapped_column(Integer)
    # the revision the last import wrote: a later revision means the article changed since
    imported_revision: Mapped[int | None] = mapped_column(Integer)
    # the articles content version (``content_versions``) of its last change customers see:
    # a process serving an older version reloads just the articles changed after it
    changed_version: Mapped[int] = mapped_column(Integer, default=0, index=True)
    chunks: Mapped[list[ArticleChunk]] = relationship(
        back_populates="article", order_by="ArticleChunk.ordinal", cascade="all, delete-orphan"
    )


class ArticleRevision(Base):
    """One version of an article: its content as it was after a change, what the change was
    (``action``: add, edit, publish, retire, rollback, import), who made it, when and from
    which platform, and which fields it changed. Kept for history and rollback."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # the article's status after the change
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class ArticleChunk(Base):
    """A section of an article: the unit that is embedded and searched."""

    __tablename__ = "article_chunks"
    __table_args__ = (UniqueConstraint("article_id", "ordinal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    section: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    article: Mapped[Article] = relationship(back_populates="chunks")


class AnswerFeedback(Base):
    """Whether a suggested article helped: the confirmed deflections and the knowledge gaps."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation: Mapped[str] = mapped_column(String(255), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    query: Mapped[str] = mapped_column(Text)
    article_slug: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None]
    helpful: Mapped[bool | None] = mapped_column(Boolean)  # None: shown, no answer yet
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


def _received_at(context: Any) -> Any:
    """A new inbox row is due when it arrives."""
    return context.get_current_parameters()["received_at"]


class InboxMessage(Base):
    """Every inbound event, persisted before the platform is acknowledged.

    A row is ``pending`` until a process claims it (``processing``: ``claimed_by`` holds it
    until ``lease_until``), then ``done`` in the same transaction as its effects, or back to
    ``pending`` with a later ``next_attempt_at`` after a failure, or ``failed`` for good
    (``expired`` once the retention policy removed a failed row's payload).
    ``conversation`` orders handling: a row is never started while an earlier row of the same
    conversation is pending or processing."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_inbox_status_due", "status", "next_attempt_at"),
        Index("ix_inbox_conversation_status", "conversation", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    conversation: Mapped[str] = mapped_column(String(255), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=_received_at)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A message waiting to be delivered, written in the same transaction as the change that
    caused it. ``conversation`` orders delivery: a row is never sent before earlier rows of the
    same conversation. ``status``: pending, sent, parked (gave up; kept for ``outbox retry``),
    dropped (an operator gave up on it)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        # the head (oldest pending row) of each conversation
        Index("ix_outbox_heads", "status", "conversation", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation: Mapped[str] = mapped_column(String(255), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # the first failure of the current run of failures: retries stop (the row is parked) once
    # they have spanned the configured outage limit since then
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sent_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when this row's SentRef must be recorded somewhere (e.g. "case:12:escalation").
    ref_key: Mapped[str | None] = mapped_column(String(100))


class OutboxLease(Base):
    """One sender's claim on a conversation's outbox rows: only the holder sends them, so a
    conversation's rows go out in order however many senders run. A lease past ``expires_at``
    (its holder died) may be taken over."""

    __tablename__ = "outbox_leases"

    conversation: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class SentRefRecord(Base):
    """Where a delivered message landed, under a stable key ("case:12:post", "case:12:thread"),
    so later outbox rows can edit it or reply in its thread without knowing the platform ids
    when they are written."""

    __tablename__ = "sent_refs"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # "platform:channel/message": finds the case a thread reply belongs to
    message_key: Mapped[str] = mapped_column(String(255), index=True, default="")
    updated_at: Mapped[datetime]


class ReplyChain(Base):
    """A line the bot wrote in a case thread, under the key of the thread's root ("case:12:post").
    Where a reply names the message it answers rather than a thread (a Telegram group without
    topics), a reply to any line of the chain finds its case here — in any process, after any
    restart. Written by the outbox sender in the transaction that marks the line sent."""

    __tablename__ = "reply_chains"

    # "platform:channel/message": where the line landed
    message_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(100), index=True)
    thread: Mapped[str] = mapped_column(String(100))  # the root's id on the platform
    created_at: Mapped[datetime]


class FollowedThread(Base):
    """A thread of a shared channel the help desk takes part in ("slack:C0123/1700.0001"):
    recorded as its first message is accepted, so later messages there need no mention in
    any process, after any restart."""

    __tablename__ = "followed_threads"

    conversation: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime]


class Macro(Base):
    """A canned reply with placeholders ({customer_name}, {case_number}, {agent})."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]


class LinkCode(Base):
    """A one-time code shown on one platform and typed on another to link identities."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # where it was shown (and to whom, when only its asker saw it): the confirmation goes there
    conversation: Mapped[str] = mapped_column(String(255), default="")
    private_to: Mapped[str] = mapped_column(String(255), default="")


class LinkRequest(Base):
    """A link code typed on another platform, waiting for the code's owner to confirm it where
    the code was asked for: only their "yes" there merges the two customers. ``outcome`` is
    set once — "linked", "declined" or "expired" — so a second answer changes nothing."""

    __tablename__ = "link_requests"
    __table_args__ = (Index("ix_link_requests_open", "conversation", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("link_codes.code"), unique=True)
    # where the code's owner asked for it, and so where they are asked to confirm
    conversation: Mapped[str] = mapped_column(String(255))
    private_to: Mapped[str] = mapped_column(String(255), default="")
    # who typed the code, on which platform and where: merged into the owner on a "yes"
    claimant_platform: Mapped[str] = mapped_column(String(32))
    claimant_user_id: Mapped[str] = mapped_column(String(255))
    claimant_name: Mapped[str] = mapped_column(String(255), default="")
    claimant_conversation: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class LinkAttempt(Base):
    """One ``/link CODE`` typed, by platform identity: codes are rate-limited per person, and
    counting here makes the limit hold across processes."""

    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(255), index=True)
    attempted_at: Mapped[datetime]


class ErasureRequest(Base):
    """A customer's data asked to be erased, and the audit entry of the erasure: who asked
    (from chat, or an operator), who carried it out and when, and how many rows it touched —
    never the data itself. ``conversation`` (where to tell the customer) is cleared with it."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_via: Mapped[str] = mapped_column(String(16))  # "chat" | "cli"
    conversation: Mapped[str | None] = mapped_column(String(255))
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="requested")  # → "erased"
    erased_by: Mapped[str | None] = mapped_column(String(200))
    erased_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobRun(Base):
    """A scheduled job's run for one period, claimed by exactly one scheduler process."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(64))  # e.g. "2026-11-26" or "2026-W48"
    owner: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContentVersion(Base):
    """A counter per kind of desk content (``articles``, ``intents``) bumped in the same
    transaction as every change to it: each process compares it with the version it serves
    and reloads when it is behind, so an admin's change reaches every process of the desk."""

    __tablename__ = "content_versions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(200), default="")


class AuditEntry(Base):
    """One admin change (an article published, an intent retrained, a suggestion accepted):
    who, from which platform, when, what and to which target. Never holds customer text beyond
    what the change itself is."""

    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))  # "slack:U123 (Ana)" or "cli:root"
    platform: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "article.publish"
    target: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AdminPrompt(Base):
    """A guided prompt an admin is in the middle of (``kb add`` asked for a title, waits for
    the answer), one per person and channel. Kept here, not in memory, so any process handles
    the answer; it lapses at ``expires_at``."""

    __tablename__ = "admin_prompts"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # e.g. "kb.add", "kb.edit"
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expires_at: Mapped[datetime]


class MissedQuestion(Base):
    """A customer's message the bot could not act on with confidence: no article above the
    answer floor and no topic intent. The knowledge-gap review clusters these (with the
    answers said not to help and the requests that became cases); one that an agent then
    handled in a case is proposed as an intent example, and an admin's verdict on that
    proposal is kept here (``review``: None until then, "accepted" or "rejected").

    ``text`` is the customer's own words: erased with the customer, emptied by the retention
    policy (``feedback_queries_days``)."""

    __tablename__ = "missed_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation: Mapped[str] = mapped_column(String(255), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(100))  # the one acted on, if any
    confidence: Mapped[float] = mapped_column(default=0.0)
    article_slug: Mapped[str | None] = mapped_column(String(200))  # the best, below the floor
    score: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    review: Mapped[str | None] = mapped_column(String(16))
    reviewed_intent: Mapped[str | None] = mapped_column(String(100))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]


class GapListing(Base):
    """The knowledge gaps as last shown in a channel, so ``gaps draft 2`` means the second
    gap the admin saw there — in any process, whatever arrived since. It holds the signals'
    keys ("missed:12", "feedback:5", "case:3"), never their text: erasing a customer leaves
    nothing of theirs here."""

    __tablename__ = "gap_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(255), index=True)
    shown_by: Mapped[str] = mapped_column(String(200))
    shown_at: Mapped[datetime]
    since: Mapped[datetime]
    until: Mapped[datetime]
    gaps: Mapped[list[list[str]]] = mapped_column(JSON, default=list)


class DashboardSignIn(Base):
    """A one-time sign-in link to the managers' dashboard, sent in chat by the ``dashboard``
    verb. Only a hash of the link's token is kept, so the table does not hold live links."""

    __tablename__ = "dashboard_sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(200))  # "platform:user-id"
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class IntentRecord(Base):
    """One of the business's topic intents (the dialog's own are built in, not stored): the
    source of truth the intent model trains on, seeded from ``<data dir>/nlu``. ``action`` is
    what the intent does (``{"kind": "say", "value": "…"}``; empty: the dialog's default)."""

    __tablename__ = "intents"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    action: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    retired_by: Mapped[str] = mapped_column(String(200), default="")


class IntentExample(Base):
    """A training example of a topic intent, in Rasa's markup (entity annotations kept).
    ``text_key`` (the plain text, case-folded, hashed) is unique: one example, one intent."""

    __tablename__ = "intent_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(ForeignKey("intents.name", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str] = mapped_column(String(64), unique=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(200), default="")


class IntentModelRecord(Base):
    """A trained intent model, stored where every process of the desk can load it. The newest
    row is the one served; ``evaluation`` is its held-out accuracy (overall and per intent)."""

    __tablename__ = "intent_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime]
    data_hash: Mapped[str] = mapped_column(String(64), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    examples: Mapped[int] = mapped_column(Integer, default=0)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    evaluation: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WebChatEntry(Base):
    """One entry of a web chat session's log: a visitor's message (``client_id`` is the
    browser's own message id, so a resend after a reconnect is stored once) or a message sent
    to the visitor. ``id`` is the sequence a reconnecting browser resumes after."""

    __tablename__ = "web_chat_log"
    __table_args__ = (
        Index("ix_web_chat_log_session_id", "session", "id"),
        UniqueConstraint("session", "client_id", name="uq_web_chat_log_session_client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
