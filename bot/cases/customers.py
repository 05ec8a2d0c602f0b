"""Customers and their platform identities."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import Customer, CustomerIdentity
from bot.storage.uow import UnitOfWork
from bot.storage.upsert import insert_unless_exists
from bot.text import clean_name


async def customer_for(uow: UnitOfWork, platform: str, user_id: str, name: str = "") -> Customer:
    """The customer behind a platform identity, created on first contact. One statement for a
    returning customer; three on first contact (the look, the customer, the identity unless
    another process created it first — then theirs is used)."""
    name = clean_name(name)  # names enter here: stored bounded and clean, like message text
    session = uow.session
    customer = await session.scalar(
        select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(CustomerIdentity.platform == platform, CustomerIdentity.platform_user_id == user_id)
    )
    if customer is not None:
        if name and not customer.display_name:
            customer.display_name = name
        return customer
    now = uow.clock.now()
    customer = Customer(display_name=name, created_at=now)
    session.add(customer)
    await session.flush()
    identity = {
        "customer_id": customer.id,
        "platform": platform,
        "platform_user_id": user_id,
        "display_name": name,
        "created_at": now,
    }
    if not await insert_unless_exists(
        session, CustomerIdentity, identity, unique_on=["platform", "platform_user_id"]
    ):  # another process created the identity first
        await session.delete(customer)
        return await customer_for(uow, platform, user_id, name)
    return customer
