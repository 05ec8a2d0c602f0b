"""The web chat's wire protocol: JSON frames between the widget and the web process (the same
frames over a WebSocket, or over Server-Sent Events + POST). ``docs/web-protocol.md`` describes
them for people; this module checks what arrives and shapes what goes out.

Browser → server: ``hello`` (token, identity, last seen ``seq``), ``message`` (an ``id`` chosen
by the browser, ``text``), ``action`` (an ``id``, a button's ``payload``).
Server → browser: ``welcome`` (session token), ``entry`` (one log entry: a message to or from
the visitor, or an edit of an earlier one, with its ``seq``), ``ack`` (a message is stored),
``typing`` (the desk is working on it), ``error`` (a ``code`` and a sentence; nothing is lost).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.messages import Button, LoggedMessage, Outbound, OutboundKind

MAX_FRAME_BYTES = 8 * 1024
MAX_TEXT_CHARS = 2000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class FrameError(ValueError):
    """A frame the server refuses; ``code`` tells the widget why (see the protocol doc)."""

    def __init__(self, code: str, message: str, client_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.client_id = client_id

    def as_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "error", "code": self.code, "message": str(self)}
        if self.client_id:
            frame["id"] = self.client_id
        return frame


@dataclass(frozen=True)
class Hello:
    token: str
    last_seq: int
    identity: dict[str, str]


@dataclass(frozen=True)
class VisitorMessage:
    client_id: str
    text: str


@dataclass(frozen=True)
class VisitorAction:
    client_id: str
    payload: str


ClientFrame = Hello | VisitorMessage | VisitorAction


def parse_frame(raw: str | bytes | None) -> ClientFrame:
    """One frame from the browser, or ``FrameError``."""
    if raw is None or isinstance(raw, bytes):
        raise FrameError("binary", "Send text frames of JSON, not binary data.")
    if len(raw.encode()) > MAX_FRAME_BYTES:
        raise FrameError("too_large", f"A frame may be at most {MAX_FRAME_BYTES} bytes.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError("malformed", "A frame must be a JSON object.") from None
    if not isinstance(data, dict):
        raise FrameError("malformed", "A frame must be a JSON object.")
    kind = data.get("type")
    if kind == "hello":
        return _hello(data)
    client_id = data.get("id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise FrameError("malformed", "A message needs an id of 1-40 letters, digits, - or _.")
    if kind == "message":
        return VisitorMessage(client_id, _text(data.get("text"), client_id))
    if kind == "action":
        payload = data.get("payload")
        if not isinstance(payload, str) or payload.count(":") < 2 or len(payload) > 64:
            raise FrameError("malformed", "An action needs a button payload.", client_id)
        return VisitorAction(client_id, payload)
    raise FrameError("malformed", f"Unknown frame type {str(kind)[:20]!r}.", client_id)


def _hello(data: dict[str, Any]) -> Hello:
    token = data.get("token") or ""
    last_seq = data.get("last_seq") or 0
    identity = data.get("identity") or {}
    if not isinstance(token, str) or not isinstance(last_seq, int) or last_seq < 0:
        raise FrameError("malformed", "hello needs a token (string) and last_seq (integer).")
    if not isinstance(identity, dict) or not all(isinstance(v, str) for v in identity.values()):
        raise FrameError("malformed", "hello's identity must map names to strings.")
    return Hello(token, last_seq, {str(k): str(v)[:320] for k, v in identity.items()})


def _text(value: object, client_id: str) -> str:
    if not isinstance(value, str):
        raise FrameError("malformed", "A message needs a text.", client_id)
    text = value.strip()
    if not text:
        raise FrameError("empty", "The message is empty.", client_id)
    if len(text) > MAX_TEXT_CHARS:
        raise FrameError(
            "too_large", f"A message may be at most {MAX_TEXT_CHARS} characters.", client_id
        )
    return text


def visitor_entry(message: VisitorMessage) -> dict[str, Any]:
    """What the log keeps of a visitor's message (shown again after a reload)."""
    return {"kind": "visitor", "id": message.client_id, "text": message.text}


def desk_entry(outbound: Outbound) -> dict[str, Any]:
    """What the log keeps of a message sent to the visitor. Text stays plain: the widget puts
    it in the page as text, never as markup."""
    body: dict[str, Any] = {
        "kind": "edit" if outbound.kind == OutboundKind.EDIT else "desk",
        "text": outbound.text,
        "buttons": [_button(b) for b in outbound.buttons if not b.opens_form],
    }
    if outbound.attribution:
        body["attribution"] = outbound.attribution
    if outbound.kind == OutboundKind.EDIT and outbound.edit_of is not None:
        body["of"] = int(outbound.edit_of.message_id)
    return body


def _button(button: Button) -> dict[str, str]:
    return {"label": button.label, "payload": button.payload, "style": button.style}


def entry_frame(entry: LoggedMessage) -> dict[str, Any]:
    return {"type": "entry", "seq": entry.seq, **entry.body}


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
