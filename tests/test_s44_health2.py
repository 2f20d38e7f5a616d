"""Session 44, health2: a span exported twice is one span in every health count and share."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

import tracekit as tk

KW = dict(cardinality_min_distinct=10, cardinality_min_ratio=0.5)


def _twice(n_traces: int = 60, n_copies: int = 25, seed: int = 3):
    """A frame with ``n_copies`` spans exported twice (exact copies) and the frame without them."""
    spans = tk.simulate.simulate("context-drop", n_traces=n_traces, seed=seed).spans.reset_index(drop=True)
    spans = spans.copy()
    spans["attributes"] = [dict(d if isinstance(d, dict) else {}, **{"req.id": f"r{i}"}) for i, d in
                           enumerate(spans["attributes"])]
    rng = np.random.default_rng(seed)
    copies = spans.iloc[np.sort(rng.choice(len(spans), size=n_copies, replace=False))]
    return spans, pd.concat([spans, copies], ignore_index=True)


def test_high_cardinality_attribute_counts_spans_not_rows():
    """'N% of M spans': M is the spans (copies once), not the rows; the spans_affected too."""
    once, twice = _twice()
    r1 = tk.health_report(once, checks=["high_cardinality_attribute"], **KW)
    r2 = tk.health_report(twice, checks=["high_cardinality_attribute"], **KW)
    row1 = r1[r1["subject"] == "req.id"].iloc[0]
    row2 = r2[r2["subject"] == "req.id"].iloc[0]
    n = len(once)
    assert row2["spans_affected"] == row1["spans_affected"] == n
    assert f"of {n:,} spans" in row2["explanation"]
    assert f"over {n:,} spans" in row2["explanation"]


def test_every_check_counts_a_copy_once():
    """Every check but duplicate_span_ids (which counts every copy by design) says the same numbers on the
    frame with copies as without them."""
    once, twice = _twice()
    cols = ["check", "subject", "traces_affected", "spans_affected"]
    r1 = tk.health_report(once, **KW)
    r2 = tk.health_report(twice, **KW)
    skip = {"duplicate_span_ids", "trace_completeness"}  # copies do make traces incomplete
    a = r1[~r1["check"].isin(skip)][cols].reset_index(drop=True)
    b = r2[~r2["check"].isin(skip)][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    for e in r2["explanation"]:
        for m in re.findall(r"of ([\d,]+) spans", e):
            assert int(m.replace(",", "")) <= len(once), e


def test_dask_agrees_on_copies():
    """tk.dask.health_report says the same spans_affected as the pandas engine on a frame with copies."""
    _, twice = _twice()
    ds = tk.dask.from_pandas(twice, 3)
    checks = ["orphan_spans", "bad_span_times", "in_progress_spans", "high_cardinality_span_name"]
    p = tk.health_report(twice, checks=checks)
    d = tk.dask.health_report(ds, checks=checks)
    cols = ["check", "subject", "traces_affected", "spans_affected"]
    assert p[cols].values.tolist() == d[cols].values.tolist()
