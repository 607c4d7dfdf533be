"""Non-answers (brush-offs, redirects, "I don't know", pure questions) told from answers, against hand labels.

The labels (``bench/labels/non-answers.csv``, the rule at its top) are replies sampled from the racket #general
chats (``../shared/data/slack-chats``, 2017-2019, seed 18, short replies and replies with '?', '@' or a hedge word
oversampled) and read by hand, plus demo replies from :mod:`whoknows.demo.text` labelled by their template.

The rules of :mod:`whoknows.expertise.nonanswer` were written before any label was read, and all three racket years
were labelled before the classifier was run on any of them. The first run printed (untuned) racket 2017 P 1.000
R 0.444, 2018 P 1.000 R 0.111, 2019 P 1.000 R 0.444, demo P/R 1.000. The rules were then tuned on the errors of
2017 and 2018 (and on replies the rules flagged in the unlabelled rest of 2017/2018); racket 2019 is the held-out
part (marked ``held out``): its errors were never shown (``--errors`` skips it) until the rules were final, and
nothing was changed after. Precision is the share of replies called non-answers that are non-answers (a real
answer dropped from the evidence is the costly error); the table prints each source, worst F1 first.

    python bench/bench_non_answers.py [labels.csv] [--json]
    python bench/bench_non_answers.py --sample YEAR N   # print a draft sample to label (racket; "demo" for demo)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from whoknows.expertise.nonanswer import non_answer_kind
from whoknows.memory.signals import is_hedge

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "slack-chats"
LABELS = ROOT / "bench" / "labels" / "non-answers.csv"
SEED = 18
HELD_OUT = frozenset({"racket-2019"})


def racket_replies(path: Path) -> list[tuple[str, str]]:
    """(``conversation-position`` id, text) of every reply by someone other than the conversation's opener."""
    seen: dict[str, tuple[str, int]] = {}
    out: list[tuple[str, str]] = []
    for m in ET.parse(path).getroot().iter("message"):
        cid = m.get("conversation_id", "")
        user = m.findtext("user") or ""
        text = (m.findtext("text") or "").strip()
        if cid not in seen:
            seen[cid] = (user, 1)
            continue
        opener, n = seen[cid]
        seen[cid] = (opener, n + 1)
        if user != opener and text:
            out.append((f"{cid}-{n}", text))
    return out


def _suspect(text: str) -> bool:
    return len(text.split()) <= 12 or "?" in text or "@" in text or is_hedge(text)


def sample_racket(year: str, n: int) -> list[tuple[str, str]]:
    """``n`` replies of one year by a fixed seed: half among the suspect ones (short, '?', '@', a hedge)."""
    replies = racket_replies(DATA / f"racket-general-{year}.xml")
    rng = random.Random(f"{SEED}-{year}")
    suspect = [r for r in replies if _suspect(r[1])]
    other = [r for r in replies if not _suspect(r[1])]
    picked = rng.sample(suspect, min(len(suspect), n - n // 2)) + rng.sample(other, min(len(other), n // 2))
    return sorted(picked, key=lambda r: tuple(int(x) for x in r[0].split("-")))


def demo_replies() -> list[tuple[str, str, int]]:
    """(id, text, label) of demo replies: each hedge template, each clarifying question and expert answers."""
    from whoknows.demo import text as demo
    from whoknows.demo.catalog import TOPICS

    rng = random.Random(SEED)
    out: list[tuple[str, str, int]] = []
    for i, template in enumerate(demo.HEDGES, start=1):
        for j in range(6):
            topic = rng.choice(TOPICS)
            s = demo.slots(rng)
            fact = rng.choice(topic.facts)
            body = template.format(fact_lc=fact[:1].lower() + fact[1:], expert="dana.ortiz", channel=topic.channel, **s)
            out.append((f"hedge{i}-{j}", body, 1 if i >= 4 else 0))
    for i, template in enumerate(demo.CLARIFY, start=1):
        for j in range(2):
            out.append((f"clarify{i}-{j}", template.format(**demo.slots(rng)), 1))
    for j in range(24):
        topic = rng.choice(TOPICS)
        out.append((f"answer-{j}", demo.answer(rng, topic, demo.slots(rng), "Sam", "sam.lee"), 0))
    return out


def read_labels(path: Path) -> list[tuple[str, str, str, int]]:
    """(source, id, text, label) rows; ``#`` lines are the rule. Raises ``ValueError`` naming a bad row."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    out = []
    for n, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=1):
        try:
            label = int(row["label"])
            if label not in (0, 1):
                raise ValueError(f"label {label} is not 0 or 1")
            out.append((row["source"], row["id"], row["text"], label))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: data row {n}: {exc}") from None
    return out


def scores(rows: list[tuple[str, str, str, int]]) -> dict[str, float]:
    tp = fp = fn = 0
    for _, _, text, label in rows:
        said = non_answer_kind(text) is not None
        tp += said and label == 1
        fp += said and label == 0
        fn += (not said) and label == 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"n": len(rows), "positives": tp + fn, "precision": p, "recall": r, "f1": f1, "fp": fp, "fn": fn}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("labels", nargs="?", type=Path, default=LABELS)
    ap.add_argument("--json", action="store_true", help="print the table as JSON")
    ap.add_argument("--sample", nargs=2, metavar=("YEAR", "N"), help="print a draft sample to label, as CSV")
    ap.add_argument("--errors", action="store_true", help="print the misclassified rows (not for held-out sources)")
    args = ap.parse_args(argv)
    if args.sample:
        year, n = args.sample
        w = csv.writer(sys.stdout, lineterminator="\n")
        if year == "demo":
            for rid, text, label in demo_replies():
                w.writerow(["demo", rid, text, label])
        else:
            for rid, text in sample_racket(year, int(n)):
                w.writerow([f"racket-{year}", rid, " ".join(text.split())[:400], ""])
        return 0
    try:
        rows = read_labels(args.labels)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    by_source: dict[str, list[tuple[str, str, str, int]]] = {}
    for row in rows:
        by_source.setdefault(row[0], []).append(row)
    table = {src: scores(rs) for src, rs in by_source.items()}
    table["all"] = scores(rows)
    order = [*sorted(by_source, key=lambda s: (table[s]["f1"], table[s]["precision"])), "all"]
    if args.json:
        print(json.dumps({s: {**table[s], "held_out": s in HELD_OUT} for s in order}, indent=2))
    else:
        print(f"# Non-answers told from answers: {len(rows)} labelled replies, worst source first\n")
        print(f"{'source':<14}{'n':>5}{'pos':>5}{'precision':>11}{'recall':>8}{'F1':>7}{'fp':>4}{'fn':>4}")
        for s in order:
            t = table[s]
            mark = "  held out" if s in HELD_OUT else ""
            print(
                f"{s:<14}{t['n']:>5}{t['positives']:>5}{t['precision']:>11.3f}{t['recall']:>8.3f}{t['f1']:>7.3f}"
                f"{t['fp']:>4}{t['fn']:>4}{mark}"
            )
    if args.errors:
        for src, rid, text, label in rows:
            said = non_answer_kind(text)
            if src not in HELD_OUT and (said is not None) != bool(label):
                print(f"{'FP' if said else 'FN'} {src} {rid} [{said}] {text[:200]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
