"""The database: reachable, at the code's schema revision, its outbox moving. The checks are
``/readyz``'s own (``bot.readiness``); the doctor only reads, it never creates or upgrades."""

from __future__ import annotations

from pathlib import Path

from bot.cli.doctor.findings import Finding, fail, ok, skip, warn
from bot.config import Settings

AREA = "database"
TIMEOUT_SECONDS = 5.0


async def check_database(settings: Settings) -> tuple[list[Finding], bool]:
    """The findings, and whether the schema is at head (what later checks need to read it)."""
    from sqlalchemy.pool import NullPool

    from bot.cli.database import database_errors, display_url
    from bot.clock import SystemClock
    from bot.errors import ConfigError, DatabaseUnavailable
    from bot.readiness import readiness
    from bot.storage.db import create_engine, session_factory

    url = settings.effective_database_url
    shown = display_url(url)
    missing = _missing_sqlite_file(url)
    if missing is not None:
        return [
            fail(
                AREA,
                "reachable",
                f"{shown}: the file {missing} does not exist yet",
                "run `helpdesk db upgrade` to create it (or check DATABASE_URL / "
                "HELPDESK_DATA_DIR if it should be elsewhere)",
            ),
            skip(AREA, "migrations", "no database to read"),
        ], False
    try:
        with database_errors(url):
            engine = create_engine(url, poolclass=NullPool)
    except (ConfigError, DatabaseUnavailable) as exc:
        return [fail(AREA, "reachable", str(exc), "fix DATABASE_URL")], False
    try:
        checks = await readiness(
            session_factory(engine), {}, SystemClock(), timeout=TIMEOUT_SECONDS
        )()
    finally:
        await engine.dispose()
    reachable, migrations, outbox = checks["database"], checks["migrations"], checks["outbox"]
    if not reachable.ok:
        return [
            fail(
                AREA,
                "reachable",
                f"cannot open {shown} ({reachable.detail})",
                _reach_advice(url),
            ),
            skip(AREA, "migrations", "the database is out of reach"),
        ], False
    findings = [ok(AREA, "reachable", shown)]
    if not migrations.ok:
        findings.append(
            fail(
                AREA,
                "migrations",
                migrations.detail,
                "run `helpdesk db upgrade` (every `helpdesk run` also upgrades at start); a "
                "database newer than the code needs the newer release",
            )
        )
        return findings, False
    findings.append(ok(AREA, "migrations", migrations.detail))
    if outbox.ok:
        findings.append(ok(AREA, "outbox", outbox.detail))
    else:
        findings.append(
            warn(
                AREA,
                "outbox",
                outbox.detail,
                "start the sender (`helpdesk run` — every role sends), then see "
                "`helpdesk outbox list`",
            )
        )
    return findings, True


def _missing_sqlite_file(url: str) -> Path | None:
    scheme, _, rest = url.partition("://")
    if not scheme.lower().startswith("sqlite"):
        return None
    path = rest.removeprefix("/").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return None if Path(path).exists() else Path(path)


def _reach_advice(url: str) -> str:
    if url.lower().startswith("sqlite"):
        return "check DATABASE_URL (or HELPDESK_DATA_DIR) and that the file can be read"
    return "check DATABASE_URL (host, port, name, password) and that the server is running"
