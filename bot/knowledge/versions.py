"""The life of an article in the database: drafts, publishing, retiring, rollback.

The database is the knowledge base's source of truth once articles are in it (``docs/
knowledge.md``). Every change writes a revision (``ArticleRevision``: the content after the
change, who, when, from which platform, which fields changed) and an audit entry, in the
caller's transaction. A change customers will see — publish, retire, rollback, an import —
also bumps the articles content version and stamps the article with it, so every process
reloads exactly the articles changed since the version it serves (``bot.knowledge.live``).

States: a new article is a ``draft`` (never answered). ``publish`` makes it ``published``.
An edit of a published article is kept as a pending draft revision while customers still get
the published text; ``publish`` puts it live. ``retire`` unpublishes (history kept);
``rollback`` publishes an earlier revision's content as a new revision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.errors import HelpdeskError
from bot.knowledge.chunking import chunk_article, text_hash
from bot.storage.content import ARTICLES, bump_version, record_change
from bot.storage.models import Article, ArticleChunk, ArticleRevision

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"
SLUG_MAX_CHARS = 40  # a button's payload ("kb::publish <slug>") must fit Telegram's 64 bytes


@dataclass(frozen=True)
class Editor:
    """Who makes a change: ``actor`` as the audit trail names people ("slack:U1 (Ana)",
    "cli:root"), ``platform`` where they made it ("slack", "cli")."""

    actor: str
    platform: str


@dataclass(frozen=True)
class Content:
    """What an article says: everything a revision keeps."""

    title: str
    body: str
    category: str = ""
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()

    def differences(self, other: Content) -> list[str]:
        """The fields ``other`` changes, in the words an admin knows."""
        fields = {
            "title": (self.title, other.title),
            "category": (self.category, other.category),
            "tags": (self.tags, other.tags),
            "questions": (self.questions, other.questions),
            "answer": (self.body, other.body),
        }
        return [name for name, (old, new) in fields.items() if old != new]


class ArticleChangeRefused(HelpdeskError):
    """A change that cannot be made; ``reason`` says which (the chat turns it into words):
    ``unknown`` slug, ``unchanged``, ``nothing_to_publish``, ``already_retired``,
    ``no_earlier`` revision to roll back to, ``no_such_revision``."""

    def __init__(self, reason: str, slug: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {slug} {detail}".strip())
        self.reason = reason
        self.slug = slug
        self.detail = detail


def content_of(item: Article | ArticleRevision) -> Content:
    return Content(
        title=item.title,
        body=item.body,
        category=item.category or "",
        tags=tuple(item.tags or ()),
        questions=tuple(item.questions or ()),
    )


async def article_by_slug(session: AsyncSession, slug: str) -> Article:
    """The article (with its chunks); ``ArticleChangeRefused("unknown")`` if there is none."""
    article = await session.scalar(
        select(Article).options(selectinload(Article.chunks)).where(Article.slug == slug.lower())
    )
    if article is None:
        raise ArticleChangeRefused("unknown", slug)
    return article


async def revision(session: AsyncSession, article: Article, number: int) -> ArticleRevision:
    found = await session.scalar(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article.id, ArticleRevision.number == number
        )
    )
    if found is None:
        raise ArticleChangeRefused("no_such_revision", article.slug, str(number))
    return found


async def pending_content(session: AsyncSession, article: Article) -> Content:
    """What ``publish`` would put live: the pending edit, else the article as it is."""
    if article.draft_revision is not None:
        return content_of(await revision(session, article, article.draft_revision))
    return content_of(article)


async def add_draft(
    session: AsyncSession, content: Content, editor: Editor, at: datetime
) -> Article:
    """A new draft article (a slug made from its title, unique); customers do not see it."""
    slug = await _free_slug(session, content.title)
    article = Article(slug=slug, status=DRAFT, revision=1, changed_version=0, chunks=[])
    _apply(article, content, at)
    article.chunks.extend(_chunk_rows(content))
    session.add(article)
    await session.flush()
    _log(session, article, 1, "add", DRAFT, content, content.differences(content), editor, at)
    return article


async def edit(
    session: AsyncSession, slug: str, content: Content, editor: Editor, at: datetime
) -> ArticleRevision:
    """Change an article. A published one keeps answering with its published text: the edit
    waits as a draft revision until ``publish``. A draft or retired one changes in place."""
    article = await article_by_slug(session, slug)
    before = await pending_content(session, article)
    changes = before.differences(content)
    if not changes:
        raise ArticleChangeRefused("unchanged", article.slug)
    number = await _next_number(session, article)
    if article.status == PUBLISHED:
        article.draft_revision = number
        return _log(session, article, number, "edit", DRAFT, content, changes, editor, at)
    await _replace_content(session, article, content, at)
    article.revision = number
    return _log(session, article, number, "edit", article.status, content, changes, editor, at)


async def publish(session: AsyncSession, slug: str, editor: Editor, at: datetime) -> int:
    """Put the article (its pending edit, if any) live; the new revision's number."""
    article = await article_by_slug(session, slug)
    if article.status == PUBLISHED and article.draft_revision is None:
        raise ArticleChangeRefused("nothing_to_publish", article.slug)
    content = await pending_content(session, article)
    return await _go_live(session, article, content, "publish", editor, at)


async def retire(session: AsyncSession, slug: str, editor: Editor, at: datetime) -> int:
    """Stop answering with the article; it stays, with its history, and can be published or
    rolled back later."""
    article = await article_by_slug(session, slug)
    if article.status == RETIRED:
        raise ArticleChangeRefused("already_retired", article.slug)
    was_live = article.status == PUBLISHED
    number = await _next_number(session, article)
    article.status, article.revision, article.draft_revision = RETIRED, number, None
    article.updated_at = at
    if was_live:
        article.changed_version = await bump_version(session, ARTICLES, at=at, by=editor.actor)
    _log(session, article, number, "retire", RETIRED, content_of(article), [], editor, at)
    return number


async def rollback(
    session: AsyncSession, slug: str, editor: Editor, at: datetime, *, to: int | None = None
) -> tuple[int, int]:
    """Publish the content of revision ``to`` — by default the last published one before
    what customers get now that says something else. (the new revision, the one restored)."""
    article = await article_by_slug(session, slug)
    if to is not None:
        target = await revision(session, article, to)
    else:
        target = await _earlier_published(session, article)
    number = await _go_live(session, article, content_of(target), "rollback", editor, at)
    return number, target.number


async def history(session: AsyncSession, slug: str) -> list[ArticleRevision]:
    """The article's revisions, newest first."""
    article = await article_by_slug(session, slug)
    rows = await session.scalars(
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article.id)
        .order_by(ArticleRevision.number.desc())
    )
    return list(rows)


async def articles_in(session: AsyncSession, statuses: Sequence[str]) -> list[Article]:
    rows = await session.scalars(
        select(Article).where(Article.status.in_(statuses)).order_by(Article.slug)
    )
    return list(rows)


async def find_articles(session: AsyncSession, words: str, limit: int = 10) -> list[Article]:
    """Articles of any status whose slug, title, questions or text hold every word (an
    admin's look-up: drafts and retired articles included, unlike customers' search)."""
    wanted = [w for w in re.findall(r"\w+", words.lower()) if w]
    found: list[Article] = []
    for article in await session.scalars(select(Article).order_by(Article.slug)):
        haystack = " ".join(
            [article.slug, article.title, article.body, *(article.questions or [])]
        ).lower()
        if all(w in haystack for w in wanted):
            found.append(article)
    return found[:limit]


async def record_import(
    session: AsyncSession,
    article: Article,
    changes: list[str],
    editor: Editor,
    at: datetime,
    status: str = PUBLISHED,
) -> None:
    """The revision of an article an import added (``changes`` empty) or changed: imports
    are published at once, like the files they come from, unless the file says otherwise
    (``status: draft`` or ``retired``, as ``kb export --drafts`` writes). The caller stamps
    the version (``stamp_version``) once for the whole import."""
    await session.flush()  # a new article needs its id
    number = 1 if not changes else await _next_number(session, article)
    article.revision = article.imported_revision = number
    article.status, article.draft_revision = status, None
    _log(session, article, number, "import", status, content_of(article), changes, editor, at)


async def stamp_version(
    session: AsyncSession, articles: Sequence[Article], editor: Editor, at: datetime
) -> None:
    """One version bump for ``articles`` changed together (an import), each stamped with it."""
    if not articles:
        return
    version = await bump_version(session, ARTICLES, at=at, by=editor.actor)
    for article in articles:
        article.changed_version = version


def changed_since_import(article: Article) -> bool:
    """True when someone changed the article after the import that wrote it (or it never came
    from an import): a re-import would overwrite their work."""
    return article.draft_revision is not None or article.imported_revision != article.revision


async def _go_live(
    session: AsyncSession,
    article: Article,
    content: Content,
    action: str,
    editor: Editor,
    at: datetime,
) -> int:
    changes = content_of(article).differences(content)
    number = await _next_number(session, article)
    await _replace_content(session, article, content, at)
    article.status, article.revision, article.draft_revision = PUBLISHED, number, None
    article.changed_version = await bump_version(session, ARTICLES, at=at, by=editor.actor)
    _log(session, article, number, action, PUBLISHED, content, changes, editor, at)
    return number


async def _earlier_published(session: AsyncSession, article: Article) -> ArticleRevision:
    now = content_of(article)
    rows = await session.scalars(
        select(ArticleRevision)
        .where(
            ArticleRevision.article_id == article.id,
            ArticleRevision.number < article.revision,
            ArticleRevision.status == PUBLISHED,
        )
        .order_by(ArticleRevision.number.desc())
    )
    for row in rows:
        if content_of(row) != now:
            return row
    raise ArticleChangeRefused("no_earlier", article.slug)


async def _next_number(session: AsyncSession, article: Article) -> int:
    last = await session.scalar(
        select(func.max(ArticleRevision.number)).where(ArticleRevision.article_id == article.id)
    )
    return int(last or 0) + 1


async def _free_slug(session: AsyncSession, title: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:SLUG_MAX_CHARS].strip("-")
    base = base or "article"
    taken = set(await session.scalars(select(Article.slug).where(Article.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug, n = base[: SLUG_MAX_CHARS - len(suffix)] + suffix, n + 1
    return slug


def _apply(article: Article, content: Content, at: datetime) -> None:
    from bot.knowledge.export import article_markdown

    article.title = content.title
    article.category = content.category
    article.tags = list(content.tags)
    article.questions = list(content.questions)
    article.body = content.body
    article.updated_at = at
    # the hash of the file ``kb export`` writes, so exporting and importing it back is a no-op
    article.content_hash = text_hash(article_markdown(content, at))


async def _replace_content(
    session: AsyncSession, article: Article, content: Content, at: datetime
) -> None:
    _apply(article, content, at)
    article.chunks.clear()
    await session.flush()  # the old chunks must be gone before new ones reuse their ordinals
    article.chunks.extend(_chunk_rows(content))


def _chunk_rows(content: Content) -> list[ArticleChunk]:
    return [
        ArticleChunk(ordinal=c.ordinal, section=c.section, text=c.text, content_hash=c.content_hash)
        for c in chunk_article(content.title, content.body)
    ]


def _log(
    session: AsyncSession,
    article: Article,
    number: int,
    action: str,
    status: str,
    content: Content,
    changes: list[str],
    editor: Editor,
    at: datetime,
) -> ArticleRevision:
    row = ArticleRevision(
        article_id=article.id,
        number=number,
        action=action,
        status=status,
        title=content.title,
        category=content.category,
        tags=list(content.tags),
        questions=list(content.questions),
        body=content.body,
        changes=changes,
        actor=editor.actor,
        platform=editor.platform,
        at=at,
    )
    session.add(row)
    record_change(
        session,
        at=at,
        actor=editor.actor,
        platform=editor.platform,
        action=f"article.{action}",
        target=article.slug,
        detail={"revision": number, "status": status, "changes": changes},
    )
    return row
