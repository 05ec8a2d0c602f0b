"""How long a process takes to catch up with one published article, beside rebuilding the
whole index: ``python -m benchmarks.kb_live [--runs N]``.

A fresh SQLite database gets the bundled articles (``data/articles``) and their index; then,
``runs`` times, an admin publishes a new article (``bot.knowledge.versions``) and the live
knowledge base catches up (``LiveKnowledge.catch_up``: the version read, the changed article
read, its texts encoded, the search swapped in and written to disk). For comparison the whole
index is rebuilt from the database with nothing cached (``build_index`` into an empty
directory: every text encoded). Times are wall-clock on this machine, median and range.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.clock import SystemClock
from bot.config import PROJECT_ROOT
from bot.knowledge import versions
from bot.knowledge.drafts import create_draft
from bot.knowledge.index import build_index
from bot.knowledge.live import live_knowledge
from bot.knowledge.service import load_entries
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database

EDITOR = versions.Editor(actor="bench", platform="cli")


async def run(runs: int) -> dict[str, object]:
    from nlu.embedding import CachingEmbedder, SentenceTransformerEmbedder

    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kb.db'}"
        await upgrade_database(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        clock = SystemClock()
        live = await live_knowledge(
            sessions,
            embedder,
            articles_dir=PROJECT_ROOT / "data" / "articles",
            index_dir=Path(tmp) / "index",
            clock=clock,
        )
        await live.catch_up()  # the first import's version
        catch_up: list[float] = []
        for n in range(runs):
            async with sessions.begin() as session:
                slug = await create_draft(
                    session,
                    title=f"Opening hours of shop {n}",
                    body=f"Shop {n} is open from 9 to 5 on weekdays.\n\n## Holidays\n\nClosed.",
                    questions=[f"when is shop {n} open", f"shop {n} opening hours"],
                    actor="bench",
                    platform="cli",
                    at=clock.now(),
                )
                await versions.publish(session, slug, EDITOR, clock.now())
            started = time.perf_counter()
            assert await live.catch_up()
            catch_up.append(time.perf_counter() - started)
        async with sessions() as session:
            entries = await load_entries(session)
        rebuild: list[float] = []
        for n in range(3):
            started = time.perf_counter()
            build_index(entries, SentenceTransformerEmbedder(), Path(tmp) / f"full-{n}")
            rebuild.append(time.perf_counter() - started)
        await engine.dispose()
    return {
        "articles": live.search.article_count,
        "entries": len(entries),
        "catch_up_ms": _summary(catch_up),
        "full_rebuild_ms": _summary(rebuild),
    }


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "median": round(statistics.median(ms), 1),
        "min": round(min(ms), 1),
        "max": round(max(ms), 1),
        "n": len(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    print(asyncio.run(run(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
