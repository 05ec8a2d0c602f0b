"""Counting reconnects of Telegram long polling.

PTB's Updater calls ``getUpdates`` in a loop and, after a failure, simply tries again; it has
no hook for "answered again". Its ``getUpdates`` calls go through a request object of their
own (``ApplicationBuilder.get_updates_request``), so that object is where a lost and a
regained connection are both seen: a call that could not reach Telegram (a network error, a
timeout, or a 5xx from Telegram's front end) marks polling as lost; the next call Telegram
answers counts one reconnect, however many attempts failed in between.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from telegram.request import HTTPXRequest

from bot.adapters.telegram_inbound import PLATFORM
from bot.metrics import ADAPTER_RECONNECTS


class PollingRequest(HTTPXRequest):
    """The ``getUpdates`` request of the Updater (one connection, as PTB builds it by default)."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)
        self._lost = False

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except Exception:  # PTB turns it into NetworkError / TimedOut and polls again
            self._lost = True
            raise
        if code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self._lost = True  # Telegram's front end answered, its Bot API did not
        elif self._lost:
            self._lost = False
            ADAPTER_RECONNECTS.labels(platform=PLATFORM).inc()
        return code, payload
