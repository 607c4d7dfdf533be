"""Topic-label quality per source: are labels phrases a person would write, or fragments and names?

    python bench/bench_topic_labels.py [--demo /tmp/an200k.db] [--racket DIR] [--ai DIR] [--beer DIR] [--json]

Each real source (racket #general chats, the ai and beer Stack Exchange dumps; default ``../shared/data/…``) is
imported with the real importer into a temporary SQLite store and its memory is built; a demo database (made by
``whoknows demo``, with its ``.demo-truth-7.json`` beside it) is read as it is. The questions of the memory are
clustered and labelled exactly as the dashboard does (:func:`derive_topics`), and every label is checked:

* ``phrase``: at least one part of the label (parts are separated by " / ") has two or more words;
* ``fragment``: no part is a phrase and at least one part is a generic word -- a word in at least
  ``GENERIC_DF`` of the questions of *every other* source (so "keep", "local", "break" are generic; "soc",
  "fedramp", "macro" are not), or an ``-ing``/``-ed`` verb form;
* ``name``: a word of the label is part of a person's name in that store (one the questions write capitalised
  more often than not), or (demo) the first word of a customer's name.

Sources are printed worst first (by the share of labels that are fragments or names), with a sample of labels.
The demo also reports ``label_match`` against its planted human labels.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from whoknows.analytics.topic_labels import is_content
from whoknows.analytics.topics import derive_topics, label_match
from whoknows.store import Store, open_store, schema

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
#: Share of a source's questions a word must occur in, in every other source, to count as generic.
GENERIC_DF = 0.002
_WORD = re.compile(r"[a-z][a-z0-9]+")
_UNLABELLED = re.compile(r"topic \d+( \(from spaces you cannot read\))?")


def questions(store: Store) -> tuple[list[int], list[str]]:
    q = schema.qa_pairs
    with store.read() as conn:
        rows = conn.execute(select(q.c.question_id, q.c.question_text).order_by(q.c.question_id)).all()
    return [int(r[0]) for r in rows], [str(r[1]) for r in rows]


def name_words(store: Store, texts: list[str]) -> set[str]:
    """Words of people's names that the questions use as names: written capitalised more often than not (so a
    handle such as "Student" does not make "student" a name)."""
    with store.read() as conn:
        names = [str(n) for (n,) in conn.execute(select(schema.people.c.name)) if n]
    tokens = {w for n in names for w in re.findall(r"[A-Z][A-Za-z0-9]+", n) if is_content(w.lower())}
    upper: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    wanted = {w.lower() for w in tokens}
    for text in texts:
        for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text):
            if w.lower() in wanted:
                (upper if w[0].isupper() else lower)[w.lower()] += 1
    return {w for w in wanted if upper[w] > lower[w]}


def imported(kind: str, path: Path, folder: Path) -> Store:
    from whoknows.importers import reader_for
    from whoknows.ingest import ingest
    from whoknows.memory import rebuild_memory

    store = open_store(folder / f"{path.name}.db")
    reader = reader_for(kind, path)
    ingest(store, reader.kind, reader.source, reader.batches(), location=str(path))
    rebuild_memory(store)
    return store


def doc_shares(texts: list[str]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for t in texts:
        df.update({w for w in _WORD.findall(t.lower()) if is_content(w)})
    return {w: c / max(1, len(texts)) for w, c in df.items()}


def check(label: str, generic: set[str], names: set[str]) -> dict[str, bool]:
    parts = [p.split() for p in label.split(" / ") if p.strip()]
    words = [w.lower() for p in parts for w in p]
    single = [p[0].lower() for p in parts if len(p) == 1]
    is_phrase = any(len(p) > 1 for p in parts)
    generic_part = any(w in generic or w.endswith(("ing", "ed")) for w in single)
    if _UNLABELLED.fullmatch(label):
        return {"unlabelled": True, "phrase": False, "fragment": False, "name": False}
    return {
        "unlabelled": False,
        "phrase": is_phrase,
        "fragment": not is_phrase and generic_part,
        "name": any(w in names for w in words),
    }


def evaluate(name: str, store: Store, texts: list[str], qids: list[int], generic: set[str], names: set[str],
             truth: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    t0 = time.perf_counter()
    with store.read() as conn:  # as the dashboard does (analytics.build): people's names never label a topic
        people = [str(n) for (n,) in conn.execute(select(schema.people.c.name)) if n]
    topics = derive_topics(qids, texts, names=people)
    seconds = time.perf_counter() - t0
    labels = topics.labels
    checks = [check(label, generic, names) for label in labels]
    n = max(1, len(labels))
    out: dict[str, Any] = {
        "source": name,
        "questions": len(texts),
        "topics": len(labels),
        "phrase": round(sum(c["phrase"] for c in checks) / n, 3),
        "fragment": round(sum(c["fragment"] for c in checks) / n, 3),
        "name": round(sum(c["name"] for c in checks) / n, 3),
        "unlabelled": round(sum(c["unlabelled"] for c in checks) / n, 3),
        "bad": round(sum(c["fragment"] or c["name"] or c["unlabelled"] for c in checks) / n, 3),
        "topics_seconds": round(seconds, 2),
        "labels": [
            {"label": label, "size": size, **{k: v for k, v in c.items() if v}}
            for label, size, c in sorted(zip(labels, topics.sizes, checks, strict=True), key=lambda x: -x[1])
        ],
    }
    if truth is not None:
        threads = truth["threads"]
        with store.read() as conn:
            ext = dict(conn.execute(
                select(schema.qa_pairs.c.question_id, schema.threads.c.external_id)
                .join(schema.threads, schema.threads.c.id == schema.qa_pairs.c.thread_id)
            ).all())  # fmt: skip
        planted = [(topics.of_question[q], threads[ext[q]]["topic"]) for q in qids if ext.get(q) in threads]
        human = {key: t["label"] for key, t in truth["topics"].items()}
        out["label_match"] = label_match([p for p, _ in planted], labels, [t for _, t in planted], human)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, help="a database made by `whoknows demo` (truth file beside it)")
    parser.add_argument("--racket", type=Path, default=DATA / "slack-chats")
    parser.add_argument("--ai", type=Path, default=DATA / "stackexchange" / "ai.stackexchange.com")
    parser.add_argument("--beer", type=Path, default=DATA / "stackexchange" / "beer.stackexchange.com")
    parser.add_argument(
        "--only",
        nargs="*",
        help="sources to print (default: all; every source is still loaded, "
        "as each one's generic words are those of the others)",
    )
    parser.add_argument("--sample", type=int, default=12, help="labels printed per source (largest topics)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wk-labels-"))
    sources: dict[str, tuple[Store, dict[str, Any] | None, set[str]]] = {}
    for name, kind, path in (("racket", "slack-chats", args.racket), ("ai", "stackexchange", args.ai),
                             ("beer", "stackexchange", args.beer)):  # fmt: skip
        if not path.exists():
            sys.exit(f"{name}: {path} does not exist (pass --{name} or --only)")
        store = imported(kind, path, folder)
        sources[name] = (store, None, name_words(store, questions(store)[1]))
    if args.demo is not None:
        from whoknows.demo.catalog import COMPETITORS, CUSTOMERS, PRODUCTS

        store = open_store(args.demo, create=False, migrate=False)
        truth_file = Path(str(args.demo) + ".demo-truth-7.json")
        truth = json.loads(truth_file.read_text()) if truth_file.exists() else None
        # A customer is named by its first word ("Redwood" Credit Union); "Beacon" Hill Legal shares a product's.
        brands = {w for b in (*PRODUCTS, *COMPETITORS) for w in _WORD.findall(b.lower())}
        customers = {c.split()[0].lower() for c in CUSTOMERS} - brands
        sources["demo"] = (store, truth, name_words(store, questions(store)[1]) | customers)
    texts = {name: questions(store) for name, (store, _, _) in sources.items()}
    shares = {name: doc_shares(t) for name, (_, t) in texts.items()}
    results = []
    for name, (store, truth, names) in sources.items():
        others = [s for other, s in shares.items() if other != name]
        common = set.intersection(*(set(s) for s in others)) if others else set()
        generic = {w for w in common if all(s[w] >= GENERIC_DF for s in others)}
        if args.only and name not in args.only:
            continue
        qids, qtexts = texts[name]
        results.append(evaluate(name, store, qtexts, qids, generic, names, truth))
    results.sort(key=lambda r: -r["bad"])
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{'source':<8} {'questions':>9} {'topics':>6} {'phrase':>7} {'fragment':>8} {'name':>6} "
          f"{'unlabelled':>10} {'bad':>6} {'label_match':>11}")  # fmt: skip
    for r in results:
        print(
            f"{r['source']:<8} {r['questions']:>9} {r['topics']:>6} {r['phrase']:>7.3f} {r['fragment']:>8.3f} "
            f"{r['name']:>6.3f} {r['unlabelled']:>10.3f} {r['bad']:>6.3f} {r.get('label_match', ''):>11}"
        )
    for r in results:
        print(f"\n{r['source']} (largest topics first):")
        for item in r["labels"][: args.sample]:
            flags = ",".join(k for k in ("phrase", "fragment", "name", "unlabelled") if item.get(k))
            print(f"  {item['size']:>6}  {item['label']:<50} {flags}")


if __name__ == "__main__":
    main()
