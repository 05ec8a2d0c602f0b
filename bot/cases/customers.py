"""Customers and their platform identities."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.storage.models import Customer, CustomerIdentity
from bot.storage.uow import UnitOfWork
from bot.text import clean_name


async def customer_for(uow: UnitOfWork, platform: str, user_id: str, name: str = "") -> Customer:
    """The customer behind a platform identity, created on first contact."""
    name = clean_name(name)  # names enter here: stored bounded and clean, like message text
    session = uow.session
    identity = await session.scalar(
        select(CustomerIdentity).where(
            CustomerIdentity.platform == platform, CustomerIdentity.platform_user_id == user_id
        )
    )
    if identity is not None:
        customer = await session.get_one(Customer, identity.customer_id)
        if name and not customer.display_name:
            customer.display_name = name
        return customer
    now = uow.clock.now()
    customer = Customer(display_name=name, created_at=now)
    session.add(customer)
    await session.flush()
    try:
        async with session.begin_nested():
            session.add(
                CustomerIdentity(
                    customer_id=customer.id,
                    platform=platform,
                    platform_user_id=user_id,
                    display_name=name,
                    created_at=now,
                )
            )
    except IntegrityError:  # another process created the identity first
        await session.delete(customer)
        return await customer_for(uow, platform, user_id, name)
    return customer
