"""Loaders for the public evaluation data sets (see ``$HELPDESK_DATASETS_DIR/README.md``) and
for the bundled articles' labelled queries.

Each loader returns plain Python structures; nothing here encodes or trains.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = [
    "FaqCorpus",
    "IntentSplit",
    "load_banking77",
    "load_banking77_train",
    "load_bundled_queries",
    "load_clinc150",
    "load_covidfaq",
    "load_stackfaq",
]


@dataclass(frozen=True)
class IntentSplit:
    """Parallel lists of texts and intent labels (``out_of_scope`` for off-topic queries)."""

    texts: list[str]
    labels: list[str]

    def by_intent(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = defaultdict(list)
        for text, label in zip(self.texts, self.labels, strict=True):
            grouped[label].append(text)
        return dict(grouped)


@dataclass(frozen=True)
class FaqDocument:
    """One FAQ entry: its question (title), its answer text and any further answers."""

    doc_id: str
    title: str
    text: str
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaqQuery:
    query_id: str
    text: str
    relevant: frozenset[str]
    group: int | None = None


@dataclass(frozen=True)
class FaqCorpus:
    documents: list[FaqDocument]
    queries: list[FaqQuery]


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _read_qrels(path: Path) -> dict[str, set[str]]:
    relevant: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant[row["query-id"]].add(row["corpus-id"])
    return relevant


def load_banking77(root: Path) -> tuple[IntentSplit, IntentSplit]:
    """(train, test) of BANKING77."""
    return load_banking77_train(root), _read_banking77(root, "test.csv")


def load_banking77_train(root: Path) -> IntentSplit:
    """BANKING77's ``train`` alone: what every choice reads (``test.csv`` is not opened)."""
    return _read_banking77(root, "train.csv")


def _read_banking77(root: Path, name: str) -> IntentSplit:
    with (root / "banking77" / name).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return IntentSplit([r["text"] for r in rows], [r["category"] for r in rows])


def load_clinc150(root: Path) -> dict[str, IntentSplit]:
    """CLINC150 ``data_full.json``: ``train``, ``val``, ``test``, ``oos_val``, ``oos_test``…

    Out-of-scope rows are labelled ``out_of_scope`` (the file calls them ``oos``).
    """
    raw = json.loads((root / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    splits = {}
    for name, rows in raw.items():
        labels = ["out_of_scope" if label == "oos" else str(label) for _, label in rows]
        splits[name] = IntentSplit([str(text) for text, _ in rows], labels)
    return splits


def load_stackfaq(root: Path) -> FaqCorpus:
    """StackFAQ: 125 threads (question, accepted answer, other answers) and their queries."""
    base = root / "stackfaq"
    docs = [
        FaqDocument(
            str(d["_id"]),
            str(d["title"]),
            str(d["text"]),
            tuple(str(a) for a in d.get("answers", []) or []),  # type: ignore[attr-defined]
        )
        for d in _read_jsonl(base / "corpus_threads.jsonl")
    ]
    qrels = _read_qrels(base / "qrels_threads.tsv")
    queries = [
        FaqQuery(
            str(q["_id"]),
            str(q["text"]),
            frozenset(qrels.get(str(q["_id"]), {str(q["thread"])})),
            int(str(q["group"])),
        )
        for q in _read_jsonl(base / "queries.jsonl")
    ]
    return FaqCorpus(docs, queries)


def load_covidfaq(root: Path) -> FaqCorpus:
    """CovidFAQ: 67 FAQ answers and the crowd-written queries that ask them."""
    base = root / "covidfaq"
    docs = [
        FaqDocument(str(d["_id"]), str(d["title"]), str(d["text"]))
        for d in _read_jsonl(base / "corpus.jsonl")
    ]
    qrels = _read_qrels(base / "qrels.tsv")
    queries = [
        FaqQuery(str(q["_id"]), str(q["text"]), frozenset(qrels[str(q["_id"])]))
        for q in _read_jsonl(base / "queries.jsonl")
        if str(q["_id"]) in qrels
    ]
    return FaqCorpus(docs, queries)


def load_bundled_queries(path: Path) -> list[FaqQuery]:
    """The labelled customer messages for the bundled articles: ``queries`` of ``{text,
    article, also?}`` (``also``: other articles that answer it as well)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        FaqQuery(
            f"q{i:03d}",
            str(row["text"]),
            frozenset([str(row["article"]), *(str(a) for a in row.get("also") or [])]),
        )
        for i, row in enumerate(raw["queries"])
    ]
