"""Session 53: reader messages the session-52 reader notes left (each test fails on the code before it)."""

from __future__ import annotations

import json

import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_a_cloudwatch_statistics_timestamp_in_milliseconds_is_named_as_such(tmp_path):
    # the API's JSON gives epoch seconds; a hand-made export in milliseconds was "out of range (... after 2262)"
    p = _write(tmp_path, "cpu.json", {"Label": "CPUUtilization", "Datapoints": [
        {"Timestamp": 1704067200, "Average": 3.0, "Unit": "Percent"},
        {"Timestamp": 1704067260000, "Average": 4.0, "Unit": "Percent"}]})
    with pytest.raises(TraceFormatError) as e:
        tk.read_metrics(p)
    msg = str(e.value)
    assert "cpu.json" in msg and "Datapoints[1]" in msg
    assert "epoch milliseconds, not seconds" in msg and "2024-01-01 00:01:00 UTC" in msg
    with pytest.warns(tk.TraceFormatWarning):
        m = tk.read_metrics(p, errors="skip")
    assert len(m) == 1 and m["time"].iloc[0] == tk_time("2024-01-01T00:00:00Z")
    assert [s.record for s in m.attrs["skipped"]] == ["Datapoints[1]"]


def test_a_cloudwatch_metric_data_timestamp_in_milliseconds_is_named_as_such(tmp_path):
    p = _write(tmp_path, "data.json", {"MetricDataResults": [
        {"Id": "m1", "Label": "CPUUtilization", "Timestamps": [1704067200000], "Values": [5.0], "StatusCode": "Complete"}]})
    with pytest.raises(TraceFormatError, match=r"Timestamps\[0\] 1704067200000 is epoch milliseconds"):
        tk.read_metrics(p)


def test_a_cloudwatch_timestamp_in_seconds_and_iso_text_still_read_alike(tmp_path):
    a = tk.read_metrics(_write(tmp_path, "a.json", {"Label": "X", "Datapoints": [
        {"Timestamp": 1704067200.5, "Average": 1.0}]}))
    b = tk.read_metrics(_write(tmp_path, "b.json", {"Label": "X", "Datapoints": [
        {"Timestamp": "2024-01-01T00:00:00.5Z", "Average": 1.0}]}))
    assert a["time"].iloc[0] == b["time"].iloc[0] == tk_time("2024-01-01T00:00:00.5Z")


def tk_time(text: str):
    import pandas as pd

    return pd.Timestamp(text)
