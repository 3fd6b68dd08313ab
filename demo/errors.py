"""Errors that the command line and the app turn into one clear line (exit code 2)."""
from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: a wrong flag, an unknown retriever, a source that cannot load."""


class DataError(UserError):
    """A dataset file that breaks the release format. Names the file and, where known, the line."""

    def __init__(self, path: object, message: str, line: int | None = None):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
