"""Erasing a customer's personal data, and the requests for it.

What goes: their name and email, their platform identities, their dialog state, link codes and
link attempts; every text of their cases (subject, description, rating comment, every
transcript line — customer, bot and agent alike, notes included); the questions of their answer
feedback and the questions the bot missed (kept for the knowledge-gap review); the payloads of
every inbox and outbox row that concerns them (``footprint``).

What stays, for the metrics and digests: the customer row (empty) and their cases as counts —
status, priority, queue, intent, timings, SLA state, the rating's value, who of the team worked
them — and each transcript line's kind and time. An ``ErasureRequest`` records who erased which
customer id and when, and how many rows it touched; never the data.

The rule for cases still open: a case being worked (claimed: ``open`` or ``pending``) blocks the
erasure — an agent is talking to the customer — unless it is forced; every case of theirs that
is not yet closed is closed by the erasure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select

from bot.cases.footprint import (
    Footprint,
    footprint_of,
    inbox_rows,
    missed_questions,
    outbox_rows,
)
from bot.errors import UserFacingError
from bot.storage.models import (
    AnswerFeedback,
    Case,
    CaseEvent,
    Customer,
    CustomerIdentity,
    DialogSession,
    ErasureRequest,
    FollowedThread,
    LinkAttempt,
    LinkCode,
    LinkRequest,
    SentRefRecord,
)
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

ERASED = "[erased]"  # what an erased case's subject reads in listings and digests
WORKED = ("open", "pending")
REQUESTED, DONE = "requested", "erased"


class CaseBeingWorked(UserFacingError):
    """The customer has a case an agent holds: erase after it is resolved, or force it."""

    def __init__(self, customer_id: int, case_numbers: list[int]) -> None:
        self.customer_id = customer_id
        self.case_numbers = case_numbers
        shown = ", ".join(f"#{n}" for n in case_numbers)
        super().__init__(
            f"Customer {customer_id} has a case being worked ({shown}): resolve it first, "
            "or force the erasure."
        )


@dataclass(frozen=True)
class Erased:
    customer_id: int
    counts: dict[str, int]
    conversations: tuple[str, ...]  # where the customer may be told it is done


async def request_erasure(
    uow: UnitOfWork, customer_id: int, *, via: str, conversation: str | None
) -> tuple[ErasureRequest, bool]:
    """Record that the customer asked to be erased; returns the request and whether it is new
    (an open request is not repeated)."""
    open_request = await uow.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.customer_id == customer_id, ErasureRequest.status == REQUESTED
        )
    )
    if open_request is not None:
        return open_request, False
    request = ErasureRequest(
        customer_id=customer_id,
        requested_via=via,
        conversation=conversation,
        requested_at=uow.clock.now(),
        status=REQUESTED,
        counts={},
    )
    uow.session.add(request)
    await uow.session.flush()
    return request, True


async def cases_held(uow: UnitOfWork, customer_id: int) -> int:
    found = await uow.session.scalar(
        select(func.count()).select_from(Case).where(Case.customer_id == customer_id)
    )
    return int(found or 0)


async def open_request(uow: UnitOfWork, number: int) -> ErasureRequest | None:
    """Request ``number`` while it waits for an admin (None: no such request, or done)."""
    request = await uow.session.get(ErasureRequest, number)
    return request if request is not None and request.status == REQUESTED else None


async def erase_customer(
    uow: UnitOfWork, customer: Customer, *, by: str, force: bool = False, via: str = "cli"
) -> Erased:
    """Erase ``customer``'s personal data inside ``uow`` (the caller commits); the open request
    for it, if any, becomes its audit entry (else a new entry is written)."""
    found = await footprint_of(uow.session, customer)
    cases = list(await uow.session.scalars(select(Case).where(Case.id.in_(found.case_ids))))
    worked = sorted(c.id for c in cases if c.status in WORKED)
    if worked and not force:
        raise CaseBeingWorked(customer.id, worked)
    counts: dict[str, int] = {}
    counts["cases"] = await _erase_cases(uow, cases, found)
    counts["inbox"] = await _erase_inbox(uow, found)
    counts["outbox"] = await _erase_outbox(uow, found)
    counts["answer_feedback"] = await _erase_feedback(uow, found)
    counts["missed_questions"] = await _erase_missed(uow, found)
    counts.update(await _erase_keys(uow, found))
    customer.display_name = ""
    customer.email = None
    conversations = tuple(sorted(found.conversations))
    await _audit(uow, customer.id, by=by, via=via, counts=counts)
    logger.info("erased customer %s (by %s): %s", customer.id, by, counts)
    return Erased(customer.id, counts, conversations)


async def _erase_cases(uow: UnitOfWork, cases: list[Case], found: Footprint) -> int:
    now = uow.clock.now()
    for case in cases:
        case.subject = ERASED
        case.description = ""
        case.csat_comment = None
        case.conversation = f"erased:{found.customer.id}"
        if case.status != "closed":
            case.status = "closed"
            case.closed_at = now
            case.sla_paused_at = None
    events = await uow.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id.in_(found.case_ids))
    )
    for event in events:
        event.body = ""
        if event.author.startswith("customer:"):
            event.author, event.author_name, event.data = "customer", "", {}
    return len(cases)


async def _erase_inbox(uow: UnitOfWork, found: Footprint) -> int:
    """Payloads emptied; an inbound still waiting is dropped with them (handling it would
    bring the customer back). One being handled right now (this very ``erase``, typed in their
    case thread, is ordered in their conversation) keeps its claim, so its handler's
    transaction still commits."""
    now = uow.clock.now()
    rows = await inbox_rows(uow.session, found)
    for row in rows:
        row.payload, row.error = {}, None
        row.conversation = f"erased:{found.customer.id}"
        if row.status == "pending":
            row.status, row.processed_at = "done", now
    return len(rows)


async def _erase_outbox(uow: UnitOfWork, found: Footprint) -> int:
    """Payloads emptied; a message not yet delivered is dropped."""
    rows = await outbox_rows(uow.session, found)
    for row in rows:
        row.payload, row.sent_ref, row.last_error = {}, None, None
        if row.conversation in found.conversations:  # their chat, not an agents' channel
            row.conversation = f"erased:{found.customer.id}"
        if row.ref_key and any(c in row.ref_key for c in found.conversations):
            row.ref_key = None  # e.g. the key of their rating buttons names their chat
        if row.status in ("pending", "parked"):
            row.status = "dropped"
    return len(rows)


async def _erase_feedback(uow: UnitOfWork, found: Footprint) -> int:
    rows = list(
        await uow.session.scalars(
            select(AnswerFeedback).where(
                or_(
                    AnswerFeedback.customer_id == found.customer.id,
                    AnswerFeedback.conversation.in_(found.conversations),
                )
            )
        )
    )
    for row in rows:  # whether the article helped stays countable
        row.query, row.conversation = "", ""
    return len(rows)


async def _erase_missed(uow: UnitOfWork, found: Footprint) -> int:
    """Their words go, and the link to them; that a question was missed stays countable."""
    rows = await missed_questions(uow.session, found)
    for row in rows:
        row.text, row.conversation, row.customer_id = "", "", None
    return len(rows)


async def _erase_keys(uow: UnitOfWork, found: Footprint) -> dict[str, int]:
    """Rows that are nothing but the customer's keys: deleted."""
    session, customer_id = uow.session, found.customer.id
    counts: dict[str, int] = {}
    statements: dict[str, Any] = {
        "dialog_sessions": delete(DialogSession).where(DialogSession.customer_id == customer_id),
        "identities": delete(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id),
        # a pending "link this account?" names the claimant and points at their code: both go
        # (before the codes the requests reference)
        "link_requests": delete(LinkRequest).where(
            or_(
                LinkRequest.code.in_(
                    select(LinkCode.code).where(LinkCode.customer_id == customer_id)
                ),
                (LinkRequest.claimant_platform + ":" + LinkRequest.claimant_user_id).in_(
                    found.identity_strings
                ),
            )
        ),
        "link_codes": delete(LinkCode).where(LinkCode.customer_id == customer_id),
        "link_attempts": delete(LinkAttempt).where(
            LinkAttempt.identity.in_(found.identity_strings)
        ),
        "followed_threads": delete(FollowedThread).where(
            FollowedThread.conversation.in_(found.conversations)
        ),
    }
    for name, statement in statements.items():
        result = await session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    refs = list(await session.scalars(select(SentRefRecord)))
    gone = [r for r in refs if any(c in r.key or c in r.message_key for c in found.conversations)]
    for record in gone:  # where the bot's lines to the customer landed (live buttons, ratings)
        await session.delete(record)
    counts["sent_refs"] = len(gone)
    return counts


async def _audit(
    uow: UnitOfWork, customer_id: int, *, by: str, via: str, counts: dict[str, int]
) -> None:
    now = uow.clock.now()
    requests = list(
        await uow.session.scalars(
            select(ErasureRequest).where(ErasureRequest.customer_id == customer_id)
        )
    )
    for earlier in requests:
        earlier.conversation = None  # the chat it came from names the customer
    pending = [r for r in requests if r.status == REQUESTED]
    entry = pending[0] if pending else None
    if entry is None:
        entry = ErasureRequest(
            customer_id=customer_id, requested_via=via, requested_at=now, counts={}
        )
        uow.session.add(entry)
    for request in pending[1:]:
        request.status = DONE
    entry.status, entry.erased_by, entry.erased_at, entry.counts = DONE, by[:200], now, counts
