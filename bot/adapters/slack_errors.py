"""Classifying Slack Web API failures at the edge: retry later, or never."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.errors import PermanentSendError, RetryableSendError, SendError

# Web API errors that say "not now" rather than "never"
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    value = _header(headers, "Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(exc: SlackApiError, method: str) -> SendError:
    """429 and server trouble → ``RetryableSendError`` (with Slack's ``Retry-After``);
    everything else (``channel_not_found``, ``not_in_channel``, ``invalid_blocks`` …) →
    ``PermanentSendError``."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or f"HTTP {status}")
    if status == 429 or error == "ratelimited":
        return RetryableSendError(
            f"slack {method}: rate limited", retry_after=_retry_after(response.headers)
        )
    if status >= 500 or error in RETRYABLE_ERRORS:
        return RetryableSendError(f"slack {method}: {error}")
    return PermanentSendError(f"slack {method}: {error}")
