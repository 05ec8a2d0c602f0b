"""Parsing article files, rejecting malformed ones, and section-aware chunking."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.knowledge.articles import ArticleError, parse_article, section_anchor, slug_from_path
from bot.knowledge.chunking import MAX_CHUNK_CHARS, chunk_article, text_hash
from bot.knowledge.lexical import reciprocal_rank_fusion, tokenize
from bot.knowledge.search import make_snippet

ARTICLE = """---
title: Resetting your password
category: account
tags: login, password
questions:
  - I forgot my password
  - how do I change my password?
updated: 2026-01-05
---
# Resetting your password

Click **Forgot password?** on the sign-in page.

## The email does not arrive

Check your spam folder.

### Still nothing?

Wait ten minutes and try again.

## Choosing a strong password

Use at least twelve characters.
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_front_matter_becomes_article_fields(tmp_path: Path) -> None:
    article = parse_article(write(tmp_path, "Reset_Password.md", ARTICLE))

    assert article.slug == "reset-password"
    assert article.title == "Resetting your password"
    assert article.category == "account"
    assert article.tags == ["login", "password"]
    assert article.questions == ["I forgot my password", "how do I change my password?"]
    assert article.updated == datetime(2026, 1, 5, tzinfo=UTC)
    assert not article.body.startswith("#"), "the repeated title heading is dropped"


def test_chunks_follow_sections_and_keep_subsections_inside(tmp_path: Path) -> None:
    chunks = parse_article(write(tmp_path, "reset.md", ARTICLE)).chunks

    assert [c.section for c in chunks] == [
        "",
        "The email does not arrive",
        "Choosing a strong password",
    ]
    assert chunks[0].text.startswith("Resetting your password\n\nClick")
    assert chunks[1].text.startswith("Resetting your password — The email does not arrive\n\n")
    assert "### Still nothing?" in chunks[1].body
    assert [c.ordinal for c in chunks] == [0, 1, 2]
    assert all(c.content_hash == text_hash(c.text) for c in chunks)


def test_long_sections_split_on_paragraphs_under_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 60 for i in range(12)]
    body = "Lead.\n\n## Long section\n\n" + "\n\n".join(paragraphs)

    chunks = chunk_article("Title", body)
    section_chunks = [c for c in chunks if c.section == "Long section"]

    assert len(section_chunks) > 1
    assert all(len(c.body) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(c.body.startswith("Paragraph") for c in section_chunks), "cut between paragraphs"
    assert "".join(c.body for c in section_chunks).count("Paragraph") == 12


def test_a_heading_inside_a_code_block_is_not_a_section() -> None:
    chunks = chunk_article("T", "Lead.\n\n```\n## not a heading\n```\n\n## Real\n\nText.")
    assert [c.section for c in chunks] == ["", "Real"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("no-title.md", "---\ncategory: x\n---\nBody.", "no 'title'"),
        ("bad-yaml.md", "---\ntitle: [unclosed\n---\nBody.", "invalid YAML"),
        ("empty.md", "---\ntitle: Empty\n---\n\n   \n", "empty body"),
        ("plain.md", "Just text, no front matter.", "no YAML front matter"),
        ("latin1.md", "---\ntitle: Caf\xe9\n---\nBody".encode("latin-1"), "not UTF-8"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("questions.md", "---\ntitle: T\nquestions: {a: 1}\n---\nBody.", "'questions'"),
        ("date.md", "---\ntitle: T\nupdated: someday\n---\nBody.", "'updated'"),
    ],
)
def test_malformed_files_raise_an_error_naming_file_and_reason(
    tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(ArticleError) as caught:
        parse_article(path)
    assert caught.value.path == str(path)
    assert reason in caught.value.reason
    assert name in str(caught.value)


def test_slugs_and_anchors() -> None:
    assert slug_from_path(Path("data/Two Factor Auth.md")) == "two-factor-auth"
    assert section_anchor("If the e-mail doesn't arrive!") == "if-the-e-mail-doesnt-arrive"


def test_snippet_drops_the_prefix_and_ends_at_a_sentence() -> None:
    body = " ".join(f"Sentence number {i} is here." for i in range(40))
    snippet = make_snippet(f"Title — Sec\n\n{body}", "Title", "Sec")

    assert snippet.startswith("Sentence number 0")
    assert len(snippet) <= 400
    assert snippet.endswith(".")


def test_tokenizer_meets_inflections_halfway() -> None:
    assert tokenize("Resetting my passwords") == tokenize("reset password")
    assert tokenize("How do I ship it?") == ["ship"]


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]], k=60)

    assert max(fused, key=lambda item: fused[item]) == "b"
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert reciprocal_rank_fusion([]) == {}


def test_snippet_reads_as_plain_text_and_never_ends_on_a_list_number() -> None:
    steps = "\n".join(
        f"{i}. Open **Settings** and tap `Account` to check item number {i} of the list."
        for i in range(1, 12)
    )
    snippet = make_snippet(f"Title — Sec\n\nTo see it:\n\n{steps}", "Title", "Sec")

    assert "**" not in snippet and "`" not in snippet
    assert "Open Settings and tap Account" in snippet
    assert not snippet.rstrip().split("\n")[-1].rstrip(".").isdigit()
