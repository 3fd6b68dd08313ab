"""Type and shape checks for values that arrive from outside (the API, deep links, the CLI).

Each check returns the clean value or raises one UserError line; nothing further in gets a
number where it expects text, or text it cannot encode.
"""
from __future__ import annotations

import numbers

from demo.errors import UserError

MAX_ID_CHARS = 200
MAX_SOURCE_CHARS = 1024


def text(value, name: str, max_chars: int, allow_none: bool = False) -> str | None:
    """A string of at most max_chars that is valid Unicode (no lone surrogates)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise UserError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > max_chars:
        raise UserError(f"{name} too long: {len(value)} characters (limit {max_chars})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise UserError(f"{name} is not valid Unicode text (character {e.start} is a lone surrogate)") from None
    if "\x00" in value:
        raise UserError(f"{name} contains a NUL character")
    return value


def identifier(value, name: str) -> str:
    """An instance or query id: short text, surrounding spaces ignored."""
    return text(value, name, MAX_ID_CHARS).strip()


def string_list(value, name: str) -> list[str]:
    """A list of strings, or one comma-separated string (commas inside rrf(...) do not split)."""
    if isinstance(value, str):
        value = split_ids(value)
    if not isinstance(value, (list, tuple)):
        raise UserError(f"{name} must be a list of strings, got {type(value).__name__}")
    bad = next((v for v in value if not isinstance(v, str)), None)
    if bad is not None or any(v is None for v in value):
        raise UserError(f"{name} must be a list of strings, got an item of type {type(bad).__name__}")
    return [identifier(v, name) for v in value]


def whole_number(value, name: str) -> int:
    """An integral number (10 or 10.0 or "10"); 10.7, True and NaN are refused."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UserError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        raise UserError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def split_ids(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside parentheses: "rrf(bm25,minilm),bm25" -> ["rrf(bm25,minilm)", "bm25"]."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise UserError(f"unbalanced ')' in {text!r}")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise UserError(f"unbalanced '(' in {text!r}")
    return parts + [text[start:]]
