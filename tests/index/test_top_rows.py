"""``lexical.top_rows``: the sampled-threshold top-k cut is exact (same values as a full sort), with and without
a permission mask, on sizes that take the sampled path and the plain one, with zeros, ties and sparse masks."""

from __future__ import annotations

import numpy as np
import pytest

from whoknows.index.lexical import top_rows


def _reference(values: np.ndarray, k: int, mask: np.ndarray | None) -> np.ndarray:
    ok = values > 0 if mask is None else (values > 0) & mask
    return np.sort(values[ok])[::-1][:k]


@pytest.mark.parametrize("n", [50, 5_000, 100_000])
@pytest.mark.parametrize("k", [1, 10, 300])
def test_top_rows_is_exact(n: int, k: int) -> None:
    rng = np.random.default_rng(n * 31 + k)
    for trial in range(12):
        values = rng.random(n).astype(np.float32)
        values[rng.random(n) < (0.2, 0.9, 0.999)[trial % 3]] = 0  # dense, sparse, nearly empty
        if trial % 4 == 1:
            values = np.round(values * 4) / 4  # many ties
        mask = None if trial % 2 == 0 else rng.random(n) < (0.5, 0.01)[trial % 4 // 2]
        got = top_rows(values, k, mask)
        assert len(set(got.tolist())) == len(got)
        assert np.all(values[got] > 0) and (mask is None or np.all(mask[got]))
        np.testing.assert_array_equal(np.sort(values[got])[::-1], _reference(values, k, mask))
        if mask is not None:  # masking first gives the same values
            np.testing.assert_array_equal(np.sort(values[top_rows(values * mask, k)])[::-1], np.sort(values[got])[::-1])


def test_top_rows_edges() -> None:
    assert len(top_rows(np.zeros(0, np.float32), 5)) == 0
    assert len(top_rows(np.ones(10, np.float32), 0)) == 0
    assert len(top_rows(np.ones(100_000, np.float32), 5, np.zeros(100_000, bool))) == 0
