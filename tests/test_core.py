"""The kernel (tracekit.core): span tree, outcomes, percentiles, names, ids — by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.core import (
    call_paths,
    callee,
    callees,
    client_error,
    failed,
    is_async_handoff,
    normalize_trace_id,
    percentile,
    require_columns,
    routes,
    span_tree,
    throttled,
    trace_outcomes,
)

from .test_structure import mk, sid, tid

MS = 1_000_000


# ------------------------------------------------------------------------------- span tree


def test_tree_roots_orphans_duplicates_cycles_and_request_root():
    spans = mk([
        (1, 1, None, "web", "GET /", "server", 10, 100),   # row 0: root
        (1, 2, 1, "web", "call", "client", 20, 60),         # row 1
        (1, 3, 99, "db", "lost", "server", 30, 40),         # row 2: orphan (parent 99 absent)
        (1, 4, None, "job", "late root", "server", 5, 8),  # row 3: a second root, earlier -> request root
        (2, 1, None, "a", "r", "server", 0, 10),            # row 4
        (2, 1, None, "a", "r again", "server", 0, 10),      # row 5: duplicate id of row 4
        (2, 2, 1, "a", "c", "client", 1, 2),               # row 6: links to the first copy (row 4)
        (3, 7, 8, "x", "p", "server", 0, 1),                # rows 7-8: a parent cycle 7 <-> 8
        (3, 8, 7, "x", "q", "server", 0, 1),
        (4, 5, 5, "y", "self", "server", 0, 1),             # row 9: names itself
    ])
    t = span_tree(spans)
    assert t.trace.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
    assert t.trace_ids.tolist() == [tid(1), tid(2), tid(3), tid(4)]
    assert t.parent.tolist() == [-1, 0, -1, -1, -1, -1, 4, 8, 7, -1]
    assert t.orphan.tolist() == [False, False, True] + [False] * 7
    assert t.duplicate.tolist() == [False] * 5 + [True] + [False] * 4
    assert t.duplicated.tolist() == [False] * 4 + [True, True] + [False] * 4
    assert t.cycle.tolist() == [False] * 7 + [True, True, True]
    assert t.depth.tolist() == [0, 1, 0, 0, 0, 0, 1, -1, -1, -1]
    assert t.bad_trace.tolist() == [False] * 4 + [True] * 6
    # request root: the root that started first (row 3 at 5 ms), none for the cycle-only traces
    assert t.request_root.tolist() == [3, 4, -1, -1]
    offsets, rows = t.children()
    assert rows[offsets[0]:offsets[1]].tolist() == [1]
    assert rows[offsets[4]:offsets[5]].tolist() == [6]


def test_tree_is_cached_per_frame_and_rebuilt_when_ids_change_in_place():
    spans = mk([(1, 1, None, "web", "GET /", "server", 0, 10), (1, 2, 1, "web", "q", "client", 1, 2)])
    t1 = span_tree(spans)
    assert span_tree(spans) is t1
    assert span_tree(spans.copy()) is not t1  # another frame object
    spans.loc[1, "parent_id"] = sid(77)          # the user edits a parent in place
    t2 = span_tree(spans)
    assert t2 is not t1 and t2.orphan.tolist() == [False, True]


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_tree_deep_chain_is_linear_and_exact():
    n = 20_000  # a chain: depth n-1, built level by level without recursion
    spans = tk.spans_from_columns({
        "trace_id": [tid(1)] * n, "span_id": [sid(i + 1) for i in range(n)],
        "parent_id": [None] + [sid(i) for i in range(1, n)], "service": ["s"] * n, "name": ["x"] * n,
        "start": np.arange(n) * 10, "end": 10 * n - np.arange(n)})
    t = span_tree(spans)
    assert t.depth.tolist() == list(range(n)) and t.request_root.tolist() == [0]


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-1, max_value=11), min_size=1, max_size=12))
def test_tree_parent_links_match_a_dictionary_walk(parents):
    # span i has id i+1; parent -1 = none, >= len = missing (orphan), else span parents[i]
    n = len(parents)
    spans = tk.spans_from_columns({
        "trace_id": [tid(1)] * n, "span_id": [sid(i + 1) for i in range(n)],
        "parent_id": [None if p < 0 else sid(p + 1) for p in parents], "service": ["s"] * n,
        "name": ["x"] * n, "start": list(range(n)), "end": [n + 5] * n})
    t = span_tree(spans)
    for i, p in enumerate(parents):
        want = p if 0 <= p < n and p != i else -1
        assert t.parent[i] == want
        assert t.orphan[i] == (p >= n)
        # depth by walking up with a visited set
        seen, cur, d = {i}, i, 0
        while True:
            q = parents[cur]
            if q < 0 or q >= n:
                break
            if q in seen:
                d = -1
                break
            seen.add(q)
            cur, d = q, d + 1
        assert t.depth[i] == d


# ------------------------------------------------------------------------------- outcomes


def _four():
    # ok; a 404 read from X-Ray (error flag and status error); a 503 with status unset; status=error
    return tk.spans_from_columns({
        "trace_id": [tid(i) for i in (1, 2, 3, 4)], "span_id": [sid(1)] * 4, "parent_id": [None] * 4,
        "service": ["web"] * 4, "name": ["GET /"] * 4, "start": [0] * 4, "end": [10 * MS, 20 * MS, 30 * MS, 40 * MS],
        "status": ["ok", "error", "unset", "error"], "http_status": [200, 404, 503, None],
        "error": [False, True, False, False], "fault": [False, False, True, False], "throttle": [False] * 4})


def test_failed_client_error_and_throttled_are_separate():
    s = _four()
    assert failed(s).tolist() == [False, False, True, True]
    assert client_error(s).tolist() == [False, True, False, False]
    assert throttled(s).tolist() == [False] * 4
    s429 = s.assign(throttle=[False, True, False, False], http_status=pd.array([200, 429, 503, None], dtype="Int64"))
    assert failed(s429).tolist() == [False, False, True, True]  # a throttle is not a failure
    assert throttled(s429).tolist() == [False, True, False, False]


def test_trace_outcomes_request_vs_extent_with_async_tail_and_fragment():
    spans = mk([
        (1, 1, None, "web", "POST /checkout", "server", 0, 92),
        (1, 2, 1, "web", "SQS SendMessage", "producer", 80, 85),
        (1, 3, 2, "fulfil", "process", "consumer", 200, 1150),   # cold start after the response
        (2, 1, None, "web", "GET /", "server", 0, 60),
        (2, 5, 44, "db", "fragment", "server", 10, 50),          # orphan fragment: not a second request
        (3, 9, 8, "db", "only a fragment", "server", 0, 30),     # no root at all
    ], status=["ok", "ok", "error", "ok", "ok", "error"], fault=[False, False, True, False, False, True])
    o = trace_outcomes(spans)
    assert o["request_ms"].tolist()[:2] == [92.0, 60.0] and np.isnan(o["request_ms"].iloc[2])
    assert o["extent_ms"].tolist() == [1150.0, 60.0, 30.0]
    assert o["failed"].tolist() == [False, False, True]      # the async consumer failed, the request did not
    assert o["failed_spans"].tolist() == [1, 0, 1]
    assert o["has_root"].tolist() == [True, True, False]
    assert o["root_span_id"].isna().tolist() == [False, False, True]
    assert o["root_name"].tolist() == ["POST /checkout", "GET /", "only a fragment"]


# ------------------------------------------------------------------------------- percentiles


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=40),
       st.sampled_from([0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0]))
def test_percentile_is_an_observed_value_and_uniform_weights_change_nothing(values, q):
    p = percentile(values, q)
    assert p in values
    assert p == np.quantile(values, q, method="inverted_cdf")
    assert percentile(values, q, weights=[2.5] * len(values)) == p


def test_percentile_drops_nan_and_checks_arguments():
    assert percentile([101, 102, np.nan, 103, 104], 0.95) == 104.0
    assert np.isnan(percentile([np.nan], 0.5))
    with pytest.raises(tk.ArgumentError, match="within"):
        percentile([1, 2], 95)
    with pytest.raises(ValueError, match="weights"):
        percentile([1, 2], 0.5, weights=[1])


# ------------------------------------------------------------------------------- names


@pytest.mark.parametrize(("attrs", "name", "want"), [
    ({"peer.service": "orders-db", "server.address": "10.0.0.5", "db.system": "postgresql"}, "SELECT orders", "orders-db"),
    ({"db.system": "postgresql", "server.address": "orders-db"}, "SELECT orders", "orders-db"),
    ({"db.system": "postgresql"}, "SELECT orders", "postgresql"),
    ({"rpc.service": "DynamoDB", "server.address": "dynamodb.eu-west-1.amazonaws.com"}, "GetItem", "DynamoDB"),
    ({"url.full": "https://inventory.internal:8443/items?id=1"}, "GET", "inventory.internal"),
    ({"sql.url": "jdbc:postgresql://orders-db:5432/orders"}, "orders@orders-db", "orders-db"),
    ({"http": {"request": {"url": "http://api.example.com/x"}}}, "GET", "api.example.com"),
    ({"namespace": "aws"}, "DynamoDB", "DynamoDB"),
    ({"namespace": "remote", "http.request.url": ""}, "api.partner.example", "api.partner.example"),
    ({}, "SELECT orders", None),
    ({"other": 1}, "work", None),
])
def test_callee_resolver(attrs, name, want):
    assert callee(attrs, name) == want


def test_callees_routes_async_and_call_paths_on_a_frame():
    spans = mk([
        (1, 1, None, "web", "GET", "server", 0, 10),
        (1, 2, 1, "web", "SELECT orders", "client", 1, 2),
        (1, 3, 1, "web", "SendMessage", "client", 3, 4),
        (1, 4, 3, "worker", "process", "consumer", 5, 9),
    ], attributes=[{"url.full": "https://shop.example.com/orders/12345/items/9f8e7d6c5b4a39281706f5e4d3c2b1a0?x=1"},
                   {"db.system": "postgresql", "peer.service": "orders-db"},
                   {"aws.operation": "SendMessage", "namespace": "aws"},
                   {"messaging.system": "aws_sqs"}])
    assert callees(spans).tolist() == [None, "orders-db", "SendMessage", None]
    assert routes(spans).tolist() == ["/orders/{id}/items/{id}", "SELECT orders", "SendMessage", "process"]
    assert is_async_handoff(spans).tolist() == [False, False, True, False]
    assert call_paths(spans, span_tree(spans), np.array([3, 1])).tolist() == [
        "web:GET > web:SendMessage > worker:process", "web:GET > web:SELECT orders"]



def test_operation_codes_are_the_sorted_labels_with_a_missing_part_named_by_the_readers_rule():
    """operation_codes factorizes the two columns on their own arrays; the labels and codes are what sorting a
    ``service:name`` string per span gives: a missing or empty name ``(unnamed)`` (schema.known_name_column), a
    missing or blank service ``unknown_service`` (schema.known_service_column): neither merged with a real '?'."""
    from tracekit.core.naming import operation_codes, operations

    rng = np.random.default_rng(5)
    svc = rng.choice(np.array(["web", "db", "?", None, "émoji-☃", ""], dtype=object), 400)
    name = rng.choice(np.array(["GET /", "q", None, "?", "a:b"], dtype=object), 400)
    spans = mk([(i // 4 + 1, i + 1, None, "x", "y", "server", 0, 1) for i in range(400)])
    spans["service"] = pd.array(svc, dtype="string")
    spans["name"] = pd.array(name, dtype="string")
    want = np.array([f"{'unknown_service' if s is None or not s.strip() else s}:{'(unnamed)' if n is None or n == '' else n}"
                     for s, n in zip(svc, name, strict=True)], dtype=object)
    labels, codes = np.unique(want, return_inverse=True)
    got_codes, got_labels = operation_codes(spans)
    assert got_labels.tolist() == labels.tolist() and got_codes.tolist() == codes.tolist()
    assert operations(spans).tolist() == want.tolist()
    assert {"?:?", "unknown_service:?"} <= set(got_labels.tolist()) and len(set(got_labels.tolist())) == len(got_labels)
    empty_codes, empty_labels = operation_codes(tk.empty_spans())
    assert len(empty_codes) == len(empty_labels) == 0

# ------------------------------------------------------------------------------- ids, columns


def test_trace_ids_at_entry_points():
    assert normalize_trace_id("1-5759e988-bd862e3fe1be46a994272793") == "5759e988bd862e3fe1be46a994272793"
    assert normalize_trace_id("5759E988BD862E3FE1BE46A994272793") == "5759e988bd862e3fe1be46a994272793"
    for bad in ("5759e988", "1-5759e988-xyz", 42, None):
        with pytest.raises(tk.ArgumentError, match="not a trace id"):
            normalize_trace_id(bad)


def test_one_column_check_message():
    with pytest.raises(tk.SpansSchemaError, match=r"^f: spans DataFrame is missing columns: span_id, end \("):
        require_columns(tk.empty_spans()[["trace_id", "start"]], ("trace_id", "span_id", "end"), "f")
    with pytest.raises(tk.SpansSchemaError, match="expected a spans DataFrame, got list"):
        require_columns([], ("trace_id",), "f")


def test_gc_paused_restores_the_gc_nests_and_promotes():
    import gc

    from tracekit.core.gc_pause import gc_paused

    was = gc.isenabled()
    gc.enable()
    try:
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():
                made = [[i] for i in range(10)]
            assert not gc.isenabled()  # the inner pause leaves the outer one paused
        assert gc.isenabled()
        # what was made meanwhile went to the oldest generation, unscanned by the young collections
        assert any(o is made for o in gc.get_objects(generation=2))
        assert not any(o is made for o in gc.get_objects(generation=0))
        with pytest.raises(KeyError), gc_paused():
            raise KeyError("x")
        assert gc.isenabled()  # restored on an error too
        gc.disable()
        with gc_paused():
            pass
        assert not gc.isenabled()  # paused by the caller: left paused
    finally:
        (gc.enable if was else gc.disable)()
