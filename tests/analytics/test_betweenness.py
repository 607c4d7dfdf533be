"""Betweenness by sparse matrix products equals Brandes' node-by-node algorithm, exact and sampled."""

from __future__ import annotations

import random
from collections import deque

import pytest

from whoknows.analytics.network import betweenness


def _reference(adj: dict[int, set[int]], pivots: int, seed: int = 0) -> dict[int, float]:
    """Brandes (2001), one source at a time, as textbooks write it."""
    nodes = sorted(adj)
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    nbrs = [[index[u] for u in adj[v] if u != v] for v in nodes]
    sources = list(range(n)) if n <= pivots else random.Random(seed).sample(range(n), pivots)
    score = [0.0] * n
    for s in sources:
        stack, preds = [], [[] for _ in range(n)]
        sigma, dist = [0] * n, [-1] * n
        sigma[s], dist[s] = 1, 0
        queue = deque([s])
        while queue:
            v = queue.popleft()
            stack.append(v)
            for w in nbrs[v]:
                if dist[w] < 0:
                    dist[w] = dist[v] + 1
                    queue.append(w)
                if dist[w] == dist[v] + 1:
                    sigma[w] += sigma[v]
                    preds[w].append(v)
        delta = [0.0] * n
        while stack:
            w = stack.pop()
            for v in preds[w]:
                delta[v] += sigma[v] / sigma[w] * (1 + delta[w])
            if w != s:
                score[w] += delta[w]
    scale = (n / len(sources)) / ((n - 1) * (n - 2))
    return {nodes[i]: score[i] * scale for i in range(n)}


def _graph(n: int, edges: int, seed: int) -> dict[int, set[int]]:
    rng = random.Random(seed)
    adj: dict[int, set[int]] = {v * 7 + 3: set() for v in range(n)}  # ids need not be 0..n-1
    ids = sorted(adj)
    for _ in range(edges):
        a, b = rng.sample(ids, 2)
        adj[a].add(b)
        adj[b].add(a)
    return adj


@pytest.mark.parametrize(("n", "edges", "pivots"), [(12, 15, 150), (60, 90, 150), (400, 900, 150), (300, 250, 40)])
def test_matches_brandes(n: int, edges: int, pivots: int) -> None:
    adj = _graph(n, edges, seed=n)  # sparse ones fall apart into components, some nodes isolated
    got, want = betweenness(adj, pivots=pivots), _reference(adj, pivots)
    assert got.keys() == want.keys()
    for v in want:
        assert got[v] == pytest.approx(want[v], rel=1e-9, abs=1e-12), v


def test_a_path_and_a_star() -> None:
    path = {1: {2}, 2: {1, 3}, 3: {2, 4}, 4: {3}}
    assert betweenness(path) == pytest.approx({1: 0.0, 2: 2 / 3, 3: 2 / 3, 4: 0.0})
    star = {0: {1, 2, 3, 4}, 1: {0}, 2: {0}, 3: {0}, 4: {0}}
    assert betweenness(star) == pytest.approx({0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0})
