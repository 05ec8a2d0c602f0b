"""The Discord adapter end to end: discord.py's real client (parsers, cache, views, dynamic items,
modals) against SimCord's in-memory Discord, the whole help desk behind it (SQLite and
PostgreSQL), the KeywordUnderstander in front.

What SimCord cannot prove: the websocket and heartbeats, Discord's real rate limits (a 429 is
injected), server-side rendering of markdown and mentions (asserted as the content and the
``allowed_mentions`` the bot sent).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from discord import MessageType
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.metrics import REGISTRY
from bot.storage.models import DialogSession
from tests.support.discord_sim import (
    DiscordDesk,
    DiscordWorld,
    close_dms,
    labels,
    last_request,
    running_discord_desk,
    shown,
)


@pytest.fixture
async def d(
    world: DiscordWorld, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[DiscordDesk]:
    async with running_discord_desk(world, migrated_url, clock, tmp_path) as built:
        yield built


async def escalate_from_dm(d: DiscordDesk) -> discord.Message:
    """Ada asks in a DM, clicks "Talk to a person"; returns the escalation post."""
    w = d.world
    await w.customer.send_dm("I forgot my password")
    await d.deliver()
    card = w.customer.dm_channel.last_message
    assert card is not None
    await w.customer.click(card, label="Talk to a person")
    await d.deliver()
    post = w.agents.history()[0]
    return post


async def test_a_customer_dm_gets_an_answer_card_with_buttons(d: DiscordDesk) -> None:
    w = d.world
    await w.customer.send_dm("I forgot my password")
    assert await d.deliver() == 1
    card = w.customer.dm_channel.last_message
    assert card is not None and card.author.id == w.env.bot.user.id
    assert "Reset your password" in shown(card)
    assert labels(card) == ["That helped", "Talk to a person", "Show the whole article"]


async def test_talk_to_a_person_posts_in_the_agents_channel_with_a_thread(d: DiscordDesk) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    assert "case #1" in shown(w.customer.dm_channel.last_message)
    assert "New case #1" in shown(post) and "I forgot my password" in shown(post)
    assert {"Claim", "Release", "Reply", "Resolve"} <= set(labels(post))
    (thread,) = w.agents.threads
    assert thread.id == post.id  # a thread started from the post has the post's id


async def test_claim_reply_by_modal_and_resolve_reach_the_customers_dm(d: DiscordDesk) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    dm = w.customer.dm_channel

    claimed = await w.dana.click(post, label="Claim")
    assert claimed.acknowledged and claimed.deferred  # acknowledged before the desk's work
    await d.deliver()
    assert "Dana from our team has joined" in shown(dm.last_message)
    assert "claimed by Dana" in shown(w.agents.history()[0])  # the post was edited in place

    opened = await w.dana.click(post, label="Reply")
    assert opened.modal is not None  # the modal is the first response to the click
    await w.dana.submit_modal(opened, {"text": "I've sent you a new reset link."})
    await d.deliver()
    assert shown(dm.last_message) == "Dana (Support): I've sent you a new reset link."

    await w.dana.click(w.agents.history()[0], label="Resolve")
    await d.deliver()
    resolved = dm.last_message
    assert resolved is not None and "has been resolved" in shown(resolved)
    assert labels(resolved)[0] == "1 ☹" and len(labels(resolved)) == 5
    assert labels(w.agents.history()[0]) == []  # a resolved case's post has no buttons left
    (thread,) = w.agents.threads
    assert any("resolved" in shown(m) for m in thread.history())

    await w.customer.click(resolved, label="5 ☺")
    await d.deliver()
    assert "Thank you for your rating" in shown(dm.last_message)


async def test_in_the_case_thread_slash_reply_reaches_the_customer_and_chatter_stays_a_note(
    d: DiscordDesk,
) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    dm = w.customer.dm_channel
    (thread,) = w.agents.threads
    before = len(dm.history())

    await w.eve.send(thread, "looks like the reset mail bounced")  # Eve is an agent by role
    await d.deliver()
    assert len(dm.history()) == before  # an internal note never reaches the customer
    assert any("Note saved" in shown(m) or "note" in shown(m).lower() for m in thread.history())

    await w.eve.send(thread, "/reply Could you check your spam folder?")
    await d.deliver()
    assert shown(dm.last_message) == "Eve (Support): Could you check your spam folder?"

    await w.eve.send(thread, f"{w.env.bot.user.mention} reply Found it, resent.")
    await d.deliver()
    assert shown(dm.last_message) == "Eve (Support): Found it, resent."
    assert post.id == thread.id


async def test_an_everyone_in_customer_text_pings_nobody(d: DiscordDesk) -> None:
    w = d.world
    await w.customer.send_dm("I need a human")
    await d.deliver()
    await w.customer.send_dm("@everyone my hub is dead <@&123456789012345678>")
    await d.deliver()
    post = w.agents.history()[0]
    assert "my hub is dead" in post.content
    assert "@everyone" not in post.content and "<@&" not in post.content
    assert post.mention_everyone is False and post.role_mentions == []
    request = last_request(w.env, "POST", rf"/channels/{w.agents.id}/messages$")
    assert request.json["allowed_mentions"] == {"parse": []}


async def test_buttons_on_old_posts_still_work_after_a_restart(d: DiscordDesk) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    old_client = d.adapter.client
    await d.restart()
    assert d.adapter.client is not old_client

    await w.dana.click(post, label="Claim")
    await d.deliver()
    assert "Dana from our team has joined" in shown(w.customer.dm_channel.last_message)
    opened = await w.dana.click(post, label="Reply")
    await w.dana.submit_modal(opened, {"text": "Still here after the restart."})
    await d.deliver()
    assert (
        shown(w.customer.dm_channel.last_message) == "Dana (Support): Still here after the restart."
    )


async def test_a_mention_in_a_support_channel_is_answered_in_a_thread_from_the_message(
    d: DiscordDesk,
) -> None:
    w = d.world
    asked = await w.member.send(w.support, f"{w.env.bot.user.mention} I forgot my password")
    await d.deliver()
    (thread,) = w.support.threads
    assert thread.id == asked.id
    bot_id = w.env.bot.user.id
    said_in_channel = [
        m for m in w.support.history() if m.author.id == bot_id and m.type == MessageType.default
    ]
    assert said_in_channel == []  # the channel stays clean: answers go to the thread
    answer = thread.last_message
    assert answer is not None and "Reset your password" in shown(answer)

    await w.member.click(answer, label="Talk to a person")  # no mention needed in our thread
    await d.deliver()
    assert "case #1" in shown(thread.last_message)
    assert "I forgot my password" in shown(w.agents.history()[0])


async def test_attachments_get_a_clear_refusal_and_bots_are_ignored(d: DiscordDesk) -> None:
    w = d.world
    mention = w.env.bot.user.mention
    await w.member.send(w.support, mention, attachments=[("crash.log", b"boom")])
    await d.deliver()
    (thread,) = w.support.threads
    assert "can't take attachments" in shown(thread.last_message)

    other_bot = w.guild.add_member(w.env.create_user("otherbot", bot=True))
    await other_bot.send(w.support, f"{mention} I forgot my password")
    await d.deliver()
    assert len(w.support.threads) == 1  # no thread, no answer for another bot


async def test_someone_without_the_agent_role_is_refused_privately_and_gets_no_form(
    d: DiscordDesk,
) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    seen_by_all = len(w.agents.history()) + len(w.agents.threads[0].history())

    claimed = await w.member.click(post, label="Claim")
    await d.deliver()
    (refusal,) = claimed.followups
    assert refusal.ephemeral and "only agents can do that" in refusal.content.lower()

    replying = await w.member.click(post, label="Reply")
    assert replying.modal is None  # no form to fill in only to be refused afterwards
    await d.deliver()
    (refusal,) = replying.followups
    assert refusal.ephemeral and "only agents can do that" in refusal.content.lower()

    assert len(w.agents.history()) + len(w.agents.threads[0].history()) == seen_by_all
    assert "unclaimed" in shown(w.agents.history()[0])


async def test_helpdesk_status_in_a_public_channel_is_answered_to_the_asker_only(
    d: DiscordDesk,
) -> None:
    w = d.world
    await w.member.send(w.support, f"{w.env.bot.user.mention} I need a human")
    await d.deliver()
    in_channel = len(w.support.history())

    asked = await w.member.slash(w.support, "helpdesk", command="status")
    await d.deliver()
    answer = asked.response  # the answer replaces the asker's "thinking…" placeholder
    assert answer is not None and answer.ephemeral
    assert "no cases" in answer.content or "#1" in answer.content
    assert len(w.support.history()) == in_channel  # nothing said for everyone to read
    assert w.customer.dm_channel.history() == []  # nor by DM: the command's own answer


async def test_the_helpdesk_app_command_works_for_customers_and_in_case_threads(
    d: DiscordDesk,
) -> None:
    await escalate_from_dm(d)
    w = d.world
    dm = w.customer.dm_channel
    (thread,) = w.agents.threads

    result = await w.dana.slash(thread, "helpdesk", command="reply Your link is in your inbox.")
    assert result.acknowledged
    await d.deliver()
    assert shown(dm.last_message) == "Dana (Support): Your link is in your inbox."
    assert all("thinking" not in m.content for m in thread.history())

    await w.customer.slash("helpdesk", command="status")
    await d.deliver()
    assert "#1" in shown(dm.last_message) and "I forgot my password" in shown(dm.last_message)


async def test_a_customer_who_closed_their_dms_is_marked_unreachable_and_not_retried(
    d: DiscordDesk,
) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    dm = w.customer.dm_channel
    close_dms(w.env, dm.id)

    def posts_to_dm() -> int:
        to_dm = re.compile(rf"/channels/{dm.id}/messages$")
        return sum(1 for r in w.env.http_requests if r.method == "POST" and to_dm.search(r.path))

    before = posts_to_dm()
    await w.dana.click(post, label="Claim")
    await d.deliver()
    opened = await w.dana.click(post, label="Reply")
    await w.dana.submit_modal(opened, {"text": "Are you still there?"})
    await d.deliver()
    assert posts_to_dm() - before == 1  # refused once (50007), then never tried again
    async with d.helpdesk.sessions() as session:
        blocked = await session.scalar(
            select(DialogSession.blocked_at).where(DialogSession.conversation == f"discord:{dm.id}")
        )
    assert blocked is not None


async def test_a_closed_case_archives_and_locks_its_thread(d: DiscordDesk) -> None:
    await escalate_from_dm(d)
    w = d.world
    (thread,) = w.agents.threads
    await w.customer.send_dm("/close")
    await d.deliver()
    assert "closed" in shown(w.customer.dm_channel.last_message).lower()
    assert any("closed" in shown(m).lower() for m in thread.history())  # told, then archived
    closed = await w.env.bot.fetch_channel(thread.id)
    assert isinstance(closed, discord.Thread) and closed.archived and closed.locked


async def test_an_agents_own_markdown_reaches_the_customer_as_written(d: DiscordDesk) -> None:
    await escalate_from_dm(d)
    w = d.world
    (thread,) = w.agents.threads
    await w.eve.send(thread, "/reply Run **Reset all** then `helpdesk sync` — @everyone is fine")
    await d.deliver()
    said = w.customer.dm_channel.last_message
    assert said is not None
    assert said.content.startswith("Eve (Support): Run **Reset all** then `helpdesk sync`")
    assert said.mention_everyone is False and "@everyone" not in said.content  # still no ping


async def test_a_refusal_after_the_click_token_expired_comes_by_dm_or_in_the_channel(
    d: DiscordDesk,
) -> None:
    post = await escalate_from_dm(d)
    w = d.world
    expired = {"status": 401, "code": 50027, "message": "Invalid Webhook Token"}

    w.env.inject_error("POST", "/webhooks/*", **expired)  # delivered after 15 minutes
    await w.member.click(post, label="Claim")
    await d.deliver()
    assert "only agents can do that" in shown(w.customer.dm_channel.last_message).lower()

    close_dms(w.env, w.customer.dm_channel.id)
    w.env.inject_error("POST", "/webhooks/*", **expired)
    await w.member.click(post, label="Claim")
    await d.deliver()
    said = [shown(m) for m in [*w.agents.history(), *w.agents.threads[0].history()]]
    assert any("only agents can do that" in s.lower() for s in said)  # not silence


async def test_gateway_reconnects_are_counted(d: DiscordDesk) -> None:
    """The gateway session resumed after a drop: one reconnect on the metrics."""

    def reconnects() -> float:
        found = REGISTRY.get_sample_value(
            "helpdesk_adapter_reconnects_total", {"platform": "discord"}
        )
        return found or 0.0

    before = reconnects()
    gateway = d.adapter.client.ws._gateway  # the stand-in's gateway (no public handle)
    gateway.feed("RESUMED", {})
    await d.world.env.settle()
    assert reconnects() == before + 1
