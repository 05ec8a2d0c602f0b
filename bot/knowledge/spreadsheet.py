"""Articles from a spreadsheet (CSV or XLSX): one article per row, columns found by header.

Headers are matched loosely — case, spaces, punctuation and a trailing number are ignored —
and by their usual names: ``Q`` / ``Question`` / ``FAQ question`` for questions, ``Answer`` /
``Response`` / ``Body`` for the answer, and ``Title``, ``Tags``, ``Category``. Several question
columns, or several questions in one cell separated by ``|``, ``;`` or line breaks, become the
article's example questions; its title is the ``Title`` column or else the first question. An
answer written in HTML becomes Markdown. The header may sit below a few lines of preamble.

Each usable row becomes a Markdown article with front matter (``bot.knowledge.articles``), the
same text whether ``helpdesk init`` writes it to a file or ``helpdesk kb import`` stores it. A
row that cannot be used is reported by its row number, column and reason and skipped; blank
rows are counted and skipped; a row whose title or question an earlier row already has is
reported as a duplicate and not imported twice.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from bot.knowledge.html import html_to_markdown, looks_like_html

SHEET_SUFFIXES = (".csv", ".xlsx")

# Header words by the field they fill; a header is compared after ``_header_key``.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "question": (
        "q", "question", "questions", "faq", "faq question", "question text", "query",
        "example question", "example questions", "alternative question",
        "alternative questions", "other questions", "also asked as", "utterance", "utterances",
    ),
    "answer": (
        "a", "answer", "answers", "faq answer", "answer text", "response", "reply", "body",
        "content", "solution", "text",
    ),
    "title": ("title", "article", "article title", "subject", "heading", "name", "topic title"),
    "tags": ("tags", "tag", "keywords", "keyword", "labels", "label"),
    "category": ("category", "categories", "section", "topic", "group", "area"),
}  # fmt: skip
_FIELD_OF = {word: name for name, words in _SYNONYMS.items() for word in words}
_HEADER_SEARCH_ROWS = 10  # a header below more preamble than this is not looked for
_QUESTION_SEPARATORS = re.compile(r"\s*(?:\||;|\r?\n)\s*")
_TAG_SEPARATORS = re.compile(r"\s*(?:\||;|,|\r?\n)\s*")


@dataclass(frozen=True)
class RowProblem:
    """Why a row of the sheet was skipped: its row number as the spreadsheet shows it."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class SheetArticle:
    """One usable row: its slug and the Markdown file text it makes."""

    row: int
    slug: str
    title: str
    markdown: str


@dataclass
class SheetArticles:
    """What a sheet holds: its articles, the rows skipped and why, and sheet-wide notes."""

    path: Path
    articles: list[SheetArticle] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # ignored columns, the header's row …
    blank_rows: int = 0
    failed: str = ""  # why nothing at all could be read, when that is so


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80].rstrip("-") or "article"


def read_sheet(path: Path) -> SheetArticles:
    """Every article of the CSV or XLSX file at ``path``."""
    result = SheetArticles(path)
    try:
        rows = list(_xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        result.failed = f"{path}: cannot be read as a spreadsheet ({exc})"
        return result
    _read_rows(rows, result)
    return result


def _read_rows(rows: Sequence[list[str]], result: SheetArticles) -> None:
    found = _find_header(rows)
    if found is None:
        first = next((r for r in rows if any(r)), [])
        result.failed = (
            f"{result.path}: needs a question (or title) column and an answer column; "
            f"found {', '.join(repr(c) for c in first if c) or 'no header'}"
        )
        return
    at, columns = found
    if at:
        result.notes.append(f"header found in row {at + 1}")
    header = rows[at]
    ignored = [
        name
        for i, name in enumerate(header)
        if name.strip() and all(i not in indexes for indexes in columns.values())
    ]
    if ignored:
        result.notes.append("columns ignored: " + ", ".join(repr(n.strip()) for n in ignored))
    first_seen: dict[str, int] = {}
    for offset, cells in enumerate(rows[at + 1 :], start=at + 2):
        if not any(cell.strip() for cell in cells):
            result.blank_rows += 1
            continue
        _read_row(offset, cells, header, columns, first_seen, result)


def _find_header(rows: Sequence[list[str]]) -> tuple[int, dict[str, list[int]]] | None:
    for at, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        columns: dict[str, list[int]] = {}
        for i, name in enumerate(row):
            field_name = _FIELD_OF.get(_header_key(name))
            if field_name:
                columns.setdefault(field_name, []).append(i)
        if "answer" in columns and ("question" in columns or "title" in columns):
            return at, columns
    return None


def _header_key(name: str) -> str:
    """``" FAQ-Question 2 "`` → ``"faq question"``, ``"Answer (HTML)"`` → ``"answer"``: case,
    punctuation, a remark in brackets and a trailing number ignored."""
    words = re.sub(r"[^a-z0-9]+", " ", re.sub(r"\(.*?\)|\[.*?\]", " ", name.lower())).split()
    if words and words[-1].isdigit():
        words.pop()
    elif words and (m := re.fullmatch(r"([a-z]+)\d+", words[-1])):
        words[-1] = m.group(1)  # "Q2", "question2"
    return " ".join(words)


def _read_row(
    number: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, list[int]],
    first_seen: dict[str, int],
    result: SheetArticles,
) -> None:
    def cell(i: int) -> str:
        return cells[i].strip() if i < len(cells) else ""

    def first(name: str) -> tuple[str, str]:
        """The first non-empty cell of a field's columns, and the header of its first column."""
        indexes = columns.get(name, [])
        value = next((cell(i) for i in indexes if cell(i)), "")
        return value, (header[indexes[0]].strip() if indexes else name)

    asked = [
        (header[i].strip(), q)
        for i in columns.get("question", [])
        for q in _QUESTION_SEPARATORS.split(cell(i))
        if q
    ]
    answer, answer_column = first("answer")
    title, title_column = first("title")
    if not title and asked:
        (title_column, title), asked = asked[0], asked[1:]
    elif not title:
        title_column = header[(columns.get("question") or columns["title"])[0]].strip()
    if not title:
        result.problems.append(RowProblem(number, title_column, "empty: the row has no question"))
        return
    if not answer:
        result.problems.append(RowProblem(number, answer_column, "empty: the row has no answer"))
        return
    body = html_to_markdown(answer) if looks_like_html(answer) else answer
    if not body.strip():
        result.problems.append(RowProblem(number, answer_column, "the HTML holds no text"))
        return
    slug = slugify(title)
    earlier = first_seen.get(f"slug:{slug}") or first_seen.get(f"q:{_fold(title)}")
    if earlier:
        result.problems.append(
            RowProblem(number, title_column, f"duplicate: same question as row {earlier}")
        )
        return
    first_seen[f"slug:{slug}"] = first_seen[f"q:{_fold(title)}"] = number
    questions: list[str] = []
    for column, question in asked:
        asked_in = first_seen.setdefault(f"q:{_fold(question)}", number)
        if asked_in != number:
            # One example question leads to one article: the first row that asks it keeps it.
            result.notes.append(
                f"row {number}, column '{column}': {question!r} is already asked in row "
                f"{asked_in}; left out here"
            )
        elif _fold(question) not in {_fold(q) for q in [title, *questions]}:
            questions.append(question)
    front: dict[str, object] = {"title": title}
    category, _ = first("category")
    if category:
        front["category"] = category
    tags = _unique(t for i in columns.get("tags", []) for t in _TAG_SEPARATORS.split(cell(i)) if t)
    if tags:
        front["tags"] = tags
    if questions:
        front["questions"] = questions
    text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000).strip()
    result.articles.append(SheetArticle(number, slug, title, f"---\n{text}\n---\n\n{body}\n"))


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _unique(items: Iterator[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        if _fold(item) and _fold(item) not in seen:
            seen.add(_fold(item))
            kept.append(item)
    return kept


def _csv_rows(path: Path) -> Iterator[list[str]]:
    """The records of a CSV file as text cells. UTF-8 (with or without a byte-order mark), or
    Windows-1252 as older Excel saves it; comma, semicolon (Excel in much of Europe) or tab."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    """The rows of the workbook's first sheet as text cells (formulas as their saved values)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException) as exc:
        raise ValueError(f"not an Excel workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
