"""Log lines that say which case, conversation and platform they are about.

Where an inbound or an outbox conversation is handled, ``about(...)`` sets context variables
for the duration; a case number learnt on the way (a case event) is added with ``about_case``.
``ContextFilter`` copies them onto every record, so a line logged anywhere below — a service, a
driver warning — carries them without being told. ``HELPDESK_LOG_FORMAT=json`` writes one JSON
object per line (``JsonFormatter``); the text format appends the same fields in brackets.

Tokens never reach a line: the formatters replace every configured secret's value (an SDK that
logs a request URL with a token in it included). Standard library and the kernel only.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from bot.events import Event

FIELDS = ("case", "conversation", "platform")
_CASE: contextvars.ContextVar[int | None] = contextvars.ContextVar("log_case", default=None)
_CONVERSATION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "log_conversation", default=None
)
_PLATFORM: contextvars.ContextVar[str | None] = contextvars.ContextVar("log_platform", default=None)
REDACTED = "<redacted>"
_events_logger = logging.getLogger("bot.cases.events")


@contextlib.contextmanager
def about(
    *, conversation: str | None = None, platform: str | None = None, case: int | None = None
) -> Iterator[None]:
    """Log lines inside are about this conversation, platform and case (a field not given
    keeps its current value); all three are restored after, including a case number learnt
    inside (``about_case``)."""
    tokens = (
        _CONVERSATION.set(conversation or _CONVERSATION.get()),
        _PLATFORM.set(platform or _PLATFORM.get()),
        _CASE.set(case if case is not None else _CASE.get()),
    )
    try:
        yield
    finally:
        _CASE.reset(tokens[2])
        _PLATFORM.reset(tokens[1])
        _CONVERSATION.reset(tokens[0])


def about_case(case: int | None) -> None:
    """The lines from here to the end of the enclosing ``about`` are about case ``case``."""
    if case is not None:
        _CASE.set(case)


def log_case_events(events: Iterable[Event]) -> None:
    """One line per case event of a transaction that has just committed ("case #12:
    case_claimed"); what was said stays out of the logs."""
    for event in events:
        with about(case=event.case_number):
            _events_logger.info("case #%s: %s", event.case_number, _snake(type(event).__name__))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def current() -> dict[str, Any]:
    """The context fields that are set, for a log record."""
    values = {"case": _CASE.get(), "conversation": _CONVERSATION.get(), "platform": _PLATFORM.get()}
    return {name: value for name, value in values.items() if value is not None}


class ContextFilter(logging.Filter):
    """Puts ``case``, ``conversation`` and ``platform`` on every record (None when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, fields.get(name))
        return True


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = (), fmt: str | None = None) -> None:
        super().__init__(fmt)
        # longest first, so a secret containing another is replaced whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class TextFormatter(_Redacting):
    """``time LEVEL logger: message [case=12 conversation=slack:C1 platform=slack]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{n}={getattr(record, n)}" for n in FIELDS if getattr(record, n, None)]
        if fields:
            first, newline, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{first} [{' '.join(fields)}]{newline}{rest}"
        return self.redact(line)


class JsonFormatter(_Redacting):
    """One JSON object per line: time, level, logger, message, the context fields that are
    set, and the traceback (``exception``) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    """Send the root logger's lines to stderr in ``fmt`` (``text`` or ``json``), with the
    context fields and every value of ``secrets`` replaced."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
