"""Settings: secrets and endpoints from the environment (and ``.env``), structure from
``helpdesk.yml``. Validated once at start and passed down; nothing reads the environment later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bundled(path: str) -> Path:
    return PROJECT_ROOT / path


# The dialog's own intents (greet, thanks, handoff, status …): domain-neutral, bundled with the
# help desk and trained together with each business's topics (``<data dir>/nlu``).
DIALOG_NLU_DATA = _bundled("nlu/dialog")


class RoleMembers(BaseModel):
    """Who holds a role on each platform: platform -> user ids (or ``group:<id>``).

    The known platforms are fields; any other platform name (a stand-in, a new adapter) may be
    given too, as a list of ids."""

    model_config = {"extra": "allow"}

    terminal: list[str] = Field(default_factory=list)
    slack: list[str] = Field(default_factory=list)
    discord: list[str] = Field(default_factory=list)
    telegram: list[str] = Field(default_factory=list)
    fake: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _extra_platforms_are_id_lists(self) -> RoleMembers:
        for platform, members in (self.model_extra or {}).items():
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                raise ValueError(f"{platform}: expected a list of user ids")
        return self

    def for_platform(self, platform: str) -> list[str]:
        members: list[str] = getattr(self, platform, None) or []
        return members


def _members_by_platform(members: RoleMembers | None) -> dict[str, list[str]]:
    if members is None:
        return {}
    named = {name: getattr(members, name) for name in type(members).model_fields}
    return {p: ids for p, ids in {**named, **(members.model_extra or {})}.items() if ids}


class Roles(BaseModel):
    model_config = {"extra": "forbid"}

    agents: RoleMembers = Field(default_factory=lambda: RoleMembers(terminal=["agent"]))
    managers: RoleMembers = Field(default_factory=lambda: RoleMembers(terminal=["agent"]))
    admins: RoleMembers = Field(default_factory=lambda: RoleMembers(terminal=["agent"]))


class QueueConfig(BaseModel):
    model_config = {"extra": "forbid"}

    name: str
    channel: str  # a ChannelRef string: where this queue's escalation posts go
    intents: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)  # matches a case carrying any of these tags
    # Optional membership (``{slack: [U123], telegram: ["456"]}``, ``group:<id>`` entries too):
    # when ``agents`` is set, only these agents, the queue's ``managers`` and the desk's
    # managers may see and work this queue's cases; the queue's managers have a manager's say
    # over them. Members must be agents (``roles.agents``) as well.
    agents: RoleMembers | None = None
    managers: RoleMembers | None = None

    @field_validator("channel")
    @classmethod
    def _channel_ref(cls, value: str) -> str:
        from bot.messages import ChannelRef

        ChannelRef.parse(value)
        return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("low", "normal", "high", "urgent")
# The knowledge hit score (the message's cosine to an article) from which the bot answers with
# the article: chosen on dev data by `helpdesk bench sweep answer-threshold` (docs/benchmarks.md).
ANSWER_THRESHOLD = 0.5


def _valid_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin)") from exc
    return value


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a HH:MM time")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or total > 24 * 60:
        raise ValueError(f"{text!r} is not a time of day")
    return total


def parse_period(text: str) -> tuple[int, int]:
    """``"09:00-17:30"`` → minutes after midnight (540, 1050); ``24:00`` ends a day."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a HH:MM-HH:MM period")
    begin, finish = _minutes(start), _minutes(end)
    if begin >= finish:
        raise ValueError(f"{text!r} ends before it starts")
    return begin, finish


# Years whose DST rules a configured time is checked against.
_DST_CHECK_YEARS = range(2024, 2036)


@cache
def unclear_wall_time(timezone: str, minutes: int, weekday: int | None = None) -> date | None:
    """The first day (of ``weekday``, if given) on which the local time ``minutes`` after
    midnight is skipped or repeated by a clock change in ``timezone`` (None: never)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(timezone)
    first, last = date(_DST_CHECK_YEARS.start, 1, 1), date(_DST_CHECK_YEARS.stop, 1, 1)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    offsets = [datetime.combine(day, time(12), tz).utcoffset() for day in days]
    for before, after, day in zip(offsets, offsets[1:], days, strict=False):
        if before == after:
            continue
        for candidate in (day, day + timedelta(days=1)):  # the change is on one of them
            if weekday is not None and candidate.weekday() != weekday:
                continue
            wall = datetime.combine(candidate, time(0), tz) + timedelta(minutes=minutes)
            skipped = wall.astimezone(UTC).astimezone(tz).replace(fold=0) != wall.replace(fold=0)
            repeated = wall.replace(fold=0).utcoffset() != wall.replace(fold=1).utcoffset()
            if skipped or repeated:
                return candidate
    return None


class BusinessHours(BaseModel):
    """When the team works: a weekly schedule of periods in one time zone, minus holidays."""

    model_config = {"extra": "forbid"}

    timezone: str = "UTC"
    weekly: dict[str, list[str]] = Field(
        default_factory=lambda: {day: ["09:00-17:00"] for day in WEEKDAYS[:5]}
    )
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _valid_timezone(value)

    @field_validator("weekly")
    @classmethod
    def _schedule(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, periods in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)})")
            spans = sorted(parse_period(p) for p in periods)
            for (_, end), (start, _) in pairwise(spans):
                if start < end:
                    raise ValueError(f"{day}: periods overlap")
        if not any(value.values()):
            raise ValueError("no working periods at all (leave business_hours out for 24/7)")
        return value


class SlaTarget(BaseModel):
    """Targets in business hours."""

    model_config = {"extra": "forbid"}

    first_response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)


def _default_sla_policies() -> dict[str, SlaTarget]:
    return {
        "low": SlaTarget(first_response_hours=8, resolution_hours=40),
        "normal": SlaTarget(first_response_hours=4, resolution_hours=24),
        "high": SlaTarget(first_response_hours=1, resolution_hours=8),
        "urgent": SlaTarget(first_response_hours=0.5, resolution_hours=4),
    }


class SlaConfig(BaseModel):
    """Targets per priority (optionally per queue), the escalation ladder, stale handling."""

    model_config = {"extra": "forbid"}

    policies: dict[str, SlaTarget] = Field(default_factory=_default_sla_policies)
    queues: dict[str, dict[str, SlaTarget]] = Field(default_factory=dict)
    warning_fraction: float = Field(default=0.75, gt=0, lt=1)
    unclaimed_reping_minutes: float = Field(default=60, gt=0)
    nudge_after_hours: float = Field(default=48, gt=0)  # pending on the customer this long
    auto_close_after_hours: float = Field(default=72, gt=0)  # after the nudge
    check_every_seconds: int = Field(default=60, ge=5)

    @field_validator("policies")
    @classmethod
    def _priorities(cls, value: dict[str, SlaTarget]) -> dict[str, SlaTarget]:
        for priority in value:
            if priority not in PRIORITIES:
                raise ValueError(f"{priority!r} is not a priority ({', '.join(PRIORITIES)})")
        return {**_default_sla_policies(), **value}

    @field_validator("queues")
    @classmethod
    def _queue_priorities(
        cls, value: dict[str, dict[str, SlaTarget]]
    ) -> dict[str, dict[str, SlaTarget]]:
        for queue, policies in value.items():
            for priority in policies:
                if priority not in PRIORITIES:
                    raise ValueError(f"{queue}: {priority!r} is not a priority")
        return value

    def target(self, queue: str, priority: str) -> SlaTarget:
        by_queue = self.queues.get(queue, {})
        return by_queue.get(priority) or self.policies.get(priority) or self.policies["normal"]


class DigestConfig(BaseModel):
    """Scheduled manager digests; times are local to ``timezone`` (default: business hours')."""

    model_config = {"extra": "forbid"}

    daily: str | None = "09:00"  # HH:MM, or null for none
    weekly: str | None = "mon 09:00"  # "<weekday> HH:MM", or null
    timezone: str | None = None
    channels: list[str] = Field(default_factory=list)  # default: [managers_channel]
    chart_dir: str = ""  # where chart PNGs go (default: <data dir>/digests)

    @field_validator("daily")
    @classmethod
    def _daily(cls, value: str | None) -> str | None:
        if value is not None:
            _minutes(value)
        return value

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: str | None) -> str | None:
        if value is not None:
            day, _, at = value.strip().partition(" ")
            if day.lower() not in WEEKDAYS:
                raise ValueError(f"{value!r}: expected '<weekday> HH:MM', e.g. 'mon 09:00'")
            _minutes(at)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return _valid_timezone(value) if value is not None else None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        from bot.messages import ChannelRef

        for ref in value:
            ChannelRef.parse(ref)
        return value


class RetentionConfig(BaseModel):
    """How long personal data is kept; ``null`` keeps it. Enforced daily by the scheduler."""

    model_config = {"extra": "forbid"}

    # inbox and outbox payloads (what people wrote, what was sent) of finished rows
    raw_payloads_days: int | None = Field(default=None, ge=1)
    # the transcript texts (messages, notes, subject, rating comment) of cases closed this long
    closed_case_transcripts_months: int | None = Field(default=None, ge=1)
    # the questions kept with answer feedback (the knowledge-gap review reads them)
    feedback_queries_days: int | None = Field(default=None, ge=1)


class PrivacyConfig(BaseModel):
    """What agents see of customers' contact details."""

    model_config = {"extra": "forbid"}

    # mask email addresses and phone numbers in what agents see (card numbers are masked
    # before anything is stored, always)
    mask_agent_view: bool = False
    # the queue whose channel gets customers' erasure requests, for an admin to confirm
    # (default: the default queue)
    requests_queue: str | None = None


class Business(BaseModel):
    """Who the desk answers for; its words reach customers in the greeting and the off-topic
    reply (``bot.dialogs.wording``)."""

    model_config = {"extra": "forbid"}

    name: str = ""  # e.g. "Spoke & Sprocket"
    # what the bot covers, as a phrase that follows "about": "repairs, servicing and bookings"
    covers: str = ""
    # entities whose values become case tags (queues route on them); their values come from the
    # business's own lookup tables and regexes in <data dir>/nlu
    tag_entities: list[str] = Field(default_factory=lambda: ["product"])

    @field_validator("name", "covers")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) > 300:
            raise ValueError("at most 300 characters")
        return value


class DashboardConfig(BaseModel):
    """The managers' live dashboard (``/dashboard`` on the web process)."""

    model_config = {"extra": "forbid"}

    # where managers open it, e.g. "https://desk.example.com/dashboard": the sign-in links sent
    # in chat point here (the ``dashboard`` verb needs it)
    url: str | None = None
    # password sign-in: "platform:user-id" -> the hash ``helpdesk dashboard hash-password``
    # prints (never the password itself); the person must still be a manager or an admin
    passwords: dict[str, str] = Field(default_factory=dict)
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    link_minutes: float = Field(default=10.0, gt=0, le=24 * 60)

    @field_validator("passwords")
    @classmethod
    def _hashes_only(cls, value: dict[str, str]) -> dict[str, str]:
        for person, stored in value.items():
            if ":" not in person:
                raise ValueError(f"{person!r}: expected platform:user-id (e.g. slack:U0123)")
            parts = stored.split("$")
            if len(parts) != 6 or parts[0] != "scrypt":
                raise ValueError(
                    f"{person}: not a password hash (make one with "
                    "'helpdesk dashboard hash-password'; never put the password itself here)"
                )
        return value


class DeskConfig(BaseModel):
    """The structure of the desk, from helpdesk.yml."""

    model_config = {"extra": "forbid"}

    business: Business = Field(default_factory=Business)
    roles: Roles = Field(default_factory=Roles)
    queues: list[QueueConfig] = Field(
        default_factory=lambda: [QueueConfig(name="default", channel="terminal:agents")]
    )
    default_queue: str = "default"
    supported_languages: list[str] = Field(default_factory=lambda: ["en"])
    answer_threshold: float = ANSWER_THRESHOLD  # min cosine of message and article to show it
    # min intent confidence to act on an intent; 0: the classifier's own decision (its
    # calibrated out-of-scope floor), which is what the benchmarks measure
    intent_threshold: float = 0.0
    stale_after_hours: float = 24.0  # a dialog idle this long starts over
    reopen_window_hours: float = 72.0
    # an open case whose holder does nothing on it this long goes back to the queue
    claim_idle_minutes: float = Field(default=60.0, gt=0)
    max_message_chars: int = 4000
    # The help centre's article pages, e.g. "https://help.example.com/articles/{slug}": answers
    # link the whole article there. Without it, answers offer a "Show the whole article" button.
    help_center_url: str | None = None
    managers_channel: str | None = None  # a ChannelRef: SLA breaches and digests go here
    business_hours: BusinessHours | None = None  # None: the team is there around the clock
    sla: SlaConfig = Field(default_factory=SlaConfig)
    digests: DigestConfig = Field(default_factory=DigestConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)

    @field_validator("help_center_url")
    @classmethod
    def _names_the_slug(cls, value: str | None) -> str | None:
        if value is not None and "{slug}" not in value:
            raise ValueError(
                "help_center_url must contain {slug}, where each article's name goes "
                "(e.g. https://help.example.com/articles/{slug})"
            )
        return value

    @field_validator("queues")
    @classmethod
    def _at_least_one_queue(cls, value: list[QueueConfig]) -> list[QueueConfig]:
        if not value:
            raise ValueError("at least one queue is needed")
        return value

    @field_validator("managers_channel")
    @classmethod
    def _managers_channel(cls, value: str | None) -> str | None:
        from bot.messages import ChannelRef

        if value is not None:
            ChannelRef.parse(value)
        return value

    @model_validator(mode="after")
    def _queues_consistent(self) -> DeskConfig:
        names = [queue.name for queue in self.queues]
        if self.default_queue not in names:
            raise ValueError(f"default_queue: no queue named {self.default_queue!r}")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"queues: the name {duplicates[0]!r} is used twice")
        return self

    @model_validator(mode="after")
    def _queue_members_are_agents(self) -> DeskConfig:
        """A queue's members and managers work its cases, so each must be an agent of the desk
        (``roles.agents``); a member missing there would be refused everything without a word
        of why. Where the desk's agents are given by group the ids cannot be checked here."""
        agents = self.roles.agents
        for queue in self.queues:
            for part in ("agents", "managers"):
                members: RoleMembers | None = getattr(queue, part)
                for platform, ids in _members_by_platform(members).items():
                    desk_agents = agents.for_platform(platform)
                    if any(agent.startswith("group:") for agent in desk_agents):
                        continue
                    strangers = [i for i in ids if not i.startswith("group:")]
                    strangers = [i for i in strangers if i not in desk_agents]
                    if strangers:
                        raise ValueError(
                            f"queues[{queue.name}].{part}.{platform}: {strangers[0]!r} is not "
                            f"an agent of the desk; add it to roles.agents.{platform}"
                        )
        return self

    @model_validator(mode="after")
    def _privacy_queue_exists(self) -> DeskConfig:
        names = {queue.name for queue in self.queues}
        queue = self.privacy.requests_queue
        if queue is not None and queue not in names:
            raise ValueError(f"privacy.requests_queue: no queue named {queue!r}")
        return self

    @model_validator(mode="after")
    def _sla_queues_exist(self) -> DeskConfig:
        names = {queue.name for queue in self.queues}
        for queue in self.sla.queues:
            if queue not in names:
                raise ValueError(f"sla.queues: no queue named {queue!r}")
        return self

    @model_validator(mode="after")
    def _digest_times_exist(self) -> DeskConfig:
        """A digest scheduled at a time the clocks skip or repeat would run late, twice or for
        the wrong period; so would periods whose local midnight does not exist."""
        tz = self.digest_timezone
        times: list[tuple[str, str, int | None]] = []
        if self.digests.daily is not None:
            times.append(("digests.daily", self.digests.daily, None))
        if self.digests.weekly is not None:
            day, _, at = self.digests.weekly.strip().partition(" ")
            times.append(("digests.weekly", at, WEEKDAYS.index(day.lower())))
        for key, at, weekday in times:
            unclear = unclear_wall_time(tz, _minutes(at), weekday)
            if unclear is not None:
                raise ValueError(
                    f"{key}: {at.strip()} is skipped or repeated when the clocks change in {tz} "
                    f"(e.g. {unclear}); pick another time"
                )
        unclear = unclear_wall_time(tz, 0)
        if unclear is not None:
            raise ValueError(
                f"digests.timezone: in {tz} midnight is skipped or repeated when the clocks "
                f"change (e.g. {unclear}), so days have no clear start; set another zone"
            )
        return self

    @model_validator(mode="after")
    def _calendar_covers_targets(self) -> DeskConfig:
        """The business calendar must open long enough for every SLA target: a target needing
        more than a year of its open time is a mistake (and would fail at run time)."""
        hours = self.business_hours
        if hours is None:
            return self
        day_hours = [
            sum(end - start for start, end in map(parse_period, hours.weekly.get(day, []))) / 60
            for day in WEEKDAYS
        ]
        a_year = 52 * sum(day_hours) - len(set(hours.holidays)) * max(day_hours)
        targets = [(f"sla.policies.{p}", t) for p, t in self.sla.policies.items()] + [
            (f"sla.queues.{q}.{p}", t) for q, by in self.sla.queues.items() for p, t in by.items()
        ]
        for key, target in targets:
            for name in ("first_response_hours", "resolution_hours"):
                needed = getattr(target, name)
                if needed > a_year:
                    raise ValueError(
                        f"{key}.{name}: {needed:g} business hours is more than business_hours "
                        f"opens in a year ({sum(day_hours):g} h a week); lower the target or "
                        "widen the hours"
                    )
        return self

    @property
    def digest_channels(self) -> list[str]:
        if self.digests.channels:
            return list(self.digests.channels)
        return [self.managers_channel] if self.managers_channel else []

    @property
    def digest_timezone(self) -> str:
        if self.digests.timezone:
            return self.digests.timezone
        return self.business_hours.timezone if self.business_hours else "UTC"

    def queue(self, name: str) -> QueueConfig:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise ConfigError(f"helpdesk.yml: queues: no queue named {name!r}")


class Settings(BaseSettings):
    """Everything configurable. Environment names: ``DATABASE_URL``, ``HELPDESK_*``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="", alias="DATABASE_URL")
    data_dir: Path = Field(default=_bundled("data"), alias="HELPDESK_DATA_DIR")
    # the business's own training data (topic intents, entities); default <data dir>/nlu
    nlu_data: Path | None = Field(default=None, alias="HELPDESK_NLU_DATA")
    config_file: Path = Field(default=Path("helpdesk.yml"), alias="HELPDESK_CONFIG")
    log_level: str = Field(default="WARNING", alias="HELPDESK_LOG_LEVEL")
    # ``json``: one JSON object per log line, with the case, conversation and platform
    log_format: Literal["text", "json"] = Field(default="text", alias="HELPDESK_LOG_FORMAT")
    datasets_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "datasets", alias="HELPDESK_DATASETS_DIR"
    )
    # how much the BM25 ranking counts beside the dense one (``bot.knowledge.search.Fusion``)
    search_lexical_weight: float = Field(
        default=0.0, ge=0.0, le=10.0, alias="SEARCH_LEXICAL_WEIGHT"
    )
    # how long a process holds an inbound it is handling (renewed while it works); after a
    # crash, another process or the restart takes the inbound over once this runs out
    inbox_lease_seconds: float = Field(default=30.0, gt=0, alias="HELPDESK_INBOX_LEASE_SECONDS")
    # knowledge index: exact search below this many vectors, an HNSW graph from there on
    # (bot.knowledge.index.FLAT_BELOW; chosen by ``helpdesk bench kb-scale``)
    index_flat_below: int = Field(default=10_000, ge=1, alias="HELPDESK_INDEX_FLAT_BELOW")
    # conversations one process handles at the same moment (others wait their turn, holding no
    # database connection); the connection pool is sized from it. 32 fills the encoder's
    # batches; more only queues on the encoder and the database.
    concurrent_conversations: int = Field(
        default=32, ge=1, le=1000, alias="HELPDESK_CONCURRENT_CONVERSATIONS"
    )
    nlu_backend: str = Field(default="builtin", alias="NLU_BACKEND")
    # the sentence encoder: ``auto`` serves the ONNX export (made once, beside the intent model)
    # so serving never imports torch; ``torch`` or ``onnx`` forces one
    encoder: Literal["auto", "onnx", "torch"] = Field(default="auto", alias="HELPDESK_ENCODER")
    rasa_url: str = Field(default="", alias="RASA_URL")
    # Rasa's ``--auth-token``: sent as ``?token=`` when the help desk calls the Rasa server
    rasa_token: str = Field(default="", alias="RASA_TOKEN", repr=False)

    # the web process (Slack HTTP events, the Telegram webhook, health)
    web_host: str = Field(default="127.0.0.1", alias="HELPDESK_WEB_HOST")
    web_port: int = Field(default=8000, alias="PORT")
    # worker and scheduler processes: serve /metrics, /healthz and /readyz on this port (their
    # counters are their own; the web process shows only what it did)
    metrics_port: int | None = Field(default=None, alias="HELPDESK_METRICS_PORT")
    # signs the managers' dashboard sessions; without it the web process serves no dashboard
    dashboard_secret: SecretStr | None = Field(default=None, alias="HELPDESK_DASHBOARD_SECRET")

    # the web chat (``bot.adapters.web``): the server secret that signs visitors' session
    # tokens (the channel is on when it is set), the secret a site signs its logged-in
    # visitors' identities with, and the sites (origins) allowed to embed the widget
    web_secret: SecretStr | None = Field(default=None, alias="HELPDESK_WEB_SECRET")
    web_identity_secret: SecretStr | None = Field(
        default=None, alias="HELPDESK_WEB_IDENTITY_SECRET"
    )
    web_origins: str = Field(default="", alias="HELPDESK_WEB_ORIGINS")

    # Slack
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    # Telegram
    telegram_token: SecretStr | None = Field(default=None, alias="TELEGRAM_TOKEN")
    telegram_webhook_url: str = Field(default="", alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_url: str = Field(default="https://api.telegram.org/bot", alias="TELEGRAM_API_URL")

    # Discord
    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_api_url: str = Field(default="", alias="DISCORD_API_URL")
    discord_gateway_url: str = Field(default="", alias="DISCORD_GATEWAY_URL")

    @property
    def web_origin_list(self) -> tuple[str, ...]:
        """``HELPDESK_WEB_ORIGINS``: comma- or space-separated, e.g. ``https://shop.example``."""
        return tuple(o for o in self.web_origins.replace(",", " ").split() if o)

    def secret_values(self) -> list[str]:
        """Every secret's value, for log formatters to blank out."""
        values = (getattr(self, name) for name in type(self).model_fields)
        return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level (use {', '.join(LOG_LEVELS)})")
        return value.upper()

    @model_validator(mode="after")
    def _config_file_exists(self) -> Settings:
        # Without helpdesk.yml the defaults apply, but a path given on purpose must exist:
        # a mistyped HELPDESK_CONFIG would otherwise run the desk on defaults without a word.
        if "config_file" in self.model_fields_set and not self.config_file.is_file():
            raise ValueError(
                f"HELPDESK_CONFIG: {self.config_file} does not exist or is not a file "
                "(fix the path, or unset HELPDESK_CONFIG to use ./helpdesk.yml)"
            )
        return self

    def public_view(self) -> dict[str, Any]:
        """Settings as ``helpdesk config show`` prints them: secrets only as set / not set."""
        view: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                view[name] = "(set)" if value.get_secret_value() else "(empty)"
            elif value is None:
                view[name] = None
            else:
                view[name] = str(value)
        view["database_url"] = _hide_password(self.effective_database_url)
        return view

    @property
    def articles_dir(self) -> Path:
        return self.data_dir / "articles"

    @property
    def topic_nlu_data(self) -> Path:
        """The business's own intents and entities (Rasa YAML): a file or a directory."""
        return self.nlu_data if self.nlu_data is not None else self.data_dir / "nlu"

    @property
    def nlu_sources(self) -> list[Path]:
        """What the intent model trains on: the bundled dialog intents, then the business's
        topics. A data directory without ``nlu/`` has only the dialog's intents (its questions
        are answered from its articles); a HELPDESK_NLU_DATA given on purpose must exist."""
        topics = self.topic_nlu_data
        if self.nlu_data is None and not _has_training_files(topics):
            return [DIALOG_NLU_DATA]
        return [DIALOG_NLU_DATA, topics]

    @property
    def desk_config_file(self) -> Path:
        """helpdesk.yml: ``HELPDESK_CONFIG`` if set, else the data directory's own (what
        ``helpdesk init`` writes), else ./helpdesk.yml (which may be absent: the defaults)."""
        if "config_file" in self.model_fields_set:
            return self.config_file
        in_data_dir = self.data_dir / "helpdesk.yml"
        return in_data_dir if in_data_dir.is_file() else self.config_file

    @property
    def replies_file(self) -> Path:
        """The business's own wording, overriding the built-in replies by key."""
        return self.data_dir / "replies.yml"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models" / "nlu"

    @property
    def encoder_dir(self) -> Path:
        """The sentence encoder exported to ONNX (``nlu.onnx_encoder``), beside the intent model."""
        return self.data_dir / "models" / "encoder-onnx"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'helpdesk.db'}"


def _has_training_files(path: Path) -> bool:
    if path.is_file():
        return True
    return path.is_dir() and any(p.suffix in (".yml", ".yaml") for p in path.rglob("*"))


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def load_desk_config(path: Path) -> DeskConfig:
    """Read helpdesk.yml; a missing file means the defaults. Errors name the key."""
    desk, problems = validate_desk_config(path)
    if desk is None:
        raise ConfigError(f"{path}: {'; '.join(problems)}")
    return desk


def validate_desk_config(path: Path) -> tuple[DeskConfig | None, list[str]]:
    """helpdesk.yml read and validated: the configuration, or None and every problem found,
    each naming its key (``helpdesk doctor`` lists them one by one)."""
    if not path.exists():
        return DeskConfig(), []
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return None, [f"not valid YAML: {exc}"]
    if not isinstance(raw, dict):
        return None, ["expected a mapping at the top level"]
    try:
        return DeskConfig.model_validate(raw), []
    except ValidationError as exc:
        return None, [
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
