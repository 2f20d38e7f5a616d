"""s39 review of what_if, diff_traces and the critical-path (flame) trees: defects found with data whose answer
is known by construction, each pinned here (every test failed on the code before its fix)."""

from __future__ import annotations

import tracemalloc
import warnings

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis import what_if as what_if_module

from .test_structure import mk


def _requests(n: int, fast_service: str = "db") -> pd.DataFrame:
    """n requests: web root 0..(20 + i % 50) ms calling db 1..(11 + i % 50) ms."""
    rows = []
    for i in range(n):
        rows += [(i + 1, 2 * i + 1, None, "web", "GET /", "server", 0, 20 + i % 50),
                 (i + 1, 2 * i + 2, 2 * i + 1, fast_service, "SELECT", "client", 1, 11 + i % 50)]
    return mk(rows)


# --- what_if ----------------------------------------------------------------------------------------------------


def test_what_if_bootstrap_memory_does_not_grow_with_n_boot(monkeypatch):
    """The summary's bootstrap held four (n_boot x requests) index arrays and their gathers at once (50,000
    requests: 1.8 GB); now blocks of resamples of a bounded size: 10x the resamples, about the same peak."""
    spans = _requests(400)
    monkeypatch.setattr(what_if_module, "_BOOT_CELLS", 20_000, raising=False)
    tk.what_if(spans, {"db": -1}, n_boot=10)  # caches (span tree, outcomes) built outside the measure
    peaks = {}
    for n_boot in (100, 1000):
        tracemalloc.start()
        r = tk.what_if(spans, {"db": -1}, n_boot=n_boot)
        peaks[n_boot] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        s = r.summary.set_index("statistic")
        # every request is exactly 1 ms shorter: every resample's difference is -1 ms
        assert s["delta_lo"].tolist() == pytest.approx([-1.0] * 4) and s["delta_hi"].tolist() == pytest.approx([-1.0] * 4)
    assert peaks[1000] < 2 * peaks[100], peaks


def test_what_if_summary_says_its_population():
    """The summary is over every request of the frame, the unchanged ones too: attrs['requests'] says how many
    (an in-progress root has no latency and is not one of them)."""
    spans = _requests(3)
    rows = [(9, 99, None, "web", "GET /", "server", 0, None), (9, 98, 99, "db", "SELECT", "client", 1, 5)]
    spans = pd.concat([spans, mk(rows)], ignore_index=True)
    r = tk.what_if(spans, {"db": -5}, traces=[f"{1:032x}"], n_boot=0)
    assert r.changed_traces == 1
    assert r.summary.attrs["requests"] == 3
    s = r.summary.set_index("statistic")
    assert s.loc["mean_ms", "delta_ms"] == pytest.approx(-5 / 3)  # one request of the three 5 ms shorter


def test_what_if_counts_a_span_in_progress_or_exported_twice_as_it_changes():
    """A span in progress has no end: a change has nothing to act on (it was counted: changed_spans 1, changed_traces
    1, no time moved); now warned and not counted. A span exported twice is one span (it counted 2)."""
    spans = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, None),
                (1, 3, 1, "cache", "get", "client", 50, 70)])
    with pytest.warns(UserWarning, match="in progress"):
        r = tk.what_if(spans, {"db": -20}, n_boot=0)
    assert (r.changed_spans, r.changed_traces) == (0, 0)
    pd.testing.assert_frame_equal(r.spans[["start", "end"]], spans[["start", "end"]])
    twice = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 50),
                (1, 2, 1, "db", "q", "client", 10, 50)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = tk.what_if(twice, {"db": -30}, n_boot=0)
    assert (r.changed_spans, r.changed_traces) == (1, 1)
    assert r.spans["duration_ms"].tolist() == [70.0, 10.0, 10.0]


def test_what_if_summary_measures_the_same_request_root_after():
    """Two roots starting together: the request root is the one ending last. Made 50 ms faster, web's root ended
    before job's, and the summary's after side measured job's root instead (delta -5 ms); now web's, -50 ms."""
    spans = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 90),
                (1, 3, None, "job", "run", "internal", 0, 95)])
    r = tk.what_if(spans, {"db": -50}, n_boot=0)
    assert r.spans["duration_ms"].tolist() == [50.0, 30.0, 95.0]
    s = r.summary.set_index("statistic")
    assert s["before_ms"].tolist() == [100.0] * 4 and s["after_ms"].tolist() == [50.0] * 4
    assert s["delta_ms"].tolist() == [-50.0] * 4


# --- diff_traces ------------------------------------------------------------------------------------------------


def test_diff_traces_keeps_the_spans_of_a_parent_cycle():
    """A trace whose spans name each other as parents: its spans reached no root and were left out of
    the diff without a word, so the other trace's same spans read as 'removed' (3 of 3). Now the loop is cut above
    its earliest span (the waterfall's rule): root, q and y aligned, y (under the loop, starting first) under q."""
    a = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 30),
            (1, 3, 2, "x", "y", "internal", 12, 20)])
    b = mk([(1, 1, 2, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 30),
            (1, 3, 2, "x", "y", "internal", 5, 20)])
    d = tk.diff_traces(a, b)
    assert d["status"].tolist() == ["same", "same", "changed"]
    assert d["depth"].tolist() == [0, 1, 2]
    assert d["span_id_a"].tolist() == d["span_id_b"].tolist() == [f"{i:016x}" for i in (1, 2, 3)]
    assert d["delta_start_ms"].tolist() == [0.0, 0.0, -7.0]
    assert set(tk.diff_traces(b, b)["status"]) == {"same"} and len(tk.diff_traces(b, b)) == 3
    # b has no critical path (the walk fails on a cycle): its times on it are unknown, not 0 (they read 0.0)
    assert d["cp_ms_a"].tolist() == [80.0, 12.0, 8.0] and d["cp_ms_b"].isna().all()
    assert tk.trace_diff_summary(d)["delta_cp_ms"].isna().all()


# --- critical-path trees (flame graphs) --------------------------------------------------------------------------


def test_a_tree_diff_side_without_a_request_has_no_time_per_request():
    """b holds no request: its time per request is unknown, not 0 ms (it read total_ms_b 0, delta_total_ms +100 ms
    per request, and the flame diff's title '+100 ms per request')."""
    spans = mk([(1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "db", "q", "client", 10, 90)])
    cp = tk.critical_path(spans)
    d = tk.critical_path_tree_diff(cp, cp.iloc[:0], n_boot=20)
    assert d["total_ms_a"].tolist() == [100.0, 80.0] and d["self_ms_a"].tolist() == [20.0, 80.0]
    assert d[["total_ms_b", "self_ms_b", "delta_total_ms", "delta_self_ms"]].isna().all().all()
    both = tk.critical_path_tree_diff(cp, cp, n_boot=0)  # a node only one side has is 0 there (it has requests)
    assert both["delta_total_ms"].tolist() == [0.0, 0.0]
    pytest.importorskip("plotly")
    title = tk.plot_flame_diff(d).layout.title.text
    assert "no request in the baseline" in title and "ms" not in title
