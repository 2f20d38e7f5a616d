"""Logs beside traces (session 41, reviewer logs2): read_logs (tracekit/io/logs.py), log_templates and attach_logs
(tracekit/analysis/logs.py), and fetch_logs (tracekit/aws/logs.py). Each test builds its input and its truth by
construction (small frames, a stubbed boto3 client) and failed on the code before its fix."""

from __future__ import annotations

import json

import pytest

import tracekit as tk
from tracekit.aws.client import XRayFetchError

boto3 = pytest.importorskip("boto3")
Stubber = pytest.importorskip("botocore.stub").Stubber

T0 = 1_700_000_000_000  # ms


def _logs_client(answers: list) -> object:
    """A CloudWatch Logs client whose FilterLogEvents answers ``answers`` in order (a dict: a page; a str: an AWS
    error of that code)."""
    c = boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    st = Stubber(c)
    for a in answers:
        if isinstance(a, str):
            st.add_client_error("filter_log_events", service_error_code=a, service_message="denied",
                                http_status_code=400)
        else:
            st.add_response("filter_log_events", a)
    st.activate()
    return c


def _event(i: int, trace: str) -> dict:
    return {"timestamp": T0 + i, "ingestionTime": T0 + i, "logStreamName": "s", "eventId": str(i),
            "message": json.dumps({"level": "INFO", "message": f"step {i}", "xray_trace_id": tk.trace_id_to_xray(trace)})}


def test_fetch_logs_keeps_the_pages_read_before_a_failure():
    # 12 ids: one call for the first 10 (two pages, 3 records), one for the last 2, which AWS refuses
    ids = [f"{i + 1:032x}" for i in range(12)]
    pages = [{"events": [_event(1, ids[0]), _event(2, ids[3])], "nextToken": "t1"}, {"events": [_event(3, ids[9])]},
             "AccessDeniedException"]
    with pytest.raises(XRayFetchError) as info:
        tk.fetch_logs(ids, T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups="/aws/lambda/pay", client=_logs_client(pages))
    err = info.value
    assert err.partial is not None, "the 3 records of the 2 pages read were lost"
    assert err.partial["body"].tolist() == ["step 1", "step 2", "step 3"]
    assert err.partial["trace_id"].tolist() == [ids[0], ids[3], ids[9]]
    assert err.partial.attrs["partial"] is True and err.partial.attrs["calls"] == 2
    assert err.not_fetched == tuple(ids[10:])
    assert "err.partial" in str(err) and "3 records" in str(err) and "2 of 12 trace ids" in str(err)


def test_fetch_logs_failure_in_a_later_log_group_names_every_id_it_did_not_search_there():
    ids = [f"{i + 1:032x}" for i in range(3)]
    pages = [{"events": [_event(1, ids[1])]}, "AccessDeniedException"]
    with pytest.raises(XRayFetchError) as info:
        tk.fetch_logs(ids, T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups=["/a", "/b"], client=_logs_client(pages))
    assert info.value.partial["body"].tolist() == ["step 1"]
    assert info.value.not_fetched == tuple(ids)  # none of them was searched in /b
    ok = tk.fetch_logs(ids, T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups="/a",
                       client=_logs_client([{"events": [_event(1, ids[1])]}]))
    assert ok.attrs["partial"] is False and ok["body"].tolist() == ["step 1"]


@pytest.mark.parametrize(("lines", "said"), [(1, "read_logs skipped 1 bad record;"), (2, "read_logs skipped 2 bad records;")])
def test_read_logs_skip_warning_counts_in_words(lines, said):
    text = "\n".join(['{"msg": "ok", "time": 1}'] + ['{"msg": "bad", "time": "yesterday"}'] * lines)
    with pytest.warns(tk.TraceFormatWarning) as got:
        df = tk.read_logs(text.encode(), errors="skip")
    assert len(df) == 1 and len(df.attrs["skipped"]) == lines
    assert [str(w.message) for w in got if said in str(w.message)], [str(w.message) for w in got]


def test_read_logs_no_records_counts_the_other_documents_in_words():
    spans_line = json.dumps({"resourceSpans": []})
    with pytest.raises(tk.TraceFormatError, match=r"found \(1 document that is not log data;"):
        tk.read_logs(spans_line.encode())
    with pytest.raises(tk.TraceFormatError, match=r"found \(2 documents that are not log data;"):
        tk.read_logs((spans_line + "\n" + spans_line).encode())


def test_attach_logs_table_of_no_records_says_no_share():
    spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "service": ["web"], "name": ["GET /"],
                                   "start": [0], "end": [9]})
    none = tk.attach_logs(spans, tk.empty_logs()).table
    assert none["records"].tolist() == [0, 0, 0]
    assert none["share_of_records"].isna().all(), none["share_of_records"].tolist()  # was 0.0 each: 0% of 0 records
    logs = tk.logs_from_columns({"time": [1, 2, 3, 4], "body": ["a", "b", "c", "d"],
                                 "trace_id": ["a" * 32, "a" * 32, "b" * 32, None], "span_id": ["1" * 16, None, None, None]})
    some = tk.attach_logs(spans, logs).table
    assert some["records"].tolist() == [1, 1, 2]
    assert some["share_of_records"].tolist() == [0.25, 0.25, 0.5]


def test_fetch_logs_names_the_log_group_and_page_of_a_bad_event_once():
    # page 1 fine; page 2 holds an event with no message and an event of the asked trace; page 3 is malformed
    A = "5759e988bd862e3fe1be46a994272793"
    pages = [{"events": [_event(1, A)], "nextToken": "t1"},
             {"events": [{"timestamp": T0 + 2, "logStreamName": "s", "eventId": "2"}, _event(3, A)], "nextToken": "t2"},
             {"events": {"timestamp": T0 + 4}}]
    client = _logs_client([])  # the pages handed as they are (a Stubber refuses the malformed one)
    client.get_paginator = lambda name: type("Pages", (), {"paginate": lambda self, **kw: iter(pages)})()
    with pytest.warns(tk.TraceFormatWarning) as got:
        df = tk.fetch_logs(A, T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups="/aws/lambda/pay", client=client)
    said = [str(w.message) for w in got]
    assert df["body"].tolist() == ["step 1", "step 3"]
    assert [(s.file, s.record) for s in df.attrs["skipped"]] == [
        ("/aws/lambda/pay", "FilterLogEvents page 2, events[0]"), ("/aws/lambda/pay", "FilterLogEvents page 3")]
    assert "events must be a list" in df.attrs["skipped"][1].reason
    # one warning for the fetch, in its own name (was one per page, each 'read_logs skipped …; first: <object>, …')
    assert len(said) == 1 and said[0].startswith("fetch_logs skipped 2 bad events; first: /aws/lambda/pay, "
                                                 "FilterLogEvents page 2, events[0]: the event has no message"), said


def test_attach_logs_params_say_the_arguments_used():
    spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "service": ["web"], "name": ["GET /"],
                                   "start": [0], "end": [9]})
    logs = tk.logs_from_columns({"time": [1], "body": ["a 1"], "trace_id": ["a" * 32], "span_id": ["1" * 16]})
    assert tk.attach_logs(spans, logs).params == {"templates": "log_templates(logs)"}  # was {}
    given = tk.attach_logs(spans, logs, templates=tk.log_templates(logs))
    assert given.params == {"templates": "given"}
    assert given.spans.loc[0, "events"][0]["attributes"]["log.template"] == "a <*>"
