"""Topics of questions, derived cheaply and explainably: TF-IDF over question texts, spherical k-means, and
each topic labelled by the top terms of its centroid.

There is no topic model elsewhere yet; this one needs only numpy/scipy, is deterministic (fixed seed), fits on a
sample of at most ``sample`` questions and assigns every question to its nearest centroid. Clusters whose
centroids are near-duplicates (cosine ≥ ``merge_cosine``) are merged, so ``k`` is an upper bound rather than a
promise. :func:`agreement` measures purity and NMI against known labels (the demo's planted topics).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from whoknows.analytics.stopwords import STOPWORDS
from whoknows.analytics.topic_labels import is_content, label_topics, stem

_WORD = re.compile(r"[a-z][a-z0-9]+")


@dataclass
class Topics:
    """Topic of each question, and for each topic its label, top terms and size."""

    of_question: dict[int, int]
    labels: list[str]
    terms: list[list[str]]
    sizes: list[int]
    vectors: sp.csr_matrix | None = None  # the questions' TF-IDF rows (order: ``question_ids``)
    question_ids: list[int] = field(default_factory=list)

    def label(self, topic: int | None) -> str:
        return self.labels[topic] if topic is not None and 0 <= topic < len(self.labels) else "(no topic)"


def tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOPWORDS]


def tfidf(texts: Sequence[str], *, min_df: int = 2, max_df: float = 0.3) -> tuple[sp.csr_matrix, list[str]]:
    """L2-normalised TF-IDF rows (sublinear term frequency) over terms in at least ``min_df`` texts and at most
    ``max_df`` of them (columns in alphabetical order of the terms)."""
    seen: dict[str, int] = {}  # every token, numbered in order of first use
    ids: list[int] = []
    lengths: list[int] = []
    for text in texts:
        toks = tokens(text)
        ids.extend(seen.setdefault(w, len(seen)) for w in toks)
        lengths.append(len(toks))
    n_docs, n = len(texts), max(1, len(texts))
    size = max(len(seen), 1)
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, counts = np.unique(docs * size + np.asarray(ids, dtype=np.int64), return_counts=True)
    row, term = pairs // size, pairs % size
    df = np.bincount(term, minlength=size)
    words = list(seen)
    low, high = min(min_df, n), max(1, max_df * n)
    kept = sorted((i for i in range(len(words)) if low <= df[i] <= high), key=words.__getitem__)
    column = np.full(size, -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    vocab = [words[i] for i in kept]
    idf = np.log((1 + n) / (1 + df.astype(np.float64))) + 1
    keep = column[term] >= 0
    vals = (1 + np.log(counts[keep])) * idf[term[keep]]
    x = sp.csr_matrix((vals, (row[keep], column[term[keep]])), shape=(n_docs, len(vocab)), dtype=np.float64)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x), vocab


def default_k(n_questions: int) -> int:
    return max(2, min(60, round(math.sqrt(n_questions))))


def derive_topics(
    question_ids: Sequence[int],
    texts: Sequence[str],
    *,
    k: int | None = None,
    sample: int = 30_000,
    iterations: int = 25,
    merge_cosine: float = 0.6,
    seed: int = 0,
    may_label: Sequence[bool] | None = None,
    names: Iterable[str] = (),
) -> Topics:
    """Cluster the questions into at most ``k`` topics (default: about sqrt(n), 2..60).

    ``may_label`` (per question) says whose words may appear in labels: a topic is labelled by the top terms of
    those of its questions only (the others still count), and a topic with none of them is labelled without words
    ("topic 3, from spaces you cannot read"). So an organisation-wide report shows numbers for private spaces but
    never their words to a viewer who may not read them. ``names`` (people's names) never label a topic."""
    if not texts:
        return Topics({}, [], [], [])
    x, _ = tfidf(texts)
    rng = np.random.default_rng(seed)
    k = min(k or default_k(len(texts)), len(texts))
    fit = x if x.shape[0] <= sample else x[np.sort(rng.choice(x.shape[0], sample, replace=False))]
    centroids = _kmeans(fit, k, iterations, rng)
    centroids = _merge(centroids, merge_cosine)
    assign = np.asarray((x @ centroids.T).argmax(axis=1)).ravel()
    used = sorted(set(assign.tolist()))
    renumber = {old: new for new, old in enumerate(used)}
    assign = np.array([renumber[a] for a in assign.tolist()], dtype=np.int64)
    sizes = np.bincount(assign, minlength=len(used)).tolist()
    words, terms = label_topics(texts, assign.tolist(), len(used), may_label, names=names)
    hidden = " (from spaces you cannot read)" if may_label is not None else ""
    labels = [w or f"topic {i + 1}{hidden}" for i, w in enumerate(words)]
    of_question = {int(q): int(a) for q, a in zip(question_ids, assign.tolist(), strict=True)}
    return Topics(of_question, labels, terms, sizes, x, list(question_ids))


def _kmeans(x: sp.csr_matrix, k: int, iterations: int, rng: np.random.Generator) -> np.ndarray:
    """Spherical k-means with k-means++ seeding (cosine similarity on L2-normalised rows)."""
    n = x.shape[0]
    first = int(rng.integers(n))
    centroids = [x[first].toarray().ravel()]
    best = np.asarray((x @ centroids[0]).ravel())
    for _ in range(1, k):
        dist = np.clip(1.0 - best, 0.0, None)
        total = dist.sum()
        pick = int(rng.choice(n, p=dist / total)) if total > 0 else int(rng.integers(n))
        c = x[pick].toarray().ravel()
        centroids.append(c)
        best = np.maximum(best, np.asarray(x @ c).ravel())
    c_mat = np.vstack(centroids)
    assign = np.full(n, -1)
    for _ in range(iterations):
        new = np.asarray((x @ c_mat.T).argmax(axis=1)).ravel()
        if np.array_equal(new, assign):
            break
        assign = new
        member = sp.csr_matrix((np.ones(n), (assign, np.arange(n))), shape=(k, n))
        sums = np.asarray((member @ x).todense())
        norms = np.linalg.norm(sums, axis=1)
        empty = norms == 0
        sums[~empty] /= norms[~empty, None]
        sums[empty] = c_mat[empty]
        c_mat = sums
    return np.asarray(c_mat)


def _merge(centroids: np.ndarray, threshold: float) -> np.ndarray:
    """Greedily merge centroids with cosine similarity ≥ ``threshold`` (average, renormalised)."""
    merged: list[np.ndarray] = []
    for c in centroids:
        for i, m in enumerate(merged):
            if float(c @ m) / max(1e-12, float(np.linalg.norm(m))) >= threshold:
                s = m + c
                merged[i] = s / max(1e-12, float(np.linalg.norm(s)))
                break
        else:
            merged.append(c)
    return np.vstack(merged)


def agreement(predicted: Sequence[int], truth: Sequence[str]) -> dict[str, float]:
    """Purity (share of questions in their cluster's majority truth topic) and NMI (arithmetic normalisation)."""
    if not predicted:
        return {"purity": 0.0, "nmi": 0.0, "questions": 0}
    t_index = {t: i for i, t in enumerate(sorted(set(truth)))}
    table = np.zeros((max(predicted) + 1, len(t_index)))
    for p, t in zip(predicted, truth, strict=True):
        table[p, t_index[t]] += 1
    n = table.sum()
    purity = float(table.max(axis=1).sum() / n)
    pij = table / n
    pi, pj = pij.sum(axis=1), pij.sum(axis=0)
    nz = pij > 0
    mi = float((pij[nz] * np.log(pij[nz] / np.outer(pi, pj)[nz])).sum())
    h = [-float((v[v > 0] * np.log(v[v > 0])).sum()) for v in (pi, pj)]
    nmi = 2 * mi / (h[0] + h[1]) if h[0] + h[1] > 0 else 1.0
    return {"purity": round(purity, 4), "nmi": round(nmi, 4), "questions": int(n)}


def label_match(
    predicted: Sequence[int], labels: Sequence[str], truth: Sequence[str], truth_labels: Mapping[str, str]
) -> float:
    """Share of questions whose topic's label shares a content word (by stem) with the human label of that topic's
    majority known topic: how well labels name what the topics are about (the demo's planted topics)."""
    if not predicted:
        return 0.0
    majority: dict[int, Counter[str]] = {}
    for p, t in zip(predicted, truth, strict=True):
        majority.setdefault(p, Counter())[t] += 1
    hits = 0
    for p, counts in majority.items():
        want = _stems(truth_labels.get(counts.most_common(1)[0][0], ""))
        if want & _stems(labels[p]):
            hits += sum(counts.values())
    return round(hits / len(predicted), 4)


def _stems(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z][a-z0-9]*", text.lower()) if is_content(w)}
