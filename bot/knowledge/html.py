"""HTML answers (as help-desk exports and rich-text spreadsheet cells hold them) as the Markdown
articles are written in.

Headings become ``##`` lines, so the chunker cuts the article into sections as it does a
hand-written one; lists become ``-`` and ``1.`` items; bold stays ``**…**``, which the chat
rendering drops (``bot.knowledge.rendering.plain``). Scripts and styles are dropped with their
content. The conversion itself is markdownify's.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")
_DROPPED = ("script", "style", "head", "template")


def looks_like_html(text: str) -> bool:
    """True when ``text`` holds a tag or an entity ("a < b" and "<3" are not HTML)."""
    return bool(_TAG.search(text) or _ENTITY.search(text))


def html_to_markdown(html: str) -> str:
    from bs4 import BeautifulSoup
    from markdownify import ATX, MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(_DROPPED):
        element.decompose()
    converter = MarkdownConverter(
        heading_style=ATX,
        bullets="-",
        strong_em_symbol="*",
        escape_asterisks=False,  # a customer reads "\*" literally
        escape_underscores=False,
        newline_style="spaces",
    )
    markdown = converter.convert_soup(soup)
    markdown = _TRAILING_SPACE.sub("", markdown.replace("\xa0", " "))
    return _BLANK_LINES.sub("\n\n", markdown).strip()
