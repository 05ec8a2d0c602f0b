"""Knowledge gaps from recorded signals, through the real encoder, on SQLite and PostgreSQL:
a small seeded set whose right groups are known comes out grouped that way and ranked, with
last period's count beside each; ``helpdesk kb gaps --json`` prints the same."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cli import app
from bot.reports.gap_signals import texts_of
from bot.reports.gaps import top_gaps
from bot.storage.models import AnswerFeedback, Case, Customer, MissedQuestion

UNTIL = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)
# the right groups, largest first; each question asked once this week
TOPICS = {
    "recycling": [
        "how do I recycle old bulbs",
        "can I send you my dead bulbs for recycling",
        "do you take back old electronics for recycling",
        "is there a recycling scheme for your products",
    ],
    "gift cards": [
        "do you sell gift cards",
        "can I buy a gift voucher for my brother",
        "how do I redeem a gift card",
    ],
    "dark mode": [
        "does the app have dark mode",
        "how do I turn on night theme in the app",
        "dark theme option?",
    ],
    "students": ["is there a student discount", "do you do discounts for students"],
    "fonts": ["what font does your website use"],
}


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """The questions of ``TOPICS`` this week — missed questions, one answer said not to help,
    one request that became a case — and one recycling question the week before."""
    async with sessions() as s:
        customer = Customer(display_name="", created_at=SINCE)
        s.add(customer)
        await s.flush()
        questions = [q for topic in TOPICS.values() for q in topic]
        for n, text in enumerate(questions):
            at = SINCE + timedelta(hours=n + 1)
            if text == TOPICS["gift cards"][1]:
                s.add(
                    AnswerFeedback(
                        conversation=f"fake:dm-{n}",
                        query=text,
                        article_slug="refund-timing",
                        score=0.6,
                        helpful=False,
                        created_at=at,
                        answered_at=at,
                    )
                )
            elif text == TOPICS["students"][1]:
                s.add(_case(customer.id, f"fake:dm-{n}", text, at))
            else:
                s.add(MissedQuestion(conversation=f"fake:dm-{n}", text=text, created_at=at))
        s.add(
            MissedQuestion(
                conversation="fake:dm-old",
                text="where can I recycle a broken hub",
                created_at=SINCE - timedelta(days=2),
            )
        )
        s.add(MissedQuestion(conversation="fake:dm-gone", text="", created_at=SINCE))  # erased
        await s.commit()
    return sessions


def _case(customer_id: int, conversation: str, subject: str, at: datetime) -> Case:
    return Case(
        customer_id=customer_id,
        conversation=conversation,
        subject=subject,
        origin_platform="fake",
        created_at=at,
        updated_at=at,
    )


async def test_the_known_groups_come_out_ranked_with_their_trend(
    seeded: async_sessionmaker[AsyncSession], embedder: Any
) -> None:
    async with seeded() as s:
        gaps = await top_gaps(s, since=SINCE, until=UNTIL, limit=10, encoder=embedder)
        grouped = [sorted(await texts_of(s, g.keys)) for g in gaps]

    assert grouped == [sorted(topic) for topic in TOPICS.values()]
    recycling, gift_cards, _, students, _ = gaps
    assert [g.rank for g in gaps] == [1, 2, 3, 4, 5]
    assert (recycling.count, recycling.previous, recycling.trend) == (4, 1, "up")
    assert gift_cards.kinds == {"missed": 2, "unhelpful": 1} and gift_cards.trend == "new"
    assert students.kinds == {"missed": 1, "case": 1} and len(students.cases) == 1
    assert all(len(g.examples) <= 3 for g in gaps)


async def test_helpdesk_kb_gaps_prints_them(
    seeded: async_sessionmaker[AsyncSession], migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("HELPDESK_ENCODER", "torch")  # no ONNX export made for one test
    since, until = SINCE.isoformat(), UNTIL.isoformat()
    argv = ["kb", "gaps", "--since", since, "--until", until, "--limit", "2", "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, app, argv)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [g["rank"] for g in document["gaps"]] == [1, 2]
    first = document["gaps"][0]
    assert (first["count"], first["previous"], first["trend"]) == (4, 1, "up")
    assert set(first["examples"]) <= set(TOPICS["recycling"]) and len(first["examples"]) == 3

    text = await asyncio.to_thread(CliRunner().invoke, app, argv[:-1])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "Knowledge gaps 2025-12-29 09:00 – 2026-01-05 09:00 UTC"
    assert lines[1].startswith("1. 4× (▲ from 1) “how do I recycle old bulbs”")
    assert lines[2].startswith("2. 3× (new) “do you sell gift cards”")

    bad = await asyncio.to_thread(CliRunner().invoke, app, ["kb", "gaps", "--since", "last week"])
    assert bad.exit_code == 2 and "'last week' is not a date or time" in bad.output
