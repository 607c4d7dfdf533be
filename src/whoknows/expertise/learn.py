"""The learned combination: a linear pairwise ranking model (RankNet-style logistic loss on feature differences,
Newton's method, numpy only), fitted on the organisation's own history of questions and who answered them.

Training data is a list of :class:`Group` (one past question: candidates' features and graded labels, 2 for the
accepted/thanked answerer, 1 for other answerers, 0 for everyone else). Each question weighs the same whatever
its number of pairs. The L2 strength is chosen by time-ordered (rolling-origin) validation: fit on the older
questions, score the next slice of newer ones, for several cut points, never on test data. The validation score
is the mean of MRR, nDCG@10 and recall@5 over all validation questions (the measures the benchmark reports: one
measure on one slice picked unstable strengths). :func:`refit` adds outcome groups and fits again.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from whoknows.expertise.table import F64
from whoknows.index.evaluate import metric_value

L2_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
MAX_PAIRS_PER_GROUP = 2_000
#: Rolling-origin validation: fit on the groups before each cut, validate on the slice up to the next one.
VALIDATION_CUTS = (0.55, 0.70, 0.85, 1.0)
VALIDATION_METRICS = ("mrr", "ndcg@10", "r@5")
MIN_VALIDATION_GROUPS = 10


@dataclass
class Group:
    x: F64
    y: F64
    time: float = 0.0
    weight: float = 1.0


@dataclass
class LinearModel:
    names: tuple[str, ...]
    mean: F64
    std: F64
    w: F64
    l2: float = 1.0
    info: dict[str, object] = field(default_factory=dict)

    def score(self, x: F64) -> F64:
        self._check(x)
        return np.asarray(((x - self.mean) / self.std) @ self.w, dtype=np.float64)

    def _check(self, x: F64) -> None:
        if x.ndim != 2 or x.shape[1] != len(self.w):
            from whoknows.expertise.errors import ExpertiseCorruptError

            raise ExpertiseCorruptError(
                f"the expertise model's weights ({len(self.w)}) do not match its features ({x.shape[-1]}); "
                "rebuild it (whoknows reindex)"
            )

    def contributions(self, x: F64) -> F64:
        """Per feature, its share of the score (standardised value times weight)."""
        self._check(x)
        return np.asarray(((x - self.mean) / self.std) * self.w, dtype=np.float64)

    def weights(self) -> dict[str, float]:
        """Weights per feature on the standardised scale (comparable across features)."""
        return {n: round(float(v), 4) for n, v in zip(self.names, self.w, strict=True)}

    def as_dict(self) -> dict[str, object]:
        return {
            "names": list(self.names),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "w": self.w.tolist(),
            "l2": self.l2,
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> LinearModel:
        def arr(key: str) -> F64:
            value = d[key]
            assert isinstance(value, list)
            return np.array(value, dtype=np.float64)

        names = d["names"]
        info = d.get("info", {})
        assert isinstance(names, list) and isinstance(info, dict)
        l2 = d.get("l2", 1.0)
        return cls(tuple(str(n) for n in names), arr("mean"), arr("std"), arr("w"), float(str(l2)), info)


def _pairs(groups: Sequence[Group], mean: F64, std: F64, rng: np.random.Generator) -> tuple[F64, F64]:
    diffs, weights = [], []
    for g in groups:
        xs = (g.x - mean) / std
        hi, lo = np.nonzero(g.y[:, None] > g.y[None, :])
        if not len(hi):
            continue
        if len(hi) > MAX_PAIRS_PER_GROUP:
            pick = rng.choice(len(hi), MAX_PAIRS_PER_GROUP, replace=False)
            hi, lo = hi[pick], lo[pick]
        diffs.append(xs[hi] - xs[lo])
        weights.append(np.full(len(hi), g.weight / len(hi)))
    if not diffs:
        return np.zeros((0, len(mean))), np.zeros(0)
    return np.concatenate(diffs), np.concatenate(weights)


def fit(
    groups: Sequence[Group],
    names: Sequence[str],
    l2: float,
    *,
    seed: int = 0,
    iterations: int = 30,
    start: F64 | None = None,
) -> LinearModel:
    """Minimise ``sum_pairs w * log(1 + exp(-(x_hi - x_lo) . beta)) + l2/2 |beta|^2`` on standardised features;
    ``start``: the weights to begin from (a refit starts from the current ones and needs a few steps)."""
    f = len(names)
    rows = np.concatenate([g.x for g in groups]) if groups else np.zeros((0, f))
    mean = rows.mean(axis=0) if len(rows) else np.zeros(f)
    std = rows.std(axis=0) if len(rows) else np.ones(f)
    std = np.where(std > 1e-9, std, 1.0)
    d, w = _pairs(groups, mean, std, np.random.default_rng(seed))
    beta = np.zeros(f) if start is None or len(start) != f else np.array(start, dtype=np.float64)

    def loss(b: F64) -> float:
        return float((w * np.logaddexp(0.0, -(d @ b))).sum() + 0.5 * l2 * float(b @ b))

    current = loss(beta)
    for _ in range(iterations):
        margin = d @ beta
        p = 1.0 / (1.0 + np.exp(np.clip(margin, -30, 30)))  # = sigmoid(-margin)
        grad = -(d * (w * p)[:, None]).sum(axis=0) + l2 * beta
        hess = (d * (w * p * (1 - p))[:, None]).T @ d + l2 * np.eye(f)
        step = np.linalg.solve(hess, grad)
        # Damped Newton: halve the step until the loss falls (a full step from a distant start can overshoot).
        t = 1.0
        while t > 1e-6 and (trial := loss(beta - t * step)) > current:
            t /= 2
        if t <= 1e-6:
            break
        beta, current = beta - t * step, trial
        if np.abs(t * step).max() < 1e-8:
            break
    return LinearModel(tuple(names), mean, std, beta, l2)


def validation_values(model: LinearModel, groups: Sequence[Group]) -> list[float]:
    """Per group: the mean of :data:`VALIDATION_METRICS` of the model's ranking against the group's labels."""
    out = []
    for g in groups:
        ranking = np.argsort(-model.score(g.x), kind="stable").tolist()
        relevant: dict[Hashable, int] = {int(i): int(g.y[i]) for i in np.flatnonzero(g.y > 0)}
        out.append(float(np.mean([metric_value(m, ranking, relevant) for m in VALIDATION_METRICS])))
    return out


def fit_time_ordered(groups: Sequence[Group], names: Sequence[str]) -> LinearModel:
    """Choose L2 by rolling-origin validation over the (time-ordered) groups, then fit on all of them."""
    ordered = sorted(groups, key=lambda g: g.time)
    n = len(ordered)
    cuts = [int(n * c) for c in VALIDATION_CUTS]
    folds = [(a, b) for a, b in itertools.pairwise(cuts) if a >= MIN_VALIDATION_GROUPS and b - a > 0]
    scores: dict[float, float] = {}
    if sum(b - a for a, b in folds) >= MIN_VALIDATION_GROUPS:
        for l2 in L2_GRID:
            values: list[float] = []
            for a, b in folds:
                values += validation_values(fit(ordered[:a], names, l2), ordered[a:b])
            scores[l2] = float(np.mean(values))
    best = max(scores, key=lambda k: (scores[k], k)) if scores else 1.0
    model = fit(ordered, names, best)
    model.info = {"l2_validation": {str(k): round(v, 4) for k, v in scores.items()}, "groups": n}
    return model


# -- persistence of training groups -------------------------------------------------------------------------
def save_groups(path: Path, groups: Sequence[Group], n_features: int) -> None:
    sizes = np.array([len(g.y) for g in groups], dtype=np.int64)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:  # then renamed: a reader never sees a half-written file
        _savez(f, groups, sizes, n_features)
    os.replace(tmp, path)


def _savez(f: Any, groups: Sequence[Group], sizes: Any, n_features: int) -> None:
    np.savez(
        f,
        x=np.concatenate([g.x for g in groups]) if groups else np.zeros((0, n_features)),
        y=np.concatenate([g.y for g in groups]) if groups else np.zeros(0),
        sizes=sizes,
        times=np.array([g.time for g in groups]),
        weights=np.array([g.weight for g in groups]),
    )


def load_groups(path: Path) -> list[Group]:
    with np.load(path) as data:  # each key read once: an npz key access decompresses its whole array again
        x, y = data["x"], data["y"]
        sizes, times, weights = data["sizes"].tolist(), data["times"].tolist(), data["weights"].tolist()
    out, start = [], 0
    for n, t, wt in zip(sizes, times, weights, strict=True):
        out.append(Group(x[start : start + n], y[start : start + n], t, wt))
        start += n
    return out


def write_model(path: Path, model: LinearModel) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(model.as_dict(), indent=1), encoding="utf-8")
    os.replace(tmp, path)
