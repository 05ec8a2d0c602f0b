"""Slack: the bot token (``auth.test``) and the scopes it was granted (Slack's
``x-oauth-scopes`` response header) against what the adapter needs, the bot's membership of each
agent channel (``conversations.info``), and Socket Mode (an app-level ``xapp-`` token that
``apps.connections.open`` accepts) or the HTTP events' signing secret, as the settings choose."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_scopes import (
    CHANNEL_INFO_SCOPES,
    PRIVATE_CHANNEL_SCOPE,
    REQUIRED_SCOPES,
    USERGROUP_SCOPE,
)
from bot.cli.doctor.findings import Finding, fail, mask, ok, skip, warn
from bot.cli.doctor.setup import agent_channels
from bot.config import DeskConfig, Settings

AREA = "slack"
TIMEOUT_SECONDS = 10
APPS_PAGE = "https://api.slack.com/apps → your app"
REFUSED_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
SIGNING_SECRET = re.compile(r"[0-9a-f]{32}")
UNREACHABLE = (aiohttp.ClientError, SlackRequestError, TimeoutError, OSError)


async def check_slack(settings: Settings, desk: DeskConfig) -> list[Finding]:
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.get_secret_value()
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT_SECONDS)
    findings = [*_mode(settings)]
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        findings.append(
            fail(
                AREA,
                "token",
                f"SLACK_BOT_TOKEN {mask(token)} was refused ({error})",
                f"copy the Bot User OAuth Token (xoxb-…) from {APPS_PAGE} → OAuth & "
                "Permissions; reinstall the app if it was revoked"
                if error in REFUSED_TOKEN
                else "see Slack's documentation of this error for auth.test",
            )
        )
        return [*findings, skip(AREA, "scopes", "needs a valid token")]
    except UNREACHABLE as exc:
        return [*findings, _unreachable(settings, exc)]
    findings.append(_token(token, auth.data))
    channels, private = await _channels(client, desk, str(auth.get("user", "the bot")))
    findings += channels
    findings.append(_scopes(auth.headers, desk, private))
    if settings.slack_app_token and settings.slack_app_token.get_secret_value():
        findings.append(await _app_token(settings, settings.slack_app_token.get_secret_value()))
    return findings


def _token(token: str, data: Any) -> Finding:
    who = f"@{data.get('user')} in {data.get('team')} ({data.get('team_id')})"
    if not token.startswith("xoxb-") or not data.get("bot_id"):
        return fail(
            AREA,
            "token",
            f"SLACK_BOT_TOKEN {mask(token)} is valid but is not a bot token ({who})",
            f"use the Bot User OAuth Token (xoxb-…) from {APPS_PAGE} → OAuth & Permissions",
        )
    return ok(AREA, "token", f"valid: {who}")


def _scopes(headers: Any, desk: DeskConfig, private: bool) -> Finding:
    granted_header = _header(headers, "x-oauth-scopes")
    if granted_header is None:
        return warn(
            AREA,
            "scopes",
            "Slack did not say which scopes the token has (no x-oauth-scopes header)",
            f"compare {APPS_PAGE} → OAuth & Permissions with the README's list",
        )
    granted = {scope.strip() for scope in granted_header.split(",") if scope.strip()}
    needed = dict(REQUIRED_SCOPES)
    if private:
        needed[PRIVATE_CHANNEL_SCOPE[0]] = PRIVATE_CHANNEL_SCOPE[1]
    members = [*desk.roles.agents.slack, *desk.roles.managers.slack, *desk.roles.admins.slack]
    if any(member.startswith("group:") for member in members):
        needed[USERGROUP_SCOPE[0]] = USERGROUP_SCOPE[1]
    missing = sorted(set(needed) - granted)
    if missing:
        return fail(
            AREA,
            "scopes",
            "the token lacks " + "; ".join(f"{scope} ({needed[scope]})" for scope in missing),
            f"add them under {APPS_PAGE} → OAuth & Permissions → Bot Token Scopes, then "
            "reinstall the app to the workspace",
        )
    return ok(AREA, "scopes", f"all {len(needed)} needed scopes granted")


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


async def _channels(
    client: AsyncWebClient, desk: DeskConfig, bot: str
) -> tuple[list[Finding], bool]:
    """One finding per agent channel, and whether any of them is private."""
    findings: list[Finding] = []
    private = False
    for key, ref in agent_channels(desk, AREA):
        check = f"channel {ref.channel}"
        try:
            answer = await client.conversations_info(channel=ref.channel)
        except SlackApiError as exc:
            findings.append(_channel_refused(check, key, ref.channel, exc))
            continue
        channel = answer.get("channel") or {}
        private = private or bool(channel.get("is_private"))
        name = f"#{channel.get('name', ref.channel)}"
        if channel.get("is_archived"):
            findings.append(
                fail(
                    AREA, check, f"{name} ({key}) is archived", f"unarchive {name} or change {key}"
                )
            )
        elif not channel.get("is_member"):
            findings.append(
                fail(
                    AREA,
                    check,
                    f"the bot is not a member of {name} ({key}): it cannot post cases there "
                    "nor see what agents write",
                    f"type `/invite @{bot}` in {name}",
                )
            )
        else:
            findings.append(ok(AREA, check, f"the bot is in {name} ({key})"))
    return findings, private


def _channel_refused(check: str, key: str, channel: str, exc: SlackApiError) -> Finding:
    error = str(exc.response.get("error", ""))
    if error == "missing_scope":
        scope = CHANNEL_INFO_SCOPES.get(channel[:1], "channels:read")
        return warn(
            AREA,
            check,
            f"could not look at {channel} ({key}): the token lacks {scope}",
            f"add {scope} (Bot Token Scopes) so membership can be checked, or check by hand",
        )
    if error == "channel_not_found":
        return fail(
            AREA,
            check,
            f"{channel} ({key}): no such channel, or a private one the bot is not in",
            f"check the channel id in helpdesk.yml ({key}); for a private channel, "
            "`/invite` the bot first",
        )
    return fail(AREA, check, f"{channel} ({key}): Slack answered {error}", f"check {key}")


def _mode(settings: Settings) -> list[Finding]:
    """Socket Mode or HTTP events, and the secret each needs."""
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    found: list[Finding] = []
    if not app_token and not secret:
        return [
            fail(
                AREA,
                "connection mode",
                "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP events) "
                "is set: the bot can send but never receives anything",
                "for Socket Mode set SLACK_APP_TOKEN (an app-level xapp- token with "
                "connections:write, Basic Information → App-Level Tokens); for HTTP events "
                "set SLACK_SIGNING_SECRET (Basic Information → App Credentials) and run the "
                "web role",
            )
        ]
    if app_token and not app_token.startswith("xapp-"):
        found.append(
            fail(
                AREA,
                "connection mode",
                f"SLACK_APP_TOKEN {mask(app_token)} is not an app-level token (xapp-…), so "
                "Socket Mode cannot connect",
                f"create one under {APPS_PAGE} → Basic Information → App-Level Tokens with "
                "the connections:write scope",
            )
        )
    if secret and not SIGNING_SECRET.fullmatch(secret):
        found.append(
            fail(
                AREA,
                "signing secret",
                "SLACK_SIGNING_SECRET does not look like a signing secret (32 hexadecimal "
                "characters): every HTTP event would be refused with 401",
                f"copy the Signing Secret from {APPS_PAGE} → Basic Information → App "
                "Credentials (not the client secret or a token)",
            )
        )
    if not found:
        modes = [
            *(["Socket Mode (worker)"] if app_token else []),
            *(["HTTP events on /slack/events (web)"] if secret else []),
        ]
        found.append(ok(AREA, "connection mode", " and ".join(modes)))
    return found


async def _app_token(settings: Settings, app_token: str) -> Finding:
    if not app_token.startswith("xapp-"):
        return skip(AREA, "app token", "not an app-level token")
    client = AsyncWebClient(base_url=settings.slack_api_url, timeout=TIMEOUT_SECONDS)
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        return fail(
            AREA,
            "app token",
            f"SLACK_APP_TOKEN {mask(app_token)} was refused by apps.connections.open ({error})",
            f"turn on Socket Mode under {APPS_PAGE} → Socket Mode, and use an app-level token "
            "with the connections:write scope (Basic Information → App-Level Tokens)",
        )
    except UNREACHABLE as exc:
        return _unreachable(settings, exc)
    return ok(AREA, "app token", "Socket Mode accepts it")


def _unreachable(settings: Settings, exc: Exception) -> Finding:
    return fail(
        AREA,
        "reachable",
        f"could not reach Slack at {settings.slack_api_url} ({type(exc).__name__}: {exc})",
        "check the network (and SLACK_API_URL, if set)",
    )
