"""Reading a FAQ spreadsheet as support teams keep them: headers in any spelling below a line of
preamble, questions spread over columns and cells, answers in HTML, blank rows, duplicates and
rows with a cell missing — saved as CSV or as an Excel workbook."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

from bot.knowledge.articles import parse_article_text
from bot.knowledge.spreadsheet import SheetArticles, read_sheet

FIXTURES = Path(__file__).parents[1] / "fixtures" / "faq_import"
MESSY = FIXTURES / "messy.csv"


def articles_by_slug(sheet: SheetArticles) -> dict[str, str]:
    return {a.slug: a.markdown for a in sheet.articles}


def test_messy_headers_are_mapped_and_questions_gathered() -> None:
    sheet = read_sheet(MESSY)

    assert sheet.failed == ""
    assert [a.slug for a in sheet.articles] == [
        "when-are-you-open",
        "how-much-is-a-puncture-repair",
        "can-i-book-a-service",
        "do-you-fix-e-bikes",
    ]
    hours = parse_article_text(articles_by_slug(sheet)["when-are-you-open"].encode(), MESSY)
    assert hours.title == "When are you open?"
    assert hours.questions == ["what are your opening hours", "are you open on sundays"]
    assert (hours.category, hours.tags) == ("Shop", ["hours", "holidays"])
    booking = parse_article_text(articles_by_slug(sheet)["can-i-book-a-service"].encode(), MESSY)
    assert booking.questions == ["can I make an appointment"]  # a line break in the cell
    assert "header found in row 3" in sheet.notes
    assert "columns ignored: 'Owner'" in sheet.notes


def test_html_answers_become_the_markdown_articles_are_written_in() -> None:
    text = articles_by_slug(read_sheet(MESSY))["how-much-is-a-puncture-repair"]
    article = parse_article_text(text.encode(), MESSY)

    assert "<" not in article.body and "&nbsp;" not in article.body
    assert "A puncture repair is **£15** with a new tube." in article.body
    assert "- Sealant top-up: £8\n- Plug: £12" in article.body
    assert "[spoke.example/book](https://spoke.example/book)" in article.body
    # An HTML heading is a section customers are answered from, as in a hand-written article.
    assert [c.section for c in article.chunks] == ["", "Tubeless tyres"]


def test_blank_rows_are_counted_and_bad_rows_named_by_row_and_column() -> None:
    sheet = read_sheet(MESSY)

    assert sheet.blank_rows == 2
    assert [str(p) for p in sheet.problems] == [
        "row 8, column 'FAQ Question': duplicate: same question as row 4",
        "row 9, column 'RESPONSE': empty: the row has no answer",
        "row 10, column 'FAQ Question': empty: the row has no question",
        "row 13, column 'FAQ Question': duplicate: same question as row 12",
    ]
    # A question already asked for another article stays with the first; the row still counts.
    assert (
        "row 12, column 'question 2': 'are you open on Sundays' is already asked in row 4; "
        "left out here"
    ) in sheet.notes
    e_bikes = articles_by_slug(sheet)["do-you-fix-e-bikes"]
    assert "Yes we do." in e_bikes and "Bosch" not in e_bikes


def test_a_workbook_gives_the_same_articles_as_the_same_rows_saved_as_csv(
    tmp_path: Path,
) -> None:
    workbook = Workbook()
    with MESSY.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            workbook.active.append([cell or None for cell in row])  # Excel keeps no empty strings
    workbook.save(tmp_path / "faq.xlsx")

    from_excel = read_sheet(tmp_path / "faq.xlsx")

    assert from_excel.articles == read_sheet(MESSY).articles
    assert [str(p) for p in from_excel.problems] == [str(p) for p in read_sheet(MESSY).problems]


def test_excel_cells_that_are_numbers_and_several_question_columns(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.append(["Title", "Q1", "Q2", "Answer (HTML)", "Tags"])
    workbook.active.append(
        ["Returns", "can I return it", "refund?", "Within <i>30</i> days.", 2026]
    )
    workbook.save(tmp_path / "faq.xlsx")

    (row,) = read_sheet(tmp_path / "faq.xlsx").articles
    article = parse_article_text(row.markdown.encode(), tmp_path / "returns.md")

    assert (row.row, article.title) == (2, "Returns")
    assert article.questions == ["can I return it", "refund?"]
    assert article.body == "Within *30* days."
    assert article.tags == ["2026"]


def test_excel_in_europe_saves_csv_with_semicolons_in_windows_1252(tmp_path: Path) -> None:
    sheet = tmp_path / "faq.csv"
    sheet.write_bytes("Notes;Question;Answer\n;Où êtes-vous ?;Rue de la Paix 5\n".encode("cp1252"))

    (row,) = read_sheet(sheet).articles

    assert row.title == "Où êtes-vous ?" and "Rue de la Paix 5" in row.markdown


def test_a_sheet_without_a_question_or_answer_column_says_what_it_found(tmp_path: Path) -> None:
    sheet = tmp_path / "faq.csv"
    sheet.write_text("Name,Email\nAna,ana@example.com\n", encoding="utf-8")

    result = read_sheet(sheet)

    assert result.articles == []
    assert "needs a question (or title) column and an answer column" in result.failed
    assert "'Name', 'Email'" in result.failed


def test_a_file_that_is_not_a_workbook_is_reported_not_raised(tmp_path: Path) -> None:
    sheet = tmp_path / "faq.xlsx"
    sheet.write_text("Question,Answer\nHi,Hello\n", encoding="utf-8")  # a CSV renamed

    result = read_sheet(sheet)

    assert result.articles == []
    assert "cannot be read as a spreadsheet (not an Excel workbook" in result.failed
