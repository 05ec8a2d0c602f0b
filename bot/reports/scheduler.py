"""The scheduler: manager digests on their schedule, the SLA check every minute and the
retention policy once a day (and once at start).

APScheduler's job stores must never be shared between schedulers, so every process keeps its
own in-memory schedule, and every digest run first claims a unique ``(job, period)`` row in
``job_runs`` — an INSERT in the same transaction that writes the digest to the outbox. Of two
processes the one whose INSERT wins posts; the other gets an ``IntegrityError`` and does
nothing. If the winner fails half-way its transaction rolls back, claim included, so the period
is still open for the next try.

A run missed while no scheduler was up is caught up once: ``catch_up()`` on start runs each
digest for its most recent scheduled time (a no-op when that period's row exists), and the
APScheduler jobs coalesce misfires within a grace time. The period a run covers comes from the
scheduled time, never from when it happened to run.

The job functions (``run_digest``, the injected SLA check) are plain coroutines, so tests call
them directly with a ``FrozenClock``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.config import WEEKDAYS, DeskConfig
from bot.messages import ChannelRef, Outbound
from bot.reports.digest import Digest, build_digest, window
from bot.reports.gaps import Encoder
from bot.reports.metrics import SlaClock
from bot.storage.models import JobRun
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600
RETENTION_AT = time(3, 17)  # local: a quiet hour, off the round ones other jobs pick


async def claim_run(uow: UnitOfWork, job: str, period: str, owner: str) -> JobRun | None:
    """Claim ``(job, period)`` as the first statement of the transaction; None when another
    process holds it. (First, so SQLite takes its write lock before reading anything.)"""
    run = JobRun(job=job, period=period, owner=owner, claimed_at=uow.clock.now(), result={})
    uow.session.add(run)
    try:
        await uow.session.flush()
    except IntegrityError:
        await uow.session.rollback()
        return None
    return run


@dataclass(frozen=True)
class DigestSchedule:
    period: str  # day | week
    weekday: int | None  # 0 = Monday, for weekly digests
    at: time

    @classmethod
    def parse(cls, period: str, text: str) -> DigestSchedule:
        day, _, clock_time = text.strip().rpartition(" ")
        hours, minutes = (int(part) for part in clock_time.split(":"))
        weekday = WEEKDAYS.index(day.lower()) if day else None
        return cls(period, weekday, time(hours % 24, minutes))

    @property
    def job(self) -> str:
        return f"digest:{self.period}"

    def last_fire(self, now: datetime, timezone: str) -> datetime:
        """The most recent scheduled time at or before ``now`` (aware, local)."""
        tz = ZoneInfo(timezone)
        local = now.astimezone(tz)
        candidate = datetime.combine(local.date(), self.at, tz)
        if self.weekday is not None:
            candidate -= timedelta(days=(local.weekday() - self.weekday) % 7)
        step = timedelta(days=7 if self.weekday is not None else 1)
        while candidate > local:
            candidate = datetime.combine((candidate - step).date(), self.at, tz)
        return candidate

    def trigger_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"hour": self.at.hour, "minute": self.at.minute}
        if self.weekday is not None:
            fields["day_of_week"] = WEEKDAYS[self.weekday]
        return fields


def digest_schedules(desk: DeskConfig) -> list[DigestSchedule]:
    schedules = []
    if desk.digests.daily:
        schedules.append(DigestSchedule.parse("day", desk.digests.daily))
    if desk.digests.weekly:
        schedules.append(DigestSchedule.parse("week", desk.digests.weekly))
    return schedules


class DeskScheduler:
    """One process's schedule. ``owner`` names the process in the ``job_runs`` rows."""

    def __init__(
        self,
        *,
        desk: DeskConfig,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        owner: str,
        chart_dir: Path,
        sla_clock: SlaClock,
        sla_check: Callable[[], Awaitable[object]] | None = None,
        digests: bool = True,
        retention: Callable[[], Awaitable[object]] | None = None,
        gaps_encoder: Encoder | None = None,
    ) -> None:
        self._gaps_encoder = gaps_encoder  # the weekly digest's knowledge gaps group by it
        self._desk = desk
        self._uow_factory = uow_factory
        self._clock = clock
        self._owner = owner
        self._chart_dir = chart_dir
        self._sla_check = sla_check
        self._sla_clock = sla_clock
        self._retention = retention
        self._timezone = desk.digest_timezone
        # ``digests=False``: the SLA check alone (``helpdesk chat`` posts no digests)
        self._schedules = digest_schedules(desk) if desk.digest_channels and digests else []
        self._scheduler: Any = None

    @property
    def schedules(self) -> list[DigestSchedule]:
        return list(self._schedules)

    async def run_digest(self, period: str) -> Digest | None:
        """Post the digest for ``period``'s most recent scheduled time, unless another run (in
        this process or another) already claimed it. Returns the digest when this run posted."""
        schedule = next(s for s in self._schedules if s.period == period)
        async with self._uow_factory() as uow:
            fired = schedule.last_fire(uow.clock.now(), self._timezone)
            digest = await self._digest_for(uow, schedule, fired)
            if digest is not None:
                await uow.commit()
        if digest is not None:
            logger.info("posted the %s digest for %s", period, digest.window.key)
        return digest

    async def _digest_for(
        self, uow: UnitOfWork, schedule: DigestSchedule, fired: datetime
    ) -> Digest | None:
        span = window(schedule.period, fired, self._timezone)
        run = await claim_run(uow, schedule.job, span.key, self._owner)
        if run is None:
            return None
        chart = self._chart_dir / f"digest-{schedule.period}-{span.key}.png"
        digest = await build_digest(
            uow,
            schedule.period,
            fired,
            self._timezone,
            sla=self._sla_clock,
            chart_path=chart,
            gaps_encoder=self._gaps_encoder,
        )
        # The chart goes as a file where the platform takes files (Slack uploads it); its path
        # on this server means nothing to readers, so the text leaves it out.
        for channel in self._desk.digest_channels:
            uow.send(
                Outbound(
                    channel=ChannelRef.parse(channel),
                    text=digest.text,
                    file_path=str(digest.chart or ""),
                )
            )
        run.result = {
            "channels": self._desk.digest_channels,
            "chart": str(chart),
            # the posted figures: ``helpdesk digest --now --as-of <fired>`` reproduces them
            "as_of": fired.astimezone(UTC).isoformat(),
            "metrics": digest.metrics.to_dict(),
            "text": digest.text,
        }
        run.finished_at = uow.clock.now()
        return digest

    async def catch_up(self) -> list[Digest]:
        """On start: post any digest whose latest scheduled time passed while we were down, and
        apply the retention policy (a day without a scheduler must not keep data longer)."""
        await self.retention()
        posted = []
        for schedule in self._schedules:
            digest = await self._guarded(self.run_digest, schedule.period)
            if digest is not None:
                posted.append(digest)
        return posted

    async def retention(self) -> None:
        if self._retention is not None:
            await self._guarded(self._retention)

    async def sla_check(self) -> None:
        if self._sla_check is not None:
            await self._guarded(self._sla_check)

    async def _guarded(self, job: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """The error boundary of one job run: log the traceback, keep the schedule going."""
        try:
            return await job(*args)
        except Exception:
            logger.exception("scheduled job %s%s failed", getattr(job, "__name__", job), args)
            return None

    def start(self) -> None:
        """Start APScheduler on the running event loop."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = AsyncIOScheduler(
            timezone=ZoneInfo(self._timezone),
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
        )
        for schedule in self._schedules:
            scheduler.add_job(
                self._guarded,
                CronTrigger(timezone=ZoneInfo(self._timezone), **schedule.trigger_fields()),
                args=(self.run_digest, schedule.period),
                id=schedule.job,
            )
        if self._sla_check is not None:
            scheduler.add_job(
                self.sla_check,
                IntervalTrigger(seconds=self._desk.sla.check_every_seconds),
                id="sla-check",
                misfire_grace_time=self._desk.sla.check_every_seconds,
            )
        if self._retention is not None:
            scheduler.add_job(
                self.retention,
                CronTrigger(
                    timezone=ZoneInfo(self._timezone),
                    hour=RETENTION_AT.hour,
                    minute=RETENTION_AT.minute,
                ),
                id="retention",
            )
        scheduler.start()
        self._scheduler = scheduler

    def next_runs(self) -> dict[str, datetime]:
        """When each job runs next (after ``start``)."""
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
