"""Settings: secrets and endpoints from the environment (and ``.env``), structure from
``helpdesk.yml``. Validated once at start and passed down; nothing reads the environment later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bundled(path: str) -> Path:
    return PROJECT_ROOT / path


class RoleMembers(BaseModel):
    """Who holds a role on each platform: platform -> user ids (or ``group:<id>``)."""

    model_config = {"extra": "forbid"}

    terminal: list[str] = Field(default_factory=list)
    slack: list[str] = Field(default_factory=list)
    discord: list[str] = Field(default_factory=list)
    telegram: list[str] = Field(default_factory=list)
    fake: list[str] = Field(default_factory=list)

    def for_platform(self, platform: str) -> list[str]:
        members: list[str] = getattr(self, platform, [])
        return members


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

    @field_validator("channel")
    @classmethod
    def _channel_ref(cls, value: str) -> str:
        from bot.messages import ChannelRef

        ChannelRef.parse(value)
        return value


class DeskConfig(BaseModel):
    """The structure of the desk, from helpdesk.yml."""

    model_config = {"extra": "forbid"}

    roles: Roles = Field(default_factory=Roles)
    queues: list[QueueConfig] = Field(
        default_factory=lambda: [QueueConfig(name="default", channel="terminal:agents")]
    )
    default_queue: str = "default"
    supported_languages: list[str] = Field(default_factory=lambda: ["en"])
    answer_threshold: float = 0.42  # min cosine of message and article to show it
    intent_threshold: float = 0.5  # min intent confidence to act on an intent
    stale_after_hours: float = 24.0  # a dialog idle this long starts over
    reopen_window_hours: float = 72.0
    max_message_chars: int = 4000

    @field_validator("queues")
    @classmethod
    def _at_least_one_queue(cls, value: list[QueueConfig]) -> list[QueueConfig]:
        if not value:
            raise ValueError("at least one queue is needed")
        return value

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
    nlu_data: Path = Field(default=_bundled("nlu/data"), alias="HELPDESK_NLU_DATA")
    config_file: Path = Field(default=Path("helpdesk.yml"), alias="HELPDESK_CONFIG")
    log_level: str = Field(default="WARNING", alias="HELPDESK_LOG_LEVEL")
    datasets_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "datasets", alias="HELPDESK_DATASETS_DIR"
    )
    nlu_backend: str = Field(default="builtin", alias="NLU_BACKEND")
    rasa_url: str = Field(default="", alias="RASA_URL")

    # the web process (Slack HTTP events, the Telegram webhook, health)
    web_host: str = Field(default="127.0.0.1", alias="HELPDESK_WEB_HOST")
    web_port: int = Field(default=8000, alias="PORT")

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
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models" / "nlu"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'helpdesk.db'}"


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def load_desk_config(path: Path) -> DeskConfig:
    """Read helpdesk.yml; a missing file means the defaults. Errors name the key."""
    if not path.exists():
        return DeskConfig()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return DeskConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
