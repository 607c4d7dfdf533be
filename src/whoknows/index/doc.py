"""What the index holds: short documents with a permission space, an optional kind and time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Doc:
    """One searchable text. ``id`` is the caller's integer id (e.g. a Q&A pair or message id), unique per
    index; ``space_id`` decides who may see it; ``time`` is epoch seconds."""

    id: int
    text: str
    space_id: int
    kind: str | None = None
    time: float | None = None
