"""The Discord adapter on its own, against SimCord: what each Discord event becomes as an
``Inbound`` (recorded, no help desk behind it), and how send failures are classified for the
outbox. Rate limits and permission errors are injected faults: SimCord does not model Discord's
real buckets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.adapters.discord import DiscordChannel
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import (
    Button,
    ChannelRef,
    Inbound,
    InboundKind,
    Outbound,
    OutboundKind,
    button_payload,
)
from tests.support.discord_sim import DiscordWorld, shown


@pytest.fixture
async def adapter(world: DiscordWorld) -> AsyncIterator[tuple[DiscordChannel, list[Inbound]]]:
    received: list[Inbound] = []

    async def record(inbound: Inbound) -> None:
        received.append(inbound)

    channel = world.adapter()
    await channel.start(record)
    yield channel, received
    await channel.stop()


async def test_agent_thread_commands_become_commands_and_roles_become_groups(
    world: DiscordWorld, adapter: tuple[DiscordChannel, list[Inbound]]
) -> None:
    channel, received = adapter
    sent = await channel.send(
        Outbound(
            channel=ChannelRef("discord", str(world.agents.id)), text="New case #7", title="#7"
        )
    )
    assert sent.thread == sent.message_id  # the case thread has the post's id
    (thread,) = world.agents.threads
    mention = world.env.bot.user.mention

    await world.eve.send(thread, "/reply hello there")
    await world.eve.send(thread, "!resolve")
    await world.eve.send(thread, f"{mention} reply on it")
    await world.eve.send(thread, "reply to this later, customer seems upset")
    kinds_and_texts = [(i.kind, i.text) for i in received]
    assert kinds_and_texts == [
        (InboundKind.COMMAND, "reply hello there"),
        (InboundKind.COMMAND, "resolve"),
        (InboundKind.COMMAND, "reply on it"),
        (InboundKind.MESSAGE, "reply to this later, customer seems upset"),  # a note
    ]
    first = received[0]
    assert first.channel == ChannelRef("discord", str(world.agents.id), sent.thread)
    assert str(world.support_role.id) in first.groups
    assert (first.user_id, first.user_name, first.is_direct) == (str(world.eve.id), "Eve", False)


async def test_a_reply_button_opens_a_modal_whose_submission_is_a_form(
    world: DiscordWorld, adapter: tuple[DiscordChannel, list[Inbound]]
) -> None:
    channel, received = adapter
    await channel.send(
        Outbound(
            channel=ChannelRef("discord", str(world.agents.id)),
            text="New case #7",
            buttons=(
                Button("Claim", button_payload("claim", 7)),
                Button("Reply", button_payload("reply", 7), opens_form=True),
            ),
        )
    )
    post = world.agents.last_message
    assert post is not None
    opened = await world.dana.click(post, label="Reply")
    assert opened.modal is not None and received == []  # nothing handed over for the click
    await world.dana.submit_modal(opened, {"text": "On my way"})
    (form,) = received
    assert form.kind == InboundKind.FORM and form.action == "reply"
    assert dict(form.fields) == {"case": "7", "text": "On my way"}

    clicked = await world.dana.click(post, label="Claim")
    assert clicked.deferred
    assert (received[-1].kind, received[-1].action, received[-1].value) == (
        InboundKind.ACTION,
        "claim",
        "7:",
    )


async def test_long_text_is_split_and_markdown_is_shown_as_typed(
    world: DiscordWorld, adapter: tuple[DiscordChannel, list[Inbound]]
) -> None:
    channel, _ = adapter
    text = "*not bold* and __not underlined__\n" + "word " * 600
    await channel.send(Outbound(channel=ChannelRef("discord", str(world.agents.id)), text=text))
    messages = world.agents.history()
    assert len(messages) == 2 and all(len(m.content) <= 2000 for m in messages)
    assert shown(messages[0]).startswith("*not bold* and __not underlined__")


async def test_rate_limits_are_retryable_and_missing_access_is_permanent(
    world: DiscordWorld, adapter: tuple[DiscordChannel, list[Inbound]]
) -> None:
    channel, _ = adapter
    to_agents = Outbound(channel=ChannelRef("discord", str(world.agents.id)), text="hello")

    world.env.inject_error(
        "POST", "/channels/*/messages", status=429, message="You are being rate limited."
    )
    with pytest.raises(RetryableSendError):
        await channel.send(to_agents)
    world.env.inject_error("POST", "/channels/*/messages", status=403, code=50013)
    with pytest.raises(PermanentSendError):
        await channel.send(to_agents)
    world.env.inject_error("POST", "/channels/*/messages", status=404, code=10003)
    with pytest.raises(PermanentSendError):
        await channel.send(to_agents)
    world.env.inject_error("POST", "/channels/*/messages", status=502)
    with pytest.raises(RetryableSendError):
        await channel.send(to_agents)

    await channel.send(to_agents)  # the faults are spent: the next send goes through
    assert shown(world.agents.last_message) == "hello"


async def test_threads_open_from_an_earlier_post_and_close_archived(
    world: DiscordWorld, adapter: tuple[DiscordChannel, list[Inbound]]
) -> None:
    channel, _ = adapter
    agents = ChannelRef("discord", str(world.agents.id))
    long_post = "Case #9\n" + "details " * 400  # over 2000 characters, with buttons
    post = await channel.send(
        Outbound(channel=agents, text=long_post, buttons=(Button("Claim", "claim:9:"),))
    )
    assert len(world.agents.history()) == 1  # a post with buttons stays one message
    assert len(world.agents.history()[0].content) <= 2000

    opened = await channel.send(
        Outbound(channel=agents, text="", kind=OutboundKind.OPEN_THREAD, edit_of=post, title="#9")
    )
    assert opened.thread == post.message_id
    (thread,) = world.agents.threads
    assert thread.name == "#9"

    await channel.send(
        Outbound(
            channel=agents.in_thread(opened.thread),
            text="Case closed.",
            kind=OutboundKind.CLOSE_THREAD,
        )
    )
    assert shown(thread.last_message) == "Case closed."
    archived = await world.env.bot.fetch_channel(thread.id)
    assert isinstance(archived, discord.Thread) and archived.archived
