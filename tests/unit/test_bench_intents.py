"""Pieces of the intent benchmark: the seeded few-shot sample and the Rasa round trip."""

from __future__ import annotations

from benchmarks.datasets import IntentSplit
from benchmarks.intents import dev_split, sample_shots
from nlu.training_data import parse_training_yaml, to_rasa_yaml


def split() -> IntentSplit:
    texts = [f"text {i}" for i in range(30)]
    return IntentSplit(texts, ["a"] * 20 + ["b"] * 8 + ["c"] * 2)


def test_shots_are_per_intent_and_repeatable() -> None:
    first = sample_shots(split(), 5, seed=3)
    again = sample_shots(split(), 5, seed=3)
    other = sample_shots(split(), 5, seed=4)

    counts = {label: first.labels.count(label) for label in set(first.labels)}
    assert counts == {"a": 5, "b": 5, "c": 2}  # an intent with fewer keeps all it has
    assert first == again
    assert first != other


def test_benchmark_data_survives_the_rasa_format() -> None:
    data = IntentSplit(["card [blocked] again", "where's my money?"], ["card", "transfer"])

    loaded = parse_training_yaml(to_rasa_yaml(data.by_intent()))

    assert loaded.texts("card") == ["card (blocked) again"]
    assert loaded.texts("transfer") == ["where's my money?"]


def test_the_dev_split_is_stratified_seeded_and_disjoint() -> None:
    data = IntentSplit([f"a {i}" for i in range(50)] + [f"b {i}" for i in range(20)],
                       ["a"] * 50 + ["b"] * 20)  # fmt: skip

    train, dev = dev_split(data, 0.1, seed=0)

    assert sorted(dev.labels) == ["a"] * 5 + ["b"] * 2
    assert not set(train.texts) & set(dev.texts)
    assert len(train.texts) + len(dev.texts) == 70
    assert dev_split(data, 0.1, seed=0) == (train, dev)
