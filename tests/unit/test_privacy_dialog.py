"""Asking to be forgotten, in the pure dialog core and the command parser: ``/forget`` is the
request; words only point to it; ``erase N`` names a request, never a case."""

from __future__ import annotations

import pytest

from bot.commands import parse_command
from bot.dialogs import replies
from bot.dialogs.states import Policy, RequestErasure, Said, State, Verb, decide


@pytest.mark.parametrize("state", [State.IDLE, State.SUGGESTED, State.CASE_OPEN, State.RESOLVED])
def test_forget_is_the_request_whatever_the_dialog_is_doing(state: State) -> None:
    decision = decide(state, {"case": 3}, Verb("forget"), Policy())
    assert decision.commands == (RequestErasure(),)
    assert decision.state == state


@pytest.mark.parametrize("typed", ["/forget", "/forget-me", "/FORGET", "forget me"])
def test_the_spellings_of_forget(typed: str) -> None:
    assert parse_command(typed).verb == "forget"


@pytest.mark.parametrize(
    ("text", "pointed"),
    [
        ("Please delete my data", True),
        ("forget me", True),
        ("can you erase all of my personal information?", True),
        ("how do I delete a photo from the app", False),
        ("my data plan is wrong", False),
    ],
)
def test_asking_in_words_is_pointed_to_the_command_and_erases_nothing(
    text: str, pointed: bool
) -> None:
    decision = decide(State.IDLE, {}, Said(text=text), Policy())
    assert (replies.HOW_TO_BE_FORGOTTEN in [r.text for r in decision.replies]) == pointed
    assert RequestErasure() not in decision.commands


def test_erase_names_a_request_never_the_case_of_the_thread() -> None:
    call = parse_command("erase 12", default_case=3)
    assert call.args == "12"
    assert parse_command("erase", default_case=3).args == ""
