"""Small helpers for the words of messages and reports."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 thread", "2 threads" (`many` for irregular nouns)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
