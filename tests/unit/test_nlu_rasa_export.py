"""Training data both ways: ``helpdesk nlu export`` writes the Rasa YAML a Rasa assistant trains
on, and the loader reads the Rasa 3.x features it may meet (roles, groups, metadata, synonyms,
regexes, lookups) or refuses them in a sentence. Rasa's own loader reading the export is
checked against a real Rasa in ``scripts/rasa_check.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from nlu.markup import EntitySpan
from nlu.training_data import (
    NluDataError,
    load_training_data,
    parse_training_yaml,
    to_rasa_document,
)

# what the bundled desk trains on: the dialog's own intents, then the sample shop's topics
ROOT = Path(__file__).resolve().parents[2]
BUNDLED = [ROOT / "nlu" / "dialog", ROOT / "data" / "nlu"]

RASA_3 = """\
version: "3.1"
nlu:
- intent: book_transfer
  metadata:
    sentiment: neutral
  examples: |
    - from [Berlin]{"entity": "city", "role": "departure"} to [SF]{"entity": "city", \
"role": "destination", "value": "San Francisco"}
    - a [large]{"entity": "size", "group": "1"} [bulb]{"entity": "product", "group": "1"} \
and a [hub](product)
    - order [LM-204518](order_number) please
- intent: complain
  examples:
  - text: |
      the app keeps crashing
    metadata:
      urgency: high
  - text: the [lightstrip](product:light strip) flickers
- synonym: light strip
  examples: |
    - led strip
- regex: order_number
  examples: |
    - LM-\\d{6}
- lookup: product
  examples: |
    - bulb
    - hub
rules:
- rule: ignored by the help desk
  steps:
  - intent: complain
"""


def round_trip(text: str) -> tuple[object, object]:
    data = parse_training_yaml(text)
    again = parse_training_yaml(to_rasa_document(data), "the export")
    return data, again


def test_roles_groups_and_metadata_survive_the_round_trip() -> None:
    data, again = round_trip(RASA_3)
    assert again == data  # every intent, example, span, metadata, synonym, regex, lookup
    transfer = parse_training_yaml(RASA_3).intents["book_transfer"]
    assert transfer[0].entities == (
        EntitySpan(5, 11, "city", "Berlin", role="departure"),
        EntitySpan(15, 17, "city", "San Francisco", role="destination"),
    )
    assert [s.group for s in transfer[1].entities] == ["1", "1", None]


def test_metadata_on_intents_and_examples_is_kept() -> None:
    data = parse_training_yaml(RASA_3)
    assert data.intent_metadata == {"book_transfer": {"sentiment": "neutral"}}
    crashing, flicker = data.intents["complain"]
    assert crashing.metadata == {"urgency": "high"} and flicker.metadata is None
    assert data.synonyms["lightstrip"] == "light strip"
    assert data.regexes == {"order_number": ["LM-\\d{6}"]}
    assert data.lookups == {"product": ["bulb", "hub"]}


def test_the_export_is_the_form_rasa_reads() -> None:
    document = to_rasa_document(parse_training_yaml(RASA_3))
    assert document.startswith('version: "3.1"\nnlu:\n')
    assert (
        '    - from [Berlin]{"entity": "city", "role": "departure"} to '
        '[SF]{"entity": "city", "value": "San Francisco", "role": "destination"}'
    ) in document
    assert "    - order [LM-204518](order_number) please" in document
    assert '  metadata: {"sentiment": "neutral"}' in document
    assert '  - text: "the app keeps crashing"\n    metadata: {"urgency": "high"}' in document
    assert "- regex: order_number\n  examples: |\n    - LM-\\d{6}" in document


def test_the_bundled_data_exports_and_reads_back_the_same() -> None:
    data = load_training_data(BUNDLED)
    again = parse_training_yaml(to_rasa_document(data), "the export")
    assert again.fingerprint() == data.fingerprint()
    assert again.intents == data.intents and again.synonyms == data.synonyms


def test_data_without_roles_keeps_its_fingerprint() -> None:
    """Adding roles to the loader must not retrain every existing model."""
    plain = "version: '3.1'\nnlu:\n- intent: a\n  examples: |\n    - see [hub](product)\n"
    json_form = (
        'version: \'3.1\'\nnlu:\n- intent: a\n  examples: |\n    - see [hub]{"entity": "product"}\n'
    )
    assert parse_training_yaml(plain).fingerprint() == parse_training_yaml(json_form).fingerprint()


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (
            "version: '3.1'\nresponses:\n  utter_faq/ask_name:\n  - text: I am a bot\n",
            "retrieval-intent responses are not supported",
        ),
        (
            "version: '3.1'\nnlu:\n- intent: a\n  examples: |\n"
            '    - to [Rome]{"entity": "city", "confidence": 0.9}\n',
            "unsupported key(s) 'confidence'",
        ),
        (
            "version: '3.1'\nnlu:\n- synonym: hub\n  metadata: {a: 1}\n"
            "  examples: |\n    - bridge\n",
            "'metadata' on a synonym is not supported",
        ),
        (
            "version: '3.1'\nnlu:\n- intent: a\n  examples:\n  - text: hi\n    intent: b\n",
            "unknown key 'intent' in an example",
        ),
        (
            "version: '3.1'\nnlu:\n- intent: a\n  examples: |\n"
            '    - to [Rome]{"entity": "city", "role": ""}\n',
            "'role' must be a name",
        ),
    ],
)
def test_what_the_help_desk_cannot_use_is_refused_with_a_reason(document: str, says: str) -> None:
    with pytest.raises(NluDataError, match=r"^data\.yml:") as caught:
        parse_training_yaml(document, "data.yml")
    assert says in str(caught.value)


def test_helpdesk_nlu_export_writes_a_file_that_loads_back(tmp_path: Path) -> None:
    source = tmp_path / "nlu.yml"
    source.write_text(RASA_3, encoding="utf-8")
    out = tmp_path / "export.yml"
    result = CliRunner().invoke(app, ["nlu", "export", "--data", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_training_data(out) == load_training_data(source)


def test_helpdesk_nlu_export_names_the_bad_line(tmp_path: Path) -> None:
    source = tmp_path / "nlu.yml"
    source.write_text(
        'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - to [Rome]{"entity": 1}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["nlu", "export", "--data", str(source)])
    assert result.exit_code != 0
    assert f"{source}:5:" in result.output
