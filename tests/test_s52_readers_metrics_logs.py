"""Session 52, readers (metrics and logs): four defects a reviewer found (/tmp/tk/s52/readers/findings.md items 2, 5, 6
and 10), each pinned by its exact value or message.

* A ResourceMetrics whose ``scopeMetrics`` / ``instrumentationLibraryMetrics`` is a number or a boolean: a
  TraceFormatError naming the file and ``resourceMetrics[i]`` (it was a bare TypeError, with ``errors="skip"`` too).
* CloudWatch ``ExtendedStatistics``: ``p99.9`` is quantile 0.999 exactly, ``p99.99`` 0.9999, ``p100`` 1.0.
* A CloudWatch Logs event's ``timestamp`` (or ``ingestionTime``) in epoch seconds is refused, naming the file and the
  event (it was read as milliseconds: January 1970).
* X-Ray segment documents and the X-Ray daemon's header are other signals' documents for ``read_logs`` and
  ``read_metrics``: listed in ``attrs["ignored"]``, never a log row with no time, never an error.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk

GOOD = {"name": "m", "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asDouble": 1}]}}


def _skip(reader, source, **kw):
    """A read with errors="skip" (its one TraceFormatWarning caught)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.TraceFormatWarning)
        return reader(source, errors="skip", **kw)


# -- 1. read_metrics: scopeMetrics / instrumentationLibraryMetrics that is no list ----------------------------------

@pytest.mark.parametrize(("bad", "reason"), [
    ({"scopeMetrics": 1.5}, "scopeMetrics must be a list, got 1.5"),
    ({"scopeMetrics": True}, "scopeMetrics must be a list, got true"),
    ({"instrumentationLibraryMetrics": True}, "instrumentationLibraryMetrics must be a list, got true"),
    ({"scopeMetrics": [], "instrumentationLibraryMetrics": 1}, "instrumentationLibraryMetrics must be a list, got 1"),
    ({"scope_metrics": 2}, "scopeMetrics must be a list, got 2"),
])
def test_metrics_scope_list_that_is_a_scalar_is_named(tmp_path, bad, reason):
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [GOOD]}]}, bad]}
    p = tmp_path / "r01.json"
    p.write_text(json.dumps(doc))
    for source, file in ((p, str(p)), (doc, "<object>")):
        with pytest.raises(tk.TraceFormatError) as e:
            tk.read_metrics(source)
        assert str(e.value) == f"{file}, resourceMetrics[1]: {reason}"
        assert (e.value.file, e.value.record) == (file, "resourceMetrics[1]")
        df = _skip(tk.read_metrics, source)
        assert df["value"].tolist() == [1.0]  # the good point loads
        assert df["time"].tolist() == [pd.Timestamp(1_700_000_000_000_000_000, tz="UTC")]
        assert [(s.file, s.record, s.reason) for s in df.attrs["skipped"]] == [(file, "resourceMetrics[1]", reason)]


# -- 2. CloudWatch ExtendedStatistics: pNN keys as exact decimal quantiles ------------------------------------------

def test_cloudwatch_percentile_keys_are_exact_quantiles():
    gms = {"Label": "Latency", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "Unit": "Milliseconds", "Average": 12.0,
           "ExtendedStatistics": {"p50": 10.0, "p99.9": 80.0, "p99.99": 95.0, "p100": 120.0, "p0": 1.0,
                                  "tm99": 9.0, "p100.5": 7.0}}]}
    df = tk.read_metrics(gms)
    q = df["quantiles"].iloc[0]
    assert q == {0.5: 10.0, 0.999: 80.0, 0.9999: 95.0, 1.0: 120.0, 0.0: 1.0}
    assert list(q) == [0.5, 0.999, 0.9999, 1.0, 0.0]  # exactly those doubles: 0.999, not 0.9990000000000001
    assert 0.999 in q and 0.9999 in q and 1.0 in q
    # what is no percentile stays an attribute as written (a trimmed mean; no percentile above 100)
    assert dict(df["attributes"].iloc[0]) == {"tm99": 9.0, "p100.5": 7.0}


@pytest.mark.parametrize(("key", "quantile"), [("p99.9", 0.999), ("p99.99", 0.9999), ("p99.999", 0.99999),
                                               ("p100", 1.0), ("p100.0", 1.0), ("p0.1", 0.001), ("p95", 0.95),
                                               ("p99.90", 0.999), ("p33.3", 0.333), ("p5", 0.05)])
def test_cloudwatch_percentile_key_value(key, quantile):
    gms = {"Label": "L", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "ExtendedStatistics": {key: 3.0}}]}
    df = _skip(tk.read_metrics, gms)
    assert df["quantiles"].iloc[0] == {quantile: 3.0}
    assert list(df["quantiles"].iloc[0])[0] == quantile
    assert dict(df["attributes"].iloc[0]) == {}


# -- 3. CloudWatch Logs events: a timestamp in epoch seconds is refused ---------------------------------------------

SECONDS_REASON = ("timestamp 1704067200 is epoch seconds, not milliseconds: as milliseconds it is 1970-01-20 17:21:07 "
                  "UTC, as seconds 2024-01-01 00:00:00 UTC (a CloudWatch Logs event's times are milliseconds since the "
                  "epoch: multiply by 1000)")


def test_cloudwatch_event_timestamp_in_seconds_is_refused(tmp_path):
    gle = {"events": [{"timestamp": 1704067200000, "message": "ok", "ingestionTime": 1704067201000},
                      {"timestamp": 1704067200, "message": "hello", "ingestionTime": 1704067201}],
           "nextForwardToken": "f/1"}
    p = tmp_path / "gle.json"
    p.write_text(json.dumps(gle))
    for source, file in ((p, str(p)), (gle, "<object>")):
        with pytest.raises(tk.TraceFormatError) as e:
            tk.read_logs(source)
        assert str(e.value) == f"{file}, events[1]: {SECONDS_REASON}"
        df = _skip(tk.read_logs, source)
        assert df["body"].tolist() == ["ok"]
        assert df["time"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC")]
        assert [(s.file, s.record, s.reason) for s in df.attrs["skipped"]] == [(file, "events[1]", SECONDS_REASON)]


def test_cloudwatch_ingestion_time_in_seconds_and_subscription_events(tmp_path):
    gle = {"events": [{"timestamp": 1704067200000, "message": "hello", "ingestionTime": 1704067201}]}
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(gle)
    assert str(e.value) == ("<object>, events[0]: ingestionTime 1704067201 is epoch seconds, not milliseconds: as "
                            "milliseconds it is 1970-01-20 17:21:07 UTC, as seconds 2024-01-01 00:00:01 UTC (a "
                            "CloudWatch Logs event's times are milliseconds since the epoch: multiply by 1000)")
    payload = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "g", "logStream": "s",
               "subscriptionFilters": ["f"], "logEvents": [{"id": "1", "timestamp": 1704067200, "message": "hi"}]}
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(payload)
    assert str(e.value) == f"<object>, logEvents[0]: {SECONDS_REASON}"


def test_cloudwatch_event_times_that_are_milliseconds_still_load():
    # milliseconds of 2024, and small numbers (no 1990-2100 time in seconds): read as milliseconds, as before
    gle = {"events": [{"timestamp": 1704067200123, "message": "a"}, {"timestamp": 5000, "message": "b"},
                      {"timestamp": 631151999, "message": "c"}, {"timestamp": 4102444801, "message": "d"}]}
    df = tk.read_logs(gle)
    assert df["time"].tolist() == [pd.Timestamp("2024-01-01 00:00:00.123", tz="UTC"),
                                   pd.Timestamp(5000, unit="ms", tz="UTC"),
                                   pd.Timestamp(631151999, unit="ms", tz="UTC"),
                                   pd.Timestamp(4102444801, unit="ms", tz="UTC")]
