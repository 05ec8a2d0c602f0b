"""The sweeps' building blocks: left-out intents are a seeded partition, the AUC is the
textbook one, and CovidFAQ's dev half never overlaps the half that is reported."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from benchmarks.datasets import FaqQuery
from benchmarks.retrieval_sweep import covid_halves
from benchmarks.sweeps import auc, intent_folds
from nlu.classifier import SCOPE_K, SCOPE_WEIGHT


def test_left_out_intents_partition_the_intents_the_same_way_every_run() -> None:
    intents = [f"intent_{i}" for i in range(23)]
    folds = intent_folds(intents, 5, seed=0)
    assert sorted(i for fold in folds for i in fold) == sorted(intents)
    assert {len(fold) for fold in folds} <= {4, 5}
    assert intent_folds(list(reversed(intents)), 5, seed=0) == folds
    assert intent_folds(intents, 5, seed=1) != folds


def test_auc_is_the_chance_a_positive_outranks_a_negative() -> None:
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert auc(np.array([1.0, 3.0]), np.array([2.0])) == 0.5
    assert auc(np.array([2.0]), np.array([2.0])) == pytest.approx(0.5)  # a tie counts half


def test_covidfaq_dev_and_reported_halves_are_disjoint_and_seeded() -> None:
    queries = [FaqQuery(str(i), f"q{i}", frozenset({"d"})) for i in range(101)]
    dev, reported = covid_halves(queries)
    assert not set(dev) & set(reported)
    assert sorted(dev + reported) == list(range(101))
    assert len(dev) == 50 or len(dev) == 51
    assert covid_halves(queries) == (dev, reported)


def test_the_chosen_share_rejects_most_while_dev_accuracy_stays_within_a_point() -> None:
    from benchmarks.report import metric
    from benchmarks.sweeps import KEEP_GRID, choose_keep

    dev_accuracy = {0.9: 0.87, 0.93: 0.90, 0.95: 0.919, 0.96: 0.928}  # the rest: 0.93
    rows = [metric("banking77 dev", "accuracy without rejection", 0.935, 1000)]
    rows += [
        metric("banking77 dev", f"keep {k:g}: accuracy", dev_accuracy.get(k, 0.93), 1000)
        for k in KEEP_GRID
    ]
    assert choose_keep(rows) == 0.96


def _figures(accuracy: float, clinc_bg: float, bank_dev: float, bank_bg: float) -> dict[str, float]:
    return {
        "clinc150 on-topic accuracy": accuracy,
        "clinc150 left-out intents rejected": 0.4,
        "clinc150 held-out background rejected": clinc_bg,
        "banking77 dev accuracy": bank_dev,
        "banking77 held-out background rejected": bank_bg,
    }


def test_the_background_gets_the_least_strict_floor_that_rejects_as_much_as_without_it() -> None:
    from benchmarks.sweeps import BACKGROUND_KEEP_GRID, choose_background

    baseline = _figures(0.95, 0.70, 0.92, 0.99)
    table = {f"{k:g}": _figures(0.96, 0.72, 0.925, 0.99) for k in BACKGROUND_KEEP_GRID}
    for k in (0.985, 0.99, 0.995, 1.0):  # looser floors let held-out background through
        table[f"{k:g}"] = _figures(0.97, 0.69, 0.93, 0.99)

    assert choose_background(baseline, table, closed_set=0.93) == (0.98, True)
    # every share costs more than a point of BANKING77 dev accuracy: none qualifies
    assert choose_background(baseline, table, closed_set=0.94) == (None, False)
    # not more accurate on CLINC150's held-out on-topic messages: not used
    worse = _figures(0.96, 0.70, 0.92, 0.99)
    assert choose_background(worse, table, closed_set=0.93) == (0.98, False)


def test_the_background_sweep_over_several_folds_reports_their_spread_from_train_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLINC150's file holds ``train`` alone here and BANKING77's folder ``train.csv`` alone:
    a sweep that read any other split would fail."""
    from benchmarks import vectors
    from benchmarks.sweeps import BACKGROUND_KEEP_GRID, run_background_sweep
    from tests.unit.test_nlu_fakes import HashingEmbedder

    monkeypatch.setattr(vectors, "CACHE_DIR", tmp_path / "cache")
    rng = random.Random(0)
    words = [f"w{i}" for i in range(60)]

    def examples(intents: int, per_intent: int) -> list[tuple[str, str]]:
        return [
            (" ".join(rng.sample(words[3 * i : 3 * i + 3], 2) + rng.sample(words, 2)), f"i{i}")
            for i in range(intents)
            for _ in range(per_intent)
        ]

    (tmp_path / "clinc150").mkdir()
    train = [list(row) for row in examples(10, 25)]
    (tmp_path / "clinc150" / "data_full.json").write_text(json.dumps({"train": train}))
    (tmp_path / "banking77").mkdir()
    with (tmp_path / "banking77" / "train.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("text", "category"), *examples(6, 30)])

    document = run_background_sweep(tmp_path, HashingEmbedder(dimension=16), runs=2)

    assert document["folds"] == 2
    spread = document["sd_over_folds"]
    assert len(spread) == 3 * (1 + len(BACKGROUND_KEEP_GRID))
    assert all(sd >= 0 for sd in spread.values())
    assert "with background, keep 0.975: clinc150 on-topic accuracy" in spread


def test_the_fusion_keeps_the_shipped_pair_on_a_tie_and_else_the_lightest_lexical_weight() -> None:
    from benchmarks.retrieval_sweep import choose_fusion

    recall = {(5.0, 0.0): 0.80, (10.0, 0.1): 0.84, (20.0, 0.2): 0.84003, (60.0, 0.05): 0.83}
    assert choose_fusion(recall, shipped=(10.0, 0.1)) == (10.0, 0.1)
    recall[(20.0, 0.2)] = 0.85
    recall[(60.0, 0.2)] = 0.85
    assert choose_fusion(recall, shipped=(10.0, 0.1)) == (20.0, 0.2)
    recall[(60.0, 0.05)] = 0.85
    assert choose_fusion(recall, shipped=(10.0, 0.1)) == (60.0, 0.05)


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _qrels(path: Path, pairs: list[tuple[str, str]]) -> None:
    lines = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t1" for q, d in pairs)]
    path.write_text("\n".join(lines) + "\n")


def test_the_fusion_sweep_encodes_and_scores_only_the_dev_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StackFAQ's group 1 and CovidFAQ's reported half carry the word "reported": the sweep
    must never encode them (and so never search them)."""
    from benchmarks import retrieval, vectors
    from benchmarks.retrieval_sweep import FUSION_KS, LEXICAL_WEIGHTS, run_fusion_sweep
    from tests.unit.test_nlu_fakes import HashingEmbedder

    monkeypatch.setattr(vectors, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(retrieval, "CACHE_DIR", tmp_path / "cache")
    topics = ["printer ink jam", "password reset login", "invoice refund payment", "wifi router"]
    stack, covid = tmp_path / "data" / "stackfaq", tmp_path / "data" / "covidfaq"
    stack.mkdir(parents=True)
    covid.mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": t, "text": f"about {t}"} for i, t in enumerate(topics)]
    _jsonl(stack / "corpus_threads.jsonl", [{**d, "answers": []} for d in docs])
    _jsonl(covid / "corpus.jsonl", docs)
    stack_queries = [
        {"_id": f"s{g}{i}", "text": f"{'reported ' * g}{t} help", "thread": f"d{i}", "group": g}
        for g in (0, 1)
        for i, t in enumerate(topics)
    ]
    _jsonl(stack / "queries.jsonl", stack_queries)
    _qrels(stack / "qrels_threads.tsv", [(str(q["_id"]), str(q["thread"])) for q in stack_queries])
    covid_queries = [{"_id": f"c{n}", "text": f"{topics[n % 4]} question {n}"} for n in range(8)]
    _qrels(covid / "qrels.tsv", [(f"c{n}", f"d{n % 4}") for n in range(8)])
    from benchmarks.datasets import FaqQuery
    from benchmarks.retrieval_sweep import covid_halves

    loaded = [FaqQuery(str(q["_id"]), str(q["text"]), frozenset()) for q in covid_queries]
    _, reported = covid_halves(loaded)
    for n in reported:
        covid_queries[n]["text"] = f"reported {covid_queries[n]['text']}"
    _jsonl(covid / "queries.jsonl", covid_queries)
    embedder = HashingEmbedder(dimension=32)

    document = run_fusion_sweep(tmp_path / "data", embedder)

    encoded = [text for call in embedder.calls for text in call]
    assert any("help" in text for text in encoded)  # the dev queries were encoded
    assert not [text for text in encoded if "reported" in text]
    sizes = {row["split"]: row["n"] for row in document["metrics"]}
    assert sorted(sizes.values()) == [4, 4]
    assert len(document["metrics"]) == 2 * 2 * len(FUSION_KS) * len(LEXICAL_WEIGHTS)
    assert set(document["chosen"]) == {"k", "lexical_weight"}


def test_the_scope_pair_changes_only_when_it_beats_the_shipped_one_by_more_than_its_spread() -> (
    None
):
    from benchmarks.scope_sweep import choose_scope

    shipped = (2.0, 5)
    aucs = {shipped: [0.90, 0.80, 0.85], (0.5, 3): [0.91, 0.81, 0.86], (4.0, 10): [0.7] * 3}
    assert choose_scope(aucs, shipped) == (0.5, 3)  # +.01 on every fold: sd 0
    aucs[(0.5, 3)] = [0.95, 0.78, 0.85]  # +.05, -.02, 0: mean .01 < sd
    assert choose_scope(aucs, shipped) == shipped
    aucs[(0.5, 3)] = [0.90, 0.80, 0.85003]  # a tie at 4 decimals
    assert choose_scope(aucs, shipped) == shipped


def test_the_scope_sweep_reads_clinc150_train_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLINC150's file holds ``train`` alone: a sweep that read any other split would fail."""
    from benchmarks import vectors
    from benchmarks.scope_sweep import SCOPE_KS, SCOPE_WEIGHTS, run_scope_sweep
    from tests.unit.test_nlu_fakes import HashingEmbedder

    monkeypatch.setattr(vectors, "CACHE_DIR", tmp_path / "cache")
    rng = random.Random(0)
    words = [f"w{i}" for i in range(60)]
    train = [
        [" ".join(rng.sample(words[3 * i : 3 * i + 3], 2) + rng.sample(words, 2)), f"i{i}"]
        for i in range(10)
        for _ in range(25)
    ]
    (tmp_path / "clinc150").mkdir()
    (tmp_path / "clinc150" / "data_full.json").write_text(json.dumps({"train": train}))

    document = run_scope_sweep(tmp_path, HashingEmbedder(dimension=16), runs=2)

    assert document["folds"] == 2
    assert len(document["metrics"]) == len(SCOPE_WEIGHTS) * len(SCOPE_KS)
    assert all(0 <= row["value"] <= 1 for row in document["metrics"])
    assert all(len(v) == 2 for v in document["per_fold_auc"].values())
    assert document["shipped"] == {"scope_weight": SCOPE_WEIGHT, "scope_k": SCOPE_K}
