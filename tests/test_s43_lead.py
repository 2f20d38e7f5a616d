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


# ---------------------------------------------------------------------------------------------------------------
# the heatmap's requests: counted once, and every error names the function the user called


def _spans():
    return tk.simulate.simulate("baseline", 60, seed=2).spans


@pytest.mark.parametrize("name", ["select_requests", "heatmap_requests", "latency_heatmap", "plot_heatmap",
                                  "detect_changes", "plot_timeline", "timeline"])
def test_a_bad_by_key_is_said_as_the_function_called(name):
    import tracekit.analysis.timeline as tl

    f = getattr(tl, name, None) or getattr(tk, name)
    with pytest.raises(tk.ArgumentError) as info:
        f(_spans(), by="no_such_key")
    assert str(info.value).startswith(f"{name}: by key 'no_such_key' is not in the spans frame")


def test_plot_heatmap_with_points_builds_the_request_rows_once(monkeypatch):
    import tracekit.analysis.timeline as tl

    calls = []
    real = tl.request_rows

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(tl, "request_rows", counted)
    spans = _spans()
    fig = tk.plot_heatmap(spans, freq="10min", bins=8, points=True)
    assert len(calls) == 1
    # and the points are the requests the cells count
    heat = next(t for t in fig.data if t.meta == "heatmap")
    pts = next(t for t in fig.data if t.meta == "requests")
    assert len(pts.x) == int(np.nansum(np.asarray(heat.z, dtype=float))) == 60


def test_latency_heatmap_counts_the_requests_it_is_given_as_it_would_compute_them():
    from tracekit.analysis.timeline import heatmap_requests

    spans = _spans()
    rows = heatmap_requests(spans, "service", key="checkout")
    a = tk.latency_heatmap(spans, "5min", "service", key="checkout", bins=6)
    b = tk.latency_heatmap(spans, "5min", "service", key="checkout", bins=6, requests=rows)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["sampled"] == b.attrs["sampled"] == len(rows) > 0
    with pytest.raises(tk.ArgumentError, match="latency_heatmap: requests must be the DataFrame of heatmap_requests"):
        tk.latency_heatmap(spans, requests=spans[["trace_id"]])


def test_the_heatmaps_no_data_words_say_no_change_detection_and_the_timelines_do():
    spans = _spans()
    t = pd.to_datetime(spans["start"])
    gap = spans[(t - t.min()) > pd.Timedelta("30min")]  # requests only after a half hour: a gap in the middle?
    early = spans[(t - t.min()) < pd.Timedelta("10min")]
    both = pd.concat([early, gap], ignore_index=True)
    h = tk.latency_heatmap(both, "1min", bins=4)
    tl = tk.timeline(both, "1min")
    assert h.attrs["no_data"].startswith("No span at all was collected in ")
    assert h.attrs["no_data"].endswith("not 0 requests.") and "change detection" not in h.attrs["no_data"]
    assert tl.attrs["no_data"].endswith("; left out of the change detection.")
    assert h.attrs["no_data"][:-1] == tl.attrs["no_data"].replace("; left out of the change detection.", "")


# ---------------------------------------------------------------------------------------------------------------
# readers count in words: "1 bad record", "2 bad records", never "record(s)"


def _bad_lines(tmp_path, n_bad, kind):
    import json

    good = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                               "scopeSpans": [{"spans": [{"traceId": "1" * 32, "spanId": "a" * 16, "name": "GET",
                                                          "startTimeUnixNano": "1000", "endTimeUnixNano": "2000"}]}]}]}
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join([json.dumps(good)] + ["{not json"] * n_bad) + "\n")
    return p


@pytest.mark.parametrize("reader, n_bad, words", [
    ("read_otlp", 1, "1 OTLP record skipped;"), ("read_otlp", 2, "2 OTLP records skipped;"),
    ("read", 1, "read skipped 1 bad record;"), ("read", 2, "read skipped 2 bad records;")])
def test_readers_count_skipped_records_in_words(tmp_path, reader, n_bad, words):
    p = _bad_lines(tmp_path, n_bad, "otlp")
    with pytest.warns(tk.TraceFormatWarning) as rec:
        df = getattr(tk, reader)(p, errors="skip")
    msgs = [str(w.message) for w in rec]
    assert len(df) == 1 and any(words in m for m in msgs) and not any("record(s)" in m for m in msgs), msgs


# ---------------------------------------------------------------------------------------------------------------
# rank_causes(metrics=) without logs: decided_by says what weighed most, and the postmortem's words follow


def _mem_saturates(svc_hot: str = "cart"):
    """Two fault-free hours of the same shop (seeds 1 and 2, the second 2 h later); one metric per minute per
    service, 'mem', that rises by 80 for svc_hot in the later hour only: the metrics decide, the traces hold noise."""
    base = tk.simulate.simulate("baseline", 150, seed=1).spans
    inc = tk.simulate.simulate("baseline", 150, seed=2).spans
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))
    parts = []
    for svc in sorted(set(base["service"]) | set(inc["service"])):
        for frame, hot in ((base, False), (inc, True)):
            t = pd.date_range(frame["start"].min().ceil("1min"), frame["end"].max().floor("1min"), freq="1min")
            mem = 10.0 + np.arange(len(t)) % 3 + (80.0 if hot and svc == svc_hot else 0.0)
            parts.append(tk.metrics_from_columns({"time": t, "name": "mem", "value": mem, "service": svc}))
    return inc, base, pd.concat(parts, ignore_index=True)


def test_rank_causes_with_metrics_alone_says_what_decided_each_row():
    from tracekit.investigate.causes import EVIDENCE, RANK_CAUSES, RANK_CAUSES_SIGNALS

    inc, base, metrics = _mem_saturates()
    rc = tk.rank_causes(inc, base, level="service", n_boot=20, lift_rows=0, metrics=metrics)
    top = rc.iloc[0]
    assert top["service"] == "cart" and top["decided_by"] == "metrics: mem"
    # every other row: the traces' evidence that weighed most, by construction of the table's own columns
    for _, r in rc.iloc[1:].iterrows():
        best = max(EVIDENCE, key=lambda e: float(r[e]))
        want = f"traces: {best}" if float(r[best]) > 0 else "nothing (no evidence above zero)"
        assert r["decided_by"] == (want if float(r["metrics"]) <= max(float(r[e]) for e in EVIDENCE) or
                                   float(r["metrics"]) <= 0 else "metrics: mem")
    # the declared columns, in their declared order, with the logs' own left out
    logs_only = {"log_templates", "log_errors", "log_template"}
    assert list(rc.columns) == ["service", *RANK_CAUSES.column_names,
                                *[c for c in RANK_CAUSES_SIGNALS.column_names if c not in logs_only]]
    # and the postmortem's words for the top row name the metrics (they said nothing: no decided_by)
    from tracekit.investigate.postmortem import _decided_words

    assert _decided_words(top).startswith("ranked by its metrics (mem, score ")


def test_the_postmortem_says_the_metrics_ranked_the_cause_when_they_did():
    inc, base, metrics = _mem_saturates()
    story = tk.postmortem(inc, base, metrics=metrics, n_boot=20)
    where = next(f for f in story.findings if f.topic == "where")
    # it said "cart: GET … — nothing in its spans' timing, calls or errors differs clearly", and not what ranked it
    assert "cart: " in where.text and " — ranked by its metrics (mem, score " in where.text
    assert "its traces show nothing clear" in where.text


# ---------------------------------------------------------------------------------------------------------------
# a dependency-graph edge of synchronous calls and asynchronous hops is "mixed", not "async"


def test_an_edge_of_both_kinds_of_call_is_mixed_in_both_engines():
    from tests.test_s43_graph2 import _mixed_edge_spans

    spans = _mixed_edge_spans()  # web -> orders: 2 synchronous calls (traces 1, 2) and 1 asynchronous hop (trace 3)
    G = tk.service_graph(spans)
    e = G.edges["web", "orders"]
    assert (e["calls"], e["async_calls"], e["kind"], e["async"]) == (3, 1, "mixed", True)
    only_hop = tk.service_graph(spans[spans["trace_id"] == f"{3:032x}"])
    assert only_hop.edges["web", "orders"]["kind"] == "async"
    only_calls = tk.service_graph(spans[spans["trace_id"] != f"{3:032x}"].reset_index(drop=True))
    assert only_calls.edges["web", "orders"]["kind"] == "sync"
    # the Dask engine says the same (one rule: core.calls.edge_kind)
    pytest.importorskip("dask")
    from tracekit.dask import from_pandas
    from tracekit.dask import service_graph as dask_graph

    Gd = dask_graph(from_pandas(spans, 2))
    assert Gd.edges["web", "orders"]["kind"] == "mixed"
