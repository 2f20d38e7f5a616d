"""One check shared by the critical-path/what_if consistency tests: on a one-trace tree, a leaf holds a section of the
critical path exactly when removing it (what_if ``x0``) shortens the request, and it never saves more than its
section."""
from __future__ import annotations

import warnings

import pandas as pd

import tracekit as tk
from tracekit.core import trace_outcomes

from .test_structure import mk, sid


def request_ms_after(spans: pd.DataFrame, changes: dict) -> float:
    """what_if's mean request latency after ``changes`` (one trace: its request latency)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = tk.what_if(spans, changes, n_boot=0)
    return float(r.summary.set_index("statistic").loc["mean_ms", "after_ms"])


def leaf_disagreements(trees: dict[int, list[tuple]]) -> tuple[int, list[tuple]]:
    """(leaves checked, [(seed, leaf, ms on the path, ms saved by removing it)] where the two disagree)."""
    disagree, leaves = [], 0
    for seed, rows in trees.items():
        spans = mk(rows)
        cp = tk.critical_path(spans)
        held = cp.groupby(cp["span_id"].astype(object))["duration_ms"].sum()
        before = trace_outcomes(spans)["request_ms"].iloc[0]
        parents = {r[2] for r in rows}
        for r in rows[1:]:
            if r[1] in parents:
                continue
            leaves += 1
            saved = before - request_ms_after(spans, {sid(r[1]): "x0"})
            on = float(held.get(sid(r[1]), 0.0))
            if (on > 0) != (saved > 1e-9) or saved > on + 1e-9:
                disagree.append((seed, r[1], on, saved))
    return leaves, disagree
