"""Importing article files into the database: upsert by slug, chunk replacement, pruning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FrozenClock
from bot.knowledge.importer import ImportReport, import_articles
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Article, ArticleChunk, Base


def article(title: str, body: str, questions: tuple[str, ...] = ()) -> str:
    qs = "".join(f"\n  - {q}" for q in questions)
    return f"---\ntitle: {title}\ncategory: test\nquestions:{qs or ' []'}\n---\n{body}\n"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "password.md").write_text(
        article("Reset password", "Use the link.\n\n## No email\n\nCheck spam.", ("I forgot it",))
    )
    (folder / "shipping.md").write_text(article("Shipping", "Three to five days."))
    (folder / "README.md").write_text("# How to write articles\n")
    return folder


async def run_import(
    sessions: async_sessionmaker[AsyncSession], folder: Path, *, prune: bool = False
) -> ImportReport:
    async with sessions() as session:
        report = await import_articles(session, folder, FrozenClock(), prune=prune)
        await session.commit()
    return report


async def chunk_sections(sessions: async_sessionmaker[AsyncSession], slug: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ArticleChunk.section)
            .join(Article)
            .where(Article.slug == slug)
            .order_by(ArticleChunk.ordinal)
        )
        return list(rows)


async def test_first_import_adds_articles_with_their_chunks(
    sessions: async_sessionmaker[AsyncSession], articles_dir: Path
) -> None:
    report = await run_import(sessions, articles_dir)

    assert report.added == ["password", "shipping"]
    assert report.errors == []
    assert await chunk_sections(sessions, "password") == ["", "No email"]
    async with sessions() as session:
        stored = await session.scalar(select(Article).where(Article.slug == "password"))
        assert stored is not None
        assert stored.questions == ["I forgot it"]
        assert stored.updated_at == FrozenClock().now()


async def test_reimport_detects_unchanged_and_replaces_chunks_of_changed(
    sessions: async_sessionmaker[AsyncSession], articles_dir: Path
) -> None:
    await run_import(sessions, articles_dir)
    (articles_dir / "password.md").write_text(
        article("Reset password", "Use the link.\n\n## Locked out\n\nWait.\n\n## No email\n\nSpam.")
    )

    report = await run_import(sessions, articles_dir)

    assert report.updated == ["password"]
    assert report.unchanged == ["shipping"]
    assert await chunk_sections(sessions, "password") == ["", "Locked out", "No email"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ArticleChunk)) == 4


async def test_malformed_files_are_reported_and_the_rest_imported(
    sessions: async_sessionmaker[AsyncSession], articles_dir: Path
) -> None:
    (articles_dir / "broken.md").write_text("---\ntitle: [oops\n---\nBody")
    (articles_dir / "binary.md").write_bytes(b"\x00\x01\x02")

    report = await run_import(sessions, articles_dir)

    assert report.added == ["password", "shipping"]
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"broken.md", "binary.md"}
    assert "YAML" in reasons["broken.md"]


async def test_prune_removes_articles_whose_files_are_gone_but_keeps_broken_ones(
    sessions: async_sessionmaker[AsyncSession], articles_dir: Path
) -> None:
    await run_import(sessions, articles_dir)
    (articles_dir / "shipping.md").unlink()
    (articles_dir / "password.md").write_text("---\ntitle: [typo\n---\nBody")

    kept = await run_import(sessions, articles_dir)
    assert kept.removed == []

    pruned = await run_import(sessions, articles_dir, prune=True)

    assert pruned.removed == ["shipping"]
    async with sessions() as session:
        slugs = list(await session.scalars(select(Article.slug)))
        assert slugs == ["password"], "a file with a typo must not delete its article"
        assert await session.scalar(select(func.count()).select_from(ArticleChunk)) == 2


async def test_a_missing_directory_is_an_error_not_a_crash(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    report = await run_import(sessions, tmp_path / "nowhere")

    assert report.added == []
    assert "not a directory" in report.errors[0].reason


async def test_a_dry_run_of_a_folder_reports_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], articles_dir: Path
) -> None:
    await run_import(sessions, articles_dir)
    (articles_dir / "shipping.md").unlink()
    (articles_dir / "password.md").write_text(article("Reset password", "Use the new link."))
    (articles_dir / "returns.md").write_text(article("Returns", "Thirty days."))

    async with sessions() as session:
        plan = await import_articles(session, articles_dir, FrozenClock(), prune=True, dry_run=True)
        await session.rollback()

    assert (plan.added, plan.updated, plan.removed) == (["returns"], ["password"], ["shipping"])
    assert plan.changes == {"password": ["questions", "answer"]}
    async with sessions() as session:
        assert sorted(await session.scalars(select(Article.slug))) == ["password", "shipping"]
    assert await chunk_sections(sessions, "password") == ["", "No email"]
