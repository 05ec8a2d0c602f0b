"""Linking a customer's identities across platforms with a one-time code.

``/link`` on one platform (A) shows a code; ``/link CODE`` on another (B) asks, back on A, "link
this B account to this one?"; only a "yes" there, from the code's owner, moves the B identity —
and everything its customer had: cases, dialogs, feedback — onto the A customer, so their
history is one. A "no", or no answer within ``CONFIRM_TTL``, merges nothing. So a code read over
someone's shoulder, or guessed, cannot take over their history."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from bot.errors import UserFacingError
from bot.storage.models import (
    AnswerFeedback,
    Case,
    Customer,
    CustomerIdentity,
    DialogSession,
    LinkAttempt,
    LinkCode,
    LinkRequest,
)
from bot.storage.uow import UnitOfWork

CODE_TTL = timedelta(minutes=15)
# how long the code's owner has to confirm on their first platform once the code was typed
CONFIRM_TTL = timedelta(minutes=10)
# codes are eight characters from 31: guessing one takes far more tries than this allows
MAX_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=10)
CODE_LENGTH = 8
# no 0/O, 1/I/L: read off one screen and typed on another
_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ"
_ALPHABET = _LETTERS + "23456789"


class LinkRefused(UserFacingError):
    """The code is unknown, expired, used, already this customer's, waiting for its owner's
    answer to this same person (``pending``), or they tried too often (``too_many``):
    ``reason`` says which (the dialog words it for the customer)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"link code refused: {reason}")
        self.reason = reason


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


async def create_link_code(
    uow: UnitOfWork, customer_id: int, *, conversation: str, private_to: str = ""
) -> LinkCode:
    """A fresh one-time code for ``customer_id``, shown in ``conversation`` (to ``private_to``
    only, when set), where its use is confirmed later; earlier unused codes of theirs stop
    working."""
    now = uow.clock.now()
    await uow.session.execute(
        update(LinkCode)
        .where(LinkCode.customer_id == customer_id, LinkCode.used_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    # starts with a letter so parsers never mistake it for a case number
    code = secrets.choice(_LETTERS) + "".join(
        secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH - 1)
    )
    link = LinkCode(
        code=code,
        customer_id=customer_id,
        created_at=now,
        expires_at=now + CODE_TTL,
        conversation=conversation,
        private_to=private_to,
    )
    uow.session.add(link)
    await uow.session.flush()
    return link


async def request_link(
    uow: UnitOfWork,
    code: str,
    customer: Customer,
    *,
    platform: str,
    user_id: str,
    name: str,
    conversation: str,
) -> LinkRequest:
    """``customer`` (``platform``:``user_id``, writing in ``conversation``) typed ``code``:
    nothing merges yet — the code's owner is asked where they got it, and only their "yes"
    (``answer_link_request``) joins the two. The identity is rate-limited: ``MAX_ATTEMPTS``
    codes per ``ATTEMPT_WINDOW``, counted in the database."""
    now = uow.clock.now()
    await _count_attempt(uow, f"{platform}:{user_id}")
    link = await uow.session.scalar(
        select(LinkCode).where(LinkCode.code == normalise_code(code)).with_for_update()
    )
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        waiting = await uow.session.scalar(
            select(LinkRequest).where(
                LinkRequest.code == link.code,
                LinkRequest.answered_at.is_(None),
                LinkRequest.claimant_platform == platform,
                LinkRequest.claimant_user_id == user_id,
            )
        )
        raise LinkRefused("pending" if waiting is not None else "used")
    # a code from before confirmations were asked knows no conversation to ask in: a new one
    if link.expires_at <= now or not link.conversation:
        raise LinkRefused("expired")
    if link.customer_id == customer.id:
        raise LinkRefused("same")
    link.used_at = now
    request = LinkRequest(
        code=link.code,
        conversation=link.conversation,
        private_to=link.private_to,
        claimant_platform=platform,
        claimant_user_id=user_id,
        claimant_name=name,
        claimant_conversation=conversation,
        created_at=now,
        expires_at=now + CONFIRM_TTL,
    )
    uow.session.add(request)
    await uow.session.flush()
    return request


async def answer_link_request(
    uow: UnitOfWork, request_id: int, customer: Customer, conversation: str, *, yes: bool
) -> LinkRequest | None:
    """The code's owner answered in ``conversation``. Returns the request, settled ("linked",
    "declined", or "expired" when the answer came too late), or None when there is nothing
    for this person to answer here: another request, someone else's, or one already settled —
    so a second press of Yes merges nothing and says nothing twice."""
    request = await uow.session.scalar(
        select(LinkRequest).where(LinkRequest.id == request_id).with_for_update()
    )
    if request is None or request.conversation != conversation:
        return None
    owner = await uow.session.scalar(
        select(LinkCode.customer_id).where(LinkCode.code == request.code)
    )
    if owner != customer.id or request.answered_at is not None:
        return None
    now = uow.clock.now()
    late = request.expires_at <= now
    outcome = "expired" if late else "linked" if yes else "declined"
    if not await _settle(uow, request, outcome):
        return None  # another process settled it meanwhile
    if outcome == "linked":
        source = await customer_of(uow, request.claimant_platform, request.claimant_user_id)
        if source is not None and source.id != customer.id:
            await merge_customers(uow, source=source, target=customer)
    return request


async def open_request_in(uow: UnitOfWork, conversation: str, owner_id: int) -> LinkRequest | None:
    """The newest unanswered request put to customer ``owner_id`` in ``conversation`` (a typed
    yes / no answers it)."""
    return await uow.session.scalar(
        select(LinkRequest)
        .join(LinkCode, LinkCode.code == LinkRequest.code)
        .where(
            LinkRequest.conversation == conversation,
            LinkRequest.answered_at.is_(None),
            LinkCode.customer_id == owner_id,
        )
        .order_by(LinkRequest.id.desc())
        .limit(1)
    )


async def expire_link_requests(uow: UnitOfWork) -> list[LinkRequest]:
    """Settle as "expired" every request nobody answered in time; returns them, for telling
    both sides. A request settled elsewhere meanwhile is left out."""
    now = uow.clock.now()
    due = await uow.session.scalars(
        select(LinkRequest)
        .where(LinkRequest.answered_at.is_(None), LinkRequest.expires_at <= now)
        .order_by(LinkRequest.id)
    )
    return [request for request in due.all() if await _settle(uow, request, "expired")]


async def _settle(uow: UnitOfWork, request: LinkRequest, outcome: str) -> bool:
    """Record the outcome once: only the first of two racing answers changes the row."""
    now = uow.clock.now()
    result = await uow.session.execute(
        update(LinkRequest)
        .where(LinkRequest.id == request.id, LinkRequest.answered_at.is_(None))
        .values(answered_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    request.answered_at, request.outcome = now, outcome
    return True


async def customer_of(uow: UnitOfWork, platform: str, user_id: str) -> Customer | None:
    return await uow.session.scalar(
        select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(CustomerIdentity.platform == platform, CustomerIdentity.platform_user_id == user_id)
    )


async def _count_attempt(uow: UnitOfWork, identity: str) -> None:
    """Record this attempt, or refuse it when ``identity`` used up its tries (a refused try is
    not counted, so the window ends ``ATTEMPT_WINDOW`` after the last counted one)."""
    now = uow.clock.now()
    recent = await uow.session.scalar(
        select(func.count())
        .select_from(LinkAttempt)
        .where(LinkAttempt.identity == identity, LinkAttempt.attempted_at > now - ATTEMPT_WINDOW)
    )
    if (recent or 0) >= MAX_ATTEMPTS:
        raise LinkRefused("too_many")
    uow.session.add(LinkAttempt(identity=identity, attempted_at=now))
    await uow.session.flush()


async def merge_customers(uow: UnitOfWork, *, source: Customer, target: Customer) -> None:
    """Move everything of ``source`` onto ``target`` and remove ``source``."""
    session = uow.session
    for model in (CustomerIdentity, DialogSession, Case, AnswerFeedback, LinkCode):
        await session.execute(
            update(model)
            .where(model.customer_id == source.id)
            .values(customer_id=target.id)
            .execution_options(synchronize_session=False)
        )
    if not target.display_name and source.display_name:
        target.display_name = source.display_name
    if not target.email and source.email:
        target.email = source.email
    await session.flush()
    await session.execute(delete(Customer).where(Customer.id == source.id))
