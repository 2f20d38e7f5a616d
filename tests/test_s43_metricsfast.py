"""Round-trip leftovers of the metrics and OTLP writers / readers (session 43, metricsfast).

1. A span event without a time (``timeUnixNano`` absent, null or 0: proto3's unset value) was read as time 0,
   1970-01-01, on both OTLP span paths; the canonical schema's ``events`` cells hold ``time`` "ns since epoch or
   None": it is now None (and the writer leaves it out, so it stays None).
2. write_otlp_metrics wrote a point at exactly 1970-01-01 as ``timeUnixNano: 0``, which read_metrics refuses as
   "no time": the writer now refuses the row itself, naming it (the writer never writes what the reader refuses).
3. A truncated single JSON document (not JSON lines) read with ``errors="skip"`` loaded nothing (the whole file one
   skipped record): the records complete before the cut are now loaded, the cut flagged (``attrs["truncated"]``,
   a skipped record naming the file and position); strict reads still refuse it, naming file and position.

Every input is built by construction.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError, TraceFormatWarning, TraceKitError
from tracekit.io import otlp_fast

TID = "5759e988bd862e3fe1be46a994272793"
T0 = 1_700_000_000_000_000_000  # ns: 2023-11-14


def _span(sid: str, **kw) -> dict:
    d = {"traceId": TID, "spanId": sid * 16, "name": "op", "startTimeUnixNano": str(T0),
         "endTimeUnixNano": str(T0 + 1000)}
    d.update(kw)
    return d


def _spans_doc(*spans: dict) -> bytes:
    return json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "lib"},
                                                                          "spans": list(spans)}]}]}).encode()


@pytest.fixture(params=[True, False], ids=["fast", "checked"])
def span_path(request, monkeypatch):
    monkeypatch.setattr(otlp_fast, "ENABLED", request.param)
    return request.param


# ----------------------------------------------------------------------------- 1. an event without a time


@pytest.mark.parametrize("given", ["absent", "null", "zero", "zero-number"])
def test_an_event_without_a_time_has_no_time_not_1970(span_path, given):
    ev: dict = {"name": "retry"}
    if given != "absent":
        ev["timeUnixNano"] = {"null": None, "zero": "0", "zero-number": 0}[given]
    timed = {"name": "sent", "timeUnixNano": str(T0 + 500)}
    df = tk.read_otlp(_spans_doc(_span("1", events=[ev, timed])))
    events = df["events"].iloc[0]
    assert [e["name"] for e in events] == ["retry", "sent"]
    assert events[0]["time"] is None  # the schema's "ns since epoch or None": not 0 (1970-01-01)
    assert events[1]["time"] == T0 + 500  # a timed event keeps its time (control)


def test_an_event_without_a_time_round_trips_without_one(tmp_path):
    df = tk.read_otlp(_spans_doc(_span("1", events=[{"name": "retry"}, {"name": "sent",
                                                                        "timeUnixNano": str(T0 + 5)}])))
    back = tk.read_otlp(tk.write_otlp(df, tmp_path / "s.jsonl"))
    assert [(e["name"], e["time"]) for e in back["events"].iloc[0]] == [("retry", None), ("sent", T0 + 5)]


# ----------------------------------------------------------------------------- 2. a metric point at time 0


def _metrics(times: list) -> pd.DataFrame:
    return tk.metrics_from_columns({"time": times, "name": "cpu", "value": [1.0] * len(times), "service": "api"})


def test_write_otlp_metrics_refuses_a_point_at_1970_that_read_metrics_would_refuse(tmp_path):
    m = _metrics([pd.Timestamp(T0), pd.Timestamp(0), pd.Timestamp(T0 + 10**9)])
    path = tmp_path / "m.jsonl"
    with pytest.raises(TraceKitError, match=r"row 1: .*1970-01-01") as info:
        tk.write_otlp_metrics(m, path)
    assert "write_otlp_metrics" in str(info.value)
    assert not os.path.exists(path)  # nothing half-written


def test_write_otlp_metrics_writes_every_other_point_and_reads_them_back(tmp_path):
    # control: the times around the epoch the writer can carry (1 ns after it) still round-trip
    m = _metrics([pd.Timestamp(1), pd.Timestamp(T0)])
    back = tk.read_metrics(tk.write_otlp_metrics(m, tmp_path / "m.jsonl"))
    assert back["time"].astype("int64").tolist() == [1, T0]


# ----------------------------------------------------------------------------- 3. a truncated single JSON document


def _cut_inside(text: bytes, marker: bytes) -> bytes:
    """``text`` cut in the middle of the object that holds ``marker`` (a span id, a point's time)."""
    at = text.index(marker)
    assert text.count(marker) == 1
    return text[:at + len(marker) // 2]


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty"])
def test_read_otlp_lenient_loads_the_spans_before_a_cut_and_flags_it(span_path, indent):
    spans = [_span(str(k), attributes=[{"key": "k", "value": {"stringValue": f"v{k}"}}]) for k in range(1, 6)]
    text = json.dumps(json.loads(_spans_doc(*spans)), indent=indent).encode()
    cut = _cut_inside(text, b"4" * 16)  # inside span 4: spans 1-3 are whole
    with pytest.raises(TraceFormatError, match=r"file is truncated.*char \d+") as info:
        tk.read_otlp(cut)  # strict: refused, naming the position (control)
    assert info.value.file == "<object>"
    with pytest.warns(TraceFormatWarning, match="truncated"):
        df = tk.read_otlp(cut, errors="skip")
    assert sorted(df["span_id"]) == [str(k) * 16 for k in (1, 2, 3)]  # was: 0 spans
    assert [a["k"] for a in df.sort_values("span_id")["attributes"]] == ["v1", "v2", "v3"]
    assert df.attrs["truncated"] is True
    (skipped,) = df.attrs["skipped"]
    assert skipped.reason.startswith("file is truncated") and "loaded" in skipped.reason


def test_read_otlp_lenient_cut_inside_a_second_resource_keeps_the_first_whole():
    one = json.loads(_spans_doc(_span("1"), _span("2")))["resourceSpans"][0]
    two = json.loads(_spans_doc(_span("3"), _span("4")))["resourceSpans"][0]
    text = json.dumps({"resourceSpans": [one, two]}).encode()
    with pytest.warns(TraceFormatWarning):
        df = tk.read_otlp(_cut_inside(text, b"4" * 16), errors="skip")
    # the second resource is cut in its 2nd span: its whole 1st span loads too (session 52: every record complete
    # before the cut; it had been left out with its resource), the span the cut ends does not
    assert sorted(df["span_id"]) == ["1" * 16, "2" * 16, "3" * 16] and df.attrs["truncated"] is True


def test_read_metrics_lenient_loads_the_points_before_a_cut_and_flags_it(tmp_path):
    pts = [{"timeUnixNano": str(T0 + k * 60_000_000_000), "asDouble": float(k)} for k in range(1, 7)]
    text = json.dumps({"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"metrics": [
        {"name": "cpu", "gauge": {"dataPoints": pts}}]}]}]}, indent=1).encode()
    cut = _cut_inside(text, str(T0 + 5 * 60_000_000_000).encode())  # inside point 5
    path = tmp_path / "m.json"
    path.write_bytes(cut)
    with pytest.raises(TraceFormatError, match="file is truncated") as info:
        tk.read_metrics(path)
    assert str(info.value.file).endswith("m.json")
    with pytest.warns(TraceFormatWarning, match="truncated"):
        df = tk.read_metrics(path, errors="skip")
    assert df["value"].tolist() == [1.0, 2.0, 3.0, 4.0]  # was: no point
    assert df.attrs["truncated"] is True


def test_a_cut_inside_the_first_record_still_loads_nothing_and_says_so():
    # control: nothing complete before the cut: no row, the cut listed
    text = _spans_doc(_span("1"), _span("2"))
    with pytest.warns(TraceFormatWarning):
        df = tk.read_otlp(_cut_inside(text, b"1" * 16), errors="skip")
    assert len(df) == 0 and df.attrs["truncated"] is True


# ----------------------------------------------------------------------------- 4. binary attributes (a control)


def test_a_binary_attribute_keeps_its_base64_text_through_a_round_trip(tmp_path):
    """Control (passes on the old code too): the documented round trip of a bytesValue (io/write.py's docstring):
    its base64 text is kept (the type becomes a stringValue); a Python bytes value is written as a bytesValue."""
    import base64
    raw = bytes(range(7))
    b64 = base64.b64encode(raw).decode()
    df = tk.read_otlp(_spans_doc(_span("1", attributes=[{"key": "b", "value": {"bytesValue": b64}}])))
    assert df["attributes"].iloc[0]["b"] == b64
    back = tk.read_otlp(tk.write_otlp(df, tmp_path / "a.jsonl"))
    assert back["attributes"].iloc[0]["b"] == b64
    df2 = df.copy()
    df2["attributes"] = [{"b": raw}]
    p = tk.write_otlp(df2, tmp_path / "b.jsonl")
    assert json.dumps({"bytesValue": b64}, separators=(",", ":")) in p.read_text()
    assert tk.read_otlp(p)["attributes"].iloc[0]["b"] == b64
