"""Articles cut for a chat: never inside a word, never ending on a list item's number."""

from __future__ import annotations

import re

import pytest

from bot.knowledge.rendering import clip, section_answer, split_message, whole_article

STEPS = "\n".join(f"{n}. Tap the button number {n} and wait for the light." for n in range(1, 30))
SECTIONS = [
    ("", "Short lead: **follow** these steps."),
    ("Do it from the app", STEPS),
    ("If it fails", "Try again later."),
]
_DANGLING = re.compile(r"(?:^|\n)\s*\d+[.)]?\s*…?$")


@pytest.mark.parametrize("limit", [40, 61, 100, 333, 500])
def test_clipped_text_ends_cleanly(limit: int) -> None:
    clipped = clip(STEPS, limit)
    assert len(clipped) <= limit
    assert clipped.endswith("…")
    assert not _DANGLING.search(clipped)
    last_word = clipped.rstrip("…").split()[-1].strip(".,")
    assert last_word in STEPS.split() or f"{last_word}." in STEPS.split()


@pytest.mark.parametrize("limit", [80, 200, 999])
def test_split_keeps_every_word_and_fits(limit: int) -> None:
    parts = split_message(STEPS, limit)
    assert all(len(p) <= limit for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(STEPS.split())
    assert not any(_DANGLING.search(p) for p in parts)


def test_a_short_lead_brings_the_first_sections_steps_and_markdown_goes() -> None:
    answer = section_answer(SECTIONS, "", limit=300)
    assert answer.startswith("Short lead: follow these steps.\n\nDo it from the app\n1. Tap")
    assert "**" not in answer


def test_a_matched_section_is_shown_under_its_heading() -> None:
    assert section_answer(SECTIONS, "If it fails") == "If it fails\nTry again later."


def test_the_whole_article_has_every_section() -> None:
    text = whole_article(SECTIONS)
    assert "Do it from the app" in text and "29. Tap" in text and "Try again later." in text
