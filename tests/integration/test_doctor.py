"""``helpdesk doctor``: every check against the platform stand-ins (tests/support) with one
problem injected — a bad token, a missing scope, the bot outside an agent channel, no admin
rights, Topics off, a privileged intent off, a thread permission denied, no signing secret in
HTTP mode, a database out of reach or behind the code, no model — and the case where all is well.

What the stand-ins cannot prove: that the real platforms grant exactly these scopes / rights for
these calls (the lists follow the platforms' documentation), and Discord's permission
computation is checked against our reading of its documented algorithm, not against Discord.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy.engine import Connection

from bot.cli.doctor.database import check_database
from bot.cli.doctor.discord import check_discord
from bot.cli.doctor.examination import examine_with
from bot.cli.doctor.findings import Finding, Status, healthy
from bot.cli.doctor.setup import cross_check, load_desk, load_settings
from bot.cli.doctor.slack import check_slack
from bot.cli.doctor.telegram import check_telegram
from bot.config import PROJECT_ROOT, DeskConfig, Settings
from bot.storage.db import create_engine
from bot.storage.migrate import alembic_config, upgrade_database
from tests.support.discord_wire import (
    BOT_ROLE_ID,
    CREATE_PUBLIC_THREADS,
    GATEWAY_GUILD_MEMBERS_LIMITED,
    DiscordWire,
    discord_wire,
)
from tests.support.slack_api import EVERY_SCOPE, SlackStandIn
from tests.support.telegram_api import BOT_ID, TOKEN, TelegramApi

BOT_TOKEN = "xoxb-1111-2222-secretbotvalue"
APP_TOKEN = "xapp-1-A0TEST-3333-secretappvalue"
SIGNING_SECRET = "8f742231b10e8888abcd9911aa2285a5"
AGENTS = "C0AGENTS"
GROUP = "-1001234567890"


def desk_on(*channels: str) -> DeskConfig:
    queues = [{"name": f"q{i}", "channel": ref} for i, ref in enumerate(channels)]
    return DeskConfig.model_validate({"queues": queues, "default_queue": "q0"})


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status is Status.FAIL]


def the(findings: list[Finding], check: str) -> Finding:
    matching = [f for f in findings if f.check == check]
    assert len(matching) == 1, findings
    return matching[0]


# --- Slack ----------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    await stand_in.start()
    stand_in.issue(BOT_TOKEN)
    stand_in.issue(APP_TOKEN)
    stand_in.join(AGENTS)
    try:
        yield stand_in
    finally:
        await stand_in.close()


def slack_settings(slack: SlackStandIn, tmp_path: Path, **env: str) -> Settings:
    values = {
        "HELPDESK_DATA_DIR": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        **env,
    }
    return Settings(**{k: v for k, v in values.items() if v})  # type: ignore[arg-type]


async def test_slack_all_good(slack: SlackStandIn, tmp_path: Path) -> None:
    findings = await check_slack(slack_settings(slack, tmp_path), desk_on(f"slack:{AGENTS}"))
    assert failed(findings) == [] and not [f for f in findings if f.status is Status.WARN]
    assert "@helpdesk in Helpdesk Test" in the(findings, "token").detail
    assert the(findings, f"channel {AGENTS}").status is Status.OK
    assert the(findings, "app token").detail == "Socket Mode accepts it"


async def test_slack_bad_token_is_named_masked_and_fixable(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    revoked = "xoxb-9999-8888-revokedvalue"
    findings = await check_slack(
        slack_settings(slack, tmp_path, SLACK_BOT_TOKEN=revoked), desk_on(f"slack:{AGENTS}")
    )
    token = the(findings, "token")
    assert token.status is Status.FAIL and "invalid_auth" in token.detail
    assert "OAuth & Permissions" in token.fix
    assert revoked not in token.detail and "xoxb-…lue" in token.detail


async def test_slack_missing_scope_names_the_scope(slack: SlackStandIn, tmp_path: Path) -> None:
    slack.issue(BOT_TOKEN, EVERY_SCOPE - {"files:write", "app_mentions:read"})
    findings = await check_slack(slack_settings(slack, tmp_path), desk_on(f"slack:{AGENTS}"))
    scopes = the(findings, "scopes")
    assert scopes.status is Status.FAIL
    assert "app_mentions:read" in scopes.detail and "files:write" in scopes.detail
    assert "reinstall the app" in scopes.fix


async def test_slack_private_agent_channel_needs_groups_history(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.join("G0PRIVATE")
    slack.issue(BOT_TOKEN, EVERY_SCOPE - {"groups:history"})
    findings = await check_slack(slack_settings(slack, tmp_path), desk_on("slack:G0PRIVATE"))
    assert "groups:history" in the(findings, "scopes").detail


async def test_slack_bot_not_in_the_agent_channel(slack: SlackStandIn, tmp_path: Path) -> None:
    slack.public_channels["C0SUPPORT"] = "support"
    findings = await check_slack(
        slack_settings(slack, tmp_path),
        desk_on(f"slack:{AGENTS}", "slack:C0SUPPORT", "slack:C0GONE"),
    )
    outside = the(findings, "channel C0SUPPORT")
    assert outside.status is Status.FAIL and "not a member of #support" in outside.detail
    assert outside.fix == "type `/invite @helpdesk` in #support"
    assert "no such channel" in the(findings, "channel C0GONE").detail
    assert the(findings, f"channel {AGENTS}").status is Status.OK


async def test_slack_http_mode_without_signing_secret(slack: SlackStandIn, tmp_path: Path) -> None:
    findings = await check_slack(
        slack_settings(slack, tmp_path, SLACK_APP_TOKEN=""), desk_on(f"slack:{AGENTS}")
    )
    mode = the(findings, "connection mode")
    assert mode.status is Status.FAIL and "never receives" in mode.detail
    assert "SLACK_SIGNING_SECRET" in mode.fix and "SLACK_APP_TOKEN" in mode.fix


async def test_slack_http_mode_with_signing_secret(slack: SlackStandIn, tmp_path: Path) -> None:
    settings = slack_settings(
        slack, tmp_path, SLACK_APP_TOKEN="", SLACK_SIGNING_SECRET=SIGNING_SECRET
    )
    findings = await check_slack(settings, desk_on(f"slack:{AGENTS}"))
    assert failed(findings) == []
    assert "HTTP events" in the(findings, "connection mode").detail


async def test_slack_socket_mode_with_a_bot_token_as_app_token(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    findings = await check_slack(
        slack_settings(slack, tmp_path, SLACK_APP_TOKEN=BOT_TOKEN), desk_on(f"slack:{AGENTS}")
    )
    mode = the(findings, "connection mode")
    assert mode.status is Status.FAIL and "not an app-level token" in mode.detail
    assert BOT_TOKEN not in mode.detail


async def test_slack_app_token_refused(slack: SlackStandIn, tmp_path: Path) -> None:
    findings = await check_slack(
        slack_settings(slack, tmp_path, SLACK_APP_TOKEN="xapp-1-A0TEST-0000-notissued"),
        desk_on(f"slack:{AGENTS}"),
    )
    app = the(findings, "app token")
    assert app.status is Status.FAIL and "invalid_auth" in app.detail


# --- Telegram -------------------------------------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    api = TelegramApi()
    api.add_group(GROUP, forum=True)
    api.set_member(GROUP, BOT_ID, "administrator", can_manage_topics=True)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


def telegram_settings(api: TelegramApi, tmp_path: Path, token: str = TOKEN) -> Settings:
    return Settings(HELPDESK_DATA_DIR=tmp_path, TELEGRAM_TOKEN=token, TELEGRAM_API_URL=api.base_url)  # type: ignore[call-arg]


async def test_telegram_all_good(telegram: TelegramApi, tmp_path: Path) -> None:
    findings = await check_telegram(
        telegram_settings(telegram, tmp_path), desk_on(f"telegram:{GROUP}")
    )
    assert failed(findings) == [] and not [f for f in findings if f.status is Status.WARN]
    assert the(findings, "token").detail == "valid: @helpdesk_test_bot"
    assert the(findings, f"topics {GROUP}").detail == "Topics on; the bot may manage them"


async def test_telegram_bad_token(telegram: TelegramApi, tmp_path: Path) -> None:
    wrong = "654321:AAnother-token-entirely"
    findings = await check_telegram(
        telegram_settings(telegram, tmp_path, wrong), desk_on(f"telegram:{GROUP}")
    )
    token = the(findings, "token")
    assert token.status is Status.FAIL and "BotFather" in token.fix
    assert wrong not in token.detail


async def test_telegram_bot_without_admin_rights(telegram: TelegramApi, tmp_path: Path) -> None:
    telegram.set_member(GROUP, BOT_ID, "member")
    findings = await check_telegram(
        telegram_settings(telegram, tmp_path), desk_on(f"telegram:{GROUP}")
    )
    group = the(findings, f"group {GROUP}")
    assert group.status is Status.FAIL and "notes are missed" in group.detail
    assert "admin" in group.fix and "privacy" in group.fix
    assert the(findings, f"topics {GROUP}").status is Status.FAIL  # cannot manage topics either


async def test_telegram_privacy_mode_off_makes_a_member_enough_to_read(
    telegram: TelegramApi, tmp_path: Path
) -> None:
    telegram.can_read_all_group_messages = True
    telegram.set_member(GROUP, BOT_ID, "member")
    findings = await check_telegram(
        telegram_settings(telegram, tmp_path), desk_on(f"telegram:{GROUP}")
    )
    assert the(findings, f"group {GROUP}").status is Status.WARN


async def test_telegram_admin_without_manage_topics(telegram: TelegramApi, tmp_path: Path) -> None:
    telegram.set_member(GROUP, BOT_ID, "administrator", can_manage_topics=False)
    findings = await check_telegram(
        telegram_settings(telegram, tmp_path), desk_on(f"telegram:{GROUP}")
    )
    topics = the(findings, f"topics {GROUP}")
    assert topics.status is Status.FAIL and "Manage topics" in topics.fix


async def test_telegram_topics_off(telegram: TelegramApi, tmp_path: Path) -> None:
    telegram.add_group(GROUP, forum=False)
    settings = telegram_settings(telegram, tmp_path)
    plain = await check_telegram(settings, desk_on(f"telegram:{GROUP}"))
    assert the(plain, f"topics {GROUP}").status is Status.WARN  # reply chains still work
    named = await check_telegram(settings, desk_on(f"telegram:{GROUP}/55"))
    topics = the(named, f"topics {GROUP}")
    assert topics.status is Status.FAIL and "names topic 55" in topics.detail
    assert "Topics" in topics.fix


async def test_telegram_bot_not_in_the_group(telegram: TelegramApi, tmp_path: Path) -> None:
    telegram.set_member(GROUP, BOT_ID, "left")
    findings = await check_telegram(
        telegram_settings(telegram, tmp_path), desk_on(f"telegram:{GROUP}", "telegram:-100999")
    )
    for chat in (GROUP, "-100999"):
        group = the(findings, f"group {chat}")
        assert group.status is Status.FAIL and "add the bot to the group" in group.fix


def webhook_settings(api: TelegramApi, tmp_path: Path, url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        HELPDESK_DATA_DIR=tmp_path,
        TELEGRAM_TOKEN=TOKEN,
        TELEGRAM_API_URL=api.base_url,
        TELEGRAM_WEBHOOK_URL=url,
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
    )


async def test_telegram_webhook_telegram_has_on_record(
    telegram: TelegramApi, tmp_path: Path
) -> None:
    """What Telegram itself reports (getWebhookInfo) against what the desk is set up for."""
    desk, url = desk_on(f"telegram:{GROUP}"), "https://desk.example.test/telegram/webhook"
    polling, webhook = (
        telegram_settings(telegram, tmp_path),
        webhook_settings(telegram, tmp_path, url),
    )
    assert the(await check_telegram(polling, desk), "webhook at Telegram").status is Status.OK
    unregistered = the(await check_telegram(webhook, desk), "webhook at Telegram")
    assert unregistered.status is Status.WARN and "no webhook" in unregistered.detail
    assert "--role web" in unregistered.fix

    telegram.webhook = {"url": url}  # the web role registered it
    assert the(await check_telegram(webhook, desk), "webhook at Telegram").status is Status.OK
    left_behind = the(await check_telegram(polling, desk), "webhook at Telegram")
    assert left_behind.status is Status.WARN and url in left_behind.detail

    telegram.webhook.update(last_error_date=1767603600, last_error_message="Connection refused")
    failing = the(await check_telegram(webhook, desk), "webhook at Telegram")
    assert failing.status is Status.WARN
    assert "2026-01-05 09:00 UTC: Connection refused" in failing.detail


async def test_telegram_webhook_on_a_port_telegram_does_not_deliver_to(
    telegram: TelegramApi, tmp_path: Path
) -> None:
    url = "https://desk.example.test:8080/telegram/webhook"
    findings = await check_telegram(
        webhook_settings(telegram, tmp_path, url), desk_on(f"telegram:{GROUP}")
    )
    updates = the(findings, "updates")
    assert updates.status is Status.FAIL and "port 8080" in updates.detail


# --- Discord --------------------------------------------------------------------------------


@pytest.fixture
async def wire() -> AsyncIterator[DiscordWire]:
    async with discord_wire() as stand_in:
        yield stand_in


def discord_settings(
    wire: DiscordWire, tmp_path: Path, token: str = "not-a-real-token"
) -> Settings:
    return Settings(HELPDESK_DATA_DIR=tmp_path, DISCORD_TOKEN=token, DISCORD_API_URL=wire.base_url)  # type: ignore[call-arg]


async def test_discord_all_good(wire: DiscordWire, tmp_path: Path) -> None:
    findings = await check_discord(discord_settings(wire, tmp_path), desk_on("discord:42"))
    assert failed(findings) == [] and not [f for f in findings if f.status is Status.WARN]
    assert the(findings, "intents").detail == "MESSAGE CONTENT and SERVER MEMBERS on"
    assert "may post and open threads in #agents-42" in the(findings, "channel 42").detail


async def test_discord_bad_token(wire: DiscordWire, tmp_path: Path) -> None:
    wrong = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.wrong.token"
    findings = await check_discord(discord_settings(wire, tmp_path, wrong), desk_on("discord:42"))
    token = the(findings, "token")
    assert token.status is Status.FAIL and "401" in token.detail and wrong not in token.detail
    assert "Reset Token" in token.fix


async def test_discord_message_content_intent_off(wire: DiscordWire, tmp_path: Path) -> None:
    wire.intent_flags = GATEWAY_GUILD_MEMBERS_LIMITED
    findings = await check_discord(discord_settings(wire, tmp_path), desk_on("discord:42"))
    intents = the(findings, "intents")
    assert intents.status is Status.FAIL
    assert "MESSAGE CONTENT" in intents.detail and "SERVER MEMBERS" not in intents.detail
    assert "Privileged Gateway Intents" in intents.fix


async def test_discord_thread_permission_denied_in_the_agent_channel(
    wire: DiscordWire, tmp_path: Path
) -> None:
    wire.overwrites["42"] = [
        {"id": BOT_ROLE_ID, "type": 0, "allow": "0", "deny": str(CREATE_PUBLIC_THREADS)}
    ]
    findings = await check_discord(discord_settings(wire, tmp_path), desk_on("discord:42"))
    channel = the(findings, "channel 42")
    assert channel.status is Status.FAIL and "lacks Create Public Threads" in channel.detail


async def test_discord_channel_the_bot_cannot_see_or_that_does_not_exist(
    wire: DiscordWire, tmp_path: Path
) -> None:
    wire.hidden.add("42")
    findings = await check_discord(
        discord_settings(wire, tmp_path), desk_on("discord:42", "discord:777")
    )
    assert "cannot see 42" in the(findings, "channel 42").detail
    assert "no such channel" in the(findings, "channel 777").detail


# --- settings, helpdesk.yml, database, model ------------------------------------------------


def test_every_invalid_setting_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.setenv("HELPDESK_LOG_LEVEL", "LOUD")
    settings, findings = load_settings()
    assert settings is None
    assert len(failed(findings)) == 2
    assert any("PORT" in f.detail for f in findings)
    assert any("'LOUD' is not a log level" in f.detail for f in findings)


def test_every_helpdesk_yml_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "helpdesk.yml"
    path.write_text(
        "queues:\n  - name: a\n    channel: nowhere\nanswer_threshold: high\nbogus: 1\n",
        encoding="utf-8",
    )
    desk, findings = load_desk(path)
    assert desk is None
    details = [f.detail for f in failed(findings)]
    assert len(details) == 3
    assert any(d.startswith("queues.0.channel") for d in details)
    assert any(d.startswith("answer_threshold") for d in details)
    assert any(d.startswith("bogus") for d in details)


def test_a_queue_on_a_platform_without_its_token(tmp_path: Path) -> None:
    settings = Settings(HELPDESK_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    findings = cross_check(settings, desk_on("terminal:agents", f"slack:{AGENTS}"))
    problem = the(findings, "queues.q1.channel")
    assert problem.status is Status.FAIL and "SLACK_BOT_TOKEN is not set" in problem.detail


async def test_database_all_good(migrated_url: str, tmp_path: Path) -> None:
    settings = Settings(HELPDESK_DATA_DIR=tmp_path, DATABASE_URL=migrated_url)  # type: ignore[call-arg]
    findings, at_head = await check_database(settings)
    assert at_head and failed(findings) == []
    assert the(findings, "migrations").status is Status.OK


async def test_database_unreachable(tmp_path: Path) -> None:
    url = "postgresql://helpdesk:hunter2secret@127.0.0.1:1/helpdesk"
    settings = Settings(HELPDESK_DATA_DIR=tmp_path, DATABASE_URL=url)  # type: ignore[call-arg]
    findings, at_head = await check_database(settings)
    reachable = the(findings, "reachable")
    assert not at_head and reachable.status is Status.FAIL
    assert "hunter2secret" not in reachable.detail and "DATABASE_URL" in reachable.fix
    assert the(findings, "migrations").status is Status.SKIP


async def test_sqlite_file_missing_is_not_created(tmp_path: Path) -> None:
    settings = Settings(HELPDESK_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    findings, _ = await check_database(settings)
    assert "`helpdesk db upgrade`" in the(findings, "reachable").fix
    assert not (tmp_path / "helpdesk.db").exists()


async def test_database_migrations_behind(migrated_url: str, tmp_path: Path) -> None:
    engine = create_engine(migrated_url)

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
    finally:
        await engine.dispose()
    settings = Settings(HELPDESK_DATA_DIR=tmp_path, DATABASE_URL=migrated_url)  # type: ignore[call-arg]
    findings, at_head = await check_database(settings)
    migrations = the(findings, "migrations")
    assert not at_head and migrations.status is Status.FAIL
    assert "code expects" in migrations.detail and "`helpdesk db upgrade`" in migrations.fix


async def test_model_missing(database_url: str, tmp_path: Path) -> None:
    await upgrade_database(database_url)
    settings = Settings(HELPDESK_DATA_DIR=tmp_path, DATABASE_URL=database_url)  # type: ignore[call-arg]
    findings = await examine_with(settings)
    assert the(findings, "encoder").status is Status.FAIL
    model = the(findings, "intent model")
    assert model.status is Status.FAIL and "`helpdesk nlu train`" in model.fix
    articles = the(findings, "articles")
    assert articles.status is Status.FAIL and "`helpdesk kb import`" in articles.fix
    assert not healthy(findings)


async def test_the_intent_model_is_checked_against_the_databases_intents(
    migrated_url: str, tmp_path: Path
) -> None:
    """Once the intents live in the database, the stored model is checked against them (not
    against the files), and files changed since they were loaded are named."""
    import shutil

    from bot.cli.doctor.knowledge import check_intents
    from bot.intents import catalog, sources, store
    from bot.storage.db import session_factory

    shutil.copytree(PROJECT_ROOT / "tests" / "fixtures" / "bakery" / "nlu", tmp_path / "nlu")
    settings = Settings(HELPDESK_DATA_DIR=tmp_path, DATABASE_URL=migrated_url)  # type: ignore[call-arg]
    topics, encoder, at = settings.topic_nlu_data, "all-MiniLM-L6-v2@onnx", datetime.now(UTC)
    engine = create_engine(migrated_url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            await sources.seed_if_empty(session, topics, at=at)
            fingerprint = (await sources.training_data(session, topics)).fingerprint()
            await store.store(
                session,
                blob=b"model",
                data_hash=fingerprint,
                model_name=encoder,
                examples=1,
                evaluation={},
                at=at,
            )
        (current,) = await check_intents(settings, sessions, encoder)
        assert current.status is Status.OK and "database's current intents" in current.detail
        (other_encoder,) = await check_intents(settings, sessions, "another-encoder")
        assert other_encoder.status is Status.WARN

        async with sessions.begin() as session:  # an admin's example, not yet retrained
            await catalog.add_examples(
                session,
                "allergens",
                ["is there soy in the rye bread"],
                actor="t",
                platform="t",
                at=at,
            )
        (behind,) = await check_intents(settings, sessions, encoder)
        assert behind.status is Status.WARN and "other intents" in behind.detail
        assert "nlu train" not in behind.fix  # the files are not what it trains on

        (tmp_path / "nlu" / "topics.yml").write_text(
            (tmp_path / "nlu" / "topics.yml").read_text() + "    - gluten free cake please\n"
        )
        files = the(await check_intents(settings, sessions, encoder), "intent data")
        assert files.status is Status.WARN and "`helpdesk intent import`" in files.fix
    finally:
        await engine.dispose()


# --- the command ----------------------------------------------------------------------------


async def helpdesk_doctor(tmp_path: Path, **env: str) -> tuple[int, str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))},
        "PYTHONPATH": str(PROJECT_ROOT),
        "HELPDESK_DATA_DIR": str(tmp_path),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "doctor",
        "--json",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


async def test_the_command_exits_non_zero_and_never_prints_a_token(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.issue(BOT_TOKEN, EVERY_SCOPE - {"commands"})
    code, output = await helpdesk_doctor(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=slack.api_url,
    )
    assert code == 1
    report: dict[str, Any] = json.loads(output)
    assert report["ok"] is False
    problems = {(c["area"], c["check"]) for c in report["checks"] if c["status"] == "fail"}
    assert ("slack", "scopes") in problems and ("database", "reachable") in problems
    assert BOT_TOKEN not in output and APP_TOKEN not in output


# the first test of a session to use ``e2e_data_dir`` exports the encoder and trains the intent
# model in it (about 1.5 CPU-minutes, shared with the end-to-end tests that follow)
@pytest.mark.timeout(900)
async def test_all_good_everywhere(
    migrated_url: str,
    e2e_data_dir: Path,
    tmp_path: Path,
    slack: SlackStandIn,
    telegram: TelegramApi,
    wire: DiscordWire,
) -> None:
    """The whole examination of a deployment where nothing is wrong: the model and index built
    by the real start-up path (shared with the end-to-end tests' data directory)."""
    from bot.bootstrap import build_understander
    from bot.clock import SystemClock
    from bot.storage.db import session_factory

    config = tmp_path / "helpdesk.yml"
    config.write_text(
        "queues:\n"
        f"  - {{name: default, channel: 'slack:{AGENTS}'}}\n"
        f"  - {{name: billing, channel: 'telegram:{GROUP}'}}\n"
        "  - {name: devices, channel: 'discord:42'}\n",
        encoding="utf-8",
    )
    settings = Settings(  # type: ignore[call-arg]
        HELPDESK_DATA_DIR=e2e_data_dir,
        HELPDESK_CONFIG=config,
        DATABASE_URL=migrated_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=slack.api_url,
        TELEGRAM_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram.base_url,
        DISCORD_TOKEN="not-a-real-token",
        DISCORD_API_URL=wire.base_url,
    )
    engine = create_engine(migrated_url)
    try:
        await build_understander(settings, DeskConfig(), session_factory(engine), SystemClock())
    finally:
        await engine.dispose()

    findings = await examine_with(settings)

    assert healthy(findings)
    assert [f for f in findings if f.status is not Status.OK] == []
    areas = {f.area for f in findings}
    assert {"helpdesk.yml", "database", "model", "slack", "telegram", "discord"} <= areas


def test_the_report_puts_each_fix_under_its_problem() -> None:
    from rich.console import Console

    from bot.cli.doctor.findings import fail, ok
    from bot.cli.doctor.report import show

    console = Console(record=True, width=200, color_system=None)
    show(
        [
            ok("database", "reachable", "sqlite:///x.db"),
            fail("slack", "scopes", "the token lacks commands", "add it, then reinstall"),
        ],
        console,
    )
    lines = console.export_text().splitlines()
    problem = lines.index("  ✗ scopes: the token lacks commands")
    assert lines[problem + 1].strip() == "→ add it, then reinstall"
    assert "1 problem(s) to fix" in lines[-1]


def test_invalid_settings_still_list_helpdesk_yml_problems(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.cli.doctor.examination import examine

    config = tmp_path / "helpdesk.yml"
    config.write_text("default_queue: nowhere\n", encoding="utf-8")
    monkeypatch.setenv("HELPDESK_CONFIG", str(config))
    monkeypatch.setenv("PORT", "eighty")
    findings = asyncio.run(examine())
    areas = [f.area for f in failed(findings)]
    assert areas == ["settings", "helpdesk.yml"]
