"""SLA due times through business hours, and the pause while a case waits on the customer
(pure: cases in memory, a Berlin office calendar, times set by hand)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import BusinessHours, SlaConfig, SlaTarget
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.storage.models import Case

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.from_config(BusinessHours(timezone="Europe/Berlin"))  # Mon–Fri 9–17
POLICY = SlaConfig(
    policies={"normal": SlaTarget(first_response_hours=4, resolution_hours=16)},
    queues={"vip": {"normal": SlaTarget(first_response_hours=1, resolution_hours=4)}},
)


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=BERLIN)


def new_case(opened: datetime, queue: str = "default", priority: str = "normal") -> Case:
    case = Case(queue=queue, priority=priority, status="new", created_at=opened)
    case.sla_paused_seconds = 0
    sla.start_clock(case, POLICY, OFFICE, opened)
    return case


def test_due_times_count_only_office_hours() -> None:
    case = new_case(berlin(5, 10))  # Monday 10:00
    assert case.first_response_due_at == berlin(5, 14)
    # 16 h: Monday 7 h, Tuesday 8 h, Wednesday 1 h
    assert case.resolution_due_at == berlin(7, 10)


def test_a_queue_can_have_tighter_targets() -> None:
    case = new_case(berlin(5, 16, 30), queue="vip")
    assert case.first_response_due_at == berlin(6, 9, 30)
    assert case.resolution_due_at == berlin(6, 12, 30)


def test_an_unknown_priority_falls_back_to_normal() -> None:
    assert new_case(berlin(5, 10), priority="weird").first_response_due_at == berlin(5, 14)


def test_pending_moves_the_due_times_out_by_the_paused_time() -> None:
    case = new_case(berlin(5, 10))
    sla.pause(case, berlin(5, 11))  # 3 h of the first response target left, 15 h of resolution
    assert case.pending_since == berlin(5, 11)
    sla.resume(case, OFFICE, berlin(6, 15))  # Tuesday 15:00
    assert case.sla_paused_at is None and case.pending_since is None
    assert case.sla_paused_seconds == 28 * 3600
    assert case.first_response_due_at == berlin(7, 10)  # Tue 2 h + Wed 1 h
    assert case.resolution_due_at == berlin(8, 14)  # Tue 2 h + Wed 8 h + Thu 5 h


def test_a_pause_over_the_weekend_costs_nothing() -> None:
    case = new_case(berlin(9, 16))  # Friday 16:00: first response due Monday 12:00
    assert case.first_response_due_at == berlin(12, 12)
    sla.pause(case, berlin(9, 17, 30))  # after hours on Friday …
    sla.resume(case, OFFICE, berlin(11, 20))  # … to Sunday evening: no office time passed
    assert case.first_response_due_at == berlin(12, 12)
    sla.pause(case, berlin(12, 9, 30))  # Monday 09:30 to 10:00: half an hour of it
    sla.resume(case, OFFICE, berlin(12, 10))
    assert case.first_response_due_at == berlin(12, 12, 30)


def test_pausing_twice_keeps_the_first_pause_and_resume_without_pause_changes_nothing() -> None:
    case = new_case(berlin(5, 10))
    due = case.first_response_due_at
    sla.resume(case, OFFICE, berlin(5, 12))
    assert case.first_response_due_at == due
    sla.pause(case, berlin(5, 11))
    sla.pause(case, berlin(5, 12))
    assert case.sla_paused_at == berlin(5, 11)


def test_a_breach_before_the_pause_stays_a_breach() -> None:
    case = new_case(berlin(5, 10))
    sla.pause(case, berlin(5, 15))  # the first response was due at 14:00
    sla.resume(case, OFFICE, berlin(6, 10))
    assert case.first_response_due_at == berlin(5, 14)


def test_raising_the_priority_retargets_from_the_opening() -> None:
    case = new_case(berlin(5, 10))
    case.queue = "vip"
    sla.retarget(case, POLICY, OFFICE)
    assert case.first_response_due_at == berlin(5, 11)
    assert case.resolution_due_at == berlin(5, 14)
