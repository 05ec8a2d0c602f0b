"""What ``helpdesk doctor`` found: one :class:`Finding` per check, each saying what was seen and,
when something is wrong, how to fix it."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but not as well as it could; does not fail the doctor
    FAIL = "fail"  # the deployment will not work as configured
    SKIP = "skip"  # could not be checked because an earlier check failed


@dataclass(frozen=True)
class Finding:
    area: str  # "settings", "helpdesk.yml", "database", "model", "slack", "telegram", "discord"
    check: str  # what was checked, e.g. "token", "agent channel C0123"
    status: Status
    detail: str  # what was seen
    fix: str = ""  # what to do about it (empty when nothing is to be done)

    def as_json(self) -> dict[str, str]:
        return {
            "area": self.area,
            "check": self.check,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def ok(area: str, check: str, detail: str) -> Finding:
    return Finding(area, check, Status.OK, detail)


def warn(area: str, check: str, detail: str, fix: str) -> Finding:
    return Finding(area, check, Status.WARN, detail, fix)


def fail(area: str, check: str, detail: str, fix: str) -> Finding:
    return Finding(area, check, Status.FAIL, detail, fix)


def skip(area: str, check: str, why: str) -> Finding:
    return Finding(area, check, Status.SKIP, why)


def healthy(findings: Iterable[Finding]) -> bool:
    """No check failed (warnings and skips that follow a failure do not count on their own)."""
    return all(finding.status is not Status.FAIL for finding in findings)


def mask(secret: str) -> str:
    """A secret as the report may show it: enough to tell which one it is, never the secret."""
    if len(secret) < 12:
        return "…"
    return f"{secret[:5]}…{secret[-3:]}"


def redacted(findings: Iterable[Finding], secrets: Iterable[str]) -> list[Finding]:
    """``findings`` with every secret replaced by its mask, wherever an error message or a URL
    (Telegram's carries the token) may have put it."""
    hidden = sorted((s for s in secrets if s), key=len, reverse=True)

    def clean(text: str) -> str:
        for secret in hidden:
            text = text.replace(secret, mask(secret))
        return text

    return [replace(f, detail=clean(f.detail), fix=clean(f.fix)) for f in findings]
