"""Deriving everything from the store: the corporate memory (Q&A pairs), its search index, the expertise model.

``reindex`` rebuilds all of it from scratch (one command: ``whoknows reindex``); ``refresh_after_import``
updates only what an import touched, so a new export is searchable as soon as it is imported.

Where it lives: :func:`derived_dir` — the one place that says so — gives each database its own folder under the
data dir, named by the database's id (:attr:`whoknows.store.Store.database_id`). Front-ends (CLI, API, web,
worker) compute it once and pass it where these functions take ``data_dir``; each artefact in it (index and
expertise manifests, ``derive-state.json``) records the id too, and one that records another database's (a copied
or moved folder) is never used: readers refuse it (``index.wrong_database``, ``expertise.wrong_database``), the
derivations here rebuild it from the store.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from whoknows.index import SearchIndexError
from whoknows.locks import file_lock
from whoknows.memory import rebuild_memory, update_memory
from whoknows.memory.memory_index import (
    build_memory_index,
    index_path,
    open_memory_index,
    question_ids_of,
    sync_threads,
    threads_of_import,
)
from whoknows.store import Store, schema

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


def derived_dir(data_dir: Path, store: Store) -> Path:
    """The folder of everything derived from ``store``'s database under the data dir ``data_dir``:
    ``<data_dir>/db/<database id>/`` (memory index, expertise model, derive state and lock, uploads, demo logins).
    Two databases in one data dir never share a file; the data dir itself keeps only the default database."""
    return Path(data_dir) / "db" / store.database_id


def expertise_path(data_dir: Path) -> Path:
    """The expertise model in a database's derived folder (:func:`derived_dir`)."""
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
    with derive_lock(data_dir):
        return _build_expertise(store, data_dir, progress)


def reindex(
    store: Store, data_dir: Path, *, progress: StageProgress | None = None, embedder: str | None = None
) -> DeriveStats:
    """Re-extract every thread's questions and solutions, rebuild the memory search index and the expertise model
    (under the derive lock: an import's refresh waits for it, then finds its import already derived).
    ``embedder``: one of ``memory_index.EMBEDDER_CHOICES``, kept for later rebuilds; None keeps the last one."""
    with derive_lock(data_dir):
        return _reindex(store, data_dir, progress, embedder)


def _reindex(store: Store, data_dir: Path, progress: StageProgress | None, embedder: str | None) -> DeriveStats:
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
    index = build_memory_index(store, path, progress=index_progress, embedder=embedder)
    stats.index = {
        "path": str(path),
        "documents": len(index),
        "vectors": index.vector is not None,
        "embedder": index.embedder.name if index.embedder is not None else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "bytes": _size(path),
    }
    stats.expertise = _build_expertise(store, data_dir, progress)
    with store.read() as conn:  # everything imported so far is derived now
        _DeriveState(data_dir, store.database_id).done(
            int(conn.execute(select(func.max(schema.imports.c.id))).scalar() or 0)
        )
    stats.seconds = time.perf_counter() - started
    return stats


def refresh_after_import(store: Store, data_dir: Path, import_id: int) -> DeriveStats:
    """Update the memory and its index for the threads one import touched. Without an index yet, build it.

    One derivation at a time per data dir (an exclusive lock on ``derive.lock``: imports in the server's threads,
    ``whoknows import`` and ``reindex`` in other processes), so their bookkeeping never interleaves and at most
    one expertise rebuild runs; an import that a later refresh already covered while this one waited is skipped.
    """
    with derive_lock(data_dir):
        return _refresh(store, data_dir, import_id)


def resync(store: Store, data_dir: Path, threads: list[int], previous: list[int]) -> dict[str, Any]:
    """After rows were deleted or rewritten in place (erasure, retention): bring the memory index in line for
    ``threads`` (``previous``: their question ids before) and rebuild the expertise model if there is one, under
    the derive lock. The caller has already updated the Q&A pairs as it needs."""
    out: dict[str, Any] = {}
    with derive_lock(data_dir):
        try:
            index = open_memory_index(store, index_path(data_dir))
        except SearchIndexError as exc:
            if exc.code == "index.wrong_database":  # another database's, copied here: replaced by this one's
                out["index"] = {"documents": len(build_memory_index(store, index_path(data_dir))), "rebuilt": True}
            else:
                out["index"] = "no index yet"
        else:
            out["index"] = sync_threads(store, index, threads, previous)
        if (expertise_path(data_dir) / "manifest.json").exists():
            from whoknows.expertise import build_expertise

            build_expertise(store, expertise_path(data_dir))
            out["expertise"] = "rebuilt"
    return out


@contextmanager
def derive_lock(data_dir: Path) -> Iterator[None]:
    """Exclusive across threads and processes for the derived data in ``data_dir`` (a database's derived folder)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(data_dir / "derive.lock"):
        yield


def _refresh(store: Store, data_dir: Path, import_id: int) -> DeriveStats:
    started = time.perf_counter()
    stats = DeriveStats()
    state = _DeriveState(data_dir, store.database_id)
    if state.through is not None and import_id <= state.through and import_id not in state.pending:
        stats.memory = {"skipped": f"import {import_id} was derived by a later refresh"}
        return stats
    with store.read() as conn:
        imports = state.begin(conn, import_id)
        threads = sorted({t for i in imports for t in threads_of_import(conn, i)})
        previous = question_ids_of(conn, threads)
    stats.memory = update_memory(store, threads).as_dict()
    path = index_path(data_dir)
    try:
        index = open_memory_index(store, path)
    except SearchIndexError as exc:
        if exc.code not in ("index.missing", "index.corrupt", "index.wrong_database"):
            raise
        index = build_memory_index(store, path)
        stats.index = {"path": str(path), "documents": len(index), "rebuilt": True}
    else:
        stats.index = {"path": str(path), **sync_threads(store, index, threads, previous)}
    # The expertise model learns from the whole history (who answered what, half-life, weights): rebuilt.
    stats.expertise = _build_expertise(store, data_dir, None)
    state.done(import_id)
    stats.seconds = time.perf_counter() - started
    return stats


class _DeriveState:
    """Which imports still need their threads derived, in ``data_dir/derive-state.json``: every import after the
    last completed refresh (``through``) and any a killed refresh left ``pending``. The file records the database
    it counts for; one of another database (or recording none) counts as no state at all. So a process killed after an
    import's batches were committed but before the memory was updated (or an import killed part-way, whose re-run
    skips what is already stored) is caught up by the next refresh instead of leaving the memory incomplete until
    a full ``reindex``; imports run with ``--no-index`` are derived by the next refresh too."""

    def __init__(self, data_dir: Path, database_id: str) -> None:
        self.path = data_dir / "derive-state.json"
        self.database_id = database_id
        self.pending: set[int] = set()
        self.through: int | None = None
        try:
            state = json.loads(self.path.read_text())
            if state.get("database_id") == database_id:
                self.pending = {int(i) for i in state.get("pending", [])}
                self.through = int(state.get("through", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            pass

    def begin(self, conn: Connection, import_id: int) -> set[int]:
        """The imports to derive now (this one included), recorded as pending until :meth:`done`."""
        imp = schema.imports
        query = select(imp.c.id).where(imp.c.id < import_id)
        if self.through is not None:
            query = query.where(imp.c.id > self.through)
        elif _index_database(index_path(self.path.parent)) == self.database_id:
            # This database's index but no state (from before the state was kept): the interrupted imports only.
            # Without either nothing was derived here yet, so every earlier import counts.
            query = query.where(imp.c.status != "done")
        self.pending |= {import_id, *(int(i) for i in conn.execute(query).scalars())}
        self._write()
        return set(self.pending)

    def done(self, import_id: int) -> None:
        self.pending, self.through = set(), max(self.through or 0, import_id)
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        state = {"database_id": self.database_id, "pending": sorted(self.pending), "through": self.through or 0}
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path)


def _index_database(path: Path) -> str | None:
    """The database id the index at ``path`` records (None: no readable index, or none recorded)."""
    try:
        found = json.loads((path / "manifest.json").read_text()).get("database_id")
    except (OSError, ValueError, AttributeError):
        return None
    return str(found) if found else None


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
