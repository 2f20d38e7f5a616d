"""Datadog's 64-bit dd.trace_id joins the 128-bit trace whose lower half it is (session 51).

dd-trace generates 128-bit trace ids (the spans carry all 32 hex digits) while its log injection wrote
``dd.trace_id`` as the unsigned decimal of the lower 64 bits; read_logs turns that into the lower half with an upper
half of zeros, and attach_logs matched whole ids: every such record was 'trace not in spans'.
"""

from __future__ import annotations

import json

import pandas as pd

import tracekit as tk
from tracekit.analysis.logs import log_span_rows

TRACE = "6743a6f800000000e1be46a994272793"  # dd-trace's 128-bit form: a start time in the upper half
OTHER = "6743a6f900000000aaaaaaaaaaaaaaaa"
ROOT, CHILD = "1111111111111111", "2222222222222222"
T0 = pd.Timestamp("2026-01-01", tz="UTC").value


def _spans(*extra: tuple[str, str, str | None, str]) -> pd.DataFrame:
    rows = [(TRACE, ROOT, None, "web"), (TRACE, CHILD, ROOT, "db"), (OTHER, "3" * 16, None, "web"), *extra]
    return tk.spans_from_columns({"trace_id": [r[0] for r in rows], "span_id": [r[1] for r in rows],
                                  "parent_id": [r[2] for r in rows], "service": [r[3] for r in rows],
                                  "name": ["op"] * len(rows), "kind": ["server"] * len(rows),
                                  "start": [T0 + i for i in range(len(rows))],
                                  "end": [T0 + 10**9 + i for i in range(len(rows))]})


def _dd_lines(tmp_path, records: list[dict]):
    p = tmp_path / "dd.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return tk.read_logs(p)


def test_a_lower_half_trace_id_joins_its_trace(tmp_path):
    lower = str(int(TRACE[16:], 16))  # what dd-trace logs: the decimal of the lower 64 bits
    logs = _dd_lines(tmp_path, [
        {"timestamp": "2026-01-01T00:00:01Z", "status": "error", "message": "query failed", "service": "db",
         "dd.trace_id": lower, "dd.span_id": str(int(CHILD, 16))},
        {"timestamp": "2026-01-01T00:00:01Z", "status": "info", "message": "served", "service": "db",
         "dd": {"trace_id": lower}},
    ])
    assert logs["trace_id"].tolist() == ["0000000000000000" + TRACE[16:]] * 2  # as read: the lower half
    before = logs.copy(deep=True)
    row, trace_level, reason = log_span_rows(_spans(), logs)
    assert row.tolist() == [1, 1] and trace_level.tolist() == [False, True] and reason.tolist() == [None, None]
    pd.testing.assert_frame_equal(logs, before)  # the records keep the id they were read with
    att = tk.attach_logs(_spans(), logs)
    assert att.unmatched.empty
    bodies = [e["attributes"].get("log.body", e.get("name")) for e in att.spans.loc[1, "events"]]
    assert len(bodies) == 2, att.spans.loc[1, "events"]


def test_two_traces_sharing_the_lower_half_are_not_guessed(tmp_path):
    twin = "6743a6fa00000000" + TRACE[16:]
    logs = _dd_lines(tmp_path, [{"timestamp": "2026-01-01T00:00:01Z", "message": "x", "service": "db",
                                 "dd.trace_id": str(int(TRACE[16:], 16)), "dd.span_id": str(int(CHILD, 16))}])
    row, _, reason = log_span_rows(_spans((twin, "4" * 16, None, "web")), logs)
    assert row.tolist() == [-1] and reason.tolist() == ["trace not in spans"]


def test_a_64_bit_trace_in_the_spans_keeps_its_own_records():
    """Control: spans whose trace is 64-bit (upper half zeros) take a record of that id exactly, even where a 128-bit
    trace shares its lower half."""
    short = "0000000000000000" + TRACE[16:]
    spans = _spans((short, "5" * 16, None, "api"))
    logs = tk.logs_from_columns({"time": [T0 + 10**8], "body": ["x"], "trace_id": [short], "span_id": ["5" * 16]})
    row, _, _ = log_span_rows(spans, logs)
    assert row.tolist() == [3]


def test_a_datadog_records_status_is_its_level(tmp_path):
    """Datadog's JSON logs carry the level as ``status`` (its status remapper's first key); read_logs kept it as an
    attribute and the ERROR record read as no severity. Only on a record with Datadog's ids, and only with no level key
    of its own: a plain record's ``status`` stays an attribute."""
    logs = _dd_lines(tmp_path, [
        {"timestamp": "2026-01-01T00:00:01Z", "status": "error", "message": "a", "dd.trace_id": "123", "dd.span_id": "9"},
        {"timestamp": "2026-01-01T00:00:01Z", "status": "warn", "message": "b", "dd": {"trace_id": "123"}},
        {"timestamp": "2026-01-01T00:00:01Z", "status": "error", "level": "info", "message": "c", "dd.trace_id": "1"},
        {"timestamp": "2026-01-01T00:00:01Z", "status": "error", "message": "d", "trace_id": "ab" * 16},
    ])
    assert logs["severity_text"].tolist() == ["ERROR", "WARN", "INFO", pd.NA]
    assert [a.get("status") for a in logs["attributes"]] == [None, None, "error", "error"]
