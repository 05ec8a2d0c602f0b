"""``kb …`` in an agents' or admins' channel: admins write, preview, publish, retire and roll
back articles from chat (the role check is made once, in ``admin_verbs``).

Where the platform has forms (Slack and Discord modals), ``kb add`` and ``kb edit`` answer
with a button that opens one — the adapter opens it on the click itself, and the submission
comes back as a ``form`` inbound. Elsewhere (Telegram, the terminal) a guided prompt asks for
one part per message (``admin_prompts``). The changes themselves are
``bot.knowledge.versions``: drafts, revisions, the audit trail and the content version that
makes every process answer with a published article from the next message on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from bot.cases.transcript import CaseStatus, EventKind
from bot.commands import CommandCall, Role, case_number_in
from bot.dialogs import admin_prompts, replies
from bot.dialogs.desk_context import DeskContext
from bot.errors import InvalidCommand
from bot.knowledge import versions
from bot.knowledge.drafts import (
    BODY_MAX_CHARS,
    QUESTION_MAX_CHARS,
    QUESTIONS_MAX,
    TITLE_MAX_CHARS,
    create_draft,
)
from bot.knowledge.versions import ArticleChangeRefused, Content, Editor
from bot.messages import BUTTON_PAYLOAD_MAX_BYTES, Button, InboundKind
from bot.storage.models import AdminPrompt, Article, Case, CaseEvent
from bot.text import clean_text

logger = logging.getLogger(__name__)

# Platforms whose adapters open the article modal on a form button's click.
FORM_PLATFORMS = frozenset({"slack", "discord"})
KEEP = "."
NO_QUESTIONS = frozenset({"none", "no", "-"})
LIST_LIMIT = 30
HISTORY_LIMIT = 10

Subcommand = Callable[[DeskContext, str], Awaitable[None]]


async def kb(ctx: DeskContext, call: CommandCall) -> None:
    """The ``kb`` admin verb: one subcommand per word, or a submitted article form."""
    try:
        if ctx.inbound.kind == InboundKind.FORM:
            await _form_submitted(ctx)
            return
        sub, _, rest = call.args.strip().partition(" ")
        handler = SUBCOMMANDS.get(sub.lower())
        if handler is None:
            raise InvalidCommand(replies.KB_USAGE)
        await handler(ctx, rest.strip())
    except ArticleChangeRefused as exc:
        raise InvalidCommand(replies.kb_refused(exc.reason, exc.slug, exc.detail)) from exc


def editor(ctx: DeskContext) -> Editor:
    return Editor(actor=f"{ctx.agent} ({ctx.name})", platform=ctx.inbound.platform)


def _offers_form(ctx: DeskContext) -> bool:
    """Answer with a form button? Not to a click on one: the adapter did not open the form
    (its agent gate said no, or the platform could not), so the guided prompt takes over."""
    return ctx.inbound.platform in FORM_PLATFORMS and ctx.inbound.kind != InboundKind.ACTION


async def _add(ctx: DeskContext, title: str) -> None:
    if _offers_form(ctx):
        form = Button(replies.KB_FORM_BUTTON, "kb::add", style="primary", opens_form=True)
        ctx.answer(replies.KB_OPEN_FORM, [form])
        return
    if title:
        _check("title", title, TITLE_MAX_CHARS)
        await admin_prompts.start(ctx, "kb.add", "body", {"title": title})
        ctx.answer(replies.KB_ASK_BODY)
        return
    await admin_prompts.start(ctx, "kb.add", "title", {})
    ctx.answer(replies.KB_ASK_TITLE)


async def _edit(ctx: DeskContext, slug: str) -> None:
    article = await versions.article_by_slug(ctx.uow.session, _slug(slug))
    now = await versions.pending_content(ctx.uow.session, article)
    if _offers_form(ctx):
        buttons = _buttons((replies.KB_EDIT_BUTTON, f"kb::edit {article.slug}", True))
        ctx.answer(await _preview_text(ctx, article), buttons)
        return
    await admin_prompts.start(ctx, "kb.edit", "title", {"slug": article.slug})
    ctx.answer(replies.kb_edit_step("title", now.title))


async def _preview(ctx: DeskContext, slug: str) -> None:
    article = await versions.article_by_slug(ctx.uow.session, _slug(slug))
    await _show(ctx, article)


async def _publish(ctx: DeskContext, slug: str) -> None:
    at = ctx.uow.clock.now()
    number = await versions.publish(ctx.uow.session, _slug(slug), editor(ctx), at)
    logger.info("article %s published by %s", slug, ctx.agent)
    ctx.answer(replies.kb_published(_slug(slug), number))


async def _retire(ctx: DeskContext, slug: str) -> None:
    at = ctx.uow.clock.now()
    number = await versions.retire(ctx.uow.session, _slug(slug), editor(ctx), at)
    ctx.answer(replies.kb_retired(_slug(slug), number))


async def _rollback(ctx: DeskContext, args: str) -> None:
    slug, _, version = args.partition(" ")
    to = None
    if version.strip():
        to = case_number_in(version.strip().lstrip("v"))
        if to is None:
            raise InvalidCommand(replies.KB_USAGE)
    at = ctx.uow.clock.now()
    number, restored = await versions.rollback(ctx.uow.session, _slug(slug), editor(ctx), at, to=to)
    ctx.answer(replies.kb_rolled_back(_slug(slug), number, restored))


async def _history(ctx: DeskContext, slug: str) -> None:
    rows = await versions.history(ctx.uow.session, _slug(slug))
    lines = [
        replies.kb_history_line(
            r.number, r.at, r.action, r.status, r.actor, ", ".join(r.changes or [])
        )
        for r in rows[:HISTORY_LIMIT]
    ]
    ctx.answer("\n".join([f"{_slug(slug)}:", *lines]))


async def _list(ctx: DeskContext, which: str) -> None:
    statuses = {
        "": (versions.PUBLISHED, versions.DRAFT),
        "drafts": (versions.DRAFT, versions.PUBLISHED),
        "retired": (versions.RETIRED,),
        "all": (versions.PUBLISHED, versions.DRAFT, versions.RETIRED),
    }.get(which.lower())
    if statuses is None:
        raise InvalidCommand(replies.KB_USAGE)
    articles = await versions.articles_in(ctx.uow.session, statuses)
    if which.lower() == "drafts":  # new drafts and published articles with an edit waiting
        articles = [a for a in articles if a.status == versions.DRAFT or a.draft_revision]
    _answer_list(ctx, articles)


async def _search(ctx: DeskContext, words: str) -> None:
    if not words:
        raise InvalidCommand(replies.KB_USAGE)
    found = await versions.find_articles(ctx.uow.session, words)
    if not found:
        ctx.answer(replies.KB_NOTHING_FOUND)
        return
    _answer_list(ctx, found)


async def _promote(ctx: DeskContext, args: str) -> None:
    """``kb promote N``: the agents' answers in resolved case N become a draft, its title the
    case's subject, the customer's messages its example questions."""
    number = case_number_in(args.strip())
    if number is None:
        raise InvalidCommand(replies.KB_PROMOTE_USAGE)
    case = await ctx.uow.session.get(Case, number)
    if case is None:
        raise InvalidCommand(replies.KB_PROMOTE_USAGE)
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise InvalidCommand(replies.KB_NOT_RESOLVED)
    rows = list(
        await ctx.uow.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == number)
            .order_by(CaseEvent.created_at, CaseEvent.id)
        )
    )
    answers = [e.body.strip() for e in rows if e.kind == EventKind.AGENT_MESSAGE and e.body]
    asked = [e.body.strip() for e in rows if e.kind == EventKind.CUSTOMER_MESSAGE and e.body]
    if not answers:
        raise InvalidCommand(replies.KB_NO_AGENT_ANSWER)
    slug = await create_draft(
        ctx.uow,
        title=case.subject,
        body="\n\n".join(answers),
        questions=asked,
        actor=editor(ctx).actor,
        platform=ctx.inbound.platform,
        at=ctx.uow.clock.now(),
        source=f"case:{number}",
    )
    article = await versions.article_by_slug(ctx.uow.session, slug)
    ctx.answer(replies.kb_promoted(number, slug))
    await _show(ctx, article)


SUBCOMMANDS: dict[str, Subcommand] = {
    "add": _add,
    "new": _add,
    "edit": _edit,
    "preview": _preview,
    "show": _preview,
    "publish": _publish,
    "retire": _retire,
    "rollback": _rollback,
    "history": _history,
    "list": _list,
    "search": _search,
    "promote": _promote,
}


async def continue_prompt(ctx: DeskContext) -> bool:
    """Take a plain message as the answer to the person's guided prompt, if one waits; True
    when it did. The role is checked again: a prompt outlives nobody's admin rights."""
    prompt = await admin_prompts.current(ctx)
    if prompt is None:
        return False
    if not ctx.has(Role.ADMIN):
        await admin_prompts.drop(ctx)
        return False
    text = clean_text(ctx.inbound.text).strip()
    if text.lower() in admin_prompts.CANCEL_WORDS:
        await admin_prompts.drop(ctx)
        ctx.answer(replies.KB_PROMPT_CANCELLED)
        return True
    try:
        if prompt.kind == "kb.add":
            await _add_step(ctx, prompt, text)
        else:
            await _edit_step(ctx, prompt, text)
    except _TooLong as exc:
        ctx.answer(replies.kb_too_long(exc.what, exc.limit))
    return True


class _TooLong(Exception):
    def __init__(self, what: str, limit: int) -> None:
        self.what, self.limit = what, limit


async def _add_step(ctx: DeskContext, prompt: AdminPrompt, text: str) -> None:
    if prompt.step == "title":
        _check("title", text, TITLE_MAX_CHARS)
        admin_prompts.advance(ctx, prompt, "body", title=text)
        ctx.answer(replies.KB_ASK_BODY)
    elif prompt.step == "body":
        _check("answer", text, BODY_MAX_CHARS)
        admin_prompts.advance(ctx, prompt, "questions", body=text)
        ctx.answer(replies.KB_ASK_QUESTIONS)
    else:
        data = prompt.data or {}
        slug = await create_draft(
            ctx.uow,
            title=str(data.get("title", "")),
            body=str(data.get("body", "")),
            questions=_questions(text),
            actor=editor(ctx).actor,
            platform=ctx.inbound.platform,
            at=ctx.uow.clock.now(),
        )
        await admin_prompts.drop(ctx)
        ctx.answer(replies.kb_draft_saved(slug))
        await _show(ctx, await versions.article_by_slug(ctx.uow.session, slug))


async def _edit_step(ctx: DeskContext, prompt: AdminPrompt, text: str) -> None:
    data = prompt.data or {}
    slug = str(data.get("slug", ""))
    article = await versions.article_by_slug(ctx.uow.session, slug)
    now = await versions.pending_content(ctx.uow.session, article)
    if prompt.step == "title":
        if text != KEEP:
            _check("title", text, TITLE_MAX_CHARS)
        admin_prompts.advance(ctx, prompt, "body", title=text)
        ctx.answer(replies.kb_edit_step("answer", now.body))
        return
    if prompt.step == "body":
        if text != KEEP:
            _check("answer", text, BODY_MAX_CHARS)
        admin_prompts.advance(ctx, prompt, "questions", body=text)
        ctx.answer(replies.kb_edit_step("questions (one per line)", "\n".join(now.questions)))
        return
    await admin_prompts.drop(ctx)
    title, body = str(data.get("title", KEEP)), str(data.get("body", KEEP))
    changed = Content(
        title=now.title if title == KEEP else title,
        body=now.body if body == KEEP else body,
        category=now.category,
        tags=now.tags,
        questions=now.questions if text == KEEP else tuple(_questions(text)),
    )
    await _save_edit(ctx, article, changed)


async def _save_edit(ctx: DeskContext, article: Article, changed: Content) -> None:
    live = article.status == versions.PUBLISHED
    revision = await versions.edit(
        ctx.uow.session, article.slug, changed, editor(ctx), ctx.uow.clock.now()
    )
    ctx.answer(replies.kb_edit_saved(article.slug, revision.number, live))
    await _show(ctx, article)


async def _form_submitted(ctx: DeskContext) -> None:
    """The article modal (Slack, Discord): fields ``title``, ``body``, ``questions`` and, for
    an edit, ``slug``. In an edit form a blank field keeps what the article says."""
    fields = ctx.inbound.fields
    title = " ".join(fields.get("title", "").split())
    body = fields.get("body", "").strip()
    questions = fields.get("questions", "")
    _check_form(title, body)
    slug = fields.get("slug", "").strip()
    if not slug:
        if not (title and body):
            raise InvalidCommand(replies.KB_FORM_INCOMPLETE)
        new = await create_draft(
            ctx.uow,
            title=title,
            body=body,
            questions=_questions(questions),
            actor=editor(ctx).actor,
            platform=ctx.inbound.platform,
            at=ctx.uow.clock.now(),
        )
        ctx.answer(replies.kb_draft_saved(new))
        await _show(ctx, await versions.article_by_slug(ctx.uow.session, new))
        return
    article = await versions.article_by_slug(ctx.uow.session, _slug(slug))
    now = await versions.pending_content(ctx.uow.session, article)
    changed = Content(
        title=title or now.title,
        body=body or now.body,
        category=now.category,
        tags=now.tags,
        questions=tuple(_questions(questions)) if questions.strip() else now.questions,
    )
    await _save_edit(ctx, article, changed)


def _check_form(title: str, body: str) -> None:
    try:
        _check("title", title, TITLE_MAX_CHARS)
        _check("answer", body, BODY_MAX_CHARS)
    except _TooLong as exc:
        raise InvalidCommand(replies.kb_too_long(exc.what, exc.limit)) from exc


def _check(what: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise _TooLong(what, limit)


def _questions(text: str) -> list[str]:
    if text.strip().lower() in NO_QUESTIONS:
        return []
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return [q[:QUESTION_MAX_CHARS] for q in lines if q][:QUESTIONS_MAX]


def _slug(text: str) -> str:
    slug = text.strip().split(" ")[0].lower()
    if not slug:
        raise InvalidCommand(replies.KB_USAGE)
    return slug


async def _show(ctx: DeskContext, article: Article) -> None:
    """The article as it would go live, with a Publish button when there is something to
    publish."""
    pending = article.status != versions.PUBLISHED or article.draft_revision is not None
    buttons = _buttons((replies.KB_PUBLISH_BUTTON, f"kb::publish {article.slug}", False))
    ctx.answer(await _preview_text(ctx, article), buttons if pending else [])


async def _preview_text(ctx: DeskContext, article: Article) -> str:
    content = await versions.pending_content(ctx.uow.session, article)
    number = article.draft_revision or article.revision
    return replies.kb_preview(
        article.slug,
        article.status,
        number,
        article.draft_revision is not None,
        content.title,
        content.body,
        " · ".join(content.questions),
    )


def _buttons(*specs: tuple[str, str, bool]) -> list[Button]:
    """Buttons whose payload fits (an imported article's long slug may not: then the answer
    goes without, and the typed command still works)."""
    return [
        Button(label, payload, style="primary", opens_form=form)
        for label, payload, form in specs
        if len(payload.encode()) <= BUTTON_PAYLOAD_MAX_BYTES
    ]


def _answer_list(ctx: DeskContext, articles: list[Article]) -> None:
    if not articles:
        ctx.answer(replies.KB_NO_ARTICLES)
        return
    lines = [
        replies.kb_list_line(a.slug, a.title, a.status, a.draft_revision is not None)
        for a in articles[:LIST_LIMIT]
    ]
    more = len(articles) - LIST_LIMIT
    ctx.answer("\n".join(lines + ([f"… and {more} more"] if more > 0 else [])))
