"""Aggregates "as of" a past moment (training): the public part carried forward from the previous moment equals a
fresh computation, whatever the order of the moments asked for."""

from __future__ import annotations

import numpy as np
import pytest

from whoknows.expertise.evidence import ANSWER, COMMENT, QUESTION
from whoknows.expertise.table import STAT_NAMES, EvidenceTable
from whoknows.index import Filters

DAY = 86400.0


def _table(seed: int, n: int = 3000, people: int = 60, spaces: int = 12) -> EvidenceTable:
    rng = np.random.default_rng(seed)
    time = np.sort(rng.uniform(0, 400 * DAY, n))
    time[100:110] = time[100]  # ties: several rows at one moment
    author = rng.integers(-1, people, n).astype(np.int32)
    return EvidenceTable(
        person_ids=np.arange(1, people + 1, dtype=np.int64),
        msg_id=np.arange(n, dtype=np.int64),
        author=author,
        asker=rng.integers(-1, people, n).astype(np.int32),
        space=rng.integers(0, spaces, n).astype(np.int64),
        skind=np.zeros(n, dtype=np.int8),
        role=rng.choice([QUESTION, ANSWER, COMMENT], n).astype(np.int8),
        time=time,
        accepted=rng.random(n) < 0.2,
        thanked=rng.random(n) < 0.1,
        score=rng.integers(-2, 6, n).astype(np.int32),
        reactions=rng.integers(0, 3, n).astype(np.int32),
        kind_names=["stackexchange"],
        public=frozenset(range(8)),  # spaces 8..11 are private
        doc_len=rng.integers(1, 40, n).astype(np.float64),
    )


def _fresh(t: EvidenceTable, f: Filters, half_life: float) -> dict[str, np.ndarray]:
    return t._compute(np.flatnonzero(t.allowed(f)), f.until, half_life)


@pytest.mark.parametrize("half_life", [3 * DAY, 40 * DAY, float("inf")])
def test_public_as_of_matches_a_fresh_computation(half_life: float) -> None:
    t = _table(1)
    public = Filters(spaces=t.public)
    untils = [*np.linspace(0, 420 * DAY, 25), t.time[100], t.time[105], 200 * DAY, 10 * DAY, 390 * DAY]
    for until in untils:  # forward in time, a tie, then back (recomputed) and forward again
        f = Filters(spaces=public.spaces, until=float(until))
        got, want = t.stats(f, half_life), _fresh(t, f, half_life)
        for k in STAT_NAMES:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=f"{k} as of {until / DAY:.1f} d")


def test_private_spaces_are_added_to_the_public_part() -> None:
    t = _table(2)
    for until in np.linspace(5 * DAY, 410 * DAY, 12):
        f = Filters(spaces=t.public | {9, 11}, until=float(until))
        got, want = t.stats(f, 10 * DAY), _fresh(t, f, 10 * DAY)
        for k in STAT_NAMES:
            if k == "askers":  # counted per part, as for a live question: at most one extra per person helped in both
                assert (got[k] >= want[k]).all()
            else:
                np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=k)
