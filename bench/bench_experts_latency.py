"""Latency of expert finding over a large organisation (default: the 1,000,000-message demo org, 10,000 people).

    python bench/bench_experts_latency.py [--db /tmp/demo1m.db] [--model /tmp/demo1m-expertise] [--queries 200]

Makes the demo database if it is missing (``whoknows --db DB demo --messages 1000000``), builds the expertise
model (reused when its fingerprint matches the store), then times ``find_experts`` end to end (ranking, live
people check, evidence read from the store) for questions taken from the org's own question threads, each asked
as its real asker (so permissions differ per query), and prints p50/p99, the build time and resident memory.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from whoknows.expertise import ExpertiseModel, build_expertise, find_experts
from whoknows.expertise import rows as store_rows
from whoknows.store import open_store, schema


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="/tmp/demo1m.db")
    ap.add_argument("--model", default="/tmp/demo1m-expertise")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    db = Path(args.db)
    if not db.exists():
        exe = Path(sys.executable).with_name("whoknows")
        subprocess.run([str(exe), "--db", str(db), "demo", "--messages", str(args.messages)], check=True)
    store = open_store(db)
    fp = store_rows.fingerprint(store)
    print(f"store: {fp['messages']:,} messages, {fp['people']:,} people")
    t0 = time.perf_counter()
    try:
        model = ExpertiseModel.open(args.model)
        if model.is_stale(fp):
            raise ValueError("stale")
        print(f"model: reused {args.model} (built in {model.manifest['build_seconds']} s)")
    except Exception:
        model = build_expertise(store, args.model, progress=lambda stage, n: None)
        print(
            f"model: built in {time.perf_counter() - t0:.1f} s "
            f"({model.manifest['training_questions']} training questions)"
        )
    print(f"half-life: {model.manifest['half_life_days']} days; weights: {model.model.weights()}")
    m = schema.messages
    with store.read() as conn:
        rows = conn.execute(
            select(m.c.text, m.c.author_id).where(m.c.kind == "question").order_by(m.c.id.desc()).limit(5000)
        ).all()
    rng = random.Random(1)
    sample = rng.sample(rows, min(args.queries, len(rows)))
    warm = find_experts(store, sample[0][0], store.viewer(sample[0][1]), model=model)
    print(f"example: {warm.question[:80]!r} -> {[e.name for e in warm.experts[:5]]}")
    times, empty = [], 0
    for text, asker in sample:
        t = time.perf_counter()
        res = find_experts(store, text, store.viewer(asker), model=model)
        times.append((time.perf_counter() - t) * 1000)
        empty += not res.experts
    ms = np.array(times)
    print(
        f"find_experts over {len(ms)} questions: p50 {np.percentile(ms, 50):.1f} ms, "
        f"p99 {np.percentile(ms, 99):.1f} ms, "
        f"max {ms.max():.1f} ms, empty results {empty}; RSS {rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
