"""Q&A extraction quality (and throughput) on the real data in ../shared/data and on the demo organisation.

    python bench/bench_extraction.py                                  # every dataset, default paths
    python bench/bench_extraction.py --ai PATH --beer PATH --slack PATH --demo-messages 20000
    python bench/bench_extraction.py --db /tmp/x.db                   # also: rebuild throughput on a database
    python bench/bench_extraction.py --out report.md                  # also write the report to a file

* Stack Exchange (ai, beer): ground truth is the accepted answer; the extractor runs with every accepted flag
  hidden. Precision = picked answer is the accepted one, among questions where something is picked; recall =
  share of accepted answers picked; baselines (highest score, first answer, longest answer) in the same run.
* Fit directions: weights fitted on ai + a demo org (seed 8) are tested on beer, and weights fitted on
  beer + demo(8) on ai; the defaults shipped in code are tested on everything.
* Demo organisation (seed 7, never used for fitting): precision/recall of picking the planted best answer.
* Slack chats (racket #general): question detection on the first messages, the share of conversations
  where a solution by another user is picked, and 10 examples to read.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from whoknows.demo import DemoConfig, DemoGenerator
from whoknows.importers import reader_for
from whoknows.memory.batches import threads_from_batches
from whoknows.memory.extract import extract_thread
from whoknows.memory.features import candidate_features
from whoknows.memory.fit import Group, fit_model, model_source
from whoknows.memory.segment import ordered_posts, segment_thread
from whoknows.memory.types import MessageId, Post, ThreadInput
from whoknows.memory.weights import DEFAULT, SolutionModel

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: thread id -> (question message id, solution message id or None when known to be unsolved)
Truth = dict[MessageId, tuple[MessageId, MessageId | None]]
Picker = Callable[[ThreadInput, MessageId], MessageId | None]


# -- datasets ---------------------------------------------------------------------------------------------------
def load_stackexchange(path: Path) -> tuple[list[ThreadInput], Truth]:
    reader = reader_for("stackexchange", path)
    batches = list(reader.batches())
    truth: Truth = {}
    for b in batches:
        for m in b.messages:
            if m.accepted:
                truth[m.thread_ref] = (m.thread_ref, m.external_id)
    return threads_from_batches(batches, hide_accepted=True), truth


def load_demo(messages: int, seed: int, *, hide_accepted: bool) -> tuple[list[ThreadInput], Truth]:
    gen = DemoGenerator(DemoConfig(messages=messages, seed=seed))
    threads = threads_from_batches(gen.batches(), hide_accepted=hide_accepted)
    truth: Truth = {
        t: (v["question_message"], v["best_message"]) for t, v in gen.truth["threads"].items() if v["medium"] != "crm"
    }
    return threads, truth


def load_slack(path: Path) -> list[ThreadInput]:
    return threads_from_batches(reader_for("slack-chats", path).batches())


# -- fitting ----------------------------------------------------------------------------------------------------
def groups_for(threads: list[ThreadInput], truth: Truth) -> list[Group]:
    out: list[Group] = []
    for t in threads:
        if t.thread_id not in truth:
            continue
        qid, sid = truth[t.thread_id]
        posts = ordered_posts(t)
        for seg in segment_thread(posts):
            if posts[seg.question].id != qid or not seg.candidates:
                continue
            ids = [posts[i].id for i in seg.candidates]
            if sid is not None and sid not in ids:
                continue
            feats = tuple(candidate_features(posts, seg.question, seg.candidates))
            out.append(Group(feats, ids.index(sid) if sid is not None else -1))
    return out


# -- pickers ----------------------------------------------------------------------------------------------------
def extractor(model: SolutionModel) -> Picker:
    def pick(t: ThreadInput, qid: MessageId) -> MessageId | None:
        for pair in extract_thread(t, model):
            if pair.question_id == qid:
                return pair.best.message_id if pair.best else None
        return None

    return pick


def _candidates(t: ThreadInput, qid: MessageId) -> list[Post]:
    posts = ordered_posts(t)
    for seg in segment_thread(posts):
        q = posts[seg.question]
        if q.id == qid:
            return [posts[i] for i in seg.candidates if posts[i].author_id != q.author_id]
    return []


def baseline(key: Callable[[Post], float]) -> Picker:
    def pick(t: ThreadInput, qid: MessageId) -> MessageId | None:
        cands = _candidates(t, qid)
        if not cands:
            return None
        best = max(range(len(cands)), key=lambda i: (key(cands[i]), -i))
        return cands[best].id

    return pick


BASELINES: dict[str, Picker] = {
    "highest score": baseline(lambda p: p.score),
    "first answer": baseline(lambda p: 0.0),
    "longest answer": baseline(lambda p: len(p.text)),
}


def evaluate(threads: list[ThreadInput], truth: Truth, picker: Picker) -> dict[str, float]:
    picked = correct = solved = false_claims = unsolved = 0
    for t in threads:
        if t.thread_id not in truth:
            continue
        qid, sid = truth[t.thread_id]
        got = picker(t, qid)
        if sid is None:
            unsolved += 1
            false_claims += got is not None
            continue
        solved += 1
        picked += got is not None
        correct += got == sid
    p = correct / picked if picked else 0.0
    r = correct / solved if solved else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"n": solved, "P": p, "R": r, "F1": f1, "unsolved": unsolved, "claimed": false_claims / max(unsolved, 1)}


# -- report -----------------------------------------------------------------------------------------------------
class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def table(out: Report, title: str, rows: list[tuple[str, dict[str, float]]], *, unsolved: bool = False) -> None:
    out(f"\n### {title}\n")
    head = "| method | questions | precision | recall | F1 |" + (" claimed on unsolved |" if unsolved else "")
    out(head)
    out("|" + "|".join("---" for _ in head.split("|")[1:-1]) + "|")
    for name, m in rows:
        extra = f" {m['claimed']:.3f} (of {int(m['unsolved'])}) |" if unsolved else ""
        out(f"| {name} | {int(m['n'])} | {m['P']:.3f} | {m['R']:.3f} | {m['F1']:.3f} |{extra}")


def slack_section(out: Report, threads: list[ThreadInput], model: SolutionModel, *, samples: int = 10) -> None:
    detected = solved = replied = 0
    examples = []
    for t in threads:
        posts = ordered_posts(t)
        root = posts[0]
        pairs = extract_thread(t, model)
        first = next((p for p in pairs if p.question_id == root.id), None)
        replied += any(p.author_id != root.author_id for p in posts[1:])
        if first is None:
            continue
        detected += 1
        if first.best is not None and first.best.solver_id != first.asker_id:
            solved += 1
            examples.append(first)
    n = len(threads)
    out("\n### Slack chats (racket #general 2017-2019)\n")
    out("| conversations | first message is a question | a reply by another user | solution by another user picked |")
    out("|---|---|---|---|")
    out(f"| {n} | {detected / n:.3f} ({detected}) | {replied / n:.3f} ({replied}) | {solved / n:.3f} ({solved}) |")
    out(f"\n{samples} random examples (seed 1):\n")
    for pair in random.Random(1).sample(examples, min(samples, len(examples))):
        assert pair.best is not None
        top = sorted(model.contributions(pair.best.signals).items(), key=lambda kv: -abs(kv[1]))[:4]
        out(f"- **Q** ({pair.asker_id}): {pair.question_text[:220]}")
        out(f"  **A** ({pair.best.solver_id}, p={pair.best.confidence:.2f}): {pair.best.snippet[:220]}")
        out(f"  signals: {', '.join(f'{k} {v:+.2f}' for k, v in top)}")


def throughput(out: Report, db: str) -> None:
    from whoknows.memory import rebuild_memory
    from whoknows.store import open_store

    store = open_store(db)
    counts = store.counts()
    stats = rebuild_memory(store)
    store.close()
    out(f"\n### Throughput: rebuild_memory on {db} ({counts['messages']:,} messages, {counts['threads']:,} threads)\n")
    out("| threads | questions | solved | seconds | threads/s | messages/s |")
    out("|---|---|---|---|---|---|")
    out(
        f"| {stats.threads:,} | {stats.questions:,} | {stats.solved:,} | {stats.seconds:.1f} | "
        f"{stats.threads_per_second:,.0f} | {stats.messages / stats.seconds:,.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ai", type=Path, default=DATA / "stackexchange" / "ai.stackexchange.com")
    ap.add_argument("--beer", type=Path, default=DATA / "stackexchange" / "beer.stackexchange.com")
    ap.add_argument("--slack", type=Path, default=DATA / "slack-chats")
    ap.add_argument("--demo-messages", type=int, default=20_000)
    ap.add_argument("--db", help="also measure rebuild_memory throughput on this database")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = ap.parse_args(argv)
    out = Report()
    started = time.perf_counter()
    sites = {name: load_stackexchange(path) for name, path in (("ai", args.ai), ("beer", args.beer))}
    demo_fit = load_demo(max(5_000, args.demo_messages // 2), 8, hide_accepted=True)
    demo_test = load_demo(args.demo_messages, 7, hide_accepted=False)
    demo_hidden = load_demo(args.demo_messages, 7, hide_accepted=True)
    slack = load_slack(args.slack)
    out(f"# Q&A extraction benchmark\n\nloaded in {time.perf_counter() - started:.1f} s")
    groups = {name: groups_for(*data) for name, data in sites.items()}
    groups["demo8"] = groups_for(*demo_fit)
    models = {
        "fit ai+demo8": fit_model(groups["ai"] + groups["demo8"], fitted_on="ai+demo8"),
        "fit beer+demo8": fit_model(groups["beer"] + groups["demo8"], fitted_on="beer+demo8"),
        "fit ai only": fit_model(groups["ai"], fitted_on="ai"),
        "fit beer only": fit_model(groups["beer"], fitted_on="beer"),
        f"default ({DEFAULT.fitted_on})": DEFAULT,
    }
    for name in ("ai", "beer"):
        threads, truth = sites[name]
        rows = [(f"extractor, {m}", evaluate(threads, truth, extractor(model))) for m, model in models.items()]
        rows += [(f"baseline: {b}", evaluate(threads, truth, pick)) for b, pick in BASELINES.items()]
        table(out, f"{name}.stackexchange: picking the accepted answer (accepted flags hidden)", rows)
    for label, (threads, truth) in (("accepted flags visible", demo_test), ("accepted flags hidden", demo_hidden)):
        rows = [(f"extractor, {m}", evaluate(threads, truth, extractor(model))) for m, model in models.items()]
        rows += [(f"baseline: {b}", evaluate(threads, truth, pick)) for b, pick in BASELINES.items()]
        table(
            out,
            f"demo org (seed 7, {args.demo_messages:,} messages): picking best_message, {label}",
            rows,
            unsolved=True,
        )
    slack_section(out, slack, DEFAULT)
    for name, model in models.items():
        if name.startswith("fit ai+demo8") or name.startswith("fit beer+demo8"):
            out(f"\n{name}: threshold {model.threshold}\n```python\n{model_source(model)}\n```")
    if args.db:
        throughput(out, args.db)
    if args.out:
        args.out.write_text("\n".join(out.lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
