"""Channel-neutral message types shared by the adapters, the dialog engine and the outbox.

Everything here is a frozen dataclass built from the standard library only. A ``ChannelRef`` has
one string form used in configuration, logs and the database::

    slack:C0123                      a channel or DM
    slack:C0123/1700000000.000100    a thread in it
    telegram:-100123/55              a forum topic
    discord:123456   terminal:customer   terminal:agents
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

BUTTON_PAYLOAD_MAX_BYTES = 64  # Telegram's callback_data limit; Discord allows 100


@dataclass(frozen=True)
class ChannelRef:
    """Where a message lives: a platform, a channel (or chat / DM) and optionally a thread."""

    platform: str
    channel: str
    thread: str | None = None

    @classmethod
    def parse(cls, text: str) -> ChannelRef:
        platform, sep, rest = text.partition(":")
        if not sep or not platform or not rest:
            raise ValueError(f"not a channel reference: {text!r} (expected platform:channel)")
        channel, _, thread = rest.partition("/")
        if not channel:
            raise ValueError(f"not a channel reference: {text!r} (empty channel)")
        return cls(platform=platform, channel=channel, thread=thread or None)

    def in_thread(self, thread: str | None) -> ChannelRef:
        return ChannelRef(self.platform, self.channel, thread)

    @property
    def without_thread(self) -> ChannelRef:
        return ChannelRef(self.platform, self.channel)

    def __str__(self) -> str:
        base = f"{self.platform}:{self.channel}"
        return f"{base}/{self.thread}" if self.thread else base


class InboundKind(enum.StrEnum):
    MESSAGE = "message"
    ACTION = "action"  # a button click: ``action`` + ``value``
    FORM = "form"  # a submitted modal: ``fields``
    COMMAND = "command"  # a native slash command: ``text`` is "verb args"


@dataclass(frozen=True)
class Inbound:
    """One thing a person did on a platform, translated by an adapter."""

    kind: InboundKind
    event_id: str  # the platform's own id: the inbox dedupes on (platform, event_id)
    channel: ChannelRef
    user_id: str
    user_name: str = ""
    text: str = ""
    action: str = ""  # for ACTION/FORM: the verb of the button payload
    value: str = ""  # for ACTION: the rest of the button payload ("case:arg")
    fields: Mapping[str, str] = field(default_factory=dict)  # for FORM
    is_direct: bool = True  # a DM / private chat, as opposed to a shared channel
    attachments: tuple[str, ...] = ()  # names of files the person attached
    groups: tuple[str, ...] = ()  # the sender's platform groups/roles (for role checks)
    received_at: datetime | None = None
    # The platform's handle for answering this person privately, when the event carries one:
    # Slack's ``response_url``, a Discord interaction token, a Telegram callback query id.
    reply_token: str = ""
    # What the person said before, as the platform's own assistant heard it (Rasa's
    # transcript and slots), for a case opened from there: oldest first.
    context: tuple[str, ...] = ()
    # Stored as it arrived: the sender's name and groups not looked up yet, the text still in
    # the platform's wire form. The adapter completes it (``CompletesInbounds``) just before it
    # is handled, so storing it never waits on the platform's API.
    needs_completion: bool = False
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def platform(self) -> str:
        return self.channel.platform


@dataclass(frozen=True)
class Button:
    """A choice offered with a message. ``payload`` is ``verb:case:arg`` and fits 64 bytes.

    ``opens_form`` marks buttons (Reply) whose click the adapter answers with the platform's
    modal itself: a trigger id lives for seconds, so that cannot wait for the outbox.
    """

    label: str
    payload: str
    style: str = "default"  # "primary" | "danger" | "default"
    opens_form: bool = False

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > BUTTON_PAYLOAD_MAX_BYTES:
            raise ValueError(
                f"button payload over {BUTTON_PAYLOAD_MAX_BYTES} bytes: {self.payload!r}"
            )
        if self.payload.count(":") < 2:
            raise ValueError(f"button payload must be verb:case:arg, got {self.payload!r}")


def button_payload(verb: str, case: int | str = "", arg: str = "") -> str:
    return f"{verb}:{case}:{arg}"


def split_payload(payload: str) -> tuple[str, str, str]:
    verb, _, rest = payload.partition(":")
    case, _, arg = rest.partition(":")
    return verb, case, arg


@dataclass(frozen=True)
class SentRef:
    """What a platform gave back for a sent message, so later edits and replies find it."""

    platform: str
    channel: str
    message_id: str
    thread: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "platform": self.platform,
            "channel": self.channel,
            "message_id": self.message_id,
            "thread": self.thread,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentRef:
        return cls(
            platform=str(data["platform"]),
            channel=str(data["channel"]),
            message_id=str(data["message_id"]),
            thread=data.get("thread"),
        )


class OutboundKind(enum.StrEnum):
    POST = "post"  # a new message
    EDIT = "edit"  # replace the text/buttons of ``edit_of``
    OPEN_THREAD = "open_thread"  # start a case thread/topic; the SentRef's thread is its id
    CLOSE_THREAD = "close_thread"


@dataclass(frozen=True)
class Outbound:
    """One message (or thread operation) for the outbox to deliver."""

    channel: ChannelRef
    text: str
    kind: OutboundKind = OutboundKind.POST
    buttons: tuple[Button, ...] = ()
    edit_of: SentRef | None = None
    title: str = ""  # OPEN_THREAD: the thread/topic name
    format: str = "plain"  # "plain" text; adapters escape it for their markup
    attribution: str = ""  # "Dana (Support)": shown before relayed text
    # A platform user id: only that person sees the message (Slack ephemeral, a Discord
    # ephemeral follow-up, a Telegram callback alert or DM). ``reply_token`` is the inbound's.
    private_to: str = ""
    reply_token: str = ""
    # A file to attach (a digest's chart), on this host; adapters without ``files`` post the
    # text alone.
    file_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": str(self.channel),
            "text": self.text,
            "kind": self.kind.value,
            "buttons": [
                {
                    "label": b.label,
                    "payload": b.payload,
                    "style": b.style,
                    "opens_form": b.opens_form,
                }
                for b in self.buttons
            ],
            "edit_of": self.edit_of.to_dict() if self.edit_of else None,
            "title": self.title,
            "format": self.format,
            "attribution": self.attribution,
            "private_to": self.private_to,
            "reply_token": self.reply_token,
            "file_path": self.file_path,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outbound:
        return cls(
            channel=ChannelRef.parse(data["channel"]),
            text=data.get("text", ""),
            kind=OutboundKind(data.get("kind", "post")),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            edit_of=SentRef.from_dict(data["edit_of"]) if data.get("edit_of") else None,
            title=data.get("title", ""),
            format=data.get("format", "plain"),
            attribution=data.get("attribution", ""),
            private_to=data.get("private_to", ""),
            reply_token=data.get("reply_token", ""),
            file_path=data.get("file_path", ""),
        )


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show; the engine degrades gracefully where one is missing."""

    threads: bool = False
    edits: bool = False
    buttons: bool = False
    forms: bool = False
    files: bool = False


InboundHandler = Callable[[Inbound], Awaitable[None]]

# Given to adapters by the composition root: may this person use agent actions (Claim, the
# Reply form)? Lets an adapter refuse privately at click time, before it opens any form.
AgentGate = Callable[[Inbound], bool]

# Given to adapters by the composition root: does the help desk take part in this thread of a
# shared channel? Answered from the database (never from an adapter's memory), so every
# process, before or after a restart, lets the same messages in.
ThreadLookup = Callable[[ChannelRef], Awaitable[bool]]


# What the intake asks an adapter just before handling an inbound stored with
# ``needs_completion``: the same inbound with its name, groups and plain text filled in.
InboundCompleter = Callable[[Inbound], Awaitable[Inbound]]


@runtime_checkable
class CompletesInbounds(Protocol):
    """An adapter that stores inbounds before looking anything up (Slack: the acknowledgement
    must not wait on ``users.info``) and completes them when they are handled. A look-up that
    fails raises: the inbox tries the inbound again later, by its retry rules."""

    async def complete(self, inbound: Inbound) -> Inbound: ...


@runtime_checkable
class FollowsThreads(Protocol):
    """An adapter that is sent every message of a shared channel and hands over only those in
    threads the help desk follows (Slack); it asks ``lookup`` as each message arrives."""

    def follow_threads_with(self, lookup: ThreadLookup) -> None: ...


@dataclass(frozen=True)
class AdapterNotices:
    """Sentences an adapter may need to say on its own (all wording lives with the replies):
    the composition root hands them over. Empty: say nothing."""

    thread_unavailable: str = ""  # a case thread could not be opened


@runtime_checkable
class SaysNotices(Protocol):
    def use_notices(self, notices: AdapterNotices) -> None: ...


@runtime_checkable
class GatesAgentActions(Protocol):
    """An adapter that checks the role at click time (before opening a form) takes the gate
    from the composition root."""

    def use_agent_gate(self, gate: AgentGate) -> None: ...


@runtime_checkable
class HoldsConnection(Protocol):
    """An adapter that holds a connection of its own (Discord's gateway): ``wait_lost``
    returns or raises once it has ended for good, and ``failure`` says why (for health)."""

    @property
    def failure(self) -> str | None: ...

    async def wait_lost(self) -> None: ...


@dataclass(frozen=True)
class LoggedMessage:
    """One entry of a web chat session's log: ``seq`` orders a session's entries and is what a
    reconnecting browser names as the last one it saw."""

    seq: int
    session: str
    body: Mapping[str, Any]


class SessionLog(Protocol):
    """The durable per-session log of the web chat (what the visitor wrote, what was sent to
    them), kept in the database so any web process, after any restart, can replay it."""

    async def append(self, session: str, body: Mapping[str, Any], *, client_id: str = "") -> int:
        """Store one entry and return its ``seq``; an entry with a ``client_id`` already stored
        for the session is not stored twice (its first ``seq`` is returned)."""
        ...

    async def since(self, session: str, after: int, limit: int) -> list[LoggedMessage]:
        """The session's entries with ``seq > after``, oldest first."""
        ...

    async def latest(self, sessions: Collection[str]) -> dict[str, int]:
        """The newest ``seq`` of each of ``sessions`` that has entries."""
        ...


@runtime_checkable
class KeepsSessionLog(Protocol):
    """An adapter that keeps its conversations in a ``SessionLog`` (the web chat); the
    composition root hands it the database-backed one."""

    def use_session_log(self, log: SessionLog) -> None: ...


@runtime_checkable
class ServesHttp(Protocol):
    """An adapter that receives events over HTTP (Slack's Events API, Telegram's webhook)
    offers ASGI routes; the ``web`` process mounts them on its one port."""

    def http_routes(self) -> list[Any]: ...


class Channel(Protocol):
    """A platform adapter: it only translates between the platform and these types."""

    platform: str
    capabilities: Capabilities

    async def start(self, on_inbound: InboundHandler) -> None:
        """Connect and start delivering inbounds; return once connected."""

    async def stop(self) -> None: ...

    async def send(self, outbound: Outbound) -> SentRef:
        """Deliver one outbound; raise ``RetryableSendError`` or ``PermanentSendError``."""
        ...
