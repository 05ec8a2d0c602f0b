"""The answer-threshold sweep: every example question is asked of an index that does not hold
it, the off-topic messages of the whole index, and the written rule picks the threshold. It
reads only the articles it is given (no labelled messages, no public data set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import retrieval, vectors
from benchmarks.answer_threshold_sweep import (
    THRESHOLDS,
    choose_threshold,
    held_out_questions,
    outcomes,
    run_answer_threshold_sweep,
)
from tests.unit.test_nlu_fakes import HashingEmbedder

ARTICLES = {
    "reset-password": (
        "Reset your password",
        ["forgot my password", "password reset link", "can't sign in", "new password", "login"],
        "Tap Forgot password and follow the email.",
    ),
    "track-order": (
        "Track your order",
        ["where is my parcel", "order status", "tracking number", "delivery late", "shipped"],
        "Open Orders and tap the tracking link.",
    ),
    "return-product": (
        "Return a product",
        ["send it back", "return label", "refund a bulb", "return window", "unwanted item"],
        "Returns are free within 30 days.",
    ),
}
OFF_TOPIC = ("tell me a joke", "weather tomorrow", "best pizza recipe", "who won the match")


@pytest.fixture
def articles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three small articles with five example questions each; the fake vectors and indexes go
    to a scratch cache, never the real one."""
    monkeypatch.setattr(vectors, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(retrieval, "CACHE_DIR", tmp_path / "cache")
    folder = tmp_path / "articles"
    folder.mkdir()
    for slug, (title, questions, body) in ARTICLES.items():
        listed = "\n".join(f"  - {q}" for q in questions)
        front = f"---\ntitle: {title}\nquestions:\n{listed}\n---\n\n{body}\n"
        (folder / f"{slug}.md").write_text(front, encoding="utf-8")
    return folder


def test_each_example_question_is_asked_of_an_index_without_it(articles: Path) -> None:
    asked = held_out_questions(retrieval.directory_entries(articles), HashingEmbedder(32))

    assert sorted(a.text for a in asked) == sorted(q for _, qs, _ in ARTICLES.values() for q in qs)
    # the fake embeds identical texts identically: a question still indexed would score 1
    assert all(hit.dense_score < 0.999 for a in asked for hit in a.hits)


def test_the_sweep_scores_every_threshold_and_follows_its_rule(articles: Path) -> None:
    document = run_answer_threshold_sweep(
        HashingEmbedder(32), articles=articles, off_topic=OFF_TOPIC, progress=lambda _: None
    )

    assert document["questions"] == 15 and document["off_topic"] == len(OFF_TOPIC)
    assert len(document["metrics"]) == 3 * len(THRESHOLDS)
    utility = {float(t): v for t, v in document["utility"].items()}
    assert document["chosen"] == choose_threshold(utility, document["shipped"])


def test_the_rule_keeps_the_shipped_threshold_on_a_tie_else_the_highest_best() -> None:
    assert choose_threshold({0.4: 0.50, 0.42: 0.50, 0.5: 0.50}, 0.42) == 0.42
    assert choose_threshold({0.4: 0.50, 0.42: 0.49, 0.5: 0.50}, 0.42) == 0.5
    assert choose_threshold({0.4: 0.51, 0.42: 0.49, 0.5: 0.50}, 0.42) == 0.4


def test_outcomes_count_right_wrong_and_unanswered_by_the_bots_own_rule(articles: Path) -> None:
    asked = held_out_questions(retrieval.directory_entries(articles), HashingEmbedder(32))

    for threshold in (0.0, 0.5, 1.01):
        right, wrong, none = outcomes(asked, threshold)
        assert right + wrong + none == pytest.approx(1.0)
    assert outcomes(asked, 1.01) == (0.0, 0.0, 1.0)  # nothing clears a cosine above 1
