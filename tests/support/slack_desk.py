"""A help desk wired to the real Slack adapter and the Slack stand-in, plus the payloads a
customer or an agent produces in Slack (built from ``tests/fixtures/slack``).

Text in these payloads is in Slack's wire form, as Slack sends it: ``wire("a & b")`` is
``a &amp; b``; mentions are ``<@U…>``, links ``<https://…|label>``. The workspace: the bot is
in the agent channel and in #general, and has a DM with Ada."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import SlackChannel, agent_gate
from bot.adapters.slack_text import escape
from bot.bootstrap import HelpDesk, build_helpdesk, give_lookups, start_channels
from bot.clock import Clock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs.understanding import Understander
from bot.messages import Inbound
from tests.support.desk import KeywordUnderstander
from tests.support.slack_api import SlackStandIn, load_fixture

AGENTS = "C0AGENTS"
CUSTOMER_DM = "D0CUSTOMER"
GENERAL = "C0GENERAL"
PEOPLE = ("U0ADA", "U0DANA", "U0EVE")


def wire(text: str) -> str:
    """Plain text as Slack sends it in events: ``&``, ``<``, ``>`` escaped."""
    return escape(text)


SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def slack_desk(agents: tuple[str, ...] = ("U0DANA",)) -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(slack=list(agents))),
        queues=[QueueConfig(name="default", channel=f"slack:{AGENTS}")],
        answer_threshold=0.5,
    )


@dataclass
class SlackDesk:
    slack: SlackStandIn
    channel: SlackChannel
    helpdesk: HelpDesk
    received: asyncio.Queue[Inbound] = field(default_factory=asyncio.Queue)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def drain(self) -> int:
        """Deliver what the help desk has to say."""
        return await self.helpdesk.sender.drain()

    def next_id(self) -> int:
        return next(self._ids)

    def command(self, text: str, *, user: str, channel: str) -> dict[str, Any]:
        """``/helpdesk <text>`` typed by ``user`` in ``channel``, with a ``response_url``."""
        n = self.next_id()
        body = load_fixture("slash_command")
        body.update(
            text=text,
            user_id=user,
            channel_id=channel,
            trigger_id=f"command-trigger-{n}",
            response_url=self.slack.hook_url(channel, user),
        )
        return body

    def dm(self, text: str, *, user: str = "U0ADA", event_id: str = "") -> dict[str, Any]:
        """A ``message.im`` event callback from a customer's DM (``text`` in wire form)."""
        n = self.next_id()
        body = load_fixture("message_im")
        body["event_id"] = event_id or f"Ev0DM{n:05d}"
        body["event"].update(text=text, user=user, ts=f"1767603600.{n:06d}")
        body["event"]["event_ts"] = body["event"]["ts"]
        return body

    def in_thread(self, text: str, thread: str, *, user: str = "U0DANA") -> dict[str, Any]:
        """A ``message.channels`` event: a message in a thread of the agent channel."""
        n = self.next_id()
        body = load_fixture("message_channel_thread")
        body["event_id"] = f"Ev0THR{n:05d}"
        body["event"].update(text=text, user=user, thread_ts=thread, ts=f"1767603900.{n:06d}")
        return body

    def mention(
        self, text: str, *, channel: str, user: str, thread: str | None = None
    ) -> dict[str, Any]:
        n = self.next_id()
        body = load_fixture("app_mention")
        body["event_id"] = f"Ev0MEN{n:05d}"
        body["event"].update(text=f"<@U0BOT> {text}", channel=channel, user=user)
        body["event"]["ts"] = f"1767603700.{n:06d}"
        if thread:
            body["event"]["thread_ts"] = thread
        return body

    def click(self, post: dict[str, Any], label: str, *, user: str, channel: str) -> dict[str, Any]:
        """A ``block_actions`` payload: ``user`` clicks the button ``label`` of a message the
        bot posted (``post``: the recorded ``chat.postMessage``/``chat.update`` arguments plus
        the message ts)."""
        button = next(
            element
            for block in post["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
            if element["text"]["text"] == label
        )
        n = self.next_id()
        body = load_fixture("block_actions")
        body["user"].update(id=user)
        body["container"].update(channel_id=channel, message_ts=post["ts"])
        body["channel"]["id"] = channel
        body["message"].update(ts=post["ts"], text=post["text"], blocks=post["blocks"])
        if post.get("thread_ts"):
            body["message"]["thread_ts"] = post["thread_ts"]
        body["trigger_id"] = f"trigger-{n}"
        body["response_url"] = self.slack.hook_url(channel, user)
        body["actions"] = [
            {
                **body["actions"][0],
                "action_id": button["action_id"],
                "value": button["value"],
                "text": button["text"],
                "action_ts": f"1767603810.{n:06d}",
            }
        ]
        return body


@asynccontextmanager
async def running_slack_desk(
    database_url: str, clock: Clock, tmp_path: Path, slack: SlackStandIn, **options: Any
) -> AsyncIterator[SlackDesk]:
    """``build_slack_desk``, stopped and closed when the block ends (a test's fixture)."""
    desk = await build_slack_desk(database_url, clock, tmp_path, slack, **options)
    try:
        yield desk
    finally:
        await desk.channel.stop()
        await desk.helpdesk.close()


async def build_slack_desk(
    database_url: str,
    clock: Clock,
    tmp_path: Path,
    slack: SlackStandIn,
    *,
    desk: DeskConfig | None = None,
    socket_mode: bool = True,
    role_groups: tuple[str, ...] = (),
    understander: Understander | None = None,
    lookup_budget: float = 2.0,
    in_background: bool = False,
) -> SlackDesk:
    """The whole help desk with the Slack adapter; inbounds are processed as they arrive
    (``intake.receive``) so each test step is deterministic — or, ``in_background``, as in
    production: stored, acknowledged, then processed (``intake.wait_idle`` waits for that)."""
    desk = desk or slack_desk()
    slack.join(AGENTS, *PEOPLE)
    slack.join(GENERAL, *PEOPLE)
    slack.open_im(CUSTOMER_DM, "U0ADA")
    channel = SlackChannel(
        client=AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url),
        app_token="xapp-test-token" if socket_mode else None,
        signing_secret=SIGNING_SECRET,
        agent_channels={AGENTS},
        role_groups=role_groups,
        clock=clock,
        agent_gate=agent_gate(desk.roles.agents.slack),
        lookup_budget=lookup_budget,
    )
    helpdesk = await build_helpdesk(
        Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path),
        channels={"slack": channel},
        understander=understander or KeywordUnderstander(),
        clock=clock,
        desk=desk,
    )

    received: asyncio.Queue[Inbound] = asyncio.Queue()

    async def receive(inbound: Inbound) -> None:
        await helpdesk.intake.receive(inbound)
        received.put_nowait(inbound)

    if in_background:
        await start_channels(helpdesk)
    else:
        give_lookups(helpdesk, channel)  # as start_channels does
        await channel.start(receive)
    return SlackDesk(slack=slack, channel=channel, helpdesk=helpdesk, received=received)
