"""Features of (question, candidate person) pairs: document voting, person profile, reception, help graph,
activity and recency. Every feature is computed under one :class:`~whoknows.index.Filters`: the asker's readable
spaces, and for training an ``until`` time (the moment a past question was asked), so that training features
see exactly what a live question would have seen.

* **Voting** (Balog's Model 2 / Macdonald & Ounis' voting model): BM25 retrieves the top messages for the
  question (the search index's own :class:`~whoknows.index.lexical.BM25Retriever`); each message votes for its
  author with its score divided by the best score. Votes are split by role (answers, other replies, own
  questions), by reception (accepted or thanked answers), by recency and by source type, so that the learned
  combination weighs them.
* **Profile** (Balog's Model 1): BM25 over one virtual document per person, the concatenation of their answers
  the asker may read, computed from the index postings (term frequencies summed per author).
* **Priors**: answers, acceptance, votes and reactions, distinct askers helped, decayed activity, idle time,
  questions asked, PageRank authority on the asker -> answerer graph.
* **Standardised within the question** (``z_<feature>``): every feature above again, as its z-score among this
  question's candidates: how far the candidate stands out from the others asked about the same question, whatever
  the site's scale (chosen by leave-one-source-out validation in ``bench/bench_experts.py``).
* **Question-relative**: how this question's evidence singles the candidate out rather than how active they are:
  their share of the question's votes, the *lift* of their answers among the retrieved ones over what their share
  of all answers predicts (so a prolific answerer does not win every question by volume alone), their answers
  among the best :data:`TOP_DEPTH` matches, how long ago they last answered on the topic (not just at all), and
  how often they already helped this asker.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from whoknows.expertise.evidence import ANSWER, COMMENT, MESSAGE, QUESTION, ROLES
from whoknows.expertise.graph import pagerank
from whoknows.expertise.profile_postings import ProfilePostings
from whoknows.expertise.recency import DAY
from whoknows.expertise.table import F64, EvidenceTable
from whoknows.index import Filters, SearchIndex
from whoknows.index.analyzer import analyze_query
from whoknows.index.lexical import MAX_QUERY_TERMS
from whoknows.index.segment import Segment

VOTE_DEPTH = 300
#: People whose profile matches best join the candidates even when none of their messages is in the top votes.
PROFILE_DEPTH = 100
#: The most active answerers (recency-decayed) who join the candidates of a question that has evidence.
PRIOR_DEPTH = 30
K1, B = 1.2, 0.75
BASE_FEATURES = (
    "vote_sum",
    "vote_max",
    "vote_n",
    "vote_good",
    "vote_recent",
    "vote_other",
    "vote_question",
    "profile",
    "answers",
    "accepted",
    "accept_rate",
    "pos_score",
    "askers",
    "decayed",
    "days_idle",
    "questions",
    "pagerank",
    "vote_share",
    "vote_lift",
    "vote_top",
    "topic_idle",
    "asker_helped",
)
#: Evidence for a profile-only match is looked up with the question's rarest terms only.
EVIDENCE_TERMS = 12
#: The shallow cut for ``vote_top`` (answers among the best-matching messages).
TOP_DEPTH = 10
PAGERANK_CHECKPOINTS = 16
#: Name prefix of a feature's copy standardised among one question's candidates.
Z_PREFIX = "z_"


@dataclass
class QueryFeatures:
    cand: npt.NDArray[np.int64]  # person indices
    x: F64  # len(cand) x len(names)
    names: tuple[str, ...]
    #: Per candidate index: (table row, normalised score) of the messages that voted for them, best first.
    votes: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    raw: dict[str, F64] = field(default_factory=dict)  # per candidate: vote_combsum, vote_expcombmnz, profile

    def column(self, name: str) -> F64:
        return self.x[:, self.names.index(name)]


class FeatureExtractor:
    def __init__(
        self,
        table: EvidenceTable,
        index: SearchIndex,
        eligible: npt.NDArray[np.bool_],
        half_life: float,
        source_kinds: list[str],
    ) -> None:
        self.table, self.index, self.eligible, self.half_life = table, index, eligible, half_life
        self.source_kinds = source_kinds
        raw = BASE_FEATURES + tuple(f"vote_src_{k}" for k in source_kinds)
        self.n_raw = len(raw)
        self.names = raw + tuple(f"{Z_PREFIX}{n}" for n in raw)
        self._seg_authors: dict[str, npt.NDArray[np.int64]] = {}
        self._profile_postings: dict[str, ProfilePostings] = {}
        self._seg_rows_by_author: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        self._pagerank: dict[float | None, F64] = {}
        self._by_asker: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
        if table.doc_len is None:  # before any aggregate is cached
            lengths = np.zeros(len(table))
            for seg in index.segments:
                rows = table.rows_of(np.asarray(seg.doc_ids))
                ok = rows >= 0
                lengths[rows[ok]] = np.asarray(seg.lengths)[ok]
            table.doc_len = lengths
        n = len(table)
        self._checkpoints = (
            np.quantile(table.time, np.linspace(0, 1, PAGERANK_CHECKPOINTS + 1)[1:]) if n else np.zeros(0)
        )

    # -- profile model (Model 1) ----------------------------------------------------------------------------
    def _authors(self, seg: Segment) -> npt.NDArray[np.int64]:
        got = self._seg_authors.get(seg.name)
        if got is None:
            rows = self.table.rows_of(np.asarray(seg.doc_ids))
            got = np.where(rows >= 0, self.table.author[np.maximum(rows, 0)], -1).astype(np.int64)
            self._seg_authors[seg.name] = got
        return got

    def rarest(self, terms: list[str], n: int) -> list[str]:
        """The (at most) ``n`` of ``terms`` that the fewest messages use, rarest first; terms no message uses are
        left out."""
        return self._rarest(terms, n, always=True)

    def _rarest(self, terms: list[str], n: int, *, always: bool = False) -> list[str]:
        """Of more than ``n`` terms, the ``n`` that the fewest messages use (they carry a question's meaning;
        terms no message uses are left out); ``terms`` as they are when there are at most ``n``."""
        if len(terms) <= n and not always:
            return terms

        def df(term: str) -> int:
            return sum(seg.df(seg.term_index[term]) for seg in self.index.segments if term in seg.term_index)

        counted = {t: df(t) for t in terms}
        return sorted((t for t in terms if counted[t]), key=lambda t: (counted[t], t))[:n]

    def _rows_by(self, seg: Segment, people: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The segment rows ``people`` wrote, sorted (from a per-segment index of rows by author)."""
        got = self._seg_rows_by_author.get(seg.name)
        if got is None:
            authors = self._authors(seg)
            order = np.argsort(authors, kind="stable")
            indptr = np.zeros(self.table.n_people + 2, dtype=np.int64)  # slot 0: rows without an author (-1)
            np.cumsum(np.bincount(authors + 1, minlength=self.table.n_people + 1), out=indptr[1:])
            got = self._seg_rows_by_author[seg.name] = (order.astype(np.int64), indptr)
        order, indptr = got
        parts = [order[indptr[a + 1] : indptr[a + 2]] for a in people.tolist() if 0 <= a < self.table.n_people]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _profile_lengths(self, filters: Filters) -> F64:
        """Length (indexed terms) of every person's answer profile under ``filters``."""
        plain = Filters(spaces=filters.spaces, since=filters.since, until=filters.until)
        return self.table.stats(plain, self.half_life)["answer_len"]

    def query_terms(self, query: str) -> Counter[str]:
        """The query's terms with their counts; of a long pasted text only the rarest ``MAX_QUERY_TERMS`` (as the
        BM25 ranker does): they carry its meaning, and each term costs a pass over its postings."""
        terms = Counter(analyze_query(query))
        return Counter({t: terms[t] for t in self._rarest(list(terms), MAX_QUERY_TERMS)})

    def profile_scores(self, query: str, filters: Filters) -> F64:
        """BM25 of every person's answer profile (zeros for people without matching answers)."""
        p = self.table.n_people
        fl = Filters(spaces=filters.spaces, kinds=frozenset({ROLES[ANSWER]}), since=filters.since, until=filters.until)
        terms = self.query_terms(query)
        out = np.zeros(p)
        if not terms or fl.allows_nothing():
            return out
        lengths = self._profile_lengths(fl)
        have = lengths > 0
        n_docs = int(have.sum())
        if not n_docs:
            return out
        norm = K1 * ((1 - B) + B * lengths / lengths[have].mean())
        if fl.since is None and fl.until is None:  # a live question: the pre-aggregated postings, all terms at once
            ptf_all = self._profile_tf(list(terms), fl.spaces)
            df_all = (ptf_all > 0).sum(axis=1)
            qtf_all = np.array(list(terms.values()), dtype=np.float64)
            idf_all = qtf_all * np.log(1 + (n_docs - df_all + 0.5) / (df_all + 0.5)) * (df_all > 0)
            return np.asarray((idf_all[:, None] * ptf_all * (K1 + 1) / (ptf_all + norm)).sum(axis=0))
        for term, qtf in terms.items():
            ptf = np.zeros(p)
            for seg in self.index.segments:
                tid = seg.term_index.get(term)
                if tid is None:
                    continue
                lo, hi = int(seg.indptr[tid]), int(seg.indptr[tid + 1])
                rows = seg.postings[lo:hi]
                authors = self._authors(seg)[rows]
                mask = seg.mask(fl)
                ok = authors >= 0 if mask is None else mask[rows] & (authors >= 0)
                ptf += np.bincount(authors[ok], weights=np.asarray(seg.tfs[lo:hi], dtype=np.float64)[ok], minlength=p)
            df = int((ptf > 0).sum())
            if not df:
                continue
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            out += qtf * idf * ptf * (K1 + 1) / (ptf + norm)
        return out

    def _profile_tf(self, terms: list[str], spaces: frozenset[int] | None) -> F64:
        """Per term (rows) and person (columns): the term's frequency over the person's answers in ``spaces``, from
        the pre-aggregated profile postings (:mod:`whoknows.expertise.profile_postings`), in one count."""
        p = self.table.n_people
        keys, weights = [], []
        for seg in self.index.segments:
            pp = self._profile_postings.get(seg.name)
            if pp is None:
                pp = ProfilePostings.build(seg, self._authors(seg), ROLES[ANSWER])
                self._profile_postings[seg.name] = pp
            lut = seg.space_lut(spaces) if spaces is not None else None
            for i, term in enumerate(terms):
                tid = seg.term_index.get(term)
                if tid is None:
                    continue
                lo, hi = int(pp.indptr[tid]), int(pp.indptr[tid + 1])
                authors, tf = pp.author[lo:hi], pp.tf[lo:hi]
                if lut is not None:
                    ok = lut[pp.space_code[lo:hi]]
                    authors, tf = authors[ok], tf[ok]
                keys.append(authors + i * p)
                weights.append(tf)
        if not keys:
            return np.zeros((len(terms), p))
        counts = np.bincount(np.concatenate(keys), weights=np.concatenate(weights), minlength=len(terms) * p)
        return np.asarray(counts.reshape(len(terms), p))

    def best_messages(
        self, query: str, filters: Filters, people: list[int], n: int
    ) -> dict[int, list[tuple[int, float]]]:
        """Per person of ``people``: (table row, score) of their answers that match ``query`` best (evidence for a
        profile match), in one pass over the postings of the question's :data:`EVIDENCE_TERMS` rarest terms."""
        fl = Filters(spaces=filters.spaces, kinds=frozenset({ROLES[ANSWER]}), since=filters.since, until=filters.until)
        wanted = np.asarray(sorted(set(people)), dtype=np.int64)
        found_rows: list[npt.NDArray[np.int64]] = []
        found_scores: list[F64] = []
        terms = self._rarest(list(self.query_terms(query)), EVIDENCE_TERMS) if len(wanted) else []
        for seg in self.index.segments if terms else ():
            # Their own allowed messages in this segment, looked up in each term's postings (sorted by row): a
            # few hundred binary searches instead of a pass over every posting of a common term.
            mine = self._rows_by(seg, wanted)
            mask = seg.mask(fl)
            if mask is not None:
                mine = mine[mask[mine]]
            if not len(mine):
                continue
            for term in terms:
                tid = seg.term_index.get(term)
                if tid is None:
                    continue
                lo, hi = int(seg.indptr[tid]), int(seg.indptr[tid + 1])
                at = np.minimum(np.searchsorted(seg.postings[lo:hi], mine), hi - lo - 1)
                has = seg.postings[lo:hi][at] == mine
                if not has.any():
                    continue
                tf = seg.tfs[lo:hi][at[has]].astype(np.float64)
                found_rows.append(self.table.rows_of(seg.doc_ids[mine[has]]))
                found_scores.append(math.log(1 + len(self.table) / (hi - lo)) * tf / (tf + K1))
        out: dict[int, list[tuple[int, float]]] = {int(a): [] for a in wanted}
        if not found_rows:
            return out
        rows_all, inverse = np.unique(np.concatenate(found_rows), return_inverse=True)
        totals = np.bincount(inverse, weights=np.concatenate(found_scores))
        ok = rows_all >= 0
        rows_all, totals = rows_all[ok], totals[ok]
        authors = self.table.author[rows_all]
        order = np.lexsort((rows_all, -totals, authors))  # per person, best first
        first = np.searchsorted(authors[order], wanted)
        last = np.searchsorted(authors[order], wanted, side="right")
        for a, lo, hi in zip(wanted.tolist(), first.tolist(), last.tolist(), strict=True):
            top = order[lo : min(hi, lo + n)]
            out[a] = [(int(r), float(x)) for r, x in zip(rows_all[top], totals[top], strict=True)]
        return out

    # -- graph ----------------------------------------------------------------------------------------------
    def pagerank(self, until: float | None) -> F64:
        """Authority as of the last checkpoint before ``until`` (all evidence when ``until`` is None)."""
        key: float | None = None
        if until is not None and len(self._checkpoints):
            i = int(np.searchsorted(self._checkpoints, until, side="right")) - 1
            key = float(self._checkpoints[i]) if i >= 0 else -math.inf
            if i == len(self._checkpoints) - 1:
                key = None
        got = self._pagerank.get(key)
        if got is None:
            src, dst = self.table.help_edges(Filters(until=key) if key is not None else Filters())
            got = pagerank(src, dst, self.table.n_people) * max(self.table.n_people, 1)
            self._pagerank[key] = got
        return got

    def _asked_by(self, asker: int) -> npt.NDArray[np.int64]:
        """The table rows (ascending) of threads ``asker`` opened, from an index of rows by asker built once (a
        comparison over every row cost more than the rest of the feature)."""
        if self._by_asker is None:
            order = np.argsort(self.table.asker, kind="stable").astype(np.int64)
            self._by_asker = (order, np.asarray(self.table.asker, dtype=np.int64)[order])
        order, keys = self._by_asker
        lo, hi = np.searchsorted(keys, asker), np.searchsorted(keys, asker, side="right")
        return order[lo:hi]  # (a stable sort keeps rows ascending within one asker)

    def _helped(self, asker: int, filters: Filters, pos: npt.NDArray[np.int64], c: int) -> F64:
        """Per candidate: their contributions (answers, replies) to threads ``asker`` opened, under ``filters``."""
        t = self.table
        mine = self._asked_by(asker)
        if filters.spaces is not None and len(mine):
            mine = mine[np.isin(t.space[mine], np.fromiter(filters.spaces, np.int64, len(filters.spaces)))]
        if filters.until is not None:
            mine = mine[t.time[mine] < filters.until]
        mine = mine[np.isin(t.role[mine], (ANSWER, COMMENT, MESSAGE)) & (t.author[mine] >= 0)]
        p = pos[t.author[mine]]
        return np.bincount(p[p >= 0], minlength=c).astype(np.float64)

    # -- all features ---------------------------------------------------------------------------------------
    def extract(
        self, query: str, filters: Filters, *, asker: int = -1, depth: int = VOTE_DEPTH, extra: list[int] | None = None
    ) -> QueryFeatures:
        t = self.table
        hit_ids, scores = self.index.lexical.rank_arrays(query, depth, filters)
        rows = t.rows_of(hit_ids)
        keep = rows >= 0
        rows, scores = rows[keep], scores[keep]
        if len(scores):
            scores = scores / scores.max()
        authors = t.author[rows].astype(np.int64)
        roles = t.role[rows]
        contrib = np.isin(roles, (ANSWER, COMMENT, MESSAGE)) & (authors >= 0)
        cand_set = {int(a) for a in authors[contrib] if self.eligible[a] and a != asker}
        prof_all = self.profile_scores(query, filters)
        matched = np.flatnonzero((prof_all > 0) & self.eligible)
        if len(matched) > PROFILE_DEPTH:
            matched = matched[np.argpartition(-prof_all[matched], PROFILE_DEPTH - 1)[:PROFILE_DEPTH]]
        cand_set.update(int(a) for a in matched if a != asker)
        st = t.stats(Filters(spaces=filters.spaces, since=filters.since, until=filters.until), self.half_life)
        if cand_set and PRIOR_DEPTH:  # the most active recent answerers compete too (never alone: no evidence)
            active = np.flatnonzero((st["answers"] > 0) & self.eligible)
            for prior in (st["decayed"], st["answers"], self.pagerank(filters.until)):
                best = active
                if len(active) > PRIOR_DEPTH:
                    best = active[np.argpartition(-prior[active], PRIOR_DEPTH - 1)[:PRIOR_DEPTH]]
                cand_set.update(int(a) for a in best if a != asker)
        cand_set.update(int(a) for a in (extra or []) if 0 <= a < t.n_people)
        cand = np.array(sorted(cand_set), dtype=np.int64)
        names = self.names
        x = np.zeros((len(cand), len(names)))
        qf = QueryFeatures(cand, x, names)
        if not len(cand):
            qf.raw = {k: np.zeros(0) for k in ("vote_combsum", "vote_expcombmnz", "profile")}
            return qf
        pos = np.full(t.n_people, -1, dtype=np.int64)
        pos[cand] = np.arange(len(cand))
        ref = filters.until if filters.until is not None else (float(t.time[-1]) if len(t) else 0.0)
        decay = np.exp2(-(ref - t.time[rows]) / self.half_life) if math.isfinite(self.half_life) else np.ones(len(rows))
        good = t.accepted[rows] | t.thanked[rows]
        c = len(cand)

        def vote(sel: npt.NDArray[np.bool_], w: F64) -> F64:
            sel = sel & (authors >= 0)
            p = pos[authors[sel]]
            ok = p >= 0
            return np.bincount(p[ok], weights=w[sel][ok], minlength=c).astype(np.float64)

        is_ans = roles == ANSWER
        combsum = vote(is_ans, scores)
        col = names.index
        x[:, col("vote_sum")] = np.log1p(combsum)
        vmax = np.zeros(c)
        sel = is_ans & (authors >= 0) & (pos[np.maximum(authors, 0)] >= 0)
        np.maximum.at(vmax, pos[authors[sel]], scores[sel])
        x[:, col("vote_max")] = vmax
        n_votes = vote(is_ans, np.ones(len(rows)))
        x[:, col("vote_n")] = np.log1p(n_votes)
        x[:, col("vote_good")] = np.log1p(vote(is_ans & good, scores))
        x[:, col("vote_recent")] = np.log1p(vote(is_ans, scores * decay))
        x[:, col("vote_other")] = np.log1p(vote(np.isin(roles, (COMMENT, MESSAGE)), scores))
        x[:, col("vote_question")] = np.log1p(vote(roles == QUESTION, scores))
        for kind in self.source_kinds:
            code = t.kind_names.index(kind) if kind in t.kind_names else -99
            x[:, col(f"vote_src_{kind}")] = np.log1p(vote(is_ans & (t.skind[rows] == code), scores))
        prof = prof_all[cand]
        x[:, col("profile")] = prof / prof.max() if prof.max() > 0 else 0.0
        answers = st["answers"][cand]
        x[:, col("answers")] = np.log1p(answers)
        x[:, col("accepted")] = np.log1p(st["accepted"][cand])
        x[:, col("accept_rate")] = (st["accepted"][cand] + 1.0) / (answers + 2.0)
        x[:, col("pos_score")] = np.log1p(st["pos_score"][cand])
        x[:, col("askers")] = np.log1p(st["askers"][cand])
        x[:, col("decayed")] = np.log1p(st["decayed"][cand])
        idle = (ref - st["last_seen"][cand]) / DAY
        x[:, col("days_idle")] = np.log1p(np.nan_to_num(np.maximum(idle, 0.0), nan=3650.0))
        x[:, col("questions")] = np.log1p(st["questions"][cand])
        x[:, col("pagerank")] = np.log(np.maximum(self.pagerank(filters.until)[cand], 1e-6))
        # -- question-relative features: where the candidate stands among this question's evidence
        total = combsum.sum()
        x[:, col("vote_share")] = combsum / total if total > 0 else 0.0
        n_ret = float((is_ans & (authors >= 0)).sum())
        all_answers = float(st["answers"].sum())
        expected = n_ret * answers / all_answers if all_answers > 0 else np.zeros(c)
        x[:, col("vote_lift")] = np.log((n_votes + 0.5) / (expected + 0.5))
        x[:, col("vote_top")] = np.log1p(vote(is_ans & (np.arange(len(rows)) < TOP_DEPTH), np.ones(len(rows))))
        last = np.full(c, -np.inf)
        np.maximum.at(last, pos[authors[sel]], t.time[rows][sel])
        topic_idle = np.where(np.isfinite(last), (ref - last) / DAY, 3650.0)
        x[:, col("topic_idle")] = np.log1p(np.maximum(topic_idle, 0.0))
        if asker >= 0:
            x[:, col("asker_helped")] = np.log1p(self._helped(asker, filters, pos, c))
        r = self.n_raw
        spread = x[:, :r].std(axis=0)
        x[:, r:] = (x[:, :r] - x[:, :r].mean(axis=0)) / np.where(spread > 1e-9, spread, 1.0)
        qf.raw["vote_combsum"] = combsum
        qf.raw["vote_expcombmnz"] = n_votes * vote(is_ans, np.exp(scores))
        qf.raw["profile"] = prof
        for r, s in zip(rows.tolist(), scores.tolist(), strict=True):
            a = int(t.author[r])
            if a >= 0 and pos[a] >= 0 and t.role[r] in (ANSWER, COMMENT, MESSAGE):
                qf.votes.setdefault(int(pos[a]), []).append((r, s))
        return qf
