"""The Rasa YAML loader: what it reads, and how it reports malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.markup import EntitySpan
from nlu.training_data import (
    NluDataError,
    load_training_data,
    parse_training_yaml,
    to_rasa_yaml,
)

VALID = """\
version: "3.1"
nlu:
- intent: order_status
  examples: |
    - where is my order [LM-204518](order_number)?
    - track [NYC](city:New York) parcel
    - status of [my bulbs]{"entity": "product", "value": "bulb"}
    - where is my order LM-204518?
- intent: greet
  examples: |
    - hi
    - hello [there] friend
- synonym: light strip
  examples: |
    - lightstrip
    - LED strip
- regex: order_number
  examples: |
    - LM-\\d{6}
- lookup: product
  examples: |
    - bulb
    - hub
"""


def test_reads_intents_with_plain_text_and_entity_spans() -> None:
    data = parse_training_yaml(VALID)

    assert list(data.intents) == ["order_status", "greet"]
    first, second, third = data.intents["order_status"]
    assert first.text == "where is my order LM-204518?"
    assert first.entities == (EntitySpan(18, 27, "order_number", "LM-204518"),)
    assert second.text == "track NYC parcel"
    assert second.entities == (EntitySpan(6, 9, "city", "New York"),)
    assert third.text == "status of my bulbs"
    assert third.entities == (EntitySpan(10, 18, "product", "bulb"),)


def test_duplicate_example_is_dropped_and_plain_brackets_stay_text() -> None:
    data = parse_training_yaml(VALID)

    assert len(data.intents["order_status"]) == 3
    assert data.texts("greet") == ["hi", "hello [there] friend"]


def test_reads_synonyms_regexes_and_lookups() -> None:
    data = parse_training_yaml(VALID)

    assert data.synonyms["lightstrip"] == "light strip"
    assert data.synonyms["led strip"] == "light strip"
    assert data.synonyms["nyc"] == "New York"  # from the inline annotation
    assert data.regexes == {"order_number": [r"LM-\d{6}"]}
    assert data.lookups == {"product": ["bulb", "hub"]}


def test_directory_merges_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hey\n    - hi\n'
    )
    (tmp_path / "a.yaml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n'
        "- intent: bye\n  examples: |\n    - bye\n"
    )
    (tmp_path / "notes.txt").write_text("not yaml: [")

    data = load_training_data(tmp_path)

    assert data.intents.keys() == {"greet", "bye"}
    assert data.texts("greet") == ["hi", "hey"]


def test_same_example_under_two_intents_is_kept_once_with_a_warning() -> None:
    doc = (
        "nlu:\n- intent: a\n  examples: |\n    - cancel\n"
        "- intent: b\n  examples: |\n    - Cancel\n    - stop\n"
    )
    data = parse_training_yaml(doc, "f.yml")

    assert data.texts("a") == ["cancel"]
    assert data.texts("b") == ["stop"]
    assert "f.yml:7" in data.warnings[0]


def test_fingerprint_ignores_comments_but_not_content() -> None:
    base = parse_training_yaml(VALID).fingerprint()

    assert parse_training_yaml("# a comment\n" + VALID).fingerprint() == base
    assert parse_training_yaml(VALID.replace("- hi\n", "- hi\n    - yo\n")).fingerprint() != base


MALFORMED = [
    ("bad yaml", 'nlu:\n- intent: greet\n  examples: |\n    - hi\n  bad: [\n', 6, "not valid YAML"),
    ("missing examples", "nlu:\n- intent: greet\n- intent: bye\n  examples: |\n    - bye\n", 2,
     "has no 'examples'"),
    ("unknown item key", "nlu:\n- intent: greet\n  sample: x\n  examples: |\n    - hi\n", 3,
     "unknown key 'sample'"),
    ("unknown top-level key", "version: '3.1'\nintents: []\n", 2, "unknown top-level key"),
    ("non-string intent", "nlu:\n- intent: 42\n  examples: |\n    - hi\n", 2, "must be a string"),
    ("empty intent", "nlu:\n- intent: greet\n  examples: |\n\n- intent: x\n", 3, "no examples"),
    ("unclosed bracket", "nlu:\n- intent: greet\n  examples: |\n    - hi\n    - my [order\n", 5,
     "unclosed '['"),
    ("unclosed paren", "nlu:\n- intent: g\n  examples: |\n    - my [LM-1](order_number\n", 4,
     "unclosed '('"),
    ("bad json annotation", 'nlu:\n- intent: g\n  examples: |\n    - a [b]{"entity": }\n', 4,
     "invalid JSON annotation"),
    ("line without dash", "nlu:\n- intent: g\n  examples: |\n    - a\n    b\n", 5,
     "must start with '- '"),
    ("invalid regex", "nlu:\n- intent: g\n  examples: |\n    - a\n- regex: r\n  examples: |\n"
     "    - LM-(\\d\n", 7, "invalid regex"),
    ("two kinds", "nlu:\n- intent: g\n  regex: r\n  examples: |\n    - a\n", 3, "both"),
    ("nlu not a list", "nlu:\n  intent: g\n", 2, "must be a list"),
    ("item not a mapping", "nlu:\n- greet\n", 2, "must be a mapping"),
    ("empty name", "nlu:\n- intent: ''\n  examples: |\n    - a\n", 2, "empty intent name"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "line", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_input_names_file_line_and_reason(
    case: str, text: str, line: int, reason: str, tmp_path: Path
) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(text)

    with pytest.raises(NluDataError) as caught:
        load_training_data(path)

    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert reason in str(caught.value)


def test_missing_path_and_empty_directory_are_errors(tmp_path: Path) -> None:
    with pytest.raises(NluDataError, match="no such file"):
        load_training_data(tmp_path / "absent.yml")
    with pytest.raises(NluDataError, match=r"no \*\.yml"):
        load_training_data(tmp_path)


def test_writer_output_loads_back_unchanged_where_rasa_allows() -> None:
    examples = {
        "greet": ["hi", "hello: there # not a comment", "- leading dash"],
        "weird name!": ["a [bracket] here", "multi\nline"],
    }

    data = parse_training_yaml(to_rasa_yaml(examples))

    assert data.texts("greet") == examples["greet"]
    assert data.texts("weird name!") == ["a (bracket) here", "multi line"]


def test_writer_keeps_intent_names_yaml_would_turn_into_booleans_or_numbers() -> None:
    # CLINC150 has intents called "yes", "no" and "maybe"
    examples = {"yes": ["yep"], "no": ["nope"], "on": ["switch it"], "1.5": ["x"], "maybe": ["?"]}

    data = parse_training_yaml(to_rasa_yaml(examples))

    assert list(data.intents) == ["yes", "no", "on", "1.5", "maybe"]


def test_bundled_data_is_valid_and_covers_the_product_intents() -> None:
    data = load_training_data(
        [Path(__file__).parents[2] / "nlu" / "dialog", Path(__file__).parents[2] / "data" / "nlu"]
    )

    required = {
        "greet", "thanks", "goodbye", "affirm", "deny", "human_handoff", "case_status",
        "add_info", "reset", "complaint_urgent", "bot_challenge", "account_login",
        "account_manage", "billing_charge", "billing_subscription", "payment_methods",
        "order_status", "shipping_info", "returns_refunds", "device_setup",
        "device_troubleshooting", "app_issues", "privacy_data", "warranty",
    }  # fmt: skip
    assert required <= data.intents.keys()
    assert all(15 <= len(examples) <= 25 for examples in data.intents.values())
    assert "order_number" in data.regexes
    assert "product" in data.lookups
    assert data.warnings == []


def test_the_dialogs_own_intents_name_no_business() -> None:
    """What every desk trains on besides its own topics: the dialog's intents only, without
    entities of any business and without a word of the sample shop's trade."""
    data = load_training_data(Path(__file__).parents[2] / "nlu" / "dialog")

    assert set(data.intents) == {
        "greet", "thanks", "goodbye", "affirm", "deny", "human_handoff", "case_status",
        "add_info", "reset", "complaint_urgent", "bot_challenge",
    }  # fmt: skip
    assert data.regexes == {} and data.lookups == {}
    assert data.synonyms == {"#12": "12"}  # the case number as written
    words = " ".join(e.text for examples in data.intents.values() for e in examples).lower()
    for trade in ("lumio", "order", "bulb", "hub", "light", "device", "app", "refund", "lm-"):
        assert trade not in words.split() and f"{trade} " not in words, trade
