"""Logs beside traces: defects found in review s33 (each test fails on the code before its fix)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

A = "a" * 32


# --------------------------------------------------------------------------------------------- trace-level records


def _gateway_and_function(n: int, first: int, error: bool) -> tuple[pd.DataFrame, dict]:
    """``n`` requests gw (server) -> gw (client) -> pay (server), and per request one record pay wrote naming its
    trace (X-Ray form) and its service but no span, as AWS Lambda Powertools writes it."""
    rows: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")}
    logs: dict[str, list] = {k: [] for k in ("time", "body", "trace_id", "service", "severity")}
    for i in range(n):
        tid = f"{first + i + 1:032x}"
        base = 1_700_000_000 * 10**9 + (first + i) * 10**9
        for sid, pid, svc, name, kind, s, e in (("1", None, "gw", "GET /pay", "server", 0, 100),
                                               ("2", "1", "gw", "invoke pay", "client", 5, 95),
                                               ("3", "2", "pay", "pay", "server", 10, 90)):
            rows["trace_id"].append(tid)
            rows["span_id"].append(sid * 16)
            rows["parent_id"].append(None if pid is None else pid * 16)
            rows["service"].append(svc)
            rows["name"].append(name)
            rows["kind"].append(kind)
            rows["start"].append(base + s * 10**6)
            rows["end"].append(base + e * 10**6)
        logs["time"].append(base + 20 * 10**6)
        logs["trace_id"].append(tk.trace_id_to_xray(tid))
        logs["service"].append("pay")
        logs["body"].append("card declined" if error else "charged")
        logs["severity"].append("ERROR" if error else "INFO")
    return tk.spans_from_columns(rows), logs


def test_a_trace_level_record_goes_to_the_span_of_the_service_that_wrote_it():
    incident, li = _gateway_and_function(40, 1000, True)
    baseline, lb = _gateway_and_function(40, 0, False)
    logs = tk.logs_from_columns({k: li[k] + lb[k] for k in li})
    on = tk.attach_logs(incident, logs)
    # was: the 40 records on the gw root span, none on pay's
    assert on.spans.groupby("name", sort=False)["log_records"].sum().to_dict() == {"GET /pay": 0, "invoke pay": 0, "pay": 40}
    assert (on.n_on_span, on.n_trace_level, on.n_unmatched) == (0, 40, 40)
    assert all(e[-1]["attributes"]["log.trace_level"] is True for e in on.spans.loc[on.spans["service"] == "pay", "events"])
    # was: error origins gw 40, top exception under gw, rank_causes gw 1.79 and pay 0
    assert tk.error_origins(on.spans)[["service", "origins"]].values.tolist() == [["pay", 40]]
    assert tk.top_exceptions(on.spans)[["service", "template", "count"]].values.tolist() == [["pay", "card declined", 40]]
    ranked = tk.rank_causes(incident, baseline, logs=logs)
    assert ranked["service"].iloc[0] == "pay" and ranked["score"].iloc[0] > 1
    assert ranked.loc[ranked["service"] == "gw", "score"].iloc[0] == 0


def test_a_trace_level_record_goes_to_the_call_it_was_written_in():
    #  gw  GET  0 ─────────────────────────────── 100
    #  gw  call  5 ──── 35        gw call 45 ───── 95
    #  fn  fn     10 ── 30        fn  fn   50 ── 90      (a retry: fn called twice in the trace)
    spans = tk.spans_from_columns({
        "trace_id": [A] * 5, "span_id": [f"{i:016x}" for i in range(1, 6)],
        "parent_id": [None, f"{1:016x}", f"{2:016x}", f"{1:016x}", f"{4:016x}"],
        "service": ["gw", "gw", "fn", "gw", "fn"], "name": ["GET", "call", "fn", "call", "fn"],
        "start": [0, 5, 10, 45, 50], "end": [100, 35, 30, 95, 90]})
    logs = tk.logs_from_columns({
        "time": [20, 60, 5, None, 70, 80], "body": ["a", "b", "c", "d", "e", "f"], "trace_id": [A] * 6,
        # c: before fn started (clock skew): its first call; d: no time: its first call; e: Lambda's log group
        # names the function; f: the root's own service keeps the root
        "service": ["fn", "fn", "fn", "fn", "/aws/lambda/fn", "gw"]})
    before = logs.copy(deep=True)
    r = tk.attach_logs(spans, logs)
    got = {i: sorted(e["attributes"]["log.body"] for e in ev) for i, ev in enumerate(r.spans["events"])}
    assert got == {0: ["f"], 1: [], 2: ["a", "c", "d"], 3: [], 4: ["b", "e"]}
    assert r.n_trace_level == 6
    pd.testing.assert_frame_equal(logs, before)


def test_a_trace_level_record_of_a_service_not_in_its_trace_stays_on_the_root():
    spans = tk.spans_from_columns({"trace_id": [A] * 2, "span_id": ["1" * 16, "2" * 16], "parent_id": [None, "1" * 16],
                                   "service": ["web", "db"], "name": ["GET /", "q"], "start": [0, 10], "end": [100, 90]})
    logs = tk.logs_from_columns({"time": [20, 30], "body": ["x", "y"], "trace_id": [A] * 2, "service": ["cache", None]})
    row, level, reason = tk.analysis.logs.log_span_rows(spans, logs)
    assert row.tolist() == [0, 0] and level.tolist() == [True, True] and reason.tolist() == [None, None]


# --------------------------------------------------------------------------------------------- read_logs: X-Ray ids


def test_the_xray_java_sdks_trace_id_field_gives_trace_and_span():
    # aws-xray-sdk-java's SLF4JSegmentListener / Log4JSegmentListener: MDC "AWS-XRAY-TRACE-ID" holds
    # "<prefix>: <trace id>@<entity id>", prefix "AWS-XRAY-TRACE-ID" by default, none when set blank
    tid, sid = "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
    lines = [{"message": "charged", "timestamp": "2024-01-01T00:00:00Z", "level": "INFO", "AWS-XRAY-TRACE-ID": v}
             for v in (f"AWS-XRAY-TRACE-ID: {tid}@{sid}", f"{tid}@{sid.upper()}", f"my-app: {tid}@{sid}")]
    cw = {"events": [{"timestamp": 1704067200000, "message": json.dumps(lines[0]), "logStreamName": "s"}]}
    for src in (lines, "\n".join(map(json.dumps, lines)).encode(), cw):
        df = tk.read_logs(src)  # was: TraceFormatError "… is not 32 hex digits or an X-Ray trace id"
        assert set(df["trace_id"]) == {"5759e988bd862e3fe1be46a994272793"} and set(df["span_id"]) == {sid}
        assert not any("AWS-XRAY-TRACE-ID" in a for a in df["attributes"])


def test_an_xray_at_value_with_a_span_field_keeps_the_span_field():
    df = tk.read_logs([{"msg": "x", "time": 1, "span_id": "1" * 16,
                        "AWS-XRAY-TRACE-ID": "1-5759e988-bd862e3fe1be46a994272793@53995c3f42cd8ad8"}])
    assert df[["trace_id", "span_id"]].values.tolist() == [["5759e988bd862e3fe1be46a994272793", "1" * 16]]


# --------------------------------------------------------------------------------------------- fetch_logs


class _FilterLogEvents:
    """A logs client answering FilterLogEvents as CloudWatch does: a group's events matching the pattern's quoted
    terms, in time order, on one page."""

    def __init__(self, groups: dict[str, list[dict]]):
        self.groups = groups

    def get_paginator(self, name: str):
        assert name == "filter_log_events"
        return self

    def paginate(self, logGroupName, startTime, endTime, filterPattern, **kw):
        terms = [t.strip('?"') for t in filterPattern.split()]
        yield {"events": [e for e in self.groups[logGroupName]
                          if startTime <= e["timestamp"] <= endTime and any(t in e["message"] for t in terms)]}


def test_fetch_logs_records_are_in_group_order_then_time_order_past_one_call_of_ids():
    ids = [f"{i + 1:08x}" + "0" * 24 for i in range(12)]  # 12 ids: two calls per group (IDS_PER_CALL 10)
    t0 = 1_700_000_000_000

    def events(group: str) -> list[dict]:  # record i names id 11 - i: the last two ids' records come first in time
        return [{"timestamp": t0 + i, "eventId": f"{group}{i}", "logStreamName": "s",
                 "message": json.dumps({"level": "INFO", "message": f"{group} {i}",
                                        "xray_trace_id": tk.trace_id_to_xray(ids[11 - i])})} for i in range(12)]

    client = _FilterLogEvents({"/b": events("b"), "/a": events("a")})
    df = tk.fetch_logs(ids, t0 / 1e3 - 1, t0 / 1e3 + 60, log_groups=["/b", "/a"], client=client)
    # was: b 2 … b 11, b 0, b 1, a 2 … a 11, a 0, a 1 (call by call)
    assert df["body"].tolist() == [f"b {i}" for i in range(12)] + [f"a {i}" for i in range(12)]
    assert df.attrs["calls"] == 4


# --------------------------------------------------------------------------------------------- attach_logs: the spans' events


def test_attach_logs_keeps_a_spans_own_events_given_as_a_tuple_or_an_array():
    exc = {"time": 5, "name": "exception", "attributes": {"exception.type": "E", "exception.message": "boom"}}
    logs = tk.logs_from_columns({"time": [20], "body": ["x"], "trace_id": [A], "span_id": ["1" * 16], "severity": ["ERROR"]})
    for cell in ((exc,), np.array([exc], dtype=object)):  # validate_spans takes both; pandas' read_parquet gives arrays
        spans = tk.spans_from_columns({"trace_id": [A], "span_id": ["1" * 16], "service": ["web"], "name": ["GET"],
                                       "start": [0], "end": [100]})
        spans["events"] = pd.Series([cell], dtype=object)
        tk.validate_spans(spans)
        r = tk.attach_logs(spans, logs)
        # was: ['log'] (the span's exception event dropped)
        assert [e["name"] for e in r.spans.loc[0, "events"]] == ["exception", "log"]
        assert r.spans.loc[0, "events"][0] == exc and r.spans.loc[0, "events"][0] is not exc


# --------------------------------------------------------------------------------------------- clear errors


def test_logs_from_columns_takes_time_none_as_body_none():
    df = tk.logs_from_columns({"time": None, "body": ["a", "b"]})  # was: TypeError 'NoneType' object is not iterable
    assert df["time"].isna().all() and df["body"].tolist() == ["a", "b"]
    assert tk.logs_from_columns({"time": [1, 2], "body": None})["body"].isna().all()


def test_attach_logs_says_templates_that_are_not_log_templates():
    spans = tk.spans_from_columns({"trace_id": [A], "span_id": ["1" * 16], "service": ["web"], "name": ["GET"],
                                   "start": [0], "end": [100]})
    logs = tk.logs_from_columns({"time": [20], "body": ["x"], "trace_id": [A], "span_id": ["1" * 16]})
    for wrong in (logs, tk.log_templates(logs)[["template"]]):  # was: KeyError 'template_id'
        with pytest.raises(tk.ArgumentError, match="templates must be log_templates"):
            tk.attach_logs(spans, logs, templates=wrong)


def test_attaching_again_replaces_the_records_attached_before(tmp_path):
    spans = tk.spans_from_columns({
        "trace_id": [A] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16], "parent_id": [None, "1" * 16, "1" * 16],
        "service": ["web", "db", "cache"], "name": ["GET /", "q", "get"], "start": [0, 10, 20], "end": [100, 90, 30],
        "events": [[{"time": 5, "name": "exception", "attributes": {"exception.type": "E", "exception.message": "m"}}],
                   [], []]})
    first = tk.logs_from_columns({"time": [20, 30, 25], "body": ["timeout talking to db", "done", "miss"],
                                  "trace_id": [A] * 3, "span_id": ["2" * 16, "1" * 16, "3" * 16],
                                  "severity": ["ERROR", "INFO", "INFO"]})
    once = tk.attach_logs(spans, first).spans
    tk.write_parquet(once, tmp_path / "s.parquet")
    for frame in (once, tk.read_parquet(tmp_path / "s.parquet")):
        twice = tk.attach_logs(frame, first).spans
        # was: 2 log events per span (the ERROR record counted twice by top_exceptions) against log_records 1
        assert [[e["name"] for e in ev] for ev in twice["events"]] == [["exception", "log"], ["log"], ["log"]]
        assert twice["log_records"].tolist() == [1, 1, 1]
        assert tk.top_exceptions(twice)["count"].tolist() == [1, 1]  # the exception, the ERROR record
        # other records: those of the first attach are gone from every span, the span's own events stay
        other = tk.logs_from_columns({"time": [40], "body": ["slow"], "trace_id": [A], "span_id": ["2" * 16]})
        again = tk.attach_logs(frame, other).spans
        assert [[e["name"] for e in ev] for ev in again["events"]] == [["exception"], ["log"], []]
        assert again["log_records"].tolist() == [0, 1, 0]
        assert again.loc[1, "events"][0]["attributes"]["log.body"] == "slow"
    assert [len(ev) for ev in once["events"]] == [2, 1, 1]  # the input not modified


# --------------------------------------------------------------------------------------------- log_examples


def test_log_examples_by_construction():
    from tracekit.analysis.log_evidence import log_examples

    t = [f"{i:032x}" for i in range(1, 5)]
    s0 = 1_700_000_000 * 10**9
    #  trace  spans (service:name, start s)         records
    #  t1     pay:charge@3, pay:charge@3            ERROR on both; 'retry' 1x + 'step' 2x on the first
    #  t2     pay:charge@1                          ERROR; 'retry' 2x + 'step' 2x
    #  t3     pay:charge@2, pay:charge@2            ERROR on both (ties t1 on count, started earlier)
    #  t4     ship:send@0                           ERROR; 'retry' 1x + 'step' 3x (another key)
    spans = tk.spans_from_columns({
        "trace_id": [t[0], t[0], t[1], t[2], t[2], t[3]], "span_id": [f"{i:016x}" for i in range(1, 7)],
        "service": ["pay"] * 5 + ["ship"], "name": ["charge"] * 5 + ["send"],
        "start": [s0 + x * 10**9 for x in (3, 3, 1, 2, 2, 0)], "end": [s0 + x * 10**9 + 5 for x in (3, 3, 1, 2, 2, 0)]})
    recs = [(1, "ERROR", "boom"), (2, "ERROR", "boom"), (3, "ERROR", "boom"), (4, "ERROR", "boom"), (5, "ERROR", "boom"),
            (6, "ERROR", "boom"), (1, "INFO", "retry 1"), (1, "INFO", "step 1"), (1, "INFO", "step 2"),
            (3, "INFO", "retry 1"), (3, "INFO", "retry 2"), (3, "INFO", "step 1"), (3, "INFO", "step 2"),
            (6, "INFO", "retry 1"), (6, "INFO", "step 1"), (6, "INFO", "step 2"), (6, "INFO", "step 3")]
    trace_of = {1: t[0], 2: t[0], 3: t[1], 4: t[2], 5: t[2], 6: t[3]}
    logs = tk.logs_from_columns({"time": [s0] * len(recs), "trace_id": [trace_of[r] for r, _, _ in recs],
                                 "span_id": [f"{r:016x}" for r, _, _ in recs], "severity": [v for _, v, _ in recs],
                                 "body": [b for _, _, b in recs]})
    table = pd.DataFrame({"service": ["pay", "pay", "pay", "ship", "pay", "web"],
                          "name": ["charge", "charge", "charge", "send", "charge", "get"],
                          "decided_by": ["logs: log_errors", "logs: log_templates", "logs: log_templates",
                                         "logs: log_templates", "traces: calls", "logs: log_errors"],
                          "log_template": [None, "retry <*>", "retry <*>", "retry <*>", "retry <*>", None],
                          "_log_companion": [None, None, "step <*>", "step <*>", None, None]})
    # errors: t1 and t3 have 2 origins each, t3 started first; 'retry' is emitted by t1's and t2's spans, t2 first;
    # fewer 'retry' than 'step': t1's span only (t2 logged both twice); ship's row: t4; not decided by logs: None;
    # a key with no incident span: None
    assert log_examples(table, spans, logs, ["service", "name"]) == [t[2], t[1], t[0], t[3], None, None]


def test_top_exceptions_says_its_log_record_rows_count_log_records():
    from tracekit.analysis.error_origins import TOP_EXCEPTIONS

    spans = tk.spans_from_columns({"trace_id": [A], "span_id": ["1" * 16], "service": ["web"], "name": ["GET"],
                                   "start": [0], "end": [100]})
    logs = tk.logs_from_columns({"time": [20, 30], "body": ["boom 1", "boom 2"], "trace_id": [A] * 2,
                                 "span_id": ["1" * 16] * 2, "severity": ["ERROR", "ERROR"]})
    got = tk.top_exceptions(tk.attach_logs(spans, logs).spans)
    assert got[["exception_type", "count"]].values.tolist() == [["log record (ERROR)", 2]]  # 2 records, no exception
    meaning = {c.name: c.meaning for c in TOP_EXCEPTIONS.columns}
    # was: "exception events in the group" / "``exception.type`` of the events" for these rows too
    assert "log records" in meaning["count"] and "log record (ERROR)" in meaning["exception_type"]


def test_postmortem_says_how_records_naming_no_span_were_joined():
    incident, li = _gateway_and_function(20, 1000, True)
    baseline, lb = _gateway_and_function(20, 0, False)
    logs = tk.logs_from_columns({k: li[k] + lb[k] for k in li})
    said = [f.text for f in tk.postmortem(incident, baseline, logs=logs).findings if f.text.startswith("Logs: ")]
    # was: "(by trace and span id)" though none of the 40 records names a span
    assert said == ["Logs: 40 records given; 20 joined the incident's spans and 20 the baseline's (by trace and span id; "
                    "a record naming its trace and no span, by trace id and its service, else on the trace's request "
                    "root)."]
