"""Session 43, lead: which copy of a span exported twice *is* the span, when the copies differ only in status or in
content (kind, attributes, events...). The kernel's rule (core.tree's ``_copies_order``) ended at row order there, so
a request read once as error and once as ok failed or not by which row came first. Truth by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import span_rows
from tracekit.core.outcomes import trace_outcomes

MS = 1_000_000
T = "1" * 32
A, B = "a" * 16, "b" * 16
COLS = ["trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status", "attributes"]


def _frame(rows, order):
    rows = [rows[i] for i in order]
    cols = {k: [r[i] for r in rows] for i, k in enumerate(COLS)}
    cols["start"] = [v * MS for v in cols["start"]]
    cols["end"] = [v * MS for v in cols["end"]]
    return tk.spans_from_columns(cols)


# web GET / (0..100 ms) calls db query (10..90 ms); both are exported twice, the copies differing only in status
_STATUS_ROWS = [
    (T, A, None, "web", "GET /", "server", 0, 100, "ok", {}),
    (T, B, A, "db", "query", "client", 10, 90, "error", {}),
    (T, B, A, "db", "query", "client", 10, 90, "ok", {}),
    (T, A, None, "web", "GET /", "server", 0, 100, "error", {}),
]
ORDERS = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]]


@pytest.mark.parametrize("order", ORDERS, ids=["a", "reversed", "mixed"])
def test_a_copy_that_differs_only_in_status_is_kept_by_its_status_not_by_row_order(order):
    spans = _frame(_STATUS_ROWS, order)
    # an error any export reported is kept: the request failed, and the error began at db under web
    out = trace_outcomes(spans)
    assert bool(out["failed"].iloc[0]) and int(out["failed_spans"].iloc[0]) == 2
    origins = tk.error_origins(spans)
    assert origins["service"].tolist() == ["db"] and origins["top_path"].tolist() == ["db:query < web:GET /"]
    rows = span_rows(spans, [T, T], [A, B])
    assert spans["status"].to_numpy()[rows].tolist() == ["error", "error"]
    # the later copies are the ok ones
    dup = spans[tk.core.tree.span_tree(spans).duplicate]
    assert sorted(dup["status"].tolist()) == ["ok", "ok"]


@pytest.mark.parametrize("order", ORDERS, ids=["a", "reversed", "mixed"])
def test_ok_is_kept_before_unset(order):
    rows = [r[:8] + (s,) + r[9:] for r, s in zip(_STATUS_ROWS, ["unset", "ok", "unset", "ok"], strict=True)]
    spans = _frame(rows, order)
    kept = span_rows(spans, [T, T], [A, B])
    assert spans["status"].to_numpy()[kept].tolist() == ["ok", "ok"]


@pytest.mark.parametrize("order", ORDERS, ids=["a", "reversed", "mixed"])
def test_copies_that_differ_only_in_attributes_keep_the_same_copy_in_every_row_order(order):
    rows = [
        (T, A, None, "web", "GET /", "server", 0, 100, "ok", {"http.route": "/v2"}),
        (T, B, A, "db", "query", "client", 10, 90, "ok", {"db.statement": "select 2"}),
        (T, B, A, "db", "query", "client", 10, 90, "ok", {"db.statement": "select 1"}),
        (T, A, None, "web", "GET /", "server", 0, 100, "ok", {"http.route": "/v1"}),
    ]
    spans = _frame(rows, order)
    kept = span_rows(spans, [T, T], [A, B])
    attrs = spans["attributes"].to_numpy()[kept].tolist()
    assert attrs == [{"http.route": "/v1"}, {"db.statement": "select 1"}]  # the smaller canonical text, every order
    # what an analysis reads off the request root follows: the route of the one request
    routes = tk.select_requests(spans, "route")
    assert len(routes) == 1


def test_control_a_frame_read_twice_gives_the_results_of_the_frame_read_once():
    """Control (passes on the old code too): copies equal in every column change nothing."""
    spans = tk.simulate.simulate("db-lock", 60, seed=3).spans
    twice = pd.concat([spans, spans.iloc[::-1]], ignore_index=True)
    a, b = trace_outcomes(spans), trace_outcomes(twice)
    pd.testing.assert_series_equal(a["failed"].reset_index(drop=True), b["failed"].reset_index(drop=True))
    tree = tk.core.tree.span_tree(twice)
    assert int(tree.duplicate.sum()) == len(spans)
    kept = np.flatnonzero(~tree.duplicate)
    assert sorted(kept.tolist()) == list(range(len(spans)))  # the first read (row order decides between equals)
