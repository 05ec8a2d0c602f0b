"""Macros: canned replies with placeholders, stored in the database and edited by admins.

Placeholders are ``{customer_name}``, ``{case_number}`` and ``{agent}``; they are replaced by
plain substitution (never ``str.format``, so a macro cannot reach into Python objects)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select

from bot.errors import NotFound, UserFacingError
from bot.storage.models import Macro
from bot.storage.uow import UnitOfWork

PLACEHOLDERS = ("customer_name", "case_number", "agent")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
BODY_MAX = 2000


def normalise_name(name: str) -> str:
    name = name.strip().lower()
    if not NAME.match(name):
        raise UserFacingError(
            "A macro name is one word of letters, digits, '-' or '_' (up to 40 characters)."
        )
    return name


def render(body: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


async def list_macros(uow: UnitOfWork) -> list[Macro]:
    return list(await uow.session.scalars(select(Macro).order_by(Macro.name)))


async def get_macro(uow: UnitOfWork, name: str) -> Macro:
    macro = await uow.session.scalar(select(Macro).where(Macro.name == name.strip().lower()))
    if macro is None:
        raise NotFound(f"There is no macro '{name.strip()[:40]}'. Try 'macro list'.")
    return macro


async def set_macro(uow: UnitOfWork, name: str, body: str, by: str) -> tuple[Macro, bool]:
    """Create or replace a macro; True when it is new."""
    name = normalise_name(name)
    body = body.strip()
    if not body:
        raise UserFacingError(
            f"The macro needs a text. Try 'macro set {name} Hi {{customer_name}}…'."
        )
    if len(body) > BODY_MAX:
        raise UserFacingError(f"A macro holds {BODY_MAX} characters at most.")
    unknown = sorted({p for p in _PLACEHOLDER.findall(body) if p not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise UserFacingError(f"Unknown placeholder {{{unknown[0]}}}. Placeholders: {known}.")
    macro = await uow.session.scalar(select(Macro).where(Macro.name == name))
    now = uow.clock.now()
    if macro is None:
        macro = Macro(name=name, body=body, updated_by=by, updated_at=now)
        uow.session.add(macro)
        await uow.session.flush()
        return macro, True
    macro.body, macro.updated_by, macro.updated_at = body, by, now
    return macro, False


async def delete_macro(uow: UnitOfWork, name: str) -> None:
    macro = await get_macro(uow, name)
    await uow.session.delete(macro)
