"""Routing rules, role lists for any platform, and macro placeholders: pure functions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.cases.macros import render
from bot.commands import Role
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs.roles import RoleBook
from bot.escalation.routing import find_queue, route

DESK = DeskConfig(
    queues=[
        QueueConfig(name="general", channel="slack:C1"),
        QueueConfig(name="vip", channel="slack:C2", priorities=["urgent"], tags=["vip"]),
        QueueConfig(name="billing", channel="slack:C3", intents=["billing", "refund"]),
        QueueConfig(name="telegram-team", channel="telegram:-100", platforms=["telegram"]),
        QueueConfig(name="returns", channel="discord:9", tags=["returns", "rma"]),
    ],
    default_queue="general",
)


@pytest.mark.parametrize(
    ("intent", "priority", "platform", "tags", "queue"),
    [
        ("billing", "normal", "slack", (), "billing"),
        ("refund", "high", "telegram", (), "billing"),  # the first matching queue wins
        (None, "normal", "telegram", (), "telegram-team"),
        (None, "normal", "slack", ("rma",), "returns"),
        (None, "urgent", "slack", ("vip",), "vip"),
        (None, "urgent", "slack", (), "general"),  # vip needs both its rules
        (None, "normal", "slack", ("vip",), "general"),
        ("greet", "low", "discord", ("other",), "general"),  # nothing matches: the default
    ],
)
def test_routing_by_intent_priority_platform_and_tags(
    intent: str | None, priority: str, platform: str, tags: tuple[str, ...], queue: str
) -> None:
    assert route(DESK, intent=intent, priority=priority, platform=platform, tags=tags).name == queue


def test_queues_are_found_by_name_whatever_the_case() -> None:
    found = find_queue(DESK, "Billing")
    assert found is not None and found.channel == "slack:C3"
    assert find_queue(DESK, "nowhere") is None


def test_roles_can_name_any_platform_and_groups() -> None:
    book = RoleBook(
        Roles(agents=RoleMembers(slack=["group:S0SUPPORT"], matrix=["@dana:example.org"]))
    )
    assert book.has(Role.AGENT, "matrix", "@dana:example.org")
    assert book.has(Role.AGENT, "slack", "U1", frozenset({"S0SUPPORT"}))
    assert not book.has(Role.AGENT, "slack", "U1")
    assert not book.has(Role.AGENT, "discord", "@dana:example.org")
    with pytest.raises(ValidationError, match="expected a list of user ids"):
        RoleMembers.model_validate({"matrix": "dana"})


def test_macro_placeholders_are_plain_substitution() -> None:
    values = {"customer_name": "Ada", "case_number": "12", "agent": "Dana"}
    assert render("Hi {customer_name}, #{case_number} — {agent}", values) == "Hi Ada, #12 — Dana"
    # unknown or object-reaching placeholders stay as they are
    assert render("{customer_name.__class__} {x}", values) == "{customer_name.__class__} {x}"
