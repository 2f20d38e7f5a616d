"""Session 44, analyses2: defects found by building spans whose right answer is known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk

MS = 1_000_000


def _spans(dur_ms: list[float], service: list[str]) -> pd.DataFrame:
    n = len(dur_ms)
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None] * n, "service": service, "name": ["op"] * n,
        "start": [0] * n, "end": [int(d * MS) for d in dur_ms]})


def test_latency_histogram_counts_a_span_exported_twice_once():
    """Three spans of 1, 2, 3 ms, the 3 ms one exported twice: three values (the kernel keeps one copy), not four."""
    spans = _spans([1, 2, 3], ["api"] * 3)
    twice = pd.concat([spans, spans.iloc[[2]]], ignore_index=True)
    h = tk.latency_histogram(twice, bins=2)
    assert int(h["count"].sum()) == 3
    assert h.attrs["counts"]["spans"] == 3
    # the same histogram as of the spans read once
    once = tk.latency_histogram(spans, bins=2)
    assert h["count"].tolist() == once["count"].tolist()


def test_latency_ecdf_counts_a_span_exported_twice_once():
    """A 3 ms span exported four times among 1 and 2 ms spans: its line holds 3 values, median 2 ms (not 3 ms)."""
    spans = _spans([1, 2, 3], ["api"] * 3)
    many = pd.concat([spans] + [spans.iloc[[2]]] * 3, ignore_index=True)
    e = tk.latency_ecdf(many, of="spans")
    assert int(e["count"].iloc[0]) == 3
    assert float(e["p50_ms"].iloc[0]) == 2.0


def test_latency_ecdf_requests_exported_twice_control():
    """Control: of="requests" already read a request once (core.trace_outcomes)."""
    spans = _spans([1, 2, 3], ["api"] * 3)
    many = pd.concat([spans] + [spans.iloc[[2]]] * 3, ignore_index=True)
    e = tk.latency_ecdf(many)
    assert int(e["count"].iloc[0]) == 3
    assert float(e["p50_ms"].iloc[0]) == 2.0


def test_latency_histogram_roots_only_counts_a_root_exported_twice_once():
    """roots_only: a root read twice is one root."""
    spans = _spans([1, 2, 3], ["api"] * 3)
    twice = pd.concat([spans.iloc[[0]], spans], ignore_index=True)
    h = tk.latency_histogram(twice, by=None, bins=3, roots_only=True)
    assert int(h["count"].sum()) == 3


def test_latency_histogram_row_order_control():
    """Control: shuffled rows give the same histogram."""
    rng = np.random.default_rng(3)
    d = list(rng.uniform(1, 50, 40))
    spans = _spans(d, ["api", "db"] * 20)
    a = tk.latency_histogram(spans, bins=7)
    b = tk.latency_histogram(spans.iloc[rng.permutation(40)].reset_index(drop=True), bins=7)
    pd.testing.assert_frame_equal(a, b)


def test_cold_starts_interval_does_not_depend_on_row_order():
    """The same spans in another row order: the same cold-start cost interval (the bootstrap resampled the
    durations in row order, so a shuffle moved added_ms_lo / _hi with the same seed)."""
    spans = tk.examples.load("cold-starts-small")
    a = tk.cold_starts(spans, n_boot=200)
    assert a["added_ms_lo"].notna().all()  # an interval is drawn (at least 2 cold and 2 warm invocations)
    rng = np.random.default_rng(1)
    for _ in range(3):
        b = tk.cold_starts(spans.iloc[rng.permutation(len(spans))].reset_index(drop=True), n_boot=200)
        pd.testing.assert_frame_equal(a, b)
