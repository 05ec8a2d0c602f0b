"""``/metrics`` after a short working day on the desk (fake channels, SQLite and PostgreSQL):
what an operator's Prometheus would read. Counters belong to the process, so each test reads
them before and after and asserts the difference; the database-wide gauges are absolute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.bootstrap import job_uow_factory
from bot.clock import FrozenClock
from bot.config import DeskConfig, SlaConfig, SlaTarget
from bot.dialogs.sla_notices import run_sla_check
from bot.dialogs.understanding import Understanding
from bot.errors import PermanentSendError, RetryableSendError
from bot.escalation.sla_clock import CaseSlaClock
from bot.messages import ChannelRef
from bot.reports.metrics import Span, collect
from bot.reports.scrape import assumed_deflections
from bot.reports.seed import seed_demo
from bot.storage.uow import UnitOfWorkFactory
from bot.web import create_web_app
from tests.support.desk import KeywordUnderstander, Transcript, build_transcript, test_desk

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class FailsOnBoom(KeywordUnderstander):
    """Understands like the keyword understander, and fails on "boom" (a broken dependency)."""

    async def understand(self, text: str) -> Understanding:
        if "boom" in text:
            raise RuntimeError("the encoder is gone")
        return await super().understand(text)


def sla_desk() -> DeskConfig:
    sla = SlaConfig.model_validate(
        {"policies": {"normal": SlaTarget(first_response_hours=1, resolution_hours=4)}}
    )
    return test_desk().model_copy(update={"sla": sla})


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(
        migrated_url, clock, tmp_path, desk=sla_desk(), understander=FailsOnBoom()
    )
    yield transcript
    await transcript.helpdesk.close()


async def scrape(t: Transcript) -> Samples:
    app = create_web_app(t.helpdesk.channels, t.helpdesk.readiness(), t.helpdesk.metrics())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_a_question_a_handoff_a_claim_and_a_resolve(t: Transcript) -> None:
    before = await scrape(t)
    await t.say("I forgot my password")  # answered from the knowledge base
    await t.click("Talk to a person")  # the case opens
    await t.agent("claim 1")
    await t.agent("resolve 1")
    after = await scrape(t)

    assert (
        grown(before, after, "helpdesk_inbound_messages_total", platform="fake", kind="message")
        == 1
    )
    assert (
        grown(before, after, "helpdesk_inbound_messages_total", platform="fake", kind="action") == 1
    )
    assert (
        grown(before, after, "helpdesk_inbound_messages_total", platform="fake", kind="command")
        == 2
    )
    assert grown(before, after, "helpdesk_cases_total", event="opened") == 1
    assert grown(before, after, "helpdesk_cases_total", event="claimed") == 1
    assert grown(before, after, "helpdesk_cases_total", event="resolved") == 1
    assert grown(before, after, "helpdesk_answer_seconds_count", side="customer") == 2
    assert grown(before, after, "helpdesk_answer_seconds_count", side="agent") == 2
    assert grown(before, after, "helpdesk_outbox_sends_total", platform="fake", outcome="sent") >= 4
    assert value(after, "helpdesk_outbox_depth") == 0
    assert value(after, "helpdesk_outbox_parked") == 0
    assert value(after, "helpdesk_metrics_database_read") == 1


async def test_a_redelivered_event_is_counted_once(t: Transcript) -> None:
    before = await scrape(t)
    inbound = t._inbound(text="hello", event_id="same-event")
    assert await t.helpdesk.intake.receive(inbound)
    assert not await t.helpdesk.intake.receive(inbound)
    after = await scrape(t)
    assert (
        grown(before, after, "helpdesk_inbound_messages_total", platform="fake", kind="message")
        == 1
    )


async def test_deflections_confirmed_at_once_and_assumed_after_a_day(
    t: Transcript, clock: FrozenClock
) -> None:
    before = await scrape(t)
    await t.say("how do I reset my password?")
    await t.click("That helped")  # confirmed
    bea = ChannelRef("fake", "dm-bea")
    await t.say("what does delivery cost?", channel=bea, user_id="bea")  # left unanswered
    after = await scrape(t)
    assert grown(before, after, "helpdesk_deflections_confirmed_total") == 1
    assert value(after, "helpdesk_deflections_assumed") == 0  # undecided for 24 h

    clock.advance(hours=24)
    assert value(await scrape(t), "helpdesk_deflections_assumed") == 1


async def test_a_question_that_opens_a_case_is_no_assumed_deflection(
    t: Transcript, clock: FrozenClock
) -> None:
    await t.say("I forgot my password")
    await t.click("Talk to a person")
    clock.advance(hours=25)
    assert value(await scrape(t), "helpdesk_deflections_assumed") == 0


async def test_sla_alerts_and_outbox_trouble(t: Transcript, clock: FrozenClock) -> None:
    before = await scrape(t)
    await t.say("I need a human")
    await t.say("my hub is dead")
    check = job_uow_factory(t.helpdesk)
    clock.advance(minutes=45)  # 75 % of the hour to first response
    await run_sla_check(check, t.helpdesk.desk)
    await t.helpdesk.sender.drain()
    clock.advance(minutes=16)  # past it
    fake = t.channels["fake"]
    fake.failures.append(RetryableSendError("rate limited", retry_after=30))
    await run_sla_check(check, t.helpdesk.desk)
    await t.helpdesk.sender.drain()
    during = await scrape(t)
    assert value(during, "helpdesk_outbox_depth") >= 1  # the retried row waits its turn

    fake.failures.append(PermanentSendError("channel_not_found"))
    clock.advance(minutes=1)
    await t.helpdesk.sender.drain()
    after = await scrape(t)

    warnings = grown(
        before, after, "helpdesk_sla_alerts_total", stage="warning", target="first_response"
    )
    breaches = grown(
        before, after, "helpdesk_sla_alerts_total", stage="breach", target="first_response"
    )
    assert (warnings, breaches) == (1, 1)
    assert (
        grown(before, after, "helpdesk_outbox_sends_total", platform="fake", outcome="retry") == 1
    )
    assert (
        grown(before, after, "helpdesk_outbox_sends_total", platform="fake", outcome="parked") == 1
    )
    assert value(after, "helpdesk_outbox_parked") == 1


async def test_a_failing_inbound_is_counted_for_retry(t: Transcript) -> None:
    before = await scrape(t)
    await t.say("boom")
    after = await scrape(t)
    assert grown(before, after, "helpdesk_inbox_failures_total", outcome="retry") == 1
    assert value(after, "helpdesk_inbox_failed") == 0  # not given up on yet


async def test_the_assumed_deflections_gauge_agrees_with_the_digest_on_a_seeded_history(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The one-query count over all time and the digest's own rule (``collect``) must agree,
    on both databases' date arithmetic."""
    until = datetime(2026, 3, 2, tzinfo=UTC)
    async with uow_factory() as uow:
        await seed_demo(uow, until=until, weeks=2)
        await uow.commit()
    now = until + timedelta(days=3)
    async with uow_factory() as uow:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        span = Span(since, now, since, "UTC")
        digest = await collect(uow, span, CaseSlaClock.of(test_desk()))
        gauge = await assumed_deflections(uow.session, now)
    assert digest.deflection.assumed > 0
    assert gauge == digest.deflection.assumed
