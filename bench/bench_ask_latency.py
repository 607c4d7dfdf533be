"""Latency of ``ask`` (the library call ``MemorySearch.ask``) on a generated organisation of 1,000,000 messages.

    python bench/bench_ask_latency.py [--db /tmp/ask1m.db] [--messages 1000000] [--queries 1000] [--profile]

1. The demo organisation is generated with ``whoknows --db DB demo --messages N --no-index`` unless DB exists.
2. ``whoknows --db DB reindex`` (Q&A extraction + memory index, data dir ``DB.data`` unless ``--data-dir``) runs
   in a child process and is timed on its own, unless the index there is fresh (its fingerprint matches the
   store); its figures are kept in ``DATA_DIR/bench-reindex.json`` and reported again on reuse.
3. One warm ``MemorySearch`` handle answers ``--queries`` varied questions (fixed seed), half anonymously (public
   spaces only), half as random people (their private spaces and DMs join the permission filter). Each call is
   timed end to end: permission lookup, two filtered hybrid searches, reading the hits from the store,
   confidence, duplicate folding. Query mix: catalog questions (``topics.toml``) re-phrased with other customers,
   products and frames, keyword-style fragments, off-topic questions, other languages/scripts, stop words only,
   empty, and long pasted texts (2-60 KB).

Prints p50/p90/p99/max overall and per query kind, index size on disk, process RSS (current and peak) and the
reindex time. ``--profile`` also runs the queries under cProfile and prints where the time goes.
Target (issue 4): p50 <= 50 ms, p99 <= 200 ms.

Run it on a quiet machine and read the load average it prints: numpy's OpenBLAS splits each vector product over
both cores, and when another process holds one of them every product waits for a time slice (measured at 1M:
p50 26 ms / p99 43 ms idle, p50 62 ms / p99 524 ms next to one busy process; with OPENBLAS_NUM_THREADS=1 p50
29 ms / p99 44 ms next to the same busy process). The environment variable is reported with the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from whoknows.demo.catalog import COMPETITORS, CUSTOMERS, FEATURES, PRODUCTS, TOPICS
from whoknows.derive import derived_dir
from whoknows.index import SearchIndex, SearchIndexError
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import index_path, store_fingerprint
from whoknows.store import Store, open_store, schema

EXE = Path(sys.executable).with_name("whoknows")
TARGET_P50, TARGET_P99 = 50.0, 200.0

FRAMES = (
    "{q}",
    "{q}",
    "{q}",
    "hi, {q}",
    "quick one for a prospect call: {q}",
    "{q} they need an answer by Friday",
    "does anybody remember: {q}",
    "{q} (asking on behalf of the account team)",
    "Customer asks - {q}",
)
OFF_TOPIC = (
    "what is the best pizza place near the {city} office",
    "how do I renew my passport before the trip to {city}",
    "who won the football match last night",
    "recipe for a vegan chocolate cake without eggs",
    "can I bring my dog to the {city} office on Fridays",
    "how tall is the eiffel tower",
    "which keyboard do you recommend for a standing desk",
    "where can I park my bike near the {city} office",
    "what time does the gym open on weekends",
    "translate good morning into klingon",
)
FOREIGN = (
    "Können wir den SOC 2 Bericht vor der Unterschrift an {customer} schicken?",
    "¿{product} admite inicio de sesión único con Azure AD?",
    "Quel est le délai de résiliation du contrat pour {customer} ?",
    "{product}はSAMLシングルサインオンに対応していますか？",
    "Поддерживает ли {product} хранение данных в ЕС?",
    "هل يدعم {product} تسجيل الدخول الموحد؟",
    "{customer} 的数据可以存储在欧盟吗？",
)
STOP_ONLY = ("what is the", "is it", "and the of to in", "can we do that?", "how about this one", "who is it for")
EMPTY = ("", "   ", "\n\t", "?!", "...")
CITIES = ("Berlin", "Austin", "Dublin", "Singapore", "Toronto")
FILLER = (
    "Forwarding the thread below, the customer's procurement team sent a long questionnaire. "
    "Their security officer wants details on encryption, retention, subprocessors, SSO and the SLA. "
)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    cur = peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            cur = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cur, peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6 if path.exists() else 0.0


def topic_question(rng: random.Random) -> str:
    return topic_question_and_key(rng)[0]


def topic_question_and_key(rng: random.Random) -> tuple[str, str]:
    """A catalog question of a random topic with other customers, products and numbers, and the topic's key."""
    topic = rng.choice(TOPICS)
    slots = {
        "customer": rng.choice(CUSTOMERS),
        "customer2": rng.choice(CUSTOMERS),
        "product": rng.choice(PRODUCTS),
        "competitor": rng.choice(COMPETITORS),
        "feature": rng.choice(FEATURES),
        "n": rng.choice((30, 75, 150, 300, 700)),
        "pct": rng.choice((10, 20, 30, 40)),
        "weekday": rng.choice(("Monday", "Thursday")),
    }
    return rng.choice(topic.questions).format(**slots), topic.key


def make_queries(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (kind, question) pairs; the mix is fixed by the seed."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.62:
            out.append(("catalog", rng.choice(FRAMES).format(q=topic_question(rng))))
        elif r < 0.72:  # keyword style: a few words of a catalog question, shuffled
            words = [w.strip("?,.") for w in topic_question(rng).split() if len(w) > 3]
            out.append(("keywords", " ".join(rng.sample(words, min(len(words), rng.randint(2, 4))))))
        elif r < 0.80:
            out.append(("off_topic", rng.choice(OFF_TOPIC).format(city=rng.choice(CITIES))))
        elif r < 0.85:
            fmt = {"customer": rng.choice(CUSTOMERS), "product": rng.choice(PRODUCTS)}
            out.append(("foreign", rng.choice(FOREIGN).format(**fmt)))
        elif r < 0.90:
            out.append(("stop_words", rng.choice(STOP_ONLY)))
        elif r < 0.94:
            out.append(("empty", rng.choice(EMPTY)))
        else:  # a pasted e-mail or questionnaire: 2-60 KB
            parts: list[str] = []
            size = rng.choice((2_000, 8_000, 20_000, 60_000))
            while sum(map(len, parts)) < size:
                parts.append(topic_question(rng) if rng.random() < 0.4 else FILLER)
            out.append(("long", " ".join(parts)[:size]))
    return out


def ensure_demo(db: Path, messages: int) -> float | None:
    if db.exists():
        return None
    t0 = time.perf_counter()
    cmd = ["nice", "-n", "5", str(EXE), "--db", str(db), "demo", "--messages", str(messages), "--no-index", "--json"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def ensure_index(store: Store, db: Path, data_dir: Path) -> dict[str, Any]:
    """Reuse a fresh index (and its recorded reindex figures), else time ``whoknows reindex`` in a child."""
    record = data_dir / "bench-reindex.json"
    try:
        index = SearchIndex.open(index_path(derived_dir(data_dir, store)), database_id=store.database_id)
        fresh = not index.is_stale(store_fingerprint(store))
    except SearchIndexError:
        fresh = False
    if fresh:
        info: dict[str, Any] = json.loads(record.read_text()) if record.exists() else {}
        return {**info, "reused": True}
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WHOKNOWS_DATA_DIR=str(data_dir))
    t0 = time.perf_counter()
    done = subprocess.run(
        ["nice", "-n", "5", str(EXE), "--db", str(db), "reindex", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    info = {
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "stats": json.loads(done.stdout),
    }
    record.write_text(json.dumps(info, indent=1))
    return {**info, "reused": False}


def pick_askers(store: Store, n: int, seed: int) -> list[int | None]:
    """Half anonymous, half random (non-bot) people, interleaved at random."""
    p = schema.people
    with store.read() as conn:
        people = [int(i) for i in conn.execute(select(p.c.id).where(p.c.is_bot.is_(False))).scalars()]
    rng = random.Random(seed + 1)
    askers: list[int | None] = [None] * (n // 2) + [rng.choice(people) for _ in range(n - n // 2)]
    rng.shuffle(askers)
    return askers


def summary(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "n": len(a),
        "p50": round(float(np.percentile(a, 50)), 2),
        "p90": round(float(np.percentile(a, 90)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "max": round(float(a.max()), 2),
        "mean": round(float(a.mean()), 2),
    }


def run(memory: MemorySearch, queries: list[tuple[str, str]], askers: list[int | None]) -> dict[str, Any]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_asker: dict[str, list[float]] = defaultdict(list)
    answered: dict[str, int] = defaultdict(int)
    confidence: dict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    for (kind, q), asker in zip(queries, askers, strict=True):
        t = time.perf_counter()
        res = memory.ask(q, memory.store.viewer(asker), k=5)
        ms = (time.perf_counter() - t) * 1000
        every.append(ms)
        by_kind[kind].append(ms)
        by_asker["anonymous" if asker is None else "person"].append(ms)
        answered[kind] += bool(res.solutions)
        confidence[kind].append(res.confidence)
    return {
        "all": summary(every),
        "by_kind": {
            k: {**summary(v), "with_solution": answered[k], "confidence": round(float(np.mean(confidence[k])), 3)}
            for k, v in sorted(by_kind.items())
        },
        "by_asker": {k: summary(v) for k, v in sorted(by_asker.items())},
    }


def profile(memory: MemorySearch, queries: list[tuple[str, str]], askers: list[int | None]) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for (_, q), asker in zip(queries, askers, strict=True):
        memory.ask(q, memory.store.viewer(asker), k=5)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/ask1m.db"))
    ap.add_argument("--data-dir", type=Path, help="default: DB.data next to the database")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--profile", action="store_true", help="also run the queries under cProfile")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    db: Path = args.db
    data_dir: Path = args.data_dir or db.with_name(db.name + ".data")
    report: dict[str, Any] = {
        "db": str(db),
        "data_dir": str(data_dir),
        # BLAS threads matter: multi-threaded gemv stalls when another process holds the other core (see docstring)
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default",
    }
    demo_s = ensure_demo(db, args.messages)
    if demo_s is not None:
        report["demo_seconds"] = round(demo_s, 1)
    store = open_store(db)
    report["store"] = store.counts()
    report["reindex"] = ensure_index(store, db, data_dir)
    path = index_path(derived_dir(data_dir, store))  # where `whoknows reindex` put it
    report["index_mb"] = round(du_mb(path), 1)
    report["db_mb"] = round(db.stat().st_size / 1e6, 1)
    rss0 = rss_mb()[0]
    t0 = time.perf_counter()
    memory = MemorySearch(store, path)
    report["open_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    report["documents"] = len(memory.index)
    queries = make_queries(args.queries, args.seed)
    askers = pick_askers(store, args.queries, args.seed)
    t0 = time.perf_counter()
    memory.ask("cold start: can we share the SOC 2 report?", memory.store.viewer(None), k=5)
    report["first_ask_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    for q in ("warm up pricing discount", "warm up SSO SAML Okta"):
        memory.ask(q, memory.store.viewer(None), k=5)
    report["load_before"] = round(os.getloadavg()[0], 2)
    report["latency"] = run(memory, queries, askers)
    report["load_after"] = round(os.getloadavg()[0], 2)
    cur, peak = rss_mb()
    report["rss_mb"] = {"before_open": round(rss0), "after_queries": round(cur), "peak": round(peak)}
    lat = report["latency"]["all"]
    report["target_met"] = lat["p50"] <= TARGET_P50 and lat["p99"] <= TARGET_P99
    prof = profile(memory, queries, askers) if args.profile else None
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)
    if prof:
        print(prof)


def print_report(r: dict[str, Any]) -> None:
    st, ri = r["store"], r["reindex"]
    print(f"store {r['db']}: {st.get('messages', 0):,} messages, {st.get('threads', 0):,} threads ({r['db_mb']} MB)")
    if r.get("demo_seconds"):
        print(f"demo generated and loaded in {r['demo_seconds']} s")
    stats = ri.get("stats", {})
    parts = [(k, stats.get(k, {}).get("seconds")) for k in ("memory", "index", "expertise")]
    split = ", ".join(f"{label} {s} s" for label, s in parts if s is not None)
    print(
        f"reindex{' (recorded, index reused)' if ri.get('reused') else ''}: {ri.get('wall_seconds', '?')} s wall "
        f"({split}; memory = Q&A extraction, index = embedder training + index build), child peak RSS "
        f"{ri.get('max_rss_mb', 0):.0f} MB; {stats.get('memory', {}).get('questions', '?')} Q&A pairs"
    )
    print(f"index: {r['documents']:,} documents, {r['index_mb']} MB on disk; opened in {r['open_ms']} ms")
    print(f"first ask (cold): {r['first_ask_ms']} ms")
    print(
        f"BLAS threads: {r['blas_threads']}; 1-min load average before/after the timed queries: "
        f"{r['load_before']} / {r['load_after']} (2 cores)"
    )
    print(
        f"\n{'queries':16s} {'n':>5s} {'p50':>8s} {'p90':>8s} {'p99':>8s} {'max':>8s} {'mean':>8s}  solved  mean conf."
    )
    lat = r["latency"]
    rows = [("ALL", lat["all"]), *lat["by_asker"].items(), *lat["by_kind"].items()]
    for name, s in rows:
        extra = f"{s['with_solution']:6d}  {s['confidence']:.3f}" if "confidence" in s else ""
        print(
            f"{name:16s} {s['n']:5d} {s['p50']:8.2f} {s['p90']:8.2f} {s['p99']:8.2f} {s['max']:8.2f} "
            f"{s['mean']:8.2f}  {extra}"
        )
    rss = r["rss_mb"]
    print(
        f"\nRSS: {rss['before_open']} MB before opening the index, {rss['after_queries']} MB after, peak {rss['peak']}"
    )
    verdict = "met" if r["target_met"] else "MISSED"
    print(f"target p50 <= {TARGET_P50:.0f} ms, p99 <= {TARGET_P99:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
