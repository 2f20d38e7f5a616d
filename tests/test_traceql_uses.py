"""Analyses that take a selection accept a TraceQL query in its place: what_if, diff_traces, bubble_up."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError


@pytest.fixture(scope="module")
def spans():
    return tk.examples.load("checkout-small-otlp")


def test_what_if_selector_and_traces(spans):
    by_name = tk.what_if(spans, {"payments": "x0.5"}, n_boot=0)
    by_query = tk.what_if(spans, {'{ resource.service.name = "payments" }': "x0.5"}, n_boot=0)
    assert by_query.changed_spans == by_name.changed_spans > 0
    pd.testing.assert_frame_equal(by_query.spans, by_name.spans)
    # a structural selection: payments spans under a failing checkout span, counted by walking parents
    q = '{ resource.service.name = "checkout" && status = error } >> { resource.service.name = "payments" }'
    r = tk.what_if(spans, {q: -5}, n_boot=0)
    parent = dict(zip(spans["span_id"], spans["parent_id"], strict=True))
    bad_checkout = set(spans.loc[(spans["service"] == "checkout") & (spans["status"] == "error"), "span_id"])

    def under(sid):
        p = parent.get(sid)
        while isinstance(p, str):
            if p in bad_checkout:
                return True
            p = parent.get(p)
        return False

    want = int(((spans["service"] == "payments") & spans["span_id"].map(under)).sum())
    assert r.changed_spans == want > 0
    # traces= as a query: only the traces holding an error span change
    err_traces = set(spans.loc[spans["status"] == "error", "trace_id"])
    t = tk.what_if(spans, {"payments": "x0.5"}, traces="{ status = error }", n_boot=0)
    changed = spans["trace_id"][(t.spans["end"] != spans["end"]).to_numpy()]
    assert set(changed) <= err_traces and t.changed_traces == len(err_traces & set(spans.loc[spans["service"] == "payments", "trace_id"]))
    with pytest.raises(ArgumentError, match="matches no span"):
        tk.what_if(spans, {'{ name = "no such operation" }': -1}, n_boot=0)


def test_diff_traces_takes_a_query_naming_one_trace(spans):
    a, b = spans["trace_id"].unique()[:2]
    by_id = tk.diff_traces(spans, a, b)
    by_query = tk.diff_traces(spans, f'{{ trace:id = "{a}" }}', f'{{ trace:id = "{b}" && kind = server }}')
    pd.testing.assert_frame_equal(by_query, by_id)
    with pytest.raises(ArgumentError, match=r"matches spans of \d+ traces"):
        tk.diff_traces(spans, "{ status = error }", b)


def test_bubble_up_selection_as_query(spans):
    q = '{ resource.service.name = "payments" && status = error }'
    span_mask = ((spans["service"] == "payments") & (spans["status"] == "error"))
    got = tk.bubble_up(spans, q, level="span")
    want = tk.bubble_up(spans, span_mask, level="span")
    pd.testing.assert_frame_equal(got, want)
    traces = set(spans.loc[span_mask, "trace_id"])
    got = tk.bubble_up(spans, q)
    want = tk.bubble_up(spans, traces)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs["n_selection"] == len(traces) > 0


def test_explorer_search_box_takes_traceql(spans):
    from tracekit.widgets import ExplorerState

    s = ExplorerState.from_spans(spans).with_filter(search='{ resource.service.name = "payments" && status = error }')
    want = set(spans.loc[(spans["service"] == "payments") & (spans["status"] == "error"), "trace_id"])
    assert set(s.trace_table()["trace_id"]) == want and want
    assert s.trace_id in want and s.search_error() is None
    bad = s.with_filter(search="{ duration > }")
    assert bad.trace_table().empty and "position 14" in bad.search_error()
    plain = s.with_filter(search="checkout")  # plain text keeps its substring meaning
    assert plain.search_error() is None and len(plain.trace_table()) > 0
