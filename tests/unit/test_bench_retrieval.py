"""Pieces of the retrieval benchmark: FAQ entries become importable articles, and rankings
are scored the way the published numbers are (Recall@k, MRR@10)."""

from __future__ import annotations

import pytest

from benchmarks.datasets import FaqCorpus, FaqDocument, load_bundled_queries
from benchmarks.retrieval import (
    BUNDLED_ARTICLES,
    BUNDLED_QUERIES,
    article_markdown,
    corpus_entries,
    score_rankings,
)


def test_faq_entry_becomes_an_article_with_title_answers_and_questions() -> None:
    corpus = FaqCorpus(
        [
            FaqDocument(
                "t007",
                "How do I: delete my account?",
                "Go to settings.",
                ("Go to settings.", "Email support [here]."),
            )
        ],
        [],
    )
    entries = corpus_entries(corpus, {"t007": ["remove my profile", "close account"]})

    chunks = [e for e in entries if e.kind == "chunk"]
    questions = [e.text for e in entries if e.kind == "question"]
    assert {e.slug for e in entries} == {"t007"}
    assert chunks[0].title == "How do I: delete my account?"
    assert "Go to settings." in chunks[0].text
    assert any("Email support" in c.text and c.section == "Answer 2" for c in chunks)
    assert questions == ["remove my profile", "close account"]


def test_article_markdown_skips_a_repeated_accepted_answer() -> None:
    text = article_markdown(FaqDocument("a1", "Q?", "same", ("same", "other")))
    assert text.count("same") == 1 and "## Answer 2" in text


def test_recall_and_mrr_count_the_first_relevant_hit() -> None:
    rankings = [["a", "b"], ["x", "y", "b"], ["q"] * 10 + ["b"]]
    relevant = [frozenset({"a"}), frozenset({"b"}), frozenset({"b"})]

    scores = score_rankings(rankings, relevant)

    assert scores.recall[1] == pytest.approx(1 / 3)
    assert scores.recall[5] == pytest.approx(2 / 3)
    assert scores.recall[10] == pytest.approx(2 / 3)  # rank 11 is outside the top 10
    assert scores.mrr10 == pytest.approx((1 + 1 / 3) / 3)


def test_bundled_queries_label_existing_articles_and_cover_every_one() -> None:
    """An article renamed or added without updating the evaluation set fails here."""
    queries = load_bundled_queries(BUNDLED_QUERIES)
    slugs = {path.stem for path in BUNDLED_ARTICLES.glob("*.md")}

    labelled = set().union(*(q.relevant for q in queries))
    assert labelled <= slugs
    assert slugs - labelled == set()
    assert len({q.text for q in queries}) == len(queries)  # no query twice
