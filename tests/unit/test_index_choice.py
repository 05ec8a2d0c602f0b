"""The knowledge index's type follows its size: exact (flat) below the threshold, an HNSW graph
from there on (``HELPDESK_INDEX_FLAT_BELOW``; tiny sizes here through a lowered threshold). The
graph finds what exact search finds on a small set, a change of threshold rebuilds the index,
and the setting reaches the index the help desk builds."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from bot.config import Settings
from bot.knowledge.index import (
    IndexEntry,
    KnowledgeIndex,
    build_index,
    index_kind,
    is_current,
    read_manifest,
)
from tests.unit.test_knowledge_index import HashingEmbedder

TOPICS = [
    "reset password link email",
    "shipping times express delivery",
    "refund a damaged order",
    "change the billing address",
    "cancel my subscription plan",
    "the hub does not connect to wifi",
    "update the firmware of the bulb",
    "invoice for my last payment",
]


def entries(count: int) -> list[IndexEntry]:
    out = []
    for n in range(count):
        text = f"{TOPICS[n % len(TOPICS)]} variant {n} {TOPICS[(n * 3) % len(TOPICS)]}"
        out.append(
            IndexEntry(f"a{n}#0", f"a{n}#0", f"a{n}", f"A{n}", "", "", text, f"h{n}", "chunk")
        )
    return out


def test_the_type_follows_the_size() -> None:
    assert index_kind(9, flat_below=10) == "flat"
    assert index_kind(10, flat_below=10) == "hnsw"
    assert Settings().index_flat_below == 10_000  # the default, from the kb-scale run


def test_above_the_threshold_a_graph_that_finds_what_exact_search_finds(tmp_path: Path) -> None:
    embedder, items = HashingEmbedder(), entries(60)
    build_index(items, embedder, tmp_path / "flat", flat_below=100)
    build_index(items, embedder, tmp_path / "graph", flat_below=40)
    flat = KnowledgeIndex.load(tmp_path / "flat")
    graph = KnowledgeIndex.load(tmp_path / "graph")
    assert read_manifest(tmp_path / "flat")["index_type"] == "flat"  # type: ignore[index]
    assert read_manifest(tmp_path / "graph")["index_type"] == "hnsw"  # type: ignore[index]
    assert isinstance(faiss.downcast_index(graph.faiss_index), faiss.IndexHNSWFlat)
    assert isinstance(faiss.downcast_index(flat.faiss_index), faiss.IndexFlatIP)
    for topic in TOPICS:
        vector = embedder.encode([topic])[0]
        exact_rows, exact_scores = flat.nearest(vector, 5)
        rows, scores = graph.nearest(vector, 5)
        assert np.allclose(scores, exact_scores, atol=1e-5)  # the same neighbours (ties aside)
        assert rows[0] == exact_rows[0] or np.isclose(scores[0], exact_scores[1])


def test_a_threshold_that_changes_the_type_makes_the_index_stale(tmp_path: Path) -> None:
    embedder, items = HashingEmbedder(), entries(30)
    build_index(items, embedder, tmp_path, flat_below=100)
    assert is_current(tmp_path, items, embedder.model_name, flat_below=100)
    assert not is_current(tmp_path, items, embedder.model_name, flat_below=20)


def test_the_setting_is_read_from_the_environment(monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("HELPDESK_INDEX_FLAT_BELOW", "25")
    assert Settings().index_flat_below == 25
