"""SemEval-2016 Task 3 (Qatar Living, English): subtasks B and C with BM25, vectors and the fused default.

    python bench/bench_semeval.py [DATASET_DIR] [--no-torch] [--cache DIR]

B ranks the 10 related questions of each original question; C ranks the 100 comments of its related threads. Each
original question's candidates form one permission *space*, so the index's space filter selects them (and is
exercised). Candidates a ranker did not return are appended in the search engine's order. C scores each comment
against the original question (weighted RRF of BM25 and vectors) and fuses that with the rank of its thread in B
(weight ``wt``). Weights are chosen on train-part2 and reported on dev. The static PPMI-SVD embedder is trained
(unsupervised, no labels) on the texts of both files: the "organisation's own corpus".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from semeval_data import Original, engine_b, engine_c, load, qrels_b, qrels_c
from whoknows.index import Doc, Filters, SearchIndex, evaluate, format_table, rrf_scores
from whoknows.index.contract import Scored
from whoknows.index.embedders import Embedder, StaticEmbedder, train_static

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "semeval2016-task3"
PUBLISHED = "published, test set: IR baseline B 0.7475 / C 0.4036; best system B 0.7670 / C 0.5541"
VEC_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
THREAD_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)
Run = dict[str, list[Scored]]


class Split:
    def __init__(self, name: str, data: list[Original]) -> None:
        self.name, self.data = name, data
        self.ids: dict[int, str] = {}
        self.b_docs: list[Doc] = []
        self.c_docs: list[Doc] = []
        self.parent: dict[str, str] = {}
        for space, o in enumerate(data):
            for r in o.related:
                self.b_docs.append(Doc(self._id(r.id), r.text, space))
                for c in r.comments:
                    self.c_docs.append(Doc(self._id(c.id), c.text, space))
                    self.parent[c.id] = r.id
        self.qb, self.qc = qrels_b(data), qrels_c(data)
        self.eb, self.ec = engine_b(data), engine_c(data)

    def _id(self, name: str) -> int:
        n = len(self.ids)
        self.ids[n] = name
        return n

    def texts(self) -> list[str]:
        return [o.text for o in self.data] + [d.text for d in self.b_docs + self.c_docs]


def retrieve(split: Split, ix: SearchIndex, which: str, mode: str, k: int) -> Run:
    ranker = ix.lexical if mode == "lexical" else ix.vector
    assert ranker is not None
    return {o.id: ranker.rank(o.text, k, Filters.of([i])) for i, o in enumerate(split.data)}


def complete(hits: list[Scored], names: dict[int, str], engine: list[str]) -> list[str]:
    ranked = [names[h.doc_id] for h in hits]
    seen = set(ranked)
    return ranked + [d for d in engine if d not in seen]


def fuse(lex: Run, vec: Run, w: float) -> Run:
    return {q: [Scored(d, s) for d, s in _sorted(rrf_scores([lex[q], vec.get(q, [])], [1.0, w]))] for q in lex}


def _sorted(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def as_b(split: Split, run: Run) -> dict[str, list[str]]:
    return {q: complete(run[q], split.ids, split.eb[q]) for q in split.eb}


def as_c(split: Split, run: Run, b_order: dict[str, list[str]], wt: float) -> dict[str, list[str]]:
    out = {}
    for q, engine in split.ec.items():
        comments = complete(run[q], split.ids, engine)
        thread_rank = {t: i for i, t in enumerate(b_order[q], start=1)}
        score = {c: 1 / (60 + i) + wt / (60 + thread_rank[split.parent[c]]) for i, c in enumerate(comments, 1)}
        out[q] = sorted(comments, key=lambda c: -score[c])
    return out


def tune(split: Split, lex: tuple[Run, Run], vec: tuple[Run, Run]) -> tuple[float, float]:
    """(vector weight, thread weight) maximising MAP on ``split`` (B for the first, C for the second)."""
    best_w = max(VEC_WEIGHTS, key=lambda w: _map_b(split, fuse(lex[0], vec[0], w)))
    b_order = as_b(split, fuse(lex[0], vec[0], best_w))
    c_run = fuse(lex[1], vec[1], best_w)
    best_t = max(THREAD_WEIGHTS, key=lambda t: evaluate({"x": as_c(split, c_run, b_order, t)}, split.qc)["x"]["map"])
    return best_w, best_t


def _map_b(split: Split, run: Run) -> float:
    return evaluate({"x": as_b(split, run)}, split.qb, ["map"])["x"]["map"]


def build(split: Split, embedder: Embedder | None, tmp: Path) -> tuple[SearchIndex, SearchIndex]:
    name = embedder.name if embedder else "lexical"
    b = SearchIndex.build(tmp / f"{split.name}-{name}-b", split.b_docs, embedder)
    c = SearchIndex.build(tmp / f"{split.name}-{name}-c", split.c_docs, embedder)
    return b, c


def speed(embedder: Embedder, texts: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    embedder.embed(texts)
    throughput = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for t in texts[:50]:
        embedder.embed([t])
    return throughput, (time.perf_counter() - t0) / 50 * 1000


def embedders(args: argparse.Namespace, corpus: list[str]) -> list[Callable[[], Embedder]]:
    out: list[Callable[[], Embedder]] = [lambda: train_static(corpus, dim=args.dim)]
    if args.no_torch:
        return out
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch not installed: MiniLM rows skipped (pip install 'whoknows[embeddings-torch]')")
        return out

    def distilled() -> Embedder:
        cache = Path(args.cache) / "minilm-distilled"
        if (cache / "static.json").exists():
            return StaticEmbedder.load(cache)
        from whoknows.index.embedders.distill import distill_minilm

        emb = distill_minilm()
        emb.save(cache)
        return emb

    def minilm() -> Embedder:
        from whoknows.index.embedders.minilm import MiniLMEmbedder

        return MiniLMEmbedder()

    return [*out, distilled, minilm]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--no-torch", action="store_true", help="skip MiniLM and its distilled model")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "whoknows-bench"))
    ap.add_argument("--dim", type=int, default=128, help="dimensions of the static PPMI-SVD embedder")
    args = ap.parse_args()
    folder = Path(args.data)
    if not folder.exists():
        sys.exit(f"SemEval data not found at {folder}")
    dev = Split("dev", load(folder / "SemEval2016-Task3-CQA-QL-dev.xml"))
    train = Split("train2", load(folder / "SemEval2016-Task3-CQA-QL-train-part2.xml"))
    corpus = dev.texts() + train.texts()
    tmp = Path(tempfile.mkdtemp(prefix="semeval-"))
    rows_b: dict[str, dict[str, list[str]]] = {"engine order (given)": dev.eb}
    rows_c: dict[str, dict[str, list[str]]] = {"engine order (given)": dev.ec}
    lex = {}
    for s in (dev, train):
        ib, ic = build(s, None, tmp)
        lex[s.name] = (retrieve(s, ib, "b", "lexical", 10), retrieve(s, ic, "c", "lexical", 100))
    rows_b["bm25"] = as_b(dev, lex["dev"][0])
    rows_c["bm25 (+thread rank, wt=1)"] = as_c(dev, lex["dev"][1], rows_b["bm25"], 1.0)
    notes = []
    for make in embedders(args, corpus):
        t0 = time.perf_counter()
        emb = make()
        setup = time.perf_counter() - t0
        vec = {}
        for s in (dev, train):
            ib, ic = build(s, emb, tmp)
            vec[s.name] = (retrieve(s, ib, "b", "vector", 10), retrieve(s, ic, "c", "vector", 100))
        w, wt = tune(train, lex["train2"], vec["train2"])
        name = emb.name
        rows_b[f"vectors {name}"] = as_b(dev, vec["dev"][0])
        rows_c[f"vectors {name} (wt={wt:g})"] = as_c(dev, vec["dev"][1], rows_b[f"vectors {name}"], wt)
        fused_b = as_b(dev, fuse(lex["dev"][0], vec["dev"][0], w))
        rows_b[f"hybrid bm25+{name} (w={w:g})"] = fused_b
        rows_c[f"hybrid bm25+{name} (w={w:g}, wt={wt:g})"] = as_c(
            dev, fuse(lex["dev"][1], vec["dev"][1], w), fused_b, wt
        )
        tput, qms = speed(emb, [d.text for d in dev.c_docs[:2000]])
        notes.append(f"{name}: dim {emb.dim}, setup {setup:.1f}s, {tput:,.0f} texts/s, query embed {qms:.2f} ms")
    metrics = ["map", "mrr", "p@1", "ndcg@10"]
    print(format_table(evaluate(rows_b, dev.qb, metrics), "Subtask B (dev, 50 questions x 10 related)"))
    print()
    print(format_table(evaluate(rows_c, dev.qc, metrics), "Subtask C (dev, 50 questions x 100 comments)"))
    print()
    print(PUBLISHED)
    print("embedders (2 cores):")
    for n in notes:
        print("  " + n)


if __name__ == "__main__":
    main()
