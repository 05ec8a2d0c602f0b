"""The bundled intents' test file is a fair test: every intent it scores is one the bundled data
trains, and none of its messages is a training example (a copied example would be scored on
what the model memorised)."""

from __future__ import annotations

from pathlib import Path

from nlu.training_data import load_training_data

ROOT = Path(__file__).resolve().parents[2]
# the dialog's own intents, then the sample shop's topics: what the bundled model trains on
TRAINING = [ROOT / "nlu" / "dialog", ROOT / "data" / "nlu"]
TEST_FILE = ROOT / "benchmarks" / "data" / "bundled-intents-test.yml"


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def test_the_test_file_scores_every_bundled_intent_and_only_those() -> None:
    trained = set(load_training_data(TRAINING).pairs()[1])
    tested = set(load_training_data(TEST_FILE).pairs()[1])
    assert tested == trained


def test_no_test_message_is_a_training_example() -> None:
    trained = {_normalised(t) for t in load_training_data(TRAINING).pairs()[0]}
    texts = load_training_data(TEST_FILE).pairs()[0]
    assert len({_normalised(t) for t in texts}) == len(texts)  # no message twice either
    assert [t for t in texts if _normalised(t) in trained] == []
