"""What only the person who asked should see goes out marked for them (``Outbound.private_to``
with the inbound's ``reply_token``), on every platform: refusals, and what a slash command
asked. Each adapter shows it privately its own way (Slack ephemeral, …); the fake adapter
records the marking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.messages import ChannelRef, InboundKind, Outbound
from tests.support.desk import Transcript, build_transcript

AGENTS = ChannelRef("fake", "agents")


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path)
    yield transcript
    await transcript.helpdesk.close()


def last(t: Transcript, channel: ChannelRef) -> Outbound:
    return t.sent_to(channel)[-1]


async def test_a_refusal_is_shown_only_to_the_person_who_tried(t: Transcript) -> None:
    await t.say("my hub is dead, I need a person")
    await t.say("it does not turn on")
    await t.agent(
        "",
        user="zed",
        name="Zed",
        kind=InboundKind.ACTION,
        action="claim",
        value="1:",
        reply_token="token-zed",
    )
    refusal = last(t, AGENTS)
    assert refusal.text == replies.NOT_AN_AGENT
    assert (refusal.private_to, refusal.reply_token) == ("zed", "token-zed")

    await t.agent("claim 1")
    await t.agent("claim 1", user="eve", name="Eve")
    conflict = last(t, AGENTS)
    assert conflict.text == replies.claim_conflict(1, "Dana") and conflict.private_to == "eve"


async def test_a_slash_commands_answer_is_private_and_a_typed_one_is_not(t: Transcript) -> None:
    await t.say("/status", kind=InboundKind.COMMAND, reply_token="token-ada")
    answer = last(t, t.customer)
    assert answer.text == replies.NO_CASES
    assert (answer.private_to, answer.reply_token) == ("ada", "token-ada")

    await t.say("/status")  # typed as a message: answered in the conversation as usual
    assert last(t, t.customer).private_to == ""

    await t.agent("cases", reply_token="token-dana")
    assert last(t, AGENTS).private_to == "dana"
    await t.agent("cases")  # "@bot cases" in a thread: everyone there sees it
    assert last(t, AGENTS).private_to == ""
