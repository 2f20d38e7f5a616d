"""Flame graphs and trace diffs (session 41, flame): the tree diff's bootstrap on few requests, exemplars' twin
distance and population, and the words of the flame figures' titles (window and populations)."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk

from .test_structure import mk


def _requests(n: int, tid0: int = 1):
    """``n`` one-span requests of 10, 20, ... 10*n ms (trace ids tid0, tid0 + 1, ...)."""
    return mk([(tid0 + i, 1, None, "web", "GET /", "server", 0, 10 * (i + 1)) for i in range(n)])


def test_tree_diff_interval_of_one_request_a_side_is_the_change_itself():
    # a: one request of 100 ms, b: one of 150 ms. Every resample that holds a request of each side has the same
    # mean, so the interval is [-50, -50]; a resample of no request read as 0 ms per request made it [-150, 100]
    a, b = mk([(1, 1, None, "web", "GET /", "server", 0, 100)]), mk([(9, 1, None, "web", "GET /", "server", 0, 150)])
    d = tk.critical_path_tree_diff(tk.critical_path(a), tk.critical_path(b), spans_a=a, spans_b=b, n_boot=400)
    root = d[d["depth"] == 0].iloc[0]
    assert root["delta_total_ms"] == -50.0
    assert (root["delta_total_lo"], root["delta_total_hi"]) == (-50.0, -50.0)
    assert (root["delta_self_lo"], root["delta_self_hi"]) == (-50.0, -50.0)


def test_tree_diff_of_a_window_with_itself_stays_within_the_windows_spread():
    # the slowest requests of 20 (10..200 ms), diffed with themselves: each side's mean per request lies within
    # [190, 200] ms (the requests the window keeps), so any interval of the change lies within [-10, 10]
    s = _requests(20)
    cp = tk.critical_path(s)
    d = tk.critical_path_tree_diff(cp, cp, spans_a=s, spans_b=s, percentile_window=(95, 100), n_boot=400)
    kept = d.attrs["requests"][0]
    assert d.attrs["requests"] == (kept, kept) and kept >= 1
    spread = 10.0 * (kept - 1)
    root = d[d["depth"] == 0].iloc[0]
    assert root["delta_total_ms"] == 0.0
    assert -spread - 1e-9 <= root["delta_total_lo"] <= 0.0 <= root["delta_total_hi"] <= spread + 1e-9


def test_exemplars_same_request_twin_counts_its_differing_operations_and_says_the_population():
    # the incident's request retried db:q twice more than the same request (same trace id) in the baseline: its
    # twin is that request, 2 operations apart (read 0.0, 'same operations'); the population of q is the
    # incident's 20 requests of the key and the baseline's 1
    inc = mk([(1, 1, None, "web", "GET /", "server", 0, 300), (1, 2, 1, "db", "q", "client", 10, 100),
              (1, 3, 1, "db", "q", "client", 100, 200), (1, 4, 1, "db", "q", "client", 200, 290)]
             + [(100 + i, 1, None, "web", "GET /", "server", 0, 10 * (i + 1)) for i in range(19)])
    base = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 90)])
    ex = tk.exemplars(inc, base, q=1.0)
    assert ex.incident_trace_id == ex.baseline_trace_id == inc["trace_id"].iloc[0]
    assert ex.distance == 2.0
    assert ex.requests == (20, 1)
    # q = 0.95 of 20 requests: the 19th smallest (inverted_cdf), 190 ms
    assert tk.exemplars(inc, base, q=0.95).request_ms[0] == 190.0


@pytest.fixture(scope="module")
def window_tree():
    s = _requests(20)
    cp = tk.critical_path(s)
    return s, cp, tk.critical_path_tree(cp, spans=s, percentile_window=(90, 100))


def test_flame_titles_say_the_window_and_each_sides_requests(window_tree):
    pytest.importorskip("plotly")
    s, cp, tree = window_tree
    n = tree.attrs["requests"]
    assert 1 <= n < 20
    title = tk.plot_flame(tree).layout.title.text
    assert f"{n} requests" in title and "p90\u2013p100 of critical-path time" in title
    whole = tk.plot_flame(tk.critical_path_tree(cp, spans=s)).layout.title.text
    assert "20 requests" in whole and "p90" not in whole
    d = tk.critical_path_tree_diff(cp, cp.iloc[:0], spans_a=s, percentile_window=(90, 100), n_boot=0)
    dt = tk.plot_flame_diff(d).layout.title.text
    assert f"{n} requests vs 0 requests" in dt and "p90\u2013p100" in dt
    assert np.isnan(d.loc[d["depth"] == 0, "total_ms_b"]).all()
