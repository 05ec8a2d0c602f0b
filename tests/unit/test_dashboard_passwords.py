"""Dashboard passwords: ``helpdesk dashboard hash-password`` prints a scrypt hash that the
sign-in accepts for that password only, never echoes the password, refuses a short one; and
helpdesk.yml refuses a plain password where a hash belongs, naming the key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.cli import app
from bot.config import DeskConfig
from bot.dashboard.passwords import verify_password

PASSWORD = "correct horse battery staple"


def test_the_printed_hash_accepts_that_password_only() -> None:
    result = CliRunner().invoke(app, ["dashboard", "hash-password"], input=f"{PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert stored.startswith("scrypt$") and PASSWORD not in result.output
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    DeskConfig.model_validate({"dashboard": {"passwords": {"slack:U0MANAGER": stored}}})


def test_a_short_password_is_refused() -> None:
    result = CliRunner().invoke(app, ["dashboard", "hash-password", "--stdin"], input="short\n")
    assert result.exit_code == 2 and "at least 12 characters" in result.output


def test_a_plain_password_in_the_config_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"dashboard\.passwords") as caught:
        DeskConfig.model_validate({"dashboard": {"passwords": {"slack:U0MANAGER": PASSWORD}}})
    assert "hash-password" in str(caught.value)
    assert PASSWORD not in str(caught.value)
