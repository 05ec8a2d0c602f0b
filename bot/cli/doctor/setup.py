"""The settings and ``helpdesk.yml``: every problem listed (not just the first), and the two
checked against each other — a queue posting to a platform whose token is not set would lose
every case escalated to it."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bot.cli.doctor.findings import Finding, fail, ok, warn
from bot.config import DeskConfig, Settings, validate_desk_config
from bot.messages import ChannelRef

EXAMPLE = "helpdesk.example.yml shows every key"
TOKENS = {"slack": "SLACK_BOT_TOKEN", "telegram": "TELEGRAM_TOKEN", "discord": "DISCORD_TOKEN"}


def load_settings() -> tuple[Settings | None, list[Finding]]:
    """The settings from the environment and ``.env``, or one finding per invalid setting."""
    from bot.cli.boundary import explain

    try:
        settings = Settings()
    except ValidationError as exc:
        sentences = explain(exc) or [str(exc)]
        return None, [
            fail(
                "settings",
                "environment",
                sentence.removeprefix("configuration error: "),
                "fix it in the environment or in .env (the README's Configuration table)",
            )
            for sentence in sentences
        ]
    return settings, [ok("settings", "environment", "every setting parses")]


def load_desk(path: Path) -> tuple[DeskConfig | None, list[Finding]]:
    desk, problems = validate_desk_config(path)
    if desk is None:
        return None, [
            fail("helpdesk.yml", str(path), problem, f"fix the file; {EXAMPLE}")
            for problem in problems
        ]
    if not path.exists():
        return desk, [ok("helpdesk.yml", str(path), "no file: the defaults apply")]
    return desk, [ok("helpdesk.yml", str(path), f"valid ({len(desk.queues)} queues)")]


def configured_platforms(settings: Settings) -> list[str]:
    tokens = {
        "slack": settings.slack_bot_token,
        "telegram": settings.telegram_token,
        "discord": settings.discord_token,
        "web": settings.web_secret,
    }
    return [name for name, token in tokens.items() if token and token.get_secret_value()]


def desk_channels(desk: DeskConfig) -> list[tuple[str, ChannelRef]]:
    """Every channel the help desk posts to, with the key that names it."""
    named = [(f"queues.{queue.name}.channel", queue.channel) for queue in desk.queues]
    if desk.managers_channel:
        named.append(("managers_channel", desk.managers_channel))
    named += [(f"digests.channels[{i}]", ref) for i, ref in enumerate(desk.digests.channels)]
    return [(key, ChannelRef.parse(ref)) for key, ref in named]


def agent_channels(desk: DeskConfig, platform: str) -> list[tuple[str, ChannelRef]]:
    """The channels of ``platform`` the bot must be in, each once (the first key naming it)."""
    seen: set[str] = set()
    found = []
    for key, ref in desk_channels(desk):
        if ref.platform == platform and str(ref) not in seen:
            seen.add(str(ref))
            found.append((key, ref))
    return found


def cross_check(settings: Settings, desk: DeskConfig) -> list[Finding]:
    """The settings and helpdesk.yml against each other."""
    # the web chat is for customers: agents are never there
    platforms = [p for p in configured_platforms(settings) if p != "web"]
    findings: list[Finding] = []
    for key, ref in desk_channels(desk):
        token = TOKENS.get(ref.platform)
        if token and ref.platform not in platforms:
            findings.append(
                fail(
                    "helpdesk.yml",
                    key,
                    f"posts to {ref} but {token} is not set, so nothing sent there arrives",
                    f"set {token}, or point {key} at a platform that is configured",
                )
            )
    if platforms and not any(ref.platform in platforms for _, ref in desk_channels(desk)):
        findings.append(
            warn(
                "helpdesk.yml",
                "queues",
                f"{', '.join(platforms)} configured, but every queue posts to the terminal: "
                "agents on those platforms never see a case",
                f"give the queues a channel on {platforms[0]} (e.g. "
                f"{_example(platforms[0])}); {EXAMPLE}",
            )
        )
    return findings or [ok("helpdesk.yml", "channels", "every channel's platform is configured")]


def _example(platform: str) -> str:
    return {
        "slack": "slack:C0123ABCD",
        "telegram": "telegram:-1001234567890",
        "discord": "discord:123456789012345678",
    }[platform]
