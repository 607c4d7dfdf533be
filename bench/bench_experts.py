"""Expert finding benchmark: Stack Exchange dumps (temporal split) and the demo organisation (planted truth).

    python bench/bench_experts.py [SITE_DIR ...] [--demo-messages 20000] [--no-ablation] [--json out.json]
                                  [--work DIR] [--boot 10000] [--other-cuts 0.6,0.7,0.9] [--rebuild-days 7]

Protocol (TCQR, WSDM 2020; SE-PEF 2023): answered questions sorted by CreationDate; the first 80% are history,
the last 20% test. The model is built from the history only (messages before the first test question), its
weights fitted by time-ordered validation inside that history; candidates are everyone who answered before the
cut. Ground truth (:func:`protocol_questions`): the authors of the question's answer posts (grade 1; the asker
too when they answered their own question) and the author of the accepted answer (grade 2); comments never count,
and a question without an answer post is not answered. On chats (an opener that asks): the repliers, grade 2 for
the first replier the asker thanked, else the first replier. Rankers never propose the asker, so a question
answered only by its asker scores 0 for every ranker ("self-answered only" below, kept in the averages like cold
start). Cold start = share of test questions whose answerers never answered before the cut (no ranker can find
them; they stay in the averages). The same procedure runs on every site: nothing is tuned per dataset. The
ablation refits the default ranker without one feature group at a time (on the same history) and scores it on the
same test questions. A site with fewer than 10 test questions or fewer than 3 people who answered before the cut
is reported as skipped (with those counts), never fitted.

Check against an independent implementation (:func:`independent_most_active`): the truth and the most-active
baseline recomputed straight from Posts.xml with plain ``xml.etree`` (not the product's importer or store); the
run reports both and fails (exit status 1, after every site) unless the test questions and their judgments are the
same and most-active's MRR agrees within 0.02.

Significance: a paired bootstrap over test questions (``--boot`` resamples, fixed seed) of the default minus the
best baseline on each metric: the mean difference, its 95% percentile interval and on how many questions the two
differ. ``--other-cuts`` repeats the split on each Stack Exchange site with other history shares (the model
rebuilt as of each cut) and prints, per cut and metric, the default against the best baseline: whether a result
holds beyond the one 80% cut. ``--rebuild-days N`` scores the same test questions a second way, as the product
runs: the model (and every baseline) rebuilt every N days of the test period from everything before that day, so
a question is ranked with the outcomes of the earlier test questions learnt (the product rebuilds on every
import and refits on every outcome); candidates stay the people who answered before the cut. ``--work DIR``
keeps the imported databases there and reuses them on the next run (the model is always rebuilt).

Demo organisation: generated with a fixed seed, split the same way by question time; each test question is asked
as its real asker (their permissions), judged against the planted truth: the people who actually answered (the
accepted/thanked one grade 2), and separately the topic's planted experts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from whoknows.demo import DemoConfig, load_demo
from whoknows.expertise import ExpertiseModel, build_expertise
from whoknows.expertise import rows as store_rows
from whoknows.expertise.evaluation import (
    METRICS,
    JudgedQuestion,
    answered_before,
    baseline_rankers,
    cold_start_share,
    qrels,
    run,
    temporal_split,
)
from whoknows.expertise.evidence import ANSWER, QUESTION, thread_evidence
from whoknows.expertise.learn import Group, fit_time_ordered, load_groups
from whoknows.importers import reader_for
from whoknows.index import Filters, evaluate, format_table
from whoknows.index.evaluate import metric_value
from whoknows.ingest import ingest
from whoknows.store import Store, open_store, schema

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SITES = [
    REPO.parent / "shared/data/stackexchange/ai.stackexchange.com",
    REPO.parent / "shared/data/stackexchange/beer.stackexchange.com",
]
DEFAULT = "default (learned)"
#: Reported beside the issue's four metrics (not part of the acceptance criterion).
EXTRA_METRICS = ("r@10",)
QUESTION_RELATIVE = ("vote_share", "vote_lift", "vote_top", "topic_idle", "asker_helped")
FEATURE_GROUPS: dict[str, Callable[[str], bool]] = {
    "voting (M2)": lambda n: n.startswith("vote_") and n not in QUESTION_RELATIVE,
    "profile (M1)": lambda n: n == "profile",
    "reception": lambda n: n in ("accepted", "accept_rate", "pos_score", "vote_good"),
    "graph": lambda n: n in ("askers", "pagerank"),
    "activity/recency": lambda n: n in ("answers", "decayed", "days_idle", "vote_recent", "questions"),
    "question-relative": lambda n: n in QUESTION_RELATIVE,
}
#: Below these a site is reported as skipped, not fitted and scored.
MIN_TEST_QUESTIONS = 10
MIN_PEOPLE = 3
#: How far the product's most-active MRR may lie from the independent computation's.
MOST_ACTIVE_TOLERANCE = 0.02


# -- ground truth as the protocol states it ----------------------------------------------------------------
def protocol_questions(store: Store) -> list[JudgedQuestion]:
    """Every answered question of the store, judged by the protocol, oldest first (ties: message id).

    Q&A sites (a thread opened by a ``question`` post): the authors of its ``answer`` posts, the asker included
    (grade 1), the accepted answer's author grade 2; comments never count; no answer post, not answered.
    Chats (any other thread whose opener asks): the repliers (grade 1), the first replier the asker thanked, else
    the first replier, grade 2."""
    out: list[JudgedQuestion] = []
    for batch in store_rows.iter_threads(store):
        for rows in batch:
            judged = _judged(rows)
            if judged is not None:
                out.append(judged)
    out.sort(key=lambda q: (q.time, q.message_id))
    return out


def _judged(rows: Sequence[store_rows.MessageRow]) -> JudgedQuestion | None:
    root = next((r for r in rows if r.kind == "question"), None)
    grades: dict[int, int] = {}
    if root is not None:  # a Q&A site (an answer may predate its question after a merge: order does not matter)
        for r in rows:
            if r.kind == "answer" and r.author_id is not None:
                grades[r.author_id] = max(grades.get(r.author_id, 0), 2 if r.accepted else 1)
    else:
        root = rows[0]
        ev = thread_evidence(rows)
        if ev[0].role != QUESTION:
            return None
        repliers = [(e.author_id, e.thanked) for e in ev[1:] if e.role == ANSWER and e.author_id is not None]
        grades = {author: 1 for author, _ in repliers if author is not None}
        best = next((a for a, thanked in repliers if thanked), repliers[0][0] if repliers else None)
        if best is not None:
            grades[best] = 2
    if not grades:
        return None
    return JudgedQuestion(str(root.id), root.id, root.text, root.author_id, root.time, grades)


@dataclass
class Split:
    """A site's temporal split, or why it cannot be scored (``skipped``)."""

    questions: int
    cut: datetime | None
    test: list[JudgedQuestion]
    skipped: str | None = None


def split_site(questions: Sequence[JudgedQuestion], history: float = 0.8) -> Split:
    """The temporal split of ``questions``; ``skipped`` says why when there are too few test questions or too few
    people who answered before the cut (the rest of the run goes on)."""
    test = list(questions[int(len(questions) * history) :])
    if len(test) < MIN_TEST_QUESTIONS:
        return Split(
            len(questions), None, test, f"skipped: {len(test)} test questions (fewer than {MIN_TEST_QUESTIONS})"
        )
    cut, test = temporal_split(questions, history)
    people = {p for q in questions if q.time < test[0].time for p in q.grades}
    if len(people) < MIN_PEOPLE:
        return Split(
            len(questions),
            cut,
            test,
            f"skipped: {len(people)} people answered before the cut (fewer than {MIN_PEOPLE})",
        )
    return Split(len(questions), cut, test)


# -- the independent check: straight from Posts.xml -------------------------------------------------------
def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def independent_most_active(site: Path, history: float = 0.8, k: int = 100) -> dict[str, object]:
    """The protocol's truth and the most-active baseline computed from Posts.xml (and Users.xml for who exists)
    with ``xml.etree`` only: test questions (post id -> {user id: grade}) and most-active's MRR on them.

    Most-active: answer posts before the cut per user, ties by accepted share then user id; the candidates are
    the users (not the Community bot, id < 0) with an answer before the cut; never the asker."""
    users: set[str] | None = None
    if (site / "Users.xml").exists():
        users = {el.attrib["Id"] for _, el in ET.iterparse(site / "Users.xml") if el.tag == "row" and "Id" in el.attrib}
    questions: dict[str, tuple[float, int, str | None, str | None]] = {}  # id -> time, id, asker, accepted id
    answers: list[tuple[str, str, float, str]] = []  # id, question id, time, author
    for _, el in ET.iterparse(site / "Posts.xml"):
        if el.tag != "row":
            continue
        a = el.attrib
        owner = a.get("OwnerUserId")
        owner = owner if owner and (users is None or owner in users) else None
        if a.get("PostTypeId") == "1":
            questions[a["Id"]] = (_epoch(a["CreationDate"]), int(a["Id"]), owner, a.get("AcceptedAnswerId"))
        elif a.get("PostTypeId") == "2" and owner is not None:
            answers.append((a["Id"], a["ParentId"], _epoch(a["CreationDate"]), owner))
        el.clear()
    truth: dict[str, dict[str, int]] = {}
    for aid, qid, _, author in answers:
        if qid in questions:
            grade = 2 if questions[qid][3] == aid else 1
            per = truth.setdefault(qid, {})
            per[author] = max(per.get(author, 0), grade)
    answered = sorted(truth, key=lambda q: questions[q][:2])
    test = answered[int(len(answered) * history) :]
    if not test:
        return {"answered": len(answered), "test": {}, "most_active_mrr": 0.0}
    cut = questions[test[0]][0]
    count: dict[str, int] = {}
    accepted: dict[str, int] = {}
    for aid, qid, when, author in answers:
        if when < cut and qid in questions and int(author) > 0:
            count[author] = count.get(author, 0) + 1
            accepted[author] = accepted.get(author, 0) + (questions[qid][3] == aid)
    order = sorted(count, key=lambda u: (-(count[u] + accepted[u] / (count[u] + 1.0)), int(u)))
    rr = []
    for qid in test:
        ranked = [u for u in order if u != questions[qid][2]][:k]
        rr.append(next((1.0 / i for i, u in enumerate(ranked, 1) if truth[qid].get(u)), 0.0))
    return {
        "answered": len(answered),
        "test": {q: truth[q] for q in test},
        "most_active_mrr": sum(rr) / len(rr),
    }


def check_independent(store: Store, site: Path, test: list[JudgedQuestion], product_mrr: float) -> dict[str, object]:
    """Compare the product's test questions and most-active MRR with :func:`independent_most_active`."""
    ref = independent_most_active(site)
    ref_test = ref["test"]
    assert isinstance(ref_test, dict)
    with store.read() as conn:
        post = dict(
            conn.execute(
                select(schema.messages.c.id, schema.messages.c.external_id).where(
                    schema.messages.c.id.in_([q.message_id for q in test])
                )
            ).all()
        )
        user = dict(conn.execute(select(schema.people.c.id, schema.people.c.external_id)).all())
    mine = {str(post[q.message_id]): {str(user[p]): g for p, g in q.grades.items()} for q in test}
    differ = sorted(set(mine) ^ set(ref_test)) + sorted(
        q for q in mine.keys() & ref_test.keys() if mine[q] != ref_test[q]
    )
    ref_mrr = ref["most_active_mrr"]
    assert isinstance(ref_mrr, float)
    ok = not differ and abs(product_mrr - ref_mrr) <= MOST_ACTIVE_TOLERANCE
    print(
        f"   independent check (xml.etree on Posts.xml): {ref['answered']} answered, {len(ref_test)} test questions "
        f"(bench: {len(test)}; judged differently: {len(differ)}); most-active MRR {ref_mrr:.4f} vs bench "
        f"{product_mrr:.4f} ({'OK' if ok else 'MISMATCH'}, tolerance {MOST_ACTIVE_TOLERANCE})"
    )
    return {
        "answered": ref["answered"],
        "test": len(ref_test),
        "judged_differently": differ[:20],
        "most_active_mrr": ref_mrr,
        "ok": ok,
    }


def per_query(
    runs: dict[str, dict[str, list[object]]], judged: dict[str, dict[object, int]], metric: str
) -> dict[str, np.ndarray]:
    """Run name -> the metric's value on every judged question (in qrels order)."""
    qids = list(judged)
    return {
        name: np.array([metric_value(metric, run_.get(q, []), judged[q]) for q in qids]) for name, run_ in runs.items()
    }


def paired_bootstrap(
    runs: dict[str, dict[str, list[object]]],
    judged: dict[str, dict[object, int]],
    metrics: tuple[str, ...],
    boot: int,
    seed: int = 0,
) -> dict[str, dict[str, object]]:
    """Per metric: the default minus the best baseline, with a 95% paired-bootstrap interval over questions."""
    out: dict[str, dict[str, object]] = {}
    rng = np.random.default_rng(seed)
    n = len(judged)
    idx = rng.integers(0, n, size=(boot, n)) if n else np.zeros((boot, 0), dtype=np.int64)
    for m in metrics:
        values = per_query(runs, judged, m)
        base = {k: v for k, v in values.items() if k != DEFAULT}
        best = max(base, key=lambda k: (float(base[k].mean()), k))
        diff = values[DEFAULT] - base[best]
        means = diff[idx].mean(axis=1) if n else np.zeros(boot)
        lo, hi = np.percentile(means, [2.5, 97.5])
        out[m] = {
            "best_baseline": best,
            "diff": float(diff.mean()) if n else 0.0,
            "ci95": [float(lo), float(hi)],
            "p_not_better": float((means <= 0).mean()),
            "differ": int((diff != 0).sum()),
        }
    return out


def format_bootstrap(res: dict[str, dict[str, object]]) -> str:
    lines = ["   default minus the best baseline (paired bootstrap over questions):"]
    for m, r in res.items():
        ci = r["ci95"]
        assert isinstance(ci, list)
        lo, hi = ci
        lines.append(
            f"     {m:<8} vs {r['best_baseline']:<26} {r['diff']:+.4f}  95% CI [{lo:+.4f}, {hi:+.4f}]  "
            f"P(diff<=0) {r['p_not_better']:.3f}  differ on {r['differ']} questions"
        )
    return "\n".join(lines)


def ablation(
    store: Store, model: ExpertiseModel, test: list[JudgedQuestion], as_asker: bool
) -> dict[str, dict[str, float]]:
    groups = load_groups(model.path / "training.npz")
    names = model.extractor.names
    feats = {}
    for q in test:
        asker = q.asker_id if as_asker else None
        feats[q.qid] = model.extractor.extract(
            q.text, Filters.of(spaces=store.viewer(asker).spaces), asker=model.table.person_index(asker)
        )
    runs = {}
    variants: list[tuple[str, Callable[[str], bool]]] = [("default (all features)", lambda n: False)]
    variants += [(f"  without {g}", f) for g, f in FEATURE_GROUPS.items()]
    for label, drop in variants:
        cols = [i for i, n in enumerate(names) if not drop(n)]
        fitted = fit_time_ordered([Group(g.x[:, cols], g.y, g.time) for g in groups], [names[i] for i in cols])
        run_: dict[str, list[object]] = {}
        for q in test:
            qf = feats[q.qid]
            order = np.argsort(-fitted.score(qf.x[:, cols]), kind="stable") if len(qf.cand) else np.zeros(0, np.int64)
            run_[q.qid] = [
                int(model.table.person_ids[qf.cand[i]])
                for i in order
                if model.table.person_ids[qf.cand[i]] != q.asker_id
            ]
        runs[label] = run_
    return evaluate(runs, qrels(test), METRICS)


def other_cuts(store: Store, work: Path, site: str, cuts: list[float]) -> dict[str, dict[str, object]]:
    """Per history share: each metric's default value and the best baseline's (name, value), model as of the cut."""
    questions = protocol_questions(store)
    out: dict[str, dict[str, object]] = {}
    lines = ["   other cuts (history share: metric default vs best baseline):"]
    for share in cuts:
        split = split_site(questions, share)
        if split.skipped is not None or split.cut is None:
            out[f"{share:g}"] = {"test": len(split.test), "skipped": split.skipped}
            lines.append(f"     {share:<4g} {split.skipped}")
            continue
        cut, test = split.cut, split.test
        model = build_expertise(store, work / f"{site}-expertise-cut", until=cut)
        table = evaluate(run(store, baseline_rankers(model), test), qrels(test), METRICS + EXTRA_METRICS)
        row: dict[str, object] = {"test": len(test)}
        cells = []
        for m in METRICS + EXTRA_METRICS:
            best = max((k for k in table if k != DEFAULT), key=lambda k: (table[k][m], k))
            mine, theirs = table[DEFAULT][m], table[best][m]
            row[m] = {"default": mine, "best_baseline": best, "baseline": theirs}
            cells.append(f"{m} {mine:.3f}{'>' if mine > theirs else ('=' if mine == theirs else '<')}{theirs:.3f}")
        out[f"{share:g}"] = row
        lines.append(f"     {share:<4g} ({len(test):>3} test)  " + "  ".join(cells))
    print("\n".join(lines))
    return out


def rebuilt_every(
    store: Store,
    work: Path,
    site: str,
    first: ExpertiseModel,
    test: list[JudgedQuestion],
    cut: datetime,
    days: float,
    boot: int,
) -> dict[str, object]:
    """The test questions ranked by models rebuilt every ``days`` from all evidence before each rebuild (``first``:
    the model as of the cut), every ranker limited to the people who answered before the cut."""
    before_cut = answered_before(first)
    runs: dict[str, dict[str, list[object]]] = {}
    start, rebuilds = cut, 0
    while start.timestamp() <= test[-1].time:
        end = start + timedelta(days=days)
        window = [q for q in test if start.timestamp() <= q.time < end.timestamp()]
        if window:
            model = first if start == cut else build_expertise(store, work / f"{site}-expertise-rolling", until=start)
            rebuilds += start != cut
            for name, ranked in run(store, baseline_rankers(model), window).items():
                runs.setdefault(name, {}).update(
                    {qid: [p for p in people if p in before_cut] for qid, people in ranked.items()}
                )
        start = end
    table = evaluate(runs, qrels(test), METRICS + EXTRA_METRICS)
    sig = paired_bootstrap(runs, qrels(test), METRICS, boot)
    print(format_table(table, f"   rebuilt every {days:g} days through the test period ({rebuilds} rebuilds):"))
    print(format_bootstrap(sig))
    return {"days": days, "rebuilds": rebuilds, "table": table, "bootstrap": sig}


def bench_site(
    site: Path, work: Path, do_ablation: bool, boot: int, cuts: list[float], rebuild_days: float
) -> dict[str, object]:
    db = work / f"{site.name}.db"
    fresh = not db.exists()
    store = open_store(db)
    reader = reader_for("stackexchange", site)
    t0 = time.perf_counter()
    if fresh:
        ingest(store, reader.kind, reader.source, reader.batches())
    questions = protocol_questions(store)
    split = split_site(questions)
    if split.skipped is not None or split.cut is None:
        print(f"\n== {site.name}: {split.skipped}; {len(questions)} answered questions")
        store.close()
        return {"questions": len(questions), "test": len(split.test), "skipped": split.skipped}
    cut, test = split.cut, split.test
    self_only = sum(1 for q in test if set(q.grades) == {q.asker_id})
    t1 = time.perf_counter()
    model = build_expertise(store, work / f"{site.name}-expertise", until=cut)
    build_s = time.perf_counter() - t1
    runs = run(store, baseline_rankers(model), test)
    table = evaluate(runs, qrels(test), METRICS + EXTRA_METRICS)
    sig = paired_bootstrap(runs, qrels(test), METRICS, boot)
    cold = cold_start_share(model, test)
    print(
        f"\n== {site.name}: {len(questions)} answered questions, {len(test)} test (from {cut:%Y-%m-%d}), "
        f"cold start {cold:.1%}, self-answered only {self_only}"
    )
    print(
        f"   import {t1 - t0:.1f} s, model build {build_s:.1f} s; half-life {_hl(model)}; "
        f"{model.manifest['training_questions']} training questions; L2 by time-ordered validation: {model.model.l2}"
    )
    print(format_table(table))
    print(format_bootstrap(sig))
    check = check_independent(store, site, test, table["most-active"]["mrr"])
    print("   weights (standardised):", model.model.weights())
    out: dict[str, object] = {
        "questions": len(questions),
        "test": len(test),
        "self_answered_only": self_only,
        "independent_check": check,
        "cold_start": cold,
        "table": table,
        "bootstrap": sig,
        "weights": model.model.weights(),
        "half_life_days": model.manifest["half_life_days"],
    }
    if do_ablation:
        abl = ablation(store, model, test, False)
        print(format_table(abl, "   ablation (refit without one feature group):"))
        out["ablation"] = abl
    if rebuild_days > 0:
        out["rebuilt"] = rebuilt_every(store, work, site.name, model, test, cut, rebuild_days, boot)
    if cuts:
        out["other_cuts"] = other_cuts(store, work, site.name, cuts)
    store.close()
    return out


def _hl(model: ExpertiseModel) -> str:
    days = model.manifest["half_life_days"]
    return "none (no decay fits best)" if days is None else f"{days:g} days (max likelihood)"


def demo_questions(
    store: Store, truth: dict[str, object], source: str
) -> tuple[list[JudgedQuestion], dict[str, dict[object, int]]]:
    threads = truth["threads"]
    topics = truth["topics"]
    assert isinstance(threads, dict) and isinstance(topics, dict)
    with store.read() as conn:
        people = dict(
            conn.execute(
                select(schema.people.c.external_id, schema.people.c.id).where(schema.people.c.source == source)
            ).all()
        )
        msgs = {
            r.external_id: r
            for r in conn.execute(
                select(
                    schema.messages.c.external_id,
                    schema.messages.c.id,
                    schema.messages.c.text,
                    schema.messages.c.created_at,
                ).where(schema.messages.c.source == source)
            )
        }
    qs, planted = [], {}
    for th in threads.values():
        if th["medium"] == "crm" or not th["answerers"]:
            continue
        m = msgs[th["question_message"]]
        grades = {people[a]: 1 for a in th["answerers"]}
        if th["best_message"]:
            grades[people[th["answerers"][0]]] = 2
        when = (
            m.created_at.timestamp()
            if m.created_at.tzinfo
            else m.created_at.replace(tzinfo=__import__("datetime").UTC).timestamp()
        )
        qid = str(m.id)
        qs.append(JudgedQuestion(qid, m.id, m.text, people[th["asker"]], when, grades))
        planted[qid] = {people[e]: 1 for e, _ in topics[th["topic"]]["experts"] if people[e] != people[th["asker"]]}
    qs.sort(key=lambda q: (q.time, q.message_id))
    return qs, planted


def bench_demo(messages: int, work: Path, boot: int) -> dict[str, object]:
    store = open_store(work / f"demo-{messages}.db")
    t0 = time.perf_counter()
    res = load_demo(store, DemoConfig(messages=messages), truth_path=work / f"demo-{messages}-truth.json")
    truth = json.loads(res.truth_path.read_text())
    qs, planted = demo_questions(store, truth, truth["source"])
    cut, test = temporal_split(qs)
    model = build_expertise(store, work / "demo-expertise", until=cut)
    runs = run(store, baseline_rankers(model), test, as_asker=True)
    answered = evaluate(runs, qrels(test), METRICS + EXTRA_METRICS)
    sig = paired_bootstrap(runs, qrels(test), METRICS, boot)
    experts = evaluate(runs, {q.qid: planted[q.qid] for q in test}, METRICS)
    sig_experts = paired_bootstrap(runs, {q.qid: planted[q.qid] for q in test}, METRICS, boot)
    print(
        f"\n== demo org: {messages:,} messages, {len(qs)} answered questions, {len(test)} test, built in "
        f"{time.perf_counter() - t0:.1f} s; half-life {_hl(model)}; source types {model.manifest['source_kinds']}"
    )
    print(format_table(answered, "   truth = who actually answered (asked as the real asker):"))
    print(format_bootstrap(sig))
    print(format_table(experts, "   truth = the topic's planted experts:"))
    print(format_bootstrap(sig_experts))
    print("   weights (standardised):", model.model.weights())
    store.close()
    return {
        "answered": answered,
        "answered_bootstrap": sig,
        "planted_experts": experts,
        "planted_experts_bootstrap": sig_experts,
        "test": len(test),
        "weights": model.model.weights(),
    }


def _shares(text: str) -> list[float]:
    try:
        shares = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not all(0.1 <= s <= 0.95 for s in shares):
        raise argparse.ArgumentTypeError(f"history shares must lie between 0.1 and 0.95: {text!r}")
    return shares


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sites", nargs="*", type=Path, default=DEFAULT_SITES)
    ap.add_argument("--demo-messages", type=int, default=20_000, help="0 skips the demo organisation")
    ap.add_argument("--no-ablation", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--work", type=Path, help="keep (and reuse) the imported databases in this folder")
    ap.add_argument("--boot", type=int, default=10_000, help="paired bootstrap resamples")
    ap.add_argument(
        "--other-cuts",
        type=_shares,
        default=[],
        help="comma-separated history shares (e.g. 0.6,0.7,0.9) to repeat each site's split at; none by default",
    )
    ap.add_argument(
        "--rebuild-days",
        type=float,
        default=0.0,
        help="also score the test questions with the models rebuilt every N days of the test period (0: off)",
    )
    args = ap.parse_args()
    if args.rebuild_days < 0:
        ap.error("--rebuild-days must be 0 (off) or a positive number of days")
    missing = [s for s in args.sites if not (s / "Posts.xml").exists()]
    if missing:
        sys.exit(f"not a Stack Exchange dump folder: {', '.join(map(str, missing))}")
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="wk-bench-experts-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for site in args.sites:
            report[site.name] = bench_site(
                site, work, not args.no_ablation, args.boot, args.other_cuts, args.rebuild_days
            )
        if args.demo_messages:
            report["demo"] = bench_demo(args.demo_messages, work, args.boot)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    failed = [
        name for name, r in report.items() if isinstance(r, dict) and r.get("independent_check", {}).get("ok") is False
    ]
    if failed:
        sys.exit(f"independent check failed on: {', '.join(failed)} (see 'independent check' above)")


if __name__ == "__main__":
    main()
