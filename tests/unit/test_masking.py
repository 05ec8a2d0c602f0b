"""Card numbers, emails and phone numbers masked: what counts as one and what does not."""

from __future__ import annotations

import pytest

from bot.masking import luhn_valid, mask_cards, mask_cards_in_payload, mask_contacts


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("my card 4111 1111 1111 1111 was charged", "my card [card ending 1111] was charged"),
        ("4111-1111-1111-1111", "[card ending 1111]"),
        ("amex 378282246310005.", "amex [card ending 0005]."),
        ("19 digits 6011000990139424000x", "19 digits 6011000990139424000x"),  # fails Luhn
        ("4111111111111112", "4111111111111112"),  # one digit off: not a card
        ("order 123456789012", "order 123456789012"),  # 12 digits: too short
        ("case #12 on 2026-01-05 at 09:00", "case #12 on 2026-01-05 at 09:00"),
    ],
)
def test_card_numbers_are_masked_and_nothing_else(text: str, masked: str) -> None:
    assert mask_cards(text) == masked


def test_the_luhn_check() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_an_inbound_payload_keeps_its_ids_even_when_they_look_like_cards() -> None:
    snowflake = "4111111111111111"  # a user id that happens to pass the Luhn check
    payload = {
        "user_id": snowflake,
        "event_id": snowflake,
        "text": f"pay {snowflake}",
        "fields": {"text": f"card {snowflake}"},
        "user_name": "Ada",
    }
    masked = mask_cards_in_payload(payload)
    assert masked["user_id"] == masked["event_id"] == snowflake
    assert masked["text"] == "pay [card ending 1111]"
    assert masked["fields"] == {"text": "card [card ending 1111]"}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail me at ada.l@example.co.uk please", "mail me at [email] please"),
        ("call +44 20 7946 0958", "call [phone ending 58]"),
        ("ring 0171 555 1234 after six", "ring [phone ending 34] after six"),
        ("case #12 on 2026-01-05 at 09:00", "case #12 on 2026-01-05 at 09:00"),
        ("order 12345678", "order 12345678"),
    ],
)
def test_contact_details_are_masked_for_agents_when_asked(text: str, masked: str) -> None:
    assert mask_contacts(text) == masked
