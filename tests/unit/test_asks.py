"""Recognising a request for a person beside the topic, and urgent complaints. The phrases come
from the training data: they must recognise every ``human_handoff`` example and stay quiet on
the other intents' examples; the sentences below were not used to write them."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT
from bot.dialogs.asks import names_a_problem, sounds_urgent, topic_of, wants_person
from nlu.training_data import load_training_data

DATA = load_training_data([PROJECT_ROOT / "nlu" / "dialog", PROJECT_ROOT / "data" / "nlu"])


def test_every_handoff_example_asks_for_a_person_and_none_names_a_problem() -> None:
    examples = DATA.texts("human_handoff")
    assert [t for t in examples if not wants_person(t, [])] == []
    assert [t for t in examples if names_a_problem(t)] == []


def test_no_other_intents_example_asks_for_a_person_except_a_demand_for_a_manager() -> None:
    asking = [
        text
        for intent, examples in DATA.intents.items()
        if intent != "human_handoff"
        for text in (e.text for e in examples)
        if wants_person(text, [])
    ]
    assert asking == ["I demand to speak to a manager"]  # complaint_urgent: a person, rightly


@pytest.mark.parametrize(
    "text",
    [
        "could I talk to somebody about my invoice, the amount is wrong",
        "I need a real person to look at my failed payment",
        "my bulbs won't pair, please put me through to an agent",
        "can you get me someone from your team about my return",
        "please have someone call me back, my hub is dead",
    ],
)
def test_requests_for_a_person_that_name_the_problem(text: str) -> None:
    assert wants_person(text, []) and names_a_problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I change the email you contact me on",
        "someone charged my card twice",
        "are you a real person?",
        "the person who delivered my order left it outside",
        "my agent app crashes",
    ],
)
def test_messages_that_do_not_ask_for_a_person(text: str) -> None:
    assert not wants_person(text, [])


def test_the_models_handoff_share_counts_beside_the_top_intent() -> None:
    ranking = [("order_status", 0.45), ("human_handoff", 0.35), ("greet", 0.1)]
    assert wants_person("my order never arrived, sort it", ranking)
    assert topic_of(ranking) == "order_status"
    assert topic_of([("human_handoff", 0.9), ("greet", 0.05)]) is None


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("I was charged twice and this is ridiculous, I WANT MY MONEY BACK NOW", True),
        ("MY HUB IS DEAD AND THIS IS UNACCEPTABLE", True),
        ("I LOVE MY NEW BULBS", False),
        ("my money back please, the strip was faulty", False),
    ],
)
def test_shouting_in_anger_is_urgent(text: str, urgent: bool) -> None:
    assert sounds_urgent(text, []) is urgent
    assert sounds_urgent("hm", [("complaint_urgent", 0.42), ("billing_charge", 0.3)])
