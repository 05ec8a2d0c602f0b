"""The Slack app manifest asks for what the adapter uses: a missing scope or event
subscription means a bot that silently never hears customers."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.adapters.slack import COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yml"


def test_the_manifest_has_every_scope_event_and_the_command() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "chat:write",
        "im:history",
        "im:read",
        "im:write",
        "channels:history",
        "groups:history",
        "app_mentions:read",
        "commands",
        "users:read",
        "usergroups:read",
        "files:write",
    } <= scopes
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.im",
        "message.channels",
        "message.groups",
        "app_mention",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
