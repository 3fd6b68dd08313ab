"""Rank shift of a doc between two variants: old rank - new rank (positive = moved up)."""
from __future__ import annotations


def rank_shift(old: int | None, new: int | None) -> int | None:
    """None when the doc was not ranked before (a newcomer) or is not ranked now."""
    if old is None or new is None:
        return None
    return old - new
