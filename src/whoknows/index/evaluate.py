"""One ``evaluate()`` turning runs and judgments into a metrics table (pyterrier's Experiment, in small).

Metric names: ``map`` (SemEval-2016 Task 3 official: average precision over the top 10, normalised by the
number of relevant items found in the top 10, 0 when none is found, averaged over *all* judged queries),
``map_full`` (classic AP normalised by all relevant items), ``mrr``, ``p@N``, ``ndcg@N`` (graded gains ``2^g -
1``) and ``r@N``. A query missing from a run scores 0. Relevance: grade > 0.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

from whoknows.index.contract import Scored

Ranking = Sequence[Hashable]
Qrels = Mapping[str, Mapping[Hashable, int]]
DEFAULT_METRICS = ("map", "mrr", "p@1", "ndcg@10", "r@10")


def _ids(ranking: Sequence[object]) -> list[Hashable]:
    return [r.doc_id if isinstance(r, Scored) else r for r in ranking]


def semeval_ap(ranking: Ranking, relevant: Mapping[Hashable, int], depth: int = 10) -> float:
    hits, total = 0, 0.0
    for i, d in enumerate(ranking[:depth], start=1):
        if relevant.get(d, 0) > 0:
            hits += 1
            total += hits / i
    return total / hits if hits else 0.0


def full_ap(ranking: Ranking, relevant: Mapping[Hashable, int]) -> float:
    n_rel = sum(1 for g in relevant.values() if g > 0)
    if n_rel == 0:
        return 0.0
    hits, total = 0, 0.0
    for i, d in enumerate(ranking, start=1):
        if relevant.get(d, 0) > 0:
            hits += 1
            total += hits / i
    return total / n_rel


def reciprocal_rank(ranking: Ranking, relevant: Mapping[Hashable, int]) -> float:
    for i, d in enumerate(ranking, start=1):
        if relevant.get(d, 0) > 0:
            return 1.0 / i
    return 0.0


def precision_at(ranking: Ranking, relevant: Mapping[Hashable, int], n: int) -> float:
    return sum(1 for d in ranking[:n] if relevant.get(d, 0) > 0) / n


def recall_at(ranking: Ranking, relevant: Mapping[Hashable, int], n: int) -> float:
    n_rel = sum(1 for g in relevant.values() if g > 0)
    return sum(1 for d in ranking[:n] if relevant.get(d, 0) > 0) / n_rel if n_rel else 0.0


def ndcg_at(ranking: Ranking, relevant: Mapping[Hashable, int], n: int) -> float:
    dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 1) for i, d in enumerate(ranking[:n], start=1))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:n]
    idcg = sum((2**g - 1) / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def metric_value(name: str, ranking: Ranking, relevant: Mapping[Hashable, int]) -> float:
    if name == "map":
        return semeval_ap(ranking, relevant)
    if name == "map_full":
        return full_ap(ranking, relevant)
    if name == "mrr":
        return reciprocal_rank(ranking, relevant)
    base, _, cut = name.partition("@")
    if cut.isdigit():
        n = int(cut)
        if base == "p":
            return precision_at(ranking, relevant, n)
        if base == "r":
            return recall_at(ranking, relevant, n)
        if base == "ndcg":
            return ndcg_at(ranking, relevant, n)
    raise ValueError(f"unknown metric {name!r}; known: map, map_full, mrr, p@N, r@N, ndcg@N")


def evaluate(
    runs: Mapping[str, Mapping[str, Sequence[object]]],
    qrels: Qrels,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, dict[str, float]]:
    """``runs``: run name -> query id -> ranked ids (or :class:`Scored`); returns run -> metric -> mean."""
    table: dict[str, dict[str, float]] = {}
    qids = list(qrels)
    for run_name, run in runs.items():
        row: dict[str, float] = {}
        for m in metrics:
            values = [metric_value(m, _ids(run.get(q, [])), qrels[q]) for q in qids]
            row[m] = sum(values) / len(values) if values else 0.0
        table[run_name] = row
    return table


def format_table(table: Mapping[str, Mapping[str, float]], title: str = "") -> str:
    """A fixed-width text table: one row per run, one column per metric."""
    metrics: list[str] = []
    for row in table.values():
        metrics.extend(m for m in row if m not in metrics)
    width = max([len(r) for r in table] + [8])
    lines = [title] if title else []
    lines.append(f"{'run':<{width}}  " + "  ".join(f"{m:>8}" for m in metrics))
    for name, row in table.items():
        cells = "  ".join(f"{row[m]:>8.4f}" if m in row else f"{'':>8}" for m in metrics)
        lines.append(f"{name:<{width}}  {cells}")
    return "\n".join(lines)
