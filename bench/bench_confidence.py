"""Does memory know when it has no answer? The calibrated confidence of ``ask``, fitted and judged leave-one-source-out.

    python bench/bench_confidence.py [--semeval DIR] [--stackexchange SITE_DIR ...] [--no-demo] [--json]

Sources (each becomes a temporary SQLite store, put through the real importer or loader, ``rebuild_memory`` and
the product's memory index, then asked through ``MemorySearch.ask``):

* **SemEval-2016 Task 3, one source per file** (train part 1, train part 2, dev): every related thread of the
  file is a thread of one public Q&A space (question, then its comments). An original question is *answerable*
  when one of its related comments is labelled Good; a shown solution is correct when it is a Good comment for it.
* **Stack Exchange sites**: questions closed as duplicates of a question with an accepted answer are asked (their
  own threads are removed from the store first); the shown solution is correct when it comes from the target's
  thread. As many questions of *another* site are asked as unanswerable (off-domain).
* **Demo organisation**: catalog questions re-phrased (answerable; correct = a thread of the same planted topic)
  and questions about things the organisation never discussed, written for this benchmark without looking at the
  results (unanswerable).

For every question the five shown solutions are recorded with their features (:mod:`whoknows.memory.confidence`).
A sign-constrained logistic model is fitted on all sources but one and judged on that one, for each source in
turn; the table prints each source (worst AUC first) with today's confidence (coverage x extractor confidence,
the shown order of retrieval) side by side: AUC (is the shown answer correct?), expected calibration error (10
bins), and the "I don't know" figures at the "answers your question" threshold: share of answerable questions
answered confidently, share of unanswerable ones answered confidently, precision@1 of the confident answers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask_latency import topic_question_and_key
from semeval_data import Original, load
from whoknows.access import Viewer
from whoknows.index.analyzer import analyze, analyze_query
from whoknows.index.embedders import Embedder
from whoknows.index.embedders.base import PACKAGED_KINDS, packaged_embedder
from whoknows.ingest import ingest
from whoknows.memory import rebuild_memory
from whoknows.memory.ask import MemoryHit, MemorySearch
from whoknows.memory.confidence import ANSWERS, FEATURES, ConfidenceModel, similarities
from whoknows.memory.memory_index import build_memory_index
from whoknows.model import Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.store import Store, open_store, schema

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SEMEVAL = DATA / "semeval2016-task3"
SITES = (DATA / "stackexchange" / "ai.stackexchange.com", DATA / "stackexchange" / "beer.stackexchange.com")
WEIGHTS_FILE = ROOT / "src" / "whoknows" / "memory" / "confidence_weights.py"
K = 5

#: Questions about things the demo organisation never discusses (written before looking at any result).
DEMO_UNANSWERABLE = [
    "What is our parental leave policy?",
    "How many vacation days do new hires get?",
    "Where do I submit my travel expense receipts?",
    "Is there a company gym discount?",
    "Who organises the summer party this year?",
    "How do I book a meeting room in the Berlin office?",
    "What is the wifi password for guests?",
    "Can I bring my dog to the office?",
    "How do I change my pension contribution?",
    "When is the next all-hands meeting?",
    "What is the dress code for client dinners?",
    "Do we reimburse home office furniture?",
    "How do I get a new laptop charger?",
    "Which airline do we use for business travel?",
    "Is there a referral bonus for hiring engineers?",
    "How do I register my bike for the parking garage?",
    "What is the sourdough starter recipe from the kitchen?",
    "Who won the chess tournament last month?",
    "How do I request a standing desk?",
    "What time does the cafeteria close on Fridays?",
    "Can I work from another country for a month?",
    "How do I set up my payroll direct deposit?",
    "Where can I find the company holiday calendar?",
    "What is the process for reporting a workplace injury?",
    "How do I join the company choir?",
    "Does the health insurance cover dental implants?",
    "How do I nominate a colleague for employee of the month?",
    "What is the budget for team offsites?",
    "Is there a mentoring program for new managers?",
    "How do I get a parking permit for visitors?",
]


@dataclass
class Query:
    text: str
    answerable: bool
    correct: Callable[[MemoryHit], bool]
    reader: str | None = None  # the person (external id) who asks; None: the system viewer


@dataclass
class Source:
    name: str
    store: Store
    queries: list[Query]
    search: MemorySearch | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per question: its shown hits


# -- sources ----------------------------------------------------------------------------------------------------
def semeval_source(path: Path, tmp: Path) -> Source:
    data = load(path)
    src = f"semeval:{path.stem}"
    t0 = datetime(2015, 1, 1, tzinfo=UTC)
    batch = Batch()
    good: dict[str, set[str]] = {}
    users: set[str] = set()
    n = 0
    for o in data:
        # Each original question is asked by a reader of its own space holding its ten related threads, as in
        # the task: every comment such a reader can be shown is labelled for that question.
        space, reader = f"ql-{o.id}", f"reader-{o.id}"
        batch.spaces.append(Space(src, space, SpaceKind.QA_SITE, space, Visibility.PRIVATE, member_refs=[reader]))
        users.add(reader)
        good[o.id] = {c.id for r in o.related for c in r.comments if c.label == "Good"}
        for r in o.related:
            n += 1
            at = t0 + timedelta(hours=n)
            batch.threads.append(Thread(src, r.id, space, r.text[:200], at))
            users |= {r.user} | {c.user for c in r.comments}
            batch.messages.append(
                Message(src, f"{r.id}/q", r.id, r.user or None, at, r.text, kind=MessageKind.QUESTION)
            )
            for i, c in enumerate(r.comments):
                when = at + timedelta(minutes=i + 1)
                batch.messages.append(Message(src, c.id, r.id, c.user or None, when, c.text, reply_to_ref=f"{r.id}/q"))
    batch.people = [Person(src, u, u) for u in sorted(users - {""})]
    store = open_store(str(tmp / f"{path.stem}.db"))
    ingest(store, "semeval", src, [batch])
    ext = _external_ids(store)

    def correct_for(o: Original) -> Callable[[MemoryHit], bool]:
        return lambda h: ext.get(h.solution_id or -1) in good[o.id]

    queries = [Query(o.text, bool(good[o.id]), correct_for(o), f"reader-{o.id}") for o in data]
    return Source(f"semeval {path.stem.split('CQA-QL-')[-1]}", store, queries)


def stackexchange_source(site: Path, other: Path | None, tmp: Path, rng: random.Random) -> Source:
    from whoknows.importers import reader_for

    store = open_store(str(tmp / f"{site.name}.db"))
    reader = reader_for("stackexchange", site)
    ingest(store, reader.kind, reader.source, reader.batches())
    t, m = schema.threads, schema.messages
    with store.read() as conn:
        threads = {r.id: (r.external_id, r.meta or {}) for r in conn.execute(select(t.c.id, t.c.external_id, t.c.meta))}
        by_ext = {ext: tid for tid, (ext, _) in threads.items()}
        accepted = set(conn.execute(select(m.c.thread_id).where(m.c.accepted.is_(True))).scalars())
        texts = _thread_texts(conn)
    dups: list[tuple[int, int]] = []
    for tid, (_, meta) in threads.items():
        target = meta.get("duplicate_of")
        targets = target if isinstance(target, list) else [target]
        for x in targets:
            if x is not None and by_ext.get(str(x)) in accepted:
                dups.append((tid, int(by_ext[str(x)])))
                break
    with store.write() as conn:  # the asked questions leave memory: it must find the target, not themselves
        for tid, _ in dups:
            conn.execute(delete(t).where(t.c.id == tid))
    queries = [Query(texts[tid], True, _in_thread(target)) for tid, target in dups]
    if other is not None:
        others = _other_site_questions(other, tmp)
        for text in rng.sample(others, min(len(others), max(len(dups), 40))):
            queries.append(Query(text, False, lambda _h: False))
    return Source(f"{site.name.split('.')[0]} (dups + other site)", store, queries)


def demo_source(tmp: Path, rng: random.Random) -> Source:
    from whoknows.demo import DemoConfig, load_demo

    store = open_store(str(tmp / "demo.db"))
    result = load_demo(store, DemoConfig(messages=8000, people=120, seed=5), truth_path=tmp / "truth.json")
    truth = json.loads(Path(result.truth_path).read_text())
    topic_of = {th: info["topic"] for th, info in truth["threads"].items()}
    ext = _thread_external_ids(store)
    queries: list[Query] = []
    for _ in range(120):
        text, topic = topic_question_and_key(rng)
        queries.append(Query(text, True, lambda h, t=topic: topic_of.get(ext.get(h.question_id, "")) == t))
    queries += [Query(q, False, lambda _h: False) for q in DEMO_UNANSWERABLE]
    return Source("demo org", store, queries)


def _in_thread(thread_id: int) -> Callable[[MemoryHit], bool]:
    return lambda h: h.thread_id == thread_id  # type: ignore[attr-defined]


def _external_ids(store: Store) -> dict[int, str]:
    m = schema.messages
    with store.read() as conn:
        return {int(i): str(e) for i, e in conn.execute(select(m.c.id, m.c.external_id))}


def _thread_external_ids(store: Store) -> dict[int, str]:
    """question message id -> its thread's external id."""
    m, t = schema.messages, schema.threads
    with store.read() as conn:
        rows = conn.execute(select(m.c.id, t.c.external_id).join(t, t.c.id == m.c.thread_id))
        return {int(i): str(e) for i, e in rows}


def _thread_texts(conn: Any) -> dict[int, str]:
    """thread id -> its question's text (title + body)."""
    m = schema.messages
    out: dict[int, str] = {}
    for tid, text in conn.execute(select(m.c.thread_id, m.c.text).where(m.c.kind == "question").order_by(m.c.id)):
        out.setdefault(int(tid), text)
    return out


def _other_site_questions(site: Path, tmp: Path) -> list[str]:
    from whoknows.importers import reader_for

    store = open_store(str(tmp / f"other-{site.name}.db"))
    reader = reader_for("stackexchange", site)
    ingest(store, reader.kind, reader.source, reader.batches())
    with store.read() as conn:
        texts = list(_thread_texts(conn).values())
    store.close()
    return sorted(texts)


# -- asking -----------------------------------------------------------------------------------------------------
def collect(source: Source, tmp: Path, sim_model: Embedder | None = None) -> None:
    """``sim_model``: a packaged model (``--sim``) for the ``sim`` feature instead of the index's own vectors
    (which small memories do not have). The five shown hits are embedded per question, the same cosine an index
    built with that model would hold."""
    rebuild_memory(source.store)
    path = tmp / f"{source.name.replace(' ', '_')}-index"
    build_memory_index(source.store, path)
    source.search = MemorySearch(source.store, path)
    thread_of = _thread_of_question(source.store)
    everyone = Viewer.system()
    readers = _person_ids(source.store)
    for q in source.queries:
        viewer = source.store.viewer(readers[q.reader]) if q.reader else everyone
        res = source.search.ask(q.text, viewer, k=K)
        vector = source.search.index.vector
        sims = similarities(
            sim_model or (vector.embedder if vector else None),
            q.text,
            [f"{h.question}\n{h.solution or ''}" for h in res.solutions],
        )
        hits = []
        for h, sim in zip(res.solutions, sims, strict=True):
            h.thread_id = thread_of.get(h.question_id)  # type: ignore[attr-defined]
            terms = set(analyze_query(q.text))
            found = set(analyze(h.question)) | set(analyze(h.solution or ""))
            coverage = len(terms & found) / len(terms) if terms else 0.0
            hits.append(
                {
                    "features": {**h.features, "sim": sim},
                    "correct": bool(q.correct(h)),
                    "today": coverage * (h.solution_confidence or 0.0),
                    "today_order": h.score * (0.5 + 0.5 * (h.solution_confidence or 0.0)),
                }
            )
        source.rows.append({"answerable": q.answerable, "hits": hits})


def _person_ids(store: Store) -> dict[str, int]:
    p = schema.people
    with store.read() as conn:
        return {str(e): int(i) for i, e in conn.execute(select(p.c.id, p.c.external_id))}


def _thread_of_question(store: Store) -> dict[int, int]:
    qp = schema.qa_pairs
    with store.read() as conn:
        return {int(q): int(t) for q, t in conn.execute(select(qp.c.question_id, qp.c.thread_id))}


# -- model and metrics ------------------------------------------------------------------------------------------
#: The sign each feature's weight must have (0: free): more coverage and a surer solution can only raise the
#: confidence, words memory never saw can only lower it. Unconstrained fits flipped signs between folds.
SIGNS = {"cov_idf": 1, "cov_q_idf": 1, "missing_idf": -1, "rarest": 1, "sim": 1, "solution": 1, "agree": 1, "margin": 0}


def fit(sources: list[Source], l2: float = 1.0) -> ConfidenceModel:
    """Sign-constrained logistic regression (projected Newton steps) over every shown hit of ``sources``, each
    source weighted equally."""
    xs, ys, ws = [], [], []
    for s in sources:
        hits = [h for r in s.rows for h in r["hits"]]
        for h in hits:
            xs.append([h["features"].get(f, 0.0) for f in FEATURES])
            ys.append(float(h["correct"]))
            ws.append(1.0 / max(1, len(hits)))
    x = np.hstack([np.ones((len(xs), 1)), np.asarray(xs)])
    y, w = np.asarray(ys), np.asarray(ws) * len(sources) * 100
    beta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    signs = np.asarray([0, *(SIGNS[f] for f in FEATURES)])
    for _ in range(200):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (w * (p - y)) + penalty * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        new = beta - np.linalg.solve(hess, grad)
        new[(signs > 0) & (new < 0)] = 0.0
        new[(signs < 0) & (new > 0)] = 0.0
        done = np.max(np.abs(new - beta)) < 1e-7
        beta = new
        if done:
            break
    names = ", ".join(s.name for s in sources)
    return ConfidenceModel(
        {f: round(float(b), 4) for f, b in zip(FEATURES, beta[1:], strict=True)}, round(float(beta[0]), 4), names
    )


def judge(rows: list[dict[str, Any]], score: Callable[[dict[str, Any]], float], order: str) -> dict[str, float]:
    """Per question the top hit by ``order`` ("model" or "today") and its confidence; the metrics."""
    conf, correct, answerable = [], [], []
    for r in rows:
        if not r["hits"]:
            conf.append(0.0)
            correct.append(False)
        else:
            key = (lambda h: score(h)) if order == "model" else (lambda h: h["today_order"])
            top = max(r["hits"], key=key)
            conf.append(score(top) if order == "model" else max(h["today"] for h in r["hits"]))
            correct.append(bool(top["correct"]))
        answerable.append(bool(r["answerable"]))
    c, ok, ans = np.asarray(conf), np.asarray(correct), np.asarray(answerable)
    sure = c >= ANSWERS
    return {
        "questions": float(len(rows)),
        "auc": round(_auc(c, ok), 3),
        "ece": round(_ece(c, ok), 3),
        "answerable_confident": round(float(sure[ans].mean()) if ans.any() else math.nan, 3),
        "unanswerable_confident": round(float(sure[~ans].mean()) if (~ans).any() else math.nan, 3),
        "p_at_1_confident": round(float(ok[sure].mean()) if sure.any() else math.nan, 3),
        "p_at_1": round(float(ok.mean()), 3),
    }


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return math.nan
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def _ece(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (scores >= lo) & ((scores < hi) if hi < 1 else (scores <= hi))
        if inside.any():
            total += inside.sum() / len(scores) * abs(scores[inside].mean() - labels[inside].mean())
    return float(total)


def sources_from(args: argparse.Namespace, tmp: Path) -> Iterator[Source]:
    rng = random.Random(args.seed)
    for f in sorted(Path(args.semeval).glob("*.xml")) if args.semeval else []:
        yield semeval_source(f, tmp)
    sites = [Path(s) for s in args.stackexchange]
    for i, site in enumerate(sites):
        yield stackexchange_source(site, sites[(i + 1) % len(sites)] if len(sites) > 1 else None, tmp, rng)
    if not args.no_demo:
        yield demo_source(tmp, rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--semeval", default=str(SEMEVAL), help="folder of SemEval-2016 Task 3 XML files ('' for none)")
    ap.add_argument("--stackexchange", nargs="*", default=[str(s) for s in SITES], help="Stack Exchange dump folders")
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--sim",
        default="",
        choices=["", *PACKAGED_KINDS],
        help="compute the sim feature with this packaged model (default: the index's vectors, if any)",
    )
    args = ap.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    sim_model = packaged_embedder(args.sim) if args.sim else None
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sources = []
        for s in sources_from(args, tmp):
            collect(s, tmp, sim_model)
            sources.append(s)
            print(f"collected {s.name}: {len(s.rows)} questions", file=sys.stderr)
        results = []
        for held in sources:
            model = fit([s for s in sources if s is not held])
            results.append(
                {
                    "source": held.name,
                    "model (fitted on the others)": judge(
                        held.rows, lambda h, m=model: m.probability(h["features"]), "model"
                    ),
                    "today": judge(held.rows, lambda h: h["today"], "today"),
                }
            )
        final = fit(sources)
    results.sort(
        key=lambda r: (
            r["model (fitted on the others)"]["auc"] if not math.isnan(r["model (fitted on the others)"]["auc"]) else -1
        )
    )
    out = {
        "results": results,
        "model": {"weights": final.weights, "intercept": final.intercept},
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    cols = ("questions", "auc", "ece", "answerable_confident", "unanswerable_confident", "p_at_1_confident", "p_at_1")
    print(f"{'source':<34} {'contender':<12} " + " ".join(f"{c[:12]:>12}" for c in cols))
    for r in results:
        for name in ("model (fitted on the others)", "today"):
            row = r[name]
            print(f"{r['source']:<34} {name[:12]:<12} " + " ".join(f"{row[c]:>12}" for c in cols))
    print(f"model on all sources: {final.weights} intercept {final.intercept}")
    print(f"{out['seconds']} s wall, {out['cpu_seconds']} s CPU")


if __name__ == "__main__":
    main()
