"""The documented example configuration is valid, and config mistakes name their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, load_desk_config
from bot.errors import ConfigError
from bot.escalation.routing import route


def test_the_example_config_loads_and_routes_as_its_comments_say() -> None:
    desk = load_desk_config(PROJECT_ROOT / "helpdesk.example.yml")
    assert desk.roles.agents.for_platform("slack") == ["U0AGENT1", "group:S0SUPPORT"]
    assert route(desk, intent=None, priority="urgent", platform="slack").name == "urgent"
    billing = route(desk, intent="billing_charge", priority="normal", platform="slack")
    assert billing.name == "billing"
    telegram = route(desk, intent=None, priority="normal", platform="telegram")
    assert telegram.name == "telegram-team"
    devices = route(desk, intent=None, priority="low", platform="discord", tags=["lumio hub"])
    assert devices.name == "devices"
    assert route(desk, intent=None, priority="low", platform="slack").name == "general"
    assert (desk.reopen_window_hours, desk.claim_idle_minutes) == (72, 60)
    assert desk.retention.raw_payloads_days == 30
    assert desk.privacy.requests_queue == "general"


@pytest.mark.parametrize(
    ("yaml_text", "named"),
    [
        ("default_queue: nowhere\n", "default_queue: no queue named 'nowhere'"),
        (
            "default_queue: a\nqueues:\n  - {name: a, channel: 'slack:C1'}\n"
            "  - {name: a, channel: 'slack:C2'}\n",
            "the name 'a' is used twice",
        ),
        ("default_queue: a\nqueues:\n  - {name: a, channel: nochannel}\n", "queues.0.channel"),
        ("claim_idle_minutes: 0\n", "claim_idle_minutes"),
        ("privacy: {requests_queue: nowhere}\n", "privacy.requests_queue: no queue named"),
        ("retention: {closed_case_transcripts_months: 0}\n", "closed_case_transcripts_months"),
        ("help_center_url: https://help.example.com/kb\n", "help_center_url must contain"),
        (
            "roles: {agents: {slack: [U1, U2]}}\n"
            "queues:\n  - {name: default, channel: 'slack:C1', agents: {slack: [U1, U9]}}\n",
            r"queues\[default\]\.agents\.slack: 'U9' is not an agent of the desk",
        ),
        (
            "roles: {agents: {slack: [U1]}}\n"
            "queues:\n  - {name: default, channel: 'slack:C1', managers: {telegram: ['456']}}\n",
            r"queues\[default\]\.managers\.telegram: '456' is not an agent",
        ),
    ],
)
def test_queue_mistakes_name_the_key(tmp_path: Path, yaml_text: str, named: str) -> None:
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=named):
        load_desk_config(path)


def test_queue_members_given_by_group_or_among_group_agents_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "helpdesk.yml"
    path.write_text(
        "roles: {agents: {slack: [U1], telegram: ['group:-100']}}\n"
        "queues:\n"
        "  - {name: default, channel: 'slack:C1',\n"
        "     agents: {slack: [U1, 'group:S0VIP'], telegram: ['456']}}\n",
        encoding="utf-8",
    )
    (queue,) = load_desk_config(path).queues
    assert queue.agents is not None and queue.agents.telegram == ["456"]
