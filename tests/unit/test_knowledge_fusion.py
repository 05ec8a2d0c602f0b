"""The hybrid fusion the bot uses: the dense ranking leads; by default BM25 has no say (chosen on
dev queries), and a small lexical weight (``SEARCH_LEXICAL_WEIGHT``) lets it break near-ties.

A fake embedder places each article where the test wants it, so the dense ranking and the
lexical (BM25) ranking can disagree on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.knowledge.index import article_entries, build_index
from bot.knowledge.search import Fusion, KnowledgeSearch, answer_hit, configured_search

DIM = 8


class PlacedEmbedder:
    """Each text goes to the direction of the first keyword it contains."""

    model_name = "placed-test"
    dimension = DIM

    def __init__(self, places: dict[str, np.ndarray]) -> None:
        self.places = places

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            vec = next((v for key, v in self.places.items() if key in text), np.ones(DIM))
            rows.append(vec / np.linalg.norm(vec))
        return np.array(rows, dtype=np.float32)


def build(tmp_path: Path, dense_order: list[str], index_dir: Path | None = None) -> KnowledgeSearch:
    """Articles whose cosine to the query falls in ``dense_order``; only "invoices" contains
    the query's words."""
    query_dir = np.eye(DIM)[0]
    places = {}
    bodies = {
        "shipping": "Parcels leave the warehouse daily.",
        "returns": "Send the item back within thirty days.",
        "invoices": "Download invoice PDF from the billing page.",
    }
    for rank, slug in enumerate(dense_order):
        places[bodies[slug]] = query_dir + (0.3 + 0.3 * rank) * np.eye(DIM)[rank + 1]
    entries = []
    for slug, body in bodies.items():
        entries += article_entries(
            slug=slug, title=slug.title(), category="", questions=[],
            chunks=[(0, "", f"{slug.title()}\n\n{body}", slug)],
        )  # fmt: skip
    index_dir = index_dir or tmp_path / "index"
    build_index(entries, PlacedEmbedder(places), index_dir)
    return KnowledgeSearch.load(index_dir)


QUERY = "invoice pdf download"
QUERY_VECTOR = np.eye(DIM, dtype=np.float32)[0]


def test_a_lexical_match_far_down_the_dense_ranking_does_not_jump_to_the_top(
    tmp_path: Path,
) -> None:
    search = build(tmp_path, ["shipping", "returns", "invoices"])

    default = search.search_vector(QUERY, QUERY_VECTOR, 3)
    equal_weights = KnowledgeSearch(search.index, fusion=Fusion(k=60, lexical_weight=1.0))

    assert default[0].slug == "shipping"
    assert equal_weights.search_vector(QUERY, QUERY_VECTOR, 3)[0].slug == "invoices"


LIGHT_LEXICAL = Fusion(k=10, lexical_weight=0.1)  # what a deployment may set


def test_with_a_small_lexical_weight_shared_words_break_a_near_tie(tmp_path: Path) -> None:
    search = build(tmp_path, ["shipping", "invoices", "returns"])
    light = KnowledgeSearch(search.index, fusion=LIGHT_LEXICAL)

    hits = light.search_vector(QUERY, QUERY_VECTOR, 3)

    assert hits[0].slug == "invoices"
    assert search.search_vector(QUERY, QUERY_VECTOR, 3)[0].slug == "shipping"  # the default
    assert search.search_vector(QUERY, QUERY_VECTOR, 3, mode="dense")[0].slug == "shipping"


def build_narrow_and_broad(tmp_path: Path) -> KnowledgeSearch:
    """Article "narrow" has one section very close to the query and two about other things;
    every section of article "broad" is fairly close to it."""
    e = np.eye(DIM)
    places = {
        "narrow one": e[0] + 0.3 * e[1],  # cosine .96
        "narrow two": e[2],  # 0
        "narrow three": e[3],  # 0
        "broad one": e[0] + 0.6 * e[4],  # cosine .86 each
        "broad two": e[0] + 0.6 * e[5],
        "broad three": e[0] + 0.6 * e[6],
    }
    entries = []
    for slug in ("narrow", "broad"):
        words = ("one", "two", "three")
        chunks = [(n, f"S{n}", f"{slug} {word}", f"{slug}{n}") for n, word in enumerate(words)]
        entries += article_entries(slug=slug, title=slug, category="", questions=[], chunks=chunks)
    build_index(entries, PlacedEmbedder(places), tmp_path / "nb")
    return KnowledgeSearch.load(tmp_path / "nb")


def test_an_article_about_the_message_throughout_beats_one_close_sentence(
    tmp_path: Path,
) -> None:
    search = build_narrow_and_broad(tmp_path)
    best_entry_only = KnowledgeSearch(search.index, fusion=Fusion(mean_weight=0.0))

    hits = search.search_vector("what about it", QUERY_VECTOR, 2)

    assert [h.slug for h in hits] == ["broad", "narrow"]
    assert [h.slug for h in best_entry_only.search_vector("what about it", QUERY_VECTOR, 2)] == [
        "narrow",
        "broad",
    ]
    # the score answer thresholds apply to is still the best cosine, and it shows that section
    assert hits[1].score == pytest.approx(0.958, abs=0.01)
    assert hits[1].section == "S0"


def test_the_answer_is_the_best_ranked_hit_that_clears_the_threshold(tmp_path: Path) -> None:
    search = build(tmp_path, ["shipping", "invoices", "returns"])
    hits = KnowledgeSearch(search.index, fusion=LIGHT_LEXICAL).search_vector(QUERY, QUERY_VECTOR, 3)
    cosines = sorted((h.score for h in hits), reverse=True)

    # hits come in fused order (BM25 lifted "invoices" over the closer "shipping"), and the
    # threshold applies to each hit's own cosine
    assert hits[0].slug == "invoices" and hits[0].score < cosines[0]
    assert answer_hit(hits, cosines[0]) == next(h for h in hits if h.score == cosines[0])
    assert answer_hit(hits, cosines[-1]) == hits[0]
    assert answer_hit(hits, cosines[0] + 0.01) is None


def test_the_search_the_bot_loads_fuses_with_the_configured_lexical_weight(
    tmp_path: Path,
) -> None:
    settings = Settings(HELPDESK_DATA_DIR=tmp_path)
    build(tmp_path, ["shipping", "returns", "invoices"], index_dir=settings.index_dir)
    lexical_heavy = Settings(HELPDESK_DATA_DIR=tmp_path, SEARCH_LEXICAL_WEIGHT="5")

    default = configured_search(settings).search_vector(QUERY, QUERY_VECTOR, 3)
    heavy = configured_search(lexical_heavy).search_vector(QUERY, QUERY_VECTOR, 3)

    assert default[0].slug == "shipping"
    assert heavy[0].slug == "invoices"  # the only article with the query's words
