"""The spans schema: declared once, the docs/reference.md table and validators generated from it."""

from __future__ import annotations

import inspect
import re

import pandas as pd
import pytest

import tracekit as tk
from tracekit.schema import SPAN_COLUMNS, SpansSchemaError, spans_from_columns, validate_spans

from .conftest import REPO


def _one(**over):
    cols = {"trace_id": ["ab" * 16], "span_id": ["cd" * 8], "service": ["api"], "name": ["GET /"],
            "start": [1_700_000_000_000_000_000], "end": [1_700_000_000_250_000_000]}
    cols.update(over)
    return tk.spans_from_columns(cols)


def test_reference_column_table_is_generated_from_the_schema():
    reference = (REPO / "docs" / "reference.md").read_text()
    assert tk.schema_markdown() in reference, "docs/reference.md's column table is stale: paste tk.schema_markdown() into it"


def test_empty_spans_has_every_declared_column_and_dtype():
    df = tk.empty_spans()
    assert list(df.columns) == [c.name for c in SPAN_COLUMNS]
    for c in SPAN_COLUMNS:
        assert c.dtype_name == ("object" if df[c.name].dtype == object else str(df[c.name].dtype))
    assert tk.validate_spans(df) is df


def test_spans_from_columns_derives_duration_and_defaults():
    df = _one()
    assert df.loc[0, "duration_ms"] == 250.0
    assert df.loc[0, "kind"] == "unspecified" and df.loc[0, "status"] == "unset"
    assert df.loc[0, "attributes"] == {} and df.loc[0, "events"] == []
    assert pd.isna(df.loc[0, "parent_id"])
    tk.validate_spans(df)


@pytest.mark.parametrize("column,value,message", [
    ("trace_id", ["XYZ"], "trace_id"),
    ("span_id", ["ABCDEF0123456789"], "span_id"),  # upper case is not canonical
    ("kind", ["sideways"], "kind"),
])
def test_validate_spans_names_the_bad_column(column, value, message):
    df = _one()
    df[column] = pd.Series(value, dtype=df[column].dtype)  # as a user's edit leaves it (the builder lowers ids)
    with pytest.raises(SpansSchemaError, match=message):
        tk.validate_spans(df)


def test_spans_from_columns_puts_ids_in_the_readers_form():
    """Ids of an export (upper case, X-Ray form, a root's blank parent) did not join the logs read from files
    (attach_logs: "trace not in spans"), and a CSV root with parent "" was an orphan: the trace had no request."""
    t0 = 1_772_460_000_000_000_000
    s = tk.spans_from_columns({"trace_id": ["1-0AF76519-16CD43DD8448EB211C80319C", "0AF7651916CD43DD8448EB211C80319C"],
                               "span_id": ["B7AD6B7169203331", "c7ad6b7169203331"], "parent_id": ["", "B7AD6B7169203331"],
                               "service": ["a", "b"], "name": ["x", "y"], "start": [t0, t0 + 10**6], "end": [t0 + 10**8] * 2},
                              check=True)
    assert s["trace_id"].tolist() == ["0af7651916cd43dd8448eb211c80319c"] * 2
    assert s["span_id"].tolist() == ["b7ad6b7169203331", "c7ad6b7169203331"]
    assert pd.isna(s["parent_id"].iloc[0]) and s["parent_id"].iloc[1] == "b7ad6b7169203331"
    ts = tk.trace_summary(s)
    assert ts["request"].tolist() == [True] and ts["request_ms"].tolist() == [100.0]
    logs = tk.logs_from_columns({"time": [t0 + 5 * 10**6], "body": ["hi"], "trace_id": ["0AF7651916CD43DD8448EB211C80319C"],
                                 "span_id": ["C7AD6B7169203331"]})
    att = tk.attach_logs(s, logs)
    assert att.unmatched.empty and len(att.spans["events"].iloc[1]) == 1
    # an id that is no hex id is kept as given (validate_spans names it)
    odd = tk.spans_from_columns({"trace_id": ["t1"], "span_id": ["s1"], "service": ["a"], "name": ["x"],
                                 "start": [t0], "end": [t0 + 1]})
    assert odd[["trace_id", "span_id"]].values.tolist() == [["t1", "s1"]]


def test_spans_from_columns_takes_start_and_duration():
    """An export of start and duration, no end (a common CSV shape): the row had end NaT beside duration 100 ms,
    not in progress, and trace_summary read no latency. The end is start + duration; no duration: in progress."""
    t0 = 1_772_460_000_000_000_123
    s = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["b" * 16, "c" * 16], "parent_id": [None, "b" * 16],
                               "service": ["a", "b"], "name": ["x", "y"], "start": [t0, t0],
                               "duration_ms": [100.000001, float("nan")]}, check=True)
    assert s["end"].iloc[0].value == t0 + 100_000_001 and s["duration_ms"].iloc[0] == pytest.approx(100.000001)
    assert pd.isna(s["end"].iloc[1]) and s["in_progress"].tolist() == [False, True]
    assert tk.trace_summary(s)["request_ms"].tolist() == [pytest.approx(100.000001)]
    with pytest.raises(SpansSchemaError, match="'duration_ms' row 0"):
        tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["b" * 16], "service": ["a"], "name": ["x"],
                               "start": [t0], "duration_ms": [-1.0]})


def test_validate_spans_rejects_nulls_and_wrong_dtypes():
    df = _one()
    df2 = df.copy()
    df2["service"] = pd.Series([None], dtype=tk.schema.STRING)
    with pytest.raises(SpansSchemaError, match="'service' has 1 missing"):
        tk.validate_spans(df2)
    df3 = df.copy()
    df3["duration_ms"] = df3["duration_ms"].astype(str)
    with pytest.raises(SpansSchemaError, match="duration_ms"):
        tk.validate_spans(df3)
    with pytest.raises(SpansSchemaError, match="DataFrame"):
        tk.validate_spans([1, 2])


def test_trace_id_conversion_round_trips_and_rejects_bad_ids():
    assert tk.xray_to_trace_id("1-5759E988-BD862E3FE1BE46A994272793") == "5759e988bd862e3fe1be46a994272793"
    assert tk.trace_id_to_xray(tk.xray_to_trace_id("1-58406520-a006649127e371903a2de979")) == "1-58406520-a006649127e371903a2de979"
    for bad in ("2-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd86", "", None):
        with pytest.raises(ValueError):
            tk.xray_to_trace_id(bad)
    with pytest.raises(ValueError):
        tk.trace_id_to_xray("1234")


@pytest.mark.slow  # 3.1 s in the fast lane (2 loaded cores, issue 28)
def test_import_tracekit_does_not_import_optional_extras():
    import subprocess
    import sys
    code = ("import sys, tracekit, tracekit.io.xray, tracekit.io.otlp; "
            "bad=[m for m in ('plotly','ipywidgets','boto3','botocore','dask','tqdm') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_resolves_and_has_a_docstring_with_an_example():
    missing, undocumented = [], []
    for name in tk.__all__:
        try:
            obj = getattr(tk, name)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{name}: {exc}")
            continue
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not issubclass(obj, (BaseException, tuple))
                                       and obj.__module__ != "tracekit.errors"):
            doc = obj.__doc__ or ""
            if ">>>" not in doc and "Example" not in doc:
                undocumented.append(name)
    assert not missing, missing
    assert not undocumented, f"public functions without an example in their docstring: {undocumented}"


def test_spans_from_columns_rejects_columns_of_different_lengths():
    # columns were aligned on their index: a short column silently became <NA>/NaT rows,
    # even in non-nullable columns (span_id, start)
    cols = {"trace_id": ["0" * 31 + "1"] * 2, "span_id": ["a" * 16], "service": ["api"] * 2, "name": ["x"] * 2,
            "start": [0, 1], "end": [1, 2]}
    with pytest.raises(SpansSchemaError, match="'span_id' has 1 values, 'trace_id' has 2"):
        tk.spans_from_columns(cols)


@pytest.mark.parametrize("start, end, bad", [
    (-1_000_000_000, 0, "column 'start' row 1: -1000000000 (1969-12-31 23:59:59 UTC) is out of range: "
                        "0 to 9214646400000000000 ns (1970-01-01 to 2262-01-01 UTC)"),
    ("1969-12-31T23:59:59Z", "1970-01-01T00:00:01Z", "column 'start' row 1: '1969-12-31T23:59:59Z' is out of range: "
                                                     "1970-01-01 to 2262-01-01 UTC"),
    (0, 9_220_000_000_000_000_000, "column 'end' row 1: 9220000000000000000 (2262-03-03 23:06:40 UTC) is out of "
                                   "range: 0 to 9214646400000000000 ns"),
])
def test_spans_from_columns_takes_the_readers_range_and_what_it_makes_reads_back(tmp_path, start, end, bad):
    """spans_from_columns took 1969 and 2262-03 (check=False, its default, and check=True alike), and
    write_xray / write_otlp then wrote files read_xray / read_otlp refuse: a frame it makes is either refused,
    naming the column and the row, or written to files every reader reads back to the same times. The
    range's own ends (the epoch, core.TIME_MAX_NS) are times."""
    from tracekit.core import TIME_MAX_NS, TIME_MIN_NS
    from tracekit.schema import TIME_MAX_NS as SCHEMA_MAX

    assert SCHEMA_MAX is TIME_MAX_NS  # one definition (layer 0), re-exported by the kernel
    ids = {"trace_id": ["0" * 31 + "1"] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
           "service": ["api"] * 2, "name": ["GET /", "db"], "kind": ["server", "client"]}
    for check in (False, True):
        with pytest.raises(SpansSchemaError, match=re.escape(f"spans_from_columns: {bad}")):
            tk.spans_from_columns({**ids, "start": [TIME_MIN_NS, start], "end": [TIME_MAX_NS, end]}, check=check)
    ok = tk.spans_from_columns({**ids, "start": [TIME_MIN_NS, 1_000], "end": [TIME_MAX_NS, TIME_MAX_NS - 10**9]})
    back = {"otlp": tk.read_otlp(tk.write_otlp(ok, tmp_path / "s.jsonl")),
            "xray": tk.read_xray(tk.write_xray(ok, tmp_path / "s.json"))}
    for fmt, df in back.items():
        got = df.set_index("span_id").loc[["a" * 16, "b" * 16]]
        assert got["start"].astype("int64").tolist() == [0, 1_000], fmt
        assert got["end"].astype("int64").tolist() == [TIME_MAX_NS, TIME_MAX_NS - 10**9], fmt


@pytest.mark.parametrize("build, cols, column", [
    ("logs_from_columns", {"body": ["a", "b"]}, "time"),
    ("metrics_from_columns", {"name": "m", "value": [1.0, 2.0]}, "time"),
])
@pytest.mark.parametrize("check", [True, False])
def test_logs_and_metrics_from_columns_take_the_readers_range(build, cols, column, check):
    """logs_from_columns and metrics_from_columns refused 1969 (metrics only with check=True) but took 2262-03,
    which no reader reads: the readers' range, the readers' words, whatever check says."""
    from tracekit.core import TIME_MAX_NS

    f = getattr(tk, build)
    assert f({**cols, column: [0, TIME_MAX_NS]}, check=check)[column].astype("int64").tolist() == [0, TIME_MAX_NS]
    for t in (TIME_MAX_NS + 1, -1):
        with pytest.raises(tk.TraceKitError, match=re.escape(f"{build}: column 'time' row 1: {t} (")
                           + r".* UTC\) is out of range: 0 to 9214646400000000000 ns \(1970-01-01 to 2262-01-01 UTC\)"):
            f({**cols, column: [0, t]}, check=check)


def test_the_builders_defaults_are_one_container_per_row_and_one_value_in_the_column_dtype():
    """A column a builder fills itself: dict and list columns get a new container per row (editing one row's
    never reaches another's), the others one value in the column's dtype (schema.column_of)."""
    from tracekit.logs_schema import LOG_COLUMNS
    from tracekit.metrics_schema import METRIC_COLUMNS
    from tracekit.schema import SPAN_COLUMNS, column_of

    built = [(tk.spans_from_columns({"trace_id": ["a" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16],
                                     "start": [0, 1, 2], "end": [3, 3, 3]}), SPAN_COLUMNS),
             (tk.logs_from_columns({"time": [0, 1, 2], "body": ["x", "y", "z"]}), LOG_COLUMNS),
             (tk.metrics_from_columns({"time": [0, 1, 2], "name": ["m"] * 3}), METRIC_COLUMNS)]
    for frame, columns in built:
        for col in columns:
            cells = frame[col.name].tolist()
            if col.dtype is object and isinstance(cells[0], (dict, list)):
                assert len({id(c) for c in cells}) == 3, (col.name, cells)
                cells[0].update(k=1) if isinstance(cells[0], dict) else cells[0].append(1)
                assert not cells[1] and not cells[2], col.name
            elif col.dtype is not object and col.name not in ("time", "observed_time", "start", "end", "duration_ms"):
                assert str(frame[col.name].dtype) == str(col.dtype), col.name
    assert column_of(3, "gauge", tk.schema.STRING).tolist() == ["gauge"] * 3
    assert column_of(0, None, "Int64").dtype == "Int64"


_ONE = dict(trace_id=["0" * 31 + "1"], span_id=["a" * 16], service=["api"], name=["GET /"],
            start=[1772460055890758000], end=[1772460055990758000])


@pytest.mark.parametrize(("extra", "says"), [
    ({"http_status": [2**70]}, "column 'http_status' row 0: 1180591620717411303424 is not a value of dtype Int64"),
    ({"http_status": [500.5]}, "column 'http_status' row 0: 500.5 is not a value of dtype Int64"),
    ({"name": ["\ud800"]}, "column 'name' row 0: '\\ud800' is not UTF-8 text (a lone surrogate)"),
    ({"attributes": ['{"a": 1}']}, "column 'attributes' row 0: '{\"a\": 1}' is of type str, not a dict (JSON text"),
    ({"resource": [[("service.name", "api")]]}, "column 'resource' row 0: [('service.name', 'api')] is of type list"),
    ({"events": ["x"]}, "column 'events' row 0: 'x' is of type str, not a list of dicts"),
    ({"links": [[1]]}, "column 'links' row 0: item 0 is of type int, not a dict (1)"),
])
def test_spans_from_columns_names_the_column_and_row_of_a_bad_value(extra, says):
    """Bare OverflowError, TypeError and UnicodeEncodeError from pandas and pyarrow, and cells of the wrong kind
    kept (a JSON text as attributes, a string as events) until a writer or top_exceptions crashed on them."""
    for check in (False, True):
        with pytest.raises(SpansSchemaError, match=re.escape(says)):
            spans_from_columns({**_ONE, **extra}, check=check)


def test_spans_from_columns_takes_a_mapping_and_generators():
    for bad in ([1, 2], None, 123):
        with pytest.raises(SpansSchemaError, match="takes a mapping of column name → values"):
            spans_from_columns(bad)
    df = spans_from_columns({**_ONE, "service": (s for s in ["api"]), "events": [({"name": "e", "time": 1},)]})
    assert df.loc[0, "service"] == "api" and list(df.loc[0, "events"]) == [{"name": "e", "time": 1}]


def test_validate_spans_checks_the_kind_of_container_cells():
    """validate_spans passed a frame whose events were strings; write_otlp then raised AttributeError."""
    good = spans_from_columns(_ONE)
    assert validate_spans(good) is good
    for col, value, says in (("events", "x", "column 'events' has dtype str: its cells must be lists of dicts"),
                             ("events", {"a": 1}, "column 'events' row 0: {'a': 1} is of type dict, not a list"),
                             ("attributes", ["a"], "column 'attributes' row 0: ['a'] is of type list, not a dict")):
        bad = good.copy()
        bad[col] = pd.Series([value], dtype=object) if not isinstance(value, str) else [value]
        with pytest.raises(SpansSchemaError, match=re.escape(says)):
            validate_spans(bad)


def test_a_missing_end_does_not_round_the_other_ends_through_float():
    """pandas reads [int, None] as float64: an end of …065474326 became …065474304 (-22 ns) when another span's end
    was missing, and back-to-back calls stopped being adjacent on the critical path."""
    t0 = 1_772_460_000_000_000_000
    s = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["b" * 16, "c" * 16], "service": ["a", "b"],
                               "name": ["x", "y"], "start": [t0, t0 + 1], "end": [t0 + 65_474_326, None]})
    assert s["end"].iloc[0].value == t0 + 65_474_326 and s["start"].iloc[1].value == t0 + 1
    assert s["in_progress"].tolist() == [False, True]


def test_xray_id_converters_raise_argument_errors():
    """A bad argument raises tk.ArgumentError (README); the converters raised a bare ValueError."""
    with pytest.raises(tk.ArgumentError, match="not an X-Ray trace id"):
        tk.xray_to_trace_id("bogus")
    with pytest.raises(tk.ArgumentError, match="not a 32-hex trace id"):
        tk.trace_id_to_xray("xyz")
    assert tk.trace_id_to_xray(tk.xray_to_trace_id("1-5759E988-BD862E3FE1BE46A994272793")) == \
        "1-5759e988-bd862e3fe1be46a994272793"


@pytest.mark.parametrize("build", ["spans", "logs", "metrics"])
def test_a_single_value_is_every_rows_and_no_row_shares_a_container_with_the_input(build):
    """One rule for the three builders (schema.single_value / repeated): a single value — a service name, a
    pd.Timestamp, a dict of attributes — is every row's, as in a DataFrame. spans_from_columns put it in the first
    row alone and left the others <NA> (a frame of 20,000 spans with service="svc" crashed detect_changes); and it
    kept the caller's dicts as its cells (the logs' and metrics' builders copy them)."""
    given = {"k": [1]}
    per_row = [{"a": [1]}, {"a": [2]}, {"a": [3]}]
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    if build == "spans":
        frame = tk.spans_from_columns({"trace_id": ["a" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16],
                                       "service": "svc", "name": "GET /", "start": t0, "end": [t0 + pd.Timedelta(1, "s")] * 3,
                                       "http_status": 200, "attributes": given, "resource": per_row})
        text, time, number = "service", "start", "http_status"
    elif build == "logs":
        frame = tk.logs_from_columns({"time": t0, "body": ["a", "b", "c"], "service": "svc", "severity": "WARN",
                                      "attributes": given, "resource": per_row})
        text, time, number = "service", "time", "severity_number"
    else:
        frame = tk.metrics_from_columns({"time": t0, "name": "cpu", "value": [1.0, 2.0, 3.0], "service": "svc",
                                         "attributes": given, "resource": per_row})
        text, time, number = "service", "time", "value"
    assert frame[text].tolist() == ["svc"] * 3 and frame[time].tolist() == [t0] * 3 and frame[number].notna().all()
    cells = frame["attributes"].tolist()
    assert cells == [given] * 3 and len({id(c) for c in cells}) == 3 and all(c is not given for c in cells)
    assert all(c["k"] is not given["k"] for c in cells)
    res = frame["resource"].tolist()
    assert all(a is not b and a["a"] is not b["a"] for a, b in zip(res, per_row, strict=True))
    cells[0]["k"].append(2)
    res[0]["a"].append(9)
    assert given == {"k": [1]} and per_row[0] == {"a": [1]} and frame["attributes"].iloc[1] == {"k": [1]}


@pytest.mark.parametrize("build", ["spans", "logs", "metrics"])
def test_iso_times_with_and_without_a_fraction_are_read_each_by_its_own(build):
    """datetime.isoformat() drops a zero fraction, so any export of Python times mixes both forms; pandas took the
    first value's format for all and the builders said "holds values that are not times" (a fresh reader's d14).
    The string dtype a CSV reader gives, as well as plain lists."""
    import datetime as dt

    t = [dt.datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, 0, 0, 1, tzinfo=dt.UTC)]
    for times in ([x.isoformat() for x in t], pd.Series([x.isoformat() for x in t], dtype="string")):
        if build == "spans":
            got = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "start": times,
                                         "end": [x + dt.timedelta(seconds=1) for x in t]})["start"]
        elif build == "logs":
            got = tk.logs_from_columns({"time": times, "body": ["x", "y"]})["time"]
        else:
            got = tk.metrics_from_columns({"time": times, "name": "n", "value": [1.0, 2.0]})["time"]
        assert got.tolist() == [pd.Timestamp(x) for x in t]


def test_a_zero_dimensional_array_is_one_value_in_every_builder():
    """np.array("svc") raised a bare TypeError (len() of unsized object) in the three builders (a fresh reader)."""
    import numpy as np

    svc = np.array("svc")
    assert tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "service": svc,
                                  "start": [0, 1], "end": [2, 3]})["service"].tolist() == ["svc", "svc"]
    assert tk.logs_from_columns({"time": [0, 1], "body": ["x", "y"], "service": svc})["service"].tolist() == ["svc"] * 2
    assert tk.metrics_from_columns({"time": [0, 1], "name": "m", "value": [1.0, 2.0], "service": svc})[
        "service"].tolist() == ["svc"] * 2
