"""Making untrusted text safe to show: no pings smuggled through, no control characters."""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH_SPACE = "\u200b"

# @channel / @everyone / @here, Slack's <!channel> / <!subteam^…> / <@U…>, Discord's <@123>,
# <@&role> and <#channel>, Telegram's @username.
_MENTIONS = re.compile(
    r"(<[!@#][^>]*>)|(@)(?=(channel|everyone|here|all|[A-Za-z0-9_]{3,}))", re.IGNORECASE
)


def neutralize_mentions(text: str) -> str:
    """Break every mention so no platform turns it into a ping, keeping it readable."""

    def _break(match: re.Match[str]) -> str:
        if match.group(1):
            inner = match.group(1)
            return inner[0] + ZERO_WIDTH_SPACE + inner[1:]
        return "@" + ZERO_WIDTH_SPACE

    return _MENTIONS.sub(_break, text)


def clean_text(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and normalise Unicode."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


# Names are stored in String(200) columns and shown in one line of every message about the
# person; 80 characters is any real name, with room to spare.
NAME_LIMIT = 80


def clean_name(name: str) -> str:
    """A platform display name as it may be stored and shown: no control characters, NULs or
    lone surrogates (which PostgreSQL and every platform refuse), one line, at most
    ``NAME_LIMIT`` characters."""
    words = " ".join(clean_text(name).split())
    return words if len(words) <= NAME_LIMIT else words[: NAME_LIMIT - 1].rstrip() + "…"


def looks_binary(text: str) -> bool:
    """True for payloads that are not human text (NULs, mostly control or replacement chars)."""
    if "\x00" in text:
        return True
    if not text:
        return False
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\n\t\r")
    )
    return bad / len(text) > 0.1
