"""read_metrics' typed fast path (msgspec Structs over JSON lines / documents) against the checked walk.

Every case is read twice — fast path on, and ``tracekit.io.metrics.FAST = False`` (the checked
walk point by point) — in both error modes: the frames, ``attrs["skipped"]`` and
``attrs["ignored"]`` must be equal, or both raise the same TraceFormatError. Cases are written
here (good lines around a hostile one) and the real OTLP example file.
"""

from __future__ import annotations

import base64
import gzip
import json
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracekit as tk
import tracekit.io.metrics as M
from tracekit.errors import TraceFormatError
from tracekit.io.containers import LazyColumn

T0 = 1_700_000_000_000_000_000


def _kv(k: str, v: object) -> dict:
    if isinstance(v, str):
        return {"key": k, "value": {"stringValue": v}}
    return {"key": k, "value": {"intValue": str(v)}}


def _line(metrics: list[dict], service: str = "api", host: str | None = "pod-1") -> dict:
    res = [_kv("service.name", service)] + ([_kv("k8s.pod.name", host)] if host else [])
    return {"resourceMetrics": [{"resource": {"attributes": res},
                                 "scopeMetrics": [{"scope": {"name": "lib", "version": "1.0",
                                                             "attributes": [_kv("sa", "x")]},
                                                   "metrics": metrics}]}]}


def _gauge(i: int = 0, **point: object) -> dict:
    p = {"timeUnixNano": str(T0 + i), "asDouble": 0.5 + i, "attributes": [_kv("route", f"/r{i}"), _kv("code", 200)]}
    p.update(point)
    return {"name": "cpu", "unit": "1", "description": "cpu use", "gauge": {"dataPoints": [p]}}


def _sum(i: int = 0, temporality: object = 2, monotonic: object = True, **point: object) -> dict:
    p = {"startTimeUnixNano": str(T0), "timeUnixNano": str(T0 + i), "asInt": str(100 + i), "flags": 0}
    p.update(point)
    return {"name": "requests", "unit": "{request}", "sum": {"aggregationTemporality": temporality,
                                                             "isMonotonic": monotonic, "dataPoints": [p]}}


def _exemplar(i: int = 0, **kw: object) -> dict:
    e = {"timeUnixNano": str(T0 - 5), "asDouble": 17.0, "traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}"}
    e.update(kw)
    return e


def _hist(i: int = 0, exemplars: list | None = None, **point: object) -> dict:
    p = {"startTimeUnixNano": str(T0), "timeUnixNano": str(T0 + i), "count": "6", "sum": 12.5, "min": 0.5,
         "max": 9.0, "bucketCounts": ["1", "2", "3"], "explicitBounds": [1, 2.5],
         "exemplars": [_exemplar(i)] if exemplars is None else exemplars}
    p.update(point)
    return {"name": "latency", "unit": "ms", "histogram": {"aggregationTemporality": 2, "dataPoints": [p]}}


def _exp(i: int = 0, **point: object) -> dict:
    p = {"startTimeUnixNano": str(T0), "timeUnixNano": str(T0 + i), "count": "3", "sum": 4.5, "scale": 1,
         "zeroCount": "1", "positive": {"offset": 0, "bucketCounts": ["1", "1"]}}
    p.update(point)
    return {"name": "e", "unit": "ms", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [p]}}


def _summary(i: int = 0, **point: object) -> dict:
    p = {"startTimeUnixNano": str(T0), "timeUnixNano": str(T0 + i), "count": "2", "sum": 3.0,
         "quantileValues": [{"quantile": 0.5, "value": 1.5}, {"quantile": 0.99, "value": 2.0}]}
    p.update(point)
    return {"name": "s", "summary": {"dataPoints": [p]}}


def _good(i: int) -> dict:
    return _line([_gauge(i), _sum(i), _hist(i)], service=f"svc-{i % 2}")


def _lines(*docs: object, compact: bool = False) -> bytes:
    """JSON lines; ``compact``: without spaces, as collectors write them (and orjson.dumps)."""
    sep = (",", ":") if compact else None
    return b"\n".join(d if isinstance(d, bytes) else json.dumps(d, separators=sep).encode() for d in docs) + b"\n"


def _read(data: object, errors: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """The frame (or the error) of read_metrics, the fast path on or off."""
    monkeypatch.setattr(M, "FAST", fast)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return tk.read_metrics(data, errors=errors)
        except TraceFormatError as e:
            return e


LAZY = ("attributes", "resource", "exemplars", "buckets")


def _plain(fast: pd.DataFrame, checked: pd.DataFrame) -> pd.DataFrame:
    """``fast`` with its lazy columns as object columns, after checking that their key reads (no
    cell built) and then their cells are the checked walk's dicts and lists."""
    for c in LAZY:
        arr = fast[c].array
        if not isinstance(arr, LazyColumn):
            continue
        if c in ("attributes", "resource"):
            keys = {k for d in checked[c] for k in d}
            for k in sorted(keys) + ["absent.key"]:
                vals, has = arr.key_values(k)
                assert repr(vals) == repr([d.get(k) for d in checked[c]]), (c, k)  # (repr: NaN equals NaN)
                assert has.tolist() == [k in d for d in checked[c]], (c, k)
        assert arr.isna().tolist() == [v is None for v in checked[c]], c
        assert repr(arr.to_numpy().tolist()) == repr(checked[c].tolist()), c
    return fast.astype({c: object for c in LAZY})


def _same(data: object, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Both paths read ``data`` alike in both error modes; the fast one's results by mode."""
    out = {}
    for errors in ("raise", "skip"):
        fast = _read(data, errors, True, monkeypatch)
        checked = _read(data, errors, False, monkeypatch)
        if isinstance(checked, TraceFormatError):
            assert isinstance(fast, TraceFormatError), f"{errors}: fast path read what the checked walk refuses"
            assert str(fast) == str(checked)
        else:
            assert not isinstance(fast, TraceFormatError), f"{errors}: {fast}"
            pd.testing.assert_frame_equal(_plain(fast, checked), checked)
            assert fast.attrs["skipped"] == checked.attrs["skipped"]
            assert fast.attrs["ignored"] == checked.attrs["ignored"]
        out[errors] = fast
    return out


@pytest.mark.parametrize("family", ["gauge", "sum", "histogram"])
@pytest.mark.parametrize("points", [1, 2, 5])
def test_lines_of_one_point_family_take_the_fast_path(family, points, monkeypatch):
    """A batch of one family (every line gauges, say) is read by the typed path, not by the checked walk
    (its attributes column came as a tuple, taken for (joined bytes, lengths): every such batch fell back)."""
    make = {"gauge": _gauge, "sum": _sum, "histogram": _hist}[family]
    metric = make(0)
    data = metric[family]
    data["dataPoints"] = [make(i)[family]["dataPoints"][0] for i in range(points)]
    before = dict(M.STATS)
    got = _same(_lines(_line([metric]), _line([metric], service="web")), monkeypatch)["raise"]
    assert M.STATS["fallback"] == before["fallback"] and M.STATS["fast"] - before["fast"] >= 2
    assert len(got) == 2 * points and got["service"].tolist() == ["api"] * points + ["web"] * points


def test_common_lines_take_the_fast_path_and_read_as_the_checked_walk(monkeypatch):
    data = _lines(*(_good(i) for i in range(4)))
    before = dict(M.STATS)
    got = _same(data, monkeypatch)["raise"]
    assert M.STATS["fast"] - before["fast"] >= 4 and M.STATS["fallback"] == before["fallback"]
    assert len(got) == 12
    assert got["kind"].tolist()[:3] == ["gauge", "sum", "histogram"]
    assert got["value"].tolist()[:2] == [0.5, 100.0]
    h = got.iloc[2]
    assert h["buckets"] == {"bounds": [1.0, 2.5], "counts": [1, 2, 3]} and h["count"] == 6.0
    assert h["exemplars"] == [{"time": T0 - 5, "value": 17.0, "trace_id": f"{1:032x}", "span_id": f"{1:016x}",
                               "attributes": {}}]
    assert got["attributes"].iloc[0] == {"route": "/r0", "code": 200}
    assert got["resource"].iloc[0]["otel.scope.attr.sa"] == "x"
    assert got["service"].tolist()[3] == "svc-1" and got["host"].iloc[0] == "pod-1"


B64_TRACE = base64.b64encode(bytes.fromhex("0af7651916cd43dd8448eb211c80319c")).decode()

HOSTILE = {
    # exemplars the column-wise gathering does not take: each one by one, as the checked walk does
    "upper-case ids": _hist(exemplars=[_exemplar(traceId="AB" * 16, spanId="CD" * 8)]),
    "all-zero ids": _hist(exemplars=[_exemplar(traceId="0" * 32, spanId="0" * 16)]),
    "base64 ids": _hist(exemplars=[_exemplar(traceId=B64_TRACE, spanId="AAAAAAAAAAE=")]),
    "exemplar without time or ids": _hist(exemplars=[{"asInt": "3"}]),
    "two exemplars and none": _line([_hist(0, exemplars=[_exemplar(1), _exemplar(2)]), _hist(1, exemplars=[])]),
    "exemplar attributes": _hist(exemplars=[_exemplar(filteredAttributes=[_kv("user", "u1")])]),
    "exemplar time beyond int64": _hist(exemplars=[_exemplar(timeUnixNano="9" * 19)]),
    "exemplar bad trace id": _hist(exemplars=[_exemplar(traceId="xyz")]),
    # values and times
    "null value": _gauge(asDouble=None),
    "value absent": {"name": "cpu", "gauge": {"dataPoints": [{"timeUnixNano": str(T0)}]}},
    "asDouble NaN text": _gauge(asDouble="NaN"),
    "asDouble Infinity text": _gauge(asDouble="-Infinity"),
    "asDouble integer text": _gauge(asDouble="12"),
    "asDouble other text": _gauge(asDouble="1.5"),
    "negative asInt": _sum(asInt="-5"),
    "asInt not an integer": _sum(asInt="abc"),
    "asInt a float": _sum(asInt=1.5),
    "asInt a bool": _sum(asInt=True),
    "time not digits": _gauge(timeUnixNano="12x"),
    "time beyond int64": _gauge(timeUnixNano="9" * 20),
    "negative time": _gauge(timeUnixNano=-1),
    "no time": _gauge(timeUnixNano=None),
    "null start time": _sum(startTimeUnixNano=None),
    "flags negative": _sum(flags=-1),
    "flags a bool": _sum(flags=True),
    # histograms
    "counts do not add up": _hist(count="7"),
    "bounds not increasing": _hist(explicitBounds=[2.5, 1]),
    "too few bucket counts": _hist(bucketCounts=["1", "5"]),
    "bucket counts as numbers": _hist(bucketCounts=[1, 2, 3], count=6),
    "bucket counts mixed": _hist(bucketCounts=[1, "2", 3]),
    "bucket count negative": _hist(bucketCounts=["1", "-2", "7"]),
    "no count": _hist(count=None),
    "no buckets": _hist(bucketCounts=[], explicitBounds=[]),
    "bounds vary by point": {"name": "latency", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        _hist(0)["histogram"]["dataPoints"][0], _hist(1, bucketCounts=["6", "0"], explicitBounds=[4])["histogram"]["dataPoints"][0],
        _hist(2, bucketCounts=[])["histogram"]["dataPoints"][0]]}},
    "second point's bounds not increasing": {"name": "latency", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        _hist(0)["histogram"]["dataPoints"][0], _hist(1, explicitBounds=[3, 3])["histogram"]["dataPoints"][0]]}},
    "sum as text": _hist(sum="NaN"),
    "null sum": _hist(sum=None),
    "null max": _hist(max=None),
    "null flags": _sum(flags=None),
    # metrics
    "no name": {"gauge": {"dataPoints": []}},
    "gauge and sum": {"name": "x", "gauge": {"dataPoints": []}, "sum": {"dataPoints": []}},
    "temporality by name": _sum(temporality="AGGREGATION_TEMPORALITY_DELTA"),
    "temporality out of range": _sum(temporality=5),
    "monotonic not a bool": _sum(monotonic="yes"),
    "unknown key in a point": _gauge(extra=1),
    "exponential histogram": _exp(),
    "summary": _summary(),
    "empty data points": {"name": "x", "gauge": {"dataPoints": []}},
    # exponential histograms and summaries (read by the fast path too)
    "exp negative and zero buckets": _exp(count="6", zeroThreshold=0.5, zeroCount="2",
                                          negative={"offset": -1, "bucketCounts": ["1", "1", "0"]}),
    "exp zero threshold 0": _exp(count="5", zeroCount="2", negative={"bucketCounts": [1]}),
    "exp null sides": _exp(count="1", positive=None, negative=None),
    "exp no counts": _exp(count="1", positive={"offset": 3}),
    "exp scale out of range": _exp(scale=21),
    "exp negative scale": _exp(scale=-2),
    "exp offset a float": _exp(positive={"offset": 1.5, "bucketCounts": ["1", "1"]}),
    "exp counts do not add up": _exp(count="9"),
    "exp no count": _exp(count=None),
    "exp zero threshold text": _exp(zeroThreshold="NaN"),
    "exp exemplar and min/max": _exp(min=0.1, max=3.0, exemplars=[_exemplar(4)]),
    "summary quantile out of range": _summary(quantileValues=[{"quantile": 1.5, "value": 1.0}]),
    "summary quantile as text": _summary(quantileValues=[{"quantile": "0.5", "value": 1.0}]),
    "summary no sum or quantiles": _summary(sum=None, quantileValues=None),
    "summary count absent": _summary(count=None),
    "summary null quantile": _summary(quantileValues=[None]),
    # the joined-text reading of bucket counts and times
    "bucket count with a comma": _hist(bucketCounts=["1,2", "3"], explicitBounds=[1], count="6"),
    "bucket count a fullwidth digit": _hist(bucketCounts=["1", "2", "\uff13"]),
    "bucket count with a bar": _hist(bucketCounts=["1|2", "3"], explicitBounds=[1], count="6"),
    "bucket count beyond int64": _hist(bucketCounts=["1", "2", "9" * 19], count=str(3 + int("9" * 19))),
    "bucket count at 2^40": _hist(bucketCounts=["1", "2", str(2**40)], count=str(3 + 2**40)),
    "bucket count empty text": _hist(bucketCounts=["1", "", "5"]),
    "bucket counts a text": _hist(bucketCounts="123", count="6"),  # not split into digits
    "bucket counts a number": _hist(bucketCounts=0),
    "bucket counts empty text": _hist(bucketCounts=""),
    "bucket counts an object": _hist(bucketCounts={"a": "6"}),
    "bucket counts a number and a nested list": {"name": "latency", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        _hist(0, bucketCounts=5, count="5", explicitBounds=[])["histogram"]["dataPoints"][0],
        _hist(1, bucketCounts=[[1]], count="1", explicitBounds=[])["histogram"]["dataPoints"][0]]}},
    "bucket counts a text and a nested list": {"name": "latency", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        _hist(0, bucketCounts="5", count="5", explicitBounds=[])["histogram"]["dataPoints"][0],
        _hist(1, bucketCounts=[[1]], count="1", explicitBounds=[])["histogram"]["dataPoints"][0]]}},
    "bounds a text": _hist(explicitBounds="12"),
    "bounds a number": _hist(explicitBounds=0, bucketCounts=["6"]),
    "asDouble a list": _gauge(asDouble=[1.0]),
    "asDouble a text": _gauge(asDouble="1.5"),
    "attributes a text": _gauge(attributes="ab"),
    "exemplars a text": _gauge(exemplars="ab"),
    "exemplars a number": _gauge(exemplars=0),
    "flags a text": _sum(flags="1"),
    "time a list": _gauge(timeUnixNano=[str(T0)]),
    "bucket counts unequal lengths": {"name": "latency", "histogram": {"aggregationTemporality": 2, "dataPoints": [
        _hist(0)["histogram"]["dataPoints"][0],
        _hist(1, bucketCounts=["6", "0", "0", "0"], explicitBounds=[1, 2, 3])["histogram"]["dataPoints"][0],
        _hist(2, bucketCounts=[], count="0")["histogram"]["dataPoints"][0]]}},
    "time a JSON number": _gauge(timeUnixNano=T0 + 7),
    "times number and text": {"name": "cpu", "gauge": {"dataPoints": [
        _gauge(1, timeUnixNano=T0 + 1)["gauge"]["dataPoints"][0], _gauge(2)["gauge"]["dataPoints"][0]]}},
    "time at int64 max": _gauge(timeUnixNano=str(2**63 - 1)),
    "time with a sign": _gauge(timeUnixNano="+12"),
    "time of 20 digits": _gauge(timeUnixNano="0" + str(T0)),
    "exemplar time of 20 digits": _hist(exemplars=[_exemplar(timeUnixNano="0" + str(T0))]),
    "start time of 20 digits": _sum(startTimeUnixNano="0" + str(T0)),
    "start time empty": _sum(startTimeUnixNano=""),
    "start time with a comma": _sum(startTimeUnixNano=f"{T0},{T0}"),
    "start times differ by point": {"name": "requests", "sum": {"aggregationTemporality": 2, "dataPoints": [
        _sum(0)["sum"]["dataPoints"][0], _sum(1, startTimeUnixNano=str(T0 + 5))["sum"]["dataPoints"][0],
        _sum(2, startTimeUnixNano=T0 + 9)["sum"]["dataPoints"][0]]}},
    "asInt of leading zeros": _sum(asInt="0" * 30 + "7"),
    "asInt at int64 min": _sum(asInt=str(-(2**63))),
    "asInt minus alone": _sum(asInt="-"),
    "asInt a long text": _sum(asInt="1" * 25),
    "asDouble and asInt": _gauge(asInt="4"),
    "start time on a gauge": _gauge(startTimeUnixNano=str(T0 - 1)),
    "all-zero ids among others": _line([_hist(0, exemplars=[_exemplar(traceId="0" * 32, spanId="0" * 16)]), _hist(1)]),
    "nested attribute values": _gauge(attributes=[{"key": "tags", "value": {"arrayValue": {"values": [
        {"stringValue": "a"}, {"intValue": "2"}]}}}, {"key": "m", "value": {"kvlistValue": {"values": [_kv("k", "v")]}}}]),
    "null attributes": _gauge(attributes=None),
    # resources (decoded once per distinct text for a read)
    "resource null": {"resourceMetrics": [{"resource": None, "scopeMetrics": [{"metrics": [_gauge(5)]}]}]},
    "resource a list": {"resourceMetrics": [{"resource": [], "scopeMetrics": [{"metrics": [_gauge(5)]}]}]},
    "resource unknown key": {"resourceMetrics": [{"resource": {"attributes": [_kv("service.name", "api")], "x": 1},
                                                  "scopeMetrics": [{"metrics": [_gauge(5)]}]}]},
    "resource attribute without value": {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name"}]},
                                                              "scopeMetrics": [{"metrics": [_gauge(5)]}]}]},
    "resource attributes null": {"resourceMetrics": [{"resource": {"attributes": None}, "scopeMetrics": [{"metrics": [_gauge(5)]}]}]},
    "scope null": {"resourceMetrics": [{"scopeMetrics": [{"scope": None, "metrics": [_gauge(5)]}]}]},
    "scope unknown key": {"resourceMetrics": [{"scopeMetrics": [{"scope": {"name": "x", "y": 1}, "metrics": [_gauge(5)]}]}]},
    "scope name a number": {"resourceMetrics": [{"scopeMetrics": [{"scope": {"name": 5}, "metrics": [_gauge(5)]}]}]},
    "scope attribute nested": {"resourceMetrics": [{"scopeMetrics": [{"scope": {"name": "x", "attributes": [
        {"key": "k", "value": {"kvlistValue": {"values": [_kv("a", "b")]}}}]}, "metrics": [_gauge(5)]}]}]},
    "two scopes of one resource": {"resourceMetrics": [{"resource": {"attributes": [_kv("service.name", "api")]},
        "scopeMetrics": [{"scope": {"name": "a"}, "metrics": [_gauge(5)]}, {"scope": {"name": "b", "version": "2"},
                                                                            "metrics": [_sum(6)]}]}]},
    "one resource twice in a line": {"resourceMetrics": [
        {"resource": {"attributes": [_kv("service.name", "api")]}, "scopeMetrics": [{"metrics": [_gauge(5)]}]},
        {"resource": {"attributes": [_kv("service.name", "api")]}, "scopeMetrics": [{"metrics": [_sum(6)]}]}]},
    "null exemplars": _gauge(exemplars=None),
}


@pytest.mark.parametrize("compact", [False, True], ids=["spaced", "compact"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_line_reads_as_the_checked_walk_in_both_modes(case, compact, monkeypatch):
    """A good line, the case, a good line: fast and checked agree (frames, skipped, or the same error)."""
    x = HOSTILE[case]
    bad = x if "resourceMetrics" in x else _line([x])
    got = _same(_lines(_good(0), bad, _good(1), compact=compact), monkeypatch)
    # something could differ: the good lines are always read
    if not isinstance(got["skip"], TraceFormatError):
        assert {0.5, 1.5} <= set(got["skip"]["value"].dropna())


@pytest.mark.parametrize("shape", ["resourceSpans line", "snake_case line", "blank line", "garbage line",
                                   "list line", "non-string service", "no scope", "top-level extra key"])
def test_other_lines_read_as_the_checked_walk(shape, monkeypatch):
    other = {
        "resourceSpans line": b'{"resourceSpans": []}',
        "snake_case line": json.dumps({"resource_metrics": [{"scope_metrics": [{"metrics": [_gauge(3)]}]}]}).encode(),
        "blank line": b"",
        "garbage line": b"{not json",
        "list line": json.dumps([_good(3)]).encode(),
        "non-string service": json.dumps({"resourceMetrics": [{"resource": {"attributes": [_kv("service.name", 7)]},
                                                               "scopeMetrics": [{"metrics": [_gauge(3)]}]}]}).encode(),
        "no scope": json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [_gauge(3)]}]}]}).encode(),
        "top-level extra key": json.dumps({**_good(3), "x": 1}).encode(),
    }[shape]
    got = _same(_lines(_good(0), other, _good(1), _good(2)), monkeypatch)
    if not isinstance(got["skip"], TraceFormatError):
        assert 2.5 in set(got["skip"]["value"])  # the lines after it are read


def test_single_document_gzip_and_file_object(tmp_path, monkeypatch):
    doc = _line([_gauge(0), _sum(1), _hist(2)])
    pretty = json.dumps(doc, indent=2).encode()
    _same(pretty, monkeypatch)
    p = tmp_path / "m.json.gz"
    p.write_bytes(gzip.compress(_lines(_good(0), _good(1))))
    got = _same(p, monkeypatch)["raise"]
    assert got["source_file"].iloc[0].endswith("m.json.gz") and got["source_record"].tolist()[:3] == [1, 1, 1]
    q = tmp_path / "m.jsonl"
    q.write_bytes(_lines(_good(0), _line([_gauge(1, timeUnixNano="1x")])))
    with open(q, "rb") as f:  # read once, then (a bad time) again by the checked walk: not read twice from the file
        with pytest.raises(TraceFormatError, match="line 2"):
            tk.read_metrics(f)


def test_real_otlp_metrics_example_reads_as_the_checked_walk(real_traces, monkeypatch):
    path = real_traces / "opentelemetry-proto" / "metrics.json"
    got = _same(path, monkeypatch)
    assert set(got["raise"]["kind"]) >= {"gauge", "sum", "histogram"}
    lines = _lines(*(json.loads(path.read_bytes()) for _ in range(3)))  # the example as collector JSON lines
    got = _same(lines, monkeypatch)["raise"]
    assert got["source_record"].nunique() == 3


@pytest.mark.parametrize("first", [b"{not json", b"   ", b'\xef\xbb\xbf{"resourceMetrics": []}'])
def test_odd_first_line_reads_as_the_checked_walk(first, monkeypatch):
    got = _same(first + b"\n" + _lines(_good(0), _good(1)), monkeypatch)
    if not isinstance(got["skip"], TraceFormatError):
        assert {0.5, 1.5} <= set(got["skip"]["value"])


def test_directory_of_files_reads_as_the_checked_walk(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_bytes(_lines(_good(0), _good(1)))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(_lines(_good(2), _line([_gauge(5, timeUnixNano="5x")]))))
    got = _same(tmp_path, monkeypatch)["skip"]
    assert [f.rsplit("/", 1)[-1] for f in got["source_file"].unique()] == ["a.jsonl", "b.json.gz"]
    assert len(got) == 9 and len(got.attrs["skipped"]) == 1


def test_metrics_of_alternating_kinds_keep_the_file_order(monkeypatch):
    """Consecutive number metrics (and histograms) are gathered in one pass: rows stay in file order."""
    empty = {"name": "idle", "gauge": {"dataPoints": []}}
    mets = [_gauge(0), _hist(1), empty, _sum(2), _gauge(3), _hist(4), _hist(5, bucketCounts=["6", "0", "0"]), empty, _sum(6)]
    got = _same(_lines(_line(mets), _good(7)), monkeypatch)["raise"]
    assert got["kind"].tolist()[:7] == ["gauge", "histogram", "sum", "gauge", "histogram", "histogram", "sum"]
    assert got["time"].astype("int64").tolist()[:7] == [T0 + i for i in (0, 1, 2, 3, 4, 5, 6)]


def test_every_kind_takes_the_fast_path(monkeypatch):
    """Gauges, sums, histograms, exponential histograms and summaries: all read by the fast path
    (no line falls back), as the checked walk reads them."""
    data = _lines(*(_line([_gauge(i), _sum(i), _hist(i), _exp(i), _summary(i)]) for i in range(3)), compact=True)
    before = dict(M.STATS)
    got = _same(data, monkeypatch)["raise"]
    assert M.STATS["fallback"] == before["fallback"] and M.STATS["fast"] - before["fast"] >= 3
    assert got["kind"].tolist()[:5] == ["gauge", "sum", "histogram", "exponential_histogram", "summary"]
    e, s = got.iloc[3], got.iloc[4]
    # scale 1: base √2; the zero count in (−∞, 0] (zeroThreshold 0), none in (0, 1], one in (1, √2], one in (√2, 2]
    assert e["buckets"]["counts"] == [1, 0, 1, 1, 0]
    assert e["buckets"]["bounds"] == pytest.approx([0.0, 1.0, 2**0.5, 2.0])
    assert e["temporality"] == "delta" and e["count"] == 3.0 and e["sum"] == 4.5
    assert s["quantiles"] == {0.5: 1.5, 0.99: 2.0} and s["count"] == 2.0 and pd.isna(s["temporality"])


def test_rows_never_share_a_mutable_value(monkeypatch):
    """Identical attribute sets are decoded once, but every row gets its own dict (and its own
    nested lists), its own bucket lists and exemplar list: changing one row changes no other."""
    nested = [{"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}}]
    pts = [{"timeUnixNano": str(T0 + i), "asDouble": 1.0, "attributes": [_kv("route", "/a")]} for i in range(3)]
    pts += [{"timeUnixNano": str(T0 + i), "asDouble": 1.0, "attributes": nested} for i in range(2)]
    hist = [_hist(i, exemplars=[])["histogram"]["dataPoints"][0] for i in range(2)]
    doc = _line([{"name": "g", "gauge": {"dataPoints": pts}},
                 {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": hist}}])
    before = dict(M.STATS)
    m = tk.read_metrics(_lines(doc, compact=True))
    assert M.STATS["fast"] > before["fast"] and M.STATS["fallback"] == before["fallback"]
    a = m["attributes"]
    assert a[0] == a[1] == {"route": "/a"} and a[0] is not a[1]
    a[0]["route"] = "/changed"
    assert a[1] == {"route": "/a"}
    assert a[3] == a[4] == {"tags": ["a"]} and a[3]["tags"] is not a[4]["tags"]
    a[3]["tags"].append("b")
    assert a[4] == {"tags": ["a"]}
    b5, b6 = m["buckets"][5], m["buckets"][6]
    assert b5 == b6 and b5["bounds"] is not b6["bounds"] and b5["counts"] is not b6["counts"]
    assert m["exemplars"][0] == [] and m["exemplars"][0] is not m["exemplars"][1]


@pytest.mark.parametrize("batch", [1 << 20, 2000])
def test_a_bad_line_among_many_leaves_the_others_on_the_fast_path(batch, monkeypatch):
    """A batch with a line the column pass refuses is split until that line is alone: only it is
    read by the checked walk (and skipped, named), the others stay fast and in file order (in one
    batch, or in many: their lazy columns then merged or chained, the checked rows between)."""
    monkeypatch.setattr(M, "_BATCH_BYTES", batch)
    docs = [_good(i) for i in range(40)]
    docs[25] = _line([_hist(25, count="7")])  # counts do not add up: only the column pass finds it
    data = _lines(*docs, compact=True)
    before = dict(M.STATS)
    got = _same(data, monkeypatch)
    assert M.STATS["fallback"] - before["fallback"] == 2  # the bad line, once per error mode (fast reads)
    skip = got["skip"]
    assert len(skip) == 39 * 3 and [r.record for r in skip.attrs["skipped"]] == [
        "line 26, resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]"]
    assert skip["source_record"].tolist() == [r for r in range(1, 41) if r != 26 for _ in range(3)]
    assert isinstance(got["raise"], TraceFormatError) and "line 26" in str(got["raise"])
    assert all(isinstance(skip[c].array, LazyColumn) for c in LAZY)


def test_escaped_bucket_count_reads_as_the_checked_walk(monkeypatch):
    """A JSON escape in a count ("\\u0033" is "3") is read one list at a time, not as joined text."""
    line = json.dumps(_good(0), separators=(",", ":")).encode()
    assert b'"bucketCounts":["1","2","3"]' in line
    data = line.replace(b'"bucketCounts":["1","2","3"]', b'"bucketCounts":["1","2","\\u0033"]') + b"\n"
    before = dict(M.STATS)
    got = _same(data, monkeypatch)["raise"]
    assert M.STATS["fallback"] == before["fallback"]
    assert got["buckets"].iloc[2]["counts"] == [1, 2, 3]


def test_object_columns_are_lazy_and_behave_as_object_columns(monkeypatch):
    """The fast path's attributes, resource, exemplars and buckets are lazy (no cell built at read
    time, key reads build none) and every pandas operation a user makes gives the checked walk's cells."""
    import pickle

    doc = _line([_gauge(0), _gauge(1), _hist(2), _sum(3)])
    data = _lines(doc, doc, compact=True)
    m = tk.read_metrics(data)
    checked = _read(data, "raise", False, monkeypatch)
    assert tk.validate_metrics(m) is m
    for c in LAZY:  # (validating reads missing cells without building any)
        assert isinstance(m[c].array, LazyColumn) and not m[c].array.built().any(), c
    assert tk.attribute(m, "route").tolist() == tk.attribute(checked, "route").tolist()
    assert tk.attribute(m, "route").iloc[0] == "/r0"
    assert not m["attributes"].array.built().any()
    both = pd.concat([m, m], ignore_index=True)  # two sources: still lazy, the cells of each
    assert isinstance(both["attributes"].array, LazyColumn) and not both["attributes"].array.built().any()
    assert tk.attribute(both, "code").tolist() == tk.attribute(checked, "code").tolist() * 2  # key reads of both sources
    assert not both["attributes"].array.built().any()
    assert pickle.loads(pickle.dumps(both))["resource"].tolist() == checked["resource"].tolist() * 2
    assert both["attributes"].tolist() == checked["attributes"].tolist() * 2
    mixed = pd.concat([m, checked], ignore_index=True)  # lazy + object: an object column
    assert mixed["buckets"].tolist() == checked["buckets"].tolist() * 2
    assert m["attributes"].iloc[0] == {"route": "/r0", "code": 200} and type(m["attributes"].iloc[0]) is dict
    assert m["attributes"].map(len).tolist() == [len(d) for d in checked["attributes"]]
    assert m.iloc[1:3]["exemplars"].tolist() == checked.iloc[1:3]["exemplars"].tolist()
    back = pickle.loads(pickle.dumps(m.copy()))
    assert back["exemplars"].tolist() == checked["exemplars"].tolist()
    assert back["buckets"].isna().tolist() == checked["buckets"].isna().tolist()
    assert tk.validate_metrics(m) is m


@pytest.mark.parametrize("batch_bytes", [1 << 20, 1], ids=["one batch", "a batch a line"])
def test_families_read_apart_keep_each_rows_attributes_exemplars_and_flags(batch_bytes, monkeypatch):
    """A batch's point families are read family by family (one astuple pass each) and mapped back
    to file order: every row keeps its own attributes, exemplars and flags (ids by construction),
    in one batch and across batches (one frame for several)."""
    monkeypatch.setattr(M, "_BATCH_BYTES", batch_bytes)
    mets = []
    for i in range(12):
        ex = [_exemplar(100 + i)]
        mets += [_gauge(i, exemplars=ex, attributes=[_kv("row", f"g{i}")]),
                 _hist(i, exemplars=[_exemplar(200 + i)] if i % 3 else [], attributes=[_kv("row", f"h{i}")]),
                 _sum(i, flags=i % 2, attributes=[_kv("row", f"s{i}")])]
    before = dict(M.STATS)
    got = _same(_lines(_line(mets[:18]), _line(mets[18:]), compact=True), monkeypatch)["raise"]
    assert M.STATS["fallback"] == before["fallback"]
    rows = [a["row"] for a in got["attributes"]]
    assert rows == [f"{k}{i}" for i in range(12) for k in "ghs"]
    tids = [[e["trace_id"] for e in x] for x in got["exemplars"]]
    want = []
    for i in range(12):
        want += [[f"{100 + i + 1:032x}"], [f"{200 + i + 1:032x}"] if i % 3 else [], []]
    assert tids == want
    assert got["flags"].tolist() == [v for i in range(12) for v in (pd.NA, pd.NA, i % 2)]


def test_attribute_and_resource_cells_of_batches_are_their_own(monkeypatch):
    """Attribute sets and resources are decoded once per distinct text for a whole read (shared
    templates across batches): each row's cell is still its own dict (nested values too)."""
    monkeypatch.setattr(M, "_BATCH_BYTES", 1)  # a batch a line
    nested = [_kv("route", "/a"), {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "x"}]}}}]
    data = _lines(*(_line([_gauge(i, attributes=nested)]) for i in range(3)))
    before = dict(M.STATS)
    got = _same(data, monkeypatch)["raise"]
    assert M.STATS["fast"] - before["fast"] >= 3 and M.STATS["fallback"] == before["fallback"]
    attrs, res = got["attributes"].tolist(), got["resource"].tolist()
    assert attrs[0] == attrs[2] == {"route": "/a", "tags": ["x"]} and res[0] == res[2]
    attrs[0]["tags"].append("y")
    attrs[0]["route"] = "/b"
    res[0]["service.name"] = "changed"
    again = tk.read_metrics(data)
    assert attrs[1] == attrs[2] == again["attributes"].iloc[0] == {"route": "/a", "tags": ["x"]}
    assert res[1]["service.name"] == res[2]["service.name"] == again["resource"].iloc[0]["service.name"] == "api"


GOOD_VARIANTS = [
    lambda i: _good(i),
    lambda i: _line([_gauge(i), _gauge(i + 1, attributes=[_kv("route", "/x")])], service=f"svc-{i % 3}"),
    lambda i: _line([_sum(i, flags=i % 2), _hist(i, exemplars=[])]),
    lambda i: _line([_hist(i, exemplars=[_exemplar(i), _exemplar(i + 1)]), _sum(i, asInt=str(-i))]),
    lambda i: _line([_hist(i, bucketCounts=[1, 2, 3])]),  # bare counts
    lambda i: _line([_hist(i, bucketCounts=["6", "0"], explicitBounds=[4])]),  # other bounds
    lambda i: _line([_sum(i, startTimeUnixNano=str(T0 + i))]),
    lambda i: _line([_hist(i, exemplars=[_exemplar(i, asDouble=5), _exemplar(i + 1)], sum=7, min=0),  # ints among floats
                     _gauge(i, asDouble=3), _gauge(i + 1, asDouble=2**62 + 1)]),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.tuples(st.just("good"), st.integers(0, len(GOOD_VARIANTS) - 1)),
                                st.tuples(st.just("bad"), st.sampled_from(sorted(HOSTILE)))), min_size=1, max_size=12),
       batch=st.sampled_from([1, 300, 2000, 1 << 19]), group=st.sampled_from([1, 1500, 6000, 1 << 23]))
def test_batches_converted_in_groups_read_as_the_checked_walk(lines, batch, group, monkeypatch):
    """Batches extracted while their Structs are hot and converted together (a group) read as the
    checked walk, whatever the mix: batches of other shapes read by the column pass between groups,
    a group with a refused value read again batch by batch (its bad line alone by the checked walk)."""
    monkeypatch.setattr(M, "_BATCH_BYTES", batch)
    monkeypatch.setattr(M, "_GROUP_BYTES", group)
    docs = []
    for i, (what, x) in enumerate(lines):
        if what == "good":
            docs.append(GOOD_VARIANTS[x](i))
        else:
            docs.append(HOSTILE[x] if "resourceMetrics" in HOSTILE[x] else _line([HOSTILE[x]]))
    _same(_lines(*docs, compact=True), monkeypatch)


def test_good_batches_are_converted_in_groups(monkeypatch):
    """Lines of the common shapes take the grouped conversion (one part for several batches)."""
    monkeypatch.setattr(M, "_BATCH_BYTES", 1)  # a batch a line
    calls = []
    real = M._g_part
    monkeypatch.setattr(M, "_g_part", lambda chunks, *a: calls.append(len(chunks)) or real(chunks, *a))
    got = _same(_lines(*(GOOD_VARIANTS[i % len(GOOD_VARIANTS)](i) for i in range(14)), compact=True), monkeypatch)
    assert calls and max(calls) == 14 and len(got["raise"]) == 14 // 8 * (3 + 2 + 2 + 2 + 1 + 1 + 1 + 3) + (3 + 2 + 2 + 2 + 1 + 1)
