"""A help desk wired with fake channels and a keyword understander, for transcript tests.

The understander is deterministic (keywords → intent, article) so dialog tests pin behaviour
without loading the model; the real model is exercised in the end-to-end and NLU/search tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.adapters.fake import FakeChannel
from bot.bootstrap import HelpDesk, build_helpdesk
from bot.clock import Clock
from bot.commands import render_hints
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs.states import Hit
from bot.dialogs.understanding import Understander, Understanding
from bot.intents.live import LiveIntents
from bot.messages import ChannelRef, Inbound, InboundKind, Outbound, OutboundKind, split_payload
from bot.reports.gaps import Encoder
from bot.storage.models import SentRefRecord

ARTICLES = {
    "password": Hit(
        "reset-your-password",
        "Reset your password",
        "Tap Forgot password…",
        "kb:reset-your-password",
        0.82,
    ),
    "delivery": Hit(
        "shipping-times-and-costs",
        "Shipping times and costs",
        "Orders ship in 1–2 days…",
        "kb:shipping",
        0.77,
    ),
}
INTENTS = {
    "hello": "greet",
    "hi": "greet",
    "thanks": "thanks",
    "bye": "goodbye",
    "human": "human_handoff",
    "person": "human_handoff",
    "status": "case_status",
    "yes": "affirm",
    "no": "deny",
    "unacceptable": "complaint_urgent",
}


class KeywordUnderstander:
    async def understand(self, text: str) -> Understanding:
        words = text.lower().replace("?", " ").replace(",", " ").split()
        intent = next((INTENTS[w] for w in words if w in INTENTS), None)
        hit = next((h for key, h in ARTICLES.items() if key in text.lower()), None)
        return Understanding(
            intent=intent,
            confidence=0.95 if intent else 0.1,
            hit=hit,
            unsupported_language="¿" in text or "está" in text,
            entities=tuple(
                {"entity": "product", "value": product}
                for product in ("hub", "bulb")
                if product in words
            ),
        )

    def whole_article(self, slug: str) -> tuple[str, str] | None:
        hit = next((h for h in ARTICLES.values() if h.slug == slug), None)
        return (hit.title, f"{hit.snippet}\n\nThe rest of the article.") if hit else None


def as_sent(text: str, platform: str = "fake") -> str:
    """A reply as people on ``platform`` receive it: its command hints rendered."""
    return render_hints(text, platform)


@dataclass
class Transcript:
    """Drives a help desk as a customer and as agents, and reads what each side was sent."""

    helpdesk: HelpDesk
    channels: Mapping[str, FakeChannel]
    customer: ChannelRef = field(default_factory=lambda: ChannelRef("fake", "dm-ada"))
    customer_id: str = "ada"
    customer_name: str = "Ada"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _seen: dict[str, int] = field(default_factory=dict)

    async def _send(self, inbound: Inbound) -> None:
        await self.helpdesk.intake.receive(inbound)
        await self.helpdesk.sender.drain()

    def _inbound(self, **kw: object) -> Inbound:
        values: dict[str, object] = {
            "kind": InboundKind.MESSAGE,
            "event_id": f"ev{next(self._ids)}",
            "channel": self.customer,
            "user_id": self.customer_id,
            "user_name": self.customer_name,
        }
        values.update(kw)
        return Inbound(**values)  # type: ignore[arg-type]

    async def say(self, text: str, **kw: object) -> list[str]:
        """The customer writes (``channel=``, ``user_id=``… play another customer or identity);
        returns what the bot sent back to that conversation."""
        inbound = self._inbound(text=text, **kw)
        await self._send(inbound)
        return self.new_for(inbound.channel, edits=False)

    async def click(self, label: str, **kw: object) -> list[str]:
        channel = kw.get("channel", self.customer)
        assert isinstance(channel, ChannelRef)
        button = next(
            b for o in reversed(self.sent_to(channel)) for b in o.buttons if b.label == label
        )
        verb, case, arg = split_payload(button.payload)
        kw = {"kind": InboundKind.ACTION, "action": verb, "value": f"{case}:{arg}", **kw}
        await self._send(self._inbound(**kw))
        return self.new_for(channel, edits=False)

    async def agent(
        self,
        text: str,
        *,
        user: str = "dana",
        name: str = "Dana",
        channel: str = "fake:agents",
        kind: InboundKind = InboundKind.COMMAND,
        **kw: object,
    ) -> list[str]:
        """An agent acts in ``channel`` (a queue channel, or a case thread "fake:agents/7");
        ``kw`` sets other Inbound fields (attachments, groups, action/value for buttons)."""
        ref = ChannelRef.parse(channel)
        values: dict[str, object] = {
            "kind": kind,
            "event_id": f"ev{next(self._ids)}",
            "channel": ref,
            "user_id": user,
            "user_name": name,
            "text": text,
            "is_direct": False,
            **kw,
        }
        await self._send(Inbound(**values))  # type: ignore[arg-type]
        return self.new_for(ref.without_thread)

    def sent_to(self, channel: ChannelRef) -> list[Outbound]:
        fake = self.channels[channel.platform]
        return [o for o in fake.sent if o.channel.without_thread == channel.without_thread]

    def new_for(self, channel: ChannelRef, *, edits: bool = True) -> list[str]:
        """Texts sent to ``channel`` since the last call for it (``edits=False``: new messages
        only, not edits of earlier ones)."""
        sent = self.sent_to(channel)
        start = self._seen.get(str(channel), 0)
        self._seen[str(channel)] = len(sent)
        return [o.text for o in sent[start:] if edits or o.kind != OutboundKind.EDIT]

    def live_buttons(self, channel: ChannelRef | None = None) -> list[str]:
        """The labels of the buttons a person in ``channel`` can still press: those of every
        message sent there, less the ones edited away since."""
        channel = channel or self.customer
        fake = self.channels[channel.platform]
        ids = itertools.count(1)  # the fake numbers every new message, across channels
        buttons: dict[str, tuple[str, ...]] = {}
        for outbound in fake.sent:
            if outbound.kind == OutboundKind.EDIT and outbound.edit_of is not None:
                key = outbound.edit_of.message_id
                if key in buttons:
                    buttons[key] = tuple(b.label for b in outbound.buttons)
                continue
            message_id = str(next(ids))
            if outbound.channel.without_thread == channel.without_thread:
                buttons[message_id] = tuple(b.label for b in outbound.buttons)
        return [label for labels in buttons.values() for label in labels]

    def agents_saw(self, channel: str = "fake:agents") -> list[str]:
        return self.new_for(ChannelRef.parse(channel))

    async def thread_of(self, number: int) -> str:
        """The case thread of case ``number``'s escalation post, as a channel ref string."""
        async with self.helpdesk.sessions() as s:
            record = await s.get_one(SentRefRecord, f"case:{number}:post")
        ref = record.ref
        return f"{ref['platform']}:{ref['channel']}/{ref['thread'] or ref['message_id']}"


def test_desk(agent_ids: tuple[str, ...] = ("dana", "eve")) -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(fake=list(agent_ids))),
        queues=[QueueConfig(name="default", channel="fake:agents")],
        answer_threshold=0.5,
    )


async def build_transcript(
    database_url: str,
    clock: Clock,
    tmp_path: Path,
    *,
    desk: DeskConfig | None = None,
    platforms: tuple[str, ...] = ("fake",),
    understander: Understander | None = None,
    intents: LiveIntents | None = None,
    encoder: Encoder | None = None,
) -> Transcript:
    settings = Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path)
    channels = {p: FakeChannel(platform=p) for p in platforms}
    helpdesk = await build_helpdesk(
        settings,
        channels=channels,
        understander=understander or KeywordUnderstander(),
        encoder=encoder,
        clock=clock,
        desk=desk or test_desk(),
        intents=intents,
    )
    return Transcript(helpdesk=helpdesk, channels=channels)


test_desk.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test (pytest collects test_* names)
