"""An immutable index segment on disk: postings (term -> docs, term frequencies), per-document filter columns
and optional float16 vectors, all in one folder of ``.npy`` files plus a plain-text term list.

Segments are never modified in place. Deleting documents writes a *new* segment without them (and without
terms no remaining document uses) and removes the old folder, so erased text leaves the index files at once;
merging works the same way. Document order is shared by postings and vectors.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from whoknows.index import ivf as ivf_files
from whoknows.index.contract import Filters
from whoknows.index.doc import Doc
from whoknows.index.errors import IndexCorruptError

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]

#: Dense filter masks kept per segment, one per recent reader (a quarter of a megabyte each at 250,000 documents).
MASK_CACHE = 64
_MISSING = object()
_ARRAYS = ("doc_ids", "spaces", "kinds", "times", "lengths", "indptr", "postings", "tfs")


@dataclass
class Segment:
    path: Path
    doc_ids: npt.NDArray[np.int64]
    spaces: npt.NDArray[np.int64]
    kinds: npt.NDArray[np.int16]  # code into kind_names, -1 = none
    kind_names: list[str]
    times: npt.NDArray[np.float64]  # NaN = unknown
    lengths: npt.NDArray[np.int32]
    terms: list[str]
    indptr: npt.NDArray[np.int64]
    postings: npt.NDArray[np.int32]
    tfs: npt.NDArray[np.uint16]
    vectors: npt.NDArray[np.float16] | None
    term_index: dict[str, int] = field(default_factory=dict)
    _space_values: IntArray | None = None
    _space_codes: npt.NDArray[np.intp] | None = None
    _space_starts: IntArray | None = None
    sorted_by_space: bool = False
    _vectors32: FloatArray | None = None
    _luts: dict[frozenset[int], BoolArray] = field(default_factory=dict, repr=False)
    _masks: dict[Filters, BoolArray | None] = field(default_factory=dict, repr=False)
    ivf: ivf_files.IVF | None = None
    _ivf_vectors32: FloatArray | None = None
    _total_length: int | None = None
    _length_prefix: npt.NDArray[np.int64] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def __len__(self) -> int:
        return len(self.doc_ids)

    def df(self, term_id: int) -> int:
        return int(self.indptr[term_id + 1] - self.indptr[term_id])

    def vectors32(self) -> FloatArray | None:
        """Vectors as float32 in memory (BLAS needs it); loaded once from the float16 file."""
        if self.vectors is None:
            return None
        if self._vectors32 is None:
            self._vectors32 = np.asarray(self.vectors, dtype=np.float32)
        return self._vectors32

    def total_length(self) -> int:
        """Indexed terms over all documents (BM25's average document length), summed once."""
        if self._total_length is None:
            self._total_length = int(np.asarray(self.lengths).sum(dtype=np.int64))
        return self._total_length

    def length_prefix(self) -> npt.NDArray[np.int64]:
        """Cumulative document lengths (``[0, l0, l0 + l1, ...]``): the summed length of a row range in O(1)."""
        if self._length_prefix is None:
            prefix = np.zeros(len(self) + 1, dtype=np.int64)
            np.cumsum(np.asarray(self.lengths), out=prefix[1:])
            self._length_prefix = prefix
        return self._length_prefix

    def space_sorted(self) -> bool:
        """Whether the rows are sorted by space (every segment written by this version is)."""
        if self._space_codes is None:
            self._index_spaces()
        return self.sorted_by_space

    def ivf_vectors32(self) -> FloatArray | None:
        """The vectors in IVF list order (``ivf.order``) as float32, so that a probed list is one contiguous
        block; loaded once."""
        if self.ivf is None or self.vectors is None:
            return None
        if self._ivf_vectors32 is None:
            self._ivf_vectors32 = np.asarray(np.asarray(self.vectors)[np.asarray(self.ivf.order)], dtype=np.float32)
        return self._ivf_vectors32

    def space_ranges(self, spaces: frozenset[int]) -> list[tuple[int, int]]:
        """Row ranges ``[start, end)`` of the allowed spaces (rows are sorted by space); neighbouring allowed
        spaces make one range."""
        starts, ends = self.space_bounds(spaces)
        return list(zip(starts.tolist(), ends.tolist(), strict=True))

    def space_bounds(self, spaces: frozenset[int]) -> tuple[IntArray, IntArray]:
        """:meth:`space_ranges` as two arrays (starts, ends)."""
        if self._space_codes is None:
            self._index_spaces()
        assert self._space_starts is not None
        idx = np.flatnonzero(self._space_lut(spaces))
        if not len(idx):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        breaks = np.flatnonzero(np.diff(idx) > 1)
        firsts = np.concatenate(([idx[0]], idx[breaks + 1]))
        lasts = np.concatenate((idx[breaks], [idx[-1]]))
        return self._space_starts[firsts], self._space_starts[lasts + 1]

    def space_codes(self) -> npt.NDArray[np.intp]:
        """Per row, the code of its space among the segment's distinct spaces (the order of :meth:`space_lut`)."""
        if self._space_codes is None:
            self._index_spaces()
        assert self._space_codes is not None
        return self._space_codes

    def space_lut(self, spaces: frozenset[int]) -> BoolArray:
        """Per distinct space of the segment (by code): is it one of ``spaces``?"""
        if self._space_codes is None:
            self._index_spaces()
        return self._space_lut(spaces)

    def _index_spaces(self) -> None:
        values, starts, codes = np.unique(self.spaces, return_index=True, return_inverse=True)
        self._space_values, self._space_codes = values, codes.astype(np.intp)
        self._space_starts = np.append(starts, len(self.spaces))
        self.sorted_by_space = bool(np.all(np.diff(np.asarray(self.spaces)) >= 0))

    def _space_lut(self, spaces: frozenset[int]) -> BoolArray:
        """Per distinct space of this segment: is it in ``spaces``? The answers for the last :data:`MASK_CACHE`
        readers are kept (a few bytes per space each): one question filters with the same readable set many times
        (every query term of every ranker), and the expert profiles look it up on every question."""
        cache = self._luts
        lut = cache.get(spaces)
        if lut is None:
            assert self._space_values is not None
            lut = np.isin(self._space_values, np.fromiter(spaces, np.int64, len(spaces)))
            if len(cache) >= MASK_CACHE:
                with contextlib.suppress(StopIteration, RuntimeError):  # another thread may be trimming too
                    cache.pop(next(iter(cache)), None)
            cache[spaces] = lut
        return lut

    def mask(self, filters: Filters) -> BoolArray | None:
        """Dense mask of the documents ``filters`` allow (``None``: all), kept for the last few filters: one
        question filters with the same readable spaces many times (every ranker, solved and open questions), and
        the same people ask again. Read-only: callers combine it, never write into it."""
        if filters.since is not None or filters.until is not None:  # training: one time cut per past question
            return self.allowed(filters)
        # The same spaces come with several kinds (solved and open questions, answers for profiles): the masks
        # of the spaces and of the kinds are kept apart and combined (a quick AND), so one reader takes one entry.
        mask = self._cached(Filters(spaces=filters.spaces))
        if filters.kinds is not None:
            kinds = self._cached(Filters(kinds=filters.kinds))
            mask = kinds if mask is None else mask & kinds if kinds is not None else mask
        return mask

    def _cached(self, filters: Filters) -> BoolArray | None:
        got = self._masks.get(filters, _MISSING)  # one lookup: another thread may evict between two
        if got is _MISSING:
            return self._remember(filters, self.allowed(filters))
        return cast(BoolArray | None, got)

    def _remember(self, filters: Filters, mask: BoolArray | None) -> BoolArray | None:
        cache = self._masks
        if mask is not None:
            mask.flags.writeable = False
        if len(cache) >= MASK_CACHE:
            with contextlib.suppress(StopIteration, RuntimeError, KeyError):  # another thread may be trimming too
                cache.pop(next(iter(cache)))
        cache[filters] = mask
        return mask

    def allowed(self, filters: Filters, rows: npt.NDArray[np.intp] | None = None) -> BoolArray | None:
        """Mask of documents (of ``rows`` if given) the filters allow; ``None`` means all are allowed."""
        mask: BoolArray | None = None
        if filters.spaces is not None:
            if self._space_codes is None:
                self._index_spaces()
            assert self._space_values is not None and self._space_codes is not None
            lut = self._space_lut(filters.spaces)
            codes = self._space_codes if rows is None else self._space_codes[rows]
            mask = lut[codes]
        if filters.kinds is not None:
            lut_k = np.array([n in filters.kinds for n in self.kind_names] + [False], dtype=np.bool_)
            kinds = self.kinds if rows is None else self.kinds[rows]
            m = lut_k[kinds]  # -1 (no kind) indexes the trailing False
            mask = m if mask is None else mask & m
        if filters.since is not None or filters.until is not None:
            times = self.times if rows is None else self.times[rows]
            m = ~np.isnan(times)
            if filters.since is not None:
                m &= times >= filters.since
            if filters.until is not None:
                m &= times < filters.until
            mask = m if mask is None else mask & m
        return mask


def _postings_from_terms(
    term_lists: Sequence[Sequence[str]],
) -> tuple[list[str], IntArray, IntArray, IntArray]:
    """(terms, indptr, postings, tfs) in term-major order from analysed documents."""
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(t, len(vocab)) for toks in term_lists for t in toks), dtype=np.int64)
    n = max(len(term_lists), 1)
    lengths = np.fromiter((len(t) for t in term_lists), dtype=np.int64, count=len(term_lists))
    docs = np.repeat(np.arange(len(term_lists), dtype=np.int64), lengths)
    keys, tfs = np.unique(ids * n + docs, return_counts=True)
    term_of = keys // n
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of, minlength=len(vocab)), out=indptr[1:])
    return list(vocab), indptr, keys % n, tfs.astype(np.int64)


def write_segment(
    path: Path,
    docs: Sequence[Doc],
    term_lists: Sequence[Sequence[str]],
    vectors: npt.NDArray[np.float32] | None,
) -> Segment:
    """Write a new segment folder for ``docs`` (with their analysed terms and optional vectors). Rows are
    stored sorted by space, so a permission filter selects contiguous row ranges."""
    order = sorted(range(len(docs)), key=lambda i: docs[i].space_id)
    docs = [docs[i] for i in order]
    term_lists = [term_lists[i] for i in order]
    if vectors is not None:
        vectors = vectors[order]
    terms, indptr, postings, tfs = _postings_from_terms(term_lists)
    kind_names = sorted({d.kind for d in docs if d.kind is not None})
    code = {k: i for i, k in enumerate(kind_names)}
    cols: dict[str, npt.NDArray[np.generic]] = {
        "doc_ids": np.array([d.id for d in docs], dtype=np.int64),
        "spaces": np.array([d.space_id for d in docs], dtype=np.int64),
        "kinds": np.array([-1 if d.kind is None else code[d.kind] for d in docs], dtype=np.int16),
        "times": np.array([np.nan if d.time is None else d.time for d in docs], dtype=np.float64),
        "lengths": np.array([len(t) for t in term_lists], dtype=np.int32),
    }
    return _save(path, cols, kind_names, terms, indptr, postings, tfs, vectors)


def _save(
    path: Path,
    cols: dict[str, npt.NDArray[np.generic]],
    kind_names: list[str],
    terms: list[str],
    indptr: IntArray,
    postings: IntArray,
    tfs: IntArray,
    vectors: npt.NDArray[np.floating] | None,
    centroids: FloatArray | None = None,
) -> Segment:
    path.mkdir(parents=True)
    cols = dict(cols)
    cols["indptr"] = indptr.astype(np.int64)
    cols["postings"] = postings.astype(np.int32)
    cols["tfs"] = np.minimum(tfs, 65535).astype(np.uint16)
    for name in _ARRAYS:
        np.save(path / f"{name}.npy", cols[name])
    if vectors is not None:
        np.save(path / "vectors.npy", vectors.astype(np.float16))
        if len(vectors) >= ivf_files.IVF_MIN_ROWS:
            layout = ivf_files.train(np.asarray(vectors, dtype=np.float32), centroids=centroids)
            ivf_files.save(path, layout)
    (path / "terms.txt").write_text("\n".join(terms), encoding="utf-8")
    meta = {"n_docs": len(cols["doc_ids"]), "kind_names": kind_names, "n_terms": len(terms)}
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return load_segment(path)


def load_segment(path: Path) -> Segment:
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        arrays = {n: np.load(path / f"{n}.npy", mmap_mode="r") for n in _ARRAYS}
        text = (path / "terms.txt").read_text(encoding="utf-8")
        vec_path = path / "vectors.npy"
        vectors = np.load(vec_path, mmap_mode="r") if vec_path.exists() else None
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(f"index segment {path} is unreadable ({exc}); rebuild the index") from exc
    terms = text.split("\n") if text else []
    if len(terms) != meta["n_terms"] or len(arrays["doc_ids"]) != meta["n_docs"]:
        raise IndexCorruptError(f"index segment {path} is inconsistent; rebuild the index")
    # Plain ndarray views of the memory maps: slicing a np.memmap costs ~1.5 us of Python per slice, and a
    # query slices postings thousands of times.
    arrays = {n: np.asarray(a) for n, a in arrays.items()}
    seg = Segment(
        path,
        arrays["doc_ids"],
        arrays["spaces"],
        arrays["kinds"],
        list(meta["kind_names"]),
        arrays["times"],
        arrays["lengths"],
        terms,
        np.asarray(arrays["indptr"]),
        arrays["postings"],
        arrays["tfs"],
        vectors,
    )
    seg.term_index = {t: i for i, t in enumerate(terms)}
    try:
        seg.ivf = ivf_files.load(path) if vectors is not None else None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index segment {path} has unreadable IVF lists ({exc}); rebuild the index") from exc
    if seg.ivf is not None and (len(seg.ivf.order) != len(seg) or seg.ivf.indptr[-1] != len(seg)):
        raise IndexCorruptError(f"index segment {path} has inconsistent IVF lists; rebuild the index")
    return seg


def merge_segments(path: Path, parts: Sequence[tuple[Segment, BoolArray]]) -> Segment:
    """Write one segment holding the kept documents of ``parts`` (segment, keep mask); terms no kept document
    uses are dropped. Used both for merging and for erasing documents."""
    vocab: dict[str, int] = {}
    term_chunks, doc_chunks, tf_chunks, vec_chunks = [], [], [], []
    cols: dict[str, list[npt.NDArray[np.generic]]] = {n: [] for n in ("doc_ids", "spaces", "times", "lengths")}
    kinds_chunks: list[npt.NDArray[np.int16]] = []
    kind_names = sorted({k for seg, _ in parts for k in seg.kind_names})
    kind_code = {k: i for i, k in enumerate(kind_names)}
    offset = 0
    for seg, keep in parts:
        remap = np.cumsum(keep, dtype=np.int64) - 1
        seg_map = np.fromiter((vocab.setdefault(t, len(vocab)) for t in seg.terms), np.int64, len(seg.terms))
        term_of = np.repeat(np.arange(len(seg.terms), dtype=np.int64), np.diff(seg.indptr))
        alive = keep[seg.postings]
        term_chunks.append(seg_map[term_of[alive]])
        doc_chunks.append(offset + remap[seg.postings[alive]])
        tf_chunks.append(np.asarray(seg.tfs[alive], dtype=np.int64))
        for n in cols:
            cols[n].append(np.asarray(getattr(seg, n))[keep])
        lut = np.array([kind_code[k] for k in seg.kind_names] + [-1], dtype=np.int16)
        kinds_chunks.append(lut[np.asarray(seg.kinds)[keep]])
        if seg.vectors is not None:
            vec_chunks.append(np.asarray(seg.vectors)[keep])
        offset += int(keep.sum())
    terms_all = np.concatenate(term_chunks) if term_chunks else np.zeros(0, np.int64)
    docs_all = np.concatenate(doc_chunks) if doc_chunks else np.zeros(0, np.int64)
    tfs_all = np.concatenate(tf_chunks) if tf_chunks else np.zeros(0, np.int64)
    out_cols: dict[str, npt.NDArray[np.generic]] = {n: np.concatenate(c) for n, c in cols.items()}
    out_cols["kinds"] = np.concatenate(kinds_chunks)
    perm = np.argsort(out_cols["spaces"], kind="stable")
    out_cols = {n: c[perm] for n, c in out_cols.items()}
    docs_all = np.argsort(perm)[docs_all]
    used, new_term = np.unique(terms_all, return_inverse=True)
    order = np.lexsort((docs_all, new_term))
    names = list(vocab)
    indptr = np.zeros(len(used) + 1, dtype=np.int64)
    np.cumsum(np.bincount(new_term, minlength=len(used)), out=indptr[1:])
    has_vectors = all(seg.vectors is not None for seg, _ in parts) and parts
    vectors = np.concatenate(vec_chunks)[perm] if has_vectors else None
    # Re-assign to the largest part's lists rather than cluster again: erasing a few documents stays cheap.
    trained = [seg.ivf for seg, _ in sorted(parts, key=lambda p: -len(p[0])) if seg.ivf is not None]
    centroids = np.asarray(trained[0].centroids) if trained else None
    return _save(
        path,
        out_cols,
        kind_names,
        [names[i] for i in used],
        indptr,
        docs_all[order],
        tfs_all[order],
        vectors,
        centroids,
    )


def remove_segment(seg: Segment) -> None:
    shutil.rmtree(seg.path, ignore_errors=True)
