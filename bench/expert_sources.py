"""The sources of the expert-finding benchmarks, one shape for all: a Stack Exchange dump folder (``Posts.xml``), a
chat file (the ``<slack>`` XML of the racket #general export) or the generated demo organisation. Each becomes
a :class:`Source`: its store, the protocol's judged questions (oldest first), whether questions are asked as
their real asker (the demo's permissions), and the demo's planted experts.

:func:`collect` keeps what the cross-source choice of the ranker's configuration needs of a scored source: the
model's training groups (history only), the baselines' rankings and each test question's candidate features, as
``find_experts`` computes them (under the asker's readable spaces, the asker known). :func:`loso_select` refits
every configuration of :data:`CONFIGS` on each source's own history (as the product does) and chooses, for each
source, the configuration with the best mean log ratio to the best baseline's MRR on the *other* sources.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from whoknows.demo import DemoConfig, load_demo
from whoknows.expertise import ExpertiseModel
from whoknows.expertise import rows as store_rows
from whoknows.expertise.evaluation import JudgedQuestion, qrels, temporal_split
from whoknows.expertise.evidence import thread_evidence
from whoknows.expertise.features import Z_PREFIX
from whoknows.expertise.learn import Group, fit_time_ordered, load_groups
from whoknows.importers import reader_for
from whoknows.index import Filters, evaluate
from whoknows.ingest import ingest
from whoknows.store import Store, open_store, schema

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_SOURCES = [
    DATA / "stackexchange" / "ai.stackexchange.com",
    DATA / "stackexchange" / "beer.stackexchange.com",
    DATA / "slack-chats" / "racket-general-2017.xml",
    DATA / "slack-chats" / "racket-general-2018.xml",
    DATA / "slack-chats" / "racket-general-2019.xml",
]
DEMO = "demo"
#: Below these a site is reported as skipped, not fitted and scored.
MIN_TEST_QUESTIONS = 10
MIN_PEOPLE = 3
DEFAULT = "default (learned)"


# -- ground truth as the protocol states it ----------------------------------------------------------------
def protocol_questions(store: Store, *, chat: bool = False) -> list[JudgedQuestion]:
    """Every answered question of the store, judged by the protocol, oldest first (ties: message id).

    Q&A sites (a thread opened by a ``question`` post): the authors of its ``answer`` posts, the asker included
    (grade 1), the accepted answer's author grade 2; comments never count; no answer post, not answered.
    Chats (``chat``: every conversation's opener asks): the repliers other than the opener (grade 1), the first
    replier the asker thanked, else the first replier, grade 2."""
    out: list[JudgedQuestion] = []
    for batch in store_rows.iter_threads(store):
        for rows in batch:
            judged = _chat_judged(rows) if chat else _judged(rows)
            if judged is not None:
                out.append(judged)
    out.sort(key=lambda q: (q.time, q.message_id))
    return out


def _judged(rows: Sequence[store_rows.MessageRow]) -> JudgedQuestion | None:
    root = next((r for r in rows if r.kind == "question"), None)
    if root is None:
        return None
    grades: dict[int, int] = {}
    for r in rows:  # an answer may predate its question after a merge: order does not matter
        if r.kind == "answer" and r.author_id is not None:
            grades[r.author_id] = max(grades.get(r.author_id, 0), 2 if r.accepted else 1)
    if not grades:
        return None
    return JudgedQuestion(str(root.id), root.id, root.text, root.author_id, root.time, grades)


def _chat_judged(rows: Sequence[store_rows.MessageRow]) -> JudgedQuestion | None:
    root = rows[0]
    asker = root.author_id
    thanked = {e.message_id for e in thread_evidence(rows) if e.thanked}
    repliers: list[int] = []
    best: int | None = None
    for r in rows[1:]:
        if r.author_id is None or r.author_id == asker:
            continue
        if r.author_id not in repliers:
            repliers.append(r.author_id)
        if best is None and r.id in thanked:
            best = r.author_id
    if not repliers:
        return None
    grades = dict.fromkeys(repliers, 1)
    grades[best if best is not None else repliers[0]] = 2
    return JudgedQuestion(str(root.id), root.id, root.text, asker, root.time, grades)


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


@dataclass
class Source:
    name: str
    kind: str  # "stackexchange" | "chat" | "demo"
    store: Store
    questions: list[JudgedQuestion]
    as_asker: bool
    planted: dict[str, dict[object, int]] = field(default_factory=dict)
    path: Path | None = None


def source_kind(path: Path) -> str:
    """``stackexchange`` for a dump folder, ``chat`` for a chat XML file; a clear error for anything else."""
    if path.is_dir() and (path / "Posts.xml").exists():
        return "stackexchange"
    if path.is_file() and path.suffix == ".xml":
        with path.open("rb") as f:
            head = f.read(512).lstrip()
        if head.startswith(b"<slack"):
            return "chat"
    raise SystemExit(
        f"{path}: neither a Stack Exchange dump folder (with Posts.xml) nor a chat file (<slack> XML); "
        f"pass dump folders, chat files or '{DEMO}'"
    )


def source_name(path: Path) -> str:
    name = path.name.removesuffix(".xml").removesuffix(".stackexchange.com")
    return name.replace("racket-general-", "racket ")


def open_source(spec: str, work: Path, demo_messages: int) -> Source:
    if spec == DEMO:
        store = open_store(work / f"demo-{demo_messages}.db")
        truth_path = work / f"demo-{demo_messages}-truth.json"
        if not truth_path.exists():
            load_demo(store, DemoConfig(messages=demo_messages), truth_path=truth_path)
        truth = json.loads(truth_path.read_text())
        qs, planted = demo_questions(store, truth, truth["source"])
        return Source(DEMO, DEMO, store, qs, True, planted)
    path = Path(spec)
    kind = source_kind(path)
    name = source_name(path)
    db = work / f"{name.replace(' ', '-')}.db"
    fresh = not db.exists()
    store = open_store(db)
    if fresh:
        reader = reader_for("stackexchange" if kind == "stackexchange" else "slack-chats", path)
        ingest(store, reader.kind, reader.source, reader.batches())
    return Source(name, kind, store, protocol_questions(store, chat=kind == "chat"), False, path=path)


@dataclass
class Collected:
    """One source's split, model and test-question features (see the module docstring)."""

    name: str
    kind: str
    questions: int
    test: list[JudgedQuestion]
    skipped: str | None
    names: tuple[str, ...] = ()
    groups: list[Group] = field(default_factory=list)  # the model's training groups (history only)
    product_weights: dict[str, float] = field(default_factory=dict)
    #: Per test question: candidate person ids, their features and the baselines' rankings (person ids).
    cand: list[np.ndarray] = field(default_factory=list)
    x: list[np.ndarray] = field(default_factory=list)
    baselines: dict[str, dict[str, list[object]]] = field(default_factory=dict)
    planted: dict[str, dict[object, int]] = field(default_factory=dict)


def collect(
    src: Source, model: ExpertiseModel, test: list[JudgedQuestion], runs: dict[str, dict[str, list[object]]]
) -> Collected:
    """What the cross-source selection needs of one scored source: ``model`` (built from the history only), its
    training groups, the baselines' ``runs`` and every test question's candidates and features."""
    table = model.table
    out = Collected(
        src.name,
        src.kind,
        len(src.questions),
        test,
        None,
        model.extractor.names,
        load_groups(model.path / "training.npz"),
        baselines={k: v for k, v in runs.items() if k != DEFAULT},
        planted={q.qid: src.planted[q.qid] for q in test} if src.planted else {},
    )
    readable: dict[int | None, frozenset[int]] = {}
    for q in test:
        asker = q.asker_id if src.as_asker else None
        if asker not in readable:
            readable[asker] = src.store.viewer(asker).spaces or frozenset()
        qf = model.extractor.extract(q.text, Filters(spaces=readable[asker]), asker=table.person_index(q.asker_id))
        out.cand.append(np.asarray(table.person_ids[qf.cand], dtype=np.int64))
        out.x.append(qf.x.copy())
    return out


# -- choosing the ranker's configuration across sources ------------------------------------------------------
PRIORS = frozenset(
    {"answers", "accepted", "accept_rate", "pos_score", "askers", "decayed", "days_idle", "questions", "pagerank"}
)


def _topical(name: str) -> bool:
    return name.removeprefix(Z_PREFIX) not in PRIORS


#: The candidate configurations of the ranker, as the features it is fitted on (the product ships the one the
#: validation picks over every source; it fits the weights on each organisation's own history).
CONFIGS: dict[str, Callable[[str], bool]] = {
    "all features": lambda n: not n.startswith(Z_PREFIX),
    "all + standardised": lambda n: True,
    "topical only": lambda n: not n.startswith(Z_PREFIX) and _topical(n),
    "topical + standardised": _topical,
}
SHIPPED = "all + standardised"


def config_run(c: Collected, config: str) -> dict[str, list[object]]:
    """The test questions ranked by the ranker of ``config`` fitted on the source's history (as the product fits
    it), asker left out, at most 100 people."""
    keep = [i for i, n in enumerate(c.names) if CONFIGS[config](n)]
    names = [c.names[i] for i in keep]
    model = fit_time_ordered([Group(g.x[:, keep], g.y, g.time, g.weight) for g in c.groups], names)
    out: dict[str, list[object]] = {}
    for q, cand, x in zip(c.test, c.cand, c.x, strict=True):
        if not len(cand):
            out[q.qid] = []
            continue
        order = np.lexsort((cand, -model.score(x[:, keep])))
        ranked: list[object] = [int(cand[i]) for i in order if cand[i] != q.asker_id]
        out[q.qid] = ranked[:100]
    return out


def diversity(run_: dict[str, list[object]]) -> float:
    """Distinct top-3 lists over the questions ranked: 1.0 when every question gets its own three people."""
    return len({tuple(r[:3]) for r in run_.values()}) / len(run_) if run_ else 0.0


def best_baseline(c: Collected, metric: str = "mrr") -> tuple[str, float]:
    table = evaluate(c.baselines, qrels(c.test), (metric,))
    name = max((k for k in table if k != "random"), key=lambda k: (table[k][metric], k))
    return name, table[name][metric]


def loso_select(collected: list[Collected]) -> dict[str, dict[str, object]]:
    """Per source: every configuration's MRR ratio to the source's best baseline, and the configuration chosen
    for it by the mean log ratio over the *other* sources (never the source itself)."""
    ratios: dict[str, dict[str, float]] = {}
    runs: dict[str, dict[str, dict[str, list[object]]]] = {}
    for c in collected:
        _, base = best_baseline(c)
        runs[c.name] = {cfg: config_run(c, cfg) for cfg in CONFIGS}
        table = evaluate(runs[c.name], qrels(c.test), ("mrr",))
        ratios[c.name] = {cfg: table[cfg]["mrr"] / base if base > 0 else 0.0 for cfg in CONFIGS}
    out: dict[str, dict[str, object]] = {}
    for c in collected:
        chosen = choose_config(ratios, exclude=c.name)
        out[c.name] = {"ratios": ratios[c.name], "chosen": chosen, "run": runs[c.name][chosen]}
    return out


def choose_config(ratios: dict[str, dict[str, float]], exclude: str | None = None) -> str:
    """The configuration with the best mean log MRR ratio over the sources of ``ratios`` other than ``exclude``
    (ties: the shipped one, then by name)."""
    sources = [s for s in ratios if s != exclude]

    def mean_log(cfg: str) -> float:
        return float(np.mean([math.log(max(ratios[s][cfg], 1e-6)) for s in sources])) if sources else 0.0

    return max(sorted(CONFIGS), key=lambda cfg: (mean_log(cfg), cfg == SHIPPED))


def shipped_choice(selection: dict[str, dict[str, object]]) -> str:
    """The configuration the validation picks over every source (what the product should ship)."""
    ratios: dict[str, dict[str, float]] = {}
    for name, sel in selection.items():
        got = sel["ratios"]
        assert isinstance(got, dict)
        ratios[name] = {str(k): float(v) for k, v in got.items()}
    return choose_config(ratios)
