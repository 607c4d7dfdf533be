"""Routing as shipped, replayed: the test period of Stack Exchange dumps, chat files and the demo org as a stream
of questions, routed by the policy with the product's defaults, side by side with the plain ranker.

    python bench/bench_routing.py [SOURCE ...] [--demo-messages 20000] [--k 3] [--json out.json]

SOURCE: Stack Exchange dump folders and chat files (``<slack>`` XML), as for ``bench_experts.py``; default ai,
beer, racket 2017-2019 from ``../shared/data``, plus the demo org. Protocol: the same temporal split and truth as
``bench_experts.py`` (the model is built from the first 80% of answered questions; the last 20% are replayed in
time order; on the demo each is asked as its real asker). Each test question is ranked once by ``find_experts``
(30 candidates) and routed by two policies, each with its own running state (open requests, notifications this week):

* **plain top-k**: the first k by score after the experts' hard rules, no budget, no working hours;
* **as shipped**: :func:`whoknows.routing.policy.choose` with :class:`whoknows.settings.Settings` defaults (weekly
  budget, spread margin, floor), everyone's working hours from their time zone (``people.timezone``; UTC when the
  source has none) with the default 9-18 Monday-Friday, the default urgency (a day), and escalation: a request not
  answered within the escalation hours goes to the next experts chosen the same way (the floor measured against
  the first round's best).

Answers are replayed from the data: a notified real answerer answers at their real reply time when they were
notified before it, else their median history delay after the notification; anyone else answers with their history
answer rate (share of history questions they answered x 20, capped at 0.5) after their median delay (24 h when
unknown). Reported per source and policy: the share of questions whose real answerer was among the first round's
notifications (at most k), the same after escalations, notifications per question, the share of notifications that
went to the top 5% most-notified people, their Gini coefficient, and the median time to the first answer.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from expert_sources import DEFAULT_SOURCES, DEMO, Source, open_source, source_kind, split_site
from whoknows.expertise import build_expertise, find_experts
from whoknows.expertise.evaluation import JudgedQuestion
from whoknows.routing.policy import URGENCY, Candidate, choose
from whoknows.routing.prefs import Prefs
from whoknows.settings import Settings
from whoknows.store import Store, schema

POLICIES = ("plain top-k", "as shipped")
MAX_ROUNDS = 3


def history_behaviour(store: Store, history: list[JudgedQuestion]) -> tuple[dict[int, float], dict[int, float]]:
    """Per person: answer rate over history questions, and median delay (hours) of their replies in history."""
    answered: Counter[int] = Counter(p for q in history for p in q.grades)
    rate = {p: min(0.5, n / max(1, len(history)) * 20) for p, n in answered.items()}
    firsts = first_replies(store, history)
    delays: dict[int, list[float]] = defaultdict(list)
    for q in history:
        for pid, at in firsts.get(q.qid, {}).items():
            delays[pid].append(max(0.05, (at - q.time) / 3600))
    return rate, {p: statistics.median(d) for p, d in delays.items()}


def first_replies(store: Store, questions: list[JudgedQuestion]) -> dict[str, dict[int, float]]:
    """Per question: each answerer's first reply time in its thread (epoch seconds)."""
    m = schema.messages
    by_root = {q.message_id: q for q in questions}
    thread_of: dict[int, int] = {}
    out: dict[str, dict[int, float]] = {}
    with store.read() as conn:
        ids = list(by_root)
        for i in range(0, len(ids), 900):
            for mid, tid in conn.execute(select(m.c.id, m.c.thread_id).where(m.c.id.in_(ids[i : i + 900]))):
                thread_of[int(tid)] = int(mid)
        tids = list(thread_of)
        for i in range(0, len(tids), 900):
            rows = conn.execute(
                select(m.c.thread_id, m.c.author_id, m.c.created_at).where(
                    m.c.thread_id.in_(tids[i : i + 900]), m.c.author_id.is_not(None)
                )
            ).all()
            for tid, author, at in rows:
                q = by_root[thread_of[int(tid)]]
                if int(author) not in q.grades or at is None:
                    continue
                when = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
                if when <= q.time:
                    continue
                got = out.setdefault(q.qid, {})
                got[int(author)] = min(got.get(int(author), when), when)
    return out


@dataclass
class State:
    notified: list[tuple[int, datetime]] = field(default_factory=list)  # (person, when), every notification
    open_until: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    per_person: Counter[int] = field(default_factory=Counter)
    first_round_hits: int = 0
    hits: int = 0
    notes: int = 0
    ttfa: list[float] = field(default_factory=list)


def candidates(
    ranked: list[tuple[int, str, float]], st: State, zones: dict[int, str | None], now: datetime
) -> list[Candidate]:
    out = []
    week_ago = now - timedelta(days=7)
    recent = Counter(p for p, t in st.notified if week_ago <= t <= now)
    for pid, name, score in ranked:
        st.open_until[pid] = [t for t in st.open_until[pid] if t > now]
        out.append(Candidate(pid, name, score, Prefs(pid), zones.get(pid), len(st.open_until[pid]), recent[pid]))
    return out


def route_one(
    policy: str,
    q: JudgedQuestion,
    ranked: list[tuple[int, str, float]],
    real: dict[int, float],
    st: State,
    zones: dict[int, str | None],
    rate: dict[int, float],
    delay: dict[int, float],
    settings: Settings,
    k: int,
    rnd: random.Random,
) -> None:
    now = datetime.fromtimestamp(q.time, UTC)
    asked: set[int] = set()
    best = ranked[0][2] if ranked else None
    answered_at: float | None = None
    expire = timedelta(hours=settings.routing_escalation_hours)
    for round_ in range(1, MAX_ROUNDS + 1 if policy == "as shipped" else 2):
        pool = [r for r in ranked if r[0] not in asked and r[0] != q.asker_id]
        cands = candidates(pool, st, zones, now)
        if policy == "plain top-k":
            picks = choose(cands, k, now, mode="plain", default_budget=10**6).picks
        else:
            picks = choose(
                cands,
                k,
                now,
                margin=settings.routing_spread_margin,
                default_budget=settings.routing_weekly_budget,
                wait_until=now + URGENCY["today"],
                best_score=best,
                floor=settings.routing_floor,
            ).picks
        if not picks:
            break
        latest = now
        for p in picks:
            at = p.not_before or now
            latest = max(latest, at)
            asked.add(p.person_id)
            st.notified.append((p.person_id, at))
            st.per_person[p.person_id] += 1
            st.notes += 1
            d = delay.get(p.person_id, 24.0) * 3600
            if p.person_id in real:
                reply = real[p.person_id] if real[p.person_id] >= at.timestamp() else at.timestamp() + d
            elif rnd.random() < rate.get(p.person_id, 0.02):
                reply = at.timestamp() + d
            else:
                reply = None
            if reply is not None and reply <= (at + expire).timestamp():
                answered_at = reply if answered_at is None else min(answered_at, reply)
                st.open_until[p.person_id].append(datetime.fromtimestamp(reply, UTC))
            else:
                st.open_until[p.person_id].append(at + expire)
        if round_ == 1:
            st.first_round_hits += any(p.person_id in q.grades for p in picks)
        if answered_at is not None:
            break
        now = latest + expire  # nobody answered in time: the next round
    st.hits += bool(asked & q.grades.keys())
    if answered_at is not None:
        st.ttfa.append((answered_at - q.time) / 3600)


def gini(counts: list[int]) -> float:
    xs = sorted(counts)
    n, total = len(xs), sum(xs)
    if not n or not total:
        return 0.0
    return sum((2 * i - n - 1) * x for i, x in enumerate(xs, 1)) / (n * total)


def bench_source(src: Source, work: Path, k: int, settings: Settings) -> dict[str, object]:
    split = split_site(src.questions)
    if split.skipped is not None or split.cut is None:
        print(f"\n== {src.name}: {split.skipped}")
        return {"skipped": split.skipped}
    cut, test = split.cut, split.test
    history = [q for q in src.questions if q.time < cut.timestamp()]
    path = work / f"{src.name.replace(' ', '-')}-routing-expertise"
    build_expertise(src.store, path, until=cut)
    rate, delay = history_behaviour(src.store, history)
    real = first_replies(src.store, test)
    with src.store.read() as conn:
        zones = {int(i): z for i, z in conn.execute(select(schema.people.c.id, schema.people.c.timezone))}
    states = {p: State() for p in POLICIES}
    rnds = {p: random.Random(1) for p in POLICIES}
    universe: set[int] = set()
    for q in test:
        viewer = src.store.viewer(q.asker_id if src.as_asker else None)
        ranked = [
            (e.person_id, e.name, e.score) for e in find_experts(src.store, q.text, viewer, k=30, path=path).experts
        ]
        universe.update(r[0] for r in ranked)
        for p in POLICIES:
            route_one(p, q, ranked, real.get(q.qid, {}), states[p], zones, rate, delay, settings, k, rnds[p])
    rows: dict[str, dict[str, float]] = {}
    top = max(1, round(len(universe) * 0.05))
    for p, st in states.items():
        total = sum(st.per_person.values()) or 1
        rows[p] = {
            "real answerer in first round": st.first_round_hits / len(test),
            "real answerer notified (with escalations)": st.hits / len(test),
            "notifications / question": st.notes / len(test),
            "load share of top 5%": sum(n for _, n in st.per_person.most_common(top)) / total,
            "gini of notifications": gini([st.per_person.get(u, 0) for u in universe]),
            "median hours to 1st answer": statistics.median(st.ttfa) if st.ttfa else float("nan"),
            "answered share": len(st.ttfa) / len(test),
        }
    plain, shipped = rows["plain top-k"], rows["as shipped"]
    ratio_hit = shipped["real answerer in first round"] / max(plain["real answerer in first round"], 1e-9)
    ratio_load = shipped["load share of top 5%"] / max(plain["load share of top 5%"], 1e-9)
    print(f"\n== {src.name} ({src.kind}): {len(test)} test questions, k={k}")
    print(f"   {'metric':44} " + " ".join(f"{c:>13}" for c in rows))
    for metric in plain:
        print(f"   {metric:44} " + " ".join(f"{rows[c][metric]:13.3f}" for c in rows))
    print(
        f"   as shipped / plain: first-round hit {ratio_hit:.2f}x (goal >= 0.9), top-5% share {ratio_load:.2f}x "
        "(goal <= 0.5)"
    )
    return {"kind": src.kind, "test": len(test), "rows": rows, "hit_ratio": ratio_hit, "load_ratio": ratio_load}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="*", type=Path, default=DEFAULT_SOURCES)
    ap.add_argument("--demo-messages", type=int, default=20_000, help="0 skips the demo organisation")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--work", type=Path, help="keep (and reuse) the imported databases in this folder")
    args = ap.parse_args(argv)
    for s in args.sources:
        source_kind(s)  # a clear error before any work
    settings = Settings()
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="wk-bench-routing-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        specs = [str(s) for s in args.sources] + ([DEMO] if args.demo_messages else [])
        for spec in specs:
            src = open_source(spec, work, args.demo_messages)
            report[src.name] = bench_source(src, work, args.k, settings)
            src.store.close()
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
