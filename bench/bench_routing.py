"""Routing simulation: replay the test period of Stack Exchange dumps and the demo org as a stream of questions.

    python bench/bench_routing.py [SITE_DIR ...] [--demo-messages 20000] [--k 3]

Protocol: the same temporal split as bench_experts.py (first 80% of answered questions = history, the model is
built from it; the last 20% are replayed in time order). Each test question is ranked by the expertise model
(30 candidates) and routed to k experts by the policy (:func:`whoknows.routing.policy.choose`) — once with the
plain ranker (top-k) and once with the load-balanced policy — while tracking each expert's open assignments
and weekly count. Simulated responsiveness comes from the history: a notified person answers when they are one
of the question's real answerers (with their median answer delay in the history), otherwise with their history
answer rate (share of history questions they answered, capped at 0.5) after their median delay; requests expire
after 24 h. Nobody has preferences or working hours here (the dumps have no time zones), so only ranking and load
matter. Reported: share of questions whose real answerer was notified, notifications per answered question, share
of notifications that went to the top 5% most-notified experts, and median simulated time to first answer.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from whoknows.expertise import build_expertise, find_experts
from whoknows.expertise.evaluation import JudgedQuestion, answered_questions, temporal_split
from whoknows.importers import reader_for
from whoknows.ingest import ingest
from whoknows.routing.policy import Candidate, Mode, choose
from whoknows.routing.prefs import Prefs
from whoknows.store import Store, open_store, schema

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SITES = [
    REPO.parent / "shared/data/stackexchange/ai.stackexchange.com",
    REPO.parent / "shared/data/stackexchange/beer.stackexchange.com",
]
EXPIRE = timedelta(hours=24)
ALWAYS_ON = Prefs(0, work_start=0, work_end=24, work_days=[1, 2, 3, 4, 5, 6, 7], weekly_budget=10**6)


def responsiveness(store: Store, history: list[JudgedQuestion]) -> tuple[dict[int, float], dict[int, float]]:
    """Per person: answer rate over history questions, and median answer delay (hours) in history threads."""
    answered: Counter[int] = Counter(p for q in history for p in q.grades)
    rate = {p: min(0.5, n / max(1, len(history)) * 20) for p, n in answered.items()}
    m, first = schema.messages, schema.messages.alias("q")
    ids = [q.message_id for q in history]
    delays: dict[int, list[float]] = defaultdict(list)
    with store.read() as conn:
        for i in range(0, len(ids), 900):
            rows = conn.execute(
                select(m.c.author_id, m.c.created_at, first.c.created_at)
                .join(first, first.c.id == m.c.reply_to_id)
                .where(m.c.reply_to_id.in_(ids[i : i + 900]), m.c.author_id.is_not(None))
            ).all()
            for pid, at, qat in rows:
                delays[int(pid)].append(max(0.05, (at - qat).total_seconds() / 3600))
    return rate, {p: statistics.median(d) for p, d in delays.items()}


def simulate(
    store: Store,
    model_path: Path,
    test: list[JudgedQuestion],
    rate: dict[int, float],
    delay: dict[int, float],
    mode: Mode,
    k: int,
    margin: float = 0.8,
    seed: int = 1,
) -> dict[str, float]:
    rnd = random.Random(seed)
    open_until: dict[int, list[datetime]] = defaultdict(list)
    sent: list[datetime] = []
    per_person: Counter[int] = Counter()
    universe: set[int] = set()
    hits = answered = notes = 0
    ttfa: list[float] = []
    for q in test:
        now = datetime.fromtimestamp(q.time, UTC)
        ranked = find_experts(store, q.text, store.viewer(q.asker_id), k=30, path=model_path).experts
        cands = []
        for e in ranked:
            open_until[e.person_id] = [t for t in open_until[e.person_id] if t > now]
            week = sum(1 for t in open_until[e.person_id] if t > now - timedelta(days=7))
            cands.append(Candidate(e.person_id, e.name, e.score, ALWAYS_ON, "UTC", len(open_until[e.person_id]), week))
        picks = choose(cands, k, now, mode=mode, margin=margin).picks
        universe.update(c.person_id for c in cands)
        notes += len(picks)
        first: float | None = None
        for p in picks:
            per_person[p.person_id] += 1
            sent.append(now)
            d = delay.get(p.person_id, 24.0)
            real = p.person_id in q.grades
            answers = real or rnd.random() < rate.get(p.person_id, 0.02)
            if answers and d <= EXPIRE.total_seconds() / 3600:
                first = d if first is None else min(first, d)
                open_until[p.person_id].append(now + timedelta(hours=d))
            else:
                open_until[p.person_id].append(now + EXPIRE)
        hits += any(p.person_id in q.grades for p in picks)
        if first is not None:
            answered += 1
            ttfa.append(first)
    total = sum(per_person.values()) or 1
    top = max(1, round(len(universe) * 0.05))  # top 5% of everyone who was a candidate
    return {
        "real answerer notified": hits / max(1, len(test)),
        "notifications / answered q": notes / max(1, answered),
        "load share of top 5%": sum(n for _, n in per_person.most_common(top)) / total,
        "median time to 1st answer (h)": statistics.median(ttfa) if ttfa else float("nan"),
        "people notified": float(len(per_person)),
    }


def bench(store: Store, work: Path, name: str, questions: list[JudgedQuestion], k: int) -> None:
    cut, test = temporal_split(questions)
    history = [q for q in questions if datetime.fromtimestamp(q.time, UTC) < cut]
    path = work / f"{name}-expertise"
    build_expertise(store, path, until=cut)
    rate, delay = responsiveness(store, history)
    rows = {
        "plain top-k": simulate(store, path, test, rate, delay, "plain", k),
        "balanced 0.8": simulate(store, path, test, rate, delay, "balanced", k, 0.8),
        "balanced 0.6": simulate(store, path, test, rate, delay, "balanced", k, 0.6),
    }
    print(f"\n== {name}: {len(test)} test questions routed to k={k}")
    print(f"   {'metric':32} " + " ".join(f"{c:>13}" for c in rows))
    for metric in rows["plain top-k"]:
        print(f"   {metric:32} " + " ".join(f"{rows[c][metric]:13.3f}" for c in rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sites", nargs="*", type=Path, default=DEFAULT_SITES)
    ap.add_argument("--demo-messages", type=int, default=20_000)
    ap.add_argument("--k", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for site in args.sites:
            if not site.exists():
                print(f"skipping {site}: not found", file=sys.stderr)
                continue
            store = open_store(work / f"{site.name}.db")
            reader = reader_for("stackexchange", site)
            ingest(store, reader.kind, reader.source, reader.batches())
            bench(store, work, site.name, answered_questions(store), args.k)
            store.close()
        if args.demo_messages:
            sys.path.insert(0, str(Path(__file__).parent))
            import json

            from bench_experts import demo_questions
            from whoknows.demo import DemoConfig, load_demo

            store = open_store(work / "demo.db")
            res = load_demo(store, DemoConfig(messages=args.demo_messages), truth_path=work / "truth.json")
            truth = json.loads(res.truth_path.read_text())
            qs, _ = demo_questions(store, truth, truth["source"])
            bench(store, work, f"demo org ({args.demo_messages:,} messages)", qs, args.k)
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
