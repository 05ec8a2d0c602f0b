"""The shipped off-topic messages as a background class: used only when the training data has no
out_of_scope examples of its own, and never handed on as an intent — a message that lands in it
is out of scope."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu.background import OFF_TOPIC
from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds
from nlu.model import NluModel
from nlu.train import train
from nlu.training_data import load_training_data
from tests.unit.test_nlu_fakes import HashingEmbedder
from tests.unit.test_nlu_floor_calibration import PER_INTENT, clusters, off_topic

BUNDLED_DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"

DATA = """\
version: "3.1"
nlu:
- intent: account_login
  examples: |
    - I forgot my password
    - reset my password
    - cannot log in to my account
    - login keeps failing
    - my password is not accepted
- intent: order_status
  examples: |
    - where is my order
    - track my order
    - my order has not arrived
    - order status please
    - when will my parcel come
"""

OWN_OUT_OF_SCOPE = """\
- intent: out_of_scope
  examples: |
    - what is the capital of peru
    - sing me a song
"""


def _background(count: int) -> tuple[np.ndarray, list[str]]:
    return off_topic(count), [f"off-topic {i}" for i in range(count)]


def test_the_background_is_a_class_of_its_own_and_the_floor_is_still_calibrated() -> None:
    x, labels = clusters(seed=0, per_intent=PER_INTENT)
    vectors, texts = _background(60)

    clf = IntentClassifier().fit(x, labels, background=(vectors[:40], texts[:40]))
    found = clf.predict_many(np.vstack([vectors[40:], clusters(seed=1, per_intent=5)[0]]))

    assert OUT_OF_SCOPE in clf.classes
    assert clf.thresholds != Thresholds()  # calibrated on the data's own held-out messages
    assert all(p.out_of_scope for p in found[:20])  # unseen off-topic messages
    assert all(p.intent != OUT_OF_SCOPE for p in found)  # never an intent to act on


def test_data_with_its_own_out_of_scope_examples_ignores_the_background() -> None:
    x, labels = clusters(seed=0, per_intent=PER_INTENT)
    own = off_topic(PER_INTENT)
    rows, own_labels = np.vstack([x, own]), [*labels, *[OUT_OF_SCOPE] * PER_INTENT]

    clf = IntentClassifier().fit(rows, own_labels, background=_background(40))

    assert len(clf.example_vectors) == len(rows)
    assert clf.thresholds == Thresholds()


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "nlu.yml"
    path.parent.mkdir()
    path.write_text(DATA)
    return path


def test_training_without_out_of_scope_data_adds_the_shipped_messages(
    data_file: Path, tmp_path: Path
) -> None:
    embedder = HashingEmbedder()

    report = train(data_file, tmp_path / "model", embedder, background=True)
    model = NluModel.load(tmp_path / "model")
    result = model.parse(OFF_TOPIC[0], embedder)

    assert report.examples == 10  # the team's own examples; the background is not theirs
    assert model.metadata.intents == ["account_login", "order_status"]
    assert OUT_OF_SCOPE in model.classifier.classes
    assert len(model.classifier.example_vectors) == 10 + len(OFF_TOPIC)
    assert result.out_of_scope and result.intent is None
    assert result.to_dict()["intent"]["name"] == OUT_OF_SCOPE


def test_training_with_out_of_scope_data_or_without_the_option_adds_nothing(
    data_file: Path, tmp_path: Path
) -> None:
    plain = train(data_file, tmp_path / "plain", HashingEmbedder(), background=False)
    data_file.write_text(DATA + OWN_OUT_OF_SCOPE)
    own = train(data_file, tmp_path / "own", HashingEmbedder(), background=True)

    for report in (plain, own):
        classifier = NluModel.load(Path(report.path)).classifier
        assert len(classifier.example_vectors) == report.examples
    assert OUT_OF_SCOPE not in NluModel.load(tmp_path / "plain").classifier.classes
    assert NluModel.load(tmp_path / "own").classifier.thresholds == Thresholds()


def test_the_bundled_desk_has_its_own_out_of_scope_examples() -> None:
    """So the background never applies to it and its figures stay as measured."""
    _, labels = load_training_data(BUNDLED_DATA).pairs()

    assert OUT_OF_SCOPE in labels


def test_the_background_is_varied_and_unrepeated() -> None:
    assert len(OFF_TOPIC) >= 150
    assert len({text.lower() for text in OFF_TOPIC}) == len(OFF_TOPIC)


def test_too_few_examples_of_its_own_keep_the_given_floor() -> None:
    """Four examples an intent hold none out: the background alone cannot calibrate a floor."""
    x, labels = clusters(seed=0, per_intent=4)

    clf = IntentClassifier().fit(x, labels, background=_background(60))

    assert clf.thresholds == Thresholds()
    assert OUT_OF_SCOPE in clf.classes
