"""``helpdesk init``: a business's data directory from flags or answers, articles from a
folder or a spreadsheet, and nothing overwritten by accident."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.config import PROJECT_ROOT, load_desk_config
from bot.knowledge.articles import parse_article

runner = CliRunner()

SHEET = """\
 Question ,Answer,Tags
When are you open?,"Monday to Saturday, 9:00–18:00.",hours; holidays

How much is a puncture repair?,£15 with a new tube.,puncture|price
When are you open?,Again the same row.,
Do you sell helmets?,,
"""


def test_init_from_a_spreadsheet_writes_articles_the_desk_reads(tmp_path: Path) -> None:
    sheet = tmp_path / "faq.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    target = tmp_path / "desk"

    done = runner.invoke(
        app,
        ["init", str(target), "--yes", "--name", "Spoke", "--covers", "repairs and hours",
         "--help-center", "https://help.spoke.example/", "--language", "en", "--language", "DE",
         "--articles", str(sheet)],
    )  # fmt: skip

    assert done.exit_code == 0, done.output
    assert "2 article(s)" in done.output
    assert "row 5, column 'Question': duplicate: same question as row 2" in done.output
    assert "row 6, column 'Answer': empty: the row has no answer" in done.output
    desk = load_desk_config(target / "helpdesk.yml")
    assert (desk.business.name, desk.business.covers) == ("Spoke", "repairs and hours")
    assert desk.help_center_url == "https://help.spoke.example/{slug}"
    assert desk.supported_languages == ["en", "de"]
    article = parse_article(target / "articles" / "when-are-you-open.md")
    assert article.title == "When are you open?"
    assert article.tags == ["hours", "holidays"]
    assert "Monday to Saturday" in article.body
    assert yaml.safe_load((target / "replies.yml").read_text(encoding="utf-8")) is None


def test_init_asks_for_what_the_flags_leave_out(tmp_path: Path) -> None:
    answers = "Spoke\nrepairs\n\nen\n\n"  # name, covers, no help centre, languages, no articles

    done = runner.invoke(app, ["init", str(tmp_path)], input=answers)

    assert done.exit_code == 0, done.output
    desk = load_desk_config(tmp_path / "helpdesk.yml")
    assert desk.business.name == "Spoke" and desk.help_center_url is None


def test_init_refuses_without_a_name_over_a_set_up_desk_or_in_the_sample(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path), "--yes"]).exit_code == 2
    assert runner.invoke(app, ["init", str(tmp_path), "--yes", "--name", "A"]).exit_code == 0

    again = runner.invoke(app, ["init", str(tmp_path), "--yes", "--name", "B"])
    assert again.exit_code == 2 and "use --force" in again.output
    assert load_desk_config(tmp_path / "helpdesk.yml").business.name == "A"

    sample = runner.invoke(app, ["init", str(PROJECT_ROOT / "data"), "--yes", "--name", "C"])
    assert sample.exit_code == 2 and "bundled sample" in sample.output
    assert not (PROJECT_ROOT / "data" / "helpdesk.yml").exists()


def test_init_refuses_a_help_centre_that_is_not_a_web_address(tmp_path: Path) -> None:
    done = runner.invoke(
        app, ["init", str(tmp_path), "--yes", "--name", "A", "--help-center", "help.example"]
    )
    assert done.exit_code == 2 and "must start with https://" in done.output
