"""The sweeps that choose the intent head's constants and the fixed floor: on a tiny synthetic
data set, each writes one figure per grid point and data set, applies its written rule, and
reads training data only — BANKING77's ``test.csv`` is absent here, and every CLINC150 split is
too, so a sweep that opened one would fail."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from benchmarks import vectors
from benchmarks.floor_sweep import NO_FLOOR, choose_floor, run_floor_sweep
from benchmarks.head_sweeps import (
    C_VALUES,
    SWEEPS,
    VOTE_GRID,
    WORD_WEIGHTS,
    Rows,
    choose,
    fit_each,
    run,
    vote_each,
    vote_settings,
)
from nlu.classifier import FIXED_FLOOR, LEXICAL_WEIGHT
from tests.unit.test_nlu_fakes import HashingEmbedder

TOPICS = {
    "card_arrival": ["card", "arrive", "post", "delivery", "waiting"],
    "card_freeze": ["freeze", "block", "stolen", "lost", "lock"],
    "top_up": ["top", "add", "money", "balance", "deposit"],
    "exchange_rate": ["rate", "exchange", "currency", "euro", "dollar"],
}
FILLER = ["my", "the", "please", "why", "is", "can", "i", "help", "today", "now"]


def _messages(words: list[str], rng: random.Random, n: int) -> list[str]:
    return [
        " ".join(rng.sample(words, 2) + rng.sample(FILLER, 3) + [f"x{rng.randint(0, 99)}"])
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BANKING77 folder with ``train.csv`` only, and no CLINC150 at all."""
    root = tmp_path_factory.mktemp("datasets")
    (root / "banking77").mkdir()
    rng = random.Random(1)
    with (root / "banking77" / "train.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for intent, words in TOPICS.items():
            for text in _messages(words, rng, 20):
                writer.writerow([text, intent])
    return root


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Help-desk style Rasa data with an ``out_of_scope`` intent."""
    folder = tmp_path_factory.mktemp("bundled")
    rng = random.Random(2)
    intents = {**TOPICS, "out_of_scope": ["weather", "joke", "recipe", "football", "song"]}
    blocks = []
    for intent, words in intents.items():
        lines = "\n".join(f"      - {text}" for text in _messages(words, rng, 6))
        blocks.append(f"  - intent: {intent}\n    examples: |\n{lines}")
    (folder / "nlu.yml").write_text('version: "3.1"\nnlu:\n' + "\n".join(blocks) + "\n")
    return folder


def _quiet(line: str) -> None:
    """The sweeps' progress lines, unprinted."""


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never write the fake vectors into the real embedding cache."""
    monkeypatch.setattr(vectors, "CACHE_DIR", tmp_path / "cache")


@pytest.mark.parametrize(
    ("name", "grid"),
    [("word-weight", len(WORD_WEIGHTS)), ("c", len(C_VALUES)), ("vote", len(VOTE_GRID))],
)
def test_a_head_sweep_scores_every_setting_on_dev_data_only(
    datasets: Path, bundled: Path, name: str, grid: int
) -> None:
    assert not (datasets / "banking77" / "test.csv").exists()

    document = run(
        name,
        datasets,
        HashingEmbedder(dimension=16),
        bundled_data=[bundled],
        folds=3,
        progress=_quiet,
    )

    splits = {row["split"] for row in document["metrics"]}
    assert splits == {"banking77 dev", "bundled 3-fold (seed 0)"}
    assert len(document["metrics"]) == 2 * grid
    assert all(row["n"] > 0 and 0 <= row["value"] <= 1 for row in document["metrics"])
    labels = [setting.label for setting in SWEEPS[name][0]()[0]]
    assert document["chosen"] in labels and document["shipped"] in labels
    folds = document["figures"][labels[0]]["bundled 3-fold (seed 0)"]["folds"]
    assert len(folds) == 3
    means = document["mean_over_data_sets"]
    assert means[document["chosen"]] == max(means.values())


def test_the_rule_keeps_the_shipped_value_on_a_tie_and_moves_for_a_gain() -> None:
    shipped = f"word weight {LEXICAL_WEIGHT:g}"
    table = {"word weight 0": 0.90, shipped: 0.93, "word weight 1": 0.93}
    assert choose(table, shipped) == shipped
    table["word weight 1"] = 0.9312
    assert choose(table, shipped) == "word weight 1"
    table["word weight 0"] = 0.9312  # a tie between others: the first in the grid
    assert choose(table, shipped) == "word weight 0"


def test_the_fixed_floor_sweep_reads_no_public_data(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_DATASETS_DIR", str(tmp_path / "nothing-here"))

    document = run_floor_sweep(
        HashingEmbedder(dimension=16), data_path=[bundled], folds=3, progress=_quiet
    )

    by_floor: dict[str, dict[str, float]] = {}
    for row in document["metrics"]:
        by_floor.setdefault(row["split"], {})[row["metric"]] = row["value"]
    assert "no floor" in by_floor and f"floor {FIXED_FLOOR:.2f}" in by_floor
    strictest = by_floor["floor 1.30"]
    assert (
        strictest["shipped off-topic rejected"]
        >= by_floor["no floor"]["shipped off-topic rejected"]
    )
    assert strictest["on-topic accuracy"] <= by_floor["no floor"]["on-topic accuracy"]
    assert document["chosen"] == choose_floor(
        {NO_FLOOR: by_floor["no floor"]["on-topic accuracy"]}
        | {
            float(s.split()[1]): v["on-topic accuracy"]
            for s, v in by_floor.items()
            if s != "no floor"
        }
    )


def test_the_floor_rule_is_as_strict_as_one_point_of_on_topic_accuracy_allows() -> None:
    floors = (0.5, 0.7, 0.9)
    assert choose_floor({NO_FLOOR: 0.90, 0.5: 0.90, 0.7: 0.891, 0.9: 0.85}, floors) == 0.7
    assert choose_floor({NO_FLOOR: 0.90, 0.5: 0.88, 0.7: 0.87, 0.9: 0.85}, floors) == 0.5


def _rows(rng: random.Random, per_intent: int) -> Rows:
    texts, labels = [], []
    for intent, words in TOPICS.items():
        messages = _messages(words, rng, per_intent)
        texts += messages
        labels += [intent] * len(messages)
    x = HashingEmbedder(dimension=16).encode(texts)
    return Rows(x, texts, labels)


def test_the_vote_sweeps_fast_path_chooses_and_scores_as_the_products_fit() -> None:
    """Two fits per fold instead of one per setting, yet every setting gets the weight and the
    accuracy ``IntentClassifier.fit`` gives it (enough examples for ``fit``'s hold-out)."""
    rng = random.Random(3)
    fit_on, scored = _rows(rng, 40), _rows(rng, 15)
    settings, shipped = vote_settings()

    fast = vote_each(settings, fit_on, scored)
    product = fit_each(settings, fit_on, scored)

    at = [setting.label for setting in settings].index(shipped)
    assert fast[at] == product[at]  # (accuracy, chosen vote weight) at the shipped setting
    assert fast == product
