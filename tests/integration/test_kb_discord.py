"""Articles from Discord: ``/kb add`` in the agents' channel offers the article form, the
click answers with the modal (discord.py's real client against SimCord, which holds modals to
Discord's limits), and the submission in Discord's wire format saves a draft. A plain agent's
click opens no article form. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.storage.models import Article
from tests.support.discord_sim import DiscordDesk, DiscordWorld, running_discord_desk, shown


def admins_desk(world: DiscordWorld) -> DeskConfig:
    """Dana is an agent; Eve an agent and the admin."""
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(discord=[str(world.dana.id), str(world.eve.id)]),
            admins=RoleMembers(discord=[str(world.eve.id)]),
        ),
        queues=[QueueConfig(name="default", channel=f"discord:{world.agents.id}")],
    )


@pytest.fixture
async def d(
    world: DiscordWorld, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[DiscordDesk]:
    async with running_discord_desk(
        world, migrated_url, clock, tmp_path, desk=admins_desk(world)
    ) as built:
        yield built


async def test_an_admin_writes_a_draft_in_the_discord_modal(d: DiscordDesk) -> None:
    w = d.world
    await w.eve.send(w.agents, "/kb add")
    await d.deliver()
    offer = w.agents.last_message
    assert offer is not None and "form" in shown(offer)

    opened = await w.eve.click(offer, label="Write the article")
    assert opened.modal is not None  # the modal is the first answer to the click
    body = "Gift cards never expire.\n\n## Lost card\n\nWe send a new one."
    await w.eve.submit_modal(
        opened,
        {"title": "Gift cards", "body": body, "questions": "do gift cards expire?\nlost card"},
    )
    await d.deliver()
    assert any("Saved as draft 'gift-cards'" in shown(m) for m in w.agents.history())
    async with d.helpdesk.sessions() as session:
        article = await session.scalar(select(Article).where(Article.slug == "gift-cards"))
    assert article is not None
    assert (article.status, article.body, article.questions) == (
        "draft",
        body,
        ["do gift cards expire?", "lost card"],
    )


async def test_a_plain_agent_gets_no_article_form(d: DiscordDesk) -> None:
    w = d.world
    await w.eve.send(w.agents, "/kb add")
    await d.deliver()
    offer = w.agents.last_message
    assert offer is not None
    clicked = await w.dana.click(offer, label="Write the article")
    assert clicked.modal is None
    await d.deliver()
    async with d.helpdesk.sessions() as session:
        assert (await session.scalars(select(Article.slug))).all() == []
