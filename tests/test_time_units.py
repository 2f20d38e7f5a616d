"""Numeric times handed to the ``*_from_columns`` builders: one rule for spans, logs and metrics.

Integers (or floats) are nanoseconds since the epoch unless ``time_unit`` says otherwise. A column whose
every value is a plausible 1990-2100 time in seconds, milliseconds or microseconds (so, read as
nanoseconds, would all fall in the first hour of January 1970) is an error naming the column, the first
such value, the unit it looks like and the keyword to say it; small integers stay nanoseconds.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError

#: 2023-01-29 00:44:04.123456789 UTC, the same instant in every unit
NS = 1_674_953_044_123_456_789
FACTOR = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}


def _spans(start, end, **kw):
    n = len(start)
    return tk.spans_from_columns({"trace_id": ["ab" * 16] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
                                  "service": "api", "name": "GET /", "start": start, "end": end}, **kw)


def _logs(time, **kw):
    return tk.logs_from_columns({"time": time, "body": [f"line {i}" for i in range(len(time))]}, **kw)


def _metrics(time, **kw):
    return tk.metrics_from_columns({"time": time, "name": "cpu", "value": np.arange(len(time), dtype=float)}, **kw)


BUILDERS = {
    "spans": (lambda t, **kw: _spans(t, t, **kw), "start", "spans_from_columns"),
    "logs": (_logs, "time", "logs_from_columns"),
    "metrics": (_metrics, "time", "metrics_from_columns"),
}


def _times(frame: pd.DataFrame, kind: str) -> pd.Series:
    return frame["start" if kind == "spans" else "time"]


@pytest.mark.parametrize("kind", BUILDERS)
@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_epoch_times_in_a_coarser_unit_are_an_error_naming_column_value_and_unit(kind, unit):
    build, column, who = BUILDERS[kind]
    # three requests a minute apart, truncated to the unit (what a CSV in that unit holds)
    t = np.array([NS, NS + 60 * 10**9, NS + 120 * 10**9]) // FACTOR[unit]
    with pytest.raises(tk.TraceKitError) as err:
        build(t)
    msg = str(err.value)
    assert who in msg and repr(column) in msg and str(t[0]) in msg, msg
    assert NAMES[unit] in msg and f"time_unit={unit!r}" in msg and "2023-01-29 00:44:04" in msg, msg


@pytest.mark.parametrize("kind", BUILDERS)
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_time_unit_reads_integers_in_each_unit(kind, unit):
    build, _, _ = BUILDERS[kind]
    ns = np.array([NS, NS + 60 * 10**9, NS + 120 * 10**9])
    got = _times(build(ns // FACTOR[unit], time_unit=unit), kind)
    want = pd.to_datetime(ns // FACTOR[unit] * FACTOR[unit], unit="ns", utc=True)
    assert got.tolist() == list(want)
    assert str(got.dtype) == "datetime64[ns, UTC]"


def test_float_seconds_are_read_to_the_microsecond_and_nan_is_missing():
    """Float epoch seconds (float64 holds them to ~0.24 us) to the microsecond; NaN is NaT."""
    t = np.array([1_674_953_044.123456, np.nan, 1_674_953_104.5])
    want = [pd.Timestamp("2023-01-29 00:44:04.123456", tz="UTC"), pd.NaT, pd.Timestamp("2023-01-29 00:45:04.5", tz="UTC")]
    s = _spans(np.array([t[0], t[2], t[2]]), t, time_unit="s")  # start is required: the NaN goes in end
    assert s["start"].tolist() == [want[0], want[2], want[2]] and s["end"].tolist() == want
    assert s["duration_ms"].iloc[2] == 0.0 and np.isnan(s["duration_ms"].iloc[1])
    assert _logs(t, time_unit="s")["time"].tolist() == want
    # metrics' time is required (validated by default): check=False shows the reading alone
    assert _metrics(t, time_unit="s", check=False)["time"].tolist() == want
    with pytest.raises(tk.MetricsSchemaError, match="'time' has 1 missing values"):
        _metrics(t, time_unit="s")


@pytest.mark.parametrize("kind", BUILDERS)
def test_small_integers_stay_nanoseconds_and_explicit_ns_trusts_the_numbers(kind):
    build, _, _ = BUILDERS[kind]
    assert _times(build([0, 1000, 1_500_000]), kind).tolist() == list(pd.to_datetime([0, 1000, 1_500_000], unit="ns", utc=True))
    # nanoseconds a second or two after the epoch look like epoch seconds: refused unless the unit is said
    t = [1_000_000_000, 2_000_000_000]
    with pytest.raises(tk.TraceKitError, match="seconds"):
        build(t)
    assert _times(build(t, time_unit="ns"), kind).tolist() == list(pd.to_datetime(t, unit="ns", utc=True))
    # a column mixing small and epoch-second values is not all one unit: read as ns, as before
    assert _times(build([0, 1_674_953_044]), kind).iloc[1] == pd.Timestamp(1_674_953_044, unit="ns", tz="UTC")
    # real nanosecond times need no keyword
    assert _times(build([NS]), kind).iloc[0] == pd.Timestamp(NS, unit="ns", tz="UTC")


def test_the_time_columns_of_a_frame_are_read_together():
    """start and end (time and observed_time, time and start_time) share one unit: spans starting at 0
    whose ends fall 0.6-4.1 s later are nanoseconds (as in many synthetic frames), not epoch seconds."""
    s = _spans([0, 0], [700_000_000, 3_000_000_000])
    assert s["duration_ms"].tolist() == [700.0, 3000.0]
    t = [1_674_953_044, 1_674_953_045]
    with pytest.raises(tk.SpansSchemaError, match=r"column 'start' \(and 'end'\) holds epoch seconds"):
        _spans(t, t)
    logs = tk.logs_from_columns({"time": t, "observed_time": t, "body": ["a", "b"]}, time_unit="s")
    assert logs["observed_time"].tolist() == logs["time"].tolist() == list(pd.to_datetime(t, unit="s", utc=True))
    with pytest.raises(tk.LogsSchemaError, match=r"'time' \(and 'observed_time'\)"):
        tk.logs_from_columns({"time": t, "observed_time": t, "body": ["a", "b"]})
    m = tk.metrics_from_columns({"time": t, "start_time": [t[0]] * 2, "name": "n", "value": [1.0, 2.0]}, time_unit="s")
    assert (m["start_time"] == pd.Timestamp(t[0], unit="s", tz="UTC")).all()
    with pytest.raises(tk.MetricsSchemaError, match=r"'time' \(and 'start_time'\)"):
        tk.metrics_from_columns({"time": t, "start_time": [t[0]] * 2, "name": "n", "value": [1.0, 2.0]})


@pytest.mark.parametrize("kind", BUILDERS)
def test_time_unit_is_checked_and_leaves_text_and_datetimes_alone(kind):
    build, _, _ = BUILDERS[kind]
    with pytest.raises(ArgumentError, match="time_unit.*'sec'.*'s', 'ms', 'us', 'ns'"):
        build([NS], time_unit="sec")
    text = ["2023-01-29T00:44:04.5Z"]
    assert _times(build(text, time_unit="s"), kind).iloc[0] == pd.Timestamp("2023-01-29 00:44:04.5", tz="UTC")


def test_one_definition_of_numeric_times():
    """The three builders share the one keyword, spelled and defaulted the same."""
    import inspect

    params = [inspect.signature(f).parameters["time_unit"] for f in
              (tk.spans_from_columns, tk.logs_from_columns, tk.metrics_from_columns)]
    assert {(p.kind, p.default) for p in params} == {(inspect.Parameter.KEYWORD_ONLY, None)}


# ------------------------------------------------------------------------------ real CSVs (Nezha)


def _nezha(real_traces, rel):
    path = real_traces / "nezha" / rel
    if not path.is_file():
        pytest.skip(f"Nezha CSV not found at {path}")
    return path


def test_nezha_metric_timestamp_column_is_epoch_seconds(real_traces):
    """Nezha's per-pod metric CSVs carry ``TimeStamp`` in epoch seconds beside the ``Time`` text."""
    path = _nezha(real_traces, "fault-days/rca_data/2022-08-22/metric/cartservice-579f59597d-wc2lz_metric.csv.gz")
    wide = pd.read_csv(path)
    cols = {"time": wide["TimeStamp"], "name": "CpuUsageRate", "value": wide["CpuUsageRate(%)"]}
    with pytest.raises(tk.MetricsSchemaError, match=rf"'time'.*{wide['TimeStamp'].iloc[0]}.*seconds.*time_unit='s'"):
        tk.metrics_from_columns(cols)
    m = tk.metrics_from_columns(cols, time_unit="s")
    text = pd.to_datetime(wide["Time"].str[:19], utc=True)  # the same minute, as Go printed it
    assert m["time"].tolist() == text.tolist()


def test_nezha_trace_csv_in_each_unit(real_traces):
    """The TrainTicket trace CSV (ns) divided to us and ms: each refused without the unit, equal with it."""
    df = pd.read_csv(_nezha(real_traces, "trainticket-2023-01-29/09_34_trace.csv"))
    start, end = df["StartTimeUnixNano"].to_numpy(np.int64), df["EndTimeUnixNano"].to_numpy(np.int64)
    as_ns = _spans(start, end)
    assert as_ns["start"].min().year == 2023
    for unit in ("us", "ms"):
        f = FACTOR[unit]
        with pytest.raises(tk.SpansSchemaError, match=rf"'start' \(and 'end'\) holds epoch {NAMES[unit]}.*{start[0] // f}"):
            _spans(start // f, end // f)
        got = _spans(start // f, end // f, time_unit=unit)
        assert (got["start"].astype("int64") == start // f * f).all()
        assert (got["end"].astype("int64") == end // f * f).all()


def test_nezha_log_csv_times_in_seconds(real_traces):
    path = _nezha(real_traces, "fault-days/construct_data/2023-01-29/log/08_50_log.csv.gz")
    with gzip.open(path, "rt") as f:
        df = pd.read_csv(f, usecols=["Timestamp", "TimeUnixNano"], nrows=2000)
    ns = df["TimeUnixNano"].to_numpy(np.int64)
    assert _logs(ns)["time"].tolist() == pd.to_datetime(df["Timestamp"], utc=True).tolist()
    with pytest.raises(tk.LogsSchemaError, match=r"'time'.*seconds.*time_unit='s'"):
        _logs(ns // 10**9)
    assert (_logs(ns // 10**9, time_unit="s")["time"].astype("int64") == ns // 10**9 * 10**9).all()
