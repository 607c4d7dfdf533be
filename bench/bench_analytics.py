"""Runtime of ``build_report`` (collaboration analytics) on a generated organisation, e.g. 1,000,000 messages.

    whoknows --db /tmp/an1m.db demo --messages 1000000      # ~5-7 minutes with reindex
    python bench/bench_analytics.py /tmp/an1m.db [--html /tmp/an1m.html]

Prints the wall time, peak RSS, the totals and, when the demo's planted truth sits next to the database, whether
the planted silo and single-expert topics were found and how well the derived topics match the planted ones
(``topic_agreement``: purity, NMI and ``label_match``, the size-weighted share of topics whose label shares a word
with the human label of their majority planted topic).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from whoknows.access import Viewer
from whoknows.analytics import build_report, write_html
from whoknows.analytics.topics import agreement, derive_topics, label_match
from whoknows.settings import Settings
from whoknows.store import Store, open_store, schema


def topic_agreement(store: Store, truth: dict[str, Any]) -> dict[str, float]:
    """Purity and NMI of the topics of the planted questions against their planted topics, and the label match: the
    share of questions whose topic label shares a word (or stem) with the human label of its majority planted topic."""
    threads = truth["threads"]
    with store.read() as conn:
        rows = conn.execute(
            select(schema.qa_pairs.c.question_id, schema.qa_pairs.c.question_text, schema.threads.c.external_id)
            .join(schema.threads, schema.threads.c.id == schema.qa_pairs.c.thread_id)
            .order_by(schema.qa_pairs.c.question_id)
        ).all()
    rows = [r for r in rows if r[2] in threads]
    topics = derive_topics([r[0] for r in rows], [r[1] for r in rows])
    predicted = [topics.of_question[r[0]] for r in rows]
    planted = [threads[r[2]]["topic"] for r in rows]
    human = {key: t["label"] for key, t in truth["topics"].items()}
    return {**agreement(predicted, planted), "label_match": label_match(predicted, topics.labels, planted, human)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--html", type=Path)
    args = parser.parse_args()
    store = open_store(args.db, create=False, migrate=False)
    t0 = time.perf_counter()
    report = build_report(store, Viewer.system(), organisation=True, months=args.months, settings=Settings())
    seconds = time.perf_counter() - t0
    out = {
        "db": args.db,
        "build_report_seconds": round(seconds, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "totals": report.totals,
        "collaboration_index": report.index.as_dict() if report.index else None,
        "silos": [s.group for s in report.silos],
        "one_person_topics": [t.label for t in report.one_person_topics],
        "topics": len(report.topics),
    }
    truth_file = Path(args.db + ".demo-truth-7.json")
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
        out["planted_silo_found"] = truth["silo_department"] in out["silos"]
        out["planted_single_expert_topics"] = truth["single_expert_topics"]
        out["topic_agreement"] = topic_agreement(store, truth)
    if args.html:
        write_html(report, args.html)
        out["html"] = str(args.html)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
