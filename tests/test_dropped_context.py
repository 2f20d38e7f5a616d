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


def _best_total_by_brute_force(cc, rr, score):
    """The largest total score of any one-to-one choice of candidate pairs (every subset tried)."""
    best = 0.0
    for mask in range(1 << len(cc)):
        k = [i for i in range(len(cc)) if mask >> i & 1]
        if len({cc[i] for i in k}) == len(k) and len({rr[i] for i in k}) == len(k):
            best = max(best, float(sum(score[i] for i in k)))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_assignment_is_one_to_one_and_of_the_largest_total_score(seed):
    """The sparse assignment against every subset of up to 12 candidate pairs among a few clients and roots."""
    from tracekit.core.dropped_context import _assign
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 13))
    cc = rng.integers(0, int(rng.integers(1, 6)), n) * 7 + 100  # positions need not be dense
    rr = rng.integers(0, int(rng.integers(1, 6)), n) * 3
    score = np.round(rng.uniform(0.5, 1.0, n), int(rng.integers(1, 4)))  # ties at one decimal
    c, r, s = _assign(cc, rr, score)
    assert len(set(c.tolist())) == len(c) and len(set(r.tolist())) == len(r)  # one-to-one
    proposed = {}
    for a, b, x in zip(cc.tolist(), rr.tolist(), score.tolist(), strict=True):
        proposed[a, b] = max(proposed.get((a, b), 0.0), x)
    assert all(proposed[a, b] == x for a, b, x in zip(c.tolist(), r.tolist(), s.tolist(), strict=True))
    assert s.sum() == pytest.approx(_best_total_by_brute_force(cc, rr, score))


def test_one_chained_group_of_competing_candidates_costs_memory_linear_in_the_candidates():
    """Steady overlapping traffic chains every candidate into one competing group: 4,000 clients each competing
    for its own root and the next one's. A dense score matrix of that group is 4,000 × 4,000 floats (128 MB); the
    assignment stays within a few MB, and pairs each client with its own root (the higher score)."""
    import tracemalloc

    from tracekit.core.dropped_context import _assign
    n = 4000
    cc = np.concatenate([np.arange(n), np.arange(n - 1)])
    rr = np.concatenate([np.arange(n), np.arange(1, n)]) + 10 * n
    score = np.concatenate([np.full(n, 0.9), np.full(n - 1, 0.6)])
    tracemalloc.start()
    try:
        c, r, s = _assign(cc, rr, score)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (r - c == 10 * n).all() and len(c) == n and (s == 0.9).all()
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB"
