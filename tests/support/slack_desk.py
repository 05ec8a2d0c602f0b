"""A help desk wired to the real Slack adapter and the Slack stand-in, plus the payloads a
customer or an agent produces in Slack (built from ``tests/fixtures/slack``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import SlackChannel
from bot.bootstrap import HelpDesk, build_helpdesk, give_lookups
from bot.clock import Clock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs.understanding import Understander
from tests.support.desk import KeywordUnderstander
from tests.support.slack_api import SlackStandIn, load_fixture

AGENTS = "C0AGENTS"
CUSTOMER_DM = "D0CUSTOMER"
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
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def drain(self) -> int:
        return await self.helpdesk.sender.drain()

    def next_id(self) -> int:
        return next(self._ids)

    def dm(self, text: str, *, user: str = "U0ADA", event_id: str = "") -> dict[str, Any]:
        """A ``message.im`` event callback from a customer's DM."""
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
) -> SlackDesk:
    """The whole help desk with the Slack adapter; inbounds are processed as they arrive
    (``intake.receive``) so each test step is deterministic."""
    desk = desk or slack_desk()
    channel = SlackChannel(
        client=AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url),
        app_token="xapp-test-token" if socket_mode else None,
        signing_secret=SIGNING_SECRET,
        agent_channels={AGENTS},
        role_groups=role_groups,
        clock=clock,
    )
    helpdesk = await build_helpdesk(
        Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path),
        channels={"slack": channel},
        understander=understander or KeywordUnderstander(),
        clock=clock,
        desk=desk,
    )

    async def receive(inbound: Any) -> None:
        await helpdesk.intake.receive(inbound)

    give_lookups(helpdesk, channel)  # as start_channels does
    await channel.start(receive)
    return SlackDesk(slack=slack, channel=channel, helpdesk=helpdesk)
