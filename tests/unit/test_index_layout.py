"""The index's files: a small manifest header and the entries apart, so a start that has just read
the articles from the database checks them against the header and never parses the entry
file. An index written by the previous release (every entry inside ``manifest.json``) still
loads, or is rebuilt when it holds other articles; nothing is served from an entry file that
is not the manifest's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FrozenClock
from bot.knowledge.index import (
    ENTRIES,
    MANIFEST,
    IndexEntry,
    IndexUnavailable,
    KnowledgeIndex,
    KnownEntries,
    build_index,
    fingerprint,
    is_current,
    read_manifest,
)
from bot.knowledge.live import LiveKnowledge, live_knowledge
from bot.knowledge.search import KnowledgeSearch
from bot.knowledge.service import ReadyReport, ensure_ready
from tests.unit.test_knowledge_index import (
    ARTICLES,
    HashingEmbedder,
    entries_for,
    sessions,  # noqa: F401  (the fixture)
    write_articles,
)

QUERIES = ["I forgot my password", "express delivery", "money back", "spam"]


def previous_fingerprint(entries: list[IndexEntry], model_name: str) -> str:
    """The fingerprint as the previous release computed it."""
    digest = hashlib.sha256(model_name.encode())
    for entry in entries:
        digest.update(json.dumps(asdict(entry), sort_keys=True).encode())
    return digest.hexdigest()


def rewrite_as_previous_release(index_dir: Path, entries: list[IndexEntry]) -> None:
    """Turn an index into the previous release's layout: one manifest holding every entry."""
    header = read_manifest(index_dir)
    assert header is not None
    manifest = {
        "model_name": header["model_name"],
        "dimension": header["dimension"],
        "index_type": header["index_type"],
        "fingerprint": previous_fingerprint(entries, header["model_name"]),
        "entries": [asdict(e) for e in entries],
    }
    (index_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    (index_dir / ENTRIES).unlink()


def answers(search: KnowledgeSearch | LiveKnowledge) -> list[list[tuple[str, str, float]]]:
    embedder = HashingEmbedder()
    return [
        [
            (h.slug, h.section, round(h.score, 6))
            for h in search.search_vector(q, embedder.encode([q])[0], 3)
        ]
        for q in QUERIES
    ]


def test_the_fingerprint_is_the_one_indexes_already_record(tmp_path: Path) -> None:
    write_articles(tmp_path, ARTICLES)
    odd = IndexEntry(
        *('q"1', "k\\1", "slug", "Café — ü 日本", "cat", "Sec\tion"),
        *('a\nb "c" \u2028 é', "h", "chunk"),
    )
    entries = [*entries_for(tmp_path), odd]

    assert fingerprint(entries, "model-é") == previous_fingerprint(entries, "model-é")
    assert fingerprint([], "m") == previous_fingerprint([], "m")


async def first_start(
    tmp_path: Path, database: async_sessionmaker[AsyncSession]
) -> tuple[dict[str, Path], ReadyReport, list[list[tuple[str, str, float]]]]:
    """A first start over ``ARTICLES``: what later starts are given, its report (the index
    built) and the answers that index gives."""
    write_articles(tmp_path / "articles", ARTICLES)
    start = dict(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    first = await ensure_ready(database, HashingEmbedder(), clock=FrozenClock(), **start)
    assert first.built is not None
    return start, first, answers(KnowledgeSearch.load(tmp_path / "index"))


async def test_a_start_on_an_index_of_the_previous_release_loads_it_without_a_rebuild(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    start, first, expected = await first_start(tmp_path, sessions)
    embedder = HashingEmbedder()
    rewrite_as_previous_release(tmp_path / "index", first.entries.entries)

    again = await ensure_ready(sessions, embedder, clock=FrozenClock(), **start)
    live = await live_knowledge(sessions, embedder, clock=FrozenClock(), **start)

    assert again.built is None, "the previous release's index is current"
    assert answers(live) == expected
    assert answers(KnowledgeSearch.load(tmp_path / "index")) == expected


async def test_an_index_of_the_previous_release_with_other_articles_is_rebuilt(
    tmp_path: Path,
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    start, first, expected = await first_start(tmp_path, sessions)
    embedder = HashingEmbedder()
    older = [e for e in first.entries.entries if e.slug != "refund"]
    build_index(older, embedder, tmp_path / "index")
    rewrite_as_previous_release(tmp_path / "index", older)
    assert answers(KnowledgeSearch.load(tmp_path / "index")) != expected

    live = await live_knowledge(sessions, embedder, clock=FrozenClock(), **start)

    assert answers(live) == expected
    assert answers(KnowledgeSearch.load(tmp_path / "index")) == expected
    header = read_manifest(tmp_path / "index")
    assert header is not None and "entries" not in header, "rewritten in the new layout"
    # the previous release compared manifest["fingerprint"]: finding none, it rebuilds the
    # index rather than failing on entries it cannot find
    assert "fingerprint" not in header


def test_known_entries_serve_only_when_their_fingerprint_is_the_manifests(
    tmp_path: Path,
) -> None:
    write_articles(tmp_path / "articles", ARTICLES)
    embedder = HashingEmbedder()
    entries = entries_for(tmp_path / "articles")
    build_index(entries, embedder, tmp_path / "index")
    assert is_current(tmp_path / "index", entries, embedder.model_name)
    other = [e for e in entries if e.slug != "refund"]

    same = KnowledgeIndex.load(
        tmp_path / "index", known=KnownEntries(entries, fingerprint(entries, "hashing-test"))
    )
    stale = KnowledgeIndex.load(
        tmp_path / "index", known=KnownEntries(other, fingerprint(other, "hashing-test"))
    )

    assert same.entries == entries
    assert stale.entries == entries, "the index's own entries, from its entry file"
    (tmp_path / "index" / ENTRIES).write_text("not read", "utf-8")
    known = KnownEntries(entries, fingerprint(entries, "hashing-test"))
    assert KnowledgeIndex.load(tmp_path / "index", known=known).entries == entries


@pytest.mark.parametrize("damage", ["garbage", "another index's entries"])
def test_an_entry_file_that_is_not_the_manifests_is_never_served(
    tmp_path: Path, damage: str
) -> None:
    write_articles(tmp_path / "articles", ARTICLES)
    entries = entries_for(tmp_path / "articles")
    build_index(entries, HashingEmbedder(), tmp_path / "index")
    if damage == "garbage":
        (tmp_path / "index" / ENTRIES).write_text('{"rows": [', "utf-8")
    else:
        build_index(entries[:-1], HashingEmbedder(), tmp_path / "other")
        (tmp_path / "other" / ENTRIES).replace(tmp_path / "index" / ENTRIES)

    with pytest.raises(IndexUnavailable, match="damaged"):
        KnowledgeSearch.load(tmp_path / "index")
