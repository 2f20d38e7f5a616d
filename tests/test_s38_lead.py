"""Session 38, lead: what analyses leave in a result's ``attrs`` is free for pandas to copy.

pandas deep-copies a frame's ``attrs`` into every column it hands out and every frame it derives
(``NDFrame.__finalize__``). A plain dict of settings there (``attrs["params"]``) was walked by ``copy.deepcopy`` on
every ``out[col]``: diffing two small traces spent 9 % of its time (7.8 of 87 s over 120 pairs, cProfile) deep-copying
the critical path's and the diff's settings. Their values are read-only records of a call, so they are held as the
readers' attrs already are (``schema.shared_attr``): their deep copy is themselves.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import tracekit as tk
from tracekit.schema import SharedDict, SharedTuple

_FREE = (str, int, float, bool, type(None), SharedTuple, SharedDict, pd.Timestamp, pd.Timedelta)


@pytest.fixture(scope="module")
def spans() -> pd.DataFrame:
    return tk.examples.load("deploy-small")


def _results(spans: pd.DataFrame) -> dict[str, pd.DataFrame]:
    one = spans[spans["trace_id"] == spans["trace_id"].iloc[0]]
    half = len(spans) // 2
    cp = tk.critical_path(spans)
    return {
        "critical_path": cp,
        "critical_path_breakdown": tk.critical_path_breakdown(cp, spans=spans),
        "critical_path_tree": tk.critical_path_tree(cp),
        "diff_traces": tk.diff_traces(one, one),
        "detect_changes": tk.detect_changes(spans),
        "timeline": tk.timeline(spans),
        "peer_outliers": tk.peer_outliers(spans),
        "version_regressions": tk.version_regressions(spans, n_boot=20),
        "cold_starts": tk.cold_starts(spans, n_boot=20),
        "critical_path_tree_diff": tk.critical_path_tree_diff(tk.critical_path(spans.iloc[:half]), tk.critical_path(spans.iloc[half:]), n_boot=20),
    }


def test_every_value_an_analysis_leaves_in_attrs_is_its_own_deep_copy(spans):
    for name, out in _results(spans).items():
        assert out.attrs, f"{name} keeps no attrs: the test would prove nothing"
        for key, value in out.attrs.items():
            if (name, key) == ("detect_changes", "no_data_windows"):  # a short list users compare with lists
                continue
            assert isinstance(value, _FREE), f"{name}.attrs[{key!r}] is a {type(value).__name__}: deep-copied per column"
            # (a Timestamp or Timedelta is immutable: its deep copy is a new object, as cheap as a float's)
            assert copy.deepcopy(value) is value or isinstance(
                value, str | int | float | bool | type(None) | pd.Timestamp | pd.Timedelta), (name, key)


def test_a_column_of_a_result_keeps_the_same_settings(spans):
    cp = tk.critical_path(spans)
    col = cp["duration_ms"] if "duration_ms" in cp else cp[cp.columns[0]]
    assert col.attrs["params"] == cp.attrs["params"]
    assert col.attrs["params"]["in_progress"] == "extend"  # the default the walk reports it used


# ---- "what happened" compares with the baseline the ranking compares with ----------------------------------------

_T0 = pd.Timestamp("2026-03-02T14:00Z")
_MIN = 60_000_000_000


def _step_then_other_level(seed: int = 0):
    """One route, 8 requests a minute for 60 minutes, 10 ms ± noise but 400 ms in 20–30 (the incident) and 150 ms in
    40–50 (a second, smaller incident after it)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 480
    start = np.sort(_T0.value + rng.integers(0, 60 * _MIN, n))
    m = (start - _T0.value) / _MIN
    lat = np.where(m < 20, 10.0, np.where(m < 30, 400.0, np.where((m >= 40) & (m < 50), 150.0, 10.0))) * np.exp(0.1 * rng.standard_normal(n))
    ids = np.arange(1, n + 1)
    spans = tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in ids], "span_id": [f"{i:016x}" for i in ids], "parent_id": [None] * n,
        "service": ["pay"] * n, "name": ["POST /charge"] * n, "kind": ["server"] * n, "start": start,
        "end": start + (lat * 1e6).astype(np.int64), "status": ["ok"] * n})
    return spans, lat, m


def test_what_happened_says_the_baseline_the_ranking_uses_not_every_request_outside_the_window():
    # "what happened" compared the window with every request of the route outside it, the 30 minutes after it
    # included, while the ranking and "how sure" compare with the normal period before the change (incident_periods):
    # on Nezha OnlineBoutique 05:15–05:29 "p95 6.1 s → 33 s against the other 1,152 requests", 1,086 of them after
    # the window. Built: a second incident after the first; the baseline found is the 20 minutes before, and the
    # p95 "before" was the second incident's 150 ms
    import numpy as np

    from tracekit.analysis.changes import incident_periods
    from tracekit.core import percentile

    spans, lat, m = _step_then_other_level()
    pm = tk.postmortem(spans)
    what = next(f for f in pm.findings if f.topic == "what")
    ev = what.evidence
    periods = incident_periods(spans)
    n_base = int(periods.baseline["trace_id"].nunique())
    assert periods.source.startswith("the normal period before the change")
    assert ev["before"] == "baseline" and ev["requests_before"] == n_base
    before = lat[m < 20]
    assert n_base <= len(before) and n_base >= 0.9 * len(before)  # the 20 minutes before (less a bucket at most)
    base_ids = set(periods.baseline["trace_id"].astype(str))
    ids = np.array([f"{i:032x}" for i in range(1, len(lat) + 1)])
    truth = float(percentile(lat[np.isin(ids, list(base_ids))], 0.95))
    assert ev["p95_before_ms"] == pytest.approx(truth, rel=1e-6)
    assert ev["p50_before_ms"] == pytest.approx(float(percentile(lat[np.isin(ids, list(base_ids))], 0.5)), rel=1e-6)
    assert ev["p95_before_ms"] < 15  # the 10 ms before the change, not the second incident's 150 ms
    assert f"against the baseline's {n_base} POST /charge requests — the normal period before the change" in what.text \
        or f"against the baseline's {n_base} " in what.text, what.text
