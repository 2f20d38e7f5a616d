"""write_otlp_logs / write_otlp_metrics: the readers give back what was written.

Round trips on frames built by ``logs_from_columns`` / ``metrics_from_columns`` (every kind, missing values, every
attribute type, several resources and small batches so rows are regrouped per line) and on the real OTLP examples
read in place; the files' shape (one resource per (service, host) and line, at most ``batch`` rows a line, gzip,
same bytes twice); hostile values named by row.
"""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError, TraceKitError
from tracekit.logs_schema import LOG_COLUMN_NAMES
from tracekit.metrics_schema import METRIC_COLUMN_NAMES

NOT_CARRIED = ("source", "source_file", "source_record")  # where a row was read from


def _same(a: pd.DataFrame, b: pd.DataFrame, columns) -> None:
    """Equal on every column but where rows were read from, rows matched by their attribute ``i``."""
    a = a.assign(_i=a["attributes"].map(lambda d: d.get("i"))).sort_values("_i", kind="stable").reset_index(drop=True)
    b = b.assign(_i=b["attributes"].map(lambda d: d.get("i"))).sort_values("_i", kind="stable").reset_index(drop=True)
    cols = [c for c in columns if c not in NOT_CARRIED]
    # a reader's dict and list columns may be lazy (tracekit.io.containers): compared cell by cell as plain objects
    a, b = (x[cols].astype({c: object for c in cols if str(x[c].dtype) == "tracekit.lazy"}) for x in (a, b))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def _with_keys(res: dict, service, host, host_in) -> dict:
    """The resource a reader gives back: the writer names the service and the host the columns say, where the
    resource does not say them already (``host_in``: the host a reader reads from resource attributes)."""
    out = dict(res)
    if service is not None and service != "unknown_service":
        out["service.name"] = service
    if host is not None and host_in(res) != host:
        out["host.name"] = host
    return out


def _log_host(res: dict):
    return res.get("host.name") or res.get("k8s.pod.name")


# --- logs ------------------------------------------------------------------------------------------

def _logs(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    services = np.array(["cart", "payments", None], dtype=object)[rng.integers(0, 3, n)]
    hosts = np.array(["h-1", "h-2", None], dtype=object)[rng.integers(0, 3, n)]
    scope = {"otel.scope.name": "app.logger", "otel.scope.version": "2.1", "otel.scope.attr.team": "shop"}
    # (bytes are not here: readers give a bytesValue as its base64 text, as the spans reader does)
    values = [1, -2**63, 2**63 - 1, 0.5, float("inf"), True, "text", "", [1, "a", None], {"k": {"n": [1.5]}}]
    res = [{**(scope if i % 3 == 0 else {}), **({"k8s.pod.name": h} if h and i % 4 == 1 else {}),
            "deployment.environment": "prod"} for i, h in enumerate(hosts)]
    attrs = [{"i": i, "v": values[i % len(values)], **({"event.name": "app.checkout"} if i % 7 == 0 else {})}
             for i in range(n)]
    t0 = 1_700_000_000_123_456_789
    logs = tk.logs_from_columns({
        "time": np.arange(n, dtype=np.int64) * 1_000_003 + t0,
        "observed_time": [None if i % 5 == 0 else t0 + i * 2_000_000 + 7 for i in range(n)],
        "body": [None if i % 9 == 0 else f"line {i} ünïcode \"quoted\" \n tab\t" for i in range(n)],
        "severity_text": [None if i % 6 == 0 else ["INFO", "WARN", "ERROR", "DEBUG", "FATAL"][i % 5] for i in range(n)],
        "severity_number": [None if i % 6 == 0 else [10, 13, 17, 5, 24][i % 5] for i in range(n)],
        "trace_id": [None if i % 8 == 0 else f"{i:032x}" for i in range(n)],
        "span_id": [None if i % 8 < 2 else f"{i + 1:016x}" for i in range(n)],
        "service": services, "host": hosts, "attributes": attrs, "resource": res})
    # what the reader sees as the resource: the writer names service and host (it carries them there)
    logs["resource"] = [_with_keys(r, s, h, _log_host) for r, s, h in zip(res, services, hosts, strict=True)]
    return logs


@pytest.mark.parametrize("batch", [1, 7, 512])
def test_logs_round_trip(tmp_path, batch):
    logs = _logs()
    back = tk.read_logs(tk.write_otlp_logs(logs, tmp_path / "logs.jsonl.gz", batch=batch))
    _same(logs, back, LOG_COLUMN_NAMES)
    assert back["attributes"].map(lambda d: d.get("event.name")).notna().sum() == 6  # eventName, back as attribute


def test_logs_file_shape_is_a_collector_export(tmp_path):
    logs = _logs()
    p = tk.write_otlp_logs(logs, tmp_path / "logs.jsonl.gz", batch=16)
    raw = p.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and tk.write_otlp_logs(logs, tmp_path / "again.jsonl.gz", batch=16).read_bytes() == raw
    lines = [json.loads(x) for x in gzip.decompress(raw).decode().splitlines()]
    assert len(lines) == 3  # 40 records, 16 a line
    for line in lines:  # one resource per (service, host, resource attributes) in a line, records in row order
        keys = [json.dumps(rl["resource"]["attributes"], sort_keys=True) for rl in line["resourceLogs"]]
        assert len(keys) == len(set(keys))
        for sl in (sl for rl in line["resourceLogs"] for sl in rl["scopeLogs"]):  # records of a scope in row order
            i = [int(next(kv["value"]["intValue"] for kv in r["attributes"] if kv["key"] == "i")) for r in sl["logRecords"]]
            assert i and i == sorted(i)
    n = sum(len(sl["logRecords"]) for line in lines for rl in line["resourceLogs"] for sl in rl["scopeLogs"])
    assert n == len(logs) and [sum(len(sl["logRecords"]) for rl in x["resourceLogs"] for sl in rl["scopeLogs"])
                               for x in lines] == [16, 16, 8]


def test_one_resource_per_service_and_host(tmp_path):
    logs = tk.logs_from_columns({"time": np.arange(6), "body": list("abcdef"),
                                 "service": ["a", "b", "a", "b", "a", "a"], "host": ["1", "1", "1", "1", "1", "2"]})
    line = json.loads((tk.write_otlp_logs(logs, tmp_path / "l.jsonl")).read_text())
    got = [({kv["key"]: kv["value"]["stringValue"] for kv in rl["resource"]["attributes"]},
            [r["body"]["stringValue"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]) for rl in line["resourceLogs"]]
    assert got == [({"service.name": "a", "host.name": "1"}, ["a", "c", "e"]),
                   ({"service.name": "b", "host.name": "1"}, ["b", "d"]), ({"service.name": "a", "host.name": "2"}, ["f"])]


@pytest.mark.parametrize("name", ["logs.json", "events.json"])
def test_logs_round_trip_on_the_real_examples(tmp_path, real_traces, name):
    logs = tk.read_logs(real_traces / "opentelemetry-proto" / name)
    back = tk.read_logs(tk.write_otlp_logs(logs, tmp_path / "l.jsonl"))
    assert len(back) == len(logs) >= 1
    _same(logs.assign(attributes=logs["attributes"].map(lambda d: {**d, "i": 0})),
          back.assign(attributes=back["attributes"].map(lambda d: {**d, "i": 0})), LOG_COLUMN_NAMES)


# --- metrics ---------------------------------------------------------------------------------------

def _metrics() -> pd.DataFrame:
    t0 = 1_700_000_000_000_000_000
    rows = []
    svc = ["cart", "payments", "unknown_service"]
    for i in range(30):
        kind = ["gauge", "sum", "sum", "histogram", "summary", "gauge"][i % 6]
        s, h = svc[i % 3], [None, "h-1", "pod-7"][i % 3]
        res = {"deployment.environment": "prod", **({"k8s.pod.name": "pod-7"} if h == "pod-7" else {}),
               **({"otel.scope.name": "meter", "otel.scope.version": "1", "otel.scope.attr.x": 3} if i % 2 else {})}
        r = {"time": t0 + i * 10**10, "start_time": None if kind == "gauge" else t0, "kind": kind,
             "name": {"gauge": "process.cpu.utilization", "sum": "requests", "histogram": "http.server.request.duration",
                      "summary": "gc.pause"}[kind] + ("" if i % 5 else ".b"),
             "unit": None if i % 4 == 0 else "1", "description": None if i % 3 else "d",
             "temporality": {"sum": ["delta", "cumulative"][i % 2], "histogram": "delta"}.get(kind),
             "monotonic": (i % 4 < 2) if kind == "sum" else None,
             "value": {"gauge": [0.25, 3.0, float("nan"), -1e300][i % 4], "sum": float(i * 7)}.get(kind, np.nan),
             "count": np.nan, "sum": np.nan, "min": np.nan, "max": np.nan, "buckets": None, "quantiles": None,
             "service": s, "host": h, "attributes": {"i": i, "route": "/cart"},
             "exemplars": [], "flags": 1 if i % 11 == 0 else None}
        if kind == "histogram":
            r.update(count=6.0, sum=0.9, min=0.01, max=0.5,
                     buckets={"bounds": [0.005, 0.1, 1.0], "counts": [0, 4, 2, 0]},
                     exemplars=[{"time": t0 + 5, "value": 0.5, "trace_id": "ab" * 16, "span_id": "cd" * 8,
                                 "attributes": {"user": "u1"}}])
        if kind == "summary":
            r.update(count=3.0, sum=12.0, quantiles={0.5: 3.0, 0.99: 7.5})
        if i == 27:  # a histogram with no buckets: count and sum only
            r.update(buckets={"bounds": [], "counts": []}, min=np.nan, max=np.nan)
        r["resource"] = _with_keys(res, s, h, tk.core.host_of)
        rows.append(r)
    return tk.metrics_from_columns({k: [r[k] for r in rows] for k in rows[0]})


@pytest.mark.parametrize("batch", [1, 4, 512])
def test_metrics_round_trip(tmp_path, batch):
    m = _metrics()
    assert set(m["kind"]) == {"gauge", "sum", "histogram", "summary"}
    back = tk.read_metrics(tk.write_otlp_metrics(m, tmp_path / "m.jsonl.gz", batch=batch))
    _same(m, back, METRIC_COLUMN_NAMES)


def test_metrics_round_trip_on_the_real_example(tmp_path, real_traces):
    m = tk.read_metrics(real_traces / "opentelemetry-proto" / "metrics.json")
    assert "exponential_histogram" in set(m["kind"])
    back = tk.read_metrics(tk.write_otlp_metrics(m, tmp_path / "m.jsonl"))
    _same(m, back, METRIC_COLUMN_NAMES)  # the points' own attributes differ: no tie for the sort


def test_metrics_lines_group_points_into_metrics(tmp_path):
    m = tk.metrics_from_columns({"time": np.arange(1, 7) * 10**9, "name": ["cpu", "cpu", "lat", "cpu", "cpu", "cpu"],
                                 "value": [0.5, 0.25, 3.0, 1.0, 2.0, 4.0], "service": ["a"] * 6,
                                 "host": ["1", "1", "1", "2", "2", "1"]})
    lines = (tk.write_otlp_metrics(m, tmp_path / "m.jsonl", batch=4)).read_text().splitlines()
    first, second = (json.loads(x)["resourceMetrics"] for x in lines)
    got = [[(x["name"], [p.get("asDouble", p.get("asInt")) for p in x["gauge"]["dataPoints"]])
            for sm in rm["scopeMetrics"] for x in sm["metrics"]] for rm in first]
    assert got == [[("cpu", [0.5, 0.25]), ("lat", ["3"])], [("cpu", ["1"])]]  # a metric of whole numbers: asInt
    assert [[x["name"] for sm in rm["scopeMetrics"] for x in sm["metrics"]] for rm in second] == [["cpu"], ["cpu"]]


# --- hostile ---------------------------------------------------------------------------------------

def test_bad_input_is_named(tmp_path):
    logs = tk.logs_from_columns({"time": [0, 1], "body": ["a", "b"], "attributes": [{}, {"big": 2**70}]})
    bad = logs.assign(severity_number=pd.array([None, 99], dtype="Int64"))
    with pytest.raises(TraceKitError, match=r"write_otlp_logs: row 1: severity_number"):
        tk.write_otlp_logs(bad, tmp_path / "l.jsonl")
    # an integer beyond 64 bits, which the readers read exactly, is written as read (session 36: it was refused)
    assert tk.read_logs(tk.write_otlp_logs(logs, tmp_path / "l.jsonl"))["attributes"].tolist() == [{}, {"big": 2**70}]
    with pytest.raises(ArgumentError, match="batch"):
        tk.write_otlp_logs(logs.iloc[:1], tmp_path / "l.jsonl", batch=0)
    with pytest.raises(tk.LogsSchemaError, match="missing columns: body"):
        tk.write_otlp_logs(logs.drop(columns="body"), tmp_path / "l.jsonl")
    # (times after 1970-01-01 00:00:00: a point at that instant is refused first, since session 43)
    m = tk.metrics_from_columns({"time": ["2024-01-01", "2024-01-02"], "name": "h", "kind": "histogram", "count": [1.0, 2.0],
                                 "buckets": [{"bounds": [1.0], "counts": [1, 0]}, {"bounds": [1.0], "counts": [2]}]},
                                check=False)  # (metrics_from_columns refuses it: a frame edited by hand)
    with pytest.raises(TraceKitError, match=r"write_otlp_metrics: row 1: buckets have 1 counts for 1 bounds"):
        tk.write_otlp_metrics(m, tmp_path / "m.jsonl")
    e = tk.metrics_from_columns({"time": ["2024-01-01"], "name": "e", "kind": "exponential_histogram", "count": [1.0],
                                 "buckets": [{"bounds": [1.0, 3.0], "counts": [0, 1, 0], "scale": 0, "zero_count": 0,
                                              "zero_threshold": 0.0}]}, check=False)
    with pytest.raises(TraceKitError, match=r"row 0: exponential histogram bucket \(1.0, 3.0\] of scale 0 is not a bucket"):
        tk.write_otlp_metrics(e, tmp_path / "m.jsonl")
    old = tk.logs_from_columns({"time": ["2024-01-01", "2024-01-02"], "body": ["a", "b"]})
    old.loc[1, "time"] = pd.Timestamp("1969-12-31", tz="UTC")  # (logs_from_columns refuses it: edited by hand)
    with pytest.raises(TraceKitError, match="write_otlp_logs: row 1: time 1969-12-31 00:00:00[+]00:00 is before 1970"):
        tk.write_otlp_logs(old, tmp_path / "l.jsonl")
    early = tk.metrics_from_columns({"time": [0], "start_time": [0], "name": "c", "kind": "sum"})
    early.loc[0, "start_time"] = pd.Timestamp(-5, tz="UTC")  # (metrics_from_columns refuses it: edited by hand)
    with pytest.raises(TraceKitError, match="write_otlp_metrics: row 0: start_time .* is before 1970"):
        tk.write_otlp_metrics(early, tmp_path / "m.jsonl")
    with pytest.raises(tk.MetricsSchemaError):
        tk.write_otlp_metrics(pd.DataFrame({"time": [0]}), tmp_path / "m.jsonl")
