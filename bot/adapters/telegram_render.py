"""Rendering kernel ``Outbound``s for the Bot API, and classifying its errors.

Text is sent as plain text (no ``parse_mode``), so nothing a customer typed can become markup,
a link or a mention; link previews are off so a pasted URL shows no card. Buttons become an
inline keyboard whose ``callback_data`` is the button payload (≤ 64 bytes, checked by
``Button``). Telegram has no modals: buttons that would open a form (Reply) are left out — the
escalation post already tells agents to answer with ``/reply <text>`` in the case thread.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.adapters.text_chunks import split_text, utf16_length
from bot.errors import PermanentSendError, RetryableSendError, SendError
from bot.messages import Button

MAX_TEXT_CHARS = 4096  # sendMessage / editMessageText limit, in UTF-16 code units
BUTTONS_PER_ROW = 5
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def fit_text(text: str) -> str:
    """For a message that must stay one (it is edited later): within the limit, never empty.
    Such texts are short by design; anything else is sent whole with ``text_parts``."""
    text = text if text.strip() else "…"
    if utf16_length(text) <= MAX_TEXT_CHARS:
        return text
    return _shorten(text, MAX_TEXT_CHARS - 1) + "…"


def readable(text: str, text_format: str) -> str:
    """Telegram gets plain text (no parse_mode): markdown from another platform (an agent on
    Discord) is shown without its markers — ``**bold**`` as bold's words, ``[label](url)`` as
    ``label (url)`` — rather than as stray symbols."""
    if text_format != "markdown":
        return text
    text = _FENCE.sub(lambda m: m.group(1).strip("\n"), text)
    text = _LINK.sub(r"\1 (\2)", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text


_FENCE = re.compile(r"```(?:[a-zA-Z0-9_+-]*\n)?(.*?)```", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_EMPHASIS = [
    re.compile(r"\*\*(.+?)\*\*"),
    re.compile(r"__(.+?)__"),
    re.compile(r"~~(.+?)~~"),
    re.compile(r"\|\|(.+?)\|\|"),
    re.compile(r"`([^`\n]+)`"),
    re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"),
]


def text_parts(text: str) -> list[str]:
    """Telegram refuses empty texts and texts over 4,096 UTF-16 units ("message is too long"):
    a long text goes out as several messages, cut at paragraph, line or word breaks."""
    return split_text(text if text.strip() else "…", MAX_TEXT_CHARS, utf16_length)


def _shorten(text: str, limit: int) -> str:
    while utf16_length(text) > limit:
        text = text[: len(text) - max(1, (utf16_length(text) - limit) // 2)]
    return text


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    shown = [b for b in buttons if not b.opens_form]
    if not shown:
        return None
    per_row = len(shown) if len(shown) <= BUTTONS_PER_ROW else 3
    rows = [
        [InlineKeyboardButton(b.label, callback_data=b.payload) for b in shown[i : i + per_row]]
        for i in range(0, len(shown), per_row)
    ]
    return InlineKeyboardMarkup(rows)


def send_error(exc: TelegramError) -> SendError:
    """Classify a Bot API failure for the outbox: retry later, or park for good."""
    if isinstance(exc, RetryAfter):
        return RetryableSendError(f"telegram rate limit: {exc.message}", retry_after=_seconds(exc))
    if isinstance(exc, Forbidden):  # "bot was blocked by the user", kicked from the group…
        gone = "blocked by the user" in exc.message or "user is deactivated" in exc.message
        return PermanentSendError(f"telegram refused: {exc.message}", recipient_gone=gone)
    if isinstance(exc, ChatMigrated):
        return PermanentSendError(
            f"telegram: the group became a supergroup; use chat id {exc.new_chat_id} "
            "in helpdesk.yml"
        )
    if isinstance(exc, BadRequest | InvalidToken):  # BadRequest is a NetworkError subclass
        return PermanentSendError(f"telegram refused: {exc.message}")
    if isinstance(exc, NetworkError):  # includes TimedOut
        return RetryableSendError(f"telegram unreachable: {exc.message}")
    return PermanentSendError(f"telegram error: {exc.message}")


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form becomes a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
