"""What an intent does, as data: answer with an article, say a canned response, hand the
customer to a queue, or only route (the queue a case about it goes to). Stored with the intent
(``IntentRecord.action``), settable from chat, the command line and the data files (an intent's
Rasa ``metadata: {action: {say: "…"}}``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidCommand

ARTICLE = "article"
SAY = "say"
HANDOFF = "handoff"
ROUTE = "route"
KINDS = (ARTICLE, SAY, HANDOFF, ROUTE)
USAGE = "intent action NAME article SLUG | say TEXT | handoff QUEUE | route QUEUE | none"
MAX_SAY = 2000  # a canned response fits one message on every platform


@dataclass(frozen=True)
class IntentAction:
    kind: str
    value: str

    def to_data(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def from_data(cls, raw: Mapping[str, Any] | None) -> IntentAction | None:
        if not raw or raw.get("kind") not in KINDS or not raw.get("value"):
            return None
        return cls(str(raw["kind"]), str(raw["value"]))

    def to_metadata(self) -> dict[str, Any]:
        """As written in a Rasa file's intent ``metadata``."""
        return {"action": {self.kind: self.value}}

    def describe(self) -> str:
        match self.kind:
            case "article":
                return f"answers with the article {self.value}"
            case "say":
                return f'says "{self.value}"'
            case "handoff":
                return f"hands the customer to the {self.value} queue"
            case _:
                return f"routes cases to the {self.value} queue"


def parse_action(words: str) -> IntentAction | None:
    """``article SLUG``, ``say TEXT``, ``handoff QUEUE``, ``route QUEUE``; ``none`` clears."""
    kind, _, value = words.strip().partition(" ")
    kind, value = kind.lower(), value.strip()
    if kind in ("none", "default", "clear") and not value:
        return None
    if kind not in KINDS or not value:
        raise InvalidCommand(f"Try: {USAGE}")
    if kind != SAY and len(value.split()) != 1:
        raise InvalidCommand(f"'{kind}' takes one name. Try: {USAGE}")
    if len(value) > MAX_SAY:
        raise InvalidCommand(f"That response is too long (at most {MAX_SAY} characters).")
    return IntentAction(kind, value)


def from_metadata(metadata: Any, *, where: str) -> IntentAction | None:
    """The action in an intent's Rasa ``metadata`` (``{action: {say: "…"}}``), if any."""
    if not isinstance(metadata, Mapping) or "action" not in metadata:
        return None
    raw = metadata["action"]
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise InvalidCommand(f"{where}: metadata.action takes one of {', '.join(KINDS)}")
    ((kind, value),) = raw.items()
    return parse_action(f"{kind} {value}")
