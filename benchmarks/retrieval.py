"""Retrieval benchmarks (StackFAQ, CovidFAQ, the bundled articles) through the knowledge base's
own code paths.

Each FAQ entry is written as a Markdown article with front matter into a temporary directory,
parsed and chunked by the importer's reader, turned into index entries by ``article_entries``
(exactly what ``helpdesk kb reindex`` indexes), indexed by ``build_index`` and searched with
``KnowledgeSearch.search_vector`` in the dense, lexical and hybrid modes.

StackFAQ's paraphrased queries come in two groups: in the ``questions`` variant group 0 becomes
the articles' front-matter example questions and group 1 is evaluated; the ``plain`` variant
indexes no questions and is evaluated on the same group 1 (and on all queries).

``bundled`` indexes the articles that ship in ``data/articles`` as they are and scores the
labelled customer messages of ``benchmarks/data/bundled-kb-queries.yml`` (written for this
project, in words other than the articles' titles and example questions; a query counts as
found when the article it names, or one listed under ``also``, is ranked).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.datasets import FaqCorpus, FaqDocument, FaqQuery
from benchmarks.vectors import CACHE_DIR, cached_vectors
from bot.knowledge.importer import read_articles
from bot.knowledge.index import IndexEntry, article_entries, build_index
from bot.knowledge.search import Fusion, KnowledgeSearch, SearchMode, answer_hit
from nlu.embedding import Embedder

MODES: tuple[SearchMode, ...] = ("dense", "lexical", "hybrid")
ROOT = Path(__file__).resolve().parent.parent
BUNDLED_ARTICLES = ROOT / "data" / "articles"
BUNDLED_QUERIES = Path(__file__).resolve().parent / "data" / "bundled-kb-queries.yml"
CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class RankingScores:
    recall: dict[int, float]  # Recall@k: share of queries with a relevant article in the top k
    mrr10: float
    n: int


def article_markdown(doc: FaqDocument, questions: Sequence[str] = ()) -> str:
    """One FAQ entry as an article: the question is the title, the first answer the lead,
    further answers sections of their own."""
    meta: dict[str, Any] = {"title": " ".join(doc.title.split()) or doc.doc_id}
    if questions:
        meta["questions"] = [" ".join(q.split()) for q in questions]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
    parts = [doc.text.strip() or meta["title"]]
    others = [a.strip() for a in doc.answers if a.strip() and a.strip() != doc.text.strip()]
    parts += [f"## Answer {n}\n\n{answer}" for n, answer in enumerate(others, start=2)]
    return f"---\n{front}---\n" + "\n\n".join(parts) + "\n"


def corpus_entries(
    corpus: FaqCorpus, questions: dict[str, list[str]] | None = None
) -> list[IndexEntry]:
    """Index entries built the way the importer and ``load_entries`` build them."""
    questions = questions or {}
    with tempfile.TemporaryDirectory(prefix="faq-articles-") as tmp:
        directory = Path(tmp)
        for doc in corpus.documents:
            text = article_markdown(doc, questions.get(doc.doc_id, []))
            (directory / f"{doc.doc_id}.md").write_text(text, encoding="utf-8")
        return directory_entries(directory)


def directory_entries(directory: Path) -> list[IndexEntry]:
    """Index entries of every article in ``directory``, as ``helpdesk kb reindex`` makes them."""
    entries: list[IndexEntry] = []
    for slug, parsed in read_articles(directory):
        if not slug or isinstance(parsed, Exception):
            raise RuntimeError(f"article {slug!r} did not parse: {parsed}")
        entries.extend(
            article_entries(
                slug=parsed.slug,
                title=parsed.title,
                category=parsed.category,
                questions=parsed.questions,
                chunks=[(c.ordinal, c.section, c.text, c.content_hash) for c in parsed.chunks],
            )
        )
    return entries


def build_search(
    name: str, entries: list[IndexEntry], embedder: Embedder, fusion: Fusion | None = None
) -> KnowledgeSearch:
    """Index ``entries`` under ``benchmarks/.cache/index-<name>`` (its embedding store makes a
    rebuild encode nothing) and load it."""
    index_dir = CACHE_DIR / f"index-{name}"
    build_index(entries, embedder, index_dir)
    return KnowledgeSearch.load(index_dir, fusion=fusion)


def score_rankings(
    rankings: Sequence[Sequence[str]], relevant: Sequence[frozenset[str]]
) -> RankingScores:
    """Recall@1/5/10 and MRR@10 of ranked slug lists against the relevant ids."""
    first: list[int | None] = []
    for ranked, gold in zip(rankings, relevant, strict=True):
        first.append(next((i for i, slug in enumerate(ranked[:10], 1) if slug in gold), None))
    n = len(first)
    recall = {k: sum(1 for r in first if r is not None and r <= k) / n for k in CUTOFFS}
    mrr = sum(1.0 / r for r in first if r is not None) / n
    return RankingScores(recall, mrr, n)


def rank_queries(
    search: KnowledgeSearch, queries: Sequence[FaqQuery], vectors: np.ndarray, mode: SearchMode
) -> list[list[str]]:
    return [
        [hit.slug for hit in search.search_vector(q.text, vectors[i], 10, mode=mode)]
        for i, q in enumerate(queries)
    ]


def evaluate_modes(
    search: KnowledgeSearch,
    queries: Sequence[FaqQuery],
    vectors: np.ndarray,
    modes: Sequence[SearchMode],
) -> dict[str, RankingScores]:
    relevant = [q.relevant for q in queries]
    return {
        mode: score_rankings(rank_queries(search, queries, vectors, mode), relevant)
        for mode in modes
    }


def query_vectors(name: str, queries: Sequence[FaqQuery], embedder: Embedder) -> np.ndarray:
    return cached_vectors(name, [q.text for q in queries], embedder)


def _metric_rows(split: str, mode: str, scores: RankingScores) -> list[dict[str, Any]]:
    from benchmarks.report import metric

    rows = [metric(split, f"{mode} recall@{k}", scores.recall[k], scores.n) for k in CUTOFFS]
    rows.append(metric(split, f"{mode} mrr@10", scores.mrr10, scores.n))
    return rows


ANSWER_THRESHOLDS = tuple(round(0.30 + 0.04 * i, 2) for i in range(8))


def answer_threshold_rows(
    search: KnowledgeSearch,
    queries: Sequence[FaqQuery],
    vectors: np.ndarray,
    datasets_dir: Path,
    embedder: Embedder,
) -> list[dict[str, Any]]:
    """What each answer threshold does, by the bot's own rule (``answer_hit`` over the top 3):
    how many labelled messages get the right article, a wrong one or none, and how many
    off-topic messages (CLINC150 ``oos_test``) get an article at all."""
    from benchmarks.datasets import load_clinc150
    from benchmarks.report import metric

    off_topic = load_clinc150(datasets_dir)["oos_test"].texts
    off_vectors = cached_vectors("clinc150", off_topic, embedder)
    on_hits = [search.search_vector(q.text, vectors[i], 3) for i, q in enumerate(queries)]
    off_hits = [search.search_vector(t, off_vectors[i], 3) for i, t in enumerate(off_topic)]
    rows = []
    for threshold in ANSWER_THRESHOLDS:
        split = f"answer threshold {threshold:.2f}"
        answers = [answer_hit(hits, threshold) for hits in on_hits]
        right = sum(1 for a, q in zip(answers, queries, strict=True) if a and a.slug in q.relevant)
        wrong = sum(1 for a in answers if a is not None) - right
        answered_off = sum(1 for hits in off_hits if answer_hit(hits, threshold) is not None)
        rows += [
            metric(split, "on-topic: right article", right / len(queries), len(queries)),
            metric(split, "on-topic: wrong article", wrong / len(queries), len(queries)),
            metric(split, "off-topic: any article", answered_off / len(off_topic), len(off_topic)),
        ]
    return rows


def run_retrieval(
    dataset: str,
    datasets_dir: Path,
    embedder: Embedder,
    modes: Sequence[SearchMode],
    *,
    fusion: Fusion | None = None,
    articles: Path = BUNDLED_ARTICLES,
    queries_file: Path = BUNDLED_QUERIES,
) -> dict[str, Any]:
    """Index the FAQ as articles and score each search mode (see the module docstring);
    ``bundled`` reads ``articles`` and ``queries_file`` instead."""
    from benchmarks.datasets import load_bundled_queries, load_covidfaq, load_stackfaq
    from benchmarks.report import result_document

    fusion = fusion or Fusion()
    rows: list[dict[str, Any]] = []
    if dataset == "stackfaq":
        corpus = load_stackfaq(datasets_dir)
        vectors = query_vectors(dataset, corpus.queries, embedder)
        held_out = [i for i, q in enumerate(corpus.queries) if q.group == 1]
        held_queries = [corpus.queries[i] for i in held_out]
        questions: dict[str, list[str]] = {}
        for q in corpus.queries:
            if q.group == 0:
                for doc_id in sorted(q.relevant):
                    questions.setdefault(doc_id, []).append(q.text)
        plain = build_search("stackfaq-plain", corpus_entries(corpus), embedder, fusion)
        for mode, scores in evaluate_modes(plain, corpus.queries, vectors, modes).items():
            rows += _metric_rows("all queries, no example questions", mode, scores)
        for mode, scores in evaluate_modes(plain, held_queries, vectors[held_out], modes).items():
            rows += _metric_rows("group 1, no example questions", mode, scores)
        entries = corpus_entries(corpus, questions)
        with_q = build_search("stackfaq-questions", entries, embedder, fusion)
        for mode, scores in evaluate_modes(with_q, held_queries, vectors[held_out], modes).items():
            rows += _metric_rows("group 1, group 0 as example questions", mode, scores)
        title = "StackFAQ threads (Karan & Šnajder 2018)"
        documents = len(corpus.documents)
    elif dataset == "covidfaq":
        corpus = load_covidfaq(datasets_dir)
        vectors = query_vectors(dataset, corpus.queries, embedder)
        search = build_search("covidfaq", corpus_entries(corpus), embedder, fusion)
        for mode, scores in evaluate_modes(search, corpus.queries, vectors, modes).items():
            rows += _metric_rows("all queries", mode, scores)
        title = "CovidFAQ"
        documents = len(corpus.documents)
    elif dataset == "bundled":
        queries = load_bundled_queries(queries_file)
        vectors = query_vectors(dataset, queries, embedder)
        search = build_search("bundled", directory_entries(articles), embedder, fusion)
        for mode, scores in evaluate_modes(search, queries, vectors, modes).items():
            rows += _metric_rows("all queries", mode, scores)
        rows += answer_threshold_rows(search, queries, vectors, datasets_dir, embedder)
        title = f"articles in {articles.name}/ with the labelled messages of {queries_file.name}"
        documents = search.article_count
    else:
        raise ValueError(f"unknown retrieval dataset {dataset!r}")
    return result_document(dataset, title, rows, fusion=asdict(fusion), documents=documents)
