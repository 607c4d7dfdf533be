"""Solutions found in chat: the extractor against hand labels on racket #general conversations (2017-2019).

    python bench/bench_chat_extraction.py                       # default paths, table per year
    python bench/bench_chat_extraction.py --json out.json       # also the figures as JSON
    python bench/bench_chat_extraction.py --print-sample 60     # the sampled conversations, for labelling

The labels (``bench/labels/racket-chat-solutions.csv``, the rule at its top) name, for each sampled
conversation, whether a reply by another person solves its opener's question and which one (by position and
``ts``). A pick is correct when it is that reply; precision is over every conversation where the method picks
a solution, recall over the labelled solved ones.

The chat model's weights, its prior strength (itself chosen by leave-one-year-out inside the fitting years) and
its threshold (the most recall at precision 0.8 on the fitting years, as shipped; also the best-F1 one) are
chosen on the labels of two years and reported on the third, for each of the three; the table prints each year,
worst first, with the baselines in the same run (today's extractor at its own threshold, the Q&A weights with a
threshold chosen on the fitting years, and "the first reply by another person").
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whoknows.importers import reader_for
from whoknows.memory.batches import threads_from_batches
from whoknows.memory.extract import extract_thread
from whoknows.memory.features import CHAT_FEATURES, candidate_features
from whoknows.memory.fit import Group, fit_model, model_source
from whoknows.memory.segment import ordered_posts, segment_thread
from whoknows.memory.types import ThreadInput
from whoknows.memory.weights import DEFAULT, SolutionModel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "slack-chats"
LABELS = ROOT / "bench" / "labels" / "racket-chat-solutions.csv"
YEARS = ("2017", "2018", "2019")
SEED = 17


@dataclass(frozen=True, slots=True)
class Conversation:
    year: str
    conversation_id: str
    thread: ThreadInput


def load_year(path: Path, year: str) -> dict[str, Conversation]:
    """The conversations of one year's file, keyed by their ``conversation_id``."""
    batches = list(reader_for("slack-chats", path).batches())
    conv_of = {t.external_id: str(t.meta.get("conversation_id", "")) for b in batches for t in b.threads}
    out: dict[str, Conversation] = {}
    for t in threads_from_batches(batches):
        cid = conv_of.get(str(t.thread_id), "")
        out[cid] = Conversation(year, cid, t)
    return out


def sample(convs: dict[str, Conversation], n: int, seed: int = SEED) -> list[Conversation]:
    """``n`` conversations with a reply by someone other than the opener, by a fixed seed."""
    eligible = sorted(
        (c for c in convs.values() if len({p.author_id for p in c.thread.posts}) > 1),
        key=lambda c: int(c.conversation_id) if c.conversation_id.isdigit() else 0,
    )
    return random.Random(f"{seed}-{n}").sample(eligible, min(n, len(eligible)))


def print_conversation(c: Conversation, *, max_chars: int = 300) -> None:
    posts = ordered_posts(c.thread)
    print(f"=== {c.year} conversation {c.conversation_id} ({len(posts)} messages)")
    for i, p in enumerate(posts):
        text = " ".join(p.text.split())
        text = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
        who = str(p.author_id).rsplit(":", 1)[-1]
        print(f"  [{i}] {p.created_at.strftime('%H:%M')} {who}: {text}")


@dataclass(frozen=True, slots=True)
class Label:
    year: str
    conversation_id: str
    solved: bool
    positions: tuple[int, ...]  # the labelled reply first, then the others accepted
    note: str


def read_labels(path: Path) -> list[Label]:
    """The labels file (``#`` lines are its rule); raises ``ValueError`` naming the line for a bad row."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    out: list[Label] = []
    for n, row in enumerate(csv.DictReader(lines), start=2):
        try:
            solved = {"yes": True, "no": False}[row["solved"].strip()]
            first = [int(row["message"])] if row["message"].strip() else []
            more = [int(p) for p in row["also_accepted"].split(";") if p.strip()]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: data row {n - 1}: {exc!r}") from None
        if solved != bool(first):
            raise ValueError(f"{path}: data row {n - 1}: solved={row['solved']} but message={row['message']!r}")
        out.append(Label(row["year"].strip(), row["conversation_id"].strip(), solved, (*first, *more), row["note"]))
    return out


# -- methods ----------------------------------------------------------------------------------------------------
Item = tuple[Label, ThreadInput]
#: A method's pick for a conversation: the position of the reply it records as the opener's solution, or None.
Picker = Callable[[ThreadInput], int | None]
#: Candidate pulls of the chat fit towards the shipped Q&A weights (pseudo-observations per weight); the one used
#: is chosen by leave-one-year-out inside the fitting years (:func:`choose_strength`).
PRIOR_STRENGTHS = (5.0, 20.0, 80.0)
#: The precision the issue asks for; the second operating point picks its threshold on the fitting years.
TARGET_PRECISION = 0.8


def _root_pair_pick(t: ThreadInput, model: SolutionModel) -> tuple[int, float] | None:
    """(position, probability) of the best solution recorded for the opener's question, if any."""
    posts = ordered_posts(t)
    where = {p.id: i for i, p in enumerate(posts)}
    for pair in extract_thread(t, model):
        if pair.question_id == posts[0].id or pair.asker_id == posts[0].author_id:
            best = pair.best
            return (where[best.message_id], best.confidence) if best is not None else None
    return None


def extractor(model: SolutionModel) -> Picker:
    def pick(t: ThreadInput) -> int | None:
        got = _root_pair_pick(t, model)
        return got[0] if got else None

    return pick


def first_reply(t: ThreadInput) -> int | None:
    posts = ordered_posts(t)
    return next((i for i, p in enumerate(posts) if p.author_id != posts[0].author_id), None)


def score(items: list[Item], pick: Picker) -> dict[str, float]:
    picked = correct = solved = 0
    for label, t in items:
        got = pick(t)
        solved += label.solved
        picked += got is not None
        correct += label.solved and got in label.positions
    p = correct / picked if picked else 0.0
    r = correct / solved if solved else 0.0
    return {
        "n": len(items),
        "solved": solved,
        "picked": picked,
        "correct": correct,
        "P": p,
        "R": r,
        "F1": 2 * p * r / (p + r) if p + r else 0.0,
    }


def groups(items: list[Item]) -> list[Group]:
    """Training groups: the opener's candidates and the labelled reply (-1 when unsolved)."""
    out: list[Group] = []
    for label, t in items:
        posts = ordered_posts(t)
        segs = [s for s in segment_thread(posts) if s.question == 0]
        if not segs or not segs[0].candidates:
            continue
        cands = segs[0].candidates
        hits = [cands.index(p) for p in label.positions if p in cands]
        if label.solved and not hits:
            continue  # the labelled reply is not a candidate of the opener's question
        feats = tuple(candidate_features(posts, 0, cands))
        out.append(Group(feats, hits[0] if hits else -1))
    return out


def with_threshold(model: SolutionModel, items: list[Item], precision: float | None = None) -> SolutionModel:
    """``model`` with the threshold that maximises F1 on ``items`` (each conversation's top candidate), or with
    ``precision``: the lowest threshold whose precision on ``items`` reaches it (the most recall at that
    precision), falling back to the F1 choice when no threshold above a tenth of the recall reaches it."""
    low = SolutionModel(model.weights, model.intercept, 0.0, model.fitted_on, model.meta)
    tops: list[tuple[float, bool]] = []
    solved = sum(label.solved for label, _ in items)
    for label, t in items:
        got = _root_pair_pick(t, low)
        if got is not None:
            tops.append((got[1], label.solved and got[0] in label.positions))
    best_f1, best_t, reach = -1.0, 0.5, None
    for thr in sorted({p for p, _ in tops}):
        picked = [ok for p, ok in tops if p >= thr]
        correct = sum(picked)
        prec, rec = correct / len(picked), correct / max(solved, 1)
        f1 = 2 * prec * rec / (prec + rec) if correct else 0.0
        if f1 > best_f1 + 1e-9:
            best_f1, best_t = f1, thr
        if precision is not None and reach is None and prec >= precision and rec >= 0.1:
            reach = thr
    chosen = reach if reach is not None else best_t
    meta = {**model.meta, "precision_reached": float(reach is not None)}
    return SolutionModel(model.weights, model.intercept, round(chosen, 4), model.fitted_on, meta)


def fit_chat(items: list[Item], name: str, precision: float | None = None, strength: float = 20.0) -> SolutionModel:
    """The chat model on ``items``: logistic fit over :data:`CHAT_FEATURES` pulled towards the shipped Q&A
    weights with ``strength``, then the threshold of the best F1 on the same conversations."""
    priors = {**DEFAULT.weights, **PRIORS_CHAT}
    model = fit_model(groups(items), features=CHAT_FEATURES, priors=priors, prior_strength=strength, fitted_on=name)
    model = SolutionModel(model.weights, model.intercept, model.threshold, name, {**model.meta, "strength": strength})
    return with_threshold(model, items, precision)


def choose_strength(by_year: dict[str, list[Item]]) -> float:
    """The prior strength with the best mean F1 when fitted on one of ``by_year``'s years and scored on another."""
    best, best_f1 = PRIOR_STRENGTHS[0], -1.0
    for strength in PRIOR_STRENGTHS:
        f1s = [
            score(test, extractor(fit_chat(train, "inner", strength=strength)))["F1"]
            for y, train in by_year.items()
            for z, test in by_year.items()
            if z != y
        ]
        mean = sum(f1s) / len(f1s)
        if mean > best_f1 + 1e-9:
            best, best_f1 = strength, mean
    return best


def fit_chosen(by_year: dict[str, list[Item]], name: str) -> SolutionModel:
    """The chat model on all of ``by_year``, its prior strength chosen inside them."""
    strength = choose_strength(by_year)
    return fit_chat([it for its in by_year.values() for it in its], name, strength=strength)


#: Priors for the chat cues: an acknowledgement counts like the asker's thanks; the rest start at 0.
PRIORS_CHAT = {"ack_next": 3.0, "failure_next": -2.0}


# -- report -----------------------------------------------------------------------------------------------------
def held_out(items: dict[str, list[Item]]) -> dict[str, list[tuple[str, dict[str, float]]]]:
    """For each year: every method on that year, the fitted ones fitted on the other two years only."""
    out: dict[str, list[tuple[str, dict[str, float]]]] = {}
    for year in items:
        train = [it for y, its in items.items() if y != year for it in its]
        test = items[year]
        others = "+".join(y for y in items if y != year)
        chat = fit_chosen({y: its for y, its in items.items() if y != year}, f"racket {others}")
        strict = with_threshold(chat, train, TARGET_PRECISION)
        recal = with_threshold(DEFAULT, train)
        out[year] = [
            (
                f"chat model fitted on {others} (prior strength {chat.meta['strength']:g}), threshold for precision "
                f"{TARGET_PRECISION} there ({strict.threshold:.3f}"
                + ("" if strict.meta.get("precision_reached") else ": not reachable there, best F1")
                + "; shipped operating point)",
                score(test, extractor(strict)),
            ),
            (f"same, best-F1 threshold on {others} ({chat.threshold:.3f})", score(test, extractor(chat))),
            (
                f"shipped Q&A weights, threshold chosen on {others} ({recal.threshold:.3f})",
                score(test, extractor(recal)),
            ),
            (
                f"today's extractor ({DEFAULT.fitted_on}, threshold {DEFAULT.threshold})",
                score(test, extractor(DEFAULT)),
            ),
            ("baseline: first reply by another person", score(test, first_reply)),
        ]
    return out


def recorded_share(convs: dict[str, dict[str, Conversation]], model: SolutionModel) -> dict[str, float]:
    """Share of all conversations (with a reply by someone else) whose opener gets a solution recorded."""
    out: dict[str, float] = {}
    for year, by_id in convs.items():
        pool = [c for c in by_id.values() if len({p.author_id for p in c.thread.posts}) > 1]
        out[year] = sum(extractor(model)(c.thread) is not None for c in pool) / max(len(pool), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", type=Path, default=DATA, help="folder with racket-general-<year>.xml")
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--print-sample", type=int, metavar="N", help="print N sampled conversations per year and stop")
    ap.add_argument(
        "--fit-source",
        action="store_true",
        help="print the model fitted on all years, at the precision target (for weights.py)",
    )
    args = ap.parse_args(argv)
    started, cpu = time.perf_counter(), time.process_time()
    files = {y: args.data / f"racket-general-{y}.xml" for y in YEARS}
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        print(f"error: missing {', '.join(missing)} (expected the racket #general chats)", file=sys.stderr)
        return 2
    convs = {y: load_year(f, y) for y, f in files.items()}
    if args.print_sample:
        for y in YEARS:
            for c in sample(convs[y], args.print_sample):
                print_conversation(c)
        return 0
    labels = read_labels(args.labels)
    items: dict[str, list[Item]] = {y: [] for y in YEARS}
    for label in labels:
        conv = convs.get(label.year, {}).get(label.conversation_id)
        if conv is None:
            print(f"error: {args.labels}: no conversation {label.conversation_id} in {label.year}", file=sys.stderr)
            return 2
        items[label.year].append((label, conv.thread))
    results = held_out(items)
    order = sorted(results, key=lambda y: results[y][0][1]["F1"])
    print(f"# Chat solutions found: racket #general, {len(labels)} labelled conversations, leave-one-year-out\n")
    print("| held-out year | method | labelled | solved | picked | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for year in order:
        for name, m in results[year]:
            print(
                f"| {year} | {name} | {m['n']} | {m['solved']} | {m['picked']} | {m['P']:.3f} | {m['R']:.3f} "
                f"| {m['F1']:.3f} |"
            )
    every = [it for its in items.values() for it in its]
    shipped = with_threshold(fit_chosen(items, "racket 2017-2019"), every, TARGET_PRECISION)
    shares = {"today": recorded_share(convs, DEFAULT), "chat": recorded_share(convs, shipped)}
    print("\nShare of all conversations with a reply by someone else whose opener gets a solution recorded:")
    for y in YEARS:
        print(f"- {y}: today {shares['today'][y]:.3f}, chat model fitted on all years {shares['chat'][y]:.3f}")
    if args.fit_source:
        print(f"\nchat model fitted on all three years (prior strength {shipped.meta['strength']:g}):\n```python")
        print(model_source(shipped, "CHAT") + "\n```")
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"\n{wall:.1f} s wall, {used:.1f} s CPU")
    if args.json:
        doc = {"held_out": results, "recorded_share": shares, "wall_s": wall, "cpu_s": used}
        args.json.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
