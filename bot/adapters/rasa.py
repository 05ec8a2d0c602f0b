"""The Rasa adapter: conversations that a Rasa assistant hands to the help desk.

A Rasa assistant calls the help desk's custom actions (``helpdesk actions``, ``bot.actions``);
each call becomes an ``Inbound`` of platform ``rasa`` in the conversation ``rasa:<sender id>``
and goes through the same intake, dialog engine, cases and outbox as every other platform.

What the help desk says reaches the person one of two ways, both through the outbox:

- **during an action call** (the answer to what the person just said): the rows are handed to
  the call that is waiting for them (``answering``) and go back to Rasa in the action's
  response, as ``CollectingDispatcher`` messages;
- **later** (an agent's reply, a case resolved): pushed through the Rasa server's own API,
  ``POST /conversations/{id}/trigger_intent`` with the external intent
  ``EXTERNAL_helpdesk_message``; the assistant's rule runs ``action_helpdesk_relay``, which
  speaks it on the conversation's latest output channel. Rasa's ``rest`` channel cannot push:
  there the message lands in the conversation's tracker (and the API's response), where a
  client polling the tracker finds it; channels that can push (``callback``, ``socketio``,
  Slack, Telegram …) deliver it at once.

A button's payload goes to Rasa as ``/helpdesk_button{"helpdesk_payload": "verb:case:arg"}``:
Rasa reads the intent and entity straight from it (no NLU), and its rule runs
``action_helpdesk_button``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx

from bot.config import Settings
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import (
    Capabilities,
    ChannelRef,
    InboundHandler,
    Outbound,
    OutboundKind,
    SentRef,
)

PLATFORM = "rasa"
RELAY_INTENT = "EXTERNAL_helpdesk_message"
MESSAGE_ENTITY = "helpdesk_message"
BUTTON_INTENT = "helpdesk_button"
PAYLOAD_ENTITY = "helpdesk_payload"
PUSH_TIMEOUT = 10.0  # seconds: Rasa runs the relay action before it answers

RasaMessage = dict[str, Any]


def conversation_of(sender_id: str) -> ChannelRef:
    """The help desk's conversation for a Rasa sender id ("/" would read as a thread)."""
    return ChannelRef(PLATFORM, quote(sender_id, safe=""))


def sender_of(channel: ChannelRef) -> str:
    return unquote(channel.channel)


def button_payload(payload: str) -> str:
    """What a button sends back to Rasa: an intent with the help desk's payload as entity."""
    return "/" + BUTTON_INTENT + json.dumps({PAYLOAD_ENTITY: payload})


def rasa_message(outbound: Outbound) -> RasaMessage:
    """One outbound as a Rasa bot message (``utter_message`` keywords)."""
    message: RasaMessage = {"text": outbound.text}  # an agent's reply already names the agent
    if outbound.buttons:
        message["buttons"] = [
            {"title": b.label, "payload": button_payload(b.payload)} for b in outbound.buttons
        ]
    return message


@dataclass
class Answer:
    """What the help desk said into a conversation while an action call waited for it."""

    messages: list[RasaMessage] = field(default_factory=list)
    # set on every delivery to the conversation (messages, and edits that add none)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class RasaChannel:
    """Delivers to Rasa conversations: into a waiting action call, else through Rasa's API."""

    platform = PLATFORM
    capabilities = Capabilities(threads=False, edits=False, buttons=True, forms=False, files=False)

    def __init__(
        self,
        *,
        rasa_url: str,
        token: str = "",
        client: httpx.AsyncClient | None = None,
        timeout: float = PUSH_TIMEOUT,
    ) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._params = {"output_channel": "latest"} | ({"token": token} if token else {})
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._answering: dict[str, Answer] = {}

    async def start(self, on_inbound: InboundHandler) -> None:
        """Nothing to connect: inbounds arrive as action calls (``bot.actions``)."""

    async def stop(self) -> None:
        await self._client.aclose()

    @contextlib.asynccontextmanager
    async def answering(self, channel: ChannelRef) -> AsyncIterator[Answer]:
        """While open, messages for ``channel`` are collected here for the action's response
        instead of being pushed through Rasa's API."""
        answer = Answer()
        key = str(channel.without_thread)
        self._answering[key] = answer
        try:
            yield answer
        finally:
            if self._answering.get(key) is answer:
                del self._answering[key]

    async def send(self, outbound: Outbound) -> SentRef:
        channel = outbound.channel
        ref = SentRef(PLATFORM, channel.channel, uuid.uuid4().hex, channel.thread)
        waiting = self._answering.get(str(channel.without_thread))
        if outbound.kind == OutboundKind.EDIT or not outbound.text:
            # Rasa keeps no handle on a sent message: an edit (buttons retired) changes nothing;
            # an outdated button's click is ignored by the dialog
            pass
        elif waiting is not None:
            waiting.messages.append(rasa_message(outbound))
        else:
            await self._push(sender_of(channel), rasa_message(outbound))
        if waiting is not None:
            waiting.arrived.set()
        return ref

    async def _push(self, sender: str, message: RasaMessage) -> None:
        if not self._rasa_url:
            raise PermanentSendError("RASA_URL is not set: cannot reach the Rasa conversation")
        url = f"{self._rasa_url}/conversations/{quote(sender, safe='')}/trigger_intent"
        body = {"name": RELAY_INTENT, "entities": {MESSAGE_ENTITY: json.dumps(message)}}
        try:
            response = await self._client.post(url, json=body, params=self._params)
        except httpx.HTTPError as exc:  # Rasa down or restarting: the outbox tries again
            raise RetryableSendError(f"Rasa unreachable: {type(exc).__name__}: {exc}") from exc
        status, detail = response.status_code, response.text[:200]
        if status == 429 or status >= 500:
            raise RetryableSendError(f"Rasa answered {status}: {detail}")
        if status >= 400:
            raise PermanentSendError(f"Rasa refused ({status}): {detail}")


def build(settings: Settings, listen: bool) -> RasaChannel | None:
    """The adapter, or None when ``RASA_URL`` is not set. Any process with it delivers what
    the help desk says later into Rasa conversations (agents' replies)."""
    if not settings.rasa_url:
        return None
    return build_always(settings)


def build_always(settings: Settings) -> RasaChannel:
    """The adapter ``helpdesk actions`` serves even without ``RASA_URL``: it answers action
    calls; only pushing later messages needs the URL."""
    return RasaChannel(rasa_url=settings.rasa_url, token=settings.rasa_token)
