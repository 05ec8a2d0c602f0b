"""The sweep behind the in-scope score's neighbourhood term (``IntentClassifier.scope_weight``
and ``scope_k``), on CLINC150's ``train`` alone.

The in-scope score is the best intent's probability plus ``scope_weight`` × the mean cosine of
the message to its ``scope_k`` nearest training examples of that intent. Each pair is scored on
the folds of left-out intents of ``benchmarks.sweeps`` (a model fit with the defaults on the
other intents; its held-out 20 % are the on-topic messages, every example of the left-out
intents the off-topic ones) by the ROC AUC of on-topic against off-topic scores: how well the
score alone, at any floor, tells them apart. Both constants only change the score, so each
fold's model is fit once. Reads no test split, no ``val`` and no ``oos_*`` split.

The rule, written before the sweep was first run: the pair with the highest mean AUC over the 5
folds (ties at 4 decimals go to the shipped pair, else to the smaller weight, then the smaller
k); the shipped pair stays unless that pair's AUC beats the shipped pair's by more than one sd,
over the folds, of their per-fold difference (paired: the folds' left-out intents differ far
more from each other than two scores on the same fold do).

The grid was widened to weights from 0.25 and k from 1 after the first run found its choice on
the grid's smallest values (0.5, 3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import metric, result_document
from benchmarks.sweeps import INTENT_FOLDS, auc, clinc150_folds
from nlu.classifier import IntentClassifier
from nlu.embedding import Embedder

SCOPE_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0)
SCOPE_KS = (1, 2, 3, 5, 10)

ScopePair = tuple[float, int]  # (scope_weight, scope_k)


def fold_aucs(folds: list[dict[str, Any]], weight: float, k: int) -> list[float]:
    """Per fold: ROC AUC of on-topic against left-out-intent messages at ``weight`` and ``k``."""
    found = []
    for fold in folds:
        clf: IntentClassifier = fold["model"]
        shipped = (clf.scope_weight, clf.scope_k)
        clf.scope_weight, clf.scope_k = weight, k
        on = clf.scores(fold["on"][0], fold["on"][1].texts).score
        off = clf.scores(fold["off"][0], fold["off"][1].texts).score
        clf.scope_weight, clf.scope_k = shipped
        found.append(auc(on, off))
    return found


def choose_scope(aucs: dict[ScopePair, list[float]], shipped: ScopePair) -> ScopePair:
    """The rule (module docstring), on each pair's per-fold AUCs (folds in the same order)."""
    means = {pair: round(float(np.mean(values)), 4) for pair, values in aucs.items()}
    best = max(means.values())
    tied = [pair for pair, mean in means.items() if mean == best]
    if shipped in tied:
        return shipped
    top = min(tied)  # the smaller weight, then the smaller k
    if len(aucs[top]) < 2:
        return top
    gain = np.array(aucs[top]) - np.array(aucs[shipped])
    return top if float(gain.mean()) > float(np.std(gain, ddof=1)) else shipped


def run_scope_sweep(
    datasets_dir: Path, embedder: Embedder, runs: int = INTENT_FOLDS
) -> dict[str, Any]:
    """The scope sweep (module docstring) over the first ``runs`` folds of left-out intents."""
    folds = clinc150_folds(datasets_dir, embedder, runs)
    split = f"clinc150 train, {len(folds)} of {INTENT_FOLDS} folds of left-out intents"
    n = sum(len(f["on"][1].texts) + len(f["off"][1].texts) for f in folds)
    aucs = {(w, k): fold_aucs(folds, w, k) for w in SCOPE_WEIGHTS for k in SCOPE_KS}
    rows = [
        metric(split, f"weight {w:g}, k {k}: AUC on-topic vs left-out", float(np.mean(v)), n)
        for (w, k), v in aucs.items()
    ]
    spread = {
        f"weight {w:g}, k {k}": round(float(np.std(v, ddof=1)), 4) if len(v) > 1 else None
        for (w, k), v in aucs.items()
    }
    defaults = IntentClassifier()
    shipped = (defaults.scope_weight, defaults.scope_k)
    chosen = choose_scope(aucs, shipped)
    pairs = aucs.items()
    return result_document(
        "sweep-scope",
        "scope_weight and scope_k on CLINC150 train (left-out intents as off-topic messages)",
        rows,
        rule=(
            "highest mean AUC over the folds (ties at 4 decimals: the shipped pair, else the "
            "smaller weight, then the smaller k); the shipped pair unless that one beats it by "
            "more than one sd over the folds of the paired per-fold difference"
        ),
        chosen={"scope_weight": chosen[0], "scope_k": chosen[1]},
        shipped={"scope_weight": shipped[0], "scope_k": shipped[1]},
        folds=len(folds),
        per_fold_auc={f"weight {w:g}, k {k}": [round(a, 4) for a in v] for (w, k), v in pairs},
        sd_over_folds=spread,
    )
