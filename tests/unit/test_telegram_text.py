"""What a Telegram customer reads of an agent's Discord markdown (Telegram gets plain text):
the words, not the markers; and how long texts are cut."""

from __future__ import annotations

import pytest

from bot.adapters.telegram_render import readable, text_parts
from bot.adapters.text_chunks import split_text, utf16_length


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("Run **Reset all** now", "Run Reset all now"),
        ("type `helpdesk sync`", "type helpdesk sync"),
        (
            "see [the guide](https://help.example/reset)",
            "see the guide (https://help.example/reset)",
        ),
        ("*really* and _truly_ ~~not~~ ||secret||", "really and truly not secret"),
        ("```sh\nsudo reboot\n```", "sudo reboot"),
        ("snake_case_name and 2*3*4 stay", "snake_case_name and 2*3*4 stay"),
    ],
)
def test_markdown_from_another_platform_reads_as_plain_words(markdown: str, shown: str) -> None:
    assert readable(markdown, "markdown") == shown


def test_plain_text_is_shown_exactly_as_typed() -> None:
    assert readable("**not bold** [x](https://e.example)", "plain") == (
        "**not bold** [x](https://e.example)"
    )


def test_long_text_is_cut_at_paragraphs_then_lines_then_words_and_loses_nothing() -> None:
    text = "First paragraph. " * 100 + "\n\n" + "Second line\n" * 300 + "word " * 900
    parts = split_text(text, 2000)
    assert all(len(p) <= 2000 for p in parts)
    assert parts[0].endswith("First paragraph.")  # cut at the paragraph break
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


def test_telegram_counts_utf16_units() -> None:
    parts = text_parts("😀" * 3000)  # 6,000 units
    assert [utf16_length(p) for p in parts] == [4096, 1904]
    assert text_parts("   ") == ["…"]  # never empty: Telegram refuses empty texts
