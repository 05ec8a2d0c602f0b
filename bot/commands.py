"""The channel-neutral command verbs and their parser.

Every adapter maps its native form (``/status`` in the terminal and Telegram, ``/helpdesk
status`` in Slack, an app command in Discord) onto the same ``CommandCall``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.errors import InvalidCommand


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"


# verb -> the role it needs
VERBS: dict[str, Role] = {
    "status": Role.CUSTOMER,
    "close": Role.CUSTOMER,
    "reset": Role.CUSTOMER,
    "human": Role.CUSTOMER,
    "help": Role.CUSTOMER,
    "start": Role.CUSTOMER,
    "link": Role.CUSTOMER,  # link this platform identity to another (a one-time code)
    "claim": Role.AGENT,
    "release": Role.AGENT,
    "reply": Role.AGENT,
    "note": Role.AGENT,
    "pending": Role.AGENT,
    "resolve": Role.AGENT,
    "transfer": Role.AGENT,
    "priority": Role.AGENT,
    "macro": Role.AGENT,
    "cases": Role.AGENT,
    "case": Role.AGENT,
    "stats": Role.MANAGER,
    "kb": Role.ADMIN,
    "intent": Role.ADMIN,
    "gaps": Role.ADMIN,
}

_CASE_REF = re.compile(r"^#?(\d{1,9})$")


@dataclass(frozen=True)
class CommandCall:
    """A parsed command: ``verb``, an optional case number and the rest of the text."""

    verb: str
    case_number: int | None = None
    args: str = ""

    @property
    def role(self) -> Role:
        return VERBS[self.verb]


def looks_like_command(text: str) -> bool:
    return text.startswith("/") and len(text) > 1 and not text.startswith("//")


def parse_command(text: str, *, default_case: int | None = None) -> CommandCall:
    """Parse ``/verb [#N] [args…]`` (the slash is optional). Agent verbs take the case number
    first (``reply 12 Hello``, ``note #12 called them``); in a case thread it is implied."""
    body = text.strip().removeprefix("/").strip()
    if not body:
        raise InvalidCommand("That command is empty. Try /help.")
    verb, _, rest = body.partition(" ")
    verb = verb.lower()
    if verb not in VERBS:
        raise InvalidCommand(f"I don't know the command '/{verb[:30]}'. Try /help.")
    rest = rest.strip()
    case_number = default_case
    first, _, remainder = rest.partition(" ")
    match = _CASE_REF.match(first)
    if match and verb not in ("stats", "kb", "intent", "priority_only"):
        case_number = int(match.group(1))
        rest = remainder.strip()
    return CommandCall(verb=verb, case_number=case_number, args=rest)
