"""The ranked root cause and its words (review s35, area "rank"): the chance statement when metrics moved and the
baseline's parts are too short to compare them; a baseline too small for the incident; the operation peer_outliers
names; version_regressions across a rollback (v1 → v2 → v1).

Every frame is built here with its truth known by construction (the fault lab's null windows: nothing injected)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.simulate_faults import fault_window, random_system

MS = 1_000_000


# ---- 1. a metric that moved 100x, traces that did not ------------------------------------------------------------
@pytest.fixture(scope="module")
def null_short_baseline():
    """A window with nothing injected, its baseline 50 s of traces (two parts of 25 s: no minute's metric point in
    either), its incident 120 s; the service ranked first by the traces alone."""
    w = fault_window("null", 3, baseline_s=50, incident_s=120, system=random_system(3, n_services=8, depth=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = tk.rank_causes(w.incident, w.baseline, level="operation", window=None, n_boot=1)
    return w, str(rc["service"].iloc[0])


def _memory(w, target: str, factor: float) -> pd.DataFrame:
    """A memory gauge a minute for every service, an hour before the window to its end, steady (100 ± 2); ``target``'s
    points that describe a minute in the incident (a gauge's value describes the minute before its stamp) times
    ``factor``. Memory is not capped by the spans' own time (metric_evidence's own-time cap is CPU and latency)."""
    svcs = sorted(set(w.incident["service"].dropna()) | set(w.baseline["service"].dropna()))
    t = pd.date_range("2026-03-02T13:00:40Z", "2026-03-02T14:03:40Z", freq="1min")
    rng = np.random.default_rng(0)
    inc0 = w.incident["start"].min()
    parts = []
    for s in svcs:
        v = 100 + rng.normal(0, 2, len(t))
        if s == target:
            v = np.where(t - pd.Timedelta("30s") >= inc0, v * factor, v)
        parts.append(pd.DataFrame({"time": t, "value": v, "service": s}))
    f = pd.concat(parts, ignore_index=True)
    return tk.metrics_from_columns({"time": f["time"], "name": "MemoryUsage", "value": f["value"],
                                    "service": f["service"]})


def _where(pm):
    return next(f for f in pm.findings if f.topic == "where" and "score" in f.evidence)


def test_chance_split_of_a_short_baseline_compares_no_metric_series(null_short_baseline):
    """The precondition of the next test, measured: the two parts of the baseline hold no metric point to compare
    (chance_score's metric_series 0; the incident against the baseline compares every service's series: next test)."""
    w, target = null_short_baseline
    m = _memory(w, target, 100.0)
    cs = tk.chance_score(w.baseline, int(w.incident["trace_id"].nunique()), level="operation", metrics=m)
    assert len(cs) and (cs["metric_series"] == 0).all()


def test_a_metric_that_moved_100x_is_beyond_chance_by_itself(null_short_baseline):
    """Nezha TrainTicket 14:23 (CPU 2.64 → 430 m) on generated data: the top service's memory goes 100x in the incident,
    its traces move no more than chance. The chance level was the traces' alone (the baseline's parts compared no
    metric) and the combined score was held against it: 0.37 + 0.17 = 0.54 "less than 1.5 times" 0.37, "no service
    stands out". Each signal against its own chance level: the metrics (0.17 against 0.00 in the same metrics earlier)
    are beyond it, the traces are not, and the words say both."""
    w, target = null_short_baseline
    pm = tk.postmortem(w.incident, w.baseline, n_boot=20, metrics=_memory(w, target, 100.0))
    f = _where(pm)
    ev = f.evidence
    assert ev["likely"] is True and ev["beyond_null_metrics"] is True and ev["beyond_null_traces"] is False
    assert ev["metrics_score"] > 0.1 and ev["metric_null_score"] < 0.05
    assert ev["traces_score"] + ev["metrics_score"] == pytest.approx(ev["score"])
    assert ev["key"].startswith(target + ":")
    assert pm.causes.attrs["metric_coverage"]["compared"] == w.incident["service"].nunique()
    assert f.text.startswith("Likely cause (ranked first of") and "beyond chance by its metrics:" in f.text, f.text
    assert f"its metrics score {ev['metrics_score']:.2f}, beyond chance (against {ev['metric_null_score']:.2f}" in f.text
    assert f"its traces' evidence scores {ev['traces_score']:.2f}, within chance" in f.text


def test_nothing_moved_is_still_within_chance(null_short_baseline):
    """The converse: the same window, the memory steady. Nothing is called likely, and each signal is said to be within
    its chance level."""
    w, target = null_short_baseline
    pm = tk.postmortem(w.incident, w.baseline, n_boot=20, metrics=_memory(w, target, 1.0))
    f = _where(pm)
    ev = f.evidence
    assert ev["likely"] is False and ev["beyond_null_metrics"] is False and ev["beyond_null_traces"] is False
    assert f.text.startswith("No operation stands out clearly beyond chance, signal by signal: its traces' evidence "
                             f"scores {ev['traces_score']:.2f}, within chance"), f.text
    assert f"its metrics score {ev['metrics_score']:.2f}, within chance" in f.text


def test_metrics_of_services_without_spans_are_said_to_weigh_on_nothing(null_short_baseline):
    """Metrics of services no span names (another system's, an uninstrumented one): compared, one of them moved 100x,
    and the words said "16 of 16 series compared; 1 moved …, most: ghost-… MemoryUsage" with no row ranked on them.
    Now the count of such series and their services are said, and that they weigh on no component."""
    from tracekit.investigate.postmortem import _metric_coverage

    w, target = null_short_baseline
    m = _memory(w, target, 100.0)
    m["service"] = ("ghost-" + m["service"].astype(str)).astype(m["service"].dtype)
    rc = tk.rank_causes(w.incident, w.baseline, level="operation", window=None, n_boot=1, lift_rows=0, metrics=m)
    cov = rc.attrs["metric_coverage"]
    n_series = m["service"].nunique()
    assert cov["compared"] == n_series and cov["unranked"] == n_series and (rc["metrics"] == 0).all()
    text = _metric_coverage(cov).text
    assert (f"{n_series} of the series compared are of services with no row in the ranking (no incident span names "
            f"them: ghost-") in text and text.endswith("so their moves weigh on no component."), text


# ---- 2. a baseline too small for the incident ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def null_window():
    """Nothing injected: 100 incident traces, a 60 s baseline (60 traces) to take the last few traces of."""
    return fault_window("null", 1, baseline_s=60, incident_s=100, system=random_system(1, n_services=8, depth=2))


def _last_traces(spans: pd.DataFrame, n: int) -> pd.DataFrame:
    order = spans.groupby("trace_id")["start"].min().sort_values(kind="stable").index
    return spans[spans["trace_id"].isin(order[-n:]).to_numpy()]


def test_a_baseline_too_small_is_said_first_and_nothing_is_called_likely(null_window):
    """20 baseline traces against 100 (nothing injected): the fault lab called a top cause likely in 4 of 8 such
    windows (0 of 8 at 33 or 40 baseline traces), and nothing said the baseline was small. The postmortem now says
    it first, with both counts, and calls nothing likely; the report's heading says what it is."""
    from tracekit.analysis.baseline_check import MAX_INCIDENT_PER_BASELINE

    w = null_window
    base = _last_traces(w.baseline, 20)
    na = int(w.incident["trace_id"].nunique())
    assert na > MAX_INCIDENT_PER_BASELINE * 20
    pm = tk.postmortem(w.incident, base, n_boot=20)
    first = pm.findings[0]
    assert first.topic == "baseline" and first.evidence["too_small"] is True
    assert first.text.startswith(f"The baseline is too small for a conclusion: its 20 traces against the incident's "
                                 f"{na}"), first.text
    f = _where(pm)
    assert f.evidence["likely"] is False
    assert f.text.startswith(f"No operation can be called a likely cause: the baseline's 20 traces are too few against "
                             f"the incident's {na}"), f.text
    assert not any("too small" in s for s in pm.sentences("sure"))  # said once, first
    from tracekit.reporting import _topic_title

    assert _topic_title("baseline", [first]) == "Baseline too small"


@pytest.mark.parametrize("n_base", [5, 20])
def test_rank_causes_says_its_baseline_is_too_small(null_window, n_base):
    """rank_causes' own result says it too: a warning, every row's note starts with it, attrs hold the sentence."""
    w = null_window
    base = _last_traces(w.baseline, n_base)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = tk.rank_causes(w.incident, base, window=None, n_boot=1, lift_rows=0)
    said = [str(c.message) for c in caught if "too small" in str(c.message)]
    assert len(said) == 1 and f"its {n_base} traces against the incident's 100" in said[0], said
    assert rc["note"].str.startswith(f"baseline too small: {n_base} traces against the incident's 100").all()
    assert rc.attrs["baseline_too_small"].startswith("The baseline is too small")


def test_a_baseline_a_third_of_the_incident_is_not_too_small(null_window):
    """The threshold, one place (baseline_check.MAX_INCIDENT_PER_BASELINE): 34 traces against 100 is not flagged."""
    from tracekit.analysis.baseline_check import baseline_too_small

    w = null_window
    assert baseline_too_small(w.incident, _last_traces(w.baseline, 34)) == ""
    assert baseline_too_small(w.incident, _last_traces(w.baseline, 33)) != ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = tk.rank_causes(w.incident, _last_traces(w.baseline, 34), window=None, n_boot=1, lift_rows=0)
    assert not any("too small" in str(c.message) for c in caught)
    assert not rc["note"].str.contains("baseline too small").any() and rc.attrs["baseline_too_small"] == ""


# ---- 3. peer_outliers' operation -----------------------------------------------------------------------------------
def _peers(slow: str = "", fast: str = "") -> pd.DataFrame:
    """One service, hosts h0-h2 taking turns, operations X and Y (root spans, 10-11 ms of own time); h0's ``slow``
    operations take 3 times as long, its ``fast`` ones a third."""
    rng = np.random.default_rng(0)
    cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end",
                                             "resource")}
    for r in range(240):
        h = f"h{r % 3}"
        for j, op in enumerate(("X", "Y")):
            d = 10.0 + rng.random()
            d = d * 3 if (h == "h0" and op in slow) else d / 3 if (h == "h0" and op in fast) else d
            t = 1_700_000_000_000_000_000 + r * 100 * MS
            cols["trace_id"].append(f"{r * 2 + j + 1:032x}")
            cols["span_id"].append(f"{r * 2 + j + 1:016x}")
            cols["parent_id"].append(None)
            cols["service"].append("S")
            cols["name"].append(op)
            cols["start"].append(t)
            cols["end"].append(t + int(d * MS))
            cols["resource"].append({"host.name": h})
    return tk.spans_from_columns(cols)


def test_peer_outliers_names_the_one_slow_operation_and_no_operation_where_it_is_not_slower():
    """h0 is 3x slower on X only: its row names X. Its peers are slower on neither operation (slower 0.45-0.49) and
    were each named with Y as "its operation most significantly slower than on its peers"; now none."""
    po = tk.peer_outliers(_peers(slow="X")).set_index("host")
    assert po.at["h0", "operation"] == "X" and po.at["h0", "slower"] == 1.0
    assert po.at["h0", "self_p50_ms"] > 2.5 * po.at["h0", "peer_self_p50_ms"]
    for h in ("h1", "h2"):
        assert po.at[h, "slower"] <= 0.5 and pd.isna(po.at[h, "operation"])
        assert np.isnan(po.at[h, "self_p50_ms"]) and pd.isna(po.at[h, "example_trace_id"])


def test_peer_outliers_names_no_operation_for_a_host_faster_on_every_one():
    """h0 is 3x faster on X and on Y: it is slower on nothing (slower 0), and was named with X."""
    po = tk.peer_outliers(_peers(fast="XY")).set_index("host")
    assert pd.isna(po.at["h0", "operation"]) and po.at["h0", "slower"] == 0.0
    assert set(po.loc[["h1", "h2"], "operation"]) <= {"X", "Y"}  # slower than h0: that is what their rows say
    assert (po.loc[["h1", "h2"], "slower"] > 0.5).all()


# ---- 4. version_regressions across a rollback ---------------------------------------------------------------------
def _versions(plan: list[tuple[str, float]]) -> pd.DataFrame:
    n = len(plan)
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "service": ["pay"] * n, "name": ["charge"] * n, "start": [i * 1000 * MS for i in range(n)],
        "end": [i * 1000 * MS + int((d + (i % 7) * 0.1) * MS) for i, (_, d) in enumerate(plan)],
        "resource": [{"service.version": v} for v, _ in plan]})


def test_a_rollback_is_a_period_of_its_own_compared_with_the_version_it_replaced():
    """v1 (10 ms) for 100 calls, v2 (50 ms) for 100, v1 again (30 ms) for 100. Pooled, v1 was one row of 200 calls (p50
    10.6 ms, a mix of both periods) and the return to v1 was compared with nothing. Now three rows in time order, each
    against the one before it: v2 +40 ms against the first v1 alone, the second v1 -20 ms against v2."""
    spans = _versions([("1.0", 10.0)] * 100 + [("2.0", 50.0)] * 100 + [("1.0", 30.0)] * 100)
    before = spans.copy(deep=True)
    r = tk.version_regressions(spans, n_boot=200)
    pd.testing.assert_frame_equal(spans, before)
    assert r["version"].tolist() == ["1.0", "2.0", "1.0"]
    assert r["previous_version"].isna().tolist() == [True, False, False]
    assert r["previous_version"].iloc[1:].tolist() == ["1.0", "2.0"]
    assert r["calls"].tolist() == [100, 100, 100]
    assert r["p50_ms"].round(1).tolist() == [10.3, 50.3, 30.3]
    assert r["delta_p50_ms"].iloc[1:].round(1).tolist() == [40.0, -20.0]
    assert r["regression"].tolist() == [False, True, False]


def test_interleaved_versions_stay_one_period_each():
    """A canary (v2 on a random 30 % of the calls throughout) is no rollback: one row per version."""
    rng = np.random.default_rng(4)
    plan = [("2.0", 12.0) if x < 0.3 else ("1.0", 10.0) for x in rng.random(300)]
    r = tk.version_regressions(_versions(plan), n_boot=50)
    assert sorted(r["version"].tolist()) == ["1.0", "2.0"] and r["calls"].sum() == 300


def test_a_canary_chosen_per_request_stays_one_period_per_version():
    """A request's calls go to one pod together: 1,000 requests of 3 calls each, a request on v2 with chance 0.1. Drawn
    call by call, runs of 6 v2 calls (two v2 requests in a row) broke v1 into 11 periods (13 rows); counted by request,
    one row per version."""
    rng = np.random.default_rng(1)
    cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "start", "end", "resource")}
    k = 0
    for r in range(1000):
        v = "2.0" if rng.random() < 0.1 else "1.0"
        for j in range(3):
            k += 1
            t = (r * 10 + j) * 10 * MS
            cols["trace_id"].append(f"{r + 1:032x}")
            cols["span_id"].append(f"{k:016x}")
            cols["start"].append(t)
            cols["end"].append(t + (12 if v == "2.0" else 10) * MS)
            cols["resource"].append({"service.version": v})
    spans = tk.spans_from_columns({**cols, "service": ["pay"] * k, "name": ["charge"] * k})
    r = tk.version_regressions(spans, n_boot=50)
    assert r["version"].tolist() == ["1.0", "2.0"] and r["calls"].sum() == 3000


def test_a_baseline_of_hundreds_is_not_too_small_whatever_the_ratio():
    """The ratio rule is for baselines whose limits are draws of a few spans: in the fault lab, nothing injected, an
    incident of 2,000 traces against 250 or 500 baseline traces called a cause likely in 0 of 6 windows each (as often
    as 1,000 against 2,000 does), so hundreds of baseline traces are never too few (ENOUGH_BASELINE_TRACES)."""
    from tracekit.analysis.baseline_check import ENOUGH_BASELINE_TRACES, MAX_INCIDENT_PER_BASELINE, baseline_too_small

    ids = pd.DataFrame({"trace_id": [f"{i + 1:032x}" for i in range(4000)]})
    for n_base in (ENOUGH_BASELINE_TRACES, 250, 500):
        assert n_base * MAX_INCIDENT_PER_BASELINE < 4000 and baseline_too_small(ids, ids.iloc[:n_base]) == ""
    assert baseline_too_small(ids, ids.iloc[:ENOUGH_BASELINE_TRACES - 1]).startswith(
        f"The baseline is too small for a conclusion: its {ENOUGH_BASELINE_TRACES - 1} traces against the incident's 4,000")
