"""Session 43, graph2: the service graph and attribution, second pass (row order, repeated ids, the map's hover
and arguments). Every answer is compared with one known by construction; the same data in another row order must
give the identical table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


def _frame(rows: list[dict]) -> pd.DataFrame:
    cols = {k: [r.get(k) for r in rows] for k in dict.fromkeys(k for r in rows for k in r)}
    return tk.spans_from_columns(cols)


def _shuffled(spans: pd.DataFrame, seed: int) -> pd.DataFrame:
    return spans.iloc[np.random.default_rng(seed).permutation(len(spans))].reset_index(drop=True)


def _origin_traces() -> pd.DataFrame:
    """Six traces web > api > db, each failing at db (the origin); in traces 0, 2, 4 the error reaches web, in 1, 3,
    5 api absorbs it: two propagation paths, each seen 3 times. Trace i starts at i seconds, so the earliest three
    origins are traces 0, 1, 2; the rows are listed latest trace first."""
    rows = []
    for i in reversed(range(6)):
        t, s0 = f"{i + 1:032x}", i * 1000 * MS
        up = "error" if i % 2 == 0 else "ok"
        rows += [dict(trace_id=t, span_id=f"{i:02x}" + "a" * 14, parent_id=None, service="web", name="GET /",
                      start=s0, end=s0 + 9 * MS, status=up),
                 dict(trace_id=t, span_id=f"{i:02x}" + "b" * 14, parent_id=f"{i:02x}" + "a" * 14, service="api",
                      name="get", start=s0 + 1 * MS, end=s0 + 8 * MS, status="error"),
                 dict(trace_id=t, span_id=f"{i:02x}" + "c" * 14, parent_id=f"{i:02x}" + "b" * 14, service="db",
                      name="q", start=s0 + 2 * MS, end=s0 + 7 * MS, status="error")]
    return _frame(rows)


def test_error_origins_same_table_in_any_row_order():
    """error_origins' example traces and top path were the first rows' (the latest traces here, listed first)."""
    spans = _origin_traces()
    want = tk.error_origins(spans)
    assert want["origins"].tolist() == [6]
    # by construction: the earliest origins are traces 1, 2, 3 (ids); both paths are seen 3 times, the tie goes to
    # the first in text order
    assert want["example_trace_ids"].iloc[0] == tuple(f"{i + 1:032x}" for i in range(3))
    assert want["top_path"].iloc[0] == min("db:q < api:get", "db:q < api:get < web:GET /")
    for seed in range(5):
        pd.testing.assert_frame_equal(tk.error_origins(_shuffled(spans, seed)), want)
        pd.testing.assert_frame_equal(tk.error_origins(_shuffled(spans, seed), by="operation"),
                                      tk.error_origins(spans, by="operation"))


def _exception_spans() -> pd.DataFrame:
    """Five spans of api, each with one KeyError event 'item <n> missing' at time i ms of trace i; listed latest
    first. The earliest event is trace 1's with 'item 0 missing'."""
    rows = []
    for i in reversed(range(5)):
        ev = [{"time": i * MS, "name": "exception",
               "attributes": {"exception.type": "KeyError", "exception.message": f"item {i} missing"}}]
        rows.append(dict(trace_id=f"{i + 1:032x}", span_id=f"{i + 1:016x}", parent_id=None, service="api", name="get",
                         start=i * MS, end=i * MS + 5, events=ev))
    return _frame(rows)


def test_top_exceptions_same_table_in_any_row_order():
    """top_exceptions' example message and example traces were the first rows' (the latest events here)."""
    spans = _exception_spans()
    want = tk.top_exceptions(spans)
    assert want["count"].tolist() == [5]
    assert want["example_message"].iloc[0] == "item 0 missing"  # the earliest event's
    assert want["example_trace_ids"].iloc[0] == tuple(f"{i + 1:032x}" for i in range(3))
    for seed in range(5):
        pd.testing.assert_frame_equal(tk.top_exceptions(_shuffled(spans, seed)), want)
        pd.testing.assert_frame_equal(tk.top_exceptions(_shuffled(spans, seed), by=None),
                                      tk.top_exceptions(spans, by=None))
