"""The evidence table: one row per message (columnar numpy arrays, time-ordered), and per-person aggregates.

Aggregates are computed for a :class:`~whoknows.index.Filters` (the asker's readable spaces and, for training
"as of" a past question, an ``until`` time), so a person's standing is made only of evidence the asker may read.
Results for the same filters are cached (a small LRU), which makes repeated questions of one asker cheap.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from whoknows.expertise.errors import ExpertiseCorruptError
from whoknows.expertise.evidence import ANSWER, COMMENT, CONTRIBUTION_ROLES, QUESTION, Evidence
from whoknows.index import Filters

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_COLUMNS = ("msg_id", "author", "asker", "space", "skind", "role", "time", "accepted", "thanked", "score", "reactions")
STAT_NAMES = (
    "answers",
    "others",
    "questions",
    "accepted",
    "thanked",
    "pos_score",
    "askers",
    "decayed",
    "last_seen",
    "answer_len",
)


@dataclass
class EvidenceTable:
    person_ids: I64  # index -> store person id
    msg_id: I64
    author: npt.NDArray[np.int32]  # person index, -1 = none
    asker: npt.NDArray[np.int32]
    space: I64
    skind: npt.NDArray[np.int8]  # code into kind_names
    role: npt.NDArray[np.int8]
    time: F64
    accepted: npt.NDArray[np.bool_]
    thanked: npt.NDArray[np.bool_]
    score: npt.NDArray[np.int32]
    reactions: npt.NDArray[np.int32]
    kind_names: list[str]
    public: frozenset[int]
    #: Indexed length (terms) of each row's message, set by the feature extractor (profile lengths).
    doc_len: F64 | None = None
    _stats: OrderedDict[tuple[object, ...], dict[str, F64]] = field(default_factory=OrderedDict)
    _row_of: I64 | None = None
    _by_space: tuple[I64, I64, I64] | None = None
    _public_run: _PublicRun | None = None
    _run_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- construction ---------------------------------------------------------------------------------------
    @classmethod
    def from_evidence(cls, evidence: Sequence[Evidence], space_kind: dict[int, str], public: set[int]) -> EvidenceTable:
        order = sorted(range(len(evidence)), key=lambda i: (evidence[i].time, evidence[i].message_id))
        ev = [evidence[i] for i in order]
        ids = sorted({e.author_id for e in ev if e.author_id is not None} | {e.asker_id for e in ev if e.asker_id})
        index = {pid: i for i, pid in enumerate(ids)}
        kind_names = sorted(set(space_kind.values()))
        kcode = {k: i for i, k in enumerate(kind_names)}
        return cls(
            person_ids=np.array(ids, dtype=np.int64),
            msg_id=np.array([e.message_id for e in ev], dtype=np.int64),
            author=np.array([index.get(e.author_id, -1) if e.author_id else -1 for e in ev], dtype=np.int32),
            asker=np.array([index.get(e.asker_id, -1) if e.asker_id else -1 for e in ev], dtype=np.int32),
            space=np.array([e.space_id for e in ev], dtype=np.int64),
            skind=np.array([kcode.get(space_kind.get(e.space_id, ""), -1) for e in ev], dtype=np.int8),
            role=np.array([e.role for e in ev], dtype=np.int8),
            time=np.array([e.time for e in ev], dtype=np.float64),
            accepted=np.array([e.accepted for e in ev], dtype=np.bool_),
            thanked=np.array([e.thanked for e in ev], dtype=np.bool_),
            score=np.array([e.score for e in ev], dtype=np.int32),
            reactions=np.array([e.reactions for e in ev], dtype=np.int32),
            kind_names=kind_names,
            public=frozenset(public),
        )

    def save(self, folder: Path) -> None:
        np.savez(folder / "evidence.npz", person_ids=self.person_ids, **{c: getattr(self, c) for c in _COLUMNS})
        meta = {"kind_names": self.kind_names, "public": sorted(self.public)}
        (folder / "evidence.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> EvidenceTable:
        try:
            data = np.load(folder / "evidence.npz")
            meta = json.loads((folder / "evidence.json").read_text(encoding="utf-8"))
            cols = {c: data[c] for c in _COLUMNS}
            return cls(
                person_ids=data["person_ids"],
                kind_names=list(meta["kind_names"]),
                public=frozenset(meta["public"]),
                **cols,
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ExpertiseCorruptError(f"expertise evidence in {folder} is unreadable ({exc}); rebuild it") from exc

    # -- lookups --------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.msg_id)

    @property
    def n_people(self) -> int:
        return len(self.person_ids)

    def rows_of(self, message_ids: npt.ArrayLike) -> I64:
        """Table rows of message ids (-1 for ids the table does not hold)."""
        if self._row_of is None:
            top = int(self.msg_id.max()) + 1 if len(self.msg_id) else 1
            lut = np.full(top, -1, dtype=np.int64)
            lut[self.msg_id] = np.arange(len(self.msg_id))
            self._row_of = lut
        ids = np.asarray(message_ids, dtype=np.int64)
        ok = (ids >= 0) & (ids < len(self._row_of))
        out = np.full(len(ids), -1, dtype=np.int64)
        out[ok] = self._row_of[ids[ok]]
        return out

    def person_index(self, person_id: int | None) -> int:
        if person_id is None:
            return -1
        i = int(np.searchsorted(self.person_ids, person_id))
        return i if i < len(self.person_ids) and self.person_ids[i] == person_id else -1

    def allowed(self, filters: Filters) -> npt.NDArray[np.bool_]:
        mask = np.ones(len(self), dtype=np.bool_)
        if filters.spaces is not None:
            mask &= np.isin(self.space, np.fromiter(filters.spaces, np.int64, len(filters.spaces)))
        if filters.until is not None:
            mask &= self.time < filters.until
        if filters.since is not None:
            mask &= self.time >= filters.since
        return mask

    # -- aggregates -----------------------------------------------------------------------------------------
    def stats(self, filters: Filters, half_life: float) -> dict[str, F64]:
        """Per person (arrays of length ``n_people``): counts of answers, accepted/thanked answers, votes and
        reactions, distinct askers helped, recency-decayed activity, the time last seen and the length of their
        answers.

        Without a time range, the public spaces' part is computed once and the reader's private spaces are added
        from their own rows, so a new asker costs only their private rows (distinct askers are then counted per
        part, a slight over-count for someone helping the same person in public and in private)."""
        key = (filters.spaces, filters.until, filters.since, half_life)
        hit = self._stats.get(key)
        if hit is not None:
            self._stats.move_to_end(key)
            return hit
        timeless = filters.until is None and filters.since is None
        if timeless and filters.spaces is not None and self.public and self.public < filters.spaces:
            base = self.stats(Filters(spaces=self.public), half_life)
            private = filters.spaces - self.public
            rows = self._rows_in_spaces(private)
            out = _combine(base, self._compute(rows, None, half_life)) if len(rows) else base
        elif (
            filters.until is not None
            and filters.since is None
            and filters.spaces is not None
            and self.public
            and self.public <= filters.spaces
        ):
            # As of a past moment (training: one question after another, in time order): the public part is
            # carried forward from the previous moment's, the reader's private rows are added as above.
            base = self._public_until(filters.until, half_life)
            rows = self._rows_in_spaces(filters.spaces - self.public)
            rows = rows[self.time[rows] < filters.until]
            out = _combine(base, self._compute(rows, filters.until, half_life)) if len(rows) else base
        else:
            out = self._compute(np.flatnonzero(self.allowed(filters)), filters.until, half_life)
        self._stats[key] = out
        if len(self._stats) > 64:
            self._stats.popitem(last=False)
        return out

    def _public_until(self, until: float, half_life: float) -> dict[str, F64]:
        """The aggregates of the public spaces' rows before ``until``: advanced from the last call's when time
        moves forward (only the rows in between are read), computed afresh otherwise. Equal to a fresh
        computation up to floating-point rounding of the decayed sums."""
        with self._run_lock:
            return self._advance_public(until, half_life)

    def _advance_public(self, until: float, half_life: float) -> dict[str, F64]:
        run = self._public_run
        if run is None or run.half_life != half_life or until < run.until:
            run = self._public_run = _PublicRun(half_life, -np.inf, 0, {}, set())
        end = int(np.searchsorted(self.time, until, side="left"))  # rows are in time order
        rows = np.arange(run.end, end, dtype=np.int64)
        rows = rows[np.isin(self.space[rows], np.fromiter(self.public, np.int64, len(self.public)))]
        part = self._compute(rows, until, half_life)
        # Distinct askers: count only (asker, helper) pairs not seen in the rows before.
        rows = rows[self.author[rows] >= 0]
        author = self.author[rows].astype(np.int64)
        helped = np.isin(self.role[rows], CONTRIBUTION_ROLES) & (self.asker[rows] >= 0) & (self.asker[rows] != author)
        codes = np.unique(self.asker[rows][helped].astype(np.int64) * self.n_people + author[helped]).tolist()
        fresh = [c for c in codes if c not in run.pairs]
        run.pairs.update(fresh)
        p = max(self.n_people, 1)
        part["askers"] = np.bincount(np.asarray(fresh, dtype=np.int64) % p, minlength=p).astype(np.float64)
        if run.totals:
            fade = np.exp2(-(until - run.until) / half_life) if np.isfinite(half_life) else 1.0
            for k, before in run.totals.items():
                if k == "last_seen":
                    part[k] = np.fmax(part[k], before)
                elif k == "decayed":
                    part[k] = part[k] + before * fade
                else:
                    part[k] = part[k] + before
        run.until, run.end, run.totals = until, end, part
        return {k: v.copy() for k, v in part.items()}

    def _rows_in_spaces(self, spaces: frozenset[int]) -> I64:
        if self._by_space is None:
            order = np.argsort(self.space, kind="stable")
            values, starts = np.unique(self.space[order], return_index=True)
            self._by_space = (order.astype(np.int64), values, np.append(starts, len(order)).astype(np.int64))
        order, values, starts = self._by_space
        parts = []
        for sp in spaces:
            i = int(np.searchsorted(values, sp))
            if i < len(values) and values[i] == sp:
                parts.append(order[starts[i] : starts[i + 1]])
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _compute(self, rows: I64, until: float | None, half_life: float) -> dict[str, F64]:
        p = self.n_people
        rows = rows[self.author[rows] >= 0]
        author, role = self.author[rows], self.role[rows]

        def count(sel: npt.NDArray[np.bool_], weights: F64 | None = None) -> F64:
            w = None if weights is None else weights[sel]
            return np.bincount(author[sel], weights=w, minlength=p).astype(np.float64)

        is_answer = role == ANSWER
        contrib = np.isin(role, CONTRIBUTION_ROLES)
        good = is_answer & (self.accepted[rows] | self.thanked[rows])
        pos = np.maximum(self.score[rows], 0).astype(np.float64) + self.reactions[rows]
        ref = until if until is not None else (float(self.time[-1]) if len(self) else 0.0)
        decay = np.exp2(-(ref - self.time[rows]) / half_life) if np.isfinite(half_life) else np.ones(len(rows))
        helped = contrib & (self.asker[rows] >= 0) & (self.asker[rows] != author)
        pairs = np.unique(self.asker[rows][helped].astype(np.int64) * p + author[helped])
        last = np.full(p, np.nan)
        if len(rows):
            rev = author[::-1]
            uniq, first = np.unique(rev, return_index=True)
            last[uniq] = self.time[rows][::-1][first]
        lengths = self.doc_len[rows] if self.doc_len is not None else np.ones(len(rows))
        return {
            "answers": count(is_answer),
            "others": count(contrib & ~is_answer),
            "questions": count(role == QUESTION),
            "accepted": count(good),
            "thanked": count(is_answer & self.thanked[rows]),
            "pos_score": count(contrib, pos),
            "askers": np.bincount(pairs % p, minlength=p).astype(np.float64),
            "decayed": count(contrib, decay),
            "last_seen": last,
            "answer_len": count(is_answer, lengths),
        }

    def help_edges(self, filters: Filters) -> tuple[I64, I64]:
        """(asker, answerer) index pairs of answers and comments in public spaces allowed by ``filters``."""
        mask = self.allowed(filters) & np.isin(self.role, (ANSWER, COMMENT))
        mask &= (self.author >= 0) & (self.asker >= 0) & (self.author != self.asker)
        if self.public:
            mask &= np.isin(self.space, np.fromiter(self.public, np.int64, len(self.public)))
        else:
            mask[:] = False
        return self.asker[mask].astype(np.int64), self.author[mask].astype(np.int64)


@dataclass
class _PublicRun:
    """Running aggregates of the public rows before ``until`` (rows ``[0, end)`` of the table read so far) and
    the (asker, helper) pairs seen, for distinct askers."""

    half_life: float
    until: float
    end: int
    totals: dict[str, F64]
    pairs: set[int]


def _combine(a: dict[str, F64], b: dict[str, F64]) -> dict[str, F64]:
    return {k: (np.fmax(a[k], b[k]) if k == "last_seen" else a[k] + b[k]) for k in a}
