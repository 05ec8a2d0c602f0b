"""Every check of ``helpdesk doctor``, in the order a deployment needs them: settings and
helpdesk.yml, the database, the model and knowledge base, then each configured platform (those
concurrently: each waits on its own network). A check that cannot run because an earlier one
failed is reported as skipped, never silently left out."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.cli.doctor.findings import Finding, fail, redacted, skip
from bot.config import DeskConfig, Settings

PlatformCheck = Callable[[Settings, DeskConfig], Awaitable[list[Finding]]]


async def examine() -> list[Finding]:
    """Everything, from the settings in the environment; secrets masked in what is returned."""
    from bot.cli.doctor.setup import load_desk, load_settings

    settings, findings = load_settings()
    if settings is None:  # still worth knowing what else is wrong in helpdesk.yml
        _, desk_findings = load_desk(Path(os.environ.get("HELPDESK_CONFIG") or "helpdesk.yml"))
        return [
            *findings,
            *desk_findings,
            skip("doctor", "everything else", "needs valid settings"),
        ]
    return redacted([*findings, *await examine_with(settings)], _secrets(settings))


async def examine_with(settings: Settings) -> list[Finding]:
    from bot.cli.doctor.database import check_database
    from bot.cli.doctor.knowledge import check_encoder, check_intent_model
    from bot.cli.doctor.rasa import check_rasa
    from bot.cli.doctor.setup import cross_check, load_desk

    desk, findings = load_desk(settings.config_file)
    if desk is not None:
        findings += cross_check(settings, desk)
    database, at_head = await check_database(settings)
    findings += database
    encoder, model_name = check_encoder(settings)
    findings += encoder
    if at_head:
        findings += await _knowledge(settings, model_name)
    else:
        findings.append(check_intent_model(settings, model_name))
        findings.append(skip("model", "articles and index", "needs the database at head"))
    findings += await check_rasa(settings)
    if desk is None:
        return [*findings, skip("platforms", "every platform", "needs a valid helpdesk.yml")]
    return findings + await check_platforms(settings, desk)


async def check_platforms(settings: Settings, desk: DeskConfig) -> list[Finding]:
    """The checks of every platform whose token is set."""
    from bot.cli.doctor.setup import configured_platforms

    names = configured_platforms(settings)
    results = await asyncio.gather(*(_guarded(name, settings, desk) for name in names))
    return [finding for result in results for finding in result]


async def _guarded(platform: str, settings: Settings, desk: DeskConfig) -> list[Finding]:
    """A platform's checks; one that breaks on something unforeseen is reported, and the
    other platforms are still checked."""
    try:
        return await _PLATFORM_CHECKS[platform]()(settings, desk)
    except Exception as exc:
        return [
            fail(
                platform,
                "check",
                f"could not finish the checks ({type(exc).__name__}: {exc})",
                "check the network and the platform's API URL setting, then run it again",
            )
        ]


async def _knowledge(settings: Settings, model_name: str) -> list[Finding]:
    from sqlalchemy.pool import NullPool

    from bot.cli.doctor.knowledge import check_intents, check_knowledge
    from bot.storage.db import create_engine, session_factory

    engine = create_engine(settings.effective_database_url, poolclass=NullPool)
    try:
        sessions = session_factory(engine)
        intents = await check_intents(settings, sessions, model_name)
        return intents + await check_knowledge(settings, sessions, model_name)
    finally:
        await engine.dispose()


def _slack() -> PlatformCheck:
    from bot.cli.doctor.slack import check_slack

    return check_slack


def _telegram() -> PlatformCheck:
    from bot.cli.doctor.telegram import check_telegram

    return check_telegram


def _discord() -> PlatformCheck:
    from bot.cli.doctor.discord import check_discord

    return check_discord


def _web() -> PlatformCheck:
    from bot.cli.doctor.web import check_web

    return check_web


# each platform's SDK is imported only when that platform is configured
_PLATFORM_CHECKS: dict[str, Callable[[], PlatformCheck]] = {
    "slack": _slack,
    "telegram": _telegram,
    "discord": _discord,
    "web": _web,
}


def _secrets(settings: Settings) -> list[str]:
    """Every secret setting's value, and the database password."""
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    secrets = [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]
    try:
        password = make_url(settings.effective_database_url).password
    except Exception:  # an unparsable URL is reported by the database check
        password = None
    if settings.rasa_token:  # a plain setting, kept out of reprs
        secrets.append(settings.rasa_token)
    return [*secrets, *([str(password)] if password else [])]
