"""The channel-neutral command verbs and their parser.

Every adapter maps its native form (``/status`` in the terminal and Telegram, ``/helpdesk
status`` in Slack and Discord) onto the same ``CommandCall``. The other way round, a command the
bot suggests ("Try /status") is written with ``hint(verb)`` and rendered in the form that works
on the platform it is delivered to (``render_hints``, applied by the outbox): ``/helpdesk
status`` in Slack, where ``/status`` is one of Slack's own commands.
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
    "forget": Role.CUSTOMER,  # ask for one's data to be erased (an admin confirms)
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
    "dashboard": Role.MANAGER,  # a one-time sign-in link to the live dashboard (admins too)
    "kb": Role.ADMIN,
    "intent": Role.ADMIN,
    "gaps": Role.ADMIN,  # knowledge gaps: ``gaps``, ``gaps draft N``, ``gaps examples N INTENT``
    "suggestions": Role.ADMIN,  # missed messages agents handled, proposed as intent examples
    "accept": Role.ADMIN,  # ``accept N [INTENT]``: suggestion N becomes an intent example
    "reject": Role.ADMIN,  # ``reject N``: suggestion N is not proposed again
    "erase": Role.ADMIN,  # confirm a customer's erasure request: ``erase N`` (the request's number)
}
# other spellings people use for a verb
ALIASES = {"forget-me": "forget", "forgetme": "forget"}

# ASCII digits only, and at most nine: ``int()`` accepts "²" and "١٢", and a longer number
# overflows the database's integer column; such a "case number" names no case.
_CASE_REF = re.compile(r"^#?([0-9]{1,9})$")
# what people meant as a case number, valid or not: digits of any script, superscripts, #
_NUMBER_LIKE = re.compile(r"^#?[\d\u00b2\u00b3\u00b9\u2070-\u2079]+$")

# U+2060 WORD JOINER: invisible, and dropped from anything people send (``clean_text``), so it
# marks the bot's own hints unambiguously until ``render_hints`` replaces it.
HINT_MARK = "\u2060"
_HINT = re.compile(HINT_MARK + r"([a-z]+)")
# Where every verb is typed after one app command; elsewhere customers type ``/verb`` and
# agents the bare verb.
NATIVE_COMMAND = {"slack": "/helpdesk ", "discord": "/helpdesk "}


def hint(verb: str) -> str:
    """``verb`` as the bot suggests typing it; rendered per platform by ``render_hints``."""
    return HINT_MARK + verb


def render_hints(text: str, platform: str) -> str:
    """Every ``hint`` in ``text`` in the form that works on ``platform``."""

    def _native(match: re.Match[str]) -> str:
        verb = match.group(1)
        default = "/" if VERBS.get(verb) == Role.CUSTOMER else ""
        return NATIVE_COMMAND.get(platform, default) + verb

    return _HINT.sub(_native, text)


@dataclass(frozen=True)
class CommandCall:
    """A parsed command: ``verb``, an optional case number and the rest of the text."""

    verb: str
    case_number: int | None = None
    args: str = ""

    @property
    def role(self) -> Role:
        return VERBS[self.verb]


def case_number_in(text: str) -> int | None:
    """The case number ``text`` names (``12``, ``#12``), or None when it is not one."""
    match = _CASE_REF.match(text)
    return int(match.group(1)) if match else None


def looks_like_command(text: str) -> bool:
    return text.startswith("/") and len(text) > 1 and not text.startswith("//")


def parse_command(text: str, *, default_case: int | None = None) -> CommandCall:
    """Parse ``/verb [#N] [args…]`` (the slash is optional). Agent verbs take the case number
    first (``reply 12 Hello``, ``note #12 called them``); in a case thread it is implied."""
    body = text.strip().removeprefix("/").strip()
    if not body:
        raise InvalidCommand(f"That command is empty. Try {hint('help')}.")
    verb, _, rest = body.partition(" ")
    verb = verb.lower()
    verb = ALIASES.get(verb, verb)
    if verb not in VERBS:
        raise InvalidCommand(f"I don't know the command '/{verb[:30]}'. Try {hint('help')}.")
    rest = rest.strip()
    case_number = default_case
    first, _, remainder = rest.partition(" ")
    # ``erase N`` names an erasure request, ``accept N`` a suggestion: never a case (not even
    # the thread's)
    if verb not in (
        "stats",
        "dashboard",
        "kb",
        "intent",
        "link",
        "erase",
        "gaps",
        "accept",
        "reject",
    ):
        named = case_number_in(first)
        if named is not None:
            case_number = named
            rest = remainder.strip()
        elif _NUMBER_LIKE.match(first):  # "claim ²", "close 99999999999": no case, say so
            raise InvalidCommand(not_a_case_number(first))
    return CommandCall(verb=verb, case_number=case_number, args=rest)


def not_a_case_number(text: str) -> str:
    """The answer to a "case number" that is none (too long, not ASCII digits)."""
    shown = text if len(text) <= 12 else text[:12] + "…"
    return f"'{shown}' isn't a case number. Case numbers look like 12 or #12."
