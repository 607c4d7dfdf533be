"""The search index over the corporate memory: one document per extracted question (with its best solution).

The index is derived from the ``qa_pairs`` rows and can be rebuilt from them at any time
(:func:`build_memory_index`); an import keeps it current with :func:`sync_threads`. Its manifest records a
fingerprint of the store (:func:`store_fingerprint`), so a reader can tell when it is older than the store, and the
id of its database, so that it is never opened for another (:func:`open_memory_index`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from whoknows.index import Doc, SearchIndex, SearchIndexError
from whoknows.index.embedders import Embedder
from whoknows.index.embedders.base import PACKAGED_KINDS, packaged_embedder
from whoknows.index.embedders.static import train_static
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks

#: Characters of a solution's message text that go into the indexed document.
SOLUTION_CHARS = 2_000
#: Documents sampled to train the static embedder (it learns from the organisation's own text).
TRAIN_SAMPLE = 200_000
#: Below this many Q&A documents the index is lexical only. Word vectors learnt from little text hurt more than
#: they help: on the Stack Exchange sites (~1,200 documents each) every vector weight > 0 lowered MRR of finding the
#: accepted answer (bench/bench_answer_retrieval.py), while on SemEval (~13,000 texts) and the demo org (~6,000)
#: the hybrid beats BM25 (bench/bench_semeval.py).
MIN_VECTOR_DOCS = 5_000
PAGE = 5_000


def index_path(data_dir: Path) -> Path:
    """The memory index in a database's derived folder (:func:`whoknows.derive.derived_dir`)."""
    return data_dir / "index" / "memory"


def open_memory_index(store: Store, path: Path) -> SearchIndex:
    """The memory index at ``path``, refused (``index.wrong_database``) when another database's: every reader
    and writer of the memory index opens it here."""
    return SearchIndex.open(path, database_id=store.database_id)


def store_fingerprint(store: Store) -> dict[str, Any]:
    """What the memory index must agree with: the Q&A pairs and the newest message it has seen."""
    qp, m = schema.qa_pairs, schema.messages
    with store.read() as conn:
        pairs, max_q = conn.execute(select(func.count(), func.max(qp.c.question_id))).one()
        max_m = conn.execute(select(func.max(m.c.id))).scalar()
    return {"pairs": int(pairs or 0), "max_question_id": int(max_q or 0), "max_message_id": int(max_m or 0)}


def pair_docs(conn: Connection, question_ids: Sequence[int] | None = None) -> Iterator[Doc]:
    """Index documents for the given pairs (all pairs when None): question text + best solution text."""
    qp, qs, m = schema.qa_pairs, schema.qa_solutions, schema.messages
    best = select(qs.c.question_id, m.c.text).join(m, m.c.id == qs.c.message_id).where(qs.c.rank == 1).subquery()
    base = select(qp.c.question_id, qp.c.question_text, qp.c.space_id, qp.c.created_at, best.c.text).outerjoin(
        best, best.c.question_id == qp.c.question_id
    )
    if question_ids is not None:
        queries = [base.where(qp.c.question_id.in_(c)) for c in in_chunks(sorted(question_ids))]
    else:
        queries = [base.order_by(qp.c.question_id)]
    for query in queries:
        for qid, question, space_id, created, solution in conn.execute(query):
            text = question if not solution else f"{question}\n{solution[:SOLUTION_CHARS]}"
            when = created.replace(tzinfo=created.tzinfo or UTC).timestamp() if created else None
            yield Doc(int(qid), text, int(space_id), "solved" if solution else "open", when)


#: What ``whoknows reindex --embedder`` accepts. ``auto``: the corpus-trained PPMI-SVD vectors when memory is large
#: enough (:data:`MIN_VECTOR_DOCS`), else lexical only; ``none``: lexical only; the others name a packaged model
#: (:mod:`whoknows.index.embedders`), which needs its package installed.
EMBEDDER_CHOICES = ("auto", "ppmi-svd", *PACKAGED_KINDS, "none")
CHOICE_FILE = "embedder-choice.json"


def embedder_choice(path: Path) -> str:
    """The choice the memory index at ``path`` was last built with (``auto`` when never chosen)."""
    try:
        choice = json.loads((path.parent / CHOICE_FILE).read_text(encoding="utf-8")).get("embedder", "auto")
    except (OSError, ValueError, AttributeError):
        return "auto"
    return choice if choice in EMBEDDER_CHOICES else "auto"


def build_memory_index(
    store: Store,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    vectors: bool | None = None,
    embedder: str | None = None,
) -> SearchIndex:
    """(Re)build the memory index at ``path`` from the store: BM25 plus vectors.

    ``embedder`` is one of :data:`EMBEDDER_CHOICES`; None keeps the choice the index was last built with.
    ``vectors=None`` lets the choice decide; True/False force vectors on (a PPMI-SVD model under ``auto``) or off
    (benchmarks compare both).

    A corpus-trained embedder learns only from text in public spaces, which everyone may read: a word used only
    in private spaces gets no vector, so what a question finds by meaning cannot reveal what private spaces say.
    Packaged models learnt nothing from the organisation at all."""
    choice = embedder or embedder_choice(path)
    if choice not in EMBEDDER_CHOICES:
        raise SearchIndexError(f"unknown embedder {choice!r}; choose one of {', '.join(EMBEDDER_CHOICES)}")
    fingerprint = store_fingerprint(store)
    model: Embedder | None = None
    if vectors is None:
        vectors = choice != "none" and (choice != "auto" or fingerprint["pairs"] >= MIN_VECTOR_DOCS)
    if vectors and fingerprint["pairs"] and choice in PACKAGED_KINDS:
        model = packaged_embedder(choice)
    elif vectors and fingerprint["pairs"]:
        model = _train_public(store)
    with store.read() as conn:
        index = SearchIndex.build(
            path,
            pair_docs(conn),
            model,
            fingerprint=fingerprint,
            progress=progress,
            database_id=store.database_id,
        )
    if embedder is not None:
        (path.parent / CHOICE_FILE).write_text(json.dumps({"embedder": choice}), encoding="utf-8")
    return index


def _train_public(store: Store) -> Embedder | None:
    """PPMI-SVD vectors trained on a sample of the public spaces' Q&A text (None when there is too little)."""
    public = store.viewer(None).spaces or frozenset()
    with store.read() as conn:
        qp = schema.qa_pairs
        n_public = sum(
            int(conn.execute(select(func.count()).where(qp.c.space_id.in_(part))).scalar() or 0)
            for part in in_chunks(sorted(public))
        )
        step = max(1, n_public // TRAIN_SAMPLE)
        texts = (d.text for d in pair_docs(conn) if d.space_id in public)
        sample = [t for i, t in enumerate(texts) if i % step == 0]
    try:
        return train_static(sample)
    except SearchIndexError as exc:
        if exc.code != "index.corpus_too_small":
            raise
    return None


def sync_threads(
    store: Store, index: SearchIndex, thread_ids: Sequence[int], previous: Sequence[int]
) -> dict[str, int]:
    """Bring the index in line with the pairs of ``thread_ids`` after they were re-extracted.

    ``previous`` are the question ids those threads had before (see :func:`question_ids_of`); pairs that no
    longer exist are deleted from the index (their text leaves the index files), the current ones are added
    or replaced.
    """
    with store.read() as conn:
        current = question_ids_of(conn, thread_ids)
        docs = list(pair_docs(conn, current)) if current else []
    gone = sorted(set(previous) - set(current))
    fingerprint = store_fingerprint(store)
    deleted = index.delete(gone, fingerprint=fingerprint) if gone else 0
    added = index.add(docs, fingerprint=fingerprint) if docs else 0
    if not gone and not docs:
        index.add([], fingerprint=fingerprint)
    return {"added": added, "deleted": deleted}


def question_ids_of(conn: Connection, thread_ids: Sequence[int]) -> list[int]:
    qp = schema.qa_pairs
    out: list[int] = []
    for part in in_chunks(sorted(set(thread_ids))):
        out += [int(q) for q in conn.execute(select(qp.c.question_id).where(qp.c.thread_id.in_(part))).scalars()]
    return out


def threads_of_import(conn: Connection, import_id: int) -> list[int]:
    """Threads an import created or changed (its own threads and threads that got messages from it)."""
    t, m = schema.threads, schema.messages
    ids = set(conn.execute(select(t.c.id).where(t.c.import_id == import_id)).scalars())
    ids |= set(conn.execute(select(m.c.thread_id).where(m.c.import_id == import_id).distinct()).scalars())
    return sorted(int(i) for i in ids)
