"""what_if: exact on the db-lock counterfactual twins, dependency rules by construction, a property."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.analysis.what_if import WHAT_IF_SUMMARY
from tracekit.core import trace_outcomes

from .conftest import read_dataset
from .test_structure import mk, sid, tid


@pytest.mark.slow  # 9.1 s in the fast lane (2 loaded cores, issue 28)
def test_undoing_the_lock_wait_reproduces_the_baseline_to_the_nanosecond():
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    before = inc.copy(deep=True)
    o = trace_outcomes(inc)
    win = o.loc[(o["start"] >= pd.Timestamp("2026-03-02T14:27Z")) & (o["start"] < pd.Timestamp("2026-03-02T14:36Z")), "trace_id"]
    r = tk.what_if(inc, {"checkout:SELECT orders": -250, "checkout:INSERT orders": -250}, traces=win, n_boot=200)
    pd.testing.assert_frame_equal(inc, before)
    assert r.changed_traces == 47 and r.changed_spans == 94
    m = r.spans.merge(base[["trace_id", "span_id", "start", "end"]], on=["trace_id", "span_id"], suffixes=("", "_b"))
    assert len(m) == len(base)
    assert (m["start"] == m["start_b"]).all() and (m["end"] == m["end_b"]).all()
    s = r.summary.set_index("statistic")
    assert list(r.summary.columns) == WHAT_IF_SUMMARY.column_names
    change = trace_outcomes(base)["request_ms"].mean() - o["request_ms"].mean()
    assert s.loc["mean_ms", "delta_ms"] == pytest.approx(change, abs=1e-6)
    assert s.loc["mean_ms", "delta_lo"] <= s.loc["mean_ms", "delta_ms"] <= s.loc["mean_ms", "delta_hi"] < 0


def test_sequential_siblings_move_parallel_ones_stay_and_async_children_do_not_extend():
    # root 0..100: a 10..40 then b 40..60 (adjacent: depends on a); p 15..30 runs beside a;
    # consume 50..300 outlives the root: it moves with a, its predecessor, and holds the root up to the root's end only
    # (the critical path's clamp, core.blocks_parent: it holds 50..100 of the path), so it does not extend the root.
    # a made 20 ms faster ends at 20, but p, beside it, still runs to 30: b and consume, which started after both
    # ended, wait for p too (s49: they moved with a alone, b to 20 while p ran, the request 20 ms shorter for 10)
    spans = mk([(1, 1, None, "web", "root", "server", 0, 100), (1, 2, 1, "db", "a", "client", 10, 40),
                (1, 3, 1, "db", "b", "client", 40, 60), (1, 4, 1, "cache", "p", "client", 15, 30),
                (1, 5, 1, "q", "consume", "consumer", 50, 300)])
    r = tk.what_if(spans, {"db:a": -20}, n_boot=0).spans.set_index("name")
    ms = lambda c: (r[c] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() * 1000  # noqa: E731
    assert ms("start").round(6).to_dict() == {"root": 0, "a": 10, "b": 30, "p": 15, "consume": 40}
    assert ms("end").round(6).to_dict() == {"root": 90, "a": 20, "b": 50, "p": 30, "consume": 290}
    r2 = tk.what_if(spans, {"web:root": "x0.5"}, n_boot=0).spans.set_index("name")
    # the root's own time after its last blocking child is 0 ms (consume holds it to its end, as on the critical path):
    # halving it changes nothing (it said 80: b's 40 ms tail halved, while the critical path gives that time to consume)
    assert r2.loc["root", "duration_ms"] == pytest.approx(100.0)
    with pytest.raises(tk.ArgumentError, match="matches no span"):
        tk.what_if(spans, {"nope:x": -1})
    with pytest.raises(tk.ArgumentError, match="factor"):
        tk.what_if(spans, {"db:a": "half"})


@pytest.mark.slow  # 14.7 s in the fast lane (2 loaded cores, issue 28)
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_shortening_a_span_off_the_critical_path_leaves_request_latency_alone(data):
    n = data.draw(st.integers(min_value=2, max_value=12))
    parents = [None] + [data.draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, n)]
    # build nested, non-overlapping-with-parent intervals top-down (children inside their parent)
    bounds = {0: (0, 1000)}
    rows = [(1, 1, None, "s0", "op0", "server", 0, 1000)]
    for i in range(1, n):
        lo, hi = bounds[parents[i]]
        a = data.draw(st.integers(min_value=lo, max_value=hi - 1))
        b = data.draw(st.integers(min_value=a + 1, max_value=hi))
        bounds[i] = (a, b)
        rows.append((1, i + 1, parents[i] + 1, f"s{i}", f"op{i}", "client", a, b))
    spans = mk(rows)
    cp = tk.critical_path(spans)
    on = set(cp["span_id"])
    off = [r for r in range(n) if sid(r + 1) not in on]
    if not off:
        return
    victim = off[data.draw(st.integers(min_value=0, max_value=len(off) - 1))]
    r = tk.what_if(spans, {sid(victim + 1): "x0.5"}, n_boot=0)
    before = trace_outcomes(spans)["request_ms"].iloc[0]
    after = trace_outcomes(r.spans)["request_ms"].iloc[0]
    assert after == pytest.approx(before, abs=1e-9)
    assert r.spans["trace_id"].tolist() == [tid(1)] * n
    assert np.all(r.spans["duration_ms"].to_numpy() >= 0)


def _what_if_request_ms(rows: list[tuple], change: dict) -> tuple[float, float]:
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * len(rows), "span_id": [r[0] * 16 for r in rows],
        "parent_id": [None if r[1] is None else r[1] * 16 for r in rows], "service": [r[2] for r in rows],
        "name": [r[3] for r in rows], "kind": [r[4] for r in rows], "start": [r[5] * ms for r in rows],
        "end": [r[6] * ms for r in rows]})
    w = tk.what_if(spans, change, n_boot=0)
    s = w.summary.set_index("statistic")
    return float(s.loc["p50_ms", "before_ms"]), float(s.loc["p50_ms", "after_ms"])


def test_what_if_follows_the_critical_path_s_blocking_rules():
    """what_if took 30 ms off a request for a child that ended before its parent started (clock skew; the critical
    path leaves it out) and 60 ms for a consumer under its producer (asynchronous): saving_potential, its upper
    bound, said 0 for both."""
    skew = [("a", None, "web", "GET /", "server", 100, 200), ("b", "a", "db", "query", "client", 0, 50)]
    assert _what_if_request_ms(skew, {"db:query": -30}) == (100.0, 100.0)
    queue = [("a", None, "web", "GET /", "server", 0, 100), ("b", "a", "web", "publish", "producer", 10, 90),
             ("c", "b", "worker", "process", "consumer", 20, 80)]
    assert _what_if_request_ms(queue, {"worker:process": "x0"}) == (100.0, 100.0)
    # a blocking child inside its parent still moves it
    inside = [("a", None, "web", "GET /", "server", 0, 100), ("b", "a", "db", "query", "client", 10, 60)]
    assert _what_if_request_ms(inside, {"db:query": -30}) == (100.0, 70.0)


@pytest.mark.parametrize("seed", range(8))
def test_many_siblings_are_placed_as_few_are(monkeypatch, seed):
    """Past _MANY_SIBLINGS children of one span the placed siblings are a Fenwick tree, not a sorted list (whose
    insertions made 100,000 children in reverse end order quadratic): the same times to the nanosecond, on random
    wide traces with ties, zero durations, clock-skewed children and async hand-offs."""
    import tracekit.analysis.what_if as wi

    rng = np.random.default_rng(seed)
    n = 300
    kids = int(rng.integers(50, 250))
    start = rng.integers(0, 40, n) * 1_000_000
    dur = rng.choice([0, 1, 3, 7], n) * 1_000_000
    parent = [None] + [f"{1:016x}"] * kids + [f"{int(p) + 2:016x}" for p in rng.integers(0, kids, n - kids - 1)]
    start[0], dur[0] = 0, 60_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)], "parent_id": parent,
        "service": rng.choice(["web", "db", "cache"], n).tolist(), "name": rng.choice(["q", "get", "put"], n).tolist(),
        "kind": ["server"] + rng.choice(["client", "internal", "producer", "consumer"], n - 1).tolist(),
        "start": start, "end": start + dur})
    changes = {"db:q": "x0.5", "cache:get": -2}
    monkeypatch.setattr(wi, "_MANY_SIBLINGS", 10**9)
    lists = tk.what_if(spans, changes).spans
    monkeypatch.setattr(wi, "_MANY_SIBLINGS", 0)
    fenwick = tk.what_if(spans, changes).spans
    assert lists["start"].tolist() == fenwick["start"].tolist() and lists["end"].tolist() == fenwick["end"].tolist()
    assert not lists["end"].equals(spans["end"])  # something moved
