"""Telegram: the token (``getMe``), privacy mode (``can_read_all_group_messages``), and in each
agent group the bot's membership and rights (``getChat`` / ``getChatMember``: an admin, allowed
to manage topics where the group has them), Topics where helpdesk.yml names a topic, and the
webhook Telegram has on record (``getWebhookInfo``: where updates go now, its last error). The
group facts come from the adapter's own start-up check (``telegram_checks.check_group``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.adapters.telegram_checks import GroupStatus, check_group
from bot.cli.doctor.findings import Finding, fail, mask, ok, skip, warn
from bot.cli.doctor.setup import agent_channels
from bot.config import DeskConfig, Settings
from bot.messages import ChannelRef

AREA = "telegram"
TIMEOUT_SECONDS = 10.0
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to
PRIVACY = "in @BotFather: /mybots → your bot → Bot Settings → Group Privacy → Turn off"


async def check_telegram(settings: Settings, desk: DeskConfig) -> list[Finding]:
    assert settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    requests = [
        HTTPXRequest(connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS)
        for _ in range(2)
    ]
    bot = Bot(
        token,
        base_url=settings.telegram_api_url,
        request=requests[0],
        get_updates_request=requests[1],
    )
    try:
        return [*_webhook(settings), *await _bot_and_groups(bot, token, settings, desk)]
    finally:
        for request in requests:
            await request.shutdown()


async def _bot_and_groups(
    bot: Bot, token: str, settings: Settings, desk: DeskConfig
) -> list[Finding]:
    try:
        me = await bot.get_me()
    except InvalidToken:
        return [
            fail(
                AREA,
                "token",
                f"TELEGRAM_TOKEN {mask(token)} was refused (Unauthorized)",
                "copy the token @BotFather gave the bot (/mybots → your bot → API Token); "
                "a /revoke there makes a new one",
            ),
            skip(AREA, "agent groups", "needs a valid token"),
        ]
    except (TelegramError, OSError) as exc:
        return [
            fail(
                AREA,
                "reachable",
                f"could not reach Telegram at {settings.telegram_api_url} ({exc})",
                "check the network (and TELEGRAM_API_URL, if set)",
            )
        ]
    reads_all = bool(me.can_read_all_group_messages)
    findings = [
        ok(AREA, "token", f"valid: @{me.username}"),
        ok(AREA, "privacy mode", "off: the bot reads every group message")
        if reads_all
        else ok(AREA, "privacy mode", "on (an admin bot still sees every group message)"),
    ]
    findings.append(await _registration(bot, settings))
    for key, ref in agent_channels(desk, AREA):
        findings += _group(key, ref, await check_group(bot, ref.channel), reads_all)
    return findings


async def _registration(bot: Bot, settings: Settings) -> Finding:
    """What Telegram itself has on record (``getWebhookInfo``): where it sends updates now, and
    its last failure to deliver them there."""
    check = "webhook at Telegram"
    try:
        info = await bot.get_webhook_info()
    except (TelegramError, OSError) as exc:
        return warn(AREA, check, f"getWebhookInfo failed ({exc})", "run the doctor again")
    wanted = settings.telegram_webhook_url or ""
    waiting = f"{info.pending_update_count} update(s) waiting"
    if not wanted:
        if info.url:
            return warn(
                AREA,
                check,
                f"Telegram sends this bot's updates to the webhook {info.url}; the worker "
                "deletes it when it starts polling, and whatever serves that URL stops receiving",
                "if another deployment uses that webhook, give each deployment a bot of its own",
            )
        return ok(AREA, check, f"none: the worker polls ({waiting})")
    if info.url != wanted:
        return warn(
            AREA,
            check,
            f"Telegram sends updates to {info.url or 'no webhook'}; the web role registers "
            f"{wanted} when it starts",
            "start the web role (helpdesk run --role web), or correct TELEGRAM_WEBHOOK_URL",
        )
    if info.last_error_message:
        when = info.last_error_date
        at = f" at {when:%Y-%m-%d %H:%M} UTC" if when is not None else ""
        return warn(
            AREA,
            check,
            f"Telegram last failed to deliver to {wanted}{at}: {info.last_error_message} "
            f"({waiting})",
            "make the web role reachable at that URL over HTTPS with a valid certificate "
            f"(ports {', '.join(map(str, WEBHOOK_PORTS))})",
        )
    return ok(AREA, check, f"registered at {wanted} ({waiting})")


def _group(key: str, ref: ChannelRef, status: GroupStatus, reads_all: bool) -> list[Finding]:
    check = f"group {ref.channel}"
    if not status.reachable:
        return [
            fail(
                AREA,
                check,
                f"the bot is not in the group {ref.channel} ({key}) or cannot open it",
                "add the bot to the group and check the chat id in helpdesk.yml "
                "(a supergroup's id starts with -100)",
            )
        ]
    found: list[Finding] = []
    if status.is_admin:
        found.append(ok(AREA, check, f"the bot is an admin ({key})"))
    elif reads_all:
        found.append(
            warn(
                AREA,
                check,
                f"the bot is a member but not an admin ({key}); it reads notes only because "
                "privacy mode is off",
                "make it an admin of the group, so topics can be managed too",
            )
        )
    else:
        found.append(
            fail(
                AREA,
                check,
                f"the bot is not an admin ({key}) and privacy mode is on: it sees only commands "
                "and replies to its own messages, so agents' notes are missed",
                f"make the bot an admin of the group, or turn privacy mode off ({PRIVACY})",
            )
        )
    found.append(_topics(key, ref, status))
    return found


def _topics(key: str, ref: ChannelRef, status: GroupStatus) -> Finding:
    check = f"topics {ref.channel}"
    if not status.is_forum:
        if ref.thread:
            return fail(
                AREA,
                check,
                f"{key} names topic {ref.thread}, but the group has Topics off",
                "turn Topics on in the group's settings (Edit → Topics), or drop the "
                f"/{ref.thread} from {key}",
            )
        return warn(
            AREA,
            check,
            "Topics are off: each case's thread is the reply chain of its post",
            "turn Topics on in the group's settings (Edit → Topics) for a topic per case",
        )
    if not status.can_manage_topics:
        return fail(
            AREA,
            check,
            "the group has Topics but the bot may not manage them: cases land in General "
            "instead of a topic each",
            "give the bot the admin right 'Manage topics'",
        )
    return ok(AREA, check, "Topics on; the bot may manage them")


def _webhook(settings: Settings) -> list[Finding]:
    url = settings.telegram_webhook_url
    secret = settings.telegram_webhook_secret
    if not url:
        return [ok(AREA, "updates", "long polling (worker)")]
    if secret is None or not secret.get_secret_value():
        return [
            fail(
                AREA,
                "updates",
                "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not, so the "
                "adapter refuses to start",
                "set TELEGRAM_WEBHOOK_SECRET (1-256 characters A-Z a-z 0-9 _ -)",
            )
        ]
    if not url.startswith("https://"):
        return [
            fail(
                AREA,
                "updates",
                f"TELEGRAM_WEBHOOK_URL {url} is not https: Telegram sends webhooks only there",
                "serve the web role behind HTTPS and use that URL",
            )
        ]
    port = urlsplit(url).port or 443
    if port not in WEBHOOK_PORTS:
        return [
            fail(
                AREA,
                "updates",
                f"TELEGRAM_WEBHOOK_URL {url} uses port {port}: Telegram sends webhooks only to "
                f"ports {', '.join(map(str, WEBHOOK_PORTS))}",
                "serve the web role (or its proxy) on one of those ports",
            )
        ]
    return [ok(AREA, "updates", f"webhook to {url} (web)")]
