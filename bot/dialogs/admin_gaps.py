"""``gaps`` in an agents' or admins' channel: the knowledge gaps, ranked and numbered, and
from one of them a draft article (``gaps draft N``) or new intent examples
(``gaps examples N INTENT``). The role check is ``admin_verbs``'s, made before any of this.

The list shown is kept (``GapListing``: the signals' keys, no text), so "gap 2" is the second
gap the admin saw in that channel — in any process, whatever was asked since."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.commands import CommandCall
from bot.dialogs import notify, replies
from bot.dialogs.desk_context import DeskContext
from bot.errors import InvalidCommand
from bot.intents.catalog import add_examples
from bot.knowledge.drafts import create_draft
from bot.reports.gap_signals import texts_of
from bot.reports.gap_text import gap_list
from bot.reports.gaps import top_gaps
from bot.storage.content import record_change
from bot.storage.models import GapListing

DEFAULT_DAYS = 30
MAX_DAYS = 366
SHOWN = 10


async def gaps_verb(ctx: DeskContext, call: CommandCall) -> None:
    first, _, rest = call.args.strip().partition(" ")
    word = first.lower()
    if word == "draft":
        await _draft(ctx, rest)
    elif word == "examples":
        await _examples(ctx, rest)
    elif not word or (word.isdigit() and 1 <= int(word) <= MAX_DAYS):
        await _show(ctx, int(word) if word else DEFAULT_DAYS)
    else:
        raise InvalidCommand(replies.GAPS_USAGE)


def _channel(ctx: DeskContext) -> str:
    return str(ctx.inbound.channel)


async def _show(ctx: DeskContext, days: int) -> None:
    until = ctx.uow.clock.now()
    since = until - timedelta(days=days)
    gaps = await top_gaps(
        ctx.uow.session, since=since, until=until, limit=SHOWN, encoder=ctx.encoder
    )
    if not gaps:
        ctx.answer(replies.NO_GAPS.format(days=days))
        return
    ctx.uow.session.add(
        GapListing(
            channel=_channel(ctx),
            shown_by=ctx.agent,
            shown_at=until,
            since=since,
            until=until,
            gaps=[list(g.keys) for g in gaps],
        )
    )
    ctx.answer(replies.gaps_listing(days, gap_list(gaps, lambda t: notify.for_agents(ctx.desk, t))))


async def _picked(ctx: DeskContext, number_text: str) -> tuple[int, list[str]]:
    """The gap numbered ``number_text`` in the last list shown in this channel: its number and
    its questions (those erased since are gone)."""
    listing = await ctx.uow.session.scalar(
        select(GapListing)
        .where(GapListing.channel == _channel(ctx))
        .order_by(GapListing.id.desc())
        .limit(1)
    )
    if listing is None:
        raise InvalidCommand(replies.GAPS_SHOW_FIRST)
    if not number_text.isdigit():
        raise InvalidCommand(replies.GAPS_USAGE)
    number = int(number_text)
    if not 1 <= number <= len(listing.gaps):
        raise InvalidCommand(replies.no_gap(number, len(listing.gaps)))
    keys = listing.gaps[number - 1]
    texts = list(dict.fromkeys(" ".join(t.split()) for t in await texts_of(ctx.uow.session, keys)))
    if not texts:
        raise InvalidCommand(replies.no_gap(number, len(listing.gaps)))
    return number, texts


async def _draft(ctx: DeskContext, args: str) -> None:
    number, texts = await _picked(ctx, args.strip())
    now = ctx.uow.clock.now()
    title = texts[0][:1].upper() + texts[0][1:].rstrip("?!. ")
    slug = await create_draft(
        ctx.uow.session,
        title=title,
        body=replies.GAP_DRAFT_BODY.format(count=len(texts)),
        questions=texts,
        actor=ctx.agent,
        platform=ctx.inbound.platform,
        at=now,
        source=f"gap:{number}",
    )
    record_change(
        ctx.uow.session,
        at=now,
        actor=ctx.agent,
        platform=ctx.inbound.platform,
        action="gap.draft",
        target=slug,
        detail={"gap": number, "questions": len(texts)},
    )
    ctx.answer(replies.gap_drafted(number, slug, len(texts)))


async def _examples(ctx: DeskContext, args: str) -> None:
    number_text, _, intent = args.strip().partition(" ")
    intent = intent.strip()
    if not intent or " " in intent:
        raise InvalidCommand(replies.GAPS_USAGE)
    number, texts = await _picked(ctx, number_text)
    now = ctx.uow.clock.now()
    added = await add_examples(
        ctx.uow.session,
        intent,
        texts,
        actor=ctx.agent,
        platform=ctx.inbound.platform,
        at=now,
    )
    record_change(
        ctx.uow.session,
        at=now,
        actor=ctx.agent,
        platform=ctx.inbound.platform,
        action="gap.examples",
        target=intent,
        detail={"gap": number, "offered": len(texts), "added": added},
    )
    ctx.answer(replies.gap_taught(number, intent, added, len(texts)))
