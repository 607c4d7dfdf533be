"""Splitting id lists for ``IN (…)`` queries, so no statement exceeds a database's bound-parameter limit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Items per ``IN`` list; SQLite's default limit is 32,766 parameters, PostgreSQL's 65,535.
IN_CHUNK = 900


def in_chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
