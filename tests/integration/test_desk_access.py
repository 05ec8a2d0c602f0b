"""Access that holds: who may act on a claimed case (the authorization matrix documented in
docs/roles.md), malformed case numbers on buttons and commands, and names that cannot break
messages. On SQLite and PostgreSQL; what is asserted is what each person sees and what the case
records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.messages import ChannelRef, InboundKind
from bot.storage.models import Case, CaseEvent, Customer, CustomerIdentity
from tests.support.desk import Transcript, build_transcript

AGENTS = "fake:agents"
# who plays each part: dana holds case #1; mia manages; adam administers (an agent, not a
# manager); eve is a colleague; ada is the customer, typing in the agents' channel
PEOPLE = {
    "customer": ("ada", "Ada"),
    "agent": ("eve", "Eve"),
    "holder": ("dana", "Dana"),
    "manager": ("mia", "Mia"),
    "admin": ("adam", "Adam"),
}


def access_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana", "eve", "mia", "adam"]),
            managers=RoleMembers(fake=["mia"]),
            admins=RoleMembers(fake=["adam"]),
        ),
        queues=[
            QueueConfig(name="default", channel=AGENTS),
            QueueConfig(name="billing", channel="fake:billing", intents=["billing"]),
        ],
        answer_threshold=0.5,
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=access_desk())
    yield transcript
    await transcript.helpdesk.close()


async def open_case(
    t: Transcript, *, number: int = 1, claimed_by: str | None = "dana", channel: str = AGENTS
) -> None:
    """Case ``number`` opened by a customer (from the second on, a customer of its own, so a
    desk can try one verb for every person in turn, each on a fresh case) and, by default,
    claimed by dana."""
    if number > 1:
        t.customer = ChannelRef("fake", f"dm-c{number}")
        t.customer_id, t.customer_name = f"c{number}", f"Customer {number}"
    await t.say("I forgot my password")
    (opened,) = await t.click("Talk to a person")
    assert f"case #{number}" in opened
    if claimed_by:
        await t.agent(f"claim {number}", user=claimed_by, name=claimed_by.title(), channel=channel)
    t.agents_saw(channel)
    t.new_for(t.customer)


async def snapshot(t: Transcript, number: int = 1) -> tuple[object, ...]:
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, number)
        events = await s.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == number)
        )
        return (case.status, case.assignee, case.priority, case.queue, events)


# verb -> what is typed after it (case #1)
TYPED = {
    "claim": "claim {n}",
    "release": "release {n}",
    "reply": "reply {n} Hello from the desk",
    "note": "note {n} called them",
    "pending": "pending {n}",
    "resolve": "resolve {n}",
    "priority": "priority {n} high",
    "transfer": "transfer {n} billing",
}
# on a case claimed by dana: who may do each verb (docs/roles.md has the same table)
ALLOWED = {
    "claim": set[str](),  # already claimed: nobody takes it over by claiming
    "release": {"holder", "manager"},
    "reply": {"holder"},  # one voice to the customer; a manager transfers it to themselves
    "note": {"agent", "holder", "manager", "admin"},
    "pending": {"holder", "manager"},
    "resolve": {"holder", "manager"},
    "priority": {"holder", "manager"},
    "transfer": {"holder", "manager"},
}


async def each_person_tries(
    t: Transcript, verb: str, act: Callable[[int, str, str], Awaitable[object]]
) -> None:
    """Each person in turn does ``act(case number, user, name)`` on a fresh case claimed by
    dana: those ``ALLOWED`` change it; anyone else is refused, privately, and nothing changes
    (the customer hears nothing)."""
    for number, who in enumerate(PEOPLE, start=1):
        await open_case(t, number=number)
        before = await snapshot(t, number)
        user, name = PEOPLE[who]
        await act(number, user, name)
        after = await snapshot(t, number)
        if who in ALLOWED[verb]:
            assert after != before, f"{who} could not {verb}"
            continue
        assert after == before, f"{who} could {verb} a colleague's case"
        answers = [o for o in t.sent_to(ChannelRef.parse(AGENTS)) if o.text]
        assert answers[-1].private_to == user, who  # the refusal is theirs alone
        assert t.new_for(t.customer) == [], who  # and the customer heard nothing


@pytest.mark.parametrize("verb", list(TYPED))
async def test_authorization_matrix_on_a_claimed_case(t: Transcript, verb: str) -> None:
    async def typed(number: int, user: str, name: str) -> object:
        return await t.agent(TYPED[verb].format(n=number), user=user, name=name)

    await each_person_tries(t, verb, typed)


BUTTONS = ["claim", "release", "pending", "resolve"]


@pytest.mark.parametrize("verb", BUTTONS)
async def test_authorization_matrix_for_buttons(t: Transcript, verb: str) -> None:
    """The same rules when the escalation post's buttons are pressed."""

    async def pressed(number: int, user: str, name: str) -> object:
        return await t.agent(
            "", user=user, name=name, kind=InboundKind.ACTION, action=verb, value=f"{number}:"
        )

    await each_person_tries(t, verb, pressed)


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_looking_at_a_case_is_for_agents(t: Transcript, who: str) -> None:
    await open_case(t)
    user, name = PEOPLE[who]
    said = await t.agent("case 1", user=user, name=name)
    if who == "customer":
        assert said == [replies.NOT_AN_AGENT]
        assert t.sent_to(ChannelRef.parse(AGENTS))[-1].private_to == user
    else:
        assert any("#1" in line for line in said)


@pytest.mark.parametrize("verb", ["release", "pending", "resolve", "priority", "transfer"])
async def test_any_agent_may_act_on_an_unclaimed_case(t: Transcript, verb: str) -> None:
    await open_case(t, claimed_by=None)
    before = await snapshot(t)
    if verb == "release":  # nothing to release: refused, privately, nothing changed
        await t.agent(TYPED[verb].format(n=1), user="eve", name="Eve")
        assert await snapshot(t) == before
        return
    await t.agent(TYPED[verb].format(n=1), user="eve", name="Eve")
    assert await snapshot(t) != before


async def test_a_colleague_is_told_whose_case_it_is(t: Transcript) -> None:
    await open_case(t)
    assert await t.agent("resolve 1", user="eve", name="Eve") == [
        replies.held_by_another(1, "Dana")
    ]


@pytest.mark.parametrize("verb", ["resolve", "release", "pending"])
async def test_a_colleagues_button_press_is_refused_privately(t: Transcript, verb: str) -> None:
    await open_case(t)
    before = await snapshot(t)
    said = await t.agent(
        "", user="eve", name="Eve", kind=InboundKind.ACTION, action=verb, value="1:"
    )
    assert said == [replies.held_by_another(1, "Dana")]
    assert t.sent_to(ChannelRef.parse(AGENTS))[-1].private_to == "eve"
    assert await snapshot(t) == before


@pytest.mark.parametrize("case", ["²", "1" * 200, "abc", "-1", "12x"])
async def test_a_malformed_case_on_a_button_is_answered_clearly(t: Transcript, case: str) -> None:
    await open_case(t, claimed_by=None)
    before = await snapshot(t)
    said = await t.agent(
        "", user="eve", name="Eve", kind=InboundKind.ACTION, action="claim", value=f"{case}:"
    )
    assert len(said) == 1 and "isn't a case number" in said[0]
    assert t.sent_to(ChannelRef.parse(AGENTS))[-1].private_to == "eve"
    assert await snapshot(t) == before


@pytest.mark.parametrize("case", ["²", "1" * 200, "١٢"])
async def test_a_malformed_case_in_a_typed_command_is_answered_clearly(
    t: Transcript, case: str
) -> None:
    await open_case(t, claimed_by=None)
    before = await snapshot(t)
    said = await t.agent(f"claim {case}", user="eve", name="Eve")
    assert len(said) == 1 and "isn't a case number" in said[0]
    assert await snapshot(t) == before


async def test_a_customers_malformed_rating_button_changes_nothing(t: Transcript) -> None:
    await open_case(t)
    await t.agent("resolve 1", user="dana", name="Dana")
    t.new_for(t.customer)
    await t.say("", kind=InboundKind.ACTION, action="rate", value="²:5")
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).csat is None


@pytest.mark.parametrize(
    "name", ["Ada\x00Lovelace", "Ada \ud800 Lovelace", "A" * 300, "Ada\nLovelace\u202e"]
)
async def test_a_hostile_display_name_does_not_break_the_persons_messages(
    t: Transcript, name: str
) -> None:
    said = await t.say("I forgot my password", user_name=name)
    assert said  # answered, not failed
    (opened,) = await t.click("Talk to a person", user_name=name)
    assert "case #1" in opened
    async with t.helpdesk.sessions() as s:
        stored = [
            *(await s.scalars(select(Customer.display_name))),
            *(await s.scalars(select(CustomerIdentity.display_name))),
        ]
    for value in stored:
        assert len(value) <= 80
        assert "\x00" not in value and "\ud800" not in value and "\n" not in value
    (post,) = t.agents_saw()
    assert "New case #1" in post


async def test_a_hostile_agent_name_does_not_break_the_case(t: Transcript) -> None:
    await open_case(t, claimed_by=None)
    said = await t.agent("claim 1", user="eve", name="Eve\x00" + "e" * 300)
    assert said
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert case.assignee == "fake:eve"
    assert case.assignee_name is not None and len(case.assignee_name) <= 80
    assert "\x00" not in case.assignee_name


async def test_close_answers_alike_for_a_missing_case_and_someone_elses(t: Transcript) -> None:
    await open_case(t)
    other = ChannelRef("fake", "dm-bob")
    await t.say("hello", channel=other, user_id="bob", user_name="Bob")
    theirs = await t.say("/close 1", channel=other, user_id="bob", user_name="Bob")
    missing = await t.say("/close 999", channel=other, user_id="bob", user_name="Bob")
    assert theirs == missing == [replies.NO_OPEN_CASE]
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).status != "closed"


async def test_a_refused_rating_is_not_thanked(t: Transcript) -> None:
    await open_case(t)
    await t.agent("resolve 1", user="dana", name="Dana")
    t.new_for(t.customer)
    await t.say("", kind=InboundKind.ACTION, action="rate", value="1:5")
    again = await t.say("", kind=InboundKind.ACTION, action="rate", value="1:1")
    assert again and all("thank" not in line.lower() for line in again)
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).csat == 5


# --- queues with members -------------------------------------------------------------------

VIP = "fake:vip"
# vic and dana are the vip queue's agents, quinn its manager; eve is an agent of the desk but
# not of vip; mia manages the whole desk; adam administers (not a manager, not a member)
VIP_PEOPLE = {
    "customer": ("ada", "Ada"),
    "outsider": ("eve", "Eve"),
    "member": ("vic", "Vic"),
    "queue_manager": ("quinn", "Quinn"),
    "manager": ("mia", "Mia"),
    "admin": ("adam", "Adam"),
}


def vip_desk() -> DeskConfig:
    """Every case lands in "vip" (the default queue), whose work is kept to its members."""
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana", "eve", "vic", "quinn", "mia", "adam"]),
            managers=RoleMembers(fake=["mia"]),
            admins=RoleMembers(fake=["adam"]),
        ),
        queues=[
            QueueConfig(name="default", channel=AGENTS),
            QueueConfig(
                name="vip",
                channel=VIP,
                agents=RoleMembers(fake=["vic", "dana"]),
                managers=RoleMembers(fake=["quinn"]),
            ),
        ],
        default_queue="vip",
        answer_threshold=0.5,
    )


@pytest.fixture
async def vip(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=vip_desk())
    yield transcript
    await transcript.helpdesk.close()


async def open_vip_case(t: Transcript, *, number: int = 1, claimed_by: str | None = None) -> None:
    await open_case(t, number=number, claimed_by=claimed_by, channel=VIP)


VIP_TYPED = {**TYPED, "transfer": "transfer {n} default", "case": "case {n}"}
# on an unclaimed vip case: who may do each verb (docs/roles.md)
VIP_WORKERS = {"member", "queue_manager", "manager"}


@pytest.mark.parametrize("verb", [verb for verb in VIP_TYPED if verb != "release"])
async def test_a_queue_with_members_keeps_its_cases_to_them(vip: Transcript, verb: str) -> None:
    """Each person in turn tries ``verb`` on a fresh, unclaimed vip case."""
    for number, who in enumerate(VIP_PEOPLE, start=1):
        await open_vip_case(vip, number=number)
        before = await snapshot(vip, number)
        user, name = VIP_PEOPLE[who]
        said = await vip.agent(VIP_TYPED[verb].format(n=number), user=user, name=name, channel=VIP)
        after = await snapshot(vip, number)
        if who in VIP_WORKERS:
            if verb == "case":
                assert any(f"#{number}" in line for line in said), who
            else:
                assert after != before, f"{who} could not {verb}"
            continue
        assert after == before, f"{who} could {verb} a vip case"
        expected = (
            replies.NOT_AN_AGENT if who == "customer" else replies.queue_members_only(number, "vip")
        )
        assert said == [expected], who
        assert vip.sent_to(ChannelRef.parse(VIP))[-1].private_to == user  # theirs alone
        assert vip.new_for(vip.customer) == [], who


@pytest.mark.parametrize("verb", BUTTONS)
async def test_an_outsiders_buttons_on_a_members_only_case_are_refused(
    vip: Transcript, verb: str
) -> None:
    await open_vip_case(vip, claimed_by="dana" if verb != "claim" else None)
    before = await snapshot(vip)
    said = await vip.agent(
        "", user="eve", name="Eve", channel=VIP, kind=InboundKind.ACTION, action=verb, value="1:"
    )
    assert said == [replies.queue_members_only(1, "vip")]
    assert vip.sent_to(ChannelRef.parse(VIP))[-1].private_to == "eve"
    assert await snapshot(vip) == before


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("member", False), ("queue_manager", True), ("manager", True), ("outsider", False)],
)
async def test_a_queues_manager_has_a_managers_say_over_its_claimed_cases(
    vip: Transcript, who: str, allowed: bool
) -> None:
    await open_vip_case(vip, claimed_by="dana")
    before = await snapshot(vip)
    user, name = VIP_PEOPLE[who]
    await vip.agent("resolve 1", user=user, name=name, channel=VIP)
    assert (await snapshot(vip) != before) == allowed


async def test_a_members_only_case_goes_to_members_only(vip: Transcript) -> None:
    await open_vip_case(vip, claimed_by="dana")
    before = await snapshot(vip)
    assert await vip.agent("transfer 1 @eve", user="dana", name="Dana", channel=VIP) == [
        replies.not_a_queue_member("eve", "vip")  # eve has not acted yet: known by id
    ]
    assert await snapshot(vip) == before
    await vip.agent("transfer 1 @vic", user="dana", name="Dana", channel=VIP)
    async with vip.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).assignee == "fake:vic"


async def test_only_members_move_a_case_into_a_members_only_queue(vip: Transcript) -> None:
    await open_vip_case(vip)
    await vip.agent("transfer 1 default", user="vic", name="Vic", channel=VIP)
    async with vip.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).queue == "default"
    vip.agents_saw()
    before = await snapshot(vip)
    assert await vip.agent("transfer 1 vip", user="eve", name="Eve") == [
        replies.queue_members_only_into("vip")
    ]
    assert await snapshot(vip) == before
    await vip.agent("transfer 1 vip", user="vic", name="Vic")
    async with vip.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).queue == "vip"


async def test_an_outsiders_case_list_leaves_out_members_only_cases(vip: Transcript) -> None:
    await open_vip_case(vip)
    (outsider,) = await vip.agent("cases", user="eve", name="Eve")
    (member,) = await vip.agent("cases", user="vic", name="Vic")
    assert "#1" not in outsider
    assert "#1" in member
