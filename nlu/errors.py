"""Errors raised by the ``nlu`` package.

``NluError`` is the root. ``NluDataError`` means the training data is malformed; its message
names the file, the line and the reason, so an admin can fix the file without reading a
traceback. ``ModelNotFoundError`` means no trained model exists (or it is incomplete) in the
model directory: train one first.
"""

from __future__ import annotations


class NluError(Exception):
    """Base class of every error the ``nlu`` package raises on purpose."""


class NluDataError(NluError):
    """Training data that cannot be used, located as ``file:line: reason``."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class ModelNotFoundError(NluError):
    """No (complete) trained model in the given directory."""
