"""Approximate (IVF) against exact vector search: quality and speed, side by side in one run.

    python bench/bench_vector_ivf.py [SEMEVAL_DIR] [--index PATH] [--queries 500] [--json out.json]

1. **Quality on labelled data** (SemEval-2016 Task 3, default ``../shared/data/semeval2016-task3``): every
   related question and comment of both files goes into one index (no permission filter, so retrieval is over
   the whole corpus); each original question is a query, its Good comments and relevant questions the relevant
   documents. Vector-only and hybrid (the default fusion) runs are scored (MAP, nDCG@10, R@100) with exact
   vectors and with IVF lists trained on this corpus, plus the recall of the exact top 10/100 by IVF.
2. **Speed and recall at scale** (``--index PATH``, e.g. the memory index of the 1,000,000-message demo org at
   ``DATA_DIR/index/memory``): the bench_ask_latency question mix against the index's vector ranker, exact and
   IVF, unrestricted and with a typical reader's permission filter (the biggest spaces up to 80% of the
   documents, as public channels are, plus five small private ones): p50/p99
   milliseconds and recall of the exact top 10/100. Segments without IVF lists (built before they existed)
   get them trained in memory first; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ask_latency import make_queries
from semeval_data import RELEVANT_B, RELEVANT_C, load
from whoknows.index import Doc, Filters, SearchIndex, evaluate, format_table
from whoknows.index import ivf as ivf_files
from whoknows.index.compose import RRFFusion
from whoknows.index.contract import Ranker, Scored
from whoknows.index.embedders import train_static
from whoknows.index.vector import VectorRetriever

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "semeval2016-task3"


def ensure_ivf(ix: SearchIndex) -> int:
    """Train IVF lists in memory for segments that have vectors but none (whatever their size)."""
    trained = 0
    for seg in ix.segments:
        vecs = seg.vectors32()
        if seg.ivf is None and vecs is not None and len(seg) >= 256:
            seg.ivf = ivf_files.train(vecs)
            trained += 1
    return trained


def recall(exact: list[Scored], approx: list[Scored], k: int) -> float:
    want = {h.doc_id for h in exact[:k]}
    return len(want & {h.doc_id for h in approx[:k]}) / len(want) if want else 1.0


def semeval(data_dir: Path, tmp: Path) -> dict[str, Any]:
    originals = []
    for name in ("SemEval2016-Task3-CQA-QL-train-part2.xml", "SemEval2016-Task3-CQA-QL-dev.xml"):
        if not (data_dir / name).exists():
            sys.exit(f"{data_dir / name} is missing: pass the SemEval-2016 Task 3 folder as the first argument")
        originals += load(data_dir / name)
    ids: dict[str, int] = {}
    texts: dict[int, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for o in originals:
        rel = qrels.setdefault(o.id, {})
        for r in o.related:
            ids.setdefault(r.id, len(ids) + 1)
            texts[ids[r.id]] = r.text
            rel[r.id] = max(rel.get(r.id, 0), int(r.label in RELEVANT_B))
            for c in r.comments:
                ids.setdefault(c.id, len(ids) + 1)
                texts[ids[c.id]] = c.text
                rel[c.id] = max(rel.get(c.id, 0), int(c.label in RELEVANT_C))
    names = {v: k for k, v in ids.items()}
    embedder = train_static(list(texts.values()), dim=128)
    ix = SearchIndex.build(tmp / "semeval", (Doc(i, t, space_id=1) for i, t in texts.items()), embedder)
    ensure_ivf(ix)
    assert ix.vector is not None
    exact_vec = VectorRetriever(ix, embedder, exact=True)
    rankers: dict[str, Ranker] = {
        "vectors exact": exact_vec,
        "vectors IVF": ix.vector,
        "hybrid exact (default fusion)": RRFFusion([ix.lexical, exact_vec], list(ix.weights)),
        "hybrid IVF (default fusion)": ix.fused(),
    }
    queries = {o.id: o.text for o in originals}
    runs: dict[str, dict[str, list[str]]] = {}
    raw: dict[str, dict[str, list[Scored]]] = {}
    for label, ranker in rankers.items():
        raw[label] = {qid: ranker.rank(q, 100) for qid, q in queries.items()}
        runs[label] = {qid: [names[h.doc_id] for h in hits] for qid, hits in raw[label].items()}
    table = evaluate(runs, qrels, ("map", "ndcg@10", "r@100"))
    rec = {
        f"{kind} recall of exact top {k}": float(
            np.mean([recall(raw[f"{kind} exact"][q], raw[f"{kind} IVF"][q], k) for q in queries])
        )
        for kind in ("vectors",)
        for k in (10, 100)
    }
    return {"documents": len(texts), "queries": len(queries), "metrics": table, "recall": rec}


def at_scale(path: Path, n_queries: int) -> dict[str, Any]:
    ix = SearchIndex.open(path)
    if ix.vector is None:
        sys.exit(f"the index at {path} has no vectors")
    t0 = time.perf_counter()
    trained = ensure_ivf(ix)
    train_s = time.perf_counter() - t0
    exact = VectorRetriever(ix, ix.vector.embedder, exact=True)
    # A typical reader: the biggest spaces (public channels) up to 80% of the documents, plus a few small ones.
    values, counts = np.unique(np.concatenate([np.asarray(seg.spaces) for seg in ix.segments]), return_counts=True)
    big = np.argsort(-counts)
    n_big = int(np.searchsorted(np.cumsum(counts[big]), 0.8 * counts.sum())) + 1
    rng = random.Random(3)
    small = rng.sample(values[big[n_big:]].tolist(), min(5, len(big) - n_big))
    readable = frozenset(values[big[:n_big]].tolist() + small)
    queries = [q[:10_000] for kind, q in make_queries(n_queries * 2, 11) if kind not in ("empty", "stop_words")]
    queries = queries[:n_queries]
    out: dict[str, Any] = {"documents": len(ix), "ivf_trained_in_memory": trained, "train_s": round(train_s, 1)}
    for label, filters in (("no filter", Filters()), ("typical reader", Filters.of(spaces=readable))):
        for q in queries[:20]:  # warm: float32 copies, masks
            exact.rank(q, 100, filters)
            ix.vector.rank(q, 100, filters)
        times: dict[str, list[float]] = {"exact": [], "ivf": []}
        rec10, rec100 = [], []
        for q in queries:
            t = time.perf_counter()
            want = exact.rank(q, 100, filters)
            times["exact"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            got = ix.vector.rank(q, 100, filters)
            times["ivf"].append((time.perf_counter() - t) * 1000)
            rec10.append(recall(want, got, 10))
            rec100.append(recall(want, got, 100))
        out[label] = {
            **{f"{m} p50 ms": round(float(np.percentile(v, 50)), 2) for m, v in times.items()},
            **{f"{m} p99 ms": round(float(np.percentile(v, 99)), 2) for m, v in times.items()},
            "recall of exact top 10": round(float(np.mean(rec10)), 4),
            "recall of exact top 100": round(float(np.mean(rec100)), 4),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="SemEval-2016 Task 3 folder")
    ap.add_argument("--index", type=Path, help="a built search index with vectors, for speed and recall at scale")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        result["semeval"] = sem = semeval(args.data, Path(tmp))
    print(f"SemEval-2016 Task 3, {sem['documents']:,} documents, {sem['queries']} queries, no filter")
    print(format_table(sem["metrics"]))
    for k, v in sem["recall"].items():
        print(f"  {k}: {v:.3f}")
    if args.index:
        result["scale"] = sc = at_scale(args.index, args.queries)
        print(f"\n{args.index}: {sc['documents']:,} documents (IVF trained in memory for {sc['ivf_trained_in_memory']}")
        print(f"segments in {sc['train_s']} s)")
        for label in ("no filter", "typical reader"):
            print(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in sc[label].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
