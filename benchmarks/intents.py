"""Intent benchmarks (BANKING77, CLINC150) through the project's training path.

The training split is written as Rasa YAML with ``to_rasa_yaml``, trained by ``nlu.train.train``
into a temporary model directory and classified by the saved model's classifier. The training
run starts from the benchmark's embedding cache (``benchmarks/.cache``), so its time is fitting
plus encoding the few texts the Rasa writer changed; ``cold=True`` starts from an empty cache and
so includes encoding every example.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from benchmarks.datasets import IntentSplit, load_banking77, load_clinc150
from benchmarks.report import metric, result_document
from benchmarks.vectors import cache_path, cached_vectors
from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds
from nlu.embedding import Embedder
from nlu.model import NluModel
from nlu.thresholds import tune_thresholds
from nlu.train import CACHE_FILE, train
from nlu.training_data import to_rasa_yaml

RETRAIN_EXTRA = 5  # examples added before the "retrain" timing


def sample_shots(split: IntentSplit, shots: int, seed: int) -> IntentSplit:
    """``shots`` examples per intent, drawn with ``seed``."""
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    for intent, examples in sorted(split.by_intent().items()):
        chosen = rng.sample(examples, min(shots, len(examples)))
        texts += chosen
        labels += [intent] * len(chosen)
    return IntentSplit(texts, labels)


def _model_bytes(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.iterdir() if p.name != CACHE_FILE)


def train_and_time(
    cache_name: str,
    split: IntentSplit,
    embedder: Embedder,
    workdir: Path,
    *,
    cold: bool,
    background: bool | None = None,
) -> tuple[NluModel, dict[str, Any]]:
    """Train on ``split`` through ``nlu.train.train``; then retrain with a few more examples."""
    data = workdir / "nlu.yml"
    model_dir = workdir / "model"
    model_dir.mkdir()
    by_intent = split.by_intent()
    data.write_text(to_rasa_yaml(by_intent), encoding="utf-8")
    if not cold:
        cached_vectors(cache_name, split.texts, embedder)  # make sure every example is cached
        shutil.copyfile(cache_path(cache_name), model_dir / CACHE_FILE)
    report = train(data, model_dir, embedder, background=background)
    model = NluModel.load(model_dir)
    size = _model_bytes(model_dir)
    # A few new examples (new texts, so they must be encoded), then the same training path.
    extra = {
        intent: [f"{texts[0]} please"] for intent, texts in list(by_intent.items())[:RETRAIN_EXTRA]
    }
    data.write_text(
        to_rasa_yaml({i: t + extra.get(i, []) for i, t in by_intent.items()}), encoding="utf-8"
    )
    retrain = train(data, model_dir, embedder, background=background)
    timing = {
        "training_seconds": report.seconds,
        "training_encoded": report.encoded,
        "training_examples": report.examples,
        "cold": cold,
        "retrain_seconds": retrain.seconds,
        "retrain_encoded": retrain.encoded,
        "model_bytes": size,
    }
    return model, timing


def _head(model: NluModel) -> dict[str, Any]:
    """The classifier's head settings (no intent list; thresholds are reported separately)."""
    left_out = ("classes", "thresholds", "lexicon_terms")
    return {k: v for k, v in model.classifier.config().items() if k not in left_out}


def top_intents(model: NluModel, vectors: np.ndarray, texts: list[str]) -> list[str]:
    """The best-ranked intent per row (closed-set accuracy: no out-of-scope rejection)."""
    probs = model.classifier.probabilities(vectors, texts)
    return [model.classifier.classes[i] for i in probs.argmax(axis=1)]


DEV_SHARE = 0.1  # of BANKING77's train: the dev split every BANKING77 choice is made on
DEV_SEED = 0


def dev_split(
    split: IntentSplit, share: float = DEV_SHARE, seed: int = DEV_SEED
) -> tuple[IntentSplit, IntentSplit]:
    """(train without dev, dev): a seeded, stratified ``share`` of each intent's examples."""
    rng = random.Random(seed)
    train: tuple[list[str], list[str]] = ([], [])
    dev: tuple[list[str], list[str]] = ([], [])
    for intent, examples in sorted(split.by_intent().items()):
        held = set(rng.sample(range(len(examples)), round(len(examples) * share)))
        for i, text in enumerate(examples):
            target = dev if i in held else train
            target[0].append(text)
            target[1].append(intent)
    return IntentSplit(*train), IntentSplit(*dev)


def run_banking77(
    datasets_dir: Path,
    embedder: Embedder,
    *,
    shots: int | None = None,
    seed: int = 0,
    seeds: int = 1,
    dev: bool = False,
    cold: bool = False,
) -> dict[str, Any]:
    """Closed-set accuracy on ``test`` (with ``dev``: trained without the dev split and scored
    on it, with the out-of-scope floor's cost too); with ``shots``, over ``seeds`` samples."""
    full_train, test = load_banking77(datasets_dir)
    split_name = "train"
    scored, scored_name = test, "test"
    if dev:
        full_train, scored = dev_split(full_train)
        split_name, scored_name = f"train minus dev ({DEV_SHARE:g}, seed {DEV_SEED})", "dev"
    accuracies: list[float] = []
    rows: list[dict[str, Any]] = []
    for sample_seed in range(seed, seed + (seeds if shots else 1)):
        train_split = full_train
        if shots:
            train_split = sample_shots(full_train, shots, sample_seed)
        with tempfile.TemporaryDirectory(prefix="bench-banking77-") as tmp:
            model, timing = train_and_time("banking77", train_split, embedder, Path(tmp), cold=cold)
        vectors = cached_vectors("banking77", scored.texts, embedder)
        predicted = top_intents(model, vectors, scored.texts)
        accuracies.append(
            float(np.mean([p == g for p, g in zip(predicted, scored.labels, strict=True)]))
        )
    n = len(scored.texts)
    if len(accuracies) > 1:
        mean, sd = float(np.mean(accuracies)), float(np.std(accuracies, ddof=1))
        rows.append(metric(scored_name, f"accuracy (mean of {seeds} seeds)", mean, n))
        rows.append(metric(scored_name, "accuracy (sd over seeds)", sd, n))
        rows += [
            metric(scored_name, f"accuracy (seed {seed + i})", a, n)
            for i, a in enumerate(accuracies)
        ]
        split_name = f"train, {shots} per intent (seeds {seed}–{seed + seeds - 1})"
    else:
        rows.append(metric(scored_name, "accuracy", accuracies[0], n))
        if shots:
            split_name = f"train, {shots} per intent (seed {seed})"
    if dev:
        right = _answered_right(model.classifier, vectors, scored)
        kept = ~_rejected(model.classifier, vectors, scored.texts)
        rows.append(metric("dev", "accuracy_with_rejection", float(right.mean()), n))
        rows.append(metric("dev", "answered", float(kept.mean()), n))
    name = f"banking77-{shots}shot" if shots else "banking77"
    name += f"-{seeds}seeds" if len(accuracies) > 1 else ""
    name += "-dev" if dev else ""
    name += "-cold" if cold else ""
    return result_document(
        name,
        "BANKING77 (Casanueva et al. 2020)",
        rows,
        training_split=split_name,
        thresholds=model.classifier.thresholds.to_dict(),
        classifier=_head(model),
        **timing,
    )


def run_clinc150(datasets_dir: Path, embedder: Embedder, *, cold: bool = False) -> dict[str, Any]:
    splits = load_clinc150(datasets_dir)
    with tempfile.TemporaryDirectory(prefix="bench-clinc150-") as tmp:
        model, timing = train_and_time("clinc150", splits["train"], embedder, Path(tmp), cold=cold)
    val_texts = splits["val"].texts + splits["oos_val"].texts
    val_labels = splits["val"].labels + splits["oos_val"].labels
    val_vectors = cached_vectors("clinc150", val_texts, embedder)
    rows: list[dict[str, Any]] = []
    chosen: dict[str, dict[str, float]] = {}
    operating_points = {
        "accuracy": {"objective": "accuracy"},
        "oos_recall_0.8": {"min_oos_recall": 0.8},
        "balanced": {"objective": "balanced"},
    }
    for point, options in operating_points.items():
        tuned, _ = tune_thresholds(
            model.classifier,
            val_vectors,
            val_labels,
            texts=val_texts,
            **options,  # type: ignore[arg-type]
        )
        chosen[point] = tuned.to_dict()
        model.classifier.thresholds = tuned
        suffix = "" if point == "accuracy" else f" ({point} on val)"
        for split in ("test", "oos_test"):
            data = splits[split]
            vectors = cached_vectors("clinc150", data.texts, embedder)
            predicted = [
                p.intent or OUT_OF_SCOPE for p in model.classifier.predict_many(vectors, data.texts)
            ]
            hits = [p == g for p, g in zip(predicted, data.labels, strict=True)]
            name = "in_scope_accuracy" if split == "test" else "out_of_scope_recall"
            rows.append(metric(split, name + suffix, float(np.mean(hits)), len(hits)))
    test = splits["test"]
    closed = top_intents(model, cached_vectors("clinc150", test.texts, embedder), test.texts)
    closed_acc = np.mean([p == g for p, g in zip(closed, test.labels, strict=True)])
    rows.append(metric("test", "accuracy_without_rejection", float(closed_acc), len(closed)))
    return result_document(
        "clinc150-cold" if cold else "clinc150",
        "CLINC150 data_full (Larson et al. 2019), thresholds tuned on val + oos_val",
        rows,
        training_split="train (in-scope only)",
        thresholds=chosen,
        classifier=_head(model),
        **timing,
    )


OLD_FLOOR = 0.85  # the fixed default floor before it was calibrated without out-of-scope data


def _rejected(classifier: IntentClassifier, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    return np.array([p.out_of_scope for p in classifier.predict_many(vectors, texts)])


def _answered_right(
    classifier: IntentClassifier, vectors: np.ndarray, split: IntentSplit
) -> np.ndarray:
    """Per row: the classifier answered with the gold intent (a rejection counts as wrong)."""
    predicted = classifier.predict_many(vectors, split.texts)
    return np.array([p.intent == g for p, g in zip(predicted, split.labels, strict=True)])


Rows: TypeAlias = Callable[[IntentClassifier, str], list[dict[str, Any]]]


def _at_floors(
    classifier: IntentClassifier, rows: Rows
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """``rows(classifier, suffix)`` with the model's own floor, then with the old fixed one."""
    own = classifier.thresholds
    found = rows(classifier, "")
    classifier.thresholds = Thresholds(score=OLD_FLOOR, width=own.width)
    found += rows(classifier, f" (old fixed floor {OLD_FLOOR})")
    classifier.thresholds = own
    return found, own.to_dict()


def run_clinc150_no_oos(
    datasets_dir: Path, embedder: Embedder, *, cold: bool = False, background: bool | None = None
) -> dict[str, Any]:
    """CLINC150 as a deployment sees it: trained on ``train`` with the defaults, no out-of-scope
    data used for anything (``val`` and ``oos_val`` are not read); the floor is the one
    ``nlu.train`` calibrated on the training data."""
    splits = load_clinc150(datasets_dir)
    with tempfile.TemporaryDirectory(prefix="bench-clinc150-") as tmp:
        model, timing = train_and_time(
            "clinc150", splits["train"], embedder, Path(tmp), cold=cold, background=background
        )
    test, oos = splits["test"], splits["oos_test"]
    test_x = cached_vectors("clinc150", test.texts, embedder)
    oos_x = cached_vectors("clinc150", oos.texts, embedder)

    rows = _scope_rows(
        test_x, test, oos_x, oos, ("in_scope_accuracy", "oos_test", "out_of_scope_recall")
    )
    found, floor = _at_floors(model.classifier, rows)
    found.append(_closed_set(model, test_x, test, "accuracy_without_rejection"))
    name = "clinc150-no-oos-cold" if cold else "clinc150-no-oos"
    return result_document(
        name + _background_suffix(background),
        "CLINC150 data_full (Larson et al. 2019), defaults, no out-of-scope data",
        found,
        training_split="train (in-scope only); val and oos_val unused",
        thresholds=floor,
        classifier=_head(model),
        **timing,
    )


def _scope_rows(
    test_x: np.ndarray,
    test: IntentSplit,
    oos_x: np.ndarray,
    oos: IntentSplit,
    names: tuple[str, str, str],
) -> Rows:
    """The rows scored at each floor: accuracy counting a rejection as wrong, the share of the
    test answered, the share of off-topic queries rejected (``names``: the accuracy metric, the
    off-topic split, its metric)."""
    accuracy, oos_split, rejected = names

    def rows(clf: IntentClassifier, suffix: str) -> list[dict[str, Any]]:
        right = _answered_right(clf, test_x, test)
        kept = ~_rejected(clf, test_x, test.texts)
        caught = _rejected(clf, oos_x, oos.texts)
        return [
            metric("test", accuracy + suffix, float(right.mean()), len(right)),
            metric("test", "answered" + suffix, float(kept.mean()), len(kept)),
            metric(oos_split, rejected + suffix, float(caught.mean()), len(caught)),
        ]

    return rows


def _closed_set(
    model: NluModel, test_x: np.ndarray, test: IntentSplit, name: str
) -> dict[str, Any]:
    """Accuracy with no rejection: the top intent against the label."""
    closed = top_intents(model, test_x, test.texts)
    right = np.mean([p == g for p, g in zip(closed, test.labels, strict=True)])
    return metric("test", name, float(right), len(closed))


def _background_suffix(background: bool | None) -> str:
    """The result's name when the background is forced on or off (not the default)."""
    return "" if background is None else ("-background" if background else "-no-background")


def run_oos_proxy(
    datasets_dir: Path, embedder: Embedder, *, background: bool | None = None
) -> dict[str, Any]:
    """A bank's bot asked off-topic questions: BANKING77 trained on ``train`` with the defaults
    (no out-of-scope examples), scored on its ``test`` and on CLINC150's ``oos_test``."""
    train_split, test = load_banking77(datasets_dir)
    oos = load_clinc150(datasets_dir)["oos_test"]
    with tempfile.TemporaryDirectory(prefix="bench-oos-proxy-") as tmp:
        model, timing = train_and_time(
            "banking77", train_split, embedder, Path(tmp), cold=False, background=background
        )
    test_x = cached_vectors("banking77", test.texts, embedder)
    oos_x = cached_vectors("clinc150", oos.texts, embedder)

    rows = _scope_rows(
        test_x, test, oos_x, oos, ("accuracy_with_rejection", "clinc150 oos_test", "rejected")
    )
    found, floor = _at_floors(model.classifier, rows)
    found.insert(0, _closed_set(model, test_x, test, "accuracy"))
    return result_document(
        "banking77-oos-proxy" + _background_suffix(background),
        "BANKING77 (Casanueva et al. 2020) defaults, off-topic: CLINC150 oos_test",
        found,
        training_split="train (no out-of-scope examples)",
        thresholds=floor,
        classifier=_head(model),
        **timing,
    )
