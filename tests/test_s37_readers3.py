"""The readers' remaining gaps (session 37, third review of tracekit/io, logs_schema, metrics_schema, tracekit.dask).

Each input is built by construction, its truth known:

* a span with no name: one rule, one place (:func:`tracekit.schema.known_name_column`, the readers' ``(unnamed)``), in
  the service graph, ``diff_traces`` and the operation labels; never merged with a real operation named ``"?"``;
* a metric point whose ``timeUnixNano`` is 0 (proto3's unset value, what an absent time is in JSON) is refused as an
  absent one is, on every path (checked and fast, one document and JSON lines), never loaded at 1970-01-01;
* an integer beyond 64 bits in a container column crosses ``tk.dask``'s shuffle exactly (the readers and the store
  keep it), on a real LocalCluster (one, module scope);
* duplicate identity keys that the byte counts of the duplicate-key check missed (see each test).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError
from tracekit.io import metrics as metrics_io

TID, TID2 = "5759e988bd862e3fe1be46a994272793", "0af7651916cd43dd8448eb211c80319c"
T0 = 1_700_000_000_000_000_000  # ns: 2023-11-14


# ----------------------------------------------------------------------------- a span with no name


def _two_spans(tid: str, child_name: str | None) -> pd.DataFrame:
    """A root a:root and its child b:<child_name>, built as spans_from_columns builds it, then the child's name set
    to ``child_name`` by hand (as an edited frame would hold it)."""
    df = tk.spans_from_columns({"trace_id": [tid] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": [None, "1" * 16],
                                "service": ["a", "b"], "name": ["root", "x"], "start": [0, 10], "end": [100, 50]})
    names = df["name"].astype(object)
    names.iloc[1] = child_name
    df["name"] = pd.array(names.tolist(), dtype=df["name"].dtype)
    return df


def test_a_missing_name_is_unnamed_in_the_graph_and_never_merged_with_a_real_question_mark():
    # one trace: root a:root with two children in b: one without a name, one named "?" (a real operation name)
    one = _two_spans(TID, None)
    other = _two_spans(TID, "?")
    other["span_id"] = pd.array(["1" * 16, "3" * 16], dtype=one["span_id"].dtype)
    spans = pd.concat([one, other.iloc[[1]]], ignore_index=True)
    g = tk.service_graph(spans, by="operation")
    assert sorted(g.nodes()) == ["a:root", "b:(unnamed)", "b:?"]  # 2 callees, not one 'b:?' of 2 calls
    assert g.edges["a:root", "b:(unnamed)"]["calls"] == 1 and g.edges["a:root", "b:?"]["calls"] == 1
    from tracekit.core.naming import operations

    assert sorted(operations(spans).tolist()) == ["a:root", "b:(unnamed)", "b:?"]
    # an empty name is the readers' (unnamed) too: the same operation as a missing one
    assert sorted(operations(pd.concat([one, _two_spans(TID2, "").iloc[[1]]], ignore_index=True)).tolist()) == [
        "a:root", "b:(unnamed)", "b:(unnamed)"]


def test_diff_traces_does_not_match_an_unnamed_span_with_one_named_question_mark():
    d = tk.diff_traces(_two_spans(TID, None), _two_spans(TID2, "?"))
    assert sorted(zip(d["call_path"], d["status"], strict=True)) == [("a:root", "same"), ("a:root > b:(unnamed)", "removed"),
                                                        ("a:root > b:?", "added")]
    # the same missing name on both sides is one operation: matched
    d2 = tk.diff_traces(_two_spans(TID, None), _two_spans(TID2, None))
    assert sorted(d2["status"]) == ["same", "same"]


def test_spans_from_columns_names_a_missing_or_empty_name_as_the_readers_do():
    df = tk.spans_from_columns({"trace_id": [TID] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16],
                                "service": ["a"] * 3, "name": [None, "", "?"], "start": [0, 1, 2], "end": [5, 5, 5]})
    assert df["name"].tolist() == ["(unnamed)", "(unnamed)", "?"]
    # the OTLP reader's word for a span without a name (one definition)
    doc = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [
        {"traceId": TID, "spanId": "1" * 16, "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 1)}]}]}]}
    assert tk.read_otlp(json.dumps(doc).encode())["name"].tolist() == ["(unnamed)"]


# ----------------------------------------------------------------------------- a metric point at time 0


def _metrics_doc(kind: str, times: list) -> dict:
    def point(t):
        p = {"timeUnixNano": t, "attributes": [{"key": "k", "value": {"stringValue": "v"}}]}
        if kind == "histogram":
            p.update(count="2", sum=3.0, bucketCounts=["1", "1"], explicitBounds=[1.0])
        else:
            p["asDouble"] = 1.5
        return p

    data: dict = {"dataPoints": [point(t) for t in times]}
    if kind != "gauge":
        data["aggregationTemporality"] = 2
    return {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                                 "scopeMetrics": [{"metrics": [{"name": "cpu", kind: data}]}]}]}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "checked"])
@pytest.mark.parametrize("lines", [False, True], ids=["document", "json-lines"])
@pytest.mark.parametrize("kind", ["gauge", "sum", "histogram"])
def test_a_metric_point_at_time_zero_is_refused_as_an_absent_time_is(monkeypatch, fast, lines, kind):
    monkeypatch.setattr(metrics_io, "FAST", fast)
    doc = json.dumps(_metrics_doc(kind, [str(T0), "0", 0, str(T0 + 60_000_000_000)]))
    text = (doc + "\n" + doc + "\n" if lines else doc).encode()
    line = "line 1, " if lines else ""
    where = f"{line}resourceMetrics[0].scopeMetrics[0].metrics[0].{kind}.dataPoints[1]"
    with pytest.raises(TraceFormatError) as info:
        tk.read_metrics(text)
    assert info.value.record == where and "timeUnixNano is 0" in info.value.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_metrics(text, errors="skip")
    n_docs = 2 if lines else 1
    # the two points with a time load (per document), the two at 0 are listed where they are; none at 1970
    assert len(df) == 2 * n_docs and (df["time"] > pd.Timestamp("2000-01-01", tz="UTC")).all()
    assert len(df.attrs["skipped"]) == 2 * n_docs and df.attrs["skipped"][0].record == where
    assert all(s.record.endswith(("dataPoints[1]", "dataPoints[2]")) for s in df.attrs["skipped"])


# ----------------------------------------------------------------------------- tk.dask: integers beyond 64 bits

WIDE = 2**70 + 1  # a double cannot hold it: read through a float it would be 2**70


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as c, \
            distributed.Client(c) as client:
        yield client


def test_integers_beyond_64_bits_cross_the_dask_shuffle_exactly(cluster):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    spans = tk.spans_from_columns({
        "trace_id": [TID, TID2, TID], "span_id": ["1" * 16, "2" * 16, "3" * 16], "parent_id": [None, None, "1" * 16],
        "service": ["a", "b", "a"], "name": ["r", "r", "c"], "start": [0, 5, 1], "end": [10, 9, 4],
        "attributes": [{"n": WIDE, "m": [-(2**80), 1.5]}, {"u": 2**64 - 1, "i": -(2**63)}, {"x": float("nan")}],
        "resource": [{"r": 2**100}, {}, {}]})
    with dask.config.set({"dataframe.convert-string": False}):
        cut = dd.from_pandas(spans, npartitions=3, sort=False)  # trace TID cut across partitions
    out = tk.dask.keep_traces_whole(cut).compute()
    got = dict(zip(out["span_id"], out["attributes"], strict=True))
    assert got["1" * 16]["n"] == WIDE and type(got["1" * 16]["n"]) is int
    assert got["1" * 16]["m"] == [-(2**80), 1.5] and got["2" * 16] == {"u": 2**64 - 1, "i": -(2**63)}
    assert np.isnan(got["3" * 16]["x"])  # NaN still spelled out and back
    res = dict(zip(out["span_id"], out["resource"], strict=True))
    assert res["1" * 16] == {"r": 2**100}
    assert len(tk.dask.split_traces(tk.dask.keep_traces_whole(cut))) == 0
    # what cannot move exactly is still refused, naming the column and the value
    bad = spans.copy()
    bad["attributes"] = [{"t": (1, 2)}, {}, {}]
    with dask.config.set({"dataframe.convert-string": False}):
        cut_bad = dd.from_pandas(bad, npartitions=3, sort=False)
    with pytest.raises(tk.errors.TraceKitError, match=r"column 'attributes' .*tuple"):
        tk.dask.keep_traces_whole(cut_bad).compute()


# ----------------------------------------------------------------------------- X-Ray fast path: a key given twice

XTID = "1-5759e988-bd862e3fe1be46a994272793"


def _xseg(i: int, extra: str = "", **fields) -> str:
    """One X-Ray segment Document (a subsegment inside) as JSON text; ``extra`` is appended raw (a key again)."""
    d = {"id": f"{i:016x}", "trace_id": XTID, "name": "api", "start_time": 1.7e9, "end_time": 1.7e9 + 1,
         "subsegments": [{"id": f"{i + 100:016x}", "name": "db", "start_time": 1.7e9, "end_time": 1.7e9 + 0.5}],
         **fields}
    return json.dumps(d)[:-1] + extra + "}"


def _xpage(*docs: str) -> dict:
    return {"Traces": [{"Id": XTID, "Segments": [{"Id": str(j), "Document": d} for j, d in enumerate(docs)]}]}


@pytest.fixture
def xray_fast_on(monkeypatch):
    from tracekit.io import readers, xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", True)
    for k in xray_fast.STATS:
        monkeypatch.setitem(xray_fast.STATS, k, 0)
    opened = []  # one entry per read of a part (a file, the bytes, the parsed value): a second is the checked re-read
    real = readers.open_parts

    def counted(part):
        def read():
            opened.append(1)
            return part()
        return read

    def counting(*a, **k):
        b, parts = real(*a, **k)
        return b, map(counted, parts)

    monkeypatch.setattr(readers, "open_parts", counting)
    return opened


# the second value each identity key is given in the Document (different from _xseg's)
XSECOND = {"id": "00000000000000ff", "trace_id": "1-5759e988-0af7651916cd43dd8448eb21", "parent_id": "00000000000000aa",
           "start_time": 1.7e9 + 0.25, "end_time": 1.7e9 + 2, "name": "other"}


@pytest.mark.parametrize("form", ["bytes", "parsed", "file object", "json lines"])
@pytest.mark.parametrize("key", list(XSECOND))
def test_xray_fast_path_refuses_an_identity_key_given_twice_naming_record_and_key(xray_fast_on, form, key):
    import io

    bad = _xseg(2, f', "{key}": {json.dumps(XSECOND[key])}', **({"parent_id": "00000000000000ab"} if key == "parent_id"
                                                              else {}))
    page = _xpage(_xseg(1), bad, _xseg(3))
    text = json.dumps(page)
    src = {"bytes": lambda: text.encode(), "parsed": lambda: json.loads(text), "file object": lambda: io.BytesIO(text.encode()),
           "json lines": lambda: (json.dumps(_xpage(_xseg(7))) + "\n" + text + "\n").encode()}[form]
    where = ("line 2, " if form == "json lines" else "") + "Traces[0].Segments[1]"
    with pytest.raises(TraceFormatError) as info:
        tk.read_xray(src())
    assert info.value.record == where and f"key {key!r} is given 2 times with different values" in info.value.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray(src(), errors="skip")
    want = {f"{i:016x}" for i in (1, 3, 101, 103)} | ({f"{i:016x}" for i in (7, 107)} if form == "json lines" else set())
    assert set(df["span_id"]) == want  # the other Documents load, the bad one (and its subsegment) is listed
    assert [s.record for s in df.attrs["skipped"]] == [where]


def test_xray_fast_path_reads_once_when_no_key_is_repeated(xray_fast_on):
    # exceptions' ids in a cause and an annotation named 'name' are keys of the same names, counted as such: no second
    # read
    from tracekit.io import xray_fast

    cause = {"working_directory": "/app", "exceptions": [{"id": "e1", "message": "boom"}, {"id": "e2", "message": "x"}]}
    docs = [_xseg(1, fault=True, cause=cause), _xseg(2, annotations={"name": "n", "id": 3})]
    df = tk.read_xray(json.dumps(_xpage(*docs)).encode())
    assert len(xray_fast_on) == 1 and len(df) == 4 and xray_fast.STATS == {"fast": 2, "fallback": 0}
    assert df.set_index("span_id").loc["0000000000000002", "attributes"]["annotation.name"] == "n"
    # a key given twice with one value, an identity key's name inside metadata: the counts differ, so the traces
    # counted with them are walked again (checked; the source itself is read once): it loads, the same frame as
    # without the copy
    more = [_xseg(3, ', "name": "api", "id": "0000000000000003"'), _xseg(4, metadata={"default": {"id": 1, "name": "m"}})]
    df2 = tk.read_xray(json.dumps(_xpage(*docs, *more)).encode())
    assert len(xray_fast_on) == 2 and len(df2) == 8
    clean = tk.read_xray(json.dumps(_xpage(*docs, _xseg(3), more[1])).encode())
    cols = ["trace_id", "span_id", "parent_id", "name", "start", "end"]
    assert df2[cols].equals(clean[cols])
    assert df2.set_index("span_id").loc["0000000000000004", "attributes"]["metadata.default"] == {"id": 1, "name": "m"}


# ----------------------------------------------------------------------------- a key written with a space before its colon


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "checked"])
def test_xray_a_spaced_key_does_not_cancel_a_repeated_one(monkeypatch, fast):
    # Document 1 holds "id" twice (counted 2), Document 2 writes "id" : (JSON allows white space before a colon): a
    # count of '"id":' saw 2 where 2 segments hold an id, so the repeated key went unseen (both paths)
    from tracekit.io import xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", fast)
    bad = _xseg(1, ', "id": "00000000000000ff"')
    spaced = _xseg(2).replace('"id":', '"id" :', 1)
    assert '"id" :' in spaced and json.loads(spaced)["id"] == "0000000000000002"
    for src in (json.dumps(_xpage(bad, spaced)).encode(), ("[" + bad + ", " + spaced + "]").encode()):
        with pytest.raises(TraceFormatError, match="key 'id' is given 2 times with different values"):
            tk.read_xray(src)
    # the spaced key alone is a key like any other: it loads
    assert sorted(tk.read_xray(json.dumps(_xpage(_xseg(1), spaced)).encode())["span_id"])[:2] == [
        "0000000000000001", "0000000000000002"]


def test_otlp_checked_path_a_spaced_key_does_not_cancel_a_repeated_one(monkeypatch):
    from tracekit.io import otlp_fast

    monkeypatch.setattr(otlp_fast, "ENABLED", False)

    def span(sid: str, extra: str = "") -> str:
        return json.dumps({"traceId": TID, "spanId": sid * 16, "name": "op", "startTimeUnixNano": str(T0),
                           "endTimeUnixNano": str(T0 + 1000)})[:-1] + extra + "}"

    bad = span("1", f', "traceId": "{TID2}"')
    spaced = span("2").replace('"traceId":', '"traceId" :', 1)
    doc = ('{"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "lib"}, "spans": [' + bad + ", "
           + spaced + "]}]}]}")
    with pytest.raises(TraceFormatError, match="key 'traceId' is given 2 times with different values") as info:
        tk.read_otlp(doc.encode())
    assert info.value.record == "resourceSpans[0].scopeSpans[0].spans[0]"


# ----------------------------------------------------------------------------- read_logs: a key given twice


def _log_rec(i: int, extra: str = "") -> str:
    return json.dumps({"timeUnixNano": str(T0 + i), "observedTimeUnixNano": str(T0 + i + 1), "traceId": TID,
                       "spanId": f"{i:016x}", "body": {"stringValue": f"m{i}"}})[:-1] + extra + "}"


def _log_doc(*recs: str) -> str:
    return ('{"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},'
            ' "scopeLogs": [{"logRecords": [' + ", ".join(recs) + "]}]}]}")


LOG_SECOND = {"traceId": TID2, "spanId": "00000000000000ff", "timeUnixNano": str(T0 + 99),
              "observedTimeUnixNano": str(T0 + 98), "body": {"stringValue": "other"}}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "checked"])
@pytest.mark.parametrize("lines", [False, True], ids=["document", "json-lines"])
@pytest.mark.parametrize("key", list(LOG_SECOND))
def test_read_logs_refuses_an_identity_key_given_twice_naming_record_and_key(monkeypatch, fast, lines, key):
    from tracekit.io import logs

    monkeypatch.setattr(logs, "FAST_PATH", fast)
    bad = _log_rec(2, f', "{key}": {json.dumps(LOG_SECOND[key])}')
    if lines:
        text = "\n".join(_log_doc(r) for r in (_log_rec(1), bad, _log_rec(3))) + "\n"
        where = "line 2, resourceLogs[0].scopeLogs[0].logRecords[0]"
    else:
        text = _log_doc(_log_rec(1), bad, _log_rec(3))
        where = "resourceLogs[0].scopeLogs[0].logRecords[1]"
    with pytest.raises(TraceFormatError) as info:
        tk.read_logs(text.encode())
    assert info.value.record == where and f"key {key!r} is given 2 times with different values" in info.value.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_logs(text.encode(), errors="skip")
    assert df["body"].tolist() == ["m1", "m3"] and [s.record for s in df.attrs["skipped"]] == [where]


def test_read_logs_a_key_given_twice_with_one_value_loads_and_clean_files_stay_fast(monkeypatch):
    from tracekit.io import logs

    calls = []
    real = logs._fast

    def spy(data, name):
        out = real(data, name)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(logs, "_fast", spy)
    clean = _log_doc(_log_rec(1), _log_rec(2))
    twice = _log_doc(_log_rec(1), _log_rec(2, f', "traceId": "{TID}", "body": {{"stringValue": "m2"}}'))
    a, b = tk.read_logs(clean.encode()), tk.read_logs(twice.encode())
    assert calls == [True, False]  # the clean file on the fast path; the one holding a copy read by the checked walk
    cols = ["time", "observed_time", "trace_id", "span_id", "body"]
    assert a[cols].equals(b[cols])


# ----------------------------------------------------------------------------- glued objects {...}{...}


def _otlp_doc(extra: str = "", sid: str = "1") -> str:
    sp = json.dumps({"traceId": TID, "spanId": sid * 16, "name": "op", "startTimeUnixNano": str(T0),
                     "endTimeUnixNano": str(T0 + 1000),
                     "attributes": [{"key": "n", "value": {"intValue": "1"}}]})[:-1] + extra + "}"
    return '{"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [' + sp + "]}]}]}"


@pytest.mark.parametrize("pretty", [False, True], ids=["one line", "pretty-printed"])
def test_glued_objects_are_checked_for_repeated_keys_in_every_reader(pretty):
    # documents glued without a newline between them (`cat` of files without a final one), or pretty-printed
    # documents one after another, the second holding an identity key twice: refused naming the key, as the one
    # value and JSON lines are
    from tracekit.io import logs

    pairs = [
        (tk.read_otlp, _otlp_doc(sid="1") + _otlp_doc(f', "traceId": "{TID2}"', sid="2"), "traceId"),
        (tk.read_xray, _xseg(1) + _xseg(2, ', "id": "00000000000000ff"'), "id"),
        (tk.read_logs, _log_doc(_log_rec(1)) + _log_doc(_log_rec(2, f', "spanId": "{"e" * 16}"')), "spanId"),
    ]
    for read, text, key in pairs:
        if pretty:
            text = text.replace(", ", ",\n  ")
            assert text.count("\n") > 3
        for fast in (True, False):
            if read is tk.read_logs:
                logs.FAST_PATH = fast
            try:
                with pytest.raises(TraceFormatError, match=f"key '{key}' is given 2 times with different values"):
                    read(text.encode())
            finally:
                logs.FAST_PATH = True


def test_glued_objects_keep_integers_beyond_64_bits():
    wide = 2**70 + 1
    a = _xseg(1, annotations={"n": 1})
    b = _xseg(2).replace('"name": "api"', f'"name": "api", "metadata": {{"m": {{"big": {wide}}}}}')
    df = tk.read_xray((a + b).encode())
    got = df.set_index("span_id").loc["0000000000000002", "attributes"]["metadata.m"]
    assert got == {"big": wide} and type(got["big"]) is int
