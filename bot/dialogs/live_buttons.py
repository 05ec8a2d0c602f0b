"""The buttons under the bot's last messages to a customer, and retiring them.

Buttons belong to the turn that offered them ("That helped", "Talk to a person", "Reopen case
#3"). When the customer's next turn does anything, the previous turn's buttons are edited away,
so an old message cannot be pressed again; the dialog checks every press against its state
anyway, for platforms that cannot edit and for presses already on their way.

The session keeps, under ``live``, each message with buttons: its ref key and its text (an edit
replaces the whole message, so the text goes with it). Keys are per conversation and slot: the
outbox delivers a conversation's messages in order, so the edit of an old slot is delivered
before the new message that takes the slot over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.dialogs import notify
from bot.dialogs.states import Reply
from bot.storage.uow import UnitOfWork


def _key(conversation: str, slot: int) -> str:
    return f"{conversation}:buttons:{slot}"


async def retire(
    uow: UnitOfWork, conversation: str, before: Mapping[str, Any], data: dict[str, Any]
) -> None:
    """Edit away the buttons the session had ``before`` this turn (``data`` is the new one)."""
    data.pop("live", None)
    for entry in before.get("live") or ():
        await notify.retire_buttons(uow, conversation, str(entry["key"]), str(entry["text"]))


def send(
    uow: UnitOfWork,
    conversation: str,
    replies: Sequence[Reply],
    data: dict[str, Any],
    *,
    private_to: str = "",
    reply_token: str = "",
) -> None:
    """Queue this turn's replies (privately to ``private_to`` when set) and remember which of
    them carry buttons, to retire those next turn."""
    live: list[dict[str, str]] = []
    for reply in replies:
        # a private answer (ephemeral) cannot be edited later: its buttons are not tracked
        key = _key(conversation, len(live)) if reply.buttons and not private_to else None
        notify.to_customer(
            uow,
            conversation,
            reply.text,
            reply.buttons,
            ref_key=key,
            private_to=private_to,
            reply_token=reply_token,
        )
        if key:
            live.append({"key": key, "text": reply.text})
    if live:
        data["live"] = live
