"""Session 48, dask3: tk.dask on a 2-worker LocalCluster (processes, one thread each) against truths built by
construction and the pandas functions on the concatenated frame.

One cluster for the module (as tests/test_dask.py); frames small (a few hundred spans).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       memory_limit="1GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _hex(i: int, width: int) -> str:
    return format(i, f"0{width}x")


def _cardinality_spans(n_traces: int = 240) -> pd.DataFrame:
    """``n_traces`` traces of two spans (web root, db child); only the child carries attributes:
    ``req.id`` unique per trace (n_traces distinct, every trace), ``user`` = i % 150 (150 distinct), ``shard`` =
    i % 50 (50 distinct: below the 100 of cardinality_min_distinct in the whole, though the partitions' distinct
    values add up above it), ``tag`` None in every 4th trace and i % 99 otherwise (all 99 residues occur with
    i % 4 != 0 for i < 240; the missing value is one more: 100, just flagged), ``kind`` of 3 values."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "attributes")}
    for i in range(n_traces):
        t = _hex(i + 1, 32)
        root, child = _hex(2 * i + 1, 16), _hex(2 * i + 2, 16)
        attrs = {"req.id": f"r-{i}", "user": f"u{i % 150}", "shard": i % 50, "kind": ["a", "b", "c"][i % 3],
                 "tag": None if i % 4 == 0 else f"t{i % 99}"}
        for sid, parent, svc, name, kind, a in ((root, None, "web", "GET /", "server", {}),
                                                (child, root, "db", "SELECT", "client", attrs)):
            rows["trace_id"].append(t)
            rows["span_id"].append(sid)
            rows["parent_id"].append(parent)
            rows["service"].append(svc)
            rows["name"].append(name)
            rows["kind"].append(kind)
            rows["start"].append(i * 10_000_000 + (0 if parent is None else 1_000_000))
            rows["end"].append(i * 10_000_000 + (5_000_000 if parent is None else 4_000_000))
            rows["attributes"].append(a)
    return tk.spans_from_columns(rows)


def test_high_cardinality_attribute_is_counted_over_all_partitions(client):
    """Four partitions of 60 traces each: no partition holds 100 distinct values of any key, the whole does. The
    rows were the largest partition's (none here: every row vanished; on the bundled deploy-regression at 7
    partitions faas.invocation_id's row, 360 distinct values, vanished, and url.full said 725 of 4,424). Now counted
    exactly, as tk.health_report counts the concatenated frame."""
    spans = _cardinality_spans(240)
    ds = tk.dask.from_pandas(spans, 4)
    got = tk.dask.health_report(ds, checks=["high_cardinality_attribute"])
    got = got[got["check"] == "high_cardinality_attribute"].reset_index(drop=True)
    # truth by construction: req.id 240 distinct over 240 spans (240 traces), user 150, tag 99 + one missing value
    # over 240 spans (100 >= 100, ratio 0.42); shard (50) and kind (3) are below 100 distinct
    assert got["subject"].tolist() == ["req.id", "user", "tag"]
    assert got["value"].tolist() == [240.0, 150.0, 100.0]
    assert got["traces_affected"].tolist() == [240, 240, 240]
    assert got["spans_affected"].tolist() == [240, 240, 240]
    assert got["share"].tolist() == [1.0, 1.0, 1.0]
    assert "has 240 distinct values over 240 spans (50% of 480 spans)" in got["explanation"].iloc[0]
    want = tk.health_report(spans, checks=["high_cardinality_attribute"])
    want = want[want["check"] == "high_cardinality_attribute"].reset_index(drop=True)
    cols = ["subject", "traces_affected", "spans_affected", "share", "value", "explanation", "what_to_do"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    # examples are traces carrying the key
    assert all(set(ex) <= set(spans["trace_id"]) and len(ex) == 3 for ex in got["example_trace_ids"])


def _copies_spans() -> pd.DataFrame:
    """Four traces, each a web root (ok) calling db. Trace 1's db span failed (status error) and was exported twice:
    the second copy lost its resource (service 'unknown_service', status unset), so the copies differ; trace 2's
    db span (ok) was exported twice exactly (two overlapping reads concatenated); traces 3 and 4 are plain.
    By the kernel tree's copy rule (core.tree: of complete copies of equal length and start, the smaller service)
    the db copy is the span: db has 4 spans, 1 failed; web 4 spans, none failed; no span of 'unknown_service'."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status")}

    def add(t, s, p, svc, name, kind, start, end, status):
        for k, v in zip(rows, (t, s, p, svc, name, kind, start, end, status), strict=True):
            rows[k].append(v)

    for i in range(4):
        t, root, child = _hex(i + 1, 32), _hex(10 * i + 1, 16), _hex(10 * i + 2, 16)
        add(t, root, None, "web", "GET /", "server", 0, 9_000_000, "ok")
        add(t, child, root, "db", "SELECT", "client", 1_000_000, 5_000_000, "error" if i == 0 else "ok")
        if i == 0:
            add(t, child, root, "unknown_service", "SELECT", "client", 1_000_000, 5_000_000, "unset")
        if i == 1:
            add(t, child, root, "db", "SELECT", "client", 1_000_000, 5_000_000, "ok")
    return tk.spans_from_columns(rows)


@pytest.mark.parametrize("order", ["as read", "reversed"])
def test_span_error_rate_counts_a_span_exported_twice_once(client, order):
    """tk.dask.health_report's span_error_rate counted every row: db read '3 spans' (trace 2's copy twice,
    rate 1/3 for 1/4) and a row for 'unknown_service', a service owning no span (its only row is a later copy);
    tk.health_report counts the copy that is the span (core.tree). Found on the real jaeger-ui fixtures
    otlp2jaeger-in.json and otlp2jaeger-in-error.json read together (one span in both files, the copies differing
    in resource): Dask had an 'unknown_service' row, pandas none."""
    spans = _copies_spans()
    spans = spans.iloc[::-1].reset_index(drop=True) if order == "reversed" else spans
    got = tk.dask.health_report(tk.dask.from_pandas(spans, 2), checks=["span_error_rate"]).set_index("subject")
    # truth by construction
    assert sorted(got.index) == ["db", "web"]
    assert got.loc["db", "value"] == 0.25 and got.loc["web", "value"] == 0.0
    assert got.loc["db", "spans_affected"] == 1 and got.loc["db", "traces_affected"] == 1
    assert "of db's 4 spans failed" in got.loc["db", "explanation"]
    assert got.loc["db", "example_trace_ids"] == [_hex(1, 32)]
    want = tk.health_report(spans, checks=["span_error_rate"]).set_index("subject")
    cols = ["traces_affected", "spans_affected", "share", "value", "explanation", "example_trace_ids"]
    pd.testing.assert_frame_equal(got[cols].sort_index(), want[cols].sort_index())


def _linked_batch_spans(n: int = 6) -> pd.DataFrame:
    """``n`` requests (web root, server, 10 ms, calling db for 8 ms) and, for each, a batch job in a trace of its own
    whose root (kind internal) links to the request's root: asynchronous work (core.outcomes: a root carrying a span
    link), 100 ms long, 89 ms of it in db. The requests' critical path: db 8 ms and web 2 ms per request."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "links")}

    def add(*values):
        for k, v in zip(rows, values, strict=True):
            rows[k].append(v)

    ms = 1_000_000
    for i in range(n):
        a, b = _hex(2 * i + 1, 32), _hex(2 * i + 2, 32)
        r, c, j, q = (_hex(4 * i + k, 16) for k in (1, 2, 3, 4))
        t0 = i * 1000 * ms
        add(a, r, None, "web", "GET /", "server", t0, t0 + 10 * ms, [])
        add(a, c, r, "db", "SELECT", "client", t0 + 1 * ms, t0 + 9 * ms, [])
        add(b, j, None, "batch", "job", "internal", t0 + 20 * ms, t0 + 120 * ms, [{"trace_id": a, "span_id": r}])
        add(b, q, j, "db", "SELECT", "client", t0 + 21 * ms, t0 + 110 * ms, [])
    return tk.spans_from_columns(rows)


def test_breakdown_leaves_linked_asynchronous_work_out_as_pandas_does(client):
    """tk.dask.critical_path_breakdown read only the critical-path columns, not ``links``: a root linked to another
    trace's span (a batch job, a queue consumer of kind internal) read as a request of its own, and its time as
    request time. 6 requests + 6 linked jobs: db 594 ms over 12 traces (pandas and truth: 48 ms over 6)."""
    spans = _linked_batch_spans(6)
    got = tk.dask.critical_path_breakdown(tk.dask.from_pandas(spans, 2), by="service").compute()
    # truth by construction: only the 6 requests count
    assert got.attrs["traces"] == 6
    per = got.set_index("service")
    assert sorted(per.index) == ["db", "web"]
    assert per.loc["db", "cp_ms"] == pytest.approx(48.0) and per.loc["web", "cp_ms"] == pytest.approx(12.0)
    assert per.loc["db", "traces"] == 6
    want = tk.critical_path_breakdown(tk.critical_path(spans), by="service")
    pd.testing.assert_frame_equal(got, want, rtol=1e-9)


def _async_hop_spans(n: int = 12) -> pd.DataFrame:
    """``n`` requests: checkout's server root (0..20 ms) with a producer span (2..4 ms) that sends a message; the
    message is consumed in a trace of its own, fulfillment's consumer root starting at 10 + i ms, linked to the
    producer span (SQS → Lambda, Kafka). Truth: one async edge checkout → fulfillment of n calls, queue waits
    10 + i - 4 = 6 + i ms."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "links")}

    def add(*values):
        for k, v in zip(rows, values, strict=True):
            rows[k].append(v)

    ms = 1_000_000
    for i in range(n):
        a, b = _hex(2 * i + 1, 32), _hex(2 * i + 2, 32)
        r, p, c = (_hex(3 * i + k, 16) for k in (1, 2, 3))
        t0 = i * 1000 * ms
        add(a, r, None, "checkout", "POST /order", "server", t0, t0 + 20 * ms, [])
        add(a, p, r, "checkout", "orders send", "producer", t0 + 2 * ms, t0 + 4 * ms, [])
        add(b, c, None, "fulfillment", "orders process", "consumer", t0 + (10 + i) * ms, t0 + (30 + i) * ms,
            [{"trace_id": a, "span_id": p}])
    return tk.spans_from_columns(rows)


def test_service_graph_follows_links_between_traces_of_any_partition(client):
    """A consumer's trace linked to its producer's is hashed to a partition of its own by trace id; service_graph
    follows links only inside a partition, so the async edge checkout → fulfillment counted only the pairs that
    happened to share one (the bundled async-workflows at 4 partitions: 42 of 115 calls). from_pandas and
    keep_requests_whole now put traces linked to each other in one partition."""
    import dask

    spans = _async_hop_spans(12)
    waits = [6.0 + i for i in range(12)]
    H = tk.service_graph(spans)
    assert H.edges["checkout", "fulfillment"]["calls"] == 12  # control: pandas follows every link
    with dask.config.set({"dataframe.convert-string": False}):
        cut = tk.dask.keep_traces_whole(dd.from_pandas(spans, npartitions=4, sort=False))
    for what, ds in (("from_pandas", tk.dask.from_pandas(spans, 4)), ("keep_requests_whole", tk.dask.keep_requests_whole(cut))):
        assert ds.npartitions == 4, what
        G = tk.dask.service_graph(ds)
        e = G.edges["checkout", "fulfillment"]
        assert (e["calls"], e["kind"]) == (12, "async"), what
        # truth by construction: queue waits 6..17 ms, inverted_cdf p50 = the 6th smallest, p95 = the 12th
        assert (e["wait_p50_ms"], e["wait_p95_ms"]) == (pytest.approx(waits[5]), pytest.approx(waits[11])), what
        assert sorted(G.edges) == sorted(H.edges), what
        assert all(G.edges[x] == pytest.approx(H.edges[x]) for x in H.edges), what


def test_breakdown_says_the_asynchronous_time_it_left_out(client):
    """attrs["fragment_ms"] (critical-path time that is no request's: asynchronous work, fragments) read 0 on Dask
    whatever was left out: the partitions dropped it before the combine. 6 linked batch jobs of 100 ms critical
    path each: 0 -> 600 ms, as tk.critical_path_breakdown."""
    spans = _linked_batch_spans(6)
    got = tk.dask.critical_path_breakdown(tk.dask.from_pandas(spans, 3), by="service").compute()
    assert got.attrs["fragment_ms"] == pytest.approx(600.0)  # truth: 6 jobs of 20..120 ms
    want = tk.critical_path_breakdown(tk.critical_path(spans), by="service")
    assert got.attrs["fragment_ms"] == pytest.approx(want.attrs["fragment_ms"])


def _requests(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` one-span requests (web, server), request i lasting 1 ms + i µs (all different); and their latencies."""
    ms, us = 1_000_000, 1_000
    lat = np.asarray([(ms + i * us) / 1e6 for i in range(n)])
    return tk.spans_from_columns({
        "trace_id": [_hex(i + 1, 32) for i in range(n)], "span_id": [_hex(i + 1, 16) for i in range(n)],
        "parent_id": [None] * n, "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "status": ["ok"] * n, "start": [i * 1000 * ms for i in range(n)],
        "end": [i * 1000 * ms + ms + i * us for i in range(n)]}), lat


def test_health_p95_is_combined_on_a_worker_not_gathered_to_the_client(client, monkeypatch):
    """The module says the p95's combine step (one latency per request) is a task to give a big worker; it ran on
    the client: every request's trace id and latency came back (pickled results of the report's dask.compute calls:
    7.3 KB for 100 requests, 114 KB for 2,000, 1.1 MB for 20,000). Now the client receives the row (572, 578 and
    581 bytes)."""
    received = _received(monkeypatch)
    sizes = {}
    for n in (100, 2000):
        received.clear()
        spans, lat = _requests(n)
        got = tk.dask.health_report(tk.dask.from_pandas(spans, 2), checks=["p95_request_latency_ms"])
        sizes[n] = sum(received)
        row = got[got["check"] == "p95_request_latency_ms"].iloc[0]
        # truth by construction: the inverted_cdf p95 of the latencies built, the requests at or above it, the
        # slowest three (the last three built)
        p95 = float(np.quantile(lat, 0.95, method="inverted_cdf"))
        assert row["value"] == pytest.approx(p95, abs=1e-9) and row["traces_affected"] == int((lat >= p95 - 1e-9).sum())
        assert row["share"] == pytest.approx(row["traces_affected"] / n)
        assert row["example_trace_ids"] == [_hex(i + 1, 32) for i in (n - 1, n - 2, n - 3)]
    assert sizes[2000] < 2 * sizes[100], sizes


def _received(monkeypatch) -> list:
    """Sizes (pickled bytes) of what each dask.compute gives back to the client from here on."""
    import pickle

    import dask

    received = []
    compute = dask.compute

    def counting(*args, **kw):
        out = compute(*args, **kw)
        received.append(len(pickle.dumps(out)))
        return out

    monkeypatch.setattr(dask, "compute", counting)
    return received


def test_split_traces_counts_on_the_workers(client, monkeypatch):
    """split_traces brought every trace id of every partition to the client to find the few split ones (one id
    per trace: 100 / 2,000 / 20,000 traces whole in 2 partitions, 3.7 KB / 70 KB / 700 KB received); now counted on the
    workers and only the split ones come back (933 B each). The answer, on partitions built with known splits, is
    unchanged."""
    import dask

    spans, _ = _requests(12)
    t = spans["trace_id"].tolist()
    # partitions built by hand: traces 0, 3 and 4 in two partitions each, 5 in three
    rows = [[0, 1, 2, 3, 5], [3, 4, 5], [4, 5, 0, 6], [7, 8]]
    with dask.config.set({"dataframe.convert-string": False}):
        cut = dd.from_map(lambda r: spans.iloc[r].reset_index(drop=True), rows, meta=spans.iloc[:0],
                          enforce_metadata=False)
    got = tk.dask.split_traces(cut)
    assert got["trace_id"].tolist() == sorted([t[0], t[3], t[4], t[5]])
    assert dict(zip(got["trace_id"], got["partitions"], strict=True)) == {t[0]: 2, t[3]: 2, t[4]: 2, t[5]: 3}
    received = _received(monkeypatch)
    sizes = {}
    for n in (100, 2000):
        received.clear()
        assert len(tk.dask.split_traces(tk.dask.from_pandas(_requests(n)[0], 2))) == 0
        sizes[n] = sum(received)
    assert sizes[2000] < 2 * sizes[100], sizes


def _slow_part(frame: pd.DataFrame) -> pd.DataFrame:
    import time

    time.sleep(0.5)
    return frame


@pytest.mark.slow  # a worker restarts: about 20 s
def test_a_worker_dying_mid_task_loses_no_partition(client):
    """A control for the worker: a worker process killed while the report computes. Its tasks and the partitions
    it held are recomputed from the graph (Dask's lineage), so the findings equal tk.health_report's; no partition
    is silently left out (traces affected, requests and the p95 count every trace). On the old code it fails only
    by the two high_cardinality_attribute rows no one of the 6 partitions held (23 rows for 25: the first fix)."""
    import os
    import threading

    import dask

    spans = tk.read(os.path.join(os.path.dirname(__file__), "..", "datasets", "broken-context"))
    ids = pd.unique(spans["trace_id"])
    chunk = {t: i % 6 for i, t in enumerate(ids)}
    parts = [spans[spans["trace_id"].map(chunk).to_numpy() == k].reset_index(drop=True) for k in range(6)]
    with dask.config.set({"dataframe.convert-string": False}):
        ds = dd.from_map(_slow_part, parts, meta=spans.iloc[:0], enforce_metadata=False)
    ds = tk.dask.keep_requests_whole(ds)
    victim = sorted(client.scheduler_info()["workers"])[0]
    killer = threading.Timer(1.0, lambda: client.run(os._exit, 1, workers=[victim], nanny=False, on_error="ignore"))
    killer.start()
    try:
        got = tk.dask.health_report(ds)
    finally:
        killer.cancel()
    want = tk.health_report(spans)
    cols = ["check", "severity", "subject", "traces_affected", "spans_affected", "share", "value"]
    norm = lambda r: r[cols].sort_values(["check", "severity", "subject"]).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(norm(got), norm(want), rtol=1e-9)
    client.wait_for_workers(2, timeout=60)


def test_span_names_carrying_ids_are_added_up_on_the_workers(client, monkeypatch):
    """high_cardinality_span_name added the partitions' span name counts up on the client: one row per distinct
    name, i.e. per span exactly where names carry ids (the data this check is for). Now added up and turned into
    rows on the workers; the client receives the rows (pickled results of the report's computes: 100 / 2,000 /
    20,000 requests 8.9 KB / 111 KB / 1.1 MB -> 906 / 919 / 922 B). By construction: n requests named
    'GET /users/<i>'."""
    received = _received(monkeypatch)
    sizes = {}
    for n in (100, 2000):
        spans, _ = _requests(n)
        spans["name"] = [f"GET /users/{i}" for i in range(n)]
        received.clear()
        got = tk.dask.health_report(tk.dask.from_pandas(spans, 2), checks=["high_cardinality_span_name"])
        sizes[n] = sum(received)
        row = got[got["check"] == "high_cardinality_span_name"].iloc[0]
        assert (row["subject"], row["traces_affected"], row["spans_affected"], row["share"]) == ("web", n, n, 1.0)
        assert row["value"] == n  # distinct names that differ only by an id
        want = tk.health_report(spans, checks=["high_cardinality_span_name"]).iloc[0]
        assert row["explanation"] == want["explanation"]
    assert sizes[2000] < 2 * sizes[100], sizes


_ENTRY_POINTS = ["keep_traces_whole", "keep_requests_whole", "split_traces", "critical_path", "critical_path_breakdown",
                 "self_time", "find_repeated_calls", "service_graph", "health_report"]


@pytest.mark.parametrize("name", _ENTRY_POINTS)
def test_a_frame_that_is_not_a_dask_spans_frame_is_an_argument_error(name):
    """A pandas spans frame (the likeliest slip: tk.dask.service_graph(spans)) or None was a bare AttributeError
    ('DataFrame' object has no attribute '_meta' / 'to_delayed' / 'map_partitions'), and a Dask frame without
    trace_id a bare KeyError from Dask's shuffle (keep_traces_whole); now an ArgumentError naming the function."""
    spans, _ = _requests(4)
    fn = getattr(tk.dask, name)
    with pytest.raises(tk.ArgumentError, match=rf"^{name}: expected a Dask spans frame, got DataFrame: tk.dask.from_pandas"):
        fn(spans)
    with pytest.raises(tk.ArgumentError, match=rf"^{name}: expected a Dask spans frame, got NoneType"):
        fn(None)
    with pytest.raises(tk.ArgumentError, match=rf"^{name}: the frame has no 'trace_id' column"):
        fn(tk.dask.from_pandas(spans, 2).drop(columns=["trace_id"]))
