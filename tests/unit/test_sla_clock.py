"""SLA due times derived from a case's history through business hours (pure: histories written
by hand, a Berlin office calendar Mon–Fri 09–17; 5 January 2026 is a Monday)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import BusinessHours, SlaConfig, SlaTarget
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.escalation.sla_clock import (
    CLAIMED,
    CLOSED,
    OPENED,
    PAUSED,
    REOPENED,
    RESOLVED,
    RESUMED,
    RETARGETED,
    UNCLAIMED,
    ClockEvent,
    DueTimes,
    due_times,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.from_config(BusinessHours(timezone="Europe/Berlin"))  # Mon–Fri 9–17
POLICY = SlaConfig(
    policies={"normal": SlaTarget(first_response_hours=4, resolution_hours=16)},
    queues={"vip": {"normal": SlaTarget(first_response_hours=1, resolution_hours=4)}},
)  # high keeps the defaults: 1 h / 8 h


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=BERLIN)


def opened(at: datetime, queue: str = "default", priority: str = "normal") -> ClockEvent:
    return ClockEvent(at, OPENED, queue=queue, priority=priority)


def clock(*history: ClockEvent) -> DueTimes:
    return due_times(history, POLICY, OFFICE)


def test_due_times_count_only_office_hours() -> None:
    times = clock(opened(berlin(5, 10)))  # Monday 10:00
    assert times.first_response_due_at == berlin(5, 14)
    # 16 h: Monday 7 h, Tuesday 8 h, Wednesday 1 h
    assert times.resolution_due_at == berlin(7, 10)


def test_a_queue_can_have_tighter_targets() -> None:
    times = clock(opened(berlin(5, 16, 30), queue="vip"))
    assert times.first_response_due_at == berlin(6, 9, 30)
    assert times.resolution_due_at == berlin(6, 12, 30)


def test_an_unknown_priority_falls_back_to_normal() -> None:
    times = clock(opened(berlin(5, 10), priority="weird"))
    assert times.first_response_due_at == berlin(5, 14)


def test_pending_moves_the_due_times_out_by_the_paused_time() -> None:
    start, pause = opened(berlin(5, 10)), ClockEvent(berlin(5, 11), PAUSED)
    while_paused = clock(start, pause)  # shown while waiting: as if it restarted at once
    assert while_paused.paused_at == berlin(5, 11)
    assert while_paused.first_response_due_at == berlin(5, 14)
    times = clock(start, pause, ClockEvent(berlin(6, 15), RESUMED))  # Tuesday 15:00
    assert times.paused_at is None and times.paused_seconds == 28 * 3600
    assert times.first_response_due_at == berlin(7, 10)  # Tue 2 h + Wed 1 h
    assert times.resolution_due_at == berlin(8, 14)  # Tue 2 h + Wed 8 h + Thu 5 h


def test_a_pause_over_the_weekend_costs_nothing() -> None:
    start = opened(berlin(9, 16))  # Friday 16:00: first response due Monday 12:00
    assert clock(start).first_response_due_at == berlin(12, 12)
    weekend = (ClockEvent(berlin(9, 17, 30), PAUSED), ClockEvent(berlin(11, 20), RESUMED))
    assert clock(start, *weekend).first_response_due_at == berlin(12, 12)
    monday = (ClockEvent(berlin(12, 9, 30), PAUSED), ClockEvent(berlin(12, 10), RESUMED))
    assert clock(start, *weekend, *monday).first_response_due_at == berlin(12, 12, 30)


def test_pausing_twice_keeps_the_first_pause_and_resume_without_pause_changes_nothing() -> None:
    start = opened(berlin(5, 10))
    assert clock(start, ClockEvent(berlin(5, 12), RESUMED)) == clock(start)
    twice = clock(start, ClockEvent(berlin(5, 11), PAUSED), ClockEvent(berlin(5, 12), PAUSED))
    assert twice.paused_at == berlin(5, 11)


def test_a_breach_before_the_pause_stays_a_breach() -> None:
    times = clock(
        opened(berlin(5, 10)),
        ClockEvent(berlin(5, 15), PAUSED),  # the first response was due at 14:00
        ClockEvent(berlin(6, 10), RESUMED),
    )
    assert times.first_response_due_at == berlin(5, 14)


def test_a_priority_change_counts_only_the_time_the_case_was_with_us() -> None:
    """Item 10: paused for a day, then raised to high — due from the time it ran, not from
    the opening (which would be in the past: an instant breach)."""
    times = clock(
        opened(berlin(5, 9)),
        ClockEvent(berlin(5, 9, 30), PAUSED),  # half an hour with us
        ClockEvent(berlin(6, 10), RESUMED),  # the customer answers on Tuesday
        ClockEvent(berlin(6, 10), RETARGETED, priority="high"),
    )
    assert times.first_response_due_at == berlin(6, 10, 30)  # the 1 h: 30 min Mon + 30 min Tue
    # 8 h: 30 min on Monday, Tuesday 10–17 (7 h), the last 30 min on Wednesday morning
    assert times.resolution_due_at == berlin(7, 9, 30)


def test_a_priority_change_on_a_reopened_case_keeps_the_fresh_resolution_target() -> None:
    """Item 11: the resolution target counts from the reopen, also after a new priority."""
    history = (
        opened(berlin(5, 9)),
        ClockEvent(berlin(5, 12), RESOLVED),
        ClockEvent(berlin(6, 10), REOPENED),
    )
    assert clock(*history).resolution_due_at == berlin(8, 10)  # Tue 7 h + Wed 8 h + Thu 1 h
    raised = clock(*history, ClockEvent(berlin(6, 11), RETARGETED, priority="high"))
    assert raised.resolution_due_at == berlin(7, 10)  # 8 h from Tuesday 10:00


def test_resolved_while_pending_leaves_no_pause_to_resume_on_reopen() -> None:
    """Item 12: the wait on the customer ends with the resolution; the reopen does not push
    the target out by the time the case sat resolved."""
    times = clock(
        opened(berlin(5, 9)),
        ClockEvent(berlin(5, 10), PAUSED),
        ClockEvent(berlin(5, 11), RESOLVED),
        ClockEvent(berlin(6, 10), REOPENED),
    )
    assert times.paused_at is None and times.paused_seconds == 3600
    assert times.resolution_due_at == berlin(8, 10)  # 16 h from Tuesday 10:00
    # the first response clock ran Monday 09–10 and again from the reopen
    assert times.first_response_due_at == berlin(6, 13)


def test_resolved_and_closed_cases_stop_the_clock() -> None:
    start = opened(berlin(5, 9))
    resolved = clock(start, ClockEvent(berlin(5, 10), RESOLVED))
    # as if it restarted at the resolution; the ladder never looks at resolved cases
    assert resolved.first_response_due_at == berlin(5, 13)
    closed = clock(start, ClockEvent(berlin(5, 10), PAUSED), ClockEvent(berlin(6, 10), CLOSED))
    assert closed.paused_at is None


def test_a_transfer_takes_the_new_queues_targets_from_the_time_spent() -> None:
    """Item 15: the vip queue's 1 h target applies to the time the case already ran."""
    times = clock(
        opened(berlin(5, 9)),
        ClockEvent(berlin(5, 9, 20), RETARGETED, queue="vip"),
        ClockEvent(berlin(5, 9, 20), UNCLAIMED),
    )
    assert times.first_response_due_at == berlin(5, 10)
    assert times.resolution_due_at == berlin(5, 13)
    assert times.unclaimed_since == berlin(5, 9, 20)


def test_a_transfer_after_the_target_ran_out_is_due_in_the_past() -> None:
    times = clock(opened(berlin(5, 9)), ClockEvent(berlin(5, 12), RETARGETED, queue="vip"))
    assert times.first_response_due_at == berlin(5, 10)


def test_unclaimed_since_follows_claims_releases_and_reopens() -> None:
    start = opened(berlin(5, 9))
    assert clock(start).unclaimed_since == berlin(5, 9)
    claimed = (start, ClockEvent(berlin(5, 9, 10), CLAIMED))
    assert clock(*claimed).unclaimed_since is None
    released = clock(*claimed, ClockEvent(berlin(5, 11), UNCLAIMED))
    assert released.unclaimed_since == berlin(5, 11)


def test_the_same_history_in_any_order_of_recomputing_gives_the_same_times() -> None:
    """Recomputing after each change and recomputing once at the end agree."""
    history = [
        opened(berlin(5, 9)),
        ClockEvent(berlin(5, 10), PAUSED),
        ClockEvent(berlin(6, 9), RETARGETED, priority="high"),
        ClockEvent(berlin(6, 14), RESUMED),
    ]
    final = clock(*history)
    assert final == due_times(history, POLICY, OFFICE)
    assert final.first_response_due_at == berlin(5, 10)  # spent before the pause: a breach


def test_met_at_the_due_instant_breached_only_after_it() -> None:
    due = berlin(5, 10)
    assert sla.met(due, due) and not sla.is_breached(due, due)
    assert sla.is_breached(due, berlin(5, 10, 1)) and not sla.met(berlin(5, 10, 1), due)
