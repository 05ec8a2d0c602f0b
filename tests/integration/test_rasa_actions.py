"""The help desk as a Rasa action server: rasa-sdk's executor behind ``POST /webhook``, driven
with action calls in Rasa 3.6's wire format (a recorded-shape fixture and the stand-in in
``tests/support/rasa_server.py``, which also plays Rasa's ``trigger_intent`` for agents'
replies). The help desk side is real: intake, dialog engine, cases, outbox, SQLite and
PostgreSQL; the understander is the keyword one of the transcript tests.

What these cannot prove — Rasa's own NLU, rules and REST channel — the opt-in
``scripts/rasa_check.py`` checks against a real Rasa 3.6 server (docs/rasa.md).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.catalog import ActionHelpdeskOpenCase, action_executor
from bot.actions.server import action_server_app
from bot.actions.turns import RasaTurns
from bot.adapters.fake import FakeChannel
from bot.adapters.rasa import RasaChannel, conversation_of
from bot.bootstrap import build_helpdesk
from bot.clock import Clock
from bot.config import Settings
from bot.dialogs import replies
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import Outbound
from bot.storage.models import Case
from tests.support.desk import KeywordUnderstander, Transcript, test_desk
from tests.support.rasa_server import RasaStandIn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rasa"
SENDER = "web-7f3e"


class RasaWorld:
    def __init__(self, transcript: Transcript, rasa: RasaStandIn, actions: httpx.AsyncClient):
        self.transcript = transcript
        self.rasa = rasa
        self.actions = actions

    @property
    def helpdesk(self) -> Any:
        return self.transcript.helpdesk

    async def case(self, number: int) -> Case:
        async with self.helpdesk.sessions() as session:
            case = await session.get(Case, number)
        assert case is not None
        return case


@pytest.fixture
async def world(database_url: str, clock: Clock, tmp_path: Path) -> AsyncIterator[RasaWorld]:
    settings = Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path)
    fake = FakeChannel(platform="fake")
    rasa_api = httpx.AsyncClient(base_url="http://rasa.test")
    channel = RasaChannel(rasa_url="http://rasa.test", client=rasa_api)
    helpdesk = await build_helpdesk(
        settings,
        channels={"fake": fake, "rasa": channel},
        understander=KeywordUnderstander(),
        clock=clock,
        desk=test_desk(),
    )
    app = action_server_app(action_executor(RasaTurns(helpdesk=helpdesk, channel=channel)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://actions.test"
    ) as actions:
        rasa = RasaStandIn(actions=actions)
        rasa_api._transport = httpx.ASGITransport(app=rasa.app())
        try:
            yield RasaWorld(Transcript(helpdesk=helpdesk, channels={"fake": fake}), rasa, actions)
        finally:
            await channel.stop()
            await helpdesk.close()


async def test_a_recorded_action_call_gets_the_knowledge_answer_with_its_buttons(
    world: RasaWorld,
) -> None:
    call = json.loads((FIXTURES / "action_call_search.json").read_text())
    response = await world.actions.post("/webhook", json=call)
    assert response.status_code == 200
    body = response.json()
    [answer] = body["responses"]
    assert answer["text"].startswith("Reset your password")
    assert answer["text"].endswith("Did this help?")
    titles = [b["title"] for b in answer["buttons"]]
    assert titles == ["That helped", "Talk to a person", "Show the whole article"]
    # Rasa parses "/intent{json}" itself: the click comes back as intent + entity, no NLU
    assert answer["buttons"][0]["payload"] == (
        '/helpdesk_button{"helpdesk_payload": "helped::reset-your-password"}'
    )
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "helpdesk_case", "value": None}
    ]


async def test_that_helped_comes_back_as_a_click(world: RasaWorld) -> None:
    rasa = world.rasa
    await rasa.say(SENDER, "how do I reset my password?", "ask_question", "action_helpdesk_search")
    payload = rasa.conversation(SENDER).said[-1]["buttons"][0]["payload"]
    assert await rasa.click(SENDER, payload) == [replies.GLAD_IT_HELPED]


async def test_a_case_carries_rasa_transcript_and_slots_and_its_number_comes_back(
    world: RasaWorld,
) -> None:
    rasa = world.rasa
    conversation = rasa.conversation(SENDER)
    conversation.user("hello", "greet")
    conversation.said.append({"text": "Hi! Ask me anything"})
    conversation.slots["product"] = "hub"
    said = await rasa.say(
        SENDER, "my hub drops off the wi-fi every night", "open_case", "action_helpdesk_open_case"
    )
    assert said == [replies.case_opened(1)]
    assert conversation.slots["helpdesk_case"] == "1"
    case = await world.case(1)
    assert case.origin_platform == "rasa"
    assert case.conversation == str(conversation_of(SENDER))
    assert case.subject == "my hub drops off the wi-fi every night"
    assert "Details the assistant collected: product: hub" in case.description
    assert "hello" in case.description
    await world.helpdesk.sender.drain()
    [post] = world.transcript.agents_saw()
    assert "my hub drops off the wi-fi every night" in post


async def test_handoff_relays_the_agents_reply_back_through_rasa(world: RasaWorld) -> None:
    rasa, t = world.rasa, world.transcript
    await rasa.say(SENDER, "the app crashes on start", "ask_question", "action_helpdesk_search")
    said = await rasa.say(SENDER, "a person, please", "human_handoff", "action_helpdesk_handoff")
    assert said == [replies.case_opened(1)]
    assert rasa.conversation(SENDER).slots["helpdesk_handoff"] is True
    await t.helpdesk.sender.drain()
    await t.agent("claim 1")
    await t.agent("reply 1 Could you reinstall the app and try again?")
    relayed = rasa.conversation(SENDER).said[-1]["text"]
    assert relayed == replies.agent_says("Dana", "Could you reinstall the app and try again?")
    [pushed] = [p for p in rasa.triggered if "reinstall" in p["entities"]["helpdesk_message"]]
    assert pushed["name"] == "EXTERNAL_helpdesk_message"
    assert pushed["query"]["output_channel"] == "latest"
    # the person writes again: it goes to the agent's case, not to a new search
    said = await rasa.say(SENDER, "done, still crashing", "ask_question", "action_helpdesk_search")
    await t.helpdesk.sender.drain()
    assert any("done, still crashing" in line for line in t.agents_saw())
    assert rasa.conversation(SENDER).slots["helpdesk_handoff"] is True


async def test_case_status_answers_from_the_case(world: RasaWorld) -> None:
    rasa = world.rasa
    await rasa.say(SENDER, "my bulb blinks red", "open_case", "action_helpdesk_open_case")
    said = await rasa.say(SENDER, "any news?", "case_status", "action_helpdesk_case_status")
    assert len(said) == 1 and "#1" in said[0]
    assert rasa.conversation(SENDER).slots["helpdesk_case"] == "1"


async def test_case_status_without_a_case_says_so(world: RasaWorld) -> None:
    said = await world.rasa.say(SENDER, "status?", "case_status", "action_helpdesk_case_status")
    assert said == [replies.NO_CASES]


async def test_a_sender_id_with_a_slash_stays_one_conversation(world: RasaWorld) -> None:
    sender = "widget/7f3e:42"
    await world.rasa.say(sender, "my hub is offline", "open_case", "action_helpdesk_open_case")
    case = await world.case(1)
    assert case.conversation == "rasa:widget%2F7f3e%3A42"


async def test_the_action_server_answers_like_rasa_sdk_on_bad_calls(world: RasaWorld) -> None:
    actions = world.actions
    call = world.rasa.action_call(SENDER, "action_does_not_exist")
    unknown = await actions.post("/webhook", json=call)
    assert unknown.status_code == 404
    assert unknown.json()["action_name"] == "action_does_not_exist"
    no_domain = {k: v for k, v in world.rasa.action_call(SENDER, "action_helpdesk_search").items()}
    no_domain.pop("domain")
    assert (await actions.post("/webhook", json=no_domain)).status_code == 449
    garbage = await actions.post("/webhook", content=b"not json")
    assert garbage.status_code == 400
    listed = {a["name"] for a in (await actions.get("/actions")).json()}
    assert {
        "action_helpdesk_search",
        "action_helpdesk_open_case",
        "action_helpdesk_handoff",
        "action_helpdesk_case_status",
        "action_helpdesk_button",
        "action_helpdesk_relay",
    } <= listed
    assert (await actions.get("/health")).json() == {"status": "ok"}


async def test_the_sample_domain_declares_every_action_the_server_offers(world: RasaWorld) -> None:
    served = {a["name"] for a in (await world.actions.get("/actions")).json()}
    assert served == set(world.rasa.domain["actions"])


async def test_an_action_runs_with_rasa_sdk_tracker_and_dispatcher(world: RasaWorld) -> None:
    """The action class itself, with rasa-sdk's own Tracker and CollectingDispatcher."""
    turns = RasaTurns(helpdesk=world.helpdesk, channel=world.helpdesk.channels["rasa"])
    conversation = world.rasa.conversation("sdk-1")
    conversation.user("the strip flickers", "open_case")
    tracker = Tracker.from_dict(conversation.tracker())
    dispatcher = CollectingDispatcher()
    events = await ActionHelpdeskOpenCase(turns).run(dispatcher, tracker, world.rasa.domain)
    assert [m["text"] for m in dispatcher.messages] == [replies.case_opened(1)]
    assert events == [{"event": "slot", "timestamp": None, "name": "helpdesk_case", "value": "1"}]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, RetryableSendError),
        (503, RetryableSendError),
        (429, RetryableSendError),
        (400, PermanentSendError),
        (401, PermanentSendError),
        (404, PermanentSendError),
    ],
)
async def test_a_push_rasa_refuses_is_retried_or_parked(status: int, error: type) -> None:
    """Rasa down or overloaded: the outbox tries again; a refusal (bad token, unknown intent)
    is parked, not retried for ever."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"status": "failure", "code": status})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    channel = RasaChannel(rasa_url="http://rasa.test", token="s3cret", client=client)
    with pytest.raises(error):
        await channel.send(Outbound(channel=conversation_of("ada"), text="Hello"))


async def test_rasa_unreachable_is_retried_and_token_goes_as_rasa_expects() -> None:
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    channel = RasaChannel(rasa_url="http://rasa.test/", token="s3cret", client=client)
    with pytest.raises(RetryableSendError):
        await channel.send(Outbound(channel=conversation_of("a/b"), text="Hello"))
    assert seen[0].url.raw_path.startswith(b"/conversations/a%2Fb/trigger_intent?")
    assert seen[0].url.params["token"] == "s3cret"


async def test_without_rasa_url_a_later_message_is_parked_with_the_reason() -> None:
    channel = RasaChannel(rasa_url="")
    with pytest.raises(PermanentSendError, match="RASA_URL"):
        await channel.send(Outbound(channel=conversation_of("ada"), text="Hello"))
