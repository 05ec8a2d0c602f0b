"""A submitted help-desk form is read from the interaction's data alone (no modal object kept
in memory), in both shapes Discord sends: text inputs in action rows, or inside labels."""

from __future__ import annotations

from bot.adapters.discord_ui import form_submission


def test_a_classic_modal_gives_its_payload_and_text() -> None:
    data = {
        "custom_id": "form/reply:12:",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "text", "value": "Hello Ada"}]}
        ],
    }
    assert form_submission(data) == ("reply:12:", "Hello Ada")


def test_a_labelled_text_input_is_read_too() -> None:
    data = {
        "custom_id": "form/transfer:3:",
        "components": [
            {"type": 18, "component": {"type": 4, "custom_id": "text", "value": "billing"}}
        ],
    }
    assert form_submission(data) == ("transfer:3:", "billing")


def test_other_modals_are_not_ours() -> None:
    assert form_submission({"custom_id": "feedback", "components": []}) is None
    assert form_submission({"custom_id": "form/not-a-payload", "components": []}) is None
    assert form_submission(None) is None
