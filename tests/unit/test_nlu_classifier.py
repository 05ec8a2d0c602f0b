"""The intent classifier and its out-of-scope decisions."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds
from tests.unit.test_nlu_fakes import HashingEmbedder

EXAMPLES = {
    "account_login": ["forgot my password", "reset password", "cannot log in", "login fails"],
    "order_status": ["where is my order", "track my order", "order not arrived", "order late"],
    "greet": ["hello", "hi there", "good morning", "hey"],
}


def training(
    embedder: HashingEmbedder, extra: dict[str, list[str]] | None = None
) -> tuple[np.ndarray, list[str]]:
    texts, labels = [], []
    for intent, examples in {**EXAMPLES, **(extra or {})}.items():
        texts += examples
        labels += [intent] * len(examples)
    return embedder.encode(texts), labels


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


def test_predicts_known_intents_with_ranking(embedder: HashingEmbedder) -> None:
    clf = IntentClassifier().fit(*training(embedder))

    prediction = clf.predict(embedder.encode(["I forgot my password again"])[0])

    assert prediction.intent == "account_login"
    assert not prediction.out_of_scope
    assert prediction.ranking[0][0] == "account_login"
    assert [name for name, _ in prediction.ranking] != []
    assert sum(score for _, score in prediction.ranking) == pytest.approx(1.0, abs=1e-4)
    assert 0.0 < prediction.confidence <= prediction.ranking[0][1]


def test_far_from_every_example_is_out_of_scope(embedder: HashingEmbedder) -> None:
    # A floor of its own: with three intents the top probability alone is at least a third,
    # which clears the fixed default chosen on the bundled data's many intents.
    clf = IntentClassifier(thresholds=Thresholds(score=0.75)).fit(*training(embedder))

    prediction = clf.predict(embedder.encode(["capital of mongolia"])[0])
    on_topic = clf.predict(embedder.encode(["I forgot my password again"])[0])

    assert prediction.out_of_scope
    assert prediction.intent is None
    assert prediction.score < clf.thresholds.score
    assert on_topic.intent == "account_login"  # the same floor keeps an on-topic message


def test_a_floor_above_every_score_rejects_even_a_training_example(
    embedder: HashingEmbedder,
) -> None:
    clf = IntentClassifier(thresholds=Thresholds(score=3.0))  # above probability 1 + 0.5 × cosine 1
    clf.fit(*training(embedder))

    prediction = clf.predict(embedder.encode(["where is my order"])[0])

    assert prediction.out_of_scope
    assert prediction.ranking[0][0] == "order_status"


def test_out_of_scope_class_is_trained_and_reported_as_out_of_scope(
    embedder: HashingEmbedder,
) -> None:
    extra = {OUT_OF_SCOPE: ["weather tomorrow", "tell a joke", "weather today", "funny joke"]}
    clf = IntentClassifier(thresholds=Thresholds(score=-3.0))  # below every possible score
    clf.fit(*training(embedder, extra))

    prediction = clf.predict(embedder.encode(["the weather tomorrow"])[0])

    assert OUT_OF_SCOPE in clf.classes
    assert prediction.out_of_scope and prediction.intent is None
    # similarity is measured against in-scope examples only
    assert len(clf.in_scope_vectors) == sum(len(v) for v in EXAMPLES.values())


def test_confidence_drops_as_the_score_nears_the_floor(embedder: HashingEmbedder) -> None:
    clf = IntentClassifier(thresholds=Thresholds(score=1.0, width=0.2))
    clf.fit(*training(embedder))
    probs = np.array([0.9, 0.05, 0.05])

    close = clf._decide(probs, 0.9, 0, 1.5)
    at_floor = clf._decide(probs, 0.9, 0, 1.0)
    below = clf._decide(probs, 0.9, 0, 0.7)

    assert close.confidence == pytest.approx(0.9)
    assert at_floor.confidence == pytest.approx(0.45) and not at_floor.out_of_scope
    assert below.out_of_scope and below.confidence == pytest.approx(1.0)


def test_two_and_one_class_data_work(embedder: HashingEmbedder) -> None:
    texts = ["hello", "hi there", "where is my order", "track my order"]
    two = IntentClassifier().fit(embedder.encode(texts), ["greet"] * 2 + ["order"] * 2)
    one = IntentClassifier().fit(embedder.encode(texts[:2]), ["greet"] * 2)

    assert two.predict(embedder.encode(["track order"])[0]).intent == "order"
    assert one.predict(embedder.encode(["hello"])[0]).intent == "greet"


def test_saved_arrays_predict_identically(embedder: HashingEmbedder) -> None:
    clf = IntentClassifier().fit(*training(embedder))
    copy = IntentClassifier.from_saved(clf.config(), clf.to_arrays())
    vector = embedder.encode(["login fails with my password"])[0]

    assert copy.predict(vector) == clf.predict(vector)


def test_fit_rejects_mismatched_input(embedder: HashingEmbedder) -> None:
    with pytest.raises(ValueError):
        IntentClassifier().fit(embedder.encode(["a", "b"]), ["x"])
