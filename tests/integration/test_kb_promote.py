"""The guided prompt as the terminal sends it (every agent line a command), and ``kb promote
N``: an agent's answer in a resolved case becomes a draft article — the
case's subject its title, the agent's replies its answer, the customer's words its example
questions — and it is not answered before an admin publishes it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.messages import InboundKind
from bot.storage.models import Article, AuditEntry
from tests.support.desk import Transcript, build_transcript

AGENTS = "fake:agents"


def desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(fake=["dana", "root"]), admins=RoleMembers(fake=["root"])),
        queues=[QueueConfig(name="default", channel=AGENTS)],
        answer_threshold=0.5,
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk())
    yield transcript
    await transcript.helpdesk.close()


async def admin(t: Transcript, text: str) -> list[str]:
    return await t.agent(text, user="root", name="Root", kind=InboundKind.MESSAGE)


async def test_a_resolved_cases_answer_becomes_a_draft(t: Transcript) -> None:
    await t.say("I want a human")
    await t.say("my gift card code is rejected at checkout")
    await t.agent("claim 1", channel=AGENTS)
    refused = await admin(t, "/kb promote 1")
    assert refused == ["Only a resolved case can become an article: its answer has to be final."]

    await t.agent("reply 1 Gift card codes are case-sensitive: type them in capitals.")
    await t.agent("resolve 1", channel=AGENTS)
    said = await admin(t, "/kb promote 1")
    assert said[0].startswith("Case #1's answer is now draft '")
    slug = said[0].split("'")[-2]
    assert "Gift card codes are case-sensitive" in said[1] and "(draft, revision 1)" in said[1]

    async with t.helpdesk.sessions() as session:
        article = await session.scalar(select(Article).where(Article.slug == slug))
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.target == slug))
    assert article is not None and audit is not None
    assert (article.status, article.source_path) == ("draft", "case:1")
    assert article.body == "Gift card codes are case-sensitive: type them in capitals."
    assert "my gift card code is rejected at checkout" in article.questions
    assert (audit.action, audit.actor, audit.platform) == (
        "article.add",
        "fake:root (Root)",
        "fake",
    )


async def test_promote_is_for_admins_only(t: Transcript) -> None:
    assert await t.agent("kb promote 1", channel=AGENTS) == [
        "Sorry, only administrators can do that."
    ]


async def test_the_terminal_guided_prompt_saves_a_draft(t: Transcript) -> None:
    """``helpdesk chat`` sends every ``/agent …`` line as a command: the prompt's answers too."""

    async def line(text: str) -> list[str]:
        return await t.agent(text, user="root", name="Root", kind=InboundKind.COMMAND)

    assert "title" in (await line("kb add"))[0]
    assert "answer" in (await line("Opening hours"))[0]
    assert "questions" in (await line("We are open 9 to 5 on weekdays."))[0]
    saved = await line("none")
    assert saved[0].startswith("Saved as draft 'opening-hours'")
    assert "We are open 9 to 5 on weekdays." in saved[1]
    assert "I don't know the command" in (await line("Opening hours"))[0], "the prompt is over"
