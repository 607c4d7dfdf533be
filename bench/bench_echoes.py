"""One answer, no echoes: how many of the shown solutions repeat a fact an earlier card already said.

    python bench/bench_echoes.py [--db /tmp/echo/echo.db] [--data-dir /tmp/echo] [--queries 300] [--json]

On a demo organisation (``whoknows --db DB demo``), catalog questions re-phrased with other customers and products
are asked through ``MemorySearch.ask`` (k=5, public spaces). The demo's answers are built from the facts of
``demo/topics.toml``: a shown solution *says* a fact when it contains the fact's sentence. Per question:

* **echoes**: shown solutions whose facts an earlier card already said (the same fact for another customer);
* **distinct facts**: facts said by the shown solutions together;
* **summary facts**: facts in the combined answer on top (``AskResult.answer``), and whether every summary sentence
  cites a shown or folded solution.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask_latency import topic_question_and_key
from whoknows.demo.catalog import TOPICS
from whoknows.derive import derived_dir
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import index_path
from whoknows.store import open_store

FACTS = [f for t in TOPICS for f in t.facts]


def facts_in(text: str | None) -> set[str]:
    text = " ".join((text or "").split())
    return {f for f in FACTS if f[:-1] in text}  # the sentence, with or without its full stop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("/tmp/echo/echo.db"))
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/echo"))
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    store = open_store(str(args.db), create=False)
    search = MemorySearch(store, index_path(derived_dir(args.data_dir, store)))
    viewer = store.viewer(None)
    rng = random.Random(args.seed)
    echoes, cards, distinct, summary_facts, cited, ms = [], [], [], [], [], []
    for _ in range(args.queries):
        text, _topic = topic_question_and_key(rng)
        t0 = time.process_time()
        res = search.ask(text, viewer, k=5)
        ms.append((time.process_time() - t0) * 1000)
        said: set[str] = set()
        n_echo = 0
        for hit in res.solutions:
            f = facts_in(hit.solution)
            if f and f <= said:
                n_echo += 1
            said |= f
        echoes.append(n_echo)
        cards.append(len(res.solutions))
        distinct.append(len(said))
        answer = getattr(res, "answer", [])
        summary_facts.append(len(set().union(*(facts_in(s.text) for s in answer))) if answer else 0)
        shown = {h.question_id for h in res.solutions} | {d for h in res.solutions for d in h.duplicates}
        cited.append(all(s.question_id in shown for s in answer) if answer else True)
    out = {
        "questions": args.queries,
        "cards_per_question": round(statistics.fmean(cards), 2),
        "echo_cards_per_question": round(statistics.fmean(echoes), 3),
        "questions_with_an_echo": round(sum(e > 0 for e in echoes) / len(echoes), 3),
        "distinct_facts_per_question": round(statistics.fmean(distinct), 2),
        "summary_facts_per_question": round(statistics.fmean(summary_facts), 2),
        "summary_always_cited": all(cited),
        "cpu_ms_p50": round(statistics.median(ms), 2),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for k, v in out.items():
        print(f"{k:<32} {v}")


if __name__ == "__main__":
    main()
