"""Slack's message format, both ways: decoded into plain text on the way in, encoded once on the
way out.

Slack delivers message text already escaped (``&amp;``, ``&lt;``, ``&gt;``) with its own
markup in angle brackets: links ``<https://x|label>`` / ``<https://x>``, users ``<@U…>``,
channels ``<#C…|name>``, user groups ``<!subteam^S…|@team>``, specials ``<!here>``,
``<!channel>``, ``<!everyone>`` and dates ``<!date^…|fallback>``. The kernel stores plain
text — what the person saw when they wrote — so the dialog, search and other platforms never
see Slack's wire form, and ``escape`` runs exactly once when the text goes back to Slack.

A decoded ``<!channel>`` becomes the words ``@channel``: text sent back with ``chat.postMessage``
is escaped, so it can never form a ping again (and relayed text is made mention-proof in the
core besides).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ANGLE = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# at most this many mentioned people are looked up per message (names come from a cache)
MENTIONS_LOOKED_UP = 5


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters. Everything
    else — an agent's ``*bold*``, ``_italics_``, `` `code` ``, bullets — stays as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(text: str) -> list[str]:
    """The user ids mentioned in wire-form text, first ones first, without repeats."""
    return list(dict.fromkeys(_USER.findall(text)))[:MENTIONS_LOOKED_UP]


def to_plain(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack wire text → plain text: ``<@U1>`` → ``@Dana`` (from ``names``, else the label or
    the id), ``<https://x|docs>`` → ``docs (https://x)``, ``&amp;`` → ``&``."""
    names = names or {}

    def _token(match: re.Match[str]) -> str:
        return _decode_token(match.group(1), names)

    return unescape(_ANGLE.sub(_token, text))


def _decode_token(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user = target[1:]
        return "@" + (names.get(user) or label or user)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return _special(target[1:], label)
    if not target:
        return f"<{inner}>"  # not Slack markup: keep what was there
    return _link(target, label)


def _special(command: str, label: str) -> str:
    name, _, _ = command.partition("^")
    if name == "subteam":
        return label if label.startswith("@") else "@" + (label or command.partition("^")[2])
    if name in ("here", "channel", "everyone"):
        return "@" + name
    return label or "@" + name  # <!date^…|fallback> and future specials show their fallback


def _link(url: str, label: str) -> str:
    if url.startswith("mailto:"):
        address = url.removeprefix("mailto:")
        return label if label in ("", address) else f"{label} ({address})"
    if not label or label == url or label == url.split("://", 1)[-1]:
        return url
    return f"{label} ({url})"


def split_for_blocks(text: str, limit: int) -> list[str]:
    """Plain ``text`` in pieces whose *escaped* form fits ``limit`` characters, cut at a line
    break or a space where there is one (never inside an ``&amp;``: pieces are escaped after
    the cut)."""
    pieces: list[str] = []
    rest = text
    while rest:
        cut = _fitting_prefix(rest, limit)
        if cut < len(rest):
            boundary = max(rest.rfind("\n", 0, cut), rest.rfind(" ", 0, cut))
            if boundary > cut // 2:
                cut = boundary + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return pieces


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit ``limit`` once escaped."""
    size = 0
    for index, char in enumerate(text):
        size += 5 if char == "&" else 4 if char in "<>" else 1
        if size > limit:
            return index
    return len(text)
