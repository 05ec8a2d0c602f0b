"""Transfers, pending, priority, the agent views and auto-close, through fake channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.dialogs.upkeep import DeskUpkeep
from bot.messages import ChannelRef, InboundKind, OutboundKind
from bot.storage.models import Case, CaseEvent
from tests.support.desk import Transcript, as_sent, build_transcript

BILLING = "fake:billing"


def two_queue_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana", "eve", "mia"]),
            managers=RoleMembers(fake=["mia"]),
        ),
        queues=[
            QueueConfig(name="default", channel="fake:agents"),
            QueueConfig(name="billing", channel=BILLING, tags=["billing"]),
        ],
        answer_threshold=0.5,
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=two_queue_desk())
    yield transcript
    await transcript.helpdesk.close()


async def case_row(t: Transcript, number: int = 1) -> Case:
    async with t.helpdesk.sessions() as s:
        return await s.get_one(Case, number)


async def open_case(t: Transcript) -> None:
    await t.say("I need a person about my delivery")
    t.agents_saw()
    t.new_for(t.customer)


async def test_transfer_to_a_queue_moves_the_post_and_tells_the_customer(t: Transcript) -> None:
    await open_case(t)
    await t.agent("claim 1")
    t.new_for(t.customer)
    seen = await t.agent("transfer 1 billing")
    assert "Transferred to billing by Dana." in "\n".join(seen)  # the old post, edited
    assert replies.transferred_to(1, "billing", "Dana") in seen  # and its thread
    edit = next(o for o in t.sent_to(ChannelRef.parse("fake:agents")) if "Transferred" in o.text)
    assert edit.kind == OutboundKind.EDIT and edit.buttons == ()
    (post,) = t.agents_saw(BILLING)
    assert "New case #1" in post and "Queue: billing" in post
    assert t.new_for(t.customer) == [replies.transferred_to_queue_for_customer(1)]
    case = await case_row(t)
    assert (case.queue, case.status, case.assignee) == ("billing", "new", None)
    # billing's agents work it from their own channel; the case thread follows the new post
    assert "#1 claimed by Eve." in await t.agent("claim 1", user="eve", name="Eve", channel=BILLING)
    assert await t.agent("transfer 1 nowhere", user="eve", name="Eve", channel=BILLING) == [
        replies.transfer_target_unknown("nowhere", ["default", "billing"])
    ]


async def test_transfer_to_an_agent_by_id_or_name(t: Transcript) -> None:
    await open_case(t)
    await t.agent("claim 1")
    t.new_for(t.customer)
    assert replies.transferred_to(1, "eve", "Dana") in await t.agent("transfer 1 @eve")
    assert t.new_for(t.customer) == [replies.transferred_to_agent_for_customer(1, "eve")]
    case = await case_row(t)
    assert (case.assignee, case.status) == ("fake:eve", "open")
    # Dana no longer holds it; Eve does, and can pass it back to Dana by the name she uses
    assert await t.agent("reply 1 hello") == [replies.claim_conflict(1, "eve")]
    await t.agent("transfer 1 Dana", user="eve", name="Eve")
    assert (await case_row(t)).assignee == "fake:dana"
    assert await t.agent("transfer 1 @mallory") == [
        replies.transfer_target_unknown("@mallory", ["default", "billing"])
    ]
    async with t.helpdesk.sessions() as s:
        kinds = list(await s.scalars(select(CaseEvent.kind).where(CaseEvent.kind == "transfer")))
    assert len(kinds) == 2


async def test_only_the_holder_or_a_manager_can_transfer_a_claimed_case(t: Transcript) -> None:
    await open_case(t)
    await t.agent("claim 1")
    assert await t.agent("transfer 1 billing", user="eve", name="Eve") == [
        replies.held_by_another(1, "Dana")
    ]
    assert replies.transferred_to(1, "billing", "Mia") in await t.agent(
        "transfer 1 billing", user="mia", name="Mia"
    )


async def test_pending_waits_on_the_customer_and_their_answer_resumes(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    await t.agent("reply 1 Which order number is it?")
    t.new_for(t.customer)
    seen = await t.agent("pending 1")
    assert replies.pending_set(1, "Dana") in seen
    assert any("Status: pending, claimed by Dana" in line for line in seen)  # the post
    assert t.new_for(t.customer) == [replies.case_pending_to_customer(1)]
    case = await case_row(t)
    assert (case.status, case.pending_since) == ("pending", clock.now())
    clock.advance(minutes=5)
    assert await t.say("it's LM-204518") == []
    case = await case_row(t)
    assert (case.status, case.pending_since) == ("open", None)
    assert "#1 Ada: it's LM-204518" in t.agents_saw()


async def test_priority_changes_are_shown_and_bad_ones_explained(t: Transcript) -> None:
    await open_case(t)
    seen = await t.agent("priority 1 urgent")
    assert replies.priority_changed(1, "urgent", "Dana") in seen
    assert any("Priority: urgent" in line for line in seen)  # the post, edited
    assert (await case_row(t)).priority == "urgent"
    assert await t.agent("priority 1 whenever") == ["Priorities are low, normal, high, urgent."]
    assert await t.agent("priority 1") == ["Which priority? Try 'priority 1 high' (low … urgent)."]
    assert t.new_for(t.customer) == []  # internal: the customer is not bothered


async def test_agent_views_list_search_and_show_the_whole_transcript(t: Transcript) -> None:
    await open_case(t)
    bob = ChannelRef("fake", "dm-bob")
    await t.say("a human please", channel=bob, user_id="bob", user_name="Bob")
    await t.say("my lamp blinks", channel=bob, user_id="bob", user_name="Bob")
    await t.agent("claim 2")
    await t.agent("note 2 known firmware bug")
    t.agents_saw()
    (unclaimed,) = await t.agent("cases unclaimed")
    assert "#1 [new]" in unclaimed and "#2" not in unclaimed
    (mine,) = await t.agent("cases mine")
    assert mine == "#2 [open · Dana] my lamp blinks"
    (found,) = await t.agent("cases customer bob")
    assert found == "#2 [open · Dana] my lamp blinks"
    assert await t.agent("cases customer nobody") == ["No cases."]
    assert await t.agent("cases sideways") == [as_sent(replies.CASES_USAGE)]
    (transcript,) = await t.agent("case 2")
    assert transcript.startswith("Case #2 — my lamp blinks — open")
    assert "Customer: Bob (fake)" in transcript
    assert "customer_message Bob: my lamp blinks" in transcript
    assert "note Dana: known firmware bug" in transcript


async def test_resolved_cases_close_after_the_reopen_window(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    await t.agent("resolve 1")
    t.new_for(t.customer)
    t.agents_saw()
    upkeep = DeskUpkeep(desk=t.helpdesk.desk)
    window = upkeep.reopen_window
    clock.advance(hours=71)
    async with t.helpdesk.uow() as uow:
        assert await upkeep.close_resolved_cases(uow, clock.now(), window) == []
    clock.advance(hours=2)
    async with t.helpdesk.uow() as uow:
        assert await upkeep.close_resolved_cases(uow, clock.now(), window) == [1]
        await uow.commit()
    await t.helpdesk.sender.drain()
    assert t.new_for(t.customer) == [replies.case_auto_closed(1)]
    assert replies.auto_closed(1) in t.agents_saw()
    case = await case_row(t)
    assert (case.status, case.closed_at) == ("closed", clock.now())
    assert await t.say("the lamp broke again") == [replies.REPHRASE]  # a fresh start
    assert (await case_row(t)).reopen_count == 0


async def test_the_transfer_button_offers_the_queues_and_forms_still_work(
    t: Transcript,
) -> None:
    await open_case(t)
    # the Transfer button answers with the other queues as buttons
    assert await t.agent("", kind=InboundKind.ACTION, action="transfer", value="1:") == [
        as_sent(replies.transfer_usage(1, ["default", "billing"]))
    ]
    (offer,) = t.sent_to(ChannelRef.parse("fake:agents"))[-1:]
    assert [(b.label, b.payload) for b in offer.buttons] == [("→ billing", "transfer:1:billing")]
    seen = await t.agent("", kind=InboundKind.ACTION, action="transfer", value="1:billing")
    assert replies.transferred_to(1, "billing", "Dana") in seen
    assert (await case_row(t)).queue == "billing"
    # a transfer form (where an adapter offers one) names its target
    seen = await t.agent(
        "", kind=InboundKind.FORM, action="transfer", fields={"case": "1", "target": "default"}
    )
    assert any("New case #1" in line and "Queue: default" in line for line in seen)
    assert replies.transferred_to(1, "default", "Dana") in t.agents_saw(BILLING)
    # the Reply form still replies
    await t.agent("", kind=InboundKind.FORM, action="reply", fields={"case": "1", "text": "On it!"})
    assert t.new_for(t.customer)[-1] == "Dana (Support): On it!"
