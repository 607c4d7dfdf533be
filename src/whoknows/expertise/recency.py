"""Fitting how fast expertise fades: the half-life of an exponential decay, by maximum likelihood.

Model: the next contribution (answer) in the organisation comes from person ``a`` with probability proportional
to ``D_h(a, t) + alpha``, where ``D_h(a, t) = sum_i 2^(-(t - t_i)/h)`` over ``a``'s earlier contributions, plus one
bucket for people never seen before. The half-life ``h`` that best predicts who contributes next (highest
log-likelihood over the organisation's own history) is the one used for recency features; ``inf`` (no decay)
competes on equal terms, so a stable organisation gets no decay.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

DAY = 86_400.0
#: Candidate half-lives (days), a geometric grid wide enough for chat (days) and Q&A sites (years).
GRID_DAYS = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, math.inf)
MAX_EVENTS = 50_000
ALPHA = 1.0


def log_likelihood(times: npt.NDArray[np.float64], authors: npt.NDArray[np.int64], half_life: float) -> float:
    """Sequential log-likelihood of ``authors`` (time order) under decayed-activity prediction."""
    state: dict[int, tuple[float, float]] = {}  # author -> (value at time, time)
    z, z_time, total = 0.0, float(times[0]) if len(times) else 0.0, 0.0
    decay = math.log(2.0) / half_life if math.isfinite(half_life) else 0.0
    warm = len(times) // 5  # the first fifth only builds state
    for j, (t, a) in enumerate(zip(times.tolist(), authors.tolist(), strict=True)):
        z *= math.exp(-decay * (t - z_time))
        z_time = t
        k = len(state)
        prev = state.get(a)
        d = prev[0] * math.exp(-decay * (t - prev[1])) if prev else 0.0
        if j >= warm:
            p = (d + ALPHA) / (z + ALPHA * (k + 1)) if prev else ALPHA / (z + ALPHA * (k + 1))
            total += math.log(p)
        state[a] = (d + 1.0, t)
        z += 1.0
    return total


def fit_half_life(times: npt.NDArray[np.float64], authors: npt.NDArray[np.int64]) -> tuple[float, dict[str, float]]:
    """The best half-life in seconds (``inf`` for no decay) and the log-likelihood of every candidate."""
    keep = authors >= 0
    times, authors = times[keep], authors[keep]
    if len(times) > MAX_EVENTS:
        times, authors = times[-MAX_EVENTS:], authors[-MAX_EVENTS:]
    if len(times) < 20:
        return math.inf, {}
    scores = {days: log_likelihood(times, authors, days * DAY) for days in GRID_DAYS}
    best = max(scores, key=lambda d: (scores[d], d))
    return best * DAY, {str(d): round(v, 3) for d, v in scores.items()}
