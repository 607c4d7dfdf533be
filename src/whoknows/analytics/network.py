"""Bridges: people who connect otherwise separate groups, by betweenness centrality on the person graph.

The graph is undirected and unweighted: an edge joins two people who helped each other at least once in the
window. Betweenness (Brandes' algorithm) is exact up to ``pivots`` people and estimated from a fixed, seeded
sample of ``pivots`` sources beyond that (the estimate is scaled to the full graph), so a large organisation
costs O(pivots × edges).
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.metrics import department_of
from whoknows.analytics.rows import PersonRow


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
    """Normalised betweenness of every node (undirected), exact when the graph has at most ``pivots`` nodes."""
    nodes = sorted(adj)
    n = len(nodes)
    if n < 3:
        return dict.fromkeys(nodes, 0.0)
    index = {v: i for i, v in enumerate(nodes)}
    nbrs = [[index[u] for u in adj[v]] for v in nodes]
    sources = list(range(n)) if n <= pivots else random.Random(seed).sample(range(n), pivots)
    score = [0.0] * n
    for s in sources:
        stack: list[int] = []
        preds: list[list[int]] = [[] for _ in range(n)]
        sigma = [0] * n
        dist = [-1] * n
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
    scale = (n / len(sources)) / ((n - 1) * (n - 2))  # undirected pairs counted twice: /2 *2 cancel
    return {nodes[i]: score[i] * scale for i in range(n)}


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
