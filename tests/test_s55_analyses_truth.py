"""Session 55: a fresh reader checked the analyses against answers built by construction (critical path, what-if,
diffs, workflows, repeated calls, sampling, clock skew, TraceQL over 100-200 seeds each, and the real traces). Its
defects, each with what the code before it said (the weighted percentile: test_s55_weighted_percentile.py)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

import tracekit as tk

MS = 1_000_000


def _outliving_chain() -> pd.DataFrame:
    """root 0..100 > A 10..50 > B 20..90 (outlives A) > C 30..60 (> E 35..40), then D 65..70 after C."""
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * 6, "span_id": [c * 16 for c in "abcdef"],
        "parent_id": [None, "a" * 16, "b" * 16, "c" * 16, "d" * 16, "c" * 16],
        "service": ["api", "api", "w", "w", "w", "w"], "name": ["root", "A", "B", "C", "E", "D"],
        "start": [0, 10 * MS, 20 * MS, 30 * MS, 35 * MS, 65 * MS],
        "end": [100 * MS, 50 * MS, 90 * MS, 60 * MS, 40 * MS, 70 * MS]})


def test_a_change_of_nothing_moves_no_span_where_a_span_outlives_its_parent():
    # C's release (its end as the critical path clamps it under A: 50) was the end D's gap after C was measured
    # from: x1 on the root put D at 55..60 (its recorded 65..70) and B's end at 80 (90)
    spans = _outliving_chain()
    for change in ({"api:root": "x1"}, {"api:root": 0}, {"w:E": "x1"}):
        r = tk.what_if(spans, change, n_boot=0)
        assert r.spans["start"].equals(spans["start"]) and r.spans["end"].equals(spans["end"]), change


def test_a_later_sibling_moves_with_its_predecessors_release_as_the_path_clamps_it():
    # C's own time after E halved (20 -> 10 ms): C ends at 50. Its time past 50 (A's end, where the path clamps B and
    # everything under it) held no one up, so it lets go at 50 either way and D, which waited on that, stays at 65; B
    # ends D's end plus its own tail, as recorded (the model the critical path agrees with: test_s41_critpath3)
    spans = _outliving_chain()
    t0 = spans["start"].min().value
    r = tk.what_if(spans, {"w:C": "x0.5"}, n_boot=0).spans.set_index("name")
    got = {n: ((r.at[n, "start"].value - t0) // MS, (r.at[n, "end"].value - t0) // MS) for n in "CDB"}
    assert got == {"C": (30, 50), "D": (65, 70), "B": (20, 90)}
    # E (inside the clamp) 5 ms shorter: C lets go 5 ms sooner, and D follows it
    r = tk.what_if(spans, {"w:E": -5}, n_boot=0).spans.set_index("name")
    got = {n: ((r.at[n, "start"].value - t0) // MS, (r.at[n, "end"].value - t0) // MS) for n in "ECD"}
    assert got == {"E": (35, 35), "C": (30, 55), "D": (60, 65)}


def test_a_change_of_nothing_moves_no_span_on_random_trees_whose_children_outlive_their_parents():
    # the fresh reader's overflow-heavy forests: 4 of 300 seeds moved some span under x1 before (0 the root's end)
    moved = []
    for seed in range(120):
        rng = random.Random(seed)
        rows, nid = [], 0
        for t in range(2):
            ids, ends = [], []
            for _ in range(rng.randint(5, 25)):
                nid += 1
                if not ids:
                    s0, e0, par = 0, 100, None
                else:
                    j = rng.randrange(len(ids))
                    ps, pe = ends[j]
                    s0 = rng.randint(ps, max(ps, pe - 1))
                    e0 = s0 + rng.randint(0, 60)  # often past its parent's end
                    par = ids[j]
                ids.append(nid)
                ends.append((s0, e0))
                rows.append((t, nid, par, s0, e0))
        spans = tk.spans_from_columns({
            "trace_id": [f"{t + 1:032x}" for t, *_ in rows], "span_id": [f"{i:016x}" for _, i, *_ in rows],
            "parent_id": [None if p is None else f"{p:016x}" for _, _, p, *_ in rows], "service": ["s"] * len(rows),
            "name": [f"op{i % 4}" for _, i, *_ in rows], "start": [s * MS for *_, s, _ in rows],
            "end": [e * MS for *_, e in rows]})
        r = tk.what_if(spans, {f"s:op{seed % 4}": "x1"}, n_boot=0)
        if not (r.spans["start"].equals(spans["start"]) and r.spans["end"].equals(spans["end"])):
            moved.append(seed)
    assert moved == []


def test_a_call_after_one_still_running_is_no_retry_and_overlaps_it():
    # the failed SELECT has not ended: the second, 40 ms after its start, ran beside it. Before: "retries 1, retry,
    # sequential" (the open call read as ending at its start)
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "parent_id": [None, "a" * 16, "a" * 16], "service": ["api", "db", "db"],
        "name": ["GET /", "SELECT", "SELECT"], "kind": ["server", "client", "client"],
        "start": [0, 10 * MS, 50 * MS], "end": [100 * MS, None, 60 * MS], "status": ["ok", "error", "ok"]})
    spans["in_progress"] = spans["end"].isna()
    row = tk.find_repeated_calls(spans).iloc[0]
    assert (row["retries"], row["pattern"], bool(row["sequential"])) == (0, "n+1", False)
    # control: the same failed call ended at 40: the second is its retry, after it
    done = spans.assign(end=[100 * MS, 40 * MS, 60 * MS]).assign(in_progress=False)
    done["end"] = pd.to_datetime(np.array([100, 40, 60]) * MS, utc=True)
    row = tk.find_repeated_calls(done).iloc[0]
    assert (row["retries"], row["pattern"], bool(row["sequential"])) == (1, "retry", True)
