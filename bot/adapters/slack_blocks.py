"""Block Kit rendering for Slack: outbounds become ``text`` + ``blocks``, the Reply button's
modal is built here too.

All text is escaped for Slack mrkdwn (``&``, ``<``, ``>``), so nothing a customer typed can form
a mention (``<!channel>``, ``<@U…>``, ``<!subteam^…>``) or a link (``<https://…|…>``). The
``text`` fallback (notifications, screen readers) is always set.
"""

from __future__ import annotations

import json
from typing import Any

from bot.messages import Button, Outbound, split_payload

ACTION_PREFIX = "helpdesk:"  # action_id of a plain button: prefix + payload (stable, unique)
FORM_ACTION_PREFIX = "helpdesk-form:"  # action_id of a button that opens the Reply modal
REPLY_VIEW_ID = "helpdesk_reply"  # callback_id of the Reply modal
REPLY_BLOCK_ID = "reply"
REPLY_INPUT_ID = "text"

SECTION_MAX_CHARS = 3000  # Slack's limit for a section's text
FALLBACK_MAX_CHARS = 3900  # Slack truncates ``text`` past 4000 characters
BUTTONS_PER_BLOCK = 25  # Slack's limit for elements in an actions block
LABEL_MAX_CHARS = 75  # Slack's limit for a button's text


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(outbound: Outbound) -> dict[str, Any]:
    """The ``text`` and ``blocks`` arguments for ``chat.postMessage`` / ``chat.update``."""
    text = escape(outbound.text or outbound.title)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in _chunks(text, SECTION_MAX_CHARS)
    ]
    for start in range(0, len(outbound.buttons), BUTTONS_PER_BLOCK):
        chunk_buttons = outbound.buttons[start : start + BUTTONS_PER_BLOCK]
        blocks.append({"type": "actions", "elements": [_button(b) for b in chunk_buttons]})
    return {"text": text[:FALLBACK_MAX_CHARS] or " ", "blocks": blocks}


def _chunks(text: str, size: int) -> list[str]:
    if not text:
        return []
    return [text[i : i + size] for i in range(0, len(text), size)]


def _button(button: Button) -> dict[str, Any]:
    prefix = FORM_ACTION_PREFIX if button.opens_form else ACTION_PREFIX
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:LABEL_MAX_CHARS], "emoji": True},
        "action_id": prefix + button.payload,
        "value": button.payload,
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def reply_modal(payload: str, channel: str, thread: str | None) -> dict[str, Any]:
    """The modal a Reply button opens; its submission carries the case back in metadata."""
    _, case, _ = split_payload(payload)
    metadata = json.dumps({"case": case, "channel": channel, "thread": thread})
    title = f"Reply to #{case}" if case else "Reply"
    return {
        "type": "modal",
        "callback_id": REPLY_VIEW_ID,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": REPLY_BLOCK_ID,
                "label": {"type": "plain_text", "text": "Message to the customer"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REPLY_INPUT_ID,
                    "multiline": True,
                    "max_length": 3000,
                },
            }
        ],
    }
