"""Training, saving, loading and parsing with a fake encoder (no real model involved)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu.background import OFF_TOPIC
from nlu.errors import ModelNotFoundError, NluError
from nlu.model import NluModel, ParseResult
from nlu.train import is_current, load_or_train, train
from tests.unit.test_nlu_fakes import HashingEmbedder

DATA = """\
version: "3.1"
nlu:
- intent: account_login
  examples: |
    - I forgot my password
    - reset my password
    - cannot log in to my account
    - login keeps failing
- intent: order_status
  examples: |
    - where is my order [LM-204518](order_number)
    - track my order
    - my order has not arrived
    - order status please
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
- lookup: product
  examples: |
    - bulb
    - hub
- synonym: Lumio Hub
  examples: |
    - hub
- regex: order_number
  examples: |
    - \\bLM-\\d{6}\\b
"""


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "nlu.yml"
    path.parent.mkdir()
    path.write_text(DATA)
    return path


@pytest.fixture
def trained(data_file: Path, tmp_path: Path) -> tuple[Path, HashingEmbedder]:
    embedder = HashingEmbedder()
    train(data_file, tmp_path / "model", embedder)
    return tmp_path / "model", embedder


def test_parse_finds_intent_and_entities(trained: tuple[Path, HashingEmbedder]) -> None:
    model_dir, embedder = trained
    model = NluModel.load(model_dir)

    result = model.parse("where is my order LM-204518 for the hub", embedder)

    assert result.intent == "order_status"
    assert not result.out_of_scope
    assert [(e.entity, e.value) for e in result.entities] == [
        ("order_number", "LM-204518"),  # the data's own pattern
        ("product", "Lumio Hub"),
    ]


def test_parse_vector_never_encodes(trained: tuple[Path, HashingEmbedder]) -> None:
    model_dir, embedder = trained
    model = NluModel.load(model_dir)
    vector = embedder.encode(["I forgot my password"])[0]
    calls_before = len(embedder.calls)

    result = model.parse_vector("I forgot my password", vector)

    assert result.intent == "account_login"
    assert len(embedder.calls) == calls_before


def test_loaded_model_parses_exactly_like_the_trained_one(
    trained: tuple[Path, HashingEmbedder], tmp_path: Path
) -> None:
    model_dir, embedder = trained
    model = NluModel.load(model_dir)
    model.save(tmp_path / "copy")
    copy = NluModel.load(tmp_path / "copy")

    for text in ["hello", "track order", "password reset", "capital of mongolia"]:
        assert copy.parse(text, embedder) == model.parse(text, embedder)
    assert copy.metadata == model.metadata
    assert copy.metadata.intents == ["account_login", "order_status", "greet"]


def test_to_dict_has_rasa_parse_shape(trained: tuple[Path, HashingEmbedder]) -> None:
    model_dir, embedder = trained

    payload = NluModel.load(model_dir).parse("hello, case #12", embedder).to_dict()

    assert payload["text"] == "hello, case #12"
    assert payload["intent"]["name"] == "greet"
    assert 0 < payload["intent"]["confidence"] <= 1
    assert payload["entities"][0] | {"confidence_entity": 1.0} == {
        "entity": "case_number",
        "value": "12",
        "start": 7,
        "end": 15,
        "confidence_entity": 1.0,
        "extractor": "helpdesk",
    }
    assert {r["name"] for r in payload["intent_ranking"]} == {
        "account_login",
        "order_status",
        "greet",
        "out_of_scope",  # no out_of_scope examples: the shipped background stands in
    }
    assert ParseResult.from_dict(payload).intent == "greet"


def test_out_of_scope_is_reported_as_such(trained: tuple[Path, HashingEmbedder]) -> None:
    model_dir, embedder = trained

    result = NluModel.load(model_dir).parse("capital of mongolia", embedder)

    assert result.out_of_scope and result.intent is None
    assert result.to_dict()["intent"]["name"] == "out_of_scope"


def test_wrong_vector_size_or_embedder_is_refused(trained: tuple[Path, HashingEmbedder]) -> None:
    model = NluModel.load(trained[0])

    with pytest.raises(ValueError, match="dimensions"):
        model.parse_vector("hi", np.zeros(7, dtype=np.float32))
    with pytest.raises(NluError, match="retrain"):
        model.parse("hi", HashingEmbedder(name="another-model"))


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        NluModel.load(tmp_path / "nothing")


def test_retraining_encodes_only_new_examples(
    trained: tuple[Path, HashingEmbedder], data_file: Path
) -> None:
    model_dir, _ = trained
    assert is_current(data_file, model_dir)
    data_file.write_text(DATA.replace("    - hey\n", "    - hey\n    - yo\n    - howdy\n"))
    assert not is_current(data_file, model_dir)
    embedder = HashingEmbedder()

    report = train(data_file, model_dir, embedder)

    assert sorted(embedder.encoded_texts) == ["howdy", "yo"]
    assert report.encoded == 2 and report.examples == 14
    assert is_current(data_file, model_dir)


def test_progress_is_reported(data_file: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []

    train(data_file, tmp_path / "m", HashingEmbedder(), lambda *step: seen.append(step))

    total = 12 + len(OFF_TOPIC)  # the first training also encodes the shipped background
    assert seen[0] == ("encoding", 0, total)
    assert ("encoding", total, total) in seen
    assert seen[-1] == ("fitting", 1, 1)


def test_load_or_train_skips_training_when_current(
    trained: tuple[Path, HashingEmbedder], data_file: Path
) -> None:
    model_dir, _ = trained
    embedder = HashingEmbedder()

    model = load_or_train(data_file, model_dir, embedder)

    assert embedder.calls == []
    assert model.intents == ["account_login", "order_status", "greet"]
    assert not is_current(data_file, model_dir, model_name="another-model")
