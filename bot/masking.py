"""Masking personal details in text: card numbers (always, before anything is stored) and,
where the desk asks for it, email addresses and phone numbers in what agents see.

A card number is a run of 13–19 digits, optionally grouped by single spaces or dashes, that
passes the Luhn check; it is replaced by ``[card ending 1234]`` (the last four digits are what
receipts print, and what a customer and an agent need to tell cards apart). An order or case
number that happens to pass the check is masked too: a false alarm costs a retyped number, a
miss would store a card in clear.
"""

from __future__ import annotations

import re
from typing import Any

CARD_MASK = "[card ending {last4}]"
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone ending {last2}]"

# 13–19 digits, each but the last optionally followed by one space or dash; not inside a longer
# run of digits
_CARD_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# an optional +, then 7–15 digits with spaces, dots, dashes or brackets between them
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w])")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every payment card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_or_same(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return CARD_MASK.format(last4=digits[-4:])
    return match.group(0)


def mask_cards(text: str) -> str:
    """``text`` with every card number replaced by ``[card ending 1234]``."""
    if not any(char.isdigit() for char in text):
        return text
    return _CARD_CANDIDATE.sub(_card_or_same, text)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+")
    if _DATE.search(text) or not (9 <= len(digits) <= 15 or (international and len(digits) >= 7)):
        return text  # a date, a time, an order number: not a phone number
    return PHONE_MASK.format(last2=digits[-2:])


def mask_contacts(text: str) -> str:
    """``text`` with email addresses and phone numbers (and card numbers) masked: what agents
    see when ``privacy.mask_agent_view`` is on."""
    masked = _EMAIL.sub(EMAIL_MASK, mask_cards(text))
    return _PHONE.sub(_phone, masked)


# What people write in an inbound payload. Ids (Discord's are 17–19 digit snowflakes, some of
# which pass the Luhn check), channels and button payloads are left alone: they must still match.
PEOPLE_WRITTEN = ("text", "user_name", "fields", "attachments")


def mask_cards_in_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An inbound payload with card numbers masked in what people wrote (``PEOPLE_WRITTEN``)."""
    return {
        key: mask_cards_in(value) if key in PEOPLE_WRITTEN else value
        for key, value in payload.items()
    }


def mask_cards_in(value: object) -> object:
    """Every string inside ``value`` (a JSON-like payload: dicts, lists, strings) with card
    numbers masked; keys and other values unchanged."""
    if isinstance(value, str):
        return mask_cards(value)
    if isinstance(value, dict):
        return {key: mask_cards_in(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_cards_in(item) for item in value]
    return value
