"""What reader-only BM25 statistics cost: ``ask`` with the reader's own N, df, average length and postings
(issue 16: nothing depends on text the reader cannot read) against the earlier global statistics with the
permission mask applied at the top-k cut, interleaved question by question on one warm index.

    python bench/bench_reader_statistics.py [--db /tmp/ask200k.db] [--data-dir DIR] [--queries 400]

The database and its memory index come from ``bench/bench_ask_latency.py`` (``--db``, its data dir ``DB.data``).
Questions: the catalog's, re-phrased (the same generator as the latency benchmark), asked half anonymously and
half as random people. Each question is asked once with each contender, in alternating order; wall and CPU time
per call are reported (p50/p90/p99), with the share of questions whose shown results differ.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_ask_latency import make_queries, pick_askers
from whoknows.index.contract import NO_FILTER, Filters
from whoknows.index.lexical import BM25Retriever, Ranked, merge_ranked
from whoknows.memory.ask import MemorySearch
from whoknows.store import open_store


def global_rank_arrays(self: BM25Retriever, query: str, k: int, filters: Filters = NO_FILTER) -> Ranked:
    """The scoring before issue 16, as the baseline: collection statistics over every document (private ones
    included), cached per-segment impacts, every posting of a query term scored, the mask applied at the cut."""
    segments = list(self.source.segments)
    qterms = self.query_terms(query)
    if k <= 0 or not qterms or filters.allows_nothing() or not segments:
        return merge_ranked([], k)
    return self._rank_global(segments, qterms, k, filters)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/ask200k.db"))
    ap.add_argument("--data-dir", type=Path, help="the data dir holding the memory index (default: DB.data)")
    ap.add_argument("--index", type=Path, help="the memory index folder itself (default: found under the data dir)")
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    store = open_store(str(args.db), create=False)
    index = args.index or _find_index(args.data_dir or args.db.with_name(args.db.name + ".data"))
    memory = MemorySearch(store, index)
    questions = [q for _, q in make_queries(args.queries, args.seed)]
    viewers = [store.viewer(a) for a in pick_askers(store, len(questions), args.seed)]
    reader_rank = BM25Retriever.rank_arrays
    contenders = {"reader statistics": reader_rank, "global statistics (before)": global_rank_arrays}
    times: dict[str, dict[str, list[float]]] = {c: {"wall": [], "cpu": []} for c in contenders}
    differ = 0
    for q, v in zip(questions, viewers, strict=True):  # warm-up of both paths
        memory.ask(q, v)
        break
    for i, (q, v) in enumerate(zip(questions, viewers, strict=True)):
        order = list(contenders) if i % 2 == 0 else list(reversed(contenders))
        shown: dict[str, Any] = {}
        for name in order:
            BM25Retriever.rank_arrays = contenders[name]  # type: ignore[method-assign]
            w0, c0 = time.perf_counter(), time.process_time()
            res = memory.ask(q, v, k=5)
            times[name]["wall"].append((time.perf_counter() - w0) * 1000)
            times[name]["cpu"].append((time.process_time() - c0) * 1000)
            shown[name] = [h.question_id for h in res.solutions]
        differ += len({tuple(x) for x in shown.values()}) > 1
    BM25Retriever.rank_arrays = reader_rank  # type: ignore[method-assign]
    out = {
        "db": str(args.db),
        "documents": len(memory.index),
        "questions": len(questions),
        "results_differ_share": round(differ / max(1, len(questions)), 3),
        "contenders": {name: {k: _pcts(v) for k, v in t.items()} for name, t in times.items()},
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['documents']:,} memory documents, {len(questions)} questions (half anonymous, half as a person)")
    print(f"{'contender':<28} {'wall p50':>9} {'p90':>7} {'p99':>7} {'cpu p50':>9} {'p90':>7} {'p99':>7}  (ms)")
    for name, t in out["contenders"].items():
        w, c = t["wall"], t["cpu"]
        print(f"{name:<28} {w['p50']:>9} {w['p90']:>7} {w['p99']:>7} {c['p50']:>9} {c['p90']:>7} {c['p99']:>7}")
    print(f"shown solutions differ for {out['results_differ_share']:.1%} of the questions")


def _pcts(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p90": round(float(np.percentile(a, 90)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def _find_index(data_dir: Path) -> Path:
    """The memory index under ``data_dir``: ``index/memory`` directly, or inside a per-database derived folder."""
    found = sorted(p.parent for p in data_dir.rglob("index/memory/manifest.json"))
    if not found:
        raise SystemExit(f"no memory index under {data_dir}: run bench/bench_ask_latency.py first")
    return found[0]


if __name__ == "__main__":
    main()
