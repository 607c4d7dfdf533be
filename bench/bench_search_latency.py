"""Latency of the search index on N generated short texts (default 1,000,000).

    python bench/bench_search_latency.py [N] [--spaces 200] [--allowed 20] [--vectors] [--faiss]

Builds an index (BM25; with ``--vectors`` also the static PPMI-SVD embedder trained on a sample), runs 1,000 varied
queries with a permission filter (each query may read ``--allowed`` of ``--spaces`` spaces) and prints p50/p99 per
mode, build time, index size on disk and the process's resident memory. ``--faiss`` also times faiss-cpu HNSW
(M=32, efSearch=64) over the same vectors, unfiltered and with an ID-selector filter, for comparison.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sales_corpus import queries, sentences
from whoknows.index import Doc, Filters, SearchIndex
from whoknows.index.embedders import train_static


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def percentiles(ms: list[float]) -> str:
    a = np.array(ms)
    return f"p50 {np.percentile(a, 50):7.2f} ms  p99 {np.percentile(a, 99):7.2f} ms  mean {a.mean():7.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--spaces", type=int, default=200)
    ap.add_argument("--allowed", type=int, default=20)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--vectors", action="store_true", help="also build and time vector and hybrid search")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--faiss", action="store_true", help="compare faiss-cpu HNSW on the same vectors")
    args = ap.parse_args()
    rnd = random.Random(3)
    folder = Path(tempfile.mkdtemp(prefix="wk-latency-")) / "index"
    embedder = None
    if args.vectors:
        t0 = time.perf_counter()
        embedder = train_static(sentences(min(args.n, 100_000), seed=99), dim=args.dim)
        print(f"trained static embedder (dim {embedder.dim}) in {time.perf_counter() - t0:.1f}s")
    docs = (Doc(i, text, rnd.randrange(args.spaces), "message", 1.6e9 + i) for i, text in enumerate(sentences(args.n)))
    t0 = time.perf_counter()
    ix = SearchIndex.build(folder, docs, embedder, fingerprint={"n": args.n})
    build_s = time.perf_counter() - t0
    ix = SearchIndex.open(folder)
    print(f"N={args.n:,}: build {build_s:.1f}s, index on disk {du_mb(folder):.0f} MB, segments {len(ix.segments)}")
    qs = queries(args.queries)
    allowed = [Filters.of(rnd.sample(range(args.spaces), args.allowed)) for _ in qs]
    modes = ["lexical"] + (["vector", "hybrid"] if embedder else [])
    for mode in modes:
        ix.search(qs[0], 10, allowed[0], mode=mode)  # warm: load impacts / vectors
        times, empty = [], 0
        for q, f in zip(qs, allowed, strict=True):
            t = time.perf_counter()
            res = ix.search(q, 10, f, mode=mode)
            times.append((time.perf_counter() - t) * 1000)
            empty += len(res.hits) < 10
        print(f"  {mode:8s} top-10, {args.allowed}/{args.spaces} spaces: {percentiles(times)}  (<10 hits: {empty})")
    print(f"  process RSS {rss_mb():.0f} MB")
    if args.faiss and embedder is not None:
        faiss_compare(ix, qs, allowed)


def faiss_compare(ix: SearchIndex, qs: list[str], allowed: list[Filters]) -> None:
    import faiss

    assert ix.embedder is not None
    vecs = np.concatenate([s.vectors32() for s in ix.segments if s.vectors is not None])
    spaces = np.concatenate([np.asarray(s.spaces) for s in ix.segments])
    t0 = time.perf_counter()
    index = faiss.IndexHNSWFlat(vecs.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    index.add(vecs)
    print(f"  faiss HNSW build {time.perf_counter() - t0:.1f}s")
    qv = ix.embedder.embed(qs)
    for filtered in (False, True):
        times = []
        for q, f in zip(qv, allowed, strict=True):
            params = faiss.SearchParametersHNSW()
            params.efSearch = 64
            if filtered:
                assert f.spaces is not None
                ok = np.isin(spaces, np.fromiter(f.spaces, np.int64))
                params.sel = faiss.IDSelectorBitmap(np.packbits(ok, bitorder="little"))
            t = time.perf_counter()
            index.search(q[None, :], 10, params=params)
            times.append((time.perf_counter() - t) * 1000)
        print(f"  faiss HNSW {'filtered' if filtered else 'unfiltered'}: {percentiles(times)}")


if __name__ == "__main__":
    main()
