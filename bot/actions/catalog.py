"""The help desk's custom actions for a Rasa assistant (rasa-sdk ``Action`` classes).

- ``action_helpdesk_search``: the help desk's dialog for the last message — an answer from the
  knowledge base with its buttons and "Did this help?", or wherever the conversation is (while a
  case is open, the message goes to the case);
- ``action_helpdesk_open_case``: opens a case with Rasa's transcript and slots; its number comes
  back in the ``helpdesk_case`` slot;
- ``action_helpdesk_handoff``: the same, and ``helpdesk_handoff`` is set — the assistant's rules
  then send messages to the help desk, and agents' replies come back through the relay;
- ``action_helpdesk_case_status``: the status of the person's cases;
- ``action_helpdesk_button``: a click on one of the help desk's buttons;
- ``action_helpdesk_relay``: speaks what the help desk pushed later (an agent's reply, a case
  resolved).

Every call is an inbound of platform ``rasa`` through the one intake (``turns``), so cases, agents,
SLAs and digests treat these conversations like any other platform's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from bot.actions import transcript
from bot.actions.turns import RasaTurns
from bot.adapters.rasa import conversation_of
from bot.messages import Inbound, InboundKind, split_payload

CASE_SLOT = "helpdesk_case"
HANDOFF_SLOT = "helpdesk_handoff"

Events = list[dict[str, Any]]


class HelpdeskAction(Action):
    """An inbound built from the tracker, handled by the help desk; its replies uttered."""

    action_name: ClassVar[str]

    def __init__(self, turns: RasaTurns) -> None:
        self._turns = turns

    def name(self) -> str:
        return self.action_name

    def inbound(self, tracker: Tracker) -> Inbound:
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        for message in await self._turns.take(self.inbound(tracker)):
            dispatcher.utter_message(**message)
        return await self.slots(tracker)

    async def slots(self, tracker: Tracker) -> Events:
        """The conversation's open case, as the ``helpdesk_case`` slot (None: none open)."""
        case = await self._turns.case_of(str(conversation_of(tracker.sender_id)))
        return [SlotSet(CASE_SLOT, str(case) if case else None)]

    def _from(self, tracker: Tracker, kind: InboundKind, **values: Any) -> Inbound:
        return Inbound(
            kind=kind,
            event_id=transcript.event_id(tracker, self.action_name),
            channel=conversation_of(tracker.sender_id),
            user_id=tracker.sender_id,
            user_name=transcript.person_name(tracker),
            raw={"sender_id": tracker.sender_id, "latest_message": tracker.latest_message},
            **values,
        )


class ActionHelpdeskSearch(HelpdeskAction):
    action_name = "action_helpdesk_search"

    def inbound(self, tracker: Tracker) -> Inbound:
        return self._from(tracker, InboundKind.MESSAGE, text=transcript.latest_text(tracker))


class ActionHelpdeskOpenCase(HelpdeskAction):
    action_name = "action_helpdesk_open_case"

    def inbound(self, tracker: Tracker) -> Inbound:
        return self._from(
            tracker, InboundKind.COMMAND, text="human", context=transcript.case_context(tracker)
        )


class ActionHelpdeskHandoff(ActionHelpdeskOpenCase):
    action_name = "action_helpdesk_handoff"

    async def slots(self, tracker: Tracker) -> Events:
        events = await super().slots(tracker)
        return [*events, SlotSet(HANDOFF_SLOT, events[0]["value"] is not None)]


class ActionHelpdeskCaseStatus(HelpdeskAction):
    action_name = "action_helpdesk_case_status"

    def inbound(self, tracker: Tracker) -> Inbound:
        return self._from(tracker, InboundKind.COMMAND, text="status")


class ActionHelpdeskButton(HelpdeskAction):
    action_name = "action_helpdesk_button"

    def inbound(self, tracker: Tracker) -> Inbound:
        payload = transcript.clicked_payload(tracker) or ""
        verb, case, arg = split_payload(payload)
        return self._from(tracker, InboundKind.ACTION, action=verb, value=f"{case}:{arg}")


class ActionHelpdeskRelay(Action):
    """Speaks a message the help desk pushed (``EXTERNAL_helpdesk_message``); nothing else."""

    def __init__(self, turns: RasaTurns) -> None:
        self._turns = turns

    def name(self) -> str:
        return "action_helpdesk_relay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        message = transcript.relayed_message(tracker)
        if message is not None:
            dispatcher.utter_message(**message)
        case = await self._turns.case_of(str(conversation_of(tracker.sender_id)))
        return [
            SlotSet(CASE_SLOT, str(case) if case else None),
            SlotSet(HANDOFF_SLOT, case is not None and bool(tracker.get_slot(HANDOFF_SLOT))),
        ]


ACTIONS: tuple[type[HelpdeskAction] | type[ActionHelpdeskRelay], ...] = (
    ActionHelpdeskSearch,
    ActionHelpdeskOpenCase,
    ActionHelpdeskHandoff,
    ActionHelpdeskCaseStatus,
    ActionHelpdeskButton,
    ActionHelpdeskRelay,
)


def action_executor(turns: RasaTurns) -> ActionExecutor:
    """rasa-sdk's executor with every help desk action registered."""
    executor = ActionExecutor()
    for action in ACTIONS:
        executor.register_action(action(turns))
    return executor
