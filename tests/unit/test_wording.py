"""A business's voice: its name and scope in the greeting and the off-topic reply, any reply
reworded by key in replies.yml, and mistakes there named by key before the desk starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Business
from bot.dialogs import replies
from bot.dialogs.wording import Wording, check_overrides, load_wording, use_wording
from bot.errors import ConfigError

WORKSHOP = Business(name="Spoke & Sprocket", covers="repairs, servicing and bookings")


@pytest.fixture(autouse=True)
def defaults_afterwards() -> Iterator[None]:
    yield
    use_wording(Wording())


def test_the_business_names_itself_in_the_greeting_and_the_off_topic_reply() -> None:
    use_wording(Wording(business=WORKSHOP))

    assert replies.GREETING == (
        "Hi! I'm the Spoke & Sprocket help desk bot. Ask me anything about repairs, servicing "
        "and bookings, and I'll find the answer — or get you a person."
    )
    assert replies.OFF_TOPIC == (
        "I can only help with Spoke & Sprocket: repairs, servicing and bookings. Ask me about "
        "one of those — or choose “Talk to a person”."
    )


def test_without_a_business_the_replies_name_none() -> None:
    use_wording(Wording())

    assert "Lumio" not in replies.GREETING + replies.OFF_TOPIC
    assert "orders" not in replies.GREETING


def test_a_reworded_sentence_and_function_take_their_facts(tmp_path: Path) -> None:
    path = tmp_path / "replies.yml"
    path.write_text(
        "thanks: 'Any time — ride safe, from {business}!'\n"
        "case_opened: 'Ticket {number} is open; you are number {position}.'\n",
        encoding="utf-8",
    )
    use_wording(load_wording(path, WORKSHOP))

    assert replies.THANKS == "Any time — ride safe, from Spoke & Sprocket!"
    assert replies.case_opened(4, 2) == "Ticket 4 is open; you are number 2."
    assert replies.case_opened(4) == "Ticket 4 is open; you are number 1."


def test_a_later_desk_keeps_nothing_of_an_earlier_ones_wording(tmp_path: Path) -> None:
    use_wording(Wording(business=WORKSHOP, overrides={"thanks": "Cheers!"}))
    use_wording(Wording())

    assert replies.THANKS == "You're welcome! Anything else I can help with?"
    assert "Spoke" not in replies.GREETING


def test_the_sample_shops_wording_is_its_own_file() -> None:
    use_wording(load_wording(PROJECT_ROOT / "data" / "replies.yml", Business()))

    assert "your account, orders, billing or devices" in replies.GREETING
    assert replies.OFF_TOPIC.startswith("I can only help with Lumio:")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"greting": "Hi"}, "replies.yml: greting: there is no reply called 'greting'"),
        ({"case_opened": "Your case is open."}, "case_opened: the reply must contain {number}"),
        ({"agent_says": "{agent_name}: ..."}, "agent_says: the reply must contain {text}"),
        ({"thanks": "Thanks, {customer}!"}, "thanks: unknown placeholder {customer}"),
        ({"greeting": "Hi {"}, "greeting: Single '{' encountered"),
        ({"greeting": ""}, "greeting: expected the reply's text"),
        ({"answer": "{title}"}, "there is no reply called 'answer'"),  # built from switches
    ],
)
def test_mistakes_are_named_by_key(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("(", r"\(")):
        check_overrides(raw, "replies.yml")


def test_a_replies_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "replies.yml"
    path.write_text("- greeting\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="expected a mapping of reply keys"):
        load_wording(path, Business())
