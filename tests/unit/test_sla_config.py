"""helpdesk.yml's SLA, managers' channel and digest settings: defaults, and errors that name
the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import DeskConfig, load_desk_config
from bot.errors import ConfigError


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
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, config: dict[str, object], named: str) -> None:
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_desk_config(path)
