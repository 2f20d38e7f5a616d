"""Session 53: a histogram whose buckets are too coarse to show a move says so (SRE reading of fault lab
network_delay 205: station-service's request duration p95 rose 142 -> 210 ms inside the 0.1-0.25 s bucket, and the
report's "1.7 % of its 120 observations above 0.25 s" read as if it had not moved)."""

from __future__ import annotations

import numpy as np
import pytest

from tracekit.analysis.metric_evidence import _move_words, metric_evidence

from .test_metric_evidence import BOUNDS, H_BAS, H_INC, _histograms, _latencies


def _bucket_of_quantile(values: np.ndarray, q: float = 0.95) -> int:
    """The bucket (index into BOUNDS, as searchsorted's left side counts) holding the inverted-cdf q-quantile."""
    counts = np.bincount(np.searchsorted(BOUNDS, values, side="left"), minlength=len(BOUNDS) + 1)
    return int(np.argmax(np.cumsum(counts) >= np.ceil(q * len(values))))


@pytest.mark.parametrize("seed", range(4))
def test_a_move_inside_the_quantile_bucket_is_said_to_be_unseen(seed):
    lat = _latencies(np.random.default_rng(seed), 4, slow=1.25)
    base, inc = np.concatenate(lat[:180]), np.concatenate(lat[180:])
    jb, ji = _bucket_of_quantile(base), _bucket_of_quantile(inc)
    ev = metric_evidence(_histograms(lat), H_INC, H_BAS).iloc[0]
    assert ev["basis"] == "observations" and ev["edge"] == BOUNDS[jb]
    assert ev["edge_below"] == (BOUNDS[jb - 1] if jb else 0.0)
    # by construction the p95 rose 25 % and stayed in its bucket (0.1-0.25 s with this body)
    assert ji == jb and np.percentile(inc, 95, method="inverted_cdf") > np.percentile(base, 95, method="inverted_cdf")
    assert bool(ev["same_bucket"]) and ev["evidence"] < 0.05
    words = _move_words(ev, "s")
    assert f"both sides' p95 lie in its bucket, {ev['edge_below']:g}–{ev['edge']:g} s: a move within it is not seen" \
        in words, words


def test_a_tail_that_left_the_bucket_is_counted_and_no_blindness_is_said():
    lat = _latencies(np.random.default_rng(7), 4, slow=3.0)
    ev = metric_evidence(_histograms(lat), H_INC, H_BAS).iloc[0]
    assert not bool(ev["same_bucket"])
    assert ev["evidence"] > 0.4
    assert "not seen" not in _move_words(ev, "s")


def test_the_points_basis_says_nothing_of_buckets():
    lat = _latencies(np.random.default_rng(3), 4, slow=1.25)
    ev = metric_evidence(_histograms(lat).assign(buckets=None), H_INC, H_BAS).iloc[0]
    assert ev["basis"] == "points" and ev["same_bucket"] is not None and str(ev["same_bucket"]) == "<NA>"
    assert np.isnan(ev["edge_below"])
    assert "bucket" not in _move_words(ev, "s")


def test_a_service_mean_over_several_hosts_says_how_many():
    # fault lab cpu_contention 318 as one frame: "When" gave the starved pod's process.cpu.utilization 0.021 -> 0.892,
    # "Where" the service's 0.021 -> 0.456 (its saturated pod and its idle one averaged), neither saying which
    import pandas as pd

    import tracekit as tk

    t = pd.date_range("2026-03-02T14:00Z", periods=40, freq="15s")
    busy = [0.02] * 30 + [0.9] * 10
    rows = {"time": list(t) * 3, "name": "process.cpu.utilization", "unit": "1", "kind": "gauge",
            "value": busy + [0.02] * 40 + [0.03] * 40,
            "service": ["api"] * 80 + ["db"] * 40, "host": ["api-1"] * 40 + ["api-2"] * 40 + ["db-1"] * 40}
    m = tk.metrics_from_columns(rows)
    inc, base = (t[30] - pd.Timedelta("1s"), t[-1]), (t[0] - pd.Timedelta("1s"), t[29])
    ev = metric_evidence(m, inc, base).set_index("service")
    assert ev.loc["api", "hosts"] == 2 and ev.loc["db", "hosts"] == 1
    assert _move_words(ev.loc["api"], "1").startswith("mean over its 2 hosts 0.02 → 0.46"), _move_words(ev.loc["api"], "1")
    assert _move_words(ev.loc["db"], "1").startswith("mean 0.03 → 0.03")
    by_host = metric_evidence(m, inc, base, by="host").set_index("host")
    assert (by_host["hosts"] == 0).all() and _move_words(by_host.loc["api-1"], "1").startswith("mean 0.02 → 0.9")
