"""Defects found in the metrics readers and constructor (a tester's reproducers), each fixed and kept fixed.

Every OTLP case is read by both of read_metrics' paths — the typed fast path and the checked walk
(``tracekit.io.metrics.FAST = False``) — from bytes (the fast path's input) and from parsed JSON, in both
error modes: they must agree (same frame, same skipped records, same error).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
import tracekit.io.metrics as M
from tracekit.errors import ArgumentError, TraceFormatError, TraceFormatWarning
from tracekit.metrics_schema import MetricsSchemaError
from tracekit.schema import STRING, TIMESTAMP

from .test_metrics_fast import _read  # the frame (or the error) of read_metrics, the fast path on or off

T0 = 1_700_000_000_000_000_000


def _doc(metrics: list[dict], key: str = "scopeMetrics") -> dict:
    return {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                                 key: [{"metrics": metrics}]}]}


def _gauge(**point: object) -> dict:
    p = {"timeUnixNano": str(T0), "asDouble": 1.5}
    p.update(point)
    return {"name": "g", "gauge": {"dataPoints": [p]}}


def _hist(**point: object) -> dict:
    p = {"startTimeUnixNano": str(T0 - 10), "timeUnixNano": str(T0), "count": "3", "sum": 6.0, "min": 0.5, "max": 9.0,
         "bucketCounts": ["1", "1", "1"], "explicitBounds": [1.0, 5.0]}
    p.update(point)
    return {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [p]}}


def _exp(**point: object) -> dict:
    p = {"timeUnixNano": str(T0), "count": "3", "sum": 4.5, "scale": 1, "zeroCount": "1",
         "positive": {"offset": 0, "bucketCounts": ["1", "1"]}}
    p.update(point)
    return {"name": "e", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [p]}}


def _summary(**point: object) -> dict:
    p = {"timeUnixNano": str(T0), "count": "2", "sum": 3.0,
         "quantileValues": [{"quantile": 0.5, "value": 1.0}, {"quantile": 0.99, "value": 2.0}]}
    p.update(point)
    return {"name": "s", "summary": {"dataPoints": [p]}}



def _both(doc: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """``doc`` read as bytes (JSON lines: a good gauge line, ``doc``, another good line) and as parsed JSON, by
    both paths in both modes: all agree; the checked walk's results of the parsed document by mode."""
    good = _doc([_gauge()])
    lines = b"\n".join(json.dumps(d, separators=(",", ":")).encode() for d in (good, doc, good)) + b"\n"
    out = {}
    for errors in ("raise", "skip"):
        got = {}
        for fast in (True, False):
            got[fast, "doc"] = _read(doc, errors, fast, monkeypatch)
            got[fast, "lines"] = _read(lines, errors, fast, monkeypatch)
        for src in ("doc", "lines"):
            a, b = got[True, src], got[False, src]
            if isinstance(b, TraceFormatError):
                assert isinstance(a, TraceFormatError) and str(a) == str(b), (errors, src, a, b)
            else:
                assert not isinstance(a, TraceFormatError), (errors, src, a)
                lazy = {c: object for c in ("attributes", "resource", "exemplars", "buckets")}
                pd.testing.assert_frame_equal(a.astype(lazy), b.astype(lazy))
                assert a.attrs["skipped"] == b.attrs["skipped"]
        out[errors] = got[False, "doc"]
        out[errors, "lines"] = got[False, "lines"]
    return out


# ------------------------------------------------------------------------- 1. quoted integers and enums


@pytest.mark.parametrize("temporality, word", [("2", "cumulative"), ("1", "delta"), ("02", "cumulative"), (2, "cumulative"),
                                               ("AGGREGATION_TEMPORALITY_DELTA", "delta")])
def test_aggregation_temporality_as_a_decimal_string_is_read(temporality, word, monkeypatch):
    """The OTel file-exporter example writes "aggregationTemporality":"2" (protobuf's JSON parsers take an
    enum's number quoted); it was refused, and with errors="skip" every point of such a metric was skipped."""
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "c", "sum": {
        "aggregationTemporality": temporality, "isMonotonic": True,
        "dataPoints": [{"timeUnixNano": "1", "asInt": "1"}]}}]}]}]}
    got = _both(doc, monkeypatch)
    for m in (got["raise"], got["skip"]):
        assert m["temporality"].tolist() == [word] and m["value"].tolist() == [1.0]
        assert m.attrs["skipped"] == ()
    assert got["skip", "lines"]["temporality"].fillna("-").tolist() == ["-", word, "-"]


@pytest.mark.parametrize("temporality", ["3", "-1", "2.0", "x", "", True])
def test_other_temporalities_are_still_refused(temporality, monkeypatch):
    doc = _doc([{"name": "c", "sum": {"aggregationTemporality": temporality, "dataPoints": [
        {"timeUnixNano": "1", "asInt": "1"}]}}])
    got = _both(doc, monkeypatch)
    assert isinstance(got["raise"], TraceFormatError) and "aggregationTemporality must be" in got["raise"].reason


def test_quoted_flags_scale_and_offset_are_integers(monkeypatch):
    doc = _doc([_gauge(flags="1"), _exp(scale="1", flags="0", positive={"offset": "0", "bucketCounts": ["1", "1"]})])
    m = _both(doc, monkeypatch)["raise"]
    assert m["flags"].tolist() == [1, 0]
    ref = tk.read_metrics(_doc([_exp()]))
    assert m.loc[1, "buckets"] == ref.loc[0, "buckets"]
    for bad, what in (({"flags": "-1"}, "flags"), ({"flags": 2**32}, "flags"), ({"flags": "1.5"}, "flags")):
        e = _both(_doc([_gauge(**bad)]), monkeypatch)["raise"]
        assert isinstance(e, TraceFormatError) and e.reason.startswith(what), e
    e = _both(_doc([_exp(scale="21")]), monkeypatch)["raise"]
    assert isinstance(e, TraceFormatError) and "scale must be an integer in [-10, 20]" in e.reason


# ---------------------------------------------------------------- 2. legacy instrumentationLibraryMetrics


def test_legacy_instrumentation_library_metrics_is_read_and_named(monkeypatch):
    legacy = {"resourceMetrics": [{"instrumentationLibraryMetrics": [{"instrumentationLibrary": {"name": "old.lib"},
                                                                      "metrics": [_gauge(), _gauge(asDouble=2.5)]}]}]}
    m = _both(legacy, monkeypatch)["raise"]
    assert m["value"].tolist() == [1.5, 2.5] and m.loc[0, "resource"]["otel.scope.name"] == "old.lib"
    bad = _doc([_gauge(), _gauge(timeUnixNano="soon")], key="instrumentationLibraryMetrics")
    got = _both(bad, monkeypatch)
    assert got["raise"].record == "resourceMetrics[0].instrumentationLibraryMetrics[0].metrics[1].gauge.dataPoints[0]"
    assert [s.record for s in got["skip"].attrs["skipped"]] == [got["raise"].record]
    assert got["skip", "lines"].attrs["skipped"][0].record.startswith("line 2, resourceMetrics[0].instrumentationLibraryMetrics[0]")
    not_list = {"resourceMetrics": [{"instrumentationLibraryMetrics": {"metrics": []}}]}
    e = _both(not_list, monkeypatch)["raise"]
    assert "instrumentationLibraryMetrics must be a list" in e.reason


def test_scope_metrics_and_their_legacy_name_both_holding_data_reads_scope_metrics_and_lists_the_other(monkeypatch):
    # the collector's rule, as read_otlp and read_logs follow it (io._sources.scope_list): not an error, and the
    # list not read is named in attrs["ignored"] (it was an error here while the spans and logs readers read the file)
    both = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [_gauge()]}],
                                 "instrumentationLibraryMetrics": [{"metrics": [_gauge(asDouble=7.0)]}]}]}
    m = _both(both, monkeypatch)["raise"]
    assert m["value"].tolist() == [1.5]
    [ign] = m.attrs["ignored"]
    assert ign.record == "resourceMetrics[0].instrumentationLibraryMetrics"
    assert ign.reason.startswith("instrumentationLibraryMetrics (its name before OTLP 0.15) holds 1 entry beside a "
                                 "non-empty scopeMetrics: not read")


# ------------------------------------------------------------------------------ 3. pandas 3's str dtype


def test_a_str_column_is_accepted_as_its_declared_dtype():
    m = tk.metrics_from_columns({"time": [0, 60_000_000_000], "name": "m", "value": [1.0, 3.0], "service": "x"})
    edited = m.assign(service="api", name=pd.Series(["m", "m"], dtype="str"),
                      time=pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:01"], utc=True))
    assert str(edited["service"].dtype) == "str" and str(edited["time"].dtype) == "datetime64[us, UTC]"
    v = tk.validate_metrics(edited)
    assert v is not edited and v["service"].dtype == STRING and v["name"].dtype == STRING and v["time"].dtype == TIMESTAMP
    assert str(edited["service"].dtype) == "str"  # the input is not changed
    assert v["service"].tolist() == ["api", "api"] and v["time"].iloc[1] == pd.Timestamp("2024-01-01 00:01", tz="UTC")
    assert tk.validate_metrics(v) is v  # the declared dtypes: the frame itself
    same = edited.assign(service=edited["service"].astype(STRING), name=edited["name"].astype(STRING),
                         time=edited["time"].astype(TIMESTAMP))
    pd.testing.assert_frame_equal(tk.metric_series(edited), tk.metric_series(same))
    with pytest.raises(MetricsSchemaError, match=r"column 'value' has dtype str, expected float64 \(convert it"):
        tk.validate_metrics(m.assign(value="1.0"))


def test_timeline_and_rank_causes_take_a_metrics_frame_edited_with_pandas_defaults():
    from tracekit.analysis.metric_series import require_metrics_frame

    sp = tk.simulate.simulate("baseline", 50, seed=1).spans
    t0 = sp["start"].min().floor("1min")
    m = tk.metrics_from_columns({"time": [t0], "name": "m", "value": [1.0]}).assign(service="api")
    tl = tk.timeline(sp, metrics=m)
    assert tl.loc[tl["time"] == t0, "metric.m"].tolist() == [1.0]
    assert require_metrics_frame(m, "rank_causes")["service"].dtype == STRING


# ------------------------------------------------------------------- 4. invalid histograms and summaries


BAD_POINTS = {
    "NaN bound": (_hist(explicitBounds=["NaN", 5.0]), "explicitBounds must be numbers, not NaN"),
    "Infinity bound": (_hist(explicitBounds=[1.0, "Infinity"]), "explicitBounds must be finite"),
    "-Infinity bound": (_hist(explicitBounds=["-Infinity", 5.0]), "explicitBounds must be finite"),
    "duplicate quantile": (_summary(quantileValues=[{"quantile": 0.5, "value": 1.0}, {"quantile": 0.5, "value": 2.0}]),
                           "quantile 0.5 is given twice"),
    "decreasing quantile values": (_summary(quantileValues=[{"quantile": 0.5, "value": 3.0},
                                                            {"quantile": 0.99, "value": 2.0}]),
                                   "must not decrease"),
    "histogram min above max": (_hist(min=9.5, max=9.0), "min 9.5 is above max 9.0"),
    "exponential min above max": (_exp(min=3.0, max=1.0), "min 3.0 is above max 1.0"),
    "histogram start after time": (_hist(startTimeUnixNano=str(T0 + 1)), "startTimeUnixNano"),
    "gauge start after time": (_gauge(startTimeUnixNano=str(T0 + 1)), "is after timeUnixNano"),
    "sum start after time": ({"name": "c", "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
        {"startTimeUnixNano": str(T0 + 5), "timeUnixNano": str(T0), "asInt": "3"}]}}, "is after timeUnixNano"),
    "negative zeroThreshold": (_exp(zeroThreshold=-0.5), "zeroThreshold must be a finite number >= 0"),
    "NaN zeroThreshold": (_exp(zeroThreshold="NaN"), "zeroThreshold must be a finite number >= 0"),
    "asDouble and asInt": (_gauge(asInt="4"), "both asDouble"),
    "sum with asDouble and asInt": ({"name": "c", "sum": {"aggregationTemporality": 1, "dataPoints": [
        {"timeUnixNano": str(T0), "asDouble": 1.0, "asInt": 1}]}}, "both asDouble"),
    "exemplar with asDouble and asInt": (_hist(exemplars=[{"timeUnixNano": str(T0), "asDouble": 1.0, "asInt": "1",
                                                           "traceId": "a" * 32, "spanId": "b" * 16}]), "both asDouble"),
}


@pytest.mark.parametrize("case", list(BAD_POINTS))
def test_invalid_points_are_refused_naming_file_and_record(case, monkeypatch):
    metric, why = BAD_POINTS[case]
    got = _both(_doc([_gauge(asDouble=0.25), metric]), monkeypatch)
    e = got["raise"]
    assert isinstance(e, TraceFormatError), case
    assert why in e.reason and e.file == "<object>"
    assert e.record.startswith("resourceMetrics[0].scopeMetrics[0].metrics[1].") and ".dataPoints[0]" in e.record
    skip = got["skip"]
    assert skip["value"].tolist() == [0.25]  # the good point loaded
    assert [(s.record, why in s.reason) for s in skip.attrs["skipped"]] == [(e.record, True)]
    lines = got["skip", "lines"]
    assert len(lines) == 3 and lines.attrs["skipped"][0].record == f"line 2, {e.record}"


def test_valid_edge_cases_still_read(monkeypatch):
    """What OTLP allows is not caught by the new rules: a NaN quantile value (no observation in the window),
    equal quantile values, a start equal to the time, bounds given in any numeric form, quantiles in any order."""
    doc = _doc([_summary(quantileValues=[{"quantile": 0.99, "value": "NaN"}, {"quantile": 0.9, "value": 2.0},
                                         {"quantile": 0.5, "value": 2.0}]),
                _hist(startTimeUnixNano=str(T0), explicitBounds=["1", 5]),
                _exp(zeroThreshold=0, min=1.0, max=1.0)])
    m = _both(doc, monkeypatch)["raise"]
    assert list(m.loc[0, "quantiles"]) == [0.99, 0.9, 0.5] and np.isnan(m.loc[0, "quantiles"][0.99])
    assert m.loc[1, "buckets"] == {"bounds": [1.0, 5.0], "counts": [1, 1, 1]} and m.loc[1, "start_time"] == m.loc[1, "time"]


def test_a_line_of_bad_points_does_not_slow_the_good_lines(monkeypatch):
    monkeypatch.setattr(M, "FAST", True)
    good = json.dumps(_doc([_hist(), _gauge()]), separators=(",", ":")).encode()
    bad = json.dumps(_doc([_hist(min=10.0)]), separators=(",", ":")).encode()
    before = dict(M.STATS)
    with pytest.warns(TraceFormatWarning, match="skipped 1"):
        m = tk.read_metrics(b"\n".join([good] * 5 + [bad] + [good] * 5), errors="skip")
    assert len(m) == 20 and M.STATS["fallback"] - before["fallback"] == 1


@pytest.mark.parametrize("point, why", [
    ({"SampleCount": -3.0, "Average": 1.0}, "SampleCount must be a non-negative number"),
    ({"Minimum": 5.0, "Maximum": 1.0}, "Minimum 5.0 is above Maximum 1.0"),
    ({"Average": 1.0, "ExtendedStatistics": {"p50": 1.0, "p50.0": 2.0}}, "given twice"),
    ({"Average": 1.0, "ExtendedStatistics": {"p50": 3.0, "p99": 2.0}}, "must not decrease"),
])
def test_invalid_cloudwatch_statistics_are_refused(point, why):
    data = {"Label": "L", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "Average": 1.0},
                                         {"Timestamp": "2024-01-01T00:01:00Z", **point}]}
    with pytest.raises(TraceFormatError, match=why) as ei:
        tk.read_metrics(data)
    assert ei.value.record == "Datapoints[1]"
    with pytest.warns(TraceFormatWarning, match="skipped 1"):
        m = tk.read_metrics(data, errors="skip")
    assert len(m) == 1 and m.attrs["skipped"][0].record == "Datapoints[1]"


# ------------------------------------------------------------------ 5. metrics_from_columns' content


@pytest.mark.parametrize("extra, match", [
    ({"kind": "histogram", "buckets": [{"bounds": [5.0, 1.0], "counts": [1, 0, 0]}]}, "'buckets' row 0: bounds must be strictly"),
    ({"buckets": ["x"]}, "'buckets' row 0: 'x' is not a dict"),
    ({"buckets": [[1, 2]]}, r"'buckets' row 0: \[1, 2\] is not a dict"),
    ({"buckets": [{"bounds": [1.0], "counts": [2, -1]}]}, "'buckets' row 0: counts must be non-negative"),
    ({"buckets": [{"bounds": [1.0], "counts": [1]}]}, "'buckets' row 0: counts has 1 counts for 1 bounds"),
    ({"buckets": [{"bounds": [float("nan")], "counts": [1, 0]}]}, "'buckets' row 0: bounds must be numbers, not NaN"),
    ({"buckets": [{"bounds": [1.0], "counts": [1, 1]}], "count": [3.0]}, "add up to 2, count is 3"),
    ({"buckets": [{"bounds": ["1"], "counts": [1, 0]}]}, "bounds must be a list of numbers"),
    ({"quantiles": [{7.0: 1}]}, "'quantiles' row 0: quantile must be in"),
    ({"quantiles": [{0.5: 3.0, 0.9: 1.0}]}, "'quantiles' row 0: quantile values must not decrease"),
    ({"quantiles": ["p50"]}, "'quantiles' row 0: 'p50' is not a dict"),
    ({"exemplars": ["x"]}, "'exemplars' row 0: 'x' is not a list"),
    ({"exemplars": [[{"trace_id": "zz"}]]}, "'exemplars' row 0: exemplar 0: exemplar trace id must be 32 hex"),
    ({"exemplars": [["x"]]}, "'exemplars' row 0: exemplar 0: 'x' is not a dict"),
    ({"exemplars": [[{"time": -1}]]}, "'exemplars' row 0: exemplar 0: time -1 is out of range: 0 to 9214646400000000000 ns"),
    ({"exemplars": [[{"value": "high"}]]}, "value must be a number"),
    ({"count": [-1.0]}, "'count' row 0: count must be a non-negative number"),
    ({"flags": [-1]}, "'flags' row 0: -1 is not a data point's flags"),
    ({"flags": [2**64]}, "'flags' row 0: 18446744073709551616 is beyond int64"),
    ({"min": [5.0], "max": [1.0]}, "'min' row 0: min 5.0 is above max 1.0"),
    ({"start_time": [10]}, "'start_time' row 0: start_time 10 is after time 5"),
])
def test_metrics_from_columns_checks_content_as_the_reader_does(extra, match):
    with pytest.raises(MetricsSchemaError, match=match):
        tk.metrics_from_columns({"time": [5], "name": "h", **extra})


def test_metrics_from_columns_takes_what_the_reader_makes():
    """The reader's frame (histograms, exponential histograms with infinite outer edges, summaries, exemplars)
    goes through metrics_from_columns unchanged: one set of rules."""
    doc = _doc([_hist(exemplars=[{"timeUnixNano": str(T0), "asDouble": 2.0, "traceId": "A" * 32, "spanId": "b" * 16}]),
                _exp(scale=-10, positive={"offset": 0, "bucketCounts": ["2"]}), _summary()])
    m = tk.read_metrics(doc)
    assert m.loc[1, "buckets"]["bounds"][-1] == np.inf
    again = tk.metrics_from_columns(m.astype({c: object for c in ("attributes", "resource", "exemplars", "buckets")}))
    for c in ("buckets", "quantiles", "exemplars", "count", "min", "max"):
        assert repr(again[c].tolist()) == repr(m[c].tolist()), c
    ex = tk.metrics_from_columns({"time": [0], "name": "h", "exemplars": [[{"value": 3, "trace_id": "1-5759E988-BD862E3FE1BE46A994272793"}]]})
    assert ex.loc[0, "exemplars"] == [{"time": None, "value": 3.0, "trace_id": "5759e988bd862e3fe1be46a994272793",
                                       "span_id": None, "attributes": {}}]


# ------------------------------------------------------------------------------- 6. bare exceptions


def test_bad_columns_are_named_errors_not_bare_exceptions():
    with pytest.raises(MetricsSchemaError, match=r"column 'time' row 0: 18446744073709551616 is out of range: "
                                                  r"0 to 9214646400000000000 ns \(1970-01-01 to 2262-01-01 UTC\)"):
        tk.metrics_from_columns({"time": [2**64], "name": "m", "value": [1.0]})
    with pytest.raises(MetricsSchemaError, match=r"column 'time' row 1: -5 \(1969-12-31 23:59:59 UTC\) is out of "
                                                  r"range: 0 to 9214646400000000000 ns \(1970-01-01 to 2262-01-01 UTC\)"):
        tk.metrics_from_columns({"time": [0, -5], "name": "m", "value": [1.0, 2.0]})
    with pytest.raises(MetricsSchemaError, match=r"column 'start_time' row 0: '1969-12-31' is out of range: "
                                                  r"1970-01-01 to 2262-01-01 UTC"):
        tk.metrics_from_columns({"time": [5], "start_time": ["1969-12-31"], "name": "m", "value": [1.0]})
    df = pd.DataFrame([[0, "m", 1.0, 2.0]], columns=["time", "name", "value", "value"])
    with pytest.raises(MetricsSchemaError, match="column 'value' appears 2 times"):
        tk.metrics_from_columns(df)
    ok = tk.metrics_from_columns({"time": [0], "name": "m", "value": [1.0]})
    dup = pd.concat([ok, ok[["value"]]], axis=1)
    with pytest.raises(MetricsSchemaError, match="^metrics DataFrame: column 'value' appears 2 times; give each column once"):
        tk.validate_metrics(dup)
    with pytest.raises(MetricsSchemaError, match="column 'value' is a set"):
        tk.metrics_from_columns({"time": [0], "name": "m", "value": {1.0}})


def test_a_generator_column_is_read_once():
    m = tk.metrics_from_columns({"time": (t for t in [0, 1]), "name": "m", "value": (float(v) for v in range(2))})
    assert m["value"].tolist() == [0.0, 1.0] and m["time"].iloc[1].value == 1


def test_metric_names_of_the_wrong_type_are_argument_errors():
    sp = tk.simulate.simulate("baseline", 30, seed=1).spans
    m = tk.metrics_from_columns({"time": [sp["start"].min()], "name": "m", "value": [1.0]})
    with pytest.raises(ArgumentError, match="timeline: metric_names must be a metric name or a list of names, got 5"):
        tk.timeline(sp, metrics=m, metric_names=5)
    with pytest.raises(ArgumentError, match="metric_names= picks metrics= series"):
        tk.timeline(sp, metric_names="m")
    with pytest.raises(ArgumentError, match="metric names must be a name or a list of names"):
        tk.metric_series(m, 5)
    with pytest.raises(ArgumentError, match="metric names must be a name or a list of names"):
        tk.metric_series(m, ["m", 5])
    assert tk.timeline(sp, metrics=m, metric_names=["m"])["metric.m"].notna().sum() == 1


# ------------------------------------------------------------------------------ 7. CloudWatch Messages


def test_cloudwatch_messages_are_in_the_error_when_no_point_was_read():
    data = {"MetricDataResults": [], "Messages": [{"Code": "MaxQueryTimeRangeExceed", "Value": "x"}]}
    with pytest.raises(TraceFormatError, match="no metric data points; CloudWatch's messages: MaxQueryTimeRangeExceed: 'x'"):
        tk.read_metrics(data)
    failed = {"MetricDataResults": [{"Id": "m1", "StatusCode": "InternalError", "Timestamps": [], "Values": []}],
              "Messages": []}
    with pytest.raises(TraceFormatError, match=r"1 result\(s\) not complete \(StatusCode InternalError\)"):
        tk.read_metrics(failed)


def test_cloudwatch_messages_and_partial_results_are_kept_with_the_data():
    data = {"MetricDataResults": [
        {"Id": "m1", "Label": "CPU", "StatusCode": "PartialData", "Timestamps": ["2024-01-01T00:00:00Z"], "Values": [1.0],
         "Messages": [{"Code": "ArithmeticError", "Value": "dropped NaN"}]},
        {"Id": "m2", "Label": "Mem", "StatusCode": "Complete", "Timestamps": ["2024-01-01T00:00:00Z"], "Values": [2.0]}],
        "Messages": [{"Code": "Warn", "Value": "top"}]}
    with pytest.warns(TraceFormatWarning, match="CloudWatch's messages: Warn: 'top', ArithmeticError: 'dropped NaN'"):
        m = tk.read_metrics(data)
    assert m["value"].tolist() == [1.0, 2.0]  # the partial result's points are loaded
    assert m.attrs["messages"] == ({"Code": "Warn", "Value": "top", "file": "<object>", "record": "Messages"},
                                   {"Code": "ArithmeticError", "Value": "dropped NaN", "file": "<object>",
                                    "record": "MetricDataResults[0].Messages", "Id": "m1"})
    assert m.attrs["partial"] == ({"file": "<object>", "record": "MetricDataResults[0]", "Id": "m1",
                                   "StatusCode": "PartialData", "points": 1},)
    assert m.attrs["truncated"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = tk.read_metrics({"MetricDataResults": data["MetricDataResults"][1:], "Messages": []})
    assert plain.attrs["messages"] == () and plain.attrs["partial"] == () and plain.attrs["truncated"] is False
    f = tk.io.metrics.cloudwatch_frame([data])
    assert f.attrs["partial"][0]["Id"] == "m1" and len(f.attrs["messages"]) == 2


def test_cloudwatch_rows_do_not_share_attribute_dicts():
    m = tk.read_metrics({"MetricDataResults": [{"Id": "a", "Timestamps": ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"],
                                                "Values": [1.0, 2.0], "StatusCode": "Complete"}]})
    m.loc[0, "attributes"]["x"] = 1
    assert "x" not in m.loc[1, "attributes"]


# ------------------------------------------------------------------------------------- 8. aliasing


def test_metrics_from_columns_shares_no_mutable_object_with_its_input():
    attrs = [{"tags": ["a"]}, {"k": "v"}]
    res = {"service.name": "api"}
    buckets = [{"bounds": [1.0], "counts": [1, 0]}, None]
    quant = [None, {0.5: 1.0}]
    exs = [[{"time": 1, "value": 1.0, "trace_id": "a" * 32, "span_id": None, "attributes": {"x": [1]}}], []]
    m = tk.metrics_from_columns({"time": [0, 1], "name": "m", "count": [1.0, 2.0], "attributes": attrs, "resource": res,
                                 "buckets": buckets, "quantiles": quant, "exemplars": exs})
    assert m.loc[0, "attributes"] == attrs[0] and m.loc[0, "attributes"] is not attrs[0]
    assert m.loc[0, "attributes"]["tags"] is not attrs[0]["tags"]
    assert m.loc[0, "resource"] is not res and m.loc[0, "resource"] is not m.loc[1, "resource"]
    assert m.loc[0, "buckets"] == buckets[0] and m.loc[0, "buckets"]["counts"] is not buckets[0]["counts"]
    assert m.loc[1, "quantiles"] == quant[1] and m.loc[1, "quantiles"] is not quant[1]
    assert m.loc[0, "exemplars"] == exs[0] and m.loc[0, "exemplars"][0] is not exs[0][0]
    assert m.loc[0, "exemplars"][0]["attributes"]["x"] is not exs[0][0]["attributes"]["x"]
    attrs[0]["tags"].append("b")
    res["service.name"] = "changed"
    buckets[0]["counts"][0] = 99
    exs[0][0]["attributes"]["x"].append(2)
    assert m.loc[0, "attributes"] == {"tags": ["a"]} and m.loc[1, "resource"] == {"service.name": "api"}
    assert m.loc[0, "buckets"]["counts"] == [1, 0] and m.loc[0, "exemplars"][0]["attributes"] == {"x": [1]}
    extra = [{"e": 1}, {"e": 2}]
    m2 = tk.metrics_from_columns({"time": [0, 1], "name": "m", "notes": extra})
    extra[0]["e"] = 9
    assert m2.loc[0, "notes"] == {"e": 1}


def test_check_false_builds_a_broken_frame_as_given_but_copied():
    """An analysis' test of what it does with broken buckets builds them with check=False: no rule applied, still
    no cell shared with the input."""
    b = {"bounds": [5.0, 1.0], "counts": [1]}
    m = tk.metrics_from_columns({"time": [0], "name": "h", "kind": "histogram", "buckets": [b]}, check=False)
    assert m.loc[0, "buckets"] == b and m.loc[0, "buckets"] is not b and m.loc[0, "buckets"]["counts"] is not b["counts"]
    with pytest.raises(MetricsSchemaError, match="'buckets' row 0"):
        tk.metrics_from_columns({"time": [0], "name": "h", "kind": "histogram", "buckets": [b]})


def test_a_gauge_with_a_temporality_is_named():
    """reference.md: temporality is <NA> for gauges and summaries, monotonic for every kind but a sum; the builder
    kept a gauge 'delta' that no reader or writer can carry."""
    t = [1_772_460_000_000_000_000]
    with pytest.raises(tk.MetricsSchemaError, match="column 'temporality' row 0: a gauge has no temporality"):
        tk.metrics_from_columns({"time": t, "name": ["m"], "value": [1.0], "kind": ["gauge"], "temporality": ["delta"]})
    with pytest.raises(tk.MetricsSchemaError, match="column 'monotonic' row 1: a histogram has no monotonic"):
        tk.metrics_from_columns({"time": t * 2, "name": ["m"] * 2, "value": [1.0, None], "kind": ["sum", "histogram"],
                                 "count": [None, 1.0], "sum": [None, 1.0], "monotonic": [True, False]})
    ok = tk.metrics_from_columns({"time": t, "name": ["m"], "value": [1.0], "kind": ["sum"], "temporality": ["delta"],
                                  "monotonic": [True]})
    assert ok[["temporality", "monotonic"]].values.tolist() == [["delta", True]]


def test_exponential_buckets_the_writer_cannot_write_are_refused_by_the_builder():
    """A fresh reader's d15: metrics_from_columns accepted an exponential histogram whose zero count sits in no
    bucket (buckets hold 3 of count 4) and write_otlp_metrics then refused it. One layout rule for both
    (metrics_schema.exponential_buckets); what read_metrics makes (outer edges infinite, scale -10) still passes."""
    from tracekit.metrics_schema import MetricsSchemaError

    cols = {"time": [1_700_000_000 * 10**9], "name": "e", "kind": "exponential_histogram", "temporality": "delta",
            "count": [4.0], "sum": [3.0]}
    bad = {"bounds": [-2.0, -1.0, 0.0, 1.0, 2.0], "counts": [0, 1, 0, 1, 1, 1], "scale": 0, "zero_count": 1,
           "zero_threshold": 0.0}
    with pytest.raises(MetricsSchemaError, match=r"column 'buckets' row 0: exponential histogram buckets hold 3 "
                                                 r"observations, count is 4"):
        tk.metrics_from_columns({**cols, "buckets": [bad]})
    off = dict(bad, bounds=[-2.0, -1.0, 0.0, 1.0, 3.0], counts=[0, 1, 1, 1, 1, 0])  # (1, 3] is no scale-0 bucket
    with pytest.raises(MetricsSchemaError, match=r"bucket \(1.0, 3.0\] of scale 0 is not a bucket"):
        tk.metrics_from_columns({**cols, "buckets": [off]})


@pytest.mark.parametrize("as_bytes", [True, False], ids=["fast path", "parsed document"])
def test_a_start_time_of_zero_is_not_set_not_1970(as_bytes):
    """OTLP's startTimeUnixNano is a fixed64: 0 is proto3's "not set". Read as 1970, a counter's first rate was its
    value over 54 years (3.5e-7/s); the start is unknown, so the first rate is too."""
    t0 = 1_700_000_000 * 10**9
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "c", "sum": {
        "aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
            {"asInt": str(600 * (i + 1)), "startTimeUnixNano": st, "timeUnixNano": str(t0 + (i + 1) * 60 * 10**9)}
            for i, st in enumerate(["0", 0, str(t0)])]}}]}]}]}
    m = tk.read_metrics(json.dumps(doc).encode() if as_bytes else doc)
    assert m["start_time"].isna().tolist() == [True, True, False]
    rates = tk.metric_rates(m)["value"].tolist()
    assert np.isnan(rates[0]) and rates[1:] == [10.0, 10.0]
