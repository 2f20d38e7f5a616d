"""TraceQL review s45 (traceql2): answers of the evaluator, the metrics queries and ``tracekit query`` on small inputs
built by construction. Each test failed before its fix unless its docstring calls it a control."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tracekit as tk
from tracekit.core import START_TIME_ZERO, TIME_PROBLEM

MS = 1_000_000
T0 = 1_772_460_000 * 10**9  # 2026-03-02 14:00:00 UTC


def _unset_start() -> object:
    """Two traces as the OTLP reader loads them: trace 1 a 100 ms request (root) whose child's start was unset (OTLP's
    startTimeUnixNano 0: loaded at 1970 and flagged, :func:`tracekit.core.start_unknown`) and ended at +50 ms; trace 2
    a 200 ms request a minute later."""
    return tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "2" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": [None, "1" * 16, None], "service": ["api"] * 3, "name": ["GET /", "db", "GET /"],
        "kind": ["server", "client", "server"], "start": [T0, 0, T0 + 60 * 10**9],
        "end": [T0 + 100 * MS, T0 + 50 * MS, T0 + 60 * 10**9 + 200 * MS],
        "attributes": [{}, {TIME_PROBLEM: START_TIME_ZERO}, {}]})


def test_a_span_whose_start_is_unknown_has_no_duration_in_traceql():
    """OTLP's unset start is missing data, not 1970 (the kernel's rule: core.start_unknown). TraceQL read it as 1970:
    the child's ``duration`` was 56 years (``{ duration > 1h }`` found it) and its trace's ``traceDuration`` 56 years
    where the kernel's trace extent is unknown (NaN). Now neither has a value: no comparison holds on them."""
    spans = _unset_start()
    assert list(tk.traceql(spans, "{ duration > 1h }")["span_id"]) == []
    assert list(tk.traceql(spans, "{ duration > 0 }")["span_id"]) == ["1" * 16, "3" * 16]
    assert list(tk.traceql(spans, "{ traceDuration > 1h }")["span_id"]) == []
    assert list(tk.traceql(spans, "{ traceDuration > 0 }")["span_id"]) == ["3" * 16]
    got = tk.traceql(spans, "{ } | select(duration, traceDuration)")
    extent = tk.core.trace_outcomes(spans).set_index("trace_id")["extent_ms"]
    # traceDuration is the kernel's trace extent, in ns: unknown for trace 1, 200 ms for trace 2
    assert np.isnan(extent["1" * 32]) and extent["2" * 32] == 200.0
    assert got["traceDuration"].tolist() == [None, None, 200 * MS]
    assert got["duration"].tolist() == [100 * MS, None, 200 * MS]
    # an aggregate leaves it out too: the trace's max(duration) is its root's 100 ms, not 56 years
    agg = tk.traceql(spans, "{ } | max(duration) < 1s")
    assert list(agg["span_id"]) == ["1" * 16, "2" * 16, "3" * 16]
    assert agg["max(duration)"].tolist() == [100 * MS, 100 * MS, 200 * MS]


def test_a_metrics_query_runs_on_spans_whose_start_is_unknown():
    """One span with OTLP's unset start made every metrics query fail: its 1970 start was the first bucket, so a
    1-minute step cut "the spans' 1,772,460,060 s into 29,541,002 buckets" (ArgumentError), on a minute of data. A
    span whose start is unknown is in no time bucket (the kernel's rule, as tracekit.timeline places it): the series
    covers the data's two minutes and counts the two spans with a known start."""
    spans = _unset_start()
    m = tk.traceql_metrics(spans, "{ } | count_over_time()", step="1min")
    assert [t.value for t in m["time"]] == [T0, T0 + 60 * 10**9]
    assert m["value"].tolist() == [1.0, 1.0]
    mx = tk.traceql_metrics(spans, "{ } | max_over_time(duration)", step="1min")
    assert mx["value"].tolist() == [0.1, 0.2]


def test_tracekit_query_runs_a_metrics_query_on_a_file_with_an_unset_start(tmp_path, capsys):
    """The command on an OTLP file holding one span with startTimeUnixNano 0: it stopped with "step '1min' cuts the
    spans' 1,772,460,060 s into 29,541,002 buckets"; it prints the two minutes' counts."""
    from tracekit.cli import main

    def span(sid, name, start, end, parent=None):
        d = {"traceId": "1" * 32, "spanId": sid, "name": name, "kind": 2, "startTimeUnixNano": str(start),
             "endTimeUnixNano": str(end)}
        if parent:
            d["parentSpanId"] = parent
        return d

    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                              "scopeSpans": [{"spans": [
                                  span("1" * 16, "GET /", T0, T0 + 100 * MS),
                                  span("2" * 16, "db", 0, T0 + 50 * MS, "1" * 16),
                                  span("3" * 16, "GET /", T0 + 60 * 10**9, T0 + 60 * 10**9 + 200 * MS)]}]}]}
    path = tmp_path / "unset.json"
    path.write_text(json.dumps(doc))
    assert main(["query", str(path), "{ } | count_over_time()", "--step", "1min"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:] == ["2026-03-02 14:00:00+00:00    1.0", "2026-03-02 14:01:00+00:00    1.0"], lines


def _two_spans() -> object:
    """One trace: a 100 ms request (root, server) calling a 25.5 ms client span."""
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": [None, "1" * 16],
        "service": ["api", "api"], "name": ["GET /", "db"], "kind": ["server", "client"],
        "start": [T0, T0 + 10 * MS], "end": [T0 + 100 * MS, T0 + 35 * MS + 500_000],
        "attributes": [{"http.route": "/"}, {"db.rows": 3}]})


def test_tracekit_query_says_selected_durations_in_ms_with_their_unit():
    """``tracekit query`` printed a selected duration in raw nanoseconds beside its own ms columns, with no unit
    (``duration=25500000``), and an aggregate as numpy's repr (``avg(duration)=np.float64(62750000.0)``). Durations
    (``duration``, ``traceDuration``, an aggregate of one) now read in ms with their unit, as the line's own columns
    do; other values as written (an integer attribute 3, a text in quotes)."""
    from tracekit.cli_query import format_matches

    spans = _two_spans()
    q = "{ } | avg(duration) > 1ms | select(duration, trace:duration, span.db.rows, span.http.route)"
    lines = format_matches(spans, tk.traceql(spans, q), limit=0).splitlines()
    # avg of 100 ms and 25.5 ms = 62.75 ms; the trace's extent 100 ms
    assert lines[3].endswith("avg(duration)=62.8 ms duration=100.0 ms trace:duration=100.0 ms span.db.rows=None "
                             "span.http.route='/'"), lines[3]
    assert lines[4].endswith("avg(duration)=62.8 ms duration=25.5 ms trace:duration=100.0 ms span.db.rows=3 "
                             "span.http.route=None"), lines[4]
    counted = format_matches(spans, tk.traceql(spans, "{ } | count() = 2"), limit=0).splitlines()
    assert counted[3].endswith("count()=2"), counted[3]


def test_tracekit_query_lines_of_a_span_whose_start_is_unknown():
    """A trace holding a span whose start is unknown (OTLP's unset start, read as 1970): its line said
    "+0.0 ms  1772460000050.0 ms" (56 years from 1970) and the root's "+1772460000000.0 ms": offsets were taken from
    the 1970 start. Offsets now count from the first known start, and that span says its start is unknown, listed
    last."""
    from tracekit.cli_query import format_matches

    spans = _unset_start()
    lines = format_matches(spans, tk.traceql(spans, "{ }"), limit=0).splitlines()
    assert lines[3] == "  +      0.0 ms      100.0 ms  api  GET /  [server, unset]", lines
    assert lines[4] == "  start unknown       unknown  api  db  [client, unset]", lines


def test_tracekit_query_with_the_query_before_the_files_says_the_query_comes_last(tmp_path, capsys):
    """``tracekit query '{ status = error }' data/`` (the query first) was read as the query ``data/`` and refused
    with "unexpected 'data' (expected one of: '(', '-', 'by', ...) at position 1", a syntax error in a query the user
    did not write. It now says the query comes last, naming the argument that is one; the files are not read."""
    from tracekit.cli import main

    path = tmp_path / "spans.json"
    path.write_text("{}")  # never read: the arguments are refused first
    assert main(["query", "{ status = error }", str(path)]) == 1
    err = capsys.readouterr().err
    assert "the query comes last" in err and "'{ status = error }'" in err, err
    assert "unexpected" not in err, err
    # control: a real syntax error in the last argument is still reported as one, with its position
    assert main(["query", str(path), "{ status = }"]) == 1
    err = capsys.readouterr().err
    assert "unexpected '}'" in err and "the query comes last" not in err, err


def test_a_step_without_a_unit_is_refused_not_read_as_nanoseconds(tmp_path, capsys):
    """``--step 90`` (and ``step="90"``) was read by pandas as 90 *nanoseconds*: a minute of data was "cut into 666
    million buckets" and refused by the bucket cap, with the words ``traceql_metrics: step`` for the flag ``--step``,
    after the command had printed the table's heading. A step written without a unit is refused before any file is
    read, saying how to write it; the command prints nothing on stdout."""
    from tracekit.cli import main
    from tracekit.errors import ArgumentError

    spans = _two_spans()
    with pytest.raises(ArgumentError, match=r"step '90' has no unit.*'90s'"):
        tk.traceql_metrics(spans, "{ } | rate()", step="90")
    # controls: a number (seconds, as documented) and a string with a unit
    assert tk.traceql_metrics(spans, "{ } | count_over_time()", step=90)["value"].tolist() == [2.0]
    assert tk.traceql_metrics(spans, "{ } | count_over_time()", step="90s")["value"].tolist() == [2.0]
    path = tmp_path / "spans.json"
    path.write_text("{}")  # never read: the step is refused first
    assert main(["query", str(path), "{ } | rate()", "--step", "90"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "--step '90' has no unit" in err and "traceql_metrics" not in err, (out, err)


def test_an_event_of_a_span_whose_start_is_unknown_has_no_time_since_it():
    """``event:timeSinceStart`` of an event on a span whose start is unknown (OTLP's unset start, read as 1970) was
    the event's epoch time, 56 years; it has none now. The same event on a span with a known start: 30 ms."""
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": [None, "1" * 16],
        "service": ["api"] * 2, "name": ["GET /", "db"], "start": [T0, 0], "end": [T0 + 100 * MS, T0 + 50 * MS],
        "attributes": [{}, {TIME_PROBLEM: START_TIME_ZERO}],
        "events": [[{"time": T0 + 30 * MS, "name": "e"}], [{"time": T0 + 40 * MS, "name": "e"}]]})
    got = tk.traceql(spans, "{ event:name = \"e\" } | select(event:timeSinceStart)")
    assert got["event:timeSinceStart"].tolist() == [30 * MS, None]
    assert list(tk.traceql(spans, "{ event:timeSinceStart > 1h }")["span_id"]) == []


@pytest.mark.parametrize(("query", "quote"), [
    ('{ span."http route = 1 }', 7),
    ('{ ."a b = 1 }', 3),
    ('{ .x = 1 } > { resource."k\\" = 2 }', 24),
])
def test_an_unterminated_quoted_attribute_name_is_said_so_at_its_quote(query, quote):
    """A quoted attribute name never closed (``span."http route = 1``) was refused as "unexpected character '.'", at
    the dot, which is no mistake; it is now "unterminated quoted attribute name" with the caret under the quote that
    opens it (0-based offset ``quote``)."""
    from tracekit.analysis.traceql import parse
    from tracekit.errors import TraceQLError

    assert query[quote] == '"'
    with pytest.raises(TraceQLError) as info:
        parse(query)
    assert str(info.value).startswith(f"unterminated quoted attribute name at position {quote + 1}:"), str(info.value)
    assert info.value.position == quote


def test_a_closed_quoted_attribute_name_parses():
    """Control: quoted names that close parse and match."""
    spans = _two_spans()
    spans.at[1, "attributes"] = {"a b": 'x"'}
    assert list(tk.traceql(spans, '{ span."a b" = "x\\"" }')["span_id"]) == ["2" * 16]


def test_a_numpy_integer_step_is_seconds_as_a_python_integer_is():
    """``step`` as a number is seconds (documented); ``np.int64(60)`` (a value read from a frame or an array) was
    handed to pandas as it is and read as 60 *nanoseconds*: "cuts the spans' ... into 51,587,602,717 buckets". Now
    one 60 s bucket, as ``step=60``."""
    spans = _two_spans()
    want = tk.traceql_metrics(spans, "{ } | count_over_time()", step=60)
    assert want["value"].tolist() == [2.0]
    for step in (np.int64(60), np.int32(60), np.float32(60.0)):
        got = tk.traceql_metrics(spans, "{ } | count_over_time()", step=step)
        assert got.equals(want), (step, got)
