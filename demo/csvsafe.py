"""CSV cells safe to open in a spreadsheet (DESIGN §8): a cell that begins with =, +, - or @
would run as a formula, so it gets a leading apostrophe, which spreadsheets show as text."""
from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_START and not _number(text):
        return "'" + text
    return text


def unsafe_cell(text: str) -> str:
    """Undo safe_cell on a cell read back."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_START else text


def _number(text: str) -> bool:  # a negative number is data, not a formula
    try:
        float(text)
        return True
    except ValueError:
        return False
