"""Entity extraction: built-in patterns, data regexes, lookups, synonyms, overlaps."""

from __future__ import annotations

import pytest

from nlu.entities import Entity, EntityExtractor


def values(extractor: EntityExtractor, text: str) -> list[tuple[str, str]]:
    return [(e.entity, e.value) for e in extractor.extract(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status of #12 please", "12"),
        ("any news on case 12?", "12"),
        ("Case no. 12 is still open", "12"),
        ("ticket 12", "12"),
        ("ticket #305", "305"),
        ("case number 7", "7"),
    ],
)
def test_case_numbers(text: str, expected: str) -> None:
    assert values(EntityExtractor(), text) == [("case_number", expected)]


@pytest.mark.parametrize("text", ["order LM-204518 is late", "order lm-204518 is late"])
def test_order_numbers_any_case_are_upper_cased(text: str) -> None:
    (found,) = EntityExtractor().extract(text)

    assert found == Entity("order_number", "LM-204518", 6, 15, text[6:15])


def test_order_number_needs_six_digits() -> None:
    assert values(EntityExtractor(), "LM-2045 or LM-2045189") == []


def test_email_is_found_and_lower_cased() -> None:
    assert values(EntityExtractor(), "write to Maria.K@Example.com today") == [
        ("email", "maria.k@example.com")
    ]


def test_lookup_matches_whole_words_and_plurals_then_synonyms_apply() -> None:
    extractor = EntityExtractor(
        lookups={"product": ["bulb", "light strip", "lamp", "hub"]},
        synonyms={"lamp": "bulb", "hub": "Lumio Hub"},
    )

    assert values(extractor, "two Light Strips, a lamp and the hub") == [
        ("product", "light strip"),
        ("product", "bulb"),
        ("product", "Lumio Hub"),
    ]
    assert values(extractor, "github bulbous") == []


def test_data_regex_adds_patterns_and_order_regex_extends_builtin() -> None:
    extractor = EntityExtractor(
        regexes={"order_number": [r"\bORD\d{4}\b"], "postcode": [r"\b\d{5}\b"]}
    )

    assert values(extractor, "ORD1234 to 10115") == [
        ("order_number", "LM-1234"),
        ("postcode", "10115"),
    ]


def test_overlapping_matches_keep_the_longest_once() -> None:
    extractor = EntityExtractor(
        regexes={"order_number": [r"LM-\d{6}"]}, lookups={"product": ["hub", "lumio hub"]}
    )

    found = extractor.extract("LM-204518 for my Lumio Hub")

    assert [(e.entity, e.text) for e in found] == [
        ("order_number", "LM-204518"),
        ("product", "Lumio Hub"),
    ]


def test_round_trips_through_its_config() -> None:
    extractor = EntityExtractor(lookups={"product": ["bulb"]}, synonyms={"Bulb": "smart bulb"})

    copy = EntityExtractor.from_dict(extractor.to_dict())

    assert copy.extract("my bulb, #4") == extractor.extract("my bulb, #4")
    assert values(copy, "my bulb, #4") == [("product", "smart bulb"), ("case_number", "4")]
