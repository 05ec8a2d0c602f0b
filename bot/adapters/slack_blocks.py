"""Block Kit rendering for Slack: outbounds become ``text`` + ``blocks``, the Reply button's
modal is built here too.

Outbound text is plain (``slack_text`` decoded it on the way in), so it is escaped here exactly
once (``&``, ``<``, ``>``): nothing a customer typed can form a mention (``<!channel>``,
``<@U…>``, ``<!subteam^…>``) or a link, while an agent's mrkdwn (``*bold*``, `` `code` ``,
bullets) stays as they wrote it. The ``text`` fallback (notifications, screen readers) is always
set. Slack's limits are kept: a section holds 3,000 characters, a message at most 50 blocks and
40,000 characters — a longer text becomes several messages (``render_parts``), the buttons on
the last one.
"""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack_text import escape, split_for_blocks
from bot.messages import Button, Outbound, split_payload

ACTION_PREFIX = "helpdesk:"  # action_id of a plain button: prefix + payload (stable, unique)
FORM_ACTION_PREFIX = "helpdesk-form:"  # action_id of a button that opens the Reply modal
REPLY_VIEW_ID = "helpdesk_reply"  # callback_id of the Reply modal
REPLY_BLOCK_ID = "reply"
REPLY_INPUT_ID = "text"
ARTICLE_VIEW_ID = "helpdesk_article"  # callback_id of the article modal (``kb add`` / ``kb edit``)
# the article modal's fields (block_id = action_id) and their limits: Slack's plain-text
# input holds at most 3,000 characters; the title and questions get less, as articles do
ARTICLE_FIELDS = {"title": 150, "body": 3000, "questions": 2000}

SECTION_MAX_CHARS = 3000  # Slack's limit for a section's text
SECTIONS_PER_MESSAGE = 12  # 36,000 characters: under the 40,000 a message holds, and 50 blocks
FALLBACK_MAX_CHARS = 3900  # Slack truncates ``text`` past 4000 characters
BUTTONS_PER_BLOCK = 25  # Slack's limit for elements in an actions block
LABEL_MAX_CHARS = 75  # Slack's limit for a button's text


def render(outbound: Outbound) -> dict[str, Any]:
    """One message's ``text`` and ``blocks`` (``chat.update`` edits one message: a text past a
    message's room is cut, with a visible "…")."""
    return render_parts(outbound, max_parts=1)[0]


def render_parts(outbound: Outbound, *, max_parts: int | None = None) -> list[dict[str, Any]]:
    """The ``text`` and ``blocks`` of each message ``outbound`` needs, in order."""
    pieces = split_for_blocks(outbound.text or outbound.title, SECTION_MAX_CHARS)
    groups = [
        pieces[i : i + SECTIONS_PER_MESSAGE] for i in range(0, len(pieces), SECTIONS_PER_MESSAGE)
    ] or [[]]
    if max_parts is not None and len(groups) > max_parts:
        groups = groups[:max_parts]
        groups[-1][-1] = groups[-1][-1][:-1] + "…"  # one character out, one in
    parts = [_message([escape(p) for p in group]) for group in groups]
    for start in range(0, len(outbound.buttons), BUTTONS_PER_BLOCK):
        chunk_buttons = outbound.buttons[start : start + BUTTONS_PER_BLOCK]
        parts[-1]["blocks"].append(
            {"type": "actions", "elements": [_button(b) for b in chunk_buttons]}
        )
    return parts


def _message(sections: list[str]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in sections
    ]
    return {"text": "".join(sections)[:FALLBACK_MAX_CHARS] or " ", "blocks": blocks}


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


_KEEP_HINT = {"type": "plain_text", "text": "Leave blank to keep it."}


def article_modal(payload: str, channel: str, thread: str | None) -> dict[str, Any]:
    """The modal an article button opens: ``kb::add`` a new draft, ``kb::edit SLUG`` an edit
    (blank fields keep what the article says: the adapter cannot read the article to fill
    them in, and the edit's preview above the button shows it)."""
    _, _, arg = split_payload(payload)
    op, _, slug = arg.partition(" ")
    editing = op == "edit" and bool(slug)
    metadata = json.dumps({"channel": channel, "thread": thread, "slug": slug if editing else ""})
    labels = {
        "title": "Title",
        "body": "Answer (Markdown; '## Heading' starts a section)",
        "questions": "Questions it answers, one per line",
    }
    blocks = [
        {
            "type": "input",
            "block_id": name,
            "optional": editing or name == "questions",
            "label": {"type": "plain_text", "text": labels[name]},
            "element": {
                "type": "plain_text_input",
                "action_id": name,
                "multiline": name != "title",
                "max_length": limit,
            },
            **(
                {"hint": {"type": "plain_text", "text": "Leave blank to keep it."}}
                if editing
                else {}
            ),
        }
        for name, limit in ARTICLE_FIELDS.items()
    ]
    title = f"Edit {slug}" if editing else "New article"
    return {
        "type": "modal",
        "callback_id": ARTICLE_VIEW_ID,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": "Save draft"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
