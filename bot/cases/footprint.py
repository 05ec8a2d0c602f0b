"""Everything the help desk holds about one customer: found once, used by the export and the
erasure, so both cover the same rows.

A row concerns a customer when it is theirs by key (their customer id, identities, cases and
the conversations those live in), or when it speaks about one of their cases: an agent's inbound
is ordered with the case's customer conversation, and the outbox rows about a case name it by
key (``case:12:post``) or by number (``#12``) — the escalation post, the lines in its thread,
its edits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    AnswerFeedback,
    Case,
    Customer,
    CustomerIdentity,
    DialogSession,
    ErasureRequest,
    InboxMessage,
    LinkCode,
    MissedQuestion,
    OutboxMessage,
)


@dataclass
class Footprint:
    """One customer's keys: their identities, cases and conversations."""

    customer: Customer
    identities: list[CustomerIdentity]
    case_ids: list[int]
    conversations: set[str] = field(default_factory=set)

    @property
    def identity_keys(self) -> set[tuple[str, str]]:
        return {(i.platform, i.platform_user_id) for i in self.identities}

    @property
    def identity_strings(self) -> set[str]:
        """As link attempts are kept: ``platform:user-id``."""
        return {f"{platform}:{user}" for platform, user in self.identity_keys}

    def names_a_case(self, text: str) -> bool:
        return any(re.search(rf"#{n}(?!\d)", text) for n in self.case_ids)

    def case_key(self, key: object) -> bool:
        return isinstance(key, str) and any(key.startswith(f"case:{n}:") for n in self.case_ids)


async def find_customer(
    session: AsyncSession, customer_id: int | None = None, platform_user: str | None = None
) -> Customer | None:
    """By customer id, or by a platform identity written ``platform:user-id``."""
    if customer_id is not None:
        return await session.get(Customer, customer_id)
    platform, _, user = (platform_user or "").partition(":")
    identity = await session.scalar(
        select(CustomerIdentity).where(
            CustomerIdentity.platform == platform, CustomerIdentity.platform_user_id == user
        )
    )
    return await session.get(Customer, identity.customer_id) if identity else None


async def footprint_of(session: AsyncSession, customer: Customer) -> Footprint:
    identities = list(
        await session.scalars(
            select(CustomerIdentity)
            .where(CustomerIdentity.customer_id == customer.id)
            .order_by(CustomerIdentity.id)
        )
    )
    cases = list(await session.scalars(select(Case).where(Case.customer_id == customer.id)))
    found = Footprint(customer, identities, sorted(c.id for c in cases))
    found.conversations |= {c.conversation for c in cases}
    for column, owner in (
        (DialogSession.conversation, DialogSession.customer_id),
        (AnswerFeedback.conversation, AnswerFeedback.customer_id),
        (ErasureRequest.conversation, ErasureRequest.customer_id),
        (MissedQuestion.conversation, MissedQuestion.customer_id),
    ):
        rows = await session.scalars(select(column).where(owner == customer.id))
        found.conversations |= {c for c in rows if c}
    return found


async def inbox_rows(session: AsyncSession, found: Footprint) -> list[InboxMessage]:
    """Inbounds the customer sent, and those handled in their conversations (agents' lines
    about their cases are ordered there)."""
    platforms = {platform for platform, _ in found.identity_keys}
    rows = await session.scalars(
        select(InboxMessage)
        .where(
            or_(
                InboxMessage.conversation.in_(found.conversations),
                InboxMessage.platform.in_(platforms),
            )
        )
        .order_by(InboxMessage.id)
    )
    keys = found.identity_keys
    return [
        row
        for row in rows
        if row.conversation in found.conversations
        or (row.platform, str(row.payload.get("user_id", ""))) in keys
    ]


async def outbox_rows(session: AsyncSession, found: Footprint) -> list[OutboxMessage]:
    """Messages to the customer, and those about their cases."""
    rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [row for row in rows if _outbox_concerns(row, found)]


def _outbox_concerns(row: OutboxMessage, found: Footprint) -> bool:
    payload: dict[str, Any] = row.payload or {}
    channel = str(payload.get("channel", ""))
    if channel in found.conversations:  # (``row.conversation`` is a whole shared channel)
        return True
    keys = (row.ref_key, payload.get("edit_key"), payload.get("thread_key"))
    if any(found.case_key(key) for key in keys):
        return True
    # by number only once it is out: a message still to send that merely mentions "#12" (a
    # digest, a colleague's list) is not theirs to drop
    said = f"{payload.get('text', '')}\n{payload.get('title', '')}"
    return row.status != "pending" and bool(found.case_ids) and found.names_a_case(said)


async def link_codes(session: AsyncSession, found: Footprint) -> list[LinkCode]:
    return list(
        await session.scalars(select(LinkCode).where(LinkCode.customer_id == found.customer.id))
    )


async def missed_questions(session: AsyncSession, found: Footprint) -> list[MissedQuestion]:
    """The questions of theirs the bot could not answer (kept for the knowledge-gap review)."""
    return list(
        await session.scalars(
            select(MissedQuestion)
            .where(
                or_(
                    MissedQuestion.customer_id == found.customer.id,
                    MissedQuestion.conversation.in_(found.conversations),
                )
            )
            .order_by(MissedQuestion.id)
        )
    )
