"""Driving extraction over the store: full or partial rebuilds, and incremental updates after an import.

Work is cut into partitions (one space, optionally one time window) and each partition into chunks of
threads; a chunk is read in one transaction, extracted in memory (pure functions) and its derived rows are
replaced in one write transaction. Re-running any of this yields the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from whoknows.memory import repository
from whoknows.memory.errors import ExtractionError
from whoknows.memory.extract import extract_threads
from whoknows.memory.weights import SolutionModel
from whoknows.store import Store

CHUNK_THREADS = 1_000


@dataclass
class MemoryStats:
    """What a rebuild or update did."""

    spaces: int = 0
    threads: int = 0
    messages: int = 0
    questions: int = 0
    solved: int = 0
    solutions: int = 0
    seconds: float = 0.0
    per_space: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def threads_per_second(self) -> float:
        return self.threads / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "spaces": self.spaces,
            "threads": self.threads,
            "messages": self.messages,
            "questions": self.questions,
            "solved": self.solved,
            "solutions": self.solutions,
            "seconds": round(self.seconds, 3),
            "threads_per_second": round(self.threads_per_second, 1),
        }


ProgressFn = Callable[[MemoryStats], None]


def rebuild_memory(
    store: Store,
    *,
    spaces: Iterable[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    model: SolutionModel | None = None,
    chunk: int = CHUNK_THREADS,
    progress: ProgressFn | None = None,
) -> MemoryStats:
    """Recompute the Q&A pairs of every thread in ``spaces`` (all by default) created in ``[since, until)``.

    Idempotent: the derived rows of each processed thread are replaced. ``progress`` is called after each chunk
    with the running totals.
    """
    if chunk < 1:
        raise ExtractionError(f"chunk must be at least 1 thread, got {chunk}", code="memory.bad_chunk")
    started = time.perf_counter()
    stats = MemoryStats()
    with store.read() as conn:
        partitions = repository.space_ids(conn, spaces)
    for space_id in partitions:
        with store.read() as conn:
            ids = repository.thread_ids_in(conn, space_id, since=since, until=until)
        stats.spaces += 1
        for i in range(0, len(ids), chunk):
            _process(store, ids[i : i + chunk], model, stats, space_id)
            stats.seconds = time.perf_counter() - started
            if progress is not None:
                progress(stats)
    stats.seconds = time.perf_counter() - started
    return stats


def update_memory(
    store: Store, thread_ids: Sequence[int], *, model: SolutionModel | None = None, chunk: int = CHUNK_THREADS
) -> MemoryStats:
    """Recompute the Q&A pairs of ``thread_ids`` (e.g. the threads an import touched)."""
    started = time.perf_counter()
    stats = MemoryStats()
    ids = sorted(set(thread_ids))
    for i in range(0, len(ids), chunk):
        _process(store, ids[i : i + chunk], model, stats, None)
    stats.seconds = time.perf_counter() - started
    return stats


def _process(
    store: Store, ids: Sequence[int], model: SolutionModel | None, stats: MemoryStats, space: int | None
) -> None:
    with store.read() as conn:
        threads = repository.load_threads(conn, ids)
    pairs = list(extract_threads(threads, model))
    with store.write() as conn:
        written = repository.replace_pairs(conn, ids, pairs, repository.extractor_label(model))
    stats.threads += len(threads)
    stats.messages += sum(len(t.posts) for t in threads)
    stats.questions += len(pairs)
    stats.solved += sum(1 for p in pairs if p.solutions)
    stats.solutions += written
    if space is not None:
        per = stats.per_space.setdefault(space, {"threads": 0, "questions": 0, "solved": 0})
        per["threads"] += len(threads)
        per["questions"] += len(pairs)
        per["solved"] += sum(1 for p in pairs if p.solutions)
