"""The real encoder on the bundled sample desk's data (the dialog's intents and the Lumio
shop's topics): training, parsing, retraining, the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.config import DIALOG_NLU_DATA, PROJECT_ROOT
from nlu.model import NluModel
from nlu.train import is_current, train

pytestmark = pytest.mark.model

SAMPLE_TOPICS = PROJECT_ROOT / "data" / "nlu"
BUNDLED = [DIALOG_NLU_DATA, SAMPLE_TOPICS]


class CountingEmbedder:
    """Passes through to the real encoder and remembers every text it was asked for."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.encoded: list[str] = []

    @property
    def model_name(self) -> str:
        return str(self.inner.model_name)

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += texts
        return np.asarray(self.inner.encode(texts))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    directory = tmp_path_factory.mktemp("nlu-model")
    train(BUNDLED, directory, embedder)
    return directory


@pytest.fixture(scope="session")
def model(model_dir: Path) -> NluModel:
    return NluModel.load(model_dir)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I forgot my password", "account_login"),
        ("hello there", "greet"),
        ("can I speak to a human", "human_handoff"),
        ("my lamp keeps blinking red", "device_troubleshooting"),
        ("I was charged twice this month", "billing_charge"),
        ("any update on case #12?", "case_status"),
    ],
)
def test_understands_help_desk_messages(
    model: NluModel, embedder: Any, text: str, intent: str
) -> None:
    result = model.parse(text, embedder)

    assert result.intent == intent, result.ranking[:3]
    assert not result.out_of_scope
    assert result.confidence >= 0.5


@pytest.mark.parametrize(
    "text", ["what's the capital of mongolia", "asdkjh qwe zzz", "who painted the mona lisa"]
)
def test_off_topic_messages_are_out_of_scope(model: NluModel, embedder: Any, text: str) -> None:
    result = model.parse(text, embedder)

    assert result.out_of_scope, result.ranking[:3]
    assert result.intent is None


def test_entities_come_back_with_the_intent(model: NluModel, embedder: Any) -> None:
    result = model.parse("where is my order LM-204518? the light strips never came", embedder)

    assert result.intent == "order_status"
    found = [(e.entity, e.value) for e in result.entities]
    assert ("order_number", "LM-204518") in found  # the sample shop's own pattern
    assert ("product", "light strip") in found


def test_parse_vector_matches_parse(model: NluModel, embedder: Any) -> None:
    text = "how do I cancel Lumio Plus"
    vector = embedder.encode([text])[0]

    assert model.parse_vector(text, vector) == model.parse(text, embedder)


def test_retraining_after_adding_examples_encodes_only_those(
    model_dir: Path, embedder: Any, tmp_path: Path
) -> None:
    topics = tmp_path / "data"
    shutil.copytree(SAMPLE_TOPICS, topics)
    data_dir = [DIALOG_NLU_DATA, topics]
    shutil.copytree(model_dir, tmp_path / "model")
    assert is_current(data_dir, tmp_path / "model")
    added = ["my bulb hums loudly", "the hub has a red ring", "strip colours look washed out"]
    extra = "".join(f"    - {text}\n" for text in added)
    nlu_yml = topics / "nlu.yml"
    nlu_yml.write_text(
        nlu_yml.read_text().replace(
            "- intent: device_troubleshooting\n  examples: |\n",
            "- intent: device_troubleshooting\n  examples: |\n" + extra,
        )
    )
    counting = CountingEmbedder(embedder)

    report = train(data_dir, tmp_path / "model", counting)

    assert sorted(counting.encoded) == sorted(added)
    assert report.encoded == 3
    assert is_current(data_dir, tmp_path / "model")


def test_cli_parse_and_evaluate_print_json(model_dir: Path, tmp_path: Path) -> None:
    """Without --data: the dialog's intents and the data directory's own topics."""
    from bot.cli.nlu import app

    (tmp_path / "nlu").symlink_to(SAMPLE_TOPICS)
    runner = CliRunner(env={"HELPDESK_DATA_DIR": str(tmp_path)})
    common = ["--model-dir", str(model_dir), "--json"]

    parsed = runner.invoke(app, ["parse", "I forgot my password", *common])
    evaluated = runner.invoke(app, ["evaluate", *common])

    assert parsed.exit_code == 0, parsed.output
    assert json.loads(parsed.stdout)["intent"]["name"] == "account_login"
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    assert report["method"].startswith("held-out 0.2")
    assert report["accuracy"] >= 0.75
