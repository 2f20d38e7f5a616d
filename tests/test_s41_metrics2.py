"""Session 41, metrics2: metrics beside traces — metric_rates, metric_series' streams, metric_evidence's points and
its median. Every truth is built by construction in small frames (no real data needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.metric_evidence import Z_OUTSIDE, metric_evidence, metric_scores

S = 10**9
T = pd.Timestamp("2024-01-01 10:00", tz="UTC")
HALF = pd.Timedelta("30s")  # a once-a-minute gauge stamped t describes the minute before: its middle is t − 30 s


def _gauge(values, name="CpuUsageRate", service="cart") -> pd.DataFrame:
    t = pd.date_range(T, periods=len(values), freq="1min", tz="UTC")
    return tk.metrics_from_columns({"time": t, "name": name, "value": [float(v) for v in values], "service": service})


def _windows(n_base: int, n_inc: int):
    """The baseline window over the points stamped 0 .. n_base − 1 min, the incident's over the next n_inc."""
    base = (T - HALF, T + pd.Timedelta(minutes=n_base - 1) - HALF)
    inc = (T + pd.Timedelta(minutes=n_base) - HALF, T + pd.Timedelta(minutes=n_base + n_inc - 1) - HALF)
    return inc, base


def _expected(sizes, n, prior=10.0):
    """metric_evidence's rule by hand: sizes of the k incident points, n baseline points."""
    c = 2 / (n + 1)
    return max(0.0, (sum(sizes) + c * prior) / (len(sizes) + prior) - c) / (1 - c)


def test_an_infinite_reading_counts_in_neither_window():
    """One +Inf reading (an OTLP double may be infinite) among 10 baseline points made the reach infinite: a rise
    from about 6 to 50 and 60 read 'not moved' (evidence 0), the baseline mean inf. metric_series leaves such a
    point out of its buckets; metric_evidence now does too. An infinite incident reading is no full move either."""
    base = [5, 6, 7, 5, 6, 7, 5, 6, 7]  # median 6, MAD 1
    inc, bas = _windows(10, 2)
    ev = metric_evidence(_gauge(base + [np.inf] + [50, 60]), inc, bas).iloc[0]
    hi = 6 + Z_OUTSIDE * 1.4826
    sizes = [1 - (hi - 6) / 44, 1 - (hi - 6) / 54]
    assert ev["baseline_points"] == 9 and ev["reach_high"] == pytest.approx(hi)
    assert ev["baseline_mean"] == pytest.approx(6.0) and ev["moved"]
    assert ev["evidence"] == pytest.approx(_expected(sizes, 9))
    # -Inf and +Inf in the incident: left out, the finite point alone decides
    ev = metric_evidence(_gauge(base + [6, -np.inf, 50, np.inf]), *_windows(10, 3)).iloc[0]
    assert ev["incident_points"] == 1 and ev["incident_mean"] == 50.0 and np.isfinite(ev["change"])
    assert ev["evidence"] == pytest.approx(_expected([sizes[0]], 10))


def test_rates_difference_cumulative_points_only():
    """A stream whose pipeline changed temporality: cumulative 60, 120 (start 0), a delta 60 over (120 s, 180 s],
    cumulative 240 at 240 s. Every rate is 1/s; the last was (240 − 60) / 60 = 3/s, taken against the delta's value."""
    m = tk.metrics_from_columns({"time": [60 * S, 120 * S, 180 * S, 240 * S], "name": "c", "kind": "sum",
                                 "temporality": ["cumulative", "cumulative", "delta", "cumulative"], "monotonic": True,
                                 "value": [60.0, 120.0, 60.0, 240.0], "start_time": [0, 0, 120 * S, 0]})
    r = tk.metric_rates(m)
    assert r["value"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert r["reset"].tolist() == [False] * 4
    # the same points in another row order: the same rates (rows stay in place)
    rr = tk.metric_rates(m.iloc[[3, 2, 1, 0]].reset_index(drop=True))
    assert rr["value"].tolist() == [1.0, 1.0, 1.0, 1.0]
    # a delta alone keeps its own interval's rate, and a real reset of the cumulative points is still one
    m2 = m.assign(value=[60.0, 120.0, 60.0, 30.0])
    r2 = tk.metric_rates(m2)
    assert r2["reset"].tolist() == [False, False, False, True]
    assert r2["value"].tolist()[:3] == [1.0, 1.0, 1.0] and r2["value"].iloc[3] == pytest.approx(30 / 120)


def test_metric_series_streams_are_point_attribute_sets():
    """Two CPUs of one host (point attribute cpu="0" / "1") at 10 % and 90 %; cpu 1 misses the 01:00 scrape. The
    column's definition says a stream is a set of point attributes too; they were one (service, host) stream, so the
    bucket read 10 (a −80 % move nothing made) with streams 1. Now 50 throughout, cpu 1 carried."""
    t = [60 * S, 60 * S, 120 * S, 180 * S, 180 * S]
    m = tk.metrics_from_columns({"time": t, "name": "cpu", "value": [10.0, 90.0, 10.0, 10.0, 90.0], "service": "a",
                                 "host": "h", "attributes": [{"cpu": "0"}, {"cpu": "1"}, {"cpu": "0"}, {"cpu": "0"},
                                                             {"cpu": "1"}]})
    for by in ("service", "host", None):
        s = tk.metric_series(m, by=by)
        assert s["value"].tolist() == [50.0, 50.0, 50.0], by
        assert s["streams"].tolist() == [2, 2, 2] and s["carried"].tolist() == [0, 1, 0]
        assert s["points"].tolist() == [2, 1, 2]
    # two processes of one service told apart by their resource alone: the same
    r = m.assign(attributes=[{}] * 5, resource=[{"service.instance.id": k} for k in ("p0", "p1", "p0", "p0", "p1")])
    assert tk.metric_series(r)["value"].tolist() == [50.0, 50.0, 50.0]


def test_metric_median_is_the_readings_middle_not_an_observed_value():
    """The decision (metric_evidence's docstring): a baseline's median is np.median's, the mean of the two middle
    readings of an even count, not core.percentile's inverted_cdf. A gauge flipping between two levels (10 readings,
    5 at 10 and 5 at 20): its middle is 15 and its reach is symmetric, so a series and its mirror image (every value
    negated) weigh a move alike. With the lower middle reading the series' median is 10 and its mirror's −20 (MAD 0
    both), and a reading of 21 weighs 1 − 10/11 = 0.091 where its mirror −21 weighs 1/20 = 0.05 (the level cap).
    This pins a decision, not a fix: it passes on the old code too."""
    base = [10, 20] * 5
    inc, bas = _windows(10, 2)
    for x in ([21, 21], [60, 70], [-40, -30]):
        up = metric_evidence(_gauge(base + x), inc, bas).iloc[0]
        down = metric_evidence(_gauge([-v for v in base + x]), inc, bas).iloc[0]
        assert up["baseline_median"] == 15.0 == -down["baseline_median"]
        assert up["baseline_spread"] == pytest.approx(1.4826 * 5) == down["baseline_spread"]
        assert up["evidence"] == pytest.approx(down["evidence"]) and up["outside_share"] == down["outside_share"]
    assert metric_evidence(_gauge(base + [21, 21]), inc, bas)["moved"].tolist() == [False]  # inside the reach


def test_a_point_given_twice_is_one_reading():
    """The same frame twice (a file read twice, an export retried): every point repeated in its stream, stamp and
    value. Each copy counted: 20 baseline points, 4 incident ones, evidence 0.145 -> 0.252. Now the frame's own
    figures, the copies counted in attrs['repeated_points']; points of two streams at one stamp and value stay two."""
    g = _gauge([5, 6, 7, 5, 6, 7, 5, 6, 7, 6, 50, 60])
    once = metric_evidence(g, *_windows(10, 2))
    twice = metric_evidence(pd.concat([g, g], ignore_index=True), *_windows(10, 2))
    cols = ["baseline_points", "incident_points", "evidence", "baseline_median", "incident_mean"]
    assert twice[cols].to_dict("records") == once[cols].to_dict("records")
    assert once["evidence"].iloc[0] == pytest.approx(_expected([1 - Z_OUTSIDE * 1.4826 / 44,
                                                                1 - Z_OUTSIDE * 1.4826 / 54], 10))
    assert twice.attrs["repeated_points"] == 12 and once.attrs["repeated_points"] == 0
    # two processes of the service (resource apart), equal readings at each stamp: two streams, 20 + 4 points
    two = pd.concat([g.assign(resource=[{"service.instance.id": "p0"}] * 12),
                     g.assign(resource=[{"service.instance.id": "p1"}] * 12)], ignore_index=True)
    ev = metric_evidence(two, *_windows(10, 2))
    assert ev[["baseline_points", "incident_points"]].iloc[0].tolist() == [20, 4] and ev.attrs["repeated_points"] == 0


def _latency_histograms(incident_counts) -> pd.DataFrame:
    """12 baseline minutes of 100 requests each (95 in (0.05, 0.1] s, 5 in (0.1, 0.5] s), then 2 incident minutes of
    100 requests with ``incident_counts`` over the same bounds; delta temporality, one point a minute."""
    t = pd.date_range(T, periods=14, freq="1min", tz="UTC")
    bounds = [0.005, 0.01, 0.05, 0.1, 0.5]
    base = {"bounds": bounds, "counts": [0, 0, 0, 95, 5, 0]}
    mids = np.array([0.001, 0.007, 0.03, 0.07, 0.3, 1.0])
    counts = [base["counts"]] * 12 + [list(incident_counts)] * 2
    return tk.metrics_from_columns({
        "time": t, "start_time": t - pd.Timedelta("1min"), "name": "http.server.request.duration", "unit": "s",
        "kind": "histogram", "temporality": "delta", "count": [100.0] * 14,
        "sum": [float(np.dot(c, mids)) for c in counts], "buckets": [{"bounds": bounds, "counts": c} for c in counts],
        "service": "cart"})


def test_a_histogram_that_fell_is_not_said_steady():
    """Every incident request 0.001 s against a baseline of ~0.07 s (a service failing fast): the histogram rule
    counts a rise only, so its evidence is 0 — and it was counted in metric_scores' 'steady' (rank_causes'
    metrics_steady: 'did not move'), a mean that fell 98.6 %. Now neither moved nor steady; the same requests
    unchanged are steady, a rise is moved."""
    win = (T + pd.Timedelta("11min"), T + pd.Timedelta("13min")), (T - pd.Timedelta("1min"), T + pd.Timedelta("10min") + HALF)
    fell = metric_evidence(_latency_histograms([100, 0, 0, 0, 0, 0]), *win)
    same = metric_evidence(_latency_histograms([0, 0, 0, 95, 5, 0]), *win)
    rose = metric_evidence(_latency_histograms([0, 0, 0, 50, 50, 0]), *win)
    for ev in (fell, same, rose):
        assert ev["basis"].tolist() == ["observations"] and ev["incident_count"].tolist() == [200.0]
    r = fell.iloc[0]
    assert r["direction"] == "down" and r["change"] < -0.9 and r["evidence"] == 0.0
    assert not r["moved"] and not r["steady"]
    assert same["steady"].tolist() == [True] and same["moved"].tolist() == [False]
    assert rose["moved"].tolist() == [True] and rose["steady"].tolist() == [False]
    sc = metric_scores(pd.concat([fell, same.assign(service="web"), rose.assign(service="db")], ignore_index=True))
    got = sc.set_index("service")[["moved", "steady"]].to_dict("index")
    assert got == {"cart": {"moved": 0, "steady": 0}, "web": {"moved": 0, "steady": 1}, "db": {"moved": 1, "steady": 0}}
