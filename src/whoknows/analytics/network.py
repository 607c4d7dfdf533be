"""Bridges: people who connect otherwise separate groups, by betweenness centrality on the person graph.

The graph is undirected and unweighted: an edge joins two people who helped each other at least once in the
window. Betweenness (Brandes' algorithm) is exact up to ``pivots`` people and estimated from a fixed, seeded
sample of ``pivots`` sources beyond that (the estimate is scaled to the full graph), so a large organisation
costs O(pivots × edges).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.metrics import department_of
from whoknows.analytics.rows import PersonRow

#: Sources searched together (memory: a few nodes x block arrays, plus one boolean array per BFS level).
SOURCE_BLOCK = 32


@dataclass
class Bridge:
    person_id: int
    name: str
    department: str
    betweenness: float  # normalised to [0, 1]
    departments: list[str] = field(default_factory=list)  # departments of the people they exchanged help with

    def as_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name, "department": self.department,
                "betweenness": round(self.betweenness, 4), "departments": self.departments}  # fmt: skip


def person_graph(events: Iterable[HelpEvent]) -> dict[int, set[int]]:
    adj: dict[int, set[int]] = defaultdict(set)
    for e in events:
        adj[e.helper_id].add(e.helped_id)
        adj[e.helped_id].add(e.helper_id)
    return dict(adj)


def betweenness(adj: Mapping[int, set[int]], *, pivots: int = 150, seed: int = 0) -> dict[int, float]:
    """Normalised betweenness of every node (undirected), exact when the graph has at most ``pivots`` nodes.

    Brandes' algorithm, run for a block of sources at once with sparse matrix products: the breadth-first search
    goes one level at a time (path counts of the next level = adjacency x counts of this one, on the nodes not
    reached yet), then the dependencies flow back one level at a time the same way. Same numbers as the
    node-by-node loop, a pass over the edges per level instead of a Python step per edge."""
    nodes = sorted(adj)
    n = len(nodes)
    if n < 3:
        return dict.fromkeys(nodes, 0.0)
    index = {v: i for i, v in enumerate(nodes)}
    rows = [index[v] for v in nodes for u in adj[v] if u != v]
    cols = [index[u] for v in nodes for u in adj[v] if u != v]
    a = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    sources = list(range(n)) if n <= pivots else random.Random(seed).sample(range(n), pivots)
    score = np.zeros(n)
    for start in range(0, len(sources), SOURCE_BLOCK):
        block = np.asarray(sources[start : start + SOURCE_BLOCK])
        score += _dependencies(a, block)
    scale = (n / len(sources)) / ((n - 1) * (n - 2))  # undirected pairs counted twice: /2 *2 cancel
    return {nodes[i]: float(score[i] * scale) for i in range(n)}


def _dependencies(a: sp.csr_matrix, sources: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Per node, the sum over ``sources`` of its Brandes dependency (the source itself left out)."""
    n, b = a.shape[0], len(sources)
    cols = np.arange(b)
    sigma = np.zeros((n, b))
    reached = np.zeros((n, b), dtype=bool)
    sigma[sources, cols] = 1.0
    reached[sources, cols] = True
    levels = [reached.copy()]
    while True:
        counts = np.asarray(a @ (sigma * levels[-1]))
        new = (counts > 0) & ~reached
        if not new.any():
            break
        sigma[new] = counts[new]
        reached |= new
        levels.append(new)
    delta = np.zeros((n, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        for depth in range(len(levels) - 1, 0, -1):
            share = np.where(levels[depth], (1.0 + delta) / sigma, 0.0)
            delta += np.where(levels[depth - 1], sigma * np.asarray(a @ share), 0.0)
    delta[sources, cols] = 0.0
    return np.asarray(delta.sum(axis=1))


def bridges(events: list[HelpEvent], people: Mapping[int, PersonRow], *, top: int = 10) -> list[Bridge]:
    """The people with the highest betweenness whose exchanges reach at least two departments besides their own."""
    adj = person_graph(events)
    scores = betweenness(adj)
    out = []
    for pid, b in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
        if b <= 0:
            break
        p = people[pid]
        own = department_of(p)
        reached = sorted({department_of(people[q]) for q in adj[pid]} - {own})
        if len(reached) >= 2:
            out.append(Bridge(pid, p.name, own, b, reached))
        if len(out) >= top:
            break
    return out
