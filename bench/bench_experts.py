"""Expert finding benchmark: any mix of Stack Exchange dumps and chat files (temporal split) and the demo
organisation (planted truth), every source reported separately and then together, worst first.

    python bench/bench_experts.py [SOURCE ...] [--demo-messages 20000] [--no-ablation] [--json out.json]
                                  [--work DIR] [--boot 10000] [--other-cuts 0.6,0.7,0.9] [--rebuild-days 7]

A SOURCE is a Stack Exchange dump folder (with ``Posts.xml``; ``Users.xml`` and the rest optional) or a chat file
(the ``<slack>`` XML of the racket #general export); the default is ai, beer and racket 2017, 2018, 2019 from
``../shared/data``, plus the demo organisation.

Protocol (TCQR, WSDM 2020; SE-PEF 2023): answered questions sorted by creation time; the first 80% are history,
the last 20% test. The model is built from the history only (messages before the first test question), its
weights fitted by time-ordered validation inside that history; candidates are everyone who answered before the
cut. Ground truth (:func:`expert_sources.protocol_questions`): on a Q&A site the authors of the question's answer
posts (grade 1; the asker too when they answered their own question) and the author of the accepted answer
(grade 2); comments never count, and a question without an answer post is not answered. On chats every
conversation's opener asks: the repliers other than the opener (grade 1), grade 2 for the first replier the asker
thanked, else the first replier. Rankers never propose the asker, so a question answered only by its asker scores
0 for every ranker ("self-answered only" below, kept in the averages like cold start). Cold start = share of test
questions whose answerers never answered before the cut (no ranker can find them; they stay in the averages).
The same procedure runs on every source: nothing is tuned per dataset. The ablation refits the default ranker
without one feature group at a time (on the same history) and scores it on the same test questions. A source with
fewer than 10 test questions or fewer than 3 people who answered before the cut is reported as skipped (with
those counts), never fitted. Diversity: distinct top-3 lists over test questions (1.0: every question its own
three people; a ranking that ignores the question scores near 0).

The closing table (:func:`summary`) ranks every scored source by the default's MRR ratio to that source's best
baseline, worst first, with the paired-bootstrap interval of the MRR difference and both rankers' diversity. The
default there is the ranker as ``find_experts`` runs it (asker known, under the asker's readable spaces), in the
configuration (:data:`expert_sources.CONFIGS`: which features the ranker is fitted on) chosen by leave-one-source-
out validation: for each source, the configuration with the best mean log MRR ratio on the *other* sources. The
product ships :data:`expert_sources.SHIPPED`; the table also prints the configuration chosen over every source.

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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from whoknows.expertise import ExpertiseModel, build_expertise
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
from whoknows.expertise.features import Z_PREFIX
from whoknows.expertise.learn import Group, fit_time_ordered, load_groups
from whoknows.index import Filters, evaluate, format_table
from whoknows.index.evaluate import metric_value
from whoknows.store import Store, schema

sys.path.insert(0, str(Path(__file__).resolve().parent))
from expert_sources import (
    DEFAULT,
    DEFAULT_SOURCES,
    DEMO,
    MIN_PEOPLE,
    MIN_TEST_QUESTIONS,
    SHIPPED,
    Collected,
    Source,
    Split,
    best_baseline,
    collect,
    demo_questions,
    diversity,
    loso_select,
    open_source,
    protocol_questions,
    shipped_choice,
    source_kind,
    split_site,
)

__all__ = ["MIN_PEOPLE", "MIN_TEST_QUESTIONS", "Split", "demo_questions", "protocol_questions"]
#: Reported beside the issue's four metrics (not part of the acceptance criterion).
EXTRA_METRICS = ("r@10",)
QUESTION_RELATIVE = ("vote_share", "vote_lift", "vote_top", "topic_idle", "asker_helped")


def _raw(name: str) -> str:
    """The feature a per-question standardised copy (``z_...``) comes from; a raw feature's own name."""
    return name.removeprefix(Z_PREFIX)


FEATURE_GROUPS: dict[str, Callable[[str], bool]] = {
    "voting (M2)": lambda n: _raw(n).startswith("vote_") and _raw(n) not in QUESTION_RELATIVE,
    "profile (M1)": lambda n: _raw(n) == "profile",
    "reception": lambda n: _raw(n) in ("accepted", "accept_rate", "pos_score", "vote_good"),
    "graph": lambda n: _raw(n) in ("askers", "pagerank"),
    "activity/recency": lambda n: _raw(n) in ("answers", "decayed", "days_idle", "vote_recent", "questions"),
    "question-relative": lambda n: _raw(n) in QUESTION_RELATIVE,
    "standardised copies": lambda n: n.startswith(Z_PREFIX),
}
#: How far the product's most-active MRR may lie from the independent computation's.
MOST_ACTIVE_TOLERANCE = 0.02


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


def other_cuts(src: Source, work: Path, cuts: list[float]) -> dict[str, dict[str, object]]:
    """Per history share: each metric's default value and the best baseline's (name, value), model as of the cut."""
    store, site, questions = src.store, src.name.replace(" ", "-"), src.questions
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
    src: Source, work: Path, do_ablation: bool, boot: int, cuts: list[float], rebuild_days: float
) -> tuple[dict[str, object], Collected | None]:
    """One Stack Exchange dump or chat file: split, model from the history, every ranker on the test questions."""
    questions = src.questions
    split = split_site(questions)
    if split.skipped is not None or split.cut is None:
        print(f"\n== {src.name}: {split.skipped}; {len(questions)} answered questions")
        return {"questions": len(questions), "test": len(split.test), "skipped": split.skipped}, None
    cut, test = split.cut, split.test
    self_only = sum(1 for q in test if set(q.grades) == {q.asker_id})
    slug = src.name.replace(" ", "-")
    t1 = time.perf_counter()
    model = build_expertise(src.store, work / f"{slug}-expertise", until=cut)
    build_s = time.perf_counter() - t1
    runs = run(src.store, baseline_rankers(model), test)
    table = evaluate(runs, qrels(test), METRICS + EXTRA_METRICS)
    sig = paired_bootstrap(runs, qrels(test), METRICS, boot)
    cold = cold_start_share(model, test)
    print(
        f"\n== {src.name} ({src.kind}): {len(questions)} answered questions, {len(test)} test (from {cut:%Y-%m-%d}), "
        f"cold start {cold:.1%}, self-answered only {self_only}"
    )
    print(
        f"   model build {build_s:.1f} s; half-life {_hl(model)}; "
        f"{model.manifest['training_questions']} training questions; L2 by time-ordered validation: {model.model.l2}"
    )
    print(format_table(table))
    print(format_diversity(runs))
    print(format_bootstrap(sig))
    out: dict[str, object] = {
        "kind": src.kind,
        "questions": len(questions),
        "test": len(test),
        "self_answered_only": self_only,
        "cold_start": cold,
        "table": table,
        "diversity": {k: diversity(v) for k, v in runs.items()},
        "bootstrap": sig,
        "weights": model.model.weights(),
        "half_life_days": model.manifest["half_life_days"],
    }
    if src.kind == "stackexchange" and src.path is not None:
        out["independent_check"] = check_independent(src.store, src.path, test, table["most-active"]["mrr"])
    if do_ablation:
        abl = ablation(src.store, model, test, False)
        print(format_table(abl, "   ablation (refit without one feature group):"))
        out["ablation"] = abl
    if rebuild_days > 0:
        out["rebuilt"] = rebuilt_every(src.store, work, slug, model, test, cut, rebuild_days, boot)
    if cuts:
        out["other_cuts"] = other_cuts(src, work, cuts)
    return out, collect(src, model, test, runs)


def _hl(model: ExpertiseModel) -> str:
    days = model.manifest["half_life_days"]
    return "none (no decay fits best)" if days is None else f"{days:g} days (max likelihood)"


def bench_demo(src: Source, work: Path, boot: int) -> tuple[dict[str, object], Collected]:
    qs, planted = src.questions, src.planted
    t0 = time.perf_counter()
    cut, test = temporal_split(qs)
    model = build_expertise(src.store, work / "demo-expertise", until=cut)
    runs = run(src.store, baseline_rankers(model), test, as_asker=True)
    answered = evaluate(runs, qrels(test), METRICS + EXTRA_METRICS)
    sig = paired_bootstrap(runs, qrels(test), METRICS, boot)
    experts = evaluate(runs, {q.qid: planted[q.qid] for q in test}, METRICS)
    sig_experts = paired_bootstrap(runs, {q.qid: planted[q.qid] for q in test}, METRICS, boot)
    print(
        f"\n== demo org: {len(qs)} answered questions, {len(test)} test, model built in "
        f"{time.perf_counter() - t0:.1f} s; half-life {_hl(model)}; source types {model.manifest['source_kinds']}"
    )
    print(format_table(answered, "   truth = who actually answered (asked as the real asker):"))
    print(format_diversity(runs))
    print(format_bootstrap(sig))
    print(format_table(experts, "   truth = the topic's planted experts:"))
    print(format_bootstrap(sig_experts))
    report: dict[str, object] = {
        "kind": "demo",
        "answered": answered,
        "diversity": {k: diversity(v) for k, v in runs.items()},
        "answered_bootstrap": sig,
        "planted_experts": experts,
        "planted_experts_bootstrap": sig_experts,
        "test": len(test),
        "weights": model.model.weights(),
    }
    return report, collect(src, model, test, runs)


def format_diversity(runs: dict[str, dict[str, list[object]]]) -> str:
    return "   diversity (distinct top-3 lists / questions): " + ", ".join(
        f"{k} {diversity(v):.2f}" for k, v in runs.items()
    )


def summary(collected: list[Collected], boot: int) -> dict[str, object]:
    """Every source on one table, worst first: the default (its configuration chosen on the other sources) against
    the source's best baseline, the ratio of their MRRs, the paired-bootstrap interval of the difference and the
    diversity of both."""
    selection = loso_select(collected)
    rows = []
    for c in collected:
        sel = selection[c.name]
        chosen, mine = sel["chosen"], sel["run"]
        assert isinstance(mine, dict) and isinstance(chosen, str)
        base_name, base_mrr = best_baseline(c)
        judged = qrels(c.test)
        runs = {**c.baselines, DEFAULT: mine}
        table = evaluate(runs, judged, METRICS)
        sig = paired_bootstrap({DEFAULT: mine, base_name: c.baselines[base_name]}, judged, ("mrr",), boot)["mrr"]
        rows.append(
            {
                "source": c.name,
                "kind": c.kind,
                "test": len(c.test),
                "config": chosen,
                "default": table[DEFAULT],
                "best_baseline": base_name,
                "baseline": table[base_name],
                "ratio": table[DEFAULT]["mrr"] / base_mrr if base_mrr > 0 else float("nan"),
                "ci95": sig["ci95"],
                "diversity": diversity(mine),
                "baseline_diversity": diversity(c.baselines[base_name]),
                "config_ratios": sel["ratios"],
            }
        )
    rows.sort(key=lambda r: (float(str(r["ratio"])), str(r["source"])))
    shipped = shipped_choice(selection)
    print(
        "\n== every source, worst first: the default (configuration chosen on the other sources, weights fitted on "
        "the source's own history) vs the source's best baseline (MRR; paired bootstrap 95% CI of the difference)"
    )
    print(
        f"   {'source':<12} {'test':>5}  {'default':>7} {'best baseline':<26} {'MRR':>6} {'ratio':>6}  "
        f"{'95% CI of diff':<18} {'div':>5} {'base div':>8}  config"
    )
    for r in rows:
        d, b, ci = r["default"], r["baseline"], r["ci95"]
        assert isinstance(d, dict) and isinstance(b, dict) and isinstance(ci, list)
        print(
            f"   {r['source']:<12} {r['test']:>5}  {d['mrr']:>7.4f} {r['best_baseline']:<26} {b['mrr']:>6.4f} "
            f"{r['ratio']:>5.2f}x  [{ci[0]:+.3f}, {ci[1]:+.3f}]  {r['diversity']:>5.2f} {r['baseline_diversity']:>8.2f}"
            f"  {r['config']}"
        )
    print("   MRR ratio to the best baseline of every configuration (each fitted on the source's own history):")
    for r in rows:
        ratios = r["config_ratios"]
        assert isinstance(ratios, dict)
        print(f"     {r['source']:<12} " + "  ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    print(f"   chosen over every source (the product ships {SHIPPED!r}): {shipped!r}")
    return {"rows": rows, "chosen_over_all": shipped, "shipped": SHIPPED}


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
    ap.add_argument(
        "sources",
        nargs="*",
        type=Path,
        default=DEFAULT_SOURCES,
        help="Stack Exchange dump folders and chat files (<slack> XML), any mix; default: ai, beer, racket 2017-2019",
    )
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
    kinds = {s: source_kind(s) for s in args.sources}  # a clear error before any work
    report: dict[str, object] = {}
    collected: list[Collected] = []
    with tempfile.TemporaryDirectory(prefix="wk-bench-experts-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for spec in args.sources:
            src = open_source(str(spec), work, args.demo_messages)
            site_cuts = args.other_cuts if kinds[spec] == "stackexchange" else []
            report[src.name], got = bench_site(src, work, not args.no_ablation, args.boot, site_cuts, args.rebuild_days)
            collected += [got] if got is not None else []
            src.store.close()
        if args.demo_messages:
            src = open_source(DEMO, work, args.demo_messages)
            report["demo"], got = bench_demo(src, work, args.boot)
            collected.append(got)
            src.store.close()
        if collected:
            report["summary"] = summary(collected, args.boot)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=float))
    failed = [
        name for name, r in report.items() if isinstance(r, dict) and r.get("independent_check", {}).get("ok") is False
    ]
    if failed:
        sys.exit(f"independent check failed on: {', '.join(failed)} (see 'independent check' above)")


if __name__ == "__main__":
    main()
