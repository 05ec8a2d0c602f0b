"""An export abandoned halfway (its process stopped: a chat left during its first start) leaves
a scratch folder; the next export removes it, but never one that may be another process's
export in progress."""

from __future__ import annotations

import os
from pathlib import Path

from nlu.onnx_encoder import ABANDONED_AFTER_SECONDS, remove_abandoned_exports


def test_abandoned_scratch_folders_go_and_recent_ones_stay(tmp_path: Path) -> None:
    target = tmp_path / "models" / "encoder-onnx"
    target.parent.mkdir()
    abandoned = target.parent / ".encoder-onnx.partial-abc123"
    in_progress = target.parent / ".encoder-onnx.partial-def456"
    unrelated = target.parent / ".index.partial-zzz"
    for folder in (abandoned, in_progress, unrelated):
        folder.mkdir()
        (folder / "encoder.onnx").write_bytes(b"half")
    now = 2_000_000_000.0
    os.utime(abandoned, (now - ABANDONED_AFTER_SECONDS - 1,) * 2)
    os.utime(in_progress, (now - 60,) * 2)
    os.utime(unrelated, (now - 10 * ABANDONED_AFTER_SECONDS,) * 2)

    assert remove_abandoned_exports(target, now=now) == [abandoned]
    assert not abandoned.exists()
    assert in_progress.exists() and unrelated.exists()
