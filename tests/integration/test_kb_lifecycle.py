"""The database as the knowledge base's source of truth, on both backends: ``kb export``
writes what ``kb import`` reads back unchanged (articles from files, from a spreadsheet and
from chat alike), an import never silently overwrites what was changed in chat, drafts and
retired articles are never indexed, and ``create_draft`` is callable with a unit of work."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FrozenClock
from bot.knowledge import versions
from bot.knowledge.drafts import create_draft
from bot.knowledge.export import export_articles
from bot.knowledge.importer import import_articles
from bot.knowledge.service import load_entries
from bot.knowledge.sheet_import import import_sheet
from bot.knowledge.versions import Content, Editor
from bot.storage.content import ARTICLES, current_version
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Article, AuditEntry, Base
from bot.storage.uow import UnitOfWork

Sessions = async_sessionmaker[AsyncSession]
ANA = Editor(actor="slack:U1 (Ana)", platform="slack")
FIXTURES = Path(__file__).parent.parent / "fixtures"


def article(title: str, body: str, questions: tuple[str, ...] = ()) -> str:
    qs = "".join(f"\n  - {q}" for q in questions)
    return f"---\ntitle: {title}\ncategory: test\nquestions:{qs or ' []'}\n---\n{body}\n"


def folder_of_articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "password.md").write_text(
        article("Reset password", "Use the link.\n\n## No email\n\nCheck spam.", ("I forgot it",))
    )
    (folder / "shipping.md").write_text(article("Shipping", "Three to five days."))
    return folder


async def contents(sessions: Sessions) -> dict[str, tuple[str, Content]]:
    async with sessions() as session:
        rows = await session.scalars(select(Article))
        return {a.slug: (a.status, versions.content_of(a)) for a in rows}


async def test_an_export_imports_back_unchanged_here_and_elsewhere(
    sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        await import_articles(session, folder_of_articles(tmp_path), clock)
        await import_sheet(session, FIXTURES / "faq_import" / "messy.csv", clock)
        slug = await create_draft(
            session,
            title="Dogs: in the showroom?",
            body="Dogs on a leash are welcome.\n\n## Guide dogs\n\nAlways.",
            questions=["can I bring my dog", "dogs allowed?"],
            actor=ANA.actor,
            platform=ANA.platform,
            at=clock.now(),
        )
        await versions.publish(session, slug, ANA, clock.now())
    before = await contents(sessions)
    exported = tmp_path / "exported"
    async with sessions() as session:
        report = await export_articles(session, exported)
    assert len(report.written) == len(before)

    async with sessions.begin() as session:
        again = await import_articles(session, exported, clock)
    assert again.added == again.updated == [] and again.conflicts == {}
    assert sorted(again.unchanged) == sorted(before)

    engine = create_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    elsewhere = session_factory(engine)
    async with elsewhere.begin() as session:
        await import_articles(session, exported, clock)
    assert await contents(elsewhere) == before
    await engine.dispose()


async def test_an_export_with_drafts_keeps_drafts_and_retired_articles_so_elsewhere(
    sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        await import_articles(session, folder_of_articles(tmp_path), clock)
        await create_draft(
            session,
            title="Gift cards",
            body="Not sold yet.",
            questions=["do you sell gift cards"],
            actor=ANA.actor,
            platform=ANA.platform,
            at=clock.now(),
        )
        await versions.retire(session, "shipping", ANA, clock.now())
    before = await contents(sessions)
    assert {slug: status for slug, (status, _) in before.items()} == {
        "password": "published",
        "gift-cards": "draft",
        "shipping": "retired",
    }
    exported = tmp_path / "exported"
    async with sessions() as session:
        await export_articles(session, exported, with_drafts=True)
    async with sessions.begin() as session:  # the same desk: nothing to do
        again = await import_articles(session, exported, clock)
    assert sorted(again.unchanged) == sorted(before) and again.conflicts == {}

    engine = create_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    elsewhere = session_factory(engine)
    async with elsewhere.begin() as session:
        await import_articles(session, exported, clock)
    assert await contents(elsewhere) == before  # the draft is no customer's answer there
    async with elsewhere() as session:
        indexed = {entry.slug for entry in await load_entries(session)}
    assert indexed == {"password"}
    await engine.dispose()


async def test_an_import_leaves_articles_changed_in_chat_alone_unless_forced(
    sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    folder = folder_of_articles(tmp_path)
    async with sessions.begin() as session:
        await import_articles(session, folder, clock)
    chat_text = "Use the reset link in the app."
    async with sessions.begin() as session:
        await versions.edit(
            session,
            "password",
            Content("Reset password", chat_text, "test", (), ()),
            ANA,
            clock.now(),
        )
        await versions.publish(session, "password", ANA, clock.now())
    (folder / "password.md").write_text(article("Reset password", "The file's new text."))
    (folder / "shipping.md").write_text(article("Shipping", "Two days."))

    async with sessions.begin() as session:
        report = await import_articles(session, folder, clock)
    assert report.updated == ["shipping"]
    assert "changed since its import" in report.conflicts["password"]
    assert (await contents(sessions))["password"][1].body == chat_text

    async with sessions.begin() as session:
        forced = await import_articles(session, folder, clock, force=True)
    assert forced.updated == ["password"]
    assert (await contents(sessions))["password"][1].body == "The file's new text."
    async with sessions() as session:
        kept = [r.body for r in await versions.history(session, "password")]
    assert chat_text in kept, "the chat's text stays in the history"


async def test_drafts_and_retired_articles_are_never_indexed(
    sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    async with sessions.begin() as session:
        await import_articles(session, folder_of_articles(tmp_path), clock)
    async with sessions() as session:
        start = await current_version(session, ARTICLES)
    uow = UnitOfWork(sessions, clock)
    async with uow:
        slug = await create_draft(
            uow,
            title="Gift cards",
            body="Gift cards never expire.",
            questions=["  do gift cards expire ", "do gift cards expire"],
            actor="gaps",
            platform="cli",
            at=clock.now(),
            source="gap:3",
        )
        await uow.commit()
    async with sessions() as session:
        draft = await versions.article_by_slug(session, slug)
        assert (draft.status, draft.questions, draft.source_path) == (
            "draft",
            ["do gift cards expire"],
            "gap:3",
        )
        assert {e.slug for e in await load_entries(session)} == {"password", "shipping"}
        assert await current_version(session, ARTICLES) == start, "a draft changes no answer"
    async with sessions.begin() as session:
        await versions.retire(session, "shipping", ANA, clock.now())
    async with sessions() as session:
        assert {e.slug for e in await load_entries(session)} == {"password"}
        assert await current_version(session, ARTICLES) == start + 1
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.target == "shipping"))
        ).all()
    assert [(a.action, a.actor, a.platform) for a in audit][-1] == (
        "article.retire",
        ANA.actor,
        "slack",
    )
