"""Session 55 (a fresh reader's check of the analyses by construction, D2): the weighted percentile is the inverse of
the weighted empirical CDF. It scaled the weights to a largest of 1 and let numpy compare float sums exactly, so a
cumulative weight that meets q of the total landed a few ulps under it and the next value was taken: p50 of 1, 2, 3, 4
ms weighing 1, 4, 1, 6 read 4.0, where the third value's cumulative weight is 6 of 12 (3.0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import QUANTILES, percentile


def test_the_weighted_percentile_is_the_expanded_samples():
    # integer weights: the answer is the unweighted inverted_cdf of each value repeated its weight times (exact);
    # the code before differed on 650 of 140,000 such samples (a fresh reader's count)
    rng = np.random.default_rng(55)
    qs = np.array([*QUANTILES, 0.0, 0.25, 1 / 3, 0.75, 1.0])
    wrong_before = 0
    for _ in range(3_000):
        n = int(rng.integers(1, 9))
        x = rng.integers(0, 6, n).astype(float)  # ties too
        w = rng.integers(1, 7, n).astype(float)
        want = np.quantile(np.repeat(x, w.astype(int)), qs, method="inverted_cdf")
        np.testing.assert_array_equal(percentile(x, qs, weights=w), want)
        wrong_before += not np.array_equal(np.quantile(x, qs, weights=w / w.max(), method="inverted_cdf"), want)
    assert wrong_before > 0  # the samples hold the cases the scaled weights got wrong


def test_weighted_summary_reads_the_weighted_p50_of_one_in_n_weights():
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in range(1, 5)], "span_id": [f"{i:016x}" for i in range(1, 5)],
        "service": ["api"] * 4, "name": ["GET /"] * 4, "kind": ["server"] * 4, "start": [0] * 4,
        "end": [1 * ms, 2 * ms, 3 * ms, 4 * ms], "status": ["ok"] * 4})
    w = pd.Series([1.0, 4.0, 1.0, 6.0], index=spans["trace_id"])
    assert tk.weighted_summary(spans, w, n_boot=0).iloc[0]["p50_ms"] == 3.0  # was 4.0


@pytest.mark.parametrize("weights", [[1e308, 1e308, 1e308], [1e-300, 2e-300, 1e-300], [0.1, 0.2, 0.3]])
def test_extreme_and_fractional_weights_keep_their_quantiles(weights):
    x = [10.0, 20.0, 30.0]
    w = np.asarray(weights) / max(weights)  # (summed as given, three of 1e308 overflow)
    cw = np.cumsum(w) / np.sum(w)
    want = [x[int(np.argmax(cw >= q - 1e-12))] for q in (0.2, 0.5, 1.0)]
    assert percentile(x, [0.2, 0.5, 1.0], weights=weights).tolist() == want
    # the largest value at q = 1 however little it weighs
    assert percentile([1.0, 2.0], 1.0, weights=[1.0, 1e-12]) == 2.0
