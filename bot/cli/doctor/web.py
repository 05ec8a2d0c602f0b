"""``helpdesk doctor``'s checks of the web chat: on when ``HELPDESK_WEB_SECRET`` is set; a
short secret and an empty origin allow-list are worth a word."""

from __future__ import annotations

from bot.cli.doctor.findings import Finding, ok, warn
from bot.config import DeskConfig, Settings

MIN_SECRET_CHARS = 32


async def check_web(settings: Settings, _desk: DeskConfig) -> list[Finding]:
    secret = settings.web_secret.get_secret_value() if settings.web_secret else ""
    findings = []
    if len(secret) < MIN_SECRET_CHARS:
        findings.append(
            warn(
                "web",
                "HELPDESK_WEB_SECRET",
                f"set, but only {len(secret)} characters: session tokens are as strong as it",
                'use 32 or more random characters: python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"',
            )
        )
    else:
        findings.append(ok("web", "HELPDESK_WEB_SECRET", "set: the web chat is on"))
    origins = settings.web_origin_list
    if origins:
        findings.append(ok("web", "HELPDESK_WEB_ORIGINS", "sites allowed: " + ", ".join(origins)))
    else:
        findings.append(
            warn(
                "web",
                "HELPDESK_WEB_ORIGINS",
                "empty: only the web process's own pages (/demo) may open the chat",
                "list your site's origins, e.g. HELPDESK_WEB_ORIGINS=https://shop.example",
            )
        )
    if not settings.web_identity_secret:
        findings.append(
            ok("web", "HELPDESK_WEB_IDENTITY_SECRET", "not set: every visitor is anonymous")
        )
    return findings
