"""Two processes starting on a fresh database both find no articles: the bundled knowledge base
is imported once, under a lock, and neither fails on a duplicate slug."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.knowledge.service import ensure_ready
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Article
from tests.unit.test_knowledge_index import ARTICLES, HashingEmbedder, write_articles


async def test_two_processes_starting_on_a_fresh_database_import_the_articles_once(
    migrated_url: str, tmp_path: Path
) -> None:
    write_articles(tmp_path / "articles", ARTICLES)
    engines = [create_engine(migrated_url) for _ in range(2)]
    try:
        reports = await asyncio.gather(
            *(
                ensure_ready(
                    session_factory(engine),
                    HashingEmbedder(),
                    articles_dir=tmp_path / "articles",
                    index_dir=tmp_path / f"index-{n}",
                    clock=FrozenClock(),
                )
                for n, engine in enumerate(engines)
            )
        )
        async with session_factory(engines[0])() as session:
            count = await session.scalar(select(func.count()).select_from(Article))
    finally:
        for engine in engines:
            await engine.dispose()
    assert count == len(ARTICLES)
    assert sorted(r.imported is not None for r in reports) == [False, True]
    assert all(r.built is not None for r in reports)
