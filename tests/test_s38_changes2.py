"""Session 38, changes2: when a change window of detect_changes / incident_periods begins and ends (error-rate
recovery, changes at the edges of the data, mismatched baselines) and what detect_changes costs in keys."""

from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk

_T0 = pd.Timestamp("2026-03-02 14:00", tz="UTC")
_MIN = 60_000_000_000


def _error_step(seed: int, share: float, rate: float, minutes: int = 60, normal: float = 0.01):
    """An hour of one operation's requests (Poisson, ``rate`` a minute), each failing with chance ``normal``, and
    ``share`` from a random second of minutes 20–40 on, for ``minutes`` (60: to the end of the data)."""
    rng = np.random.default_rng(seed)
    onset = _T0.value + int(rng.integers(20 * _MIN, 40 * _MIN))
    n = rng.poisson(rate * 60)
    start = np.sort(_T0.value + rng.integers(0, 60 * _MIN, n))
    hit = (start >= onset) & (start < onset + minutes * _MIN)
    fail = rng.random(n) < np.where(hit, share, normal)
    lat = 110.0 * np.exp(0.45 * rng.standard_normal(n))
    ids = np.arange(1, n + 1)
    spans = tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in ids], "span_id": [f"{i:016x}" for i in ids], "parent_id": [None] * n,
        "service": ["pay"] * n, "name": ["POST /charge"] * n, "kind": ["server"] * n, "start": start,
        "end": start + (lat * 1e6).astype(np.int64), "status": np.where(fail, "error", "ok")})
    return spans, pd.Timestamp(onset, tz="UTC")


def test_an_error_rate_raised_to_the_end_is_not_said_to_be_over():
    # 30 % of requests failing from a random minute to the end of the data, 3 a minute: a window ending where the last
    # minutes held few failures by chance was said to be over in 8 of the 19 found in these 20 seeds (11 of 28 in 30);
    # the requests after an error-rate window must now fail less than those inside beyond chance, as after a latency
    # window (z 2.33): 3 of 19 (5 of 28)
    found = over = 0
    for seed in range(20):
        spans, _ = _error_step(seed, 0.30, 3)
        ch = tk.detect_changes(spans, metric="error_rate")
        if len(ch):
            found += 1
            over += not pd.isna(ch.iloc[0]["recovery"])
    assert found >= 17
    assert over <= 3
    # windows that did end keep their recovery: half the requests failing for 10 minutes, 5 a minute (the same
    # recoveries before and after: within a minute of the truth in 15 of these 16 seeds)
    near = 0
    for seed in range(8):
        spans, onset = _error_step(seed, 0.5, 5, minutes=10)
        r = tk.detect_changes(spans, metric="error_rate").iloc[0]
        end = (onset + pd.Timedelta("10min")).ceil("1min")
        near += bool(not pd.isna(r["recovery"]) and abs(r["recovery"] - end) <= pd.Timedelta("1min"))
    assert near >= 7


def test_fast_failure_mirrors_takes_a_missing_key_as_a_key():
    # a table by route with a route <NA> (string dtype, as detect_changes types its keys): '/a' == <NA> is <NA>, and
    # the row-by-row key comparison raised TypeError ("boolean value of NA is ambiguous"); now a missing key matches a
    # missing key only. By construction: each latency window ends where its own route's error rise begins
    from tracekit.analysis.changes import fast_failure_mirrors

    t = pd.Timestamp("2026-03-02 14:00", tz="UTC")
    m = pd.Timedelta("1min")
    ch = pd.DataFrame({"route": pd.array(["/a", None, "/a", None, "/b"], dtype="string"),
                       "metric": ["p95_ms", "error_rate", "error_rate", "p95_ms", "p95_ms"],
                       "onset": [t, t + 5 * m, t + 5 * m, t, t],
                       "recovery": [t + 5 * m, pd.NaT, pd.NaT, t + 5 * m, t + 5 * m],
                       "before": [16.5, 0.01, 0.01, 10.0, 10.0], "during": [32.5, 1.0, 1.0, 20.0, 20.0]})
    assert fast_failure_mirrors(ch, "1min").tolist() == [True, False, False, True, False]
