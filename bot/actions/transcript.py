"""What the help desk reads from a Rasa tracker: who is writing, what they said, the slots."""

from __future__ import annotations

import json
import uuid
from typing import Any

from rasa_sdk import Tracker

from bot.adapters.rasa import BUTTON_INTENT, MESSAGE_ENTITY, PAYLOAD_ENTITY, RELAY_INTENT

# slots the help desk sets itself, and Rasa's own bookkeeping: not details of the problem
HELPDESK_SLOTS = ("helpdesk_case", "helpdesk_handoff")
RASA_SLOTS = ("requested_slot", "session_started_metadata")
NAME_SLOT = "name"  # the person's name, when the assistant asked for it
SLOTS_LINE = "Details the assistant collected: {}"
TRANSCRIPT_LINES = 11  # with the details line, the dialog's history limit (12)


def event_id(tracker: Tracker, action: str) -> str:
    """One per message and action: a repeated call for the same message is a redelivery."""
    message_id = (tracker.latest_message or {}).get("message_id")
    return f"{message_id}:{action}" if message_id else f"{uuid.uuid4().hex}:{action}"


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    for found in (tracker.latest_message or {}).get("entities") or []:
        if found.get("entity") == entity and found.get("value") is not None:
            return str(found["value"])
    return None


def clicked_payload(tracker: Tracker) -> str | None:
    """The help desk's button payload (``verb:case:arg``) a click sent back, if any."""
    return latest_entity(tracker, PAYLOAD_ENTITY)


def relayed_message(tracker: Tracker) -> dict[str, Any] | None:
    """The message the help desk pushed with ``EXTERNAL_helpdesk_message``, or None."""
    raw = latest_entity(tracker, MESSAGE_ENTITY)
    if raw is None:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return None
    buttons = [
        {"title": str(b["title"]), "payload": str(b["payload"])}
        for b in message.get("buttons") or []
        if isinstance(b, dict) and "title" in b and "payload" in b
    ]
    return {"text": message["text"], "buttons": buttons}


def customer_lines(tracker: Tracker) -> list[str]:
    """What the person typed, oldest first: not button clicks, not the help desk's pushes."""
    lines = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "").strip()
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if not text or text.startswith("/") or intent in (RELAY_INTENT, BUTTON_INTENT):
            continue
        lines.append(text)
    return lines


def slot_details(tracker: Tracker) -> str:
    """The slots the assistant filled, as one line for the agent; "" when there are none."""
    details = [
        f"{name}: {_slot_text(value)}"
        for name, value in sorted(tracker.slots.items())
        if value not in (None, "", [], {}) and name not in HELPDESK_SLOTS + RASA_SLOTS
    ]
    return SLOTS_LINE.format("; ".join(details)) if details else ""


def case_context(tracker: Tracker) -> tuple[str, ...]:
    """What a case opened from this conversation carries: the slots line, then what the person
    said (the last line is the case's subject)."""
    details = slot_details(tracker)
    lines = customer_lines(tracker)[-TRANSCRIPT_LINES:]
    return tuple(([details] if details else []) + lines)


def person_name(tracker: Tracker) -> str:
    name = tracker.get_slot(NAME_SLOT)
    return str(name) if isinstance(name, str) else ""


def _slot_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
