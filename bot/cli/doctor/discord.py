"""Discord, over its REST API (``DISCORD_API_URL``, else discord.com): the token
(``GET /users/@me``), the privileged intents the adapter asks for — MESSAGE CONTENT and SERVER
MEMBERS — switched on for the application (its ``flags``, ``GET /oauth2/applications/@me``), and
in each agent channel the bot's permissions, computed from the guild's roles, the bot's roles
and the channel's overwrites as Discord does (``GET /channels/{id}``, ``/guilds/{id}``,
``/guilds/{id}/members/{bot}``)."""

from __future__ import annotations

from typing import Any

import discord
import httpx

from bot.cli.doctor.findings import Finding, fail, mask, ok, skip, warn
from bot.cli.doctor.setup import agent_channels
from bot.config import DeskConfig, Settings

AREA = "discord"
DEFAULT_API = "https://discord.com/api/v10"
TIMEOUT_SECONDS = 10.0
PORTAL = "https://discord.com/developers/applications → your app"

# application flags (Discord: Application object → Application flags)
GATEWAY_GUILD_MEMBERS = 1 << 14
GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
INTENTS = {
    "MESSAGE CONTENT": (
        GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED,
        "without it every message arrives with empty text",
    ),
    "SERVER MEMBERS": (
        GATEWAY_GUILD_MEMBERS | GATEWAY_GUILD_MEMBERS_LIMITED,
        "without it agents' roles are unknown and the gateway refuses the bot (close 4014)",
    ),
}

# permission bits, as discord.py names them (Discord: Permissions → Bitwise Permission Flags)
_FLAGS = discord.Permissions
ADMINISTRATOR = _FLAGS.administrator.flag
VIEW_CHANNEL = _FLAGS.view_channel.flag
SEND_MESSAGES = _FLAGS.send_messages.flag
READ_MESSAGE_HISTORY = _FLAGS.read_message_history.flag
MANAGE_THREADS = _FLAGS.manage_threads.flag
CREATE_PUBLIC_THREADS = _FLAGS.create_public_threads.flag
SEND_MESSAGES_IN_THREADS = _FLAGS.send_messages_in_threads.flag
ALL_PERMISSIONS = _FLAGS.all().value
NEEDED = {
    "View Channel": VIEW_CHANNEL,
    "Send Messages": SEND_MESSAGES,
    "Read Message History": READ_MESSAGE_HISTORY,
    "Create Public Threads": CREATE_PUBLIC_THREADS,
    "Send Messages in Threads": SEND_MESSAGES_IN_THREADS,
}
# closing a case locks its thread; without it the thread is only archived
WANTED = {"Manage Threads": MANAGE_THREADS}


class DiscordRefused(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.code = body.get("code") if isinstance(body, dict) else None
        self.message = body.get("message", "") if isinstance(body, dict) else str(body)


async def check_discord(settings: Settings, desk: DeskConfig) -> list[Finding]:
    assert settings.discord_token is not None
    token = settings.discord_token.get_secret_value()
    base = (settings.discord_api_url or DEFAULT_API).rstrip("/")
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bot {token}"}, timeout=TIMEOUT_SECONDS
    ) as http:
        try:
            me = await _get(http, "/users/@me")
        except DiscordRefused as exc:
            return [
                fail(
                    AREA,
                    "token",
                    f"DISCORD_TOKEN {mask(token)} was refused ({exc.status} {exc.message})",
                    f"copy the bot token from {PORTAL} → Bot → Reset Token",
                ),
                skip(AREA, "intents", "needs a valid token"),
            ]
        except httpx.HTTPError as exc:
            return [
                fail(
                    AREA,
                    "reachable",
                    f"could not reach Discord at {base} ({type(exc).__name__}: {exc})",
                    "check the network (and DISCORD_API_URL, if set)",
                )
            ]
        if not me.get("bot"):
            return [
                fail(
                    AREA,
                    "token",
                    f"DISCORD_TOKEN {mask(token)} belongs to a user account, not a bot",
                    f"use the bot token from {PORTAL} → Bot",
                )
            ]
        findings = [ok(AREA, "token", f"valid: {me.get('username')} ({me.get('id')})")]
        findings.append(await _intents(http))
        for key, ref in agent_channels(desk, AREA):
            findings.append(await _channel(http, str(me["id"]), key, ref.channel))
    return findings


async def _get(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await http.get(path)
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    if response.status_code != 200:
        raise DiscordRefused(response.status_code, body)
    return dict(body)


async def _intents(http: httpx.AsyncClient) -> Finding:
    try:
        application = await _get(http, "/oauth2/applications/@me")
    except DiscordRefused as exc:
        return warn(
            AREA,
            "intents",
            f"could not read the application ({exc.status} {exc.message})",
            f"check {PORTAL} → Bot → Privileged Gateway Intents by hand",
        )
    flags = int(application.get("flags") or 0)
    missing = [name for name, (bits, _) in INTENTS.items() if not flags & bits]
    if missing:
        return fail(
            AREA,
            "intents",
            "privileged intents off: "
            + "; ".join(f"{name} ({INTENTS[name][1]})" for name in missing),
            f"turn on {' and '.join(f'{n} INTENT' for n in missing)} under {PORTAL} → Bot → "
            "Privileged Gateway Intents",
        )
    return ok(AREA, "intents", "MESSAGE CONTENT and SERVER MEMBERS on")


async def _channel(http: httpx.AsyncClient, bot_id: str, key: str, channel_id: str) -> Finding:
    check = f"channel {channel_id}"
    try:
        channel = await _get(http, f"/channels/{channel_id}")
        guild_id = str(channel.get("guild_id") or "")
        if not guild_id:
            return fail(AREA, check, f"{channel_id} ({key}) is not a server channel", f"fix {key}")
        guild = await _get(http, f"/guilds/{guild_id}")
        member = await _get(http, f"/guilds/{guild_id}/members/{bot_id}")
    except DiscordRefused as exc:
        if exc.code == 10003 or exc.status == 404:
            return fail(
                AREA,
                check,
                f"{channel_id} ({key}): no such channel",
                f"check the channel id in helpdesk.yml ({key}; Developer Mode → Copy Channel ID)",
            )
        return fail(
            AREA,
            check,
            f"the bot cannot see {channel_id} ({key}): {exc.status} {exc.message}",
            "invite the bot to the server and give it View Channel in that channel",
        )
    name = f"#{channel.get('name', channel_id)}"
    granted = permissions(guild, member, channel, bot_id)
    missing = [name_ for name_, bit in NEEDED.items() if not granted & bit]
    if missing:
        return fail(
            AREA,
            check,
            f"in {name} ({key}) the bot lacks {', '.join(missing)}",
            "grant them to the bot's role in the channel's settings (Permissions), or in "
            "the server's role settings",
        )
    lacking = [name_ for name_, bit in WANTED.items() if not granted & bit]
    if lacking:
        return warn(
            AREA,
            check,
            f"the bot may post and open threads in {name} ({key}) but lacks "
            f"{', '.join(lacking)}: closed cases' threads are archived, not locked",
            "grant Manage Threads to the bot's role in that channel",
        )
    return ok(AREA, check, f"the bot may post and open threads in {name} ({key})")


def permissions(
    guild: dict[str, Any], member: dict[str, Any], channel: dict[str, Any], user_id: str
) -> int:
    """The member's permissions in the channel, computed as Discord documents it: @everyone
    and the member's roles, then the channel's overwrites for @everyone, the roles, the member."""
    if str(guild.get("owner_id")) == user_id:
        return ALL_PERMISSIONS
    guild_id = str(guild["id"])
    roles = {str(role["id"]): int(role.get("permissions") or 0) for role in guild.get("roles", [])}
    mine = {str(role) for role in member.get("roles", [])}
    granted = roles.get(guild_id, 0)
    for role in mine:
        granted |= roles.get(role, 0)
    if granted & ADMINISTRATOR:
        return ALL_PERMISSIONS
    overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites", [])}

    def apply(value: int, allow: int, deny: int) -> int:
        return (value & ~deny) | allow

    everyone = overwrites.get(guild_id)
    if everyone:
        granted = apply(granted, int(everyone["allow"]), int(everyone["deny"]))
    allow = deny = 0
    for role in mine:
        if role in overwrites:
            allow |= int(overwrites[role]["allow"])
            deny |= int(overwrites[role]["deny"])
    granted = apply(granted, allow, deny)
    own = overwrites.get(user_id)
    if own:
        granted = apply(granted, int(own["allow"]), int(own["deny"]))
    return granted
