"""The fixed cost of rank_causes (tracekit.investigate.causes and what it calls: compare, bubble_up, log_evidence):
what each cut must keep (compare's numbers and rank_causes' answers, to the bit) and the work it must no longer do
(counted, never timed). Small frames built here, the simulator's and the fault lab's."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
import tracekit.analysis.comparison as comparison
from tracekit.core.cache import clear_cache


@pytest.fixture(scope="module")
def pair():
    """An incident (db-lock, 15 traces) and its baseline (40 traces): the simulator's, shaped as OTLP's."""
    return (tk.simulate.simulate("db-lock", 15, seed=1).spans, tk.simulate.simulate("baseline", 40, seed=2).spans)


# ---- cut 1: rank_causes asks compare for the columns it reads ------------------------------------------------
@pytest.mark.parametrize("by", ["service", "operation", ["service", "call_path"]])
def test_compare_table_is_compares_table_for_the_columns_asked(pair, by):
    """compare_table draws only the metrics asked; its numbers are compare's (the same random draws: a metric not
    drawn moves no random number another uses), rows and order too."""
    inc, base = pair
    full = tk.compare(inc, base, by=by, n_boot=40, seed=3).table
    for measures, intervals in ((("cp_ms", "calls", "fanout", "error_rate"), ("cp_ms",)),
                                (("p95_ms", "error_rate"), ("error_rate",)),
                                (comparison.METRICS, comparison.METRICS)):
        t = comparison.compare_table(inc, base, by=by, measures=measures, intervals=intervals, n_boot=40, seed=3)
        keys = list(full.columns[:list(full.columns).index("presence")])
        want = [*keys, "presence", *[c for m in comparison.METRICS if m in measures for c in (
            f"{m}_a", f"{m}_b", f"delta_{m}", *((f"delta_{m}_lo", f"delta_{m}_hi") if m in intervals else ()))],
            *(("unknown_a", "unknown_b") if "error_rate" in measures else ()), "impact"]
        assert list(t.columns) == want
        pd.testing.assert_frame_equal(t, full[want], check_exact=True)


def test_compare_table_names_a_metric_it_does_not_know(pair):
    inc, base = pair
    with pytest.raises(tk.errors.ArgumentError, match="p90_ms"):
        comparison.compare_table(inc, base, measures=("cp_ms", "p90_ms"))
    with pytest.raises(tk.errors.ArgumentError, match="calls"):
        comparison.compare_table(inc, base, measures=("cp_ms",), intervals=("calls",))


def test_rank_causes_builds_no_call_paths_and_draws_no_latency_percentiles(pair, monkeypatch):
    """rank_causes reads delta_cp_ms (with its interval), delta_calls, delta_fanout and delta_error_rate of compare's
    table: compare's call-path structure, end-to-end latency and per-key latency percentiles (a Python loop over the
    keys, n_boot uniforms each) were built and dropped on every call. Its millisecond columns are still compare's."""
    inc, base = pair
    full = tk.compare(inc, base, n_boot=30, seed=0).table
    drawn = []

    def no_paths(*a, **k):
        raise AssertionError("call paths built")

    def counting(values, q, u):
        drawn.append(len(u))
        return quantile_draws(values, q, u)

    quantile_draws = comparison.quantile_draws
    monkeypatch.setattr(comparison, "call_paths", no_paths)
    monkeypatch.setattr(comparison, "quantile_draws", counting)
    clear_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = tk.rank_causes(inc, base, window=None, n_boot=30, lift_rows=0)
    assert drawn == []
    got = rc.set_index("service")
    want = full.set_index("service").loc[got.index]
    for c in ("delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi", "delta_calls", "delta_fanout", "delta_error_rate"):
        np.testing.assert_array_equal(got[c].to_numpy(float), want[c].to_numpy(float), err_msg=c)


# ---- cut 2: compare looks each row's key up once ---------------------------------------------------------------
def test_compare_builds_one_index_of_keys_for_its_four_frames(pair, monkeypatch):
    """compare coded the keys of the critical-path sections and of the calls of each side with a MultiIndex built
    per frame and looked up in the sorted keys (4 MultiIndexes beside the one of every key: 16 % of compare_table by
    operation on a fault-lab window). Now the one built for every key gives each row's code; the table is the same
    (each key's calls per request counted here by hand)."""
    inc, base = pair
    built = []
    from_frame = pd.MultiIndex.from_frame.__func__

    def counting(cls, df, *a, **k):
        built.append(len(df))
        return from_frame(cls, df, *a, **k)

    monkeypatch.setattr(pd.MultiIndex, "from_frame", classmethod(counting))
    t = tk.compare(inc, base, by="operation", n_boot=5).table
    monkeypatch.undo()
    assert len(built) == 1
    # calls per request of each operation, by hand: its spans over the requests (every trace here is one request)
    for side, spans in (("a", inc), ("b", base)):
        n_req = spans["trace_id"].nunique()
        calls = spans.groupby(["service", "name"]).size() / n_req
        got = t.set_index(["service", "name"])[f"calls_{side}"]
        got = got[got > 0].sort_index()
        assert list(got.index) == list(calls.sort_index().index)
        np.testing.assert_allclose(got.to_numpy(float), calls.sort_index().to_numpy(float), rtol=1e-12)
