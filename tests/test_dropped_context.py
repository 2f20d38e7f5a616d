"""One definition of a request across a dropped trace context (tracekit.core.dropped_context).

Where a caller drops the trace context, its callee's server span starts a new trace: the callee's half of the
caller's request. trace_outcomes counts it in its caller's request (``continues``), not as a request of its own;
reconnect proposes the same pairs (one rule); the Dask path keeps both halves in one partition so it counts the
same. Ground truth: the context-drop simulator's own list of dropped hops.
"""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk
from tracekit.core import percentile, trace_outcomes
from tracekit.core.cache import clear_cache
from tracekit.core.dropped_context import dropped_context_pairs


@pytest.mark.parametrize(("seed", "share", "orphan_share"), [(0, 0.1, 0.0), (1, 0.3, 0.05), (2, 0.5, 0.1),
                                                            (3, 0.05, 0.2), (4, 0.9, 0.0)])
def test_the_callees_half_is_in_its_callers_request(seed, share, orphan_share):
    sim = tk.simulate.simulate("context-drop", n_traces=200, seed=seed, share=share, orphan_share=orphan_share)
    out = trace_outcomes(sim.spans)
    cont = out[out["continues"].notna()]
    assert set(zip(cont["continues"].astype(str), cont["trace_id"].astype(str), strict=True)) == set(sim.truth.dropped)
    assert int(out["request"].sum()) == sim.truth.n_traces  # one request per request made
    assert not cont["request"].any() and cont["request_ms"].isna().all()
    # the callers' requests keep their latency: the caller's root waited for the callee's half
    callers = out.set_index("trace_id").loc[cont["continues"]]
    assert callers["request"].all() and callers["request_ms"].notna().all()
    # reconnect proposes the same pairs: one rule
    r = tk.reconnect(sim.spans)
    d = r[r["case"] == "dropped_context"]
    assert set(zip(d["client_trace_id"].astype(str), d["root_trace_id"].astype(str), strict=True)) == set(sim.truth.dropped)


def test_a_part_holding_only_the_callees_half_counts_it_as_a_request_cached_or_not():
    """The cached outcomes cut to some traces say what the outcomes of those traces alone say: without its caller's
    trace, the callee's half is the only record of that request."""
    sim = tk.simulate.simulate("context-drop", n_traces=120, seed=5, share=0.3)
    caller, callee = sim.truth.dropped[0]
    other_caller, other_callee = sim.truth.dropped[1]
    keep = set(sim.spans["trace_id"].astype(str)) - {caller}
    clear_cache()
    whole = trace_outcomes(sim.spans)  # cached
    part = sim.spans[sim.spans["trace_id"].astype(str).isin(keep)]
    cut = trace_outcomes(part).set_index("trace_id")  # taken from the cached frame's
    clear_cache()
    fresh = trace_outcomes(part.copy()).set_index("trace_id")
    assert cut.loc[callee, "request"] and fresh.loc[callee, "request"]
    assert cut["continues"].isna()[callee] and fresh["continues"].isna()[callee]
    assert cut.loc[other_callee, "continues"] == other_caller == fresh.loc[other_callee, "continues"]
    cols = ["request", "request_ms", "continues", "failed"]
    assert cut[cols].equals(fresh.loc[cut.index, cols])
    assert int(whole["request"].sum()) == sim.truth.n_traces == int(cut["request"].sum())


def test_no_pair_without_span_kinds_or_without_a_new_root():
    sim = tk.simulate.simulate("context-drop", n_traces=60, seed=6, share=0.3)
    c, _, _ = dropped_context_pairs(sim.spans.drop(columns=["kind"]))
    assert not len(c)
    base = tk.simulate.simulate("baseline", n_traces=200, seed=6).spans
    out = trace_outcomes(base)
    assert out["continues"].isna().all() and out["request"].all()


def test_a_client_with_no_new_root_inside_it_is_not_paired():
    """A root that starts after its client span ended is not its callee's half (the time rule), so it stays a
    request of its own."""
    sim = tk.simulate.simulate("context-drop", n_traces=80, seed=7, share=0.3)
    spans = sim.spans.copy()
    _, callee = sim.truth.dropped[0]
    rows = (spans["trace_id"].astype(str) == callee).to_numpy()
    shift = np.timedelta64(5, "s")
    spans.loc[rows, "start"] = spans.loc[rows, "start"] + shift
    spans.loc[rows, "end"] = spans.loc[rows, "end"] + shift
    out = trace_outcomes(spans).set_index("trace_id")
    assert out.loc[callee, "request"] and out["continues"].isna()[callee]
    assert int(out["request"].sum()) == sim.truth.n_traces + 1


def test_format_summary_names_the_callees_halves():
    sim = tk.simulate.simulate("context-drop", n_traces=150, seed=8, share=0.2)
    text = tk.format_summary(sim.spans)
    n = sim.truth.n_dropped
    assert f"requests: {sim.truth.n_traces} (not requests: {n} the callee's half of a request whose trace context " \
           "was dropped" in text, text
    assert "asynchronous" not in text.splitlines()[0]


@pytest.mark.slow
def test_dask_counts_requests_as_pandas_does_across_partitions():
    dd = pytest.importorskip("dask.dataframe")
    import dask

    sim = tk.simulate.simulate("context-drop", n_traces=150, seed=9, share=0.3)
    with dask.config.set({"dataframe.convert-string": False}):
        split = tk.dask.keep_traces_whole(dd.from_pandas(sim.spans, npartitions=4, sort=False))
    parts = [set(p["trace_id"].astype(str)) for p in dask.compute(*split.to_delayed())]
    apart = [pair for pair in sim.truth.dropped if not any(set(pair) <= p for p in parts)]
    assert apart  # the case: some pairs sit in different partitions
    ts = tk.trace_summary(sim.spans)
    p95 = percentile(ts["request_ms"], 0.95)
    share = tk.core.failed_share(ts)[0]
    got = {}
    for name, frame in (("split", split), ("kept", tk.dask.keep_requests_whole(split)),
                        ("from_pandas", tk.dask.from_pandas(sim.spans, 4))):
        hr = tk.dask.health_report(frame, checks=["failed_request_ratio", "p95_request_latency_ms"]).set_index("check")
        got[name] = (float(hr.loc["p95_request_latency_ms", "value"]), float(hr.loc["failed_request_ratio", "value"]))
    assert got["kept"] == got["from_pandas"] == (p95, share), (got, p95, share)
    # documented: a pair across partitions counts the callee's half (shorter) as a request of its own
    assert got["split"][0] < p95, (got, p95)
