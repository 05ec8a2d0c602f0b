"""Articles from Slack: ``@bot kb add`` offers the article form, the click opens the modal
through the real slack-bolt app against the stand-in (which refuses what Slack refuses in a
modal), and the ``view_submission`` in Slack's wire format saves a draft. A plain agent's
forged submission is refused privately and saves nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.storage.models import Article
from tests.support.slack_api import Call, SlackStandIn, load_fixture
from tests.support.slack_desk import AGENTS, SlackDesk, running_slack_desk

ADMIN, AGENT = "U0EVE", "U0DANA"


def admins_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(slack=[AGENT, ADMIN]), admins=RoleMembers(slack=[ADMIN])),
        queues=[QueueConfig(name="default", channel=f"slack:{AGENTS}")],
    )


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    stand_in.users.update({"U0ADA": "Ada", AGENT: "Dana", ADMIN: "Eve"})
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
async def d(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> AsyncIterator[SlackDesk]:
    async with running_slack_desk(migrated_url, clock, tmp_path, slack, desk=admins_desk()) as desk:
        yield desk


def shown(call: Call) -> dict[str, Any]:
    """What the bot posted, with the message's ts (to click its buttons)."""
    return {**call.args, "ts": call.response["ts"]}


def submission(view: dict[str, Any], user: str, **values: str) -> dict[str, Any]:
    """Slack's ``view_submission`` of the opened modal, with what ``user`` typed."""
    body = load_fixture("view_submission")
    body["user"].update(id=user, username=user.lower(), name=user.lower())
    body["view"].update(
        id="V0ARTICLE01",
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
        title=view["title"],
    )
    body["view"]["state"]["values"] = {
        block["block_id"]: {
            block["element"]["action_id"]: {
                "type": "plain_text_input",
                "value": values.get(block["block_id"]),
            }
        }
        for block in view["blocks"]
    }
    return body


async def test_an_admin_writes_a_draft_in_the_slack_modal(d: SlackDesk) -> None:
    await d.slack.deliver("events_api", d.mention("kb add", channel=AGENTS, user=ADMIN))
    await d.drain()
    offer = d.slack.posts(AGENTS)[-1]
    click = d.click(shown(offer), "Write the article", user=ADMIN, channel=AGENTS)
    await d.slack.deliver("interactive", click)
    (opened,) = [c for c in d.slack.calls if c.method == "views.open"]
    assert opened.response["ok"], opened.response  # the stand-in checks Slack's modal limits
    view = opened.args["view"]
    assert opened.args["trigger_id"] == click["trigger_id"]
    assert [b["block_id"] for b in view["blocks"]] == ["title", "body", "questions"]

    typed = {
        "title": "Gift cards & vouchers",
        "body": "Gift cards never expire.\n\n## Lost card\n\nWe can send <a new one>.",
        "questions": "do gift cards expire?\nI lost my gift card",
    }
    await d.slack.deliver("interactive", submission(view, ADMIN, **typed))
    await d.drain()
    said = [c.args["text"] for c in d.slack.private_posts(ADMIN) + d.slack.posts(AGENTS)]
    assert any("Saved as draft 'gift-cards-vouchers'" in text for text in said), said
    async with d.helpdesk.sessions() as session:
        article = await session.scalar(select(Article).where(Article.slug == "gift-cards-vouchers"))
    assert article is not None
    assert (article.status, article.title, article.body, article.questions) == (
        "draft",
        "Gift cards & vouchers",
        typed["body"],
        ["do gift cards expire?", "I lost my gift card"],
    )


async def test_a_plain_agents_article_form_is_refused_privately(d: SlackDesk) -> None:
    await d.slack.deliver("events_api", d.mention("kb add", channel=AGENTS, user=ADMIN))
    await d.drain()
    offer = d.slack.posts(AGENTS)[-1]
    await d.slack.deliver(
        "interactive", d.click(shown(offer), "Write the article", user=ADMIN, channel=AGENTS)
    )
    (opened,) = d.slack.calls_to("views.open")
    forged = submission(opened["view"], AGENT, title="Spam", body="Buy things.")
    await d.slack.deliver("interactive", forged)
    await d.drain()
    assert [c.args["text"] for c in d.slack.private_posts(AGENT)] == [
        "Sorry, only administrators can do that."
    ]
    assert not any("Spam" in c.args.get("text", "") for c in d.slack.posts(AGENTS))
    async with d.helpdesk.sessions() as session:
        assert (await session.scalars(select(Article.slug))).all() == []
