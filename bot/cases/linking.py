"""Linking a customer's identities across platforms with a one-time code.

``/link`` on one platform shows a code; ``/link CODE`` on another moves that identity — and
everything its customer had: cases, dialogs, feedback — onto the first customer, so their
history is one."""

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
)
from bot.storage.uow import UnitOfWork

CODE_TTL = timedelta(minutes=15)
# codes are eight characters from 31: guessing one takes far more tries than this allows
MAX_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=10)
CODE_LENGTH = 8
# no 0/O, 1/I/L: read off one screen and typed on another
_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ"
_ALPHABET = _LETTERS + "23456789"


class LinkRefused(UserFacingError):
    """The code is unknown, expired, used, already this customer's, or they tried too often
    (``too_many``): ``reason`` says which (the dialog words it for the customer)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"link code refused: {reason}")
        self.reason = reason


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


async def create_link_code(uow: UnitOfWork, customer_id: int) -> LinkCode:
    """A fresh one-time code for ``customer_id``; earlier unused codes of theirs stop working."""
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
    link = LinkCode(code=code, customer_id=customer_id, created_at=now, expires_at=now + CODE_TTL)
    uow.session.add(link)
    await uow.session.flush()
    return link


async def redeem_link_code(
    uow: UnitOfWork, code: str, customer: Customer, *, identity: str = ""
) -> Customer:
    """Join ``customer`` (the one typing the code) into the customer who asked for the code.
    Returns the surviving customer. ``identity`` ("platform:user-id") is rate-limited:
    ``MAX_ATTEMPTS`` codes per ``ATTEMPT_WINDOW``, counted in the database."""
    now = uow.clock.now()
    if identity:
        await _count_attempt(uow, identity)
    link = await uow.session.scalar(
        select(LinkCode).where(LinkCode.code == normalise_code(code)).with_for_update()
    )
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    if link.customer_id == customer.id:
        raise LinkRefused("same")
    link.used_at = now
    target = await uow.session.get_one(Customer, link.customer_id)
    await merge_customers(uow, source=customer, target=target)
    return target


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
