"""Threads the help desk follows in a shared Slack channel, across a restart and across two web
instances: a customer's follow-up in the thread (no mention needed) reaches their case, an
agent's note and ``@bot reply`` in the case thread still work, and strangers' chatter in other
threads is still left alone. A restart is a new adapter and a new help desk on the same database.

The stand-in cannot prove real scopes (``channels:history`` decides which messages Slack sends).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.bootstrap import start_channels
from bot.cases.transcript import EventKind
from bot.clock import FrozenClock
from bot.dialogs.understanding import Understanding
from bot.storage.models import CaseEvent, InboxMessage
from bot.web import create_web_app
from tests.support.desk import KeywordUnderstander
from tests.support.slack_api import ACK_TIMEOUT, SlackStandIn, sign
from tests.support.slack_desk import (
    AGENTS,
    CUSTOMER_DM,
    SIGNING_SECRET,
    SlackDesk,
    build_slack_desk,
)

SHARED = "C0GENERAL"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    stand_in.users.update({"U0ADA": "Ada", "U0DANA": "Dana", "U0BOB": "Bob"})
    await stand_in.start()
    yield stand_in
    await stand_in.close()


def in_shared_thread(d: SlackDesk, text: str, thread: str, *, user: str) -> dict[str, Any]:
    body = d.in_thread(text, thread, user=user)
    body["event"]["channel"] = SHARED
    return body


async def open_case_in_shared_channel(d: SlackDesk) -> str:
    """Ada asks in the shared channel, then asks for a person in the thread; returns the
    thread's ts."""
    mention = d.mention("I forgot my password", channel=SHARED, user="U0ADA")
    thread = str(mention["event"]["ts"])
    await d.slack.deliver("events_api", mention)
    await d.slack.deliver(
        "events_api", in_shared_thread(d, "I need a person please", thread, user="U0ADA")
    )
    await d.drain()
    assert "case #1" in d.slack.posts(SHARED)[-1].args["text"]
    return thread


async def notes_of(d: SlackDesk, case: int) -> list[str]:
    async with d.helpdesk.sessions() as s:
        rows = await s.scalars(
            select(CaseEvent.body).where(
                CaseEvent.case_id == case, CaseEvent.kind == EventKind.NOTE.value
            )
        )
        return list(rows)


async def inbox_size(d: SlackDesk) -> int:
    async with d.helpdesk.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(InboxMessage)) or 0)


async def test_a_message_acknowledged_while_its_sender_is_looked_up_survives_a_crash(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    """Slack never sends an acknowledged event again: once the web process has answered 200 the
    message must be in the database, even while ``users.info`` has not answered yet."""
    first = await build_slack_desk(
        migrated_url, clock, tmp_path, slack, socket_mode=False, in_background=True
    )
    web = web_app_of(first)
    lookups = slack.hold_lookups()
    after_restart = SlackStandIn()  # the restarted process reaches Slack afresh
    after_restart.users.update(slack.users)
    await after_restart.start()
    second: SlackDesk | None = None
    try:
        await post_event(web, first.dm("I forgot my password", user="U0ADA"))  # acknowledged
        await asyncio.wait_for(slack.lookup_waiting.wait(), ACK_TIMEOUT)
        # the process dies here, users.info never answers it; a new one starts once its claim
        # on anything it held has run out
        first.helpdesk.intake.stop()
        clock.advance(minutes=5)
        second = await build_slack_desk(
            migrated_url, clock, tmp_path, after_restart, socket_mode=False
        )
        await second.helpdesk.intake.recover()
        await second.drain()
        answers = [c.args["text"] for c in after_restart.posts(CUSTOMER_DM)]
        assert len(answers) == 1 and "Reset your password" in answers[0]

        lookups.set()  # the dead process's look-up returns after all: it must not answer again
        await first.helpdesk.intake.wait_idle()
        await first.drain()
        assert slack.posts(CUSTOMER_DM) == []
    finally:
        lookups.set()
        await web.aclose()
        await first.channel.stop()
        await first.helpdesk.close()
        if second is not None:
            await second.channel.stop()
            await second.helpdesk.close()
        await after_restart.close()


async def test_after_a_restart_the_followed_thread_and_the_case_thread_still_work(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    first = await build_slack_desk(migrated_url, clock, tmp_path, slack)
    try:
        thread = await open_case_in_shared_channel(first)
    finally:
        await first.channel.stop()
        await first.helpdesk.close()
    (post,) = slack.posts(AGENTS, thread_ts=None)
    case_thread = str(post.response["ts"])

    d = await build_slack_desk(migrated_url, clock, tmp_path, slack)
    d._ids = first._ids  # fresh event ids after the restart
    try:
        before = await inbox_size(d)
        # strangers talking in a thread the help desk never joined: not even stored
        await slack.deliver(
            "events_api", in_shared_thread(d, "lunch?", "1767600000.000001", user="U0BOB")
        )
        await d.drain()
        assert await inbox_size(d) == before

        follow_up = in_shared_thread(d, "it still fails after a reset", thread, user="U0ADA")
        await slack.deliver("events_api", follow_up)
        await slack.deliver("events_api", follow_up, retry_attempt=1)  # Slack redelivers
        await d.drain()
        relayed = [
            c.args["text"]
            for c in slack.posts(AGENTS, thread_ts=case_thread)
            if "it still fails after a reset" in c.args["text"]
        ]
        assert len(relayed) == 1  # handled, and only once

        await slack.deliver("events_api", d.in_thread("her account is locked", case_thread))
        await d.drain()
        assert await notes_of(d, 1) == ["her account is locked"]

        mention = d.mention("reply I have unlocked it.", channel=AGENTS, user="U0DANA")
        mention["event"]["thread_ts"] = case_thread
        await slack.deliver("events_api", mention)
        await d.drain()
        answer = slack.posts(SHARED)[-1].args
        assert answer["thread_ts"] == thread and "I have unlocked it." in answer["text"]
    finally:
        await d.channel.stop()
        await d.helpdesk.close()


def web_app_of(d: SlackDesk) -> httpx.AsyncClient:
    """One ``web`` process's app (Slack's HTTP Events API), served in memory."""
    transport = httpx.ASGITransport(app=create_web_app(d.helpdesk.channels))
    return httpx.AsyncClient(transport=transport, base_url="http://web.test")


async def post_event(web: httpx.AsyncClient, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **sign(SIGNING_SECRET, raw)}
    response = await web.post("/slack/events", content=raw, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_follow_up_reaching_another_web_instance_is_handled(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    one = await build_slack_desk(migrated_url, clock, tmp_path, slack, socket_mode=False)
    two = await build_slack_desk(migrated_url, clock, tmp_path, slack, socket_mode=False)
    two._ids = one._ids
    web_one, web_two = web_app_of(one), web_app_of(two)
    try:
        mention = one.mention("I forgot my password", channel=SHARED, user="U0ADA")
        thread = str(mention["event"]["ts"])
        await post_event(web_one, mention)
        await one.drain()

        follow_up = in_shared_thread(two, "I need a person please", thread, user="U0ADA")
        await post_event(web_two, follow_up)
        await two.drain()
        answer = slack.posts(SHARED)[-1].args
        assert answer["thread_ts"] == thread and "case #1" in answer["text"]
    finally:
        for web in (web_one, web_two):
            await web.aclose()
        for desk in (one, two):
            await desk.channel.stop()
            await desk.helpdesk.close()


class HeldUnderstander:
    """Understands only once released: the bot's first answer in a thread is still being
    worked out when the customer's next message arrives."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self._keywords = KeywordUnderstander()

    async def understand(self, text: str) -> Understanding:
        await self.release.wait()
        return await self._keywords.understand(text)


async def test_a_follow_up_sent_before_the_first_answer_is_not_lost(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    held = HeldUnderstander()
    d = await build_slack_desk(
        migrated_url, clock, tmp_path, slack, socket_mode=False, understander=held
    )
    await start_channels(d.helpdesk)  # the production path: store, acknowledge, then process
    web = web_app_of(d)
    try:
        mention = d.mention("I forgot my password", channel=SHARED, user="U0ADA")
        thread = str(mention["event"]["ts"])
        await post_event(web, mention)
        await post_event(web, in_shared_thread(d, "I need a person please", thread, user="U0ADA"))
        held.release.set()
        await d.helpdesk.intake.wait_idle()
        await d.drain()
        answers = [c.args for c in slack.posts(SHARED)]
        assert [a["thread_ts"] for a in answers] == [thread, thread]
        assert "Reset your password" in answers[0]["text"] and "case #1" in answers[1]["text"]
    finally:
        await web.aclose()
        await d.channel.stop()
        await d.helpdesk.close()
