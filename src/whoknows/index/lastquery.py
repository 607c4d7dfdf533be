"""A per-thread memo of the last query's work on each segment.

One question runs several searches over the same segments with different filters (``ask`` looks for solved and
open questions apart, the expert finder votes and builds profiles): the filter-independent part (BM25 scores of
every row, the vector product, the probed IVF lists) is computed once and reused while the query is the same.
Entries are keyed by the segment object through a weak reference, so a rewritten segment (a new object) never
sees a stale entry and a dropped segment is never kept alive; each thread keeps one entry per segment.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from whoknows.index.segment import Segment


class LastQuery:
    def __init__(self) -> None:
        self._local = threading.local()

    def _entries(self) -> dict[tuple[int, str], tuple[weakref.ref[Segment], object, Any]]:
        entries: dict[tuple[int, str], tuple[weakref.ref[Segment], object, Any]] | None = getattr(
            self._local, "entries", None
        )
        if entries is None:
            entries = self._local.entries = {}
        return entries

    def get(self, seg: Segment, what: str, key: object) -> tuple[bool, Any]:
        """(found, value) of ``what`` for ``seg`` if it was computed for ``key`` by this thread last."""
        hit = self._entries().get((id(seg), what))
        if hit is not None and hit[0]() is seg and hit[1] == key:
            return True, hit[2]
        return False, None

    def put(self, seg: Segment, what: str, key: object, value: Any) -> None:
        entries = self._entries()
        for stale in [k for k, v in entries.items() if v[0]() is None]:  # segments replaced since: let them go
            del entries[stale]
        entries[(id(seg), what)] = (weakref.ref(seg), key, value)
