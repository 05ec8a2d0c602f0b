"""The sweep behind the answer threshold (``bot.config.ANSWER_THRESHOLD``), on dev data only.

The bot answers with an article when one of the top 3 hits clears the threshold (the best-ranked
such hit, ``answer_hit``; the threshold applies to the dense cosine); otherwise it asks the
customer to rephrase, then opens a case. The threshold is chosen on two sets no reported figure
uses, through the knowledge base's own code paths (``benchmarks.retrieval``):

* **on-topic**: the bundled articles' own example questions (the ``questions:`` front matter of
  ``data/articles``), held out in ``FOLDS`` folds — the n-th question of each article goes to
  fold n mod ``FOLDS``, is removed from the index and asked as a customer's message, so an
  article keeps its other questions, as it would for a message worded like them. The 80
  labelled messages of ``benchmarks/data/bundled-kb-queries.yml`` are never read: they report.
* **off-topic**: the project's own off-topic messages (``nlu.background.OFF_TOPIC``), asked of
  the whole index. CLINC150's ``oos_test`` is never read: it reports.

**The rule, written before the run:** the threshold with the highest *right − wrong −
off-topic answered*: the share of held-out questions answered with their own article, minus the
share answered with another article, minus the share of off-topic messages answered with any
article (the two sets counting once each). A right article gains the customer what a wrong one
costs, an article shown for an off-topic message is as wrong as a wrong one, and asking to
rephrase costs nothing. On a tie at 4 decimals the shipped value, else the highest tied
threshold (fewer articles shown to messages nobody wrote them for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import metric, result_document
from benchmarks.retrieval import BUNDLED_ARTICLES, build_search, directory_entries
from benchmarks.vectors import cached_vectors
from bot.config import ANSWER_THRESHOLD
from bot.knowledge.index import IndexEntry
from bot.knowledge.search import SearchHit, answer_hit
from nlu.background import OFF_TOPIC
from nlu.embedding import Embedder

FOLDS = 5
THRESHOLDS = tuple(round(0.30 + 0.02 * i, 2) for i in range(16))  # 0.30 … 0.60
HITS = 3  # the bot reads the top 3 hits (``bot.dialogs.understanding``)


@dataclass(frozen=True)
class Asked:
    """One dev message and the hits the bot would see; ``article`` is None for off-topic."""

    text: str
    article: str | None
    hits: list[SearchHit]


def question_fold(entry: IndexEntry) -> int | None:
    """The fold an example-question entry is held out in (its number within its article mod
    ``FOLDS``); None for an article's text."""
    if entry.kind != "question":
        return None
    return int(entry.key.rsplit("?", 1)[1]) % FOLDS


def held_out_questions(
    entries: list[IndexEntry], embedder: Embedder, cache: str = "answer-threshold"
) -> list[Asked]:
    """Every example question, asked of an index built without its fold's questions."""
    asked: list[Asked] = []
    for fold in range(FOLDS):
        held = [e for e in entries if question_fold(e) == fold]
        if not held:
            continue
        search = build_search(cache, [e for e in entries if question_fold(e) != fold], embedder)
        vectors = cached_vectors(cache, [e.text for e in held], embedder)
        asked += [
            Asked(e.text, e.slug, search.search_vector(e.text, vectors[i], HITS))
            for i, e in enumerate(held)
        ]
    return asked


def off_topic_messages(
    entries: list[IndexEntry],
    embedder: Embedder,
    messages: Sequence[str] = OFF_TOPIC,
    cache: str = "answer-threshold",
) -> list[Asked]:
    """The off-topic messages, asked of the whole index."""
    search = build_search(cache, entries, embedder)
    vectors = cached_vectors(cache, list(messages), embedder)
    hits = [search.search_vector(text, vectors[i], HITS) for i, text in enumerate(messages)]
    return [Asked(text, None, found) for text, found in zip(messages, hits, strict=True)]


def outcomes(asked: Sequence[Asked], threshold: float) -> tuple[float, float, float]:
    """(right, wrong, none): shares of ``asked`` answered with their own article, with another
    (any article, for an off-topic message) and not answered, at ``threshold``."""
    answers = [answer_hit(a.hits, threshold) for a in asked]
    right = sum(1 for a, hit in zip(asked, answers, strict=True) if hit and hit.slug == a.article)
    wrong = sum(1 for hit in answers if hit is not None) - right
    n = len(asked)
    return right / n, wrong / n, (n - right - wrong) / n


def choose_threshold(utility: dict[float, float], shipped: float) -> float:
    """The rule (module docstring): ``utility`` maps each threshold to right − wrong −
    off-topic answered."""
    best = max(round(v, 4) for v in utility.values())
    if shipped in utility and round(utility[shipped], 4) >= best:
        return shipped
    return max(t for t, v in utility.items() if round(v, 4) >= best)


def run_answer_threshold_sweep(
    embedder: Embedder,
    *,
    articles: Path = BUNDLED_ARTICLES,
    off_topic: Sequence[str] = OFF_TOPIC,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    entries = directory_entries(articles)
    questions = held_out_questions(entries, embedder)
    if not questions:
        raise ValueError(f"the articles in {articles} have no example questions to hold out")
    unrelated = off_topic_messages(entries, embedder, off_topic)
    rows: list[dict[str, Any]] = []
    utility: dict[float, float] = {}
    on_split = f"held-out example questions ({FOLDS} folds)"
    for threshold in THRESHOLDS:
        right, wrong, _ = outcomes(questions, threshold)
        _, answered_off, _ = outcomes(unrelated, threshold)
        utility[threshold] = right - wrong - answered_off
        rows += [
            metric(on_split, f"{threshold:.2f}: right article", right, len(questions)),
            metric(on_split, f"{threshold:.2f}: wrong article", wrong, len(questions)),
            metric(
                "shipped off-topic messages",
                f"{threshold:.2f}: any article",
                answered_off,
                len(unrelated),
            ),
        ]
        progress(
            f"  {threshold:.2f}  right {right:.3f}  wrong {wrong:.3f}  "
            f"off-topic answered {answered_off:.3f}  utility {utility[threshold]:+.4f}"
        )
    chosen = choose_threshold(utility, ANSWER_THRESHOLD)
    return result_document(
        "sweep-answer-threshold",
        f"answer threshold on the example questions of {articles.name}/ (held out) and the "
        "shipped off-topic messages",
        rows,
        rule=(
            "highest right − wrong − off-topic answered (shares; each set counting once); "
            "the shipped value on a tie at 4 decimals, else the highest tied threshold"
        ),
        chosen=chosen,
        shipped=ANSWER_THRESHOLD,
        utility={f"{t:.2f}": round(v, 4) for t, v in utility.items()},
        questions=len(questions),
        off_topic=len(unrelated),
    )
