"""helpdesk.yml's SLA, managers' channel and digest settings: defaults, and errors that name
the key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.config import DeskConfig, load_desk_config
from bot.errors import ConfigError
from bot.escalation.calendar import BusinessCalendar


def test_defaults_cover_every_priority_and_schedule_daily_and_weekly_digests() -> None:
    desk = DeskConfig()
    assert desk.sla.target("default", "urgent").first_response_hours == 0.5
    assert desk.sla.target("default", "low").resolution_hours == 40
    assert (desk.digests.daily, desk.digests.weekly) == ("09:00", "mon 09:00")
    assert desk.digest_channels == [] and desk.digest_timezone == "UTC"


def test_a_partial_policy_keeps_the_other_priorities_and_the_managers_channel_gets_digests() -> (
    None
):
    desk = DeskConfig.model_validate(
        {
            "managers_channel": "slack:C0MGR",
            "business_hours": {"timezone": "Europe/Berlin"},
            "sla": {"policies": {"high": {"first_response_hours": 2, "resolution_hours": 6}}},
        }
    )
    assert desk.sla.target("default", "high").first_response_hours == 2
    assert desk.sla.target("default", "normal").first_response_hours == 4
    assert desk.digest_channels == ["slack:C0MGR"]
    assert desk.digest_timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (
            {"sla": {"policies": {"critical": {"first_response_hours": 1, "resolution_hours": 2}}}},
            "sla.policies",
        ),
        (
            {"sla": {"policies": {"high": {"first_response_hours": 0, "resolution_hours": 2}}}},
            "sla.policies.high.first_response_hours",
        ),
        ({"sla": {"warning_fraction": 1.5}}, "sla.warning_fraction"),
        ({"sla": {"queues": {"nowhere": {}}}}, "no queue named 'nowhere'"),
        ({"managers_channel": "managers"}, "managers_channel"),
        ({"digests": {"daily": "9am"}}, "digests.daily"),
        ({"digests": {"weekly": "someday 09:00"}}, "digests.weekly"),
        ({"digests": {"channels": ["nowhere"]}}, "digests.channels"),
        # a digest at a time the clocks skip (spring) or repeat (autumn) in its zone
        ({"digests": {"daily": "02:30", "timezone": "Europe/Berlin"}}, "digests.daily: 02:30"),
        (
            {"business_hours": {"timezone": "Europe/Berlin"}, "digests": {"weekly": "sun 02:30"}},
            "digests.weekly: 02:30",
        ),
        ({"digests": {"daily": "02:15", "timezone": "Australia/Sydney"}}, "digests.daily"),
        # a zone whose midnight is skipped: days (and periods) have no clear start
        ({"digests": {"daily": "09:00", "timezone": "America/Santiago"}}, "digests.timezone"),
        # half an hour a week cannot hold low's 40 h resolution target within a year
        (
            {"business_hours": {"weekly": {"mon": ["09:00-09:30"]}}},
            "sla.policies.low.resolution_hours",
        ),
        (
            {
                "queues": [{"name": "default", "channel": "fake:agents"}],
                "business_hours": {"weekly": {"mon": ["09:00-12:00"]}},
                "sla": {
                    "policies": {
                        p: {"first_response_hours": 1, "resolution_hours": 2}
                        for p in ("low", "normal", "high", "urgent")
                    },
                    "queues": {
                        "default": {"low": {"first_response_hours": 1, "resolution_hours": 200}}
                    },
                },
            },
            "sla.queues.default.low.resolution_hours",
        ),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, config: dict[str, object], named: str) -> None:
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_desk_config(path)


def test_a_digest_on_a_day_without_clock_changes_is_fine_at_night() -> None:
    desk = DeskConfig.model_validate(
        {"digests": {"daily": "03:30", "weekly": "mon 02:30", "timezone": "Europe/Berlin"}}
    )
    assert desk.digests.weekly == "mon 02:30"
    with pytest.raises(ValueError, match=r"digests\.daily"):  # 02:00–03:00 is skipped in March
        DeskConfig.model_validate({"digests": {"daily": "02:00", "timezone": "Europe/Berlin"}})


def test_a_sparse_calendar_that_passes_the_check_never_fails_at_run_time() -> None:
    """One hour a week and a 52 h target: the longest a valid config can ask for."""
    desk = DeskConfig.model_validate(
        {
            "business_hours": {"timezone": "Europe/Berlin", "weekly": {"mon": ["09:00-10:00"]}},
            "sla": {
                "policies": {
                    p: {"first_response_hours": 1, "resolution_hours": 52}
                    for p in ("low", "normal", "high", "urgent")
                }
            },
        }
    )
    calendar = BusinessCalendar.from_config(desk.business_hours)
    start = datetime(2026, 1, 6, 12, tzinfo=UTC)  # a Tuesday: 52 Mondays ahead
    due = calendar.add(start, 52 * 3600)
    assert calendar.seconds_between(start, due) == 52 * 3600
