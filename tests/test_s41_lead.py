"""Session 41, lead: the words of the postmortem's "what happened" on a p95 that rises with a few requests."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

T0 = pd.Timestamp("2026-03-02 00:00", tz="UTC")


def _requests(minute: np.ndarray, latency_ms: np.ndarray) -> pd.DataFrame:
    n = len(minute)
    rng = np.random.default_rng(n)
    return tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in range(1, n + 1)], "span_id": [f"{i:016x}" for i in range(1, n + 1)],
        "service": "api", "name": "GET /x", "kind": "server",
        "start": T0 + pd.to_timedelta(minute * 60 + rng.uniform(0, 59, n), unit="s"),
        "duration_ms": latency_ms, "status": "ok"})


@pytest.fixture(scope="module")
def few_slow():
    # 60 minutes of 20 requests; in minutes 40-49, 4 of each minute's 20 are 10x slower (40 of the window's 200)
    rng = np.random.default_rng(3)
    minute = np.repeat(np.arange(60), 20)
    slow = (minute >= 40) & (minute < 50) & (np.tile(np.arange(20), 60) < 4)
    lat = rng.lognormal(np.log(100), 0.2, len(minute)) * np.where(slow, 10, 1)
    pm = tk.postmortem(_requests(minute, lat))
    return pm, slow, lat


def test_what_happened_does_not_say_every_request_of_the_window_was_slower(few_slow):
    # it read "200 GET /x requests were slower: p95 request latency …" while 40 of the 200 were (by construction
    # every slowed request is above any p95 of the normal ones, and about 5 % of the others are)
    pm, slow, lat = few_slow
    what = next(f for f in pm.findings if f.topic == "what")
    n_in = what.evidence["requests_hurt"]
    assert what.text.startswith("GET /x requests were slower: p95 request latency"), what.text
    assert f"{n_in} GET /x requests were slower" not in what.text
    k = what.evidence["requests_above_p95_before"]
    assert 40 <= k <= 40 + 0.15 * (n_in - 40) < n_in, (k, n_in)
    p95 = what.evidence["p95_before_ms"]
    assert f"the window's {n_in} requests, {k} of them slower than the baseline's p95 of" in what.text \
        or f"{k} of them slower than the p95 of" in what.text
    # the count is of the window's requests above that p95 (the slowed ones all are)
    assert np.all(lat[slow] > p95)
