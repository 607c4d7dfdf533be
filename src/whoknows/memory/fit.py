"""Fitting the :class:`SolutionModel` on questions whose solution is known (numpy, imported lazily).

Training data are *groups*: one per question, the feature dicts of its candidates and which candidate was
the solution (the accepted answer of a Q&A site with the flag hidden, or a planted best answer). The fit is
an L2-regularised logistic regression (Newton's method); the threshold is then chosen to maximise the F1 of
"pick the top candidate when it reaches the threshold" on the same groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from whoknows.memory.errors import ExtractionError
from whoknows.memory.features import FEATURES
from whoknows.memory.weights import PRIORS, SolutionModel


@dataclass(frozen=True, slots=True)
class Group:
    """The candidates of one question and the index of its known solution (-1: known to be unsolved)."""

    features: tuple[dict[str, float], ...]
    solution: int


def fit_model(
    groups: Sequence[Group],
    *,
    l2: float = 1.0,
    iterations: int = 30,
    features: Sequence[str] = FEATURES,
    priors: dict[str, float] | None = None,
    prior_strength: float = 50.0,
    fitted_on: str = "",
) -> SolutionModel:
    """A logistic solution model fitted on ``groups``.

    The L2 penalty pulls each weight towards its prior (:data:`PRIORS`, else 0), so a cue the training data
    never shows (an asker saying "turns out ..." on a Q&A site) keeps its prior sign and size."""
    try:
        import numpy as np
    except ModuleNotFoundError:  # pragma: no cover - numpy ships with the test and bench environments
        raise ExtractionError(
            "fitting extraction weights needs numpy: pip install numpy", code="memory.fit_needs_numpy"
        ) from None
    rows = [[f.get(name, 0.0) for name in features] for g in groups for f in g.features]
    labels = [float(i == g.solution) for g in groups for i in range(len(g.features))]
    if not rows or not any(labels) or all(labels):
        raise ExtractionError(
            "cannot fit: the training groups need both solutions and non-solutions", code="memory.fit_data"
        )
    x = np.hstack([np.ones((len(rows), 1)), np.asarray(rows, dtype=float)])
    y = np.asarray(labels, dtype=float)
    prior_map = PRIORS if priors is None else priors
    prior = np.asarray([0.0, *(prior_map.get(name, 0.0) for name in features)])
    w = np.zeros(x.shape[1])
    # A prior counts like ``prior_strength`` pseudo-observations; other weights get the plain ridge penalty.
    penalty = np.asarray([0.0, *(l2 + (prior_strength if name in prior_map else 0.0) for name in features)])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + penalty * (w - prior)
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-6:
            break
    model = SolutionModel(
        weights={name: round(float(v), 4) for name, v in zip(features, w[1:], strict=True)},
        intercept=round(float(w[0]), 4),
        fitted_on=fitted_on,
    )
    threshold = best_threshold(model, groups)
    return SolutionModel(model.weights, model.intercept, threshold, fitted_on, {"groups": float(len(groups))})


def best_threshold(model: SolutionModel, groups: Sequence[Group]) -> float:
    """The threshold on the top candidate's probability that maximises F1 of picking the known solution."""
    tops: list[tuple[float, bool]] = []
    solved = sum(1 for g in groups if g.solution >= 0)
    for g in groups:
        if not g.features:
            continue
        probs = [model.probability(f) for f in g.features]
        best = max(range(len(probs)), key=lambda i: probs[i])
        tops.append((probs[best], best == g.solution))
    if not tops:
        return 0.5
    best_t, best_f1 = 0.5, -1.0
    for t in sorted({round(p, 3) for p, _ in tops}):
        picked = [ok for p, ok in tops if p >= t]
        correct = sum(picked)
        precision = correct / len(picked) if picked else 0.0
        recall = correct / solved if solved else 0.0
        f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = t, f1
    return round(best_t, 3)


def model_source(model: SolutionModel, name: str = "DEFAULT") -> str:
    """Python source for ``model``, to paste into :mod:`whoknows.memory.weights`."""
    lines = [f"{name} = SolutionModel(", "    weights={"]
    lines += [f'        "{k}": {v},' for k, v in model.weights.items()]
    lines += [
        "    },",
        f"    intercept={model.intercept},",
        f"    threshold={model.threshold},",
        f'    fitted_on="{model.fitted_on}",',
        ")",
    ]
    return "\n".join(lines)
