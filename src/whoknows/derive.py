"""Deriving everything from the store: the corporate memory (Q&A pairs), its search index, the expertise model.

``reindex`` rebuilds all of it from scratch (one command: ``whoknows reindex``); ``refresh_after_import``
updates only what an import touched, so a new export is searchable as soon as it is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoknows.index import SearchIndex, SearchIndexError
from whoknows.memory import rebuild_memory, update_memory
from whoknows.memory.memory_index import (
    build_memory_index,
    index_path,
    question_ids_of,
    sync_threads,
    threads_of_import,
)
from whoknows.store import Store

#: (stage, done, total or None)
StageProgress = Callable[[str, int, int | None], None]


@dataclass
class DeriveStats:
    memory: dict[str, Any] = field(default_factory=dict)
    index: dict[str, Any] = field(default_factory=dict)
    expertise: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "memory": self.memory,
            "index": self.index,
            "expertise": self.expertise,
            "seconds": round(self.seconds, 2),
        }


def expertise_path(data_dir: Path) -> Path:
    return data_dir / "expertise"


def _build_expertise(store: Store, data_dir: Path, progress: StageProgress | None) -> dict[str, Any]:
    from whoknows.expertise import build_expertise

    t0 = time.perf_counter()

    def stage(name: str, n: int) -> None:
        if progress is not None:
            progress(f"expertise: {name}", n, None)

    model = build_expertise(store, expertise_path(data_dir), progress=stage)
    manifest = model.manifest
    return {
        "path": str(expertise_path(data_dir)),
        "seconds": round(time.perf_counter() - t0, 2),
        "training_questions": manifest.get("training_questions"),
        "people": manifest.get("people"),
    }


def rebuild_expertise(store: Store, data_dir: Path, *, progress: StageProgress | None = None) -> dict[str, Any]:
    """Rebuild only the expertise model (profiles, graph, the learned ranker) from the store."""
    return _build_expertise(store, data_dir, progress)


def reindex(store: Store, data_dir: Path, *, progress: StageProgress | None = None) -> DeriveStats:
    """Re-extract every thread's questions and solutions, rebuild the memory search index and the expertise model."""
    started = time.perf_counter()
    stats = DeriveStats()
    total_threads = store.counts()["threads"]

    def memory_progress(s: Any) -> None:
        if progress is not None:
            progress("extracting questions and solutions", s.threads, total_threads)

    memory = rebuild_memory(store, progress=memory_progress)
    stats.memory = memory.as_dict()
    path = index_path(data_dir)

    def index_progress(done: int) -> None:  # the index reports documents done so far
        if progress is not None:
            progress("building the search index", done, memory.questions)

    t0 = time.perf_counter()
    index = build_memory_index(store, path, progress=index_progress)
    stats.index = {
        "path": str(path),
        "documents": len(index),
        "vectors": index.vector is not None,
        "seconds": round(time.perf_counter() - t0, 2),
        "bytes": _size(path),
    }
    stats.expertise = _build_expertise(store, data_dir, progress)
    stats.seconds = time.perf_counter() - started
    return stats


def refresh_after_import(store: Store, data_dir: Path, import_id: int) -> DeriveStats:
    """Update the memory and its index for the threads one import touched. Without an index yet, build it."""
    started = time.perf_counter()
    stats = DeriveStats()
    with store.read() as conn:
        threads = threads_of_import(conn, import_id)
        previous = question_ids_of(conn, threads)
    stats.memory = update_memory(store, threads).as_dict()
    path = index_path(data_dir)
    try:
        index = SearchIndex.open(path)
    except SearchIndexError as exc:
        if exc.code not in ("index.missing", "index.corrupt"):
            raise
        index = build_memory_index(store, path)
        stats.index = {"path": str(path), "documents": len(index), "rebuilt": True}
    else:
        stats.index = {"path": str(path), **sync_threads(store, index, threads, previous)}
    # The expertise model learns from the whole history (who answered what, half-life, weights): rebuilt.
    stats.expertise = _build_expertise(store, data_dir, None)
    stats.seconds = time.perf_counter() - started
    return stats


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
