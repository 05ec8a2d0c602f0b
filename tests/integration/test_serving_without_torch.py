"""With the encoder exported to ONNX, a whole ``helpdesk chat`` process answers a customer without
ever importing torch: the first run exports (torch needed once), later runs serve without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

# Runs the real CLI in this interpreter and reports, at exit, which heavy libraries it imported.
RUN_AND_REPORT = """\
import atexit, sys
atexit.register(lambda: print("imported:", ",".join(sorted(
    m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules
)), file=sys.stderr))
from bot.cli import main
sys.argv = ["helpdesk", *sys.argv[1:]]
main()
"""


def chat_once(data_dir: Path, database: Path, script: Path) -> tuple[str, str]:
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{database}",
        "HF_HUB_OFFLINE": "1",
        "HELPDESK_ENCODER": "auto",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, "chat", "--script", str(script), "--name", "Priya"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, done.stderr


def test_a_chat_answers_without_importing_torch_once_the_encoder_is_exported(
    e2e_data_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "question.txt"
    script.write_text("how do I reset my password?\n", encoding="utf-8")
    chat_once(e2e_data_dir, tmp_path / "first.db", script)  # exports (and trains) if needed
    assert (e2e_data_dir / "models" / "encoder-onnx" / "encoder.onnx").is_file()

    stdout, stderr = chat_once(e2e_data_dir, tmp_path / "second.db", script)
    assert "Reset your Lumio password" in stdout
    assert "imported: \n" in stderr, stderr[-2000:]
