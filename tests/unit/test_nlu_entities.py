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


SAMPLE_ORDER = {"order_number": [r"\bLM[-\s]?\d{6}\b"]}


@pytest.mark.parametrize("text", ["order LM-204518 is late", "order lm-204518 is late"])
def test_a_data_regex_matches_any_case_and_keeps_the_text(text: str) -> None:
    (found,) = EntityExtractor(regexes=SAMPLE_ORDER).extract(text)

    assert found == Entity("order_number", text[6:15], 6, 15, text[6:15])


def test_a_data_regex_matches_only_its_pattern() -> None:
    assert values(EntityExtractor(regexes=SAMPLE_ORDER), "LM-2045 or LM-2045189") == []


def test_no_business_pattern_is_built_in() -> None:
    """Order numbers are a business's own: without its data, none are found."""
    assert values(EntityExtractor(), "order LM-204518, ORD1234 and BK-0042") == []


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


def test_data_regexes_add_patterns_under_their_names() -> None:
    extractor = EntityExtractor(
        regexes={"order_number": [r"\bORD\d{4}\b"], "postcode": [r"\b\d{5}\b"]}
    )

    assert values(extractor, "ORD1234 to 10115") == [
        ("order_number", "ORD1234"),
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
