"""Retrieval of accepted answers from memory, on the Stack Exchange dumps in ../shared/data.

    python bench/bench_answer_retrieval.py [SITE_DIR ...] [--json] [--keep DIR]

Each site is imported into a temporary SQLite store (the real importer), ``rebuild_memory`` extracts the Q&A
pairs, and the memory index is built the way the product builds it (one document per pair: question text + best
solution; BM25 plus a static embedder trained on the site's own text). Every query is run with BM25 only, vectors
only and the hybrid default (``index.search(q, k, filters, mode=...)``), and through the product's
``MemorySearch.ask`` (its ``solutions`` list: retrieval, then the solution-confidence reordering and duplicate
folding), side by side. Results are compared at the level of *threads*: several pairs of one thread count once.

(a) **Duplicates.** Questions closed as duplicates (PostLinks LinkTypeId 3, ``thread.meta["duplicate_of"]``)
    whose target has an accepted answer. Query = the duplicate's title + body; the duplicate's own thread is
    removed from the results. Relevant = the target's thread. Recall@1/5/10 and MRR (over the top 100).

(b) **Temporal known-item, answer only.** Questions with an accepted answer are sorted by creation date; the
    last 20% are held out. A second index is built in which every held-out thread is represented by ONE document
    holding only its accepted answer's text (the question title, body, comments and other answers are removed,
    and they are not in the embedder's training text either); every other thread keeps its normal pair
    documents. Query = the held-out question's title (and, as a second run, title + body). Relevant = the
    held-out thread, i.e. its accepted answer. The query's own words cannot match its own question text, so
    this measures what memory is for: finding the *answer* to a newly asked question, across the vocabulary gap
    between how people ask and how experts answer, among ~1,000 full question+answer documents that share the
    question's vocabulary (those distractors are favoured: they contain question-like text, the target does
    not). As a contrast, the same title queries are also run on the normal index (question text indexed): that
    known-item lookup is nearly trivial, which is why it is not the benchmark.

Held-out threads are also where the sites are newest, so the embedder and the idf statistics see their answers
but never their questions: no label or question text leaks into the index.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select

from whoknows.importers import reader_for
from whoknows.index import Doc, SearchIndex, SearchIndexError
from whoknows.index.contract import NO_FILTER
from whoknows.index.embedders import train_static
from whoknows.index.search_index import Mode
from whoknows.ingest import ingest
from whoknows.memory import rebuild_memory
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import SOLUTION_CHARS, build_memory_index, pair_docs, store_fingerprint
from whoknows.store import Store, open_store, schema

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "stackexchange"
DEFAULT_SITES = (DATA / "ai.stackexchange.com", DATA / "beer.stackexchange.com")
DEPTH = 100  # ranks beyond this count as not found (MRR 0)
HOLDOUT = 0.2
MODES: tuple[Mode, ...] = ("lexical", "vector", "hybrid")
RUNS = (*MODES, "ask")
CUTS = (1, 5, 10)

#: (query text, relevant thread id, thread id to exclude from the results or None)
Query = tuple[str, int, int | None]


@dataclass
class Site:
    name: str
    store: Store
    workdir: Path
    thread_of_pair: dict[int, int] = field(default_factory=dict)  # question message id -> thread id
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)  # thread id -> row facts
    by_post: dict[str, int] = field(default_factory=dict)  # Stack Exchange post id -> thread id


def load_site(path: Path, workdir: Path) -> Site:
    name = path.name.split(".")[0]
    for old in workdir.glob(f"{name}.db*"):  # always a fresh import (a kept folder may hold an old run)
        old.unlink()
    store = open_store(workdir / f"{name}.db")
    reader = reader_for("stackexchange", path)
    ingest(store, reader.kind, reader.source, reader.batches())
    rebuild_memory(store)
    site = Site(name, store, workdir)
    t, m, qp = schema.threads, schema.messages, schema.qa_pairs
    with store.read() as conn:
        for tid, ext, title, created, meta in conn.execute(
            select(t.c.id, t.c.external_id, t.c.title, t.c.created_at, t.c.meta)
        ):
            site.threads[int(tid)] = {
                "title": title or "",
                "created": created.replace(tzinfo=created.tzinfo or UTC) if created else None,
                "duplicate_of": list((meta or {}).get("duplicate_of", [])),
                "question": None,
                "accepted": None,
            }
            site.by_post[str(ext)] = int(tid)
        for tid, ext, kind, text, accepted in conn.execute(
            select(m.c.thread_id, m.c.external_id, m.c.kind, m.c.text, m.c.accepted)
        ):
            row = site.threads[int(tid)]
            if kind == "question" and site.by_post.get(str(ext)) == int(tid):
                row["question"] = text
            elif kind == "answer" and accepted:
                row["accepted"] = text
        site.thread_of_pair = {int(q): int(th) for q, th in conn.execute(select(qp.c.question_id, qp.c.thread_id))}
    return site


# -- query sets -------------------------------------------------------------------------------------------------
def duplicate_queries(site: Site) -> tuple[list[Query], dict[str, int]]:
    queries: list[Query] = []
    info = {"duplicate_links": 0, "target_without_accepted": 0, "target_not_indexed": 0}
    indexed = set(site.thread_of_pair.values())
    for tid, row in site.threads.items():
        for post in row["duplicate_of"]:
            info["duplicate_links"] += 1
            target = site.by_post.get(str(post))
            if target is None or site.threads[target]["accepted"] is None or not row["question"]:
                info["target_without_accepted"] += 1
                continue
            info["target_not_indexed"] += target not in indexed
            queries.append((row["question"], target, tid))
    return queries, info


def heldout_threads(site: Site) -> list[int]:
    answered = [t for t, r in site.threads.items() if r["accepted"] and r["question"] and r["created"]]
    answered.sort(key=lambda t: (site.threads[t]["created"], t))
    return answered[len(answered) - math.ceil(HOLDOUT * len(answered)) :]


def known_item_queries(site: Site, held: Sequence[int], *, body: bool) -> list[Query]:
    out: list[Query] = []
    for tid in held:
        row = site.threads[tid]
        out.append((row["question"] if body else row["title"], tid, None))
    return out


# -- indexes ----------------------------------------------------------------------------------------------------
def product_index(site: Site) -> Path:
    path = site.workdir / f"{site.name}-index"
    build_memory_index(site.store, path, vectors=True)  # force vectors: the bench compares all modes
    return path


def answer_only_docs(site: Site, held: Sequence[int]) -> list[Doc]:
    """Held-out threads: one document with only the accepted answer; other threads: the product's documents."""
    held_set = set(held)
    primary: dict[int, int] = {}  # held-out thread -> its question's pair id (the doc id ask resolves)
    for qid, tid in sorted(site.thread_of_pair.items()):
        if tid in held_set:
            primary.setdefault(tid, qid)
    with site.store.read() as conn:
        docs = [d for d in pair_docs(conn) if site.thread_of_pair[d.id] not in held_set]
        space = docs[0].space_id
    for tid in held:
        row = site.threads[tid]
        if tid not in primary:  # no pair extracted: give it a synthetic id no pair uses
            primary[tid] = -tid
            site.thread_of_pair[-tid] = tid
        docs.append(Doc(primary[tid], row["accepted"][:SOLUTION_CHARS], space, "solved", row["created"].timestamp()))
    return docs


def answer_only_index(site: Site, held: Sequence[int]) -> Path:
    """The answer-only documents indexed the way the product indexes memory (BM25 + a static embedder)."""
    path = site.workdir / f"{site.name}-answer-only"
    docs = answer_only_docs(site, held)
    try:
        embedder = train_static([d.text for d in docs])
    except SearchIndexError:
        embedder = None
    SearchIndex.build(
        path, docs, embedder, fingerprint=store_fingerprint(site.store), database_id=site.store.database_id
    )
    return path


# -- running ----------------------------------------------------------------------------------------------------
def thread_rank(ids: Iterable[list[int]], site: Site, relevant: int, exclude: int | None) -> int | None:
    """1-based rank of the relevant thread among distinct threads, ``exclude`` skipped (a hit's doc ids: the
    pair and the near-duplicates ask(, .viewer(None)) folded into it)."""
    seen: set[int] = set()
    for group in ids:
        if relevant in {site.thread_of_pair.get(d) for d in group}:
            return len(seen) + 1
        head = site.thread_of_pair.get(group[0])
        if head is not None and head != exclude:
            seen.add(head)
    return None


def run_queries(site: Site, path: Path, queries: list[Query]) -> dict[str, list[int | None]]:
    index = SearchIndex.open(path)
    memory = MemorySearch(site.store, path)
    out: dict[str, list[int | None]] = {r: [] for r in RUNS}
    for text, relevant, exclude in queries:
        for mode in MODES:
            if mode != "lexical" and index.vector is None:
                out[mode].append(None)
                continue
            hits = index.search(text, DEPTH, NO_FILTER, mode=mode).hits
            out[mode].append(thread_rank(([h.doc_id] for h in hits), site, relevant, exclude))
        res = memory.ask(text, memory.store.viewer(None), k=10 + (exclude is not None))
        groups = ([h.question_id, *h.duplicates] for h in res.solutions)
        rank = thread_rank(groups, site, relevant, exclude)
        out["ask"].append(rank if rank is not None and rank <= 10 else None)
    return out


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    if not n:
        return {"n": 0}
    found = [r for r in ranks if r is not None]
    out: dict[str, float] = {"n": n}
    for c in CUTS:
        out[f"r@{c}"] = round(sum(r <= c for r in found) / n, 4)
    out["mrr"] = round(sum(1 / r for r in found) / n, 4)
    return out


def evaluate_site(site: Site) -> dict[str, Any]:
    report: dict[str, Any] = {}
    normal = product_index(site)
    dups, info = duplicate_queries(site)
    report["duplicates"] = {"info": info, "ranks": run_queries(site, normal, dups)}
    held = heldout_threads(site)
    answer_only = answer_only_index(site, held)
    info_b = {"answered": len([r for r in site.threads.values() if r["accepted"]]), "held_out": len(held)}
    for key, body, path in (
        ("known_item_title", False, answer_only),
        ("known_item_title_body", True, answer_only),
        ("contrast_title_question_indexed", False, normal),
    ):
        report[key] = {"info": info_b, "ranks": run_queries(site, path, known_item_queries(site, held, body=body))}
    return report


TASKS = {
    "duplicates": "(a) duplicate -> target thread (own thread excluded)",
    "known_item_title": "(b) held-out title -> its accepted answer (answer-only doc)",
    "known_item_title_body": "(b') held-out title+body -> its accepted answer (answer-only doc)",
    "contrast_title_question_indexed": "contrast: title -> own thread, question text indexed (trivial)",
}


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = []
    for task, label in TASKS.items():
        lines.append(f"\n{label}")
        lines.append(f"  {'site':6s} {'run':8s} {'n':>4s} {'R@1':>7s} {'R@5':>7s} {'R@10':>7s} {'MRR':>7s}")
        for site, rep in results.items():
            for run in RUNS:
                m = rep[task]["metrics"][run]
                if not m.get("n"):
                    continue
                lines.append(
                    f"  {site:6s} {run:8s} {int(m['n']):4d} {m['r@1']:7.3f} {m['r@5']:7.3f} {m['r@10']:7.3f} "
                    f"{m['mrr']:7.3f}"
                )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sites", nargs="*", type=Path, default=list(DEFAULT_SITES))
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("--keep", type=Path, help="work in this folder (databases, indexes) and keep it")
    args = ap.parse_args(argv)
    missing = [p for p in args.sites if not (p / "Posts.xml").exists()]
    if missing:
        print(f"no Stack Exchange dump at {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="wk-answer-retrieval-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results: dict[str, dict[str, Any]] = {}
        pooled: dict[str, dict[str, list[int | None]]] = {t: {r: [] for r in RUNS} for t in TASKS}
        for path in args.sites:
            site = load_site(path, work)
            rep = evaluate_site(site)
            site.store.engine.dispose()
            for task in TASKS:
                for run in RUNS:
                    pooled[task][run] += rep[task]["ranks"][run]
                rep[task]["metrics"] = {run: metrics(rep[task]["ranks"][run]) for run in RUNS}
            results[site.name] = rep
            if not args.json:
                info = {t: rep[t]["info"] for t in ("duplicates", "known_item_title")}
                print(f"{site.name}: {len(site.threads)} threads, {len(site.thread_of_pair)} pairs; {info}")
        if len(results) > 1:
            results["all"] = {t: {"info": {}, "metrics": {r: metrics(pooled[t][r]) for r in RUNS}} for t in TASKS}
    if args.json:
        print(json.dumps({s: {t: {k: v for k, v in r.items()} for t, r in rep.items()} for s, rep in results.items()}))
    else:
        print(table(results))
        print(
            f"\nranks over distinct threads; not in the top {DEPTH} = miss; 'ask' = MemorySearch.ask solutions (k=10)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
