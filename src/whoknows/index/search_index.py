"""The search index: a folder of segments plus a manifest, derived from the store and rebuildable at any time.

Layout of ``<path>/``: ``manifest.json`` (format, the id of the database and the store fingerprint it was
built from, live segment names), ``embedder/`` (the embedder's files, if any) and one ``seg-NNNNNN/`` folder per
segment. Every change writes new files and then replaces the manifest atomically; a reader that opened the index
earlier keeps a consistent view. Writers (``build``/``add``/``delete``, from any thread or process: the server
answering, an import, the worker) take an exclusive lock on ``<path>.lock`` and first catch up with the manifest
on disk, so concurrent updates never overwrite each other's segments; a segment folder that a crashed writer left
behind (never listed in the manifest) is removed.

Deleting documents rewrites the segments that held them, so their text (terms) leaves the index files at once;
terms no document uses any more are also pruned from a corpus-trained embedder's vocabulary.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np

from whoknows.index.analyzer import analyze, analyze_query
from whoknows.index.compose import RRFFusion
from whoknows.index.contract import NO_FILTER, Filters, Ranker, Scored
from whoknows.index.doc import Doc
from whoknows.index.embedders.base import Embedder, load_embedder, save_embedder
from whoknows.index.errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    IndexWrongDatabaseError,
    SearchIndexError,
)
from whoknows.index.lexical import BM25Retriever
from whoknows.index.segment import Segment, load_segment, merge_segments, remove_segment, write_segment
from whoknows.index.vector import VectorRetriever
from whoknows.locks import file_lock

FORMAT = 1
SEGMENT_SIZE = 250_000
MAX_SEGMENTS = 8
EMBED_BATCH = 2048
#: Weighted RRF of (BM25, vectors), chosen on SemEval train-part2 (see docs/search.md).
DEFAULT_WEIGHTS = (1.0, 1.0)
Mode = Literal["hybrid", "lexical", "vector"]
Fingerprint = Mapping[str, Any]


@dataclass
class SearchResult:
    hits: list[Scored]
    #: Why there are no hits when the query could not be used (``empty_query``, ``no_searchable_terms``).
    reason: str | None = None
    mode: str = "hybrid"
    stats: dict[str, float] = field(default_factory=dict)


def _chunks(docs: Iterable[Doc], size: int) -> Iterator[list[Doc]]:
    it = iter(docs)
    while chunk := list(islice(it, size)):
        yield chunk


class SearchIndex:
    """Open with :meth:`open`, create with :meth:`build`. Conforms to the ranker contract via :meth:`rank`."""

    def __init__(self, path: Path, manifest: dict[str, Any], embedder: Embedder | None) -> None:
        self.path = path
        self.manifest = manifest
        self.embedder = embedder
        self._segments = [load_segment(path / name) for name in manifest["segments"]]
        self.lexical = BM25Retriever(self)
        self.vector = VectorRetriever(self, embedder) if embedder is not None else None
        self.weights = tuple(manifest.get("weights", DEFAULT_WEIGHTS))

    # -- lifecycle -------------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        path: str | os.PathLike[str],
        docs: Iterable[Doc],
        embedder: Embedder | None = None,
        *,
        fingerprint: Fingerprint | None = None,
        progress: Callable[[int], None] | None = None,
        segment_size: int = SEGMENT_SIZE,
        database_id: str | None = None,
    ) -> SearchIndex:
        """Build a new index at ``path`` from ``docs`` (ids unique), replacing any index there. ``database_id``:
        the database the documents come from, recorded so that :meth:`open` can refuse the index to another."""
        final = Path(path)
        final.parent.mkdir(parents=True, exist_ok=True)
        return cls._build(final, docs, embedder, fingerprint, progress, segment_size, database_id)

    @classmethod
    def _build(
        cls,
        final: Path,
        docs: Iterable[Doc],
        embedder: Embedder | None,
        fingerprint: Fingerprint | None,
        progress: Callable[[int], None] | None,
        segment_size: int,
        database_id: str | None = None,
    ) -> SearchIndex:
        _clear_abandoned(final)
        tmp = final.with_name(f"{final.name}.building-{os.getpid()}-{secrets.token_hex(4)}")
        tmp.mkdir(parents=True)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "database_id": database_id,
            "fingerprint": dict(fingerprint or {}),
            "segments": [],
            "next_segment": 0,
            "embedder": None if embedder is None else {"kind": embedder.kind, "name": embedder.name},
            "built_at": time.time(),
        }
        if embedder is not None:
            save_embedder(embedder, tmp / "embedder")
        done = 0
        for chunk in _chunks(docs, segment_size):
            seg = _write(tmp, manifest, chunk, embedder, progress, done)
            manifest["segments"].append(seg.name)
            done += len(chunk)
        _write_manifest(tmp, manifest)
        # Built aside without the lock (readers go on with the old index); swapped in under it.
        old = final.with_name(f"{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        with _write_lock(final):
            if final.exists():
                final.rename(old)
            tmp.rename(final)
            index = cls(final, manifest, embedder)
        shutil.rmtree(old, ignore_errors=True)
        return index

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        fingerprint: Fingerprint | None = None,
        embedder: Embedder | None = None,
        database_id: str | None = None,
    ) -> SearchIndex:
        """Open an index; with ``fingerprint``, raise :class:`IndexStaleError` if built from another state; with
        ``database_id``, raise :class:`IndexWrongDatabaseError` if built from another database (or from one it
        does not record: an index of an older version)."""
        p = Path(path)
        for attempt in range(3):
            with _write_lock(p, shared=True):  # no writer swaps segments while they are opened
                manifest = _read_manifest(p)
                if database_id is not None and manifest.get("database_id") != database_id:
                    raise _wrong_database(p, manifest.get("database_id"), database_id)
                if embedder is None and manifest.get("embedder"):
                    embedder = load_embedder(p / "embedder")
            try:
                with _write_lock(p, shared=True):
                    index = cls(p, manifest, embedder)
                break
            except IndexCorruptError:
                # A writer may have replaced a segment between reading the manifest and loading it: try again
                # with the new manifest; a segment that stays unreadable is real damage.
                if attempt == 2 or _read_manifest(p).get("segments") == manifest.get("segments"):
                    raise
        if fingerprint is not None:
            index.require_fresh(fingerprint)
        return index

    @property
    def segments(self) -> Sequence[Segment]:
        return self._segments

    @property
    def fingerprint(self) -> dict[str, Any]:
        return dict(self.manifest.get("fingerprint", {}))

    def is_stale(self, fingerprint: Fingerprint) -> bool:
        return self.fingerprint != dict(fingerprint)

    def require_fresh(self, fingerprint: Fingerprint) -> None:
        if self.is_stale(fingerprint):
            raise IndexStaleError(
                f"search index at {self.path} was built from an older state of the store "
                f"({self.fingerprint} != {dict(fingerprint)}); update or rebuild it (whoknows reindex)",
                details={"index": self.fingerprint, "store": dict(fingerprint)},
            )

    def __len__(self) -> int:
        return sum(len(s) for s in self._segments)

    def common_term(self, candidates: int = 20) -> str | None:
        """A word that many documents use (of the largest segment's ``candidates`` most frequent, the first that
        a query analyses to itself), for a question that touches every part of the index: a warm-up. None for an
        empty index."""
        if not self._segments:
            return None
        seg = max(self._segments, key=len)
        if not seg.terms:
            return None
        df = np.diff(np.asarray(seg.indptr))
        top = np.argsort(-df, kind="stable")[:candidates]
        for i in top.tolist():
            term = str(seg.terms[i])
            if analyze_query(term) == [term]:
                return term
        return None

    # -- updates ---------------------------------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the index's write lock and catch up with the manifest on disk (another writer's changes)."""
        with _write_lock(self.path):
            self._catch_up()
            yield

    def _catch_up(self) -> None:
        disk = _read_manifest(self.path)
        if disk.get("segments") != [s.name for s in self._segments]:
            loaded = {s.name: s for s in self._segments}
            self._segments = [loaded.get(name) or load_segment(self.path / name) for name in disk["segments"]]
        self.manifest = disk
        if self.embedder is not None and disk.get("embedder") and (self.path / "embedder").exists():
            self.embedder = load_embedder(self.path / "embedder")  # another writer may have pruned it
            if self.vector is not None:
                self.vector = VectorRetriever(self, self.embedder)

    def add(self, docs: Iterable[Doc], *, fingerprint: Fingerprint | None = None) -> int:
        """Add documents; a document whose id is already indexed is replaced. Returns how many were added."""
        with self._writing():
            return self._add(docs, fingerprint)

    def _add(self, docs: Iterable[Doc], fingerprint: Fingerprint | None) -> int:
        chunks = list(_chunks(docs, SEGMENT_SIZE))
        ids = [d.id for c in chunks for d in c]
        if ids:
            self._drop(ids)
        for chunk in chunks:
            seg = _write(self.path, self.manifest, chunk, self.embedder, None, 0)
            self._segments.append(seg)
        if len(self._segments) > MAX_SEGMENTS:
            self._merge_smallest()
        self._commit(fingerprint)
        return len(ids)

    def delete(self, ids: Iterable[int], *, fingerprint: Fingerprint | None = None) -> int:
        """Erase documents: their segments are rewritten without them. Returns how many were found."""
        with self._writing():
            removed = self._drop(list(ids))
            self._commit(fingerprint)
        return removed

    def _drop(self, ids: list[int]) -> int:
        wanted = np.asarray(ids, dtype=np.int64)
        removed, replaced, stale = 0, [], []
        for seg in self._segments:
            gone = np.isin(seg.doc_ids, wanted)
            n = int(gone.sum())
            if not n:
                replaced.append(seg)
                continue
            removed += n
            stale.append(seg)
            if n < len(seg):
                replaced.append(merge_segments(self._new_segment_path(), [(seg, ~gone)]))
        if stale:
            self._segments = replaced
            self._commit(None)
            for seg in stale:
                remove_segment(seg)
            self._prune_embedder()
        return removed

    def _merge_smallest(self) -> None:
        by_size = sorted(self._segments, key=len)
        small = by_size[: len(by_size) - MAX_SEGMENTS // 2 + 1]
        merged = merge_segments(self._new_segment_path(), [(s, np.ones(len(s), dtype=np.bool_)) for s in small])
        self._segments = [s for s in self._segments if s not in small] + [merged]
        self._commit(None)
        for seg in small:
            remove_segment(seg)

    def _prune_embedder(self) -> None:
        prune = getattr(self.embedder, "prune", None)
        if prune is None or self.embedder is None:
            return
        if prune(lambda t: any(t in s.term_index for s in self._segments)):
            save_embedder(self.embedder, self.path / "embedder")

    def _new_segment_path(self) -> Path:
        return _next_segment_path(self.path, self.manifest)

    def _commit(self, fingerprint: Fingerprint | None) -> None:
        self.manifest["segments"] = [s.name for s in self._segments]
        if fingerprint is not None:
            self.manifest["fingerprint"] = dict(fingerprint)
        self.manifest["updated_at"] = time.time()
        _write_manifest(self.path, self.manifest)

    # -- search ----------------------------------------------------------------------------------------------
    def fused(self, weights: Sequence[float] | None = None, depth: int = 100) -> RRFFusion:
        if self.vector is None:
            return RRFFusion([self.lexical], [1.0], depth=depth)
        return RRFFusion([self.lexical, self.vector], list(weights or self.weights), depth=depth)

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        return self.search(query, k, filters).hits

    def search(self, query: str, k: int = 10, filters: Filters = NO_FILTER, mode: Mode = "hybrid") -> SearchResult:
        """Top ``k`` documents for ``query`` among those ``filters`` allow. Never raises for a bad query."""
        if not query or not query.strip():
            return SearchResult([], "empty_query", mode)
        t0 = time.perf_counter()
        if mode == "vector" or (mode == "hybrid" and self.vector is not None):
            if self.vector is None:
                raise SearchIndexError("this index has no vectors (it was built without an embedder)")
            ranker: Ranker = self.vector if mode == "vector" else self.fused()
        else:
            ranker = self.lexical
        hits = ranker.rank(query, k, filters)
        reason = None
        if not hits and not analyze_query(query) and mode != "vector":
            reason = "no_searchable_terms"
        return SearchResult(hits, reason, mode, {"ms": (time.perf_counter() - t0) * 1000})


def _write(
    folder: Path,
    manifest: dict[str, Any],
    chunk: list[Doc],
    embedder: Embedder | None,
    progress: Callable[[int], None] | None,
    done: int,
) -> Segment:
    terms = [analyze(d.text) for d in chunk]
    vectors = None
    if embedder is not None:
        parts = []
        for start in range(0, len(chunk), EMBED_BATCH):
            parts.append(embedder.embed([d.text for d in chunk[start : start + EMBED_BATCH]]))
            if progress:
                progress(done + min(start + EMBED_BATCH, len(chunk)))
        vectors = np.concatenate(parts)
    elif progress:
        progress(done + len(chunk))
    return write_segment(_next_segment_path(folder, manifest), chunk, terms, vectors)


def _next_segment_path(folder: Path, manifest: dict[str, Any]) -> Path:
    """A new segment folder name. Called under the write lock: a folder that exists but is not in the manifest
    was left by a writer that crashed before committing, and is removed."""
    live = set(manifest.get("segments", []))
    while True:
        n = int(manifest.get("next_segment", 0))
        manifest["next_segment"] = n + 1
        path = folder / f"seg-{n:06d}"
        if not path.exists():
            return path
        if path.name not in live:
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                return path


@contextmanager
def _write_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Exclusive lock for writers of the index at ``path`` (a sibling file, so it outlives rebuilds); ``shared``
    for readers opening it (many at once, never while a writer changes it)."""
    if shared and not path.parent.is_dir():  # no index folder: nothing to keep consistent
        yield
        return
    with file_lock(path.with_name(path.name + ".lock"), shared=shared):
        yield


def _clear_abandoned(final: Path) -> None:
    """Remove half-built or half-swapped folders next to ``final`` whose process is gone (killed mid-build)."""
    for other in final.parent.glob(f"{final.name}.building-*") if final.parent.exists() else []:
        other_pid = other.name.rsplit(".building-", 1)[1].split("-", 1)[0]
        try:
            os.kill(int(other_pid), 0)
        except ProcessLookupError:
            shutil.rmtree(other, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            continue


def _read_manifest(p: Path) -> dict[str, Any]:
    mpath = p / "manifest.json"
    if not mpath.exists():
        raise IndexMissingError(f"no search index at {p}; build it (whoknows reindex)", details={"path": str(p)})
    try:
        manifest: dict[str, Any] = json.loads(mpath.read_text(encoding="utf-8"))
        ok = manifest.get("format") == FORMAT and isinstance(manifest.get("segments"), list)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"search index manifest {mpath} is unreadable ({exc}); rebuild it") from exc
    if not ok:
        raise IndexCorruptError(f"search index at {p} has an unknown format; rebuild it (whoknows reindex)")
    return manifest


def _wrong_database(p: Path, recorded: Any, database_id: str) -> IndexWrongDatabaseError:
    return IndexWrongDatabaseError(
        f"the search index at {p} belongs to another database ({recorded or 'it records none'}, this one is "
        f"{database_id}); it is not used: rebuild it (whoknows reindex)",
        details={"path": str(p), "index_database": recorded, "database": database_id},
    )


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, folder / "manifest.json")
