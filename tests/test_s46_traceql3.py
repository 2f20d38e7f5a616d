"""Session 46 (traceql3): TraceQL defects pinned by construction."""

import pandas as pd

import tracekit as tk


def _spans():
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    return pd.DataFrame({
        "trace_id": ["a", "b"], "span_id": ["1", "2"], "parent_id": [None, None],
        "name": ["x", "y"], "service": ["s", "s"],
        "start": [t0, t0], "end": [t0 + pd.Timedelta(microseconds=5), t0 + pd.Timedelta(microseconds=1)],
    })


def test_greek_mu_and_micro_sign_are_microseconds():
    """`3μs` (U+03BC) and `3µs` (U+00B5) both mean 3 us, like `3us` (old code refused U+03BC)."""
    spans = tk.canonicalize(_spans()) if hasattr(tk, "canonicalize") else _spans()
    want = set(tk.traceql(spans, "{ duration > 3us }")["span_id"])
    assert want == {"1"}
    for unit in ("\u03bcs", "\u00b5s"):
        got = set(tk.traceql(spans, "{ duration > 3" + unit + " }")["span_id"])
        assert got == want, unit
