"""Building the expertise model from the store: evidence, message index, fitted half-life and learned weights.

Steps: stream the store thread by thread (:mod:`whoknows.expertise.rows`), derive evidence per thread
(:mod:`whoknows.expertise.evidence`), index the messages, fit the half-life on who contributes next
(:mod:`whoknows.expertise.recency`), then turn past questions into training groups, each with its features
computed *as of* the moment it was asked and under its asker's permissions, and fit the ranker on them
(:mod:`whoknows.expertise.learn`). The same procedure runs on any organisation; nothing is tuned per dataset.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from whoknows.expertise import rows as store_rows
from whoknows.expertise.bundle import FORMAT, ExpertiseModel
from whoknows.expertise.evidence import ANSWER, CONTRIBUTION_ROLES, FOLLOWUP, QUESTION, ROLES, Evidence, evidence_batch
from whoknows.expertise.features import FeatureExtractor
from whoknows.expertise.learn import Group, LinearModel, fit_time_ordered, save_groups, write_model
from whoknows.expertise.recency import DAY, fit_half_life
from whoknows.expertise.table import EvidenceTable
from whoknows.index import Doc, Filters, SearchIndex
from whoknows.store import Store

ProgressFn = Callable[[str, int], None]
#: Past questions used for training (spread evenly over time); enough for ~20 weights, bounded build time.
MAX_TRAIN = 400
#: Share of the oldest questions only used as history behind training questions.
WARMUP = 0.2
#: A source type gets its own voting weight when it holds at least this share of answers.
MIN_SOURCE_SHARE = 0.05


@dataclasses.dataclass
class _Thread:
    root: int
    asker: int | None
    time: float
    grades: dict[int, int]


def _derive(
    store: Store, until: datetime | None, evidence: list[Evidence], progress: ProgressFn | None
) -> Iterator[Doc]:
    """Docs to index, while collecting the (text-less) evidence of every message into ``evidence``."""
    done = 0
    for batch in store_rows.iter_threads(store, until=until):
        for e in evidence_batch(batch):
            evidence.append(dataclasses.replace(e, text=""))
            if e.author_id is not None and e.role != FOLLOWUP and e.text.strip():
                yield Doc(e.message_id, e.text, e.space_id, ROLES[e.role], e.time)
        done += sum(len(r) for r in batch)
        if progress:
            progress("evidence", done)


def _training_threads(evidence: list[Evidence]) -> list[_Thread]:
    by_thread: dict[int, _Thread] = {}
    for e in evidence:
        if e.role == QUESTION:
            by_thread[e.thread_id] = _Thread(e.message_id, e.author_id, e.time, {})
    for e in evidence:
        th = by_thread.get(e.thread_id)
        if th is None or e.role != ANSWER or e.author_id is None or e.author_id == th.asker:
            continue
        grade = 2 if (e.accepted or e.thanked) else 1
        th.grades[e.author_id] = max(th.grades.get(e.author_id, 0), grade)
    return sorted((t for t in by_thread.values() if t.grades), key=lambda t: t.time)


def training_groups(
    store: Store, extractor: FeatureExtractor, threads: list[_Thread], *, max_train: int = MAX_TRAIN
) -> list[Group]:
    """One group per sampled past question, features as of its time and under its asker's permissions."""
    usable = threads[int(len(threads) * WARMUP) :]
    if len(usable) > max_train:
        pick = np.linspace(0, len(usable) - 1, max_train).round().astype(int)
        usable = [usable[i] for i in sorted(set(pick.tolist()))]
    texts = store_rows.message_texts(store, [t.root for t in usable])
    readable: dict[int | None, frozenset[int]] = {}
    table = extractor.table
    groups: list[Group] = []
    for th in usable:
        text = texts.get(th.root, ("",))[0]
        if not text.strip():
            continue
        if th.asker not in readable:
            readable[th.asker] = store.viewer(th.asker).spaces or frozenset()
        filters = Filters(spaces=readable[th.asker], until=th.time)
        qf = extractor.extract(text, filters, asker=table.person_index(th.asker))
        if not len(qf.cand):
            continue
        ids = table.person_ids[qf.cand]
        y = np.array([th.grades.get(int(pid), 0) for pid in ids], dtype=np.float64)
        if y.max() <= 0 or y.min() > 0:
            continue
        groups.append(Group(qf.x, y, th.time))
    return groups


def _source_kinds(table: EvidenceTable) -> list[str]:
    answers = table.skind[table.role == ANSWER]
    if not len(answers):
        return []
    shares = np.bincount(answers[answers >= 0], minlength=len(table.kind_names)) / len(answers)
    kinds = [table.kind_names[i] for i, s in enumerate(shares) if s >= MIN_SOURCE_SHARE]
    return kinds if len(kinds) >= 2 else []


def build_expertise(
    store: Store,
    path: str | Path,
    *,
    until: datetime | None = None,
    progress: ProgressFn | None = None,
    max_train: int = MAX_TRAIN,
) -> ExpertiseModel:
    """Build (or rebuild) the expertise model of ``store`` in the folder ``path``; returns it opened.

    ``until`` builds the model as of a date (only messages before it), for evaluation.
    """
    t0 = time.perf_counter()
    final = Path(path)
    tmp = final.with_name(final.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    fp = store_rows.fingerprint(store)
    space_kind = store_rows.space_kinds(store)
    public = store_rows.public_spaces(store)
    evidence: list[Evidence] = []
    index = SearchIndex.build(tmp / "index", _derive(store, until, evidence, progress), fingerprint=fp)
    table = EvidenceTable.from_evidence(evidence, space_kind, public)
    threads = _training_threads(evidence)
    del evidence
    people = store_rows.people(store)
    eligible = np.array(
        [(p := people.get(int(pid))) is not None and not p.opted_out and not p.is_bot for pid in table.person_ids],
        dtype=np.bool_,
    )
    contrib = np.isin(table.role, CONTRIBUTION_ROLES)
    half_life, likelihoods = fit_half_life(table.time[contrib], table.author[contrib].astype(np.int64))
    kinds = _source_kinds(table)
    extractor = FeatureExtractor(table, index, eligible, half_life, kinds)
    if progress:
        progress("training", 0)
    groups = training_groups(store, extractor, threads, max_train=max_train)
    model = fit_time_ordered(groups, extractor.names) if groups else _prior_model(extractor.names)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "database_id": store.database_id,
        "fingerprint": fp,
        "until": until.isoformat() if until else None,
        "half_life_days": None if math.isinf(half_life) else half_life / DAY,
        "half_life_log_likelihood": likelihoods,
        "source_kinds": kinds,
        "messages": len(table),
        "people": table.n_people,
        "training_questions": len(groups),
        "built_at": time.time(),
        "build_seconds": round(time.perf_counter() - t0, 2),
    }
    table.save(tmp)
    np.save(tmp / "eligible.npy", eligible)
    save_groups(tmp / "training.npz", groups, len(extractor.names))
    write_model(tmp / "model.json", model)
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    old = final.with_name(final.name + ".old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return ExpertiseModel.open(final, database_id=store.database_id)


def _prior_model(names: tuple[str, ...]) -> LinearModel:
    """Without any past question to learn from: rank by the evidence itself (voting and profile)."""
    w = np.array([1.0 if n in ("vote_sum", "profile") else 0.0 for n in names])
    return LinearModel(names, np.zeros(len(names)), np.ones(len(names)), w, 1.0, {"prior": True})
