"""A stand-in of the Rasa server's side of the custom-action protocol, for action server tests.

It builds action calls the way Rasa 3.6 does (``RemoteAction._action_call_format``: the tracker
in ``EventVerbosity.ALL`` form, the domain, the version) from the sample project's domain, and
answers ``POST /conversations/{id}/trigger_intent`` as Rasa does: the external intent must be in
the domain (else 400, as Rasa answers), its entities land in the tracker's latest message, the
rule's action (``action_helpdesk_relay``) is called on the action server's ``/webhook`` and the
bot messages it returns come back in the response's ``messages``.

What it cannot prove: Rasa's NLU and policies (a real Rasa run does: ``scripts/rasa_check.py``),
and that a channel which can push shows the message to the person.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rasa"
RASA_VERSION = "3.6.21"


def sample_domain() -> dict[str, Any]:
    """The sample project's domain as Rasa sends it (``Domain.as_dict``)."""
    domain = yaml.safe_load((SAMPLE / "domain.yml").read_text())
    return {
        "version": "3.1",
        "intents": [*domain["intents"], "nlu_fallback"],
        "entities": domain["entities"],
        "slots": domain["slots"],
        "responses": domain["responses"],
        "actions": domain["actions"],
        "forms": {},
        "e2e_actions": [],
        "session_config": domain["session_config"],
    }


@dataclass
class RasaConversation:
    """One sender's tracker: events in Rasa's wire form, and the slots set so far."""

    sender_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    latest: dict[str, Any] = field(default_factory=dict)
    said: list[dict[str, Any]] = field(default_factory=list)  # the bot's messages, in order

    def user(
        self, text: str, intent: str, entities: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        parse = {
            "intent": {"name": intent, "confidence": 1.0 if text.startswith("/") else 0.93},
            "entities": entities or [],
            "text": text,
            "message_id": uuid.uuid4().hex,
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": 0.93}],
        }
        self.latest = parse
        self.events.append(
            {
                "event": "user",
                "timestamp": time.time(),
                "metadata": {},
                "text": text,
                "parse_data": parse,
                "input_channel": "rest",
                "message_id": parse["message_id"],
            }
        )
        return parse

    def tracker(self) -> dict[str, Any]:
        return {
            "sender_id": self.sender_id,
            "slots": dict(self.slots),
            "latest_message": self.latest,
            "latest_event_time": time.time(),
            "followup_action": None,
            "paused": False,
            "events": list(self.events),
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        }

    def apply(self, result: dict[str, Any]) -> None:
        """What Rasa does with an action's answer: slots set, bot messages recorded."""
        for event in result.get("events", []):
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            self.events.append(event)
        for response in result.get("responses", []):
            self.said.append(response)
            self.events.append({"event": "bot", "timestamp": time.time(), "text": response["text"]})


@dataclass
class RasaStandIn:
    """Calls actions on ``actions`` (the action server, an ASGI app) as Rasa would."""

    actions: httpx.AsyncClient
    domain: dict[str, Any] = field(default_factory=sample_domain)
    conversations: dict[str, RasaConversation] = field(default_factory=dict)
    triggered: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def conversation(self, sender_id: str) -> RasaConversation:
        return self.conversations.setdefault(sender_id, RasaConversation(sender_id))

    def action_call(self, sender_id: str, action: str) -> dict[str, Any]:
        return {
            "next_action": action,
            "sender_id": sender_id,
            "tracker": self.conversation(sender_id).tracker(),
            "domain": self.domain,
            "version": RASA_VERSION,
        }

    async def run_action(self, sender_id: str, action: str) -> dict[str, Any]:
        response = await self.actions.post("/webhook", json=self.action_call(sender_id, action))
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        self.conversation(sender_id).apply(result)
        return result

    async def say(
        self,
        sender_id: str,
        text: str,
        intent: str,
        action: str,
        entities: list[dict[str, Any]] | None = None,
    ) -> list[str]:
        """A person writes; the rule's action runs; the texts the bot answered."""
        self.conversation(sender_id).user(text, intent, entities)
        result = await self.run_action(sender_id, action)
        return [r["text"] for r in result["responses"]]

    async def click(self, sender_id: str, payload: str) -> list[str]:
        """A button's payload sent as the person's message, parsed as Rasa parses ``/intent{…}``."""
        assert payload.startswith("/")
        name, _, raw = payload[1:].partition("{")
        entities = [{"entity": k, "value": v} for k, v in json.loads("{" + raw).items()]
        return await self.say(sender_id, payload, name, "action_helpdesk_button", entities)

    def app(self) -> Starlette:
        async def trigger_intent(request: Request) -> JSONResponse:
            sender_id = request.path_params["sender_id"]
            body = await request.json()
            name = body.get("name")
            if name not in self.domain["intents"]:
                return JSONResponse(
                    {
                        "version": RASA_VERSION,
                        "status": "failure",
                        "message": f"The intent '{name}' does not exist in the domain.",
                        "reason": "BadRequest",
                        "code": 400,
                    },
                    status_code=400,
                )
            self.triggered.append(
                {"sender_id": sender_id, **body, "query": dict(request.query_params)}
            )
            entities = [{"entity": k, "value": v} for k, v in (body.get("entities") or {}).items()]
            conversation = self.conversation(sender_id)
            conversation.user(f"EXTERNAL: {name}", name, entities)
            result = await self.run_action(sender_id, "action_helpdesk_relay")
            return JSONResponse(
                {"tracker": conversation.tracker(), "messages": result["responses"]}
            )

        return Starlette(
            routes=[
                Route("/conversations/{sender_id}/trigger_intent", trigger_intent, methods=["POST"])
            ]
        )
