"""An intent's action, passed to the pure ``decide`` as data: a canned response, an article
whatever its search score, a handoff to a named queue, or only the queue a later case goes to.
Without an intent acted on, an action does nothing."""

from __future__ import annotations

from bot.dialogs import replies
from bot.dialogs.states import Act, Hit, OpenCase, Policy, RecordSuggestion, Said, State, decide

POLICY = Policy(answer_threshold=0.5, intent_threshold=0.5)
CAKES = Hit("cake-orders", "Order a celebration cake", "Three days' notice…", "kb:cake-orders", 0.1)


def said(text: str, intent: str | None, action: Act | None, hit: Hit | None = None) -> Said:
    confidence = 0.9 if intent else 0.0
    return Said(text=text, intent=intent, confidence=confidence, hit=hit, action=action)


def test_a_canned_response_is_the_whole_answer() -> None:
    decision = decide(State.IDLE, {}, said("lunch?", "lunch_menu", Act("say", "Soup!")), POLICY)
    assert decision.state == State.IDLE
    assert [r.text for r in decision.replies] == ["Soup!"]
    assert decision.commands == ()


def test_an_article_action_answers_with_it_below_the_search_threshold() -> None:
    signal = said("a cake for saturday", "cake_order", Act("article", "cake-orders"), CAKES)
    decision = decide(State.IDLE, {}, signal, POLICY)
    assert decision.state == State.SUGGESTED
    assert decision.replies[0].text.startswith("Order a celebration cake")
    assert decision.commands == (RecordSuggestion("a cake for saturday", "cake-orders", 0.1),)


def test_a_handoff_action_opens_a_case_in_its_queue() -> None:
    signal = said("cake for 30 people", "cake_order", Act("handoff", "catering"))
    decision = decide(State.IDLE, {}, signal, POLICY)
    assert decision.state == State.CASE_OPEN
    (command,) = decision.commands
    assert isinstance(command, OpenCase)
    assert (command.queue, command.intent, command.history) == (
        "catering",
        "cake_order",
        ("cake for 30 people",),
    )


def test_a_route_action_only_names_the_queue_of_a_later_case() -> None:
    signal = said("cake for 30 people", "cake_order", Act("route", "catering"))
    first = decide(State.IDLE, {}, signal, POLICY)
    assert [r.text for r in first.replies] == [replies.REPHRASE]  # the usual answer: no article
    then = decide(first.state, first.data, said("a person please", "human_handoff", None), POLICY)
    (command,) = then.commands
    assert isinstance(command, OpenCase) and command.queue == "catering"


def test_an_action_without_an_intent_acted_on_does_nothing() -> None:
    signal = Said(text="lunch?", intent="lunch_menu", confidence=0.2, action=Act("say", "Soup!"))
    decision = decide(State.IDLE, {}, signal, POLICY)
    assert [r.text for r in decision.replies] == [replies.REPHRASE]
