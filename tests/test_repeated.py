"""find_repeated_calls: N+1 and retries on literal traces and on the simulator's shop."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.repeated import COLUMNS, find_repeated_calls

MS = 1_000_000


def spans_of(rows, trace_no=1):
    """rows: (id, parent, service, name, kind, start_ms, end_ms, failed)."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status", "fault")}
    for i, p, svc, name, kind, s, e, failed in rows:
        cols["trace_id"].append(f"{trace_no:032x}")
        cols["span_id"].append(f"{trace_no * 100 + i:016x}")
        cols["parent_id"].append(f"{trace_no * 100 + p:016x}" if p is not None else None)
        cols["service"].append(svc)
        cols["name"].append(name)
        cols["kind"].append(kind)
        cols["start"].append(s * MS)
        cols["end"].append(None if e is None else e * MS)
        cols["status"].append("error" if failed else "ok")
        cols["fault"].append(bool(failed))
    return tk.spans_from_columns(cols)


# api GET /orders  |------------------------------------| 0..200
# SELECT item        |-| |-| |-| |-|                      10..20, 30..40, 50..60, 70..80  (N+1)
# POST /pay                          |xx|  |----|          100..120 fails, 130..160 retry
# GET /price                                      |--|     170..180 once: not repeated
# GET /stock          |---|                                15..45 ┐ two in parallel (overlap)
# GET /stock            |---|                              25..55 ┘
ROWS = [
    (1, None, "api", "GET /orders", "server", 0, 200, False),
    (2, 1, "api", "SELECT item", "client", 10, 20, False),
    (3, 1, "api", "SELECT item", "client", 30, 40, False),
    (4, 1, "api", "SELECT item", "client", 50, 60, False),
    (5, 1, "api", "SELECT item", "client", 70, 80, False),
    (6, 1, "api", "POST /pay", "client", 100, 120, True),
    (7, 1, "api", "POST /pay", "client", 130, 160, False),
    (8, 1, "api", "GET /price", "client", 170, 180, False),
    (9, 1, "api", "GET /stock", "client", 15, 45, False),
    (10, 1, "api", "GET /stock", "client", 25, 55, False),
]


def test_n_plus_one_retry_and_parallel_exact():
    spans = spans_of(ROWS)
    before = spans.copy(deep=True)
    r = find_repeated_calls(spans)
    pd.testing.assert_frame_equal(spans, before)
    assert list(r.columns) == list(COLUMNS)
    got = r.set_index("name")
    assert r["name"].tolist() == ["SELECT item", "POST /pay", "GET /stock"]  # by cost_ms: 30, 20, 10
    sel = got.loc["SELECT item"]
    assert (sel.calls, sel.errors, sel.retries, sel.pattern, bool(sel.sequential)) == (4, 0, 0, "n+1", True)
    assert (sel.total_ms, sel.wall_ms, sel.max_ms, sel.cost_ms, sel.retry_ms) == (40.0, 40.0, 10.0, 30.0, 0.0)
    pay = got.loc["POST /pay"]
    assert (pay.calls, pay.errors, pay.retries, pay.pattern) == (2, 1, 1, "retry")
    assert (pay.total_ms, pay.wall_ms, pay.max_ms, pay.cost_ms, pay.retry_ms) == (50.0, 50.0, 30.0, 20.0, 20.0)
    st = got.loc["GET /stock"]
    assert (st.calls, bool(st.sequential), st.total_ms, st.wall_ms, st.cost_ms) == (2, False, 60.0, 40.0, 10.0)
    assert r["parent_span_id"].unique().tolist() == [f"{101:016x}"]
    assert r["parent_name"].unique().tolist() == ["GET /orders"]
    assert r["first_start"].iloc[0] == pd.Timestamp(10 * MS, unit="ns", tz="UTC")
    assert r["last_end"].iloc[0] == pd.Timestamp(80 * MS, unit="ns", tz="UTC")
    # row order does not matter
    shuffled = spans.sample(frac=1, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(find_repeated_calls(shuffled), r)


def test_min_calls_and_groups_are_per_parent():
    a = spans_of(ROWS, 1)
    b = spans_of(ROWS, 2)
    r = find_repeated_calls(pd.concat([a, b], ignore_index=True), min_calls=3)
    assert r["name"].tolist() == ["SELECT item", "SELECT item"]
    assert sorted(r["trace_id"]) == [f"{1:032x}", f"{2:032x}"]
    assert find_repeated_calls(a, min_calls=5).empty
    with pytest.raises(tk.TraceKitError, match="min_calls"):
        find_repeated_calls(a, min_calls=1)


def test_retry_then_success_then_failure_is_n_plus_one():
    # three calls: fail, retry (ok), then a later independent call: 1 retry of 2 follow-ups -> n+1
    rows = [(1, None, "api", "root", "server", 0, 100, False), (2, 1, "api", "call", "client", 0, 10, True),
            (3, 1, "api", "call", "client", 10, 20, False), (4, 1, "api", "call", "client", 30, 40, False)]
    r = find_repeated_calls(spans_of(rows))
    assert (int(r.loc[0, "retries"]), r.loc[0, "pattern"], r.loc[0, "retry_ms"]) == (1, "n+1", 10.0)


def test_in_progress_call_counts_without_time():
    rows = [(1, None, "api", "root", "server", 0, 100, False), (2, 1, "api", "q", "client", 10, 20, False),
            (3, 1, "api", "q", "client", 30, None, False)]
    r = find_repeated_calls(spans_of(rows))
    assert (int(r.loc[0, "calls"]), r.loc[0, "total_ms"], r.loc[0, "wall_ms"]) == (2, 10.0, 10.0)


def test_empty():
    r = find_repeated_calls(tk.empty_spans())
    assert r.empty and list(r.columns) == list(COLUMNS)


def test_simulated_shop_n_plus_one_and_payment_retries():
    sim = tk.simulate.simulate("baseline", n_traces=400, seed=5)
    s = sim.spans
    r = find_repeated_calls(s)
    stock = r[(r["parent_service"] == "catalog") & (r["name"] == "GET /api/stock/{sku}")]
    # catalog calls inventory once per item (at least 2 items): one N+1 group per products request
    n_products = int(((s["service"] == "catalog") & (s["kind"] == "server")).sum())
    assert len(stock) == n_products > 0
    assert (stock["pattern"] == "n+1").all() and stock["sequential"].all()
    calls = s[(s["service"] == "catalog") & (s["name"] == "GET /api/stock/{sku}")].groupby("parent_id").size()
    assert stock["calls"].sum() == calls.sum()
    # checkout retries a failed charge once
    pay = r[r["name"] == "POST /api/charge"]
    charges = s[(s["service"] == "checkout") & (s["name"] == "POST /api/charge")].groupby("parent_id").size()
    assert len(pay) == int((charges == 2).sum()) > 0
    assert (pay["pattern"] == "retry").all() and (pay["calls"] == 2).all() and (pay["retry_ms"] > 0).all()
