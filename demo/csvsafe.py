"""CSV cells safe to open in a spreadsheet: text that begins with =, +, -, @, a tab
or a carriage return would run as a formula (=HYPERLINK(...), +cmd, @SUM), so it gets a leading
apostrophe, which spreadsheets show as text (OWASP's advice). Numbers, and text that is a
number (a negative rank), stay as they are. The one copy for every CSV the project writes."""
from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _number(value):
        return "'" + value
    return value


def unsafe_cell(text: str) -> str:
    """Undo safe_cell on a cell read back."""
    return text[1:] if text[:1] == "'" and text[1:].startswith(FORMULA_START) else text


def _number(text: str) -> bool:  # a negative number is data, not a formula
    try:
        float(text)
        return True
    except ValueError:
        return False
