"""One benchmark result file: what was measured, on what, with which command, on which machine."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "system": platform.system(),
    }


def result_document(name: str, dataset: str, metrics: list[dict[str, Any]], **extra: Any) -> dict:
    """The JSON document of one run; ``metrics`` are ``{split, metric, value, n}`` rows."""
    return {
        "name": name,
        "dataset": dataset,
        "metrics": metrics,
        **extra,
        "command": "helpdesk " + " ".join(sys.argv[1:]) if sys.argv else "",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }


def metric(split: str, name: str, value: float, n: int) -> dict[str, Any]:
    return {"split": split, "metric": name, "value": round(float(value), 4), "n": n}


def write_result(name: str, document: dict[str, Any], directory: Path | None = None) -> Path:
    target = (directory or RESULTS_DIR) / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
