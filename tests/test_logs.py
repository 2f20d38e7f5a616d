"""Logs beside traces (issue 30): the logs schema, read_logs, logs_from_columns, log_templates, attach_logs."""

from __future__ import annotations

import gzip
import json
import sys
import warnings

import msgspec
import numpy as np
import orjson
import pandas as pd
import pytest

import tracekit as tk
from tracekit.io.containers import LazyColumn
from tracekit.logs_schema import LOG_COLUMNS

from .conftest import REPO

T1 = "5b8efff798038103d269b633813fc60c"
S1 = "eee19b7ec3c1b174"


def _otlp_log(trace="5B8EFFF798038103D269B633813FC60C", span="EEE19B7EC3C1B174", body="hello", t="1544712660300000000", **rec):
    r = {"timeUnixNano": t, "severityText": "Information", "traceId": trace, "spanId": span,
         "body": {"stringValue": body}, **rec}
    return {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}},
                                                          {"key": "host.name", "value": {"stringValue": "h1"}}]},
                              "scopeLogs": [{"scope": {"name": "lib"}, "logRecords": [r]}]}]}


# --------------------------------------------------------------------------------------------- schema


def test_empty_logs_has_every_declared_column_and_validates():
    df = tk.empty_logs()
    assert list(df.columns) == [c.name for c in LOG_COLUMNS]
    assert tk.validate_logs(df) is df
    with pytest.raises(tk.LogsSchemaError, match="missing columns: body"):
        tk.validate_logs(df.drop(columns="body"))


def test_readme_holds_the_generated_logs_column_table():
    assert tk.logs_schema_markdown() in (REPO / "docs" / "reference.md").read_text(), \
        "paste tk.logs_schema_markdown() into docs/reference.md"


@pytest.mark.parametrize("text,number,want_text,want_number", [
    ("Information", None, "INFO", 9), ("warning", None, "WARN", 13), ("err", None, "ERROR", 17),
    ("CRITICAL", None, "FATAL", 21), ("made up", 14, "WARN", 14), (None, 3, "TRACE", 3),
    ("ERROR", 9, "INFO", 9),  # the number decides (OpenTelemetry compares by number); the text is kept as written
    ("made up", None, None, None), (None, 0, None, None),
])
def test_severity_is_normalised_from_text_then_number(text, number, want_text, want_number):
    from tracekit.logs_schema import normalize_severity

    out = normalize_severity([text], [number])
    got_text = out.loc[0, "severity_text"]
    got_number = out.loc[0, "severity_number"]
    assert (None if pd.isna(got_text) else got_text) == want_text
    assert (None if pd.isna(got_number) else int(got_number)) == want_number


def test_ids_are_normalised_as_for_spans_and_bad_ids_named():
    df = tk.logs_from_columns({"time": [1, 2, 3], "body": ["a", "b", "c"],
                               "trace_id": ["1-5759E988-BD862E3FE1BE46A994272793", " " + T1.upper() + " ", ""],
                               "span_id": [S1.upper(), None, ""]})
    assert df["trace_id"].tolist()[:2] == ["5759e988bd862e3fe1be46a994272793", T1]
    assert pd.isna(df.loc[2, "trace_id"]) and pd.isna(df.loc[1, "span_id"]) and pd.isna(df.loc[2, "span_id"])
    # the same rule as the spans' X-Ray conversion
    assert df.loc[0, "trace_id"] == tk.xray_to_trace_id("1-5759e988-bd862e3fe1be46a994272793")
    with pytest.raises(tk.LogsSchemaError, match=r"'span_id' row 1: 'xyz'"):
        tk.logs_from_columns({"time": [1, 2], "body": ["a", "b"], "span_id": [S1, "xyz"]})
    with pytest.raises(tk.LogsSchemaError, match="needs the columns body"):
        tk.logs_from_columns({"time": [1]})
    with pytest.raises(tk.LogsSchemaError, match="has 2 values"):
        tk.logs_from_columns({"time": [1], "body": ["a", "b"]})


# --------------------------------------------------------------------------------------------- read_logs: OTLP


def test_read_logs_real_otlp_examples(real_traces):
    logs = tk.read_logs(real_traces / "opentelemetry-proto" / "logs.json")
    assert len(logs) == 1
    r = logs.iloc[0]
    assert (r.trace_id, r.span_id, r.service) == (T1, S1, "my.service")
    assert (r.severity_text, r.severity_number, r.body) == ("INFO", 10, "Example log record")
    assert r.time == pd.Timestamp(1544712660300000000, tz="UTC") == r.observed_time
    assert r.attributes == {"string.attribute": "some string", "boolean.attribute": True, "int.attribute": 10,
                            "double.attribute": 637.704, "array.attribute": ["many", "values"],
                            "map.attribute": {"some.map.key": "some value"}}
    assert r.resource["otel.scope.name"] == "my.library" and r.resource["otel.scope.attr.my.scope.attribute"] == "some scope attribute"
    ev = tk.read_logs(real_traces / "opentelemetry-proto" / "events.json").iloc[0]
    assert ev.attributes["event.name"] == "browser.page_view" and pd.isna(ev.trace_id)
    assert json.loads(ev.body) == {"type": 0, "url": "https://www.guidgenerator.com/online-guid-generator.aspx",
                                   "referrer": "https://wwww.google.com", "title": "Free Online GUID Generator"}
    assert ev.severity_text == "INFO"  # "test severity text" is no known word: number 9 decides
    tk.validate_logs(logs)


def test_legacy_instrumentation_library_logs_and_time_fallback():
    doc = _otlp_log(t="0", observedTimeUnixNano="1700000000000000001")
    rl = doc["resourceLogs"][0]
    rl["instrumentationLibraryLogs"] = rl.pop("scopeLogs")
    rl["instrumentationLibraryLogs"][0]["instrumentationLibrary"] = rl["instrumentationLibraryLogs"][0].pop("scope")
    df = tk.read_logs(doc)
    assert df.loc[0, "time"].value == 1700000000000000001  # OTLP: time 0 is unknown, observed time used
    assert df.loc[0, "resource"]["otel.scope.name"] == "lib" and df.loc[0, "host"] == "h1"


def test_collector_file_mixing_signals(tmp_path, real_traces):
    base = real_traces / "opentelemetry-proto"
    lines = [json.dumps(json.load(open(base / f))) for f in ("trace.json", "metrics.json", "logs.json")]
    p = tmp_path / "collector.jsonl.gz"
    p.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    logs = tk.read_logs(p)
    assert len(logs) == 1 and logs.loc[0, "source_record"] == 3
    assert [r.record for r in logs.attrs["ignored"]] == ["line 1", "line 2"]
    spans = tk.read(p)  # the span reader still reads the spans of the same file
    assert len(spans) == 1 and spans.loc[0, "trace_id"] == tk.read(base / "trace.json").loc[0, "trace_id"]


# --------------------------------------------------------------------------------------------- read_logs: CloudWatch, JSON lines


POWERTOOLS = {"level": "ERROR", "location": "handler:12", "message": "payment failed", "timestamp": "2024-03-01 10:00:00,123+0000",
              "service": "payments", "cold_start": False, "function_request_id": "r-1",
              "xray_trace_id": "1-65e1a6d0-0123456789abcdef01234567"}


def test_cloudwatch_filter_log_events_with_powertools_and_lambda_lines():
    out = {"events": [
        {"logStreamName": "2024/03/01/[$LATEST]abc", "timestamp": 1709287200123, "message": json.dumps(POWERTOOLS),
         "ingestionTime": 1709287201000, "eventId": "e1"},
        {"logStreamName": "2024/03/01/[$LATEST]abc", "timestamp": 1709287200200,
         "message": "2024-03-01T10:00:00.200Z\tr-1\tWARN\tretrying card\n", "ingestionTime": 1709287201000},
        {"logStreamName": "s", "timestamp": 1709287200300, "message": "START RequestId: r-1 Version: $LATEST\n"},
    ], "searchedLogStreams": [], "nextToken": None}
    df = tk.read_logs(out)
    assert df["source"].tolist() == ["cloudwatch"] * 3
    r = df.iloc[0]
    assert (r.trace_id, r.service, r.severity_text, r.body) == (
        "65e1a6d00123456789abcdef01234567", "payments", "ERROR", "payment failed")
    assert pd.isna(r.span_id)  # Powertools logs the trace id only: the record belongs to its trace
    assert r.time.value == 1709287200123 * 10**6 and r.observed_time.value == 1709287201000 * 10**6
    assert r.attributes["function_request_id"] == "r-1" and r.resource["log.stream"] == "2024/03/01/[$LATEST]abc"
    assert (df.loc[1, "severity_text"], df.loc[1, "body"], df.loc[1, "attributes"]["aws.request_id"]) == ("WARN", "retrying card", "r-1")
    assert pd.isna(df.loc[2, "severity_text"]) and df.loc[2, "body"].startswith("START RequestId")


def test_get_log_events_and_subscription_payload():
    got = tk.read_logs({"events": [{"timestamp": 1, "message": "x", "ingestionTime": 2}], "nextForwardToken": "f/1"})
    assert got.loc[0, "body"] == "x" and got.loc[0, "time"].value == 10**6
    sub = tk.read_logs({"messageType": "DATA_MESSAGE", "logGroup": "/aws/lambda/pay", "logStream": "s1",
                        "logEvents": [{"id": "1", "timestamp": 5, "message": json.dumps(POWERTOOLS)}]})
    assert sub.loc[0, "resource"] == {"log.group": "/aws/lambda/pay", "log.stream": "s1"}


def test_json_lines_with_trace_ids(tmp_path):
    lines = [
        {"time": "2024-01-01T00:00:00.5Z", "level": "info", "msg": "ok", "trace_id": T1, "span_id": S1, "user": "u1"},
        {"@timestamp": 1704067200.25, "log.level": "error", "message": "boom", "trace.id": T1, "span.id": S1.upper()},
        {"ts": 1704067200000, "severity": "WARNING", "body": {"k": 1},
         "AWS-XRAY-TRACE-ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"},
    ]
    p = tmp_path / "app.log.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    df = tk.read_logs(p)
    assert df["severity_text"].tolist() == ["INFO", "ERROR", "WARN"]
    assert df["time"].tolist() == [pd.Timestamp("2024-01-01T00:00:00.5Z"), pd.Timestamp("2024-01-01T00:00:00.25Z"),
                                   pd.Timestamp("2024-01-01T00:00:00Z")]
    assert df["span_id"].tolist() == [S1, S1, "53995c3f42cd8ad8"]
    assert df.loc[2, "trace_id"] == "5759e988bd862e3fe1be46a994272793" and df.loc[2, "body"] == '{"k":1}'
    assert df.loc[0, "attributes"] == {"user": "u1"} and df["source_record"].tolist() == [1, 2, 3]


# --------------------------------------------------------------------------------------------- bad input


def test_bad_records_name_file_and_record_and_skip_lists_them(tmp_path):
    good = json.dumps({"msg": "ok", "time": 1})
    p = tmp_path / "bad.jsonl"
    p.write_text("\n".join([good, "{not json", json.dumps({"msg": "x", "trace_id": "nothex"}),
                            json.dumps({"msg": "y", "time": "yesterday-ish"}), json.dumps({"a": 1}), good]) + "\n")
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs(p)
    assert e.value.file == str(p) and e.value.record == "line 2"
    with pytest.warns(tk.TraceFormatWarning, match="skipped 4"):
        df = tk.read_logs(p, errors="skip")
    assert len(df) == 2
    table = tk.skipped_records(df)
    assert table["record"].tolist() == ["line 2", "line 5", "line 3", "line 4"]
    reasons = " | ".join(table["reason"])
    assert "not valid JSON" in reasons and "'nothex' is not 32 hex" in reasons and "not a log record" in reasons
    assert "'yesterday-ish' is not a time" in reasons
    with pytest.raises(tk.TraceFormatError, match=r"logRecords\[0\]: timeUnixNano must be nanoseconds"):
        tk.read_logs(_otlp_log(t="soon"))
    with pytest.raises(tk.ArgumentError):
        tk.read_logs(_otlp_log(), errors="ignore")


def test_hostile_long_and_deep_values_do_not_blow_up():
    deep = {"stringValue": "x"}
    for _ in range(2000):
        deep = {"kvlistValue": {"values": [{"key": "k", "value": deep}]}}
    doc = _otlp_log(**{"attributes": [{"key": "deep", "value": deep}]})
    del doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]
    df = tk.read_logs(doc)
    assert pd.isna(df.loc[0, "body"])
    assert df.loc[0, "attributes"]["deep"]["k"]["k"] is not None


# --------------------------------------------------------------------------------------------- templates


def test_templates_mask_variables_and_ids_are_stable():
    bodies = ["user 42 logged in from 10.0.0.7:8080", "user 7 logged in from 10.1.2.3:22",
              "order 9f1c2e3a-1111-2222-3333-444455556666 paid", "order 0a1c2e3a-1111-2222-3333-444455556666 paid",
              "GET /cart?id=77 took 12.5 ms", None]
    logs = tk.logs_from_columns({"time": np.arange(len(bodies)), "body": bodies})
    t = tk.log_templates(logs)
    assert t["template"].tolist()[:5] == ["user <*> logged in from <*>", "user <*> logged in from <*>",
                                          "order <*> paid", "order <*> paid", "GET /cart?id=<*> took <*> ms"]
    assert pd.isna(t.loc[5, "template"]) and pd.isna(t.loc[5, "template_id"])
    assert t.loc[0, "template_id"] == t.loc[1, "template_id"] != t.loc[2, "template_id"]
    import hashlib

    assert t.loc[0, "template_id"] == hashlib.blake2b(b"user <*> logged in from <*>", digest_size=8).hexdigest()
    # stable: the same template id from another frame in another order
    t2 = tk.log_templates(logs.iloc[::-1].reset_index(drop=True))
    assert t2.loc[5, "template_id"] == t.loc[0, "template_id"]


def test_templates_linear_on_a_200kb_message():
    long = "z" * 100_000 + "=" + "9" * 100_000 + " " + "x1 " * 10  # no newline, backtracking bait for x*=y* style regexes
    t = tk.log_templates(tk.logs_from_columns({"time": [0], "body": [long]}))
    assert t.loc[0, "template"] == "z" * 100_000 + "=<*>"


# --------------------------------------------------------------------------------------------- attach_logs


def _spans():
    #  trace a: root r (0..100) ── child c (10..90)       trace b: only an orphan fragment (no root)
    return tk.spans_from_columns({
        "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": [None, "1" * 16, "9" * 16], "service": ["web", "db", "q"], "name": ["GET /", "SELECT", "poll"],
        "start": [0, 10, 0], "end": [100, 90, 5],
        "events": [[{"time": 5, "name": "exception", "attributes": {}}], [], []]})


def test_attach_logs_by_construction():
    spans = _spans()
    before = spans.copy(deep=True)
    logs = tk.logs_from_columns({
        "time": [50, 20, 30, 40, 60, 70, 80],
        "body": ["slow 31 ms", "slow 12 ms", "request done", "lost", "no ids", "orphan trace", "bad span"],
        "trace_id": ["a" * 32, "a" * 32, "a" * 32, "c" * 32, None, "b" * 32, "a" * 32],
        "span_id": ["2" * 16, "2" * 16, None, "1" * 16, None, None, "f" * 16],
        "severity": ["WARN", "ERROR", "INFO", "INFO", "INFO", "INFO", "INFO"]})
    r = tk.attach_logs(spans, logs)
    pd.testing.assert_frame_equal(spans, before)  # input not modified
    assert (r.n_records, r.n_on_span, r.n_trace_level, r.n_unmatched) == (7, 2, 1, 4)
    assert r.spans["log_records"].tolist() == [1, 2, 0] and r.spans["log_errors"].tolist() == [0, 1, 0]
    child = r.spans.loc[1, "events"]
    assert [e["attributes"]["log.body"] for e in child] == ["slow 12 ms", "slow 31 ms"]  # time order
    assert child[0]["name"] == "log" and child[0]["attributes"]["log.record"] and child[0]["time"] == 20
    assert child[0]["attributes"]["log.template_id"] == child[1]["attributes"]["log.template_id"]
    root = r.spans.loc[0, "events"]
    assert root[0]["name"] == "exception" and root[1]["attributes"]["log.trace_level"] is True
    assert sorted(zip(r.unmatched["body"], r.unmatched["reason"], strict=True)) == [
        ("bad span", "span not in trace"), ("lost", "trace not in spans"), ("no ids", "no trace id"),
        ("orphan trace", "trace has no root")]
    assert r.table["records"].sum() == 7


def test_attach_logs_non_canonical_span_ids_take_the_string_path():
    spans = _spans()
    spans["span_id"] = spans["span_id"].astype(object).str.upper().astype(tk.schema.STRING)
    logs = tk.logs_from_columns({"time": [1], "body": ["x"], "trace_id": ["a" * 32], "span_id": ["2" * 16]})
    assert tk.attach_logs(spans, logs).n_on_span == 1


def test_attach_logs_on_a_stores_lazy_events_builds_only_the_spans_given_records(tmp_path):
    spans = _spans()
    tk.write_parquet(spans, tmp_path / "s.parquet")
    lazy = tk.read_parquet(tmp_path / "s.parquet")
    assert isinstance(lazy["events"].array, LazyColumn) and lazy["events"].array.is_lazy
    logs = tk.logs_from_columns({"time": [50, 20, 30], "body": ["slow 31 ms", "slow 12 ms", "done"],
                                 "trace_id": ["a" * 32] * 3, "span_id": ["2" * 16, "2" * 16, None]})
    want = tk.attach_logs(spans, logs).spans["events"].tolist()
    r = tk.attach_logs(lazy, logs)
    # the child (two records) and the root (one trace-level record) built; the orphan's cell not
    assert lazy["events"].array.built().tolist() == [True, True, False]
    assert r.spans["events"].dtype == lazy["events"].dtype  # still a lazy column
    assert r.spans["events"].tolist() == want and [len(e) for e in want] == [2, 2, 0]
    assert lazy["events"].tolist() == spans["events"].tolist()  # the input's cells unchanged


def test_attach_logs_rejects_a_spans_frame_as_logs():
    with pytest.raises(tk.ArgumentError, match="not a logs frame"):
        tk.attach_logs(_spans(), _spans())


@pytest.mark.slow
def test_nezha_logs_load_from_columns_and_all_attach(real_traces):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench_rank_causes as b

    day = real_traces / "nezha" / "fault-days" / "rca_data" / "2023-01-29"
    if not (day / "log").is_dir():
        pytest.skip("Nezha logs not found")
    logs = b.read_nezha_logs(sorted((day / "log").glob("09_3*_log.csv.gz")))
    spans = b.read_nezha_csvs(sorted((day / "trace").glob("09_3*_trace.csv.gz")))
    tk.validate_logs(logs)
    assert set(logs["severity_text"].dropna()) <= {"INFO", "WARN", "ERROR"}
    r = tk.attach_logs(spans, logs)
    # SOURCES.md: every row's TraceID/SpanID names a span of the same minute's trace CSV
    assert r.n_unmatched == 0 and r.n_on_span == len(logs)
    assert int(r.spans["log_records"].sum()) == len(logs)
    # the counts per span agree with an independent pandas merge on the ids, and the service of the pod
    m = logs[["trace_id", "span_id", "service"]].astype(str).merge(
        spans[["trace_id", "span_id", "service"]].astype(str).drop_duplicates(["trace_id", "span_id"]),
        on=["trace_id", "span_id"], suffixes=("_log", "_span"))
    assert len(m) == len(logs) and (m["service_log"] == m["service_span"]).all()
    want = m.groupby(["trace_id", "span_id"]).size()
    got = r.spans[r.spans["log_records"] > 0].astype({"trace_id": str, "span_id": str}).drop_duplicates(
        ["trace_id", "span_id"]).set_index(["trace_id", "span_id"])["log_records"]
    assert got.sort_index().tolist() == want.sort_index().tolist()


# --------------------------------------------------------------------------------------------- rank: log evidence


def _logs_for(spans, body_of, severity_of=lambda s: "INFO"):
    """One record per span, body and severity chosen from the span's service (ground truth by construction)."""
    svc = spans["service"].astype(str).tolist()
    return tk.logs_from_columns({"time": spans["start"], "trace_id": spans["trace_id"], "span_id": spans["span_id"],
                                 "body": [body_of(s) for s in svc], "severity": [severity_of(s) for s in svc],
                                 "service": svc})


def test_log_evidence_shares_by_construction():
    from tracekit.analysis.log_evidence import log_evidence

    sim_a = tk.simulate.simulate("baseline", 200, seed=1).spans
    sim_b = tk.simulate.simulate("baseline", 200, seed=2).spans
    target = sorted(set(sim_a["service"].astype(str)))[0]
    logs = pd.concat([_logs_for(sim_a, lambda s: "stock lookup failed for item 7" if s == target else "handled 1 request",
                                lambda s: "ERROR" if s == target else "INFO"),
                      _logs_for(sim_b, lambda s: "handled 3 request")], ignore_index=True)
    ev = log_evidence(sim_a, sim_b, logs)
    assert ev.records == (len(sim_a), len(sim_b))
    top = ev.table.iloc[0]
    # the target's statements changed wholesale: 'handled <*> request' vanished from its spans (an INFO statement:
    # evidence) as 'stock lookup failed' appeared; both are the largest change there is
    assert top["service"] == target and top["template"] in ("stock lookup failed for item <*>", "handled <*> request")
    n, nb = int(top["spans"]), int(top["baseline_spans"])

    def bound(ca, na, cb, nb_):  # the end nearer 0 of the Agresti–Caffo interval, z = 2 (written out here)
        pa, pb = (ca + 1) / (na + 2), (cb + 1) / (nb_ + 2)
        se = np.sqrt(pa * (1 - pa) / (na + 2) + pb * (1 - pb) / (nb_ + 2))
        return max(abs(pa - pb) - 2 * se, 0.0)

    # every span of the operation emitted 'handled' in the baseline, none in the incident; less the rise of its
    # spans that relay another service's error (a failed span of another service below one with an ERROR record:
    # there the callee's failure cut the path short), checked below against the spans counted by hand
    vanished = bound(n, n, 0, nb)
    assert vanished - 0.03 <= top["log_templates"] <= vanished + 1e-12
    # ERROR records originate at the spans of the target with no target span (every one logs an ERROR) and no
    # failed span below them: counted here by walking up from each such span and marking its ancestors
    sa = sim_a.reset_index(drop=True)
    is_t = (sa["service"].astype(str) == target).to_numpy() | tk.core.failed(sa)
    pos = {(t, s_): i for i, (t, s_) in enumerate(zip(sa["trace_id"], sa["span_id"], strict=True))}
    below = np.zeros(len(sa), dtype=bool)
    for i, (t, p_) in enumerate(zip(sa["trace_id"], sa["parent_id"], strict=True)):
        if not is_t[i]:
            continue
        while isinstance(p_, str) and (t, p_) in pos:  # mark every ancestor of a target span
            j = pos[(t, p_)]
            below[j] = True
            p_ = sa["parent_id"].iat[j]
    op = (sa["service"].astype(str) == target).to_numpy() & (sa["name"].astype(str) == top["name"]).to_numpy()
    origins = int((op & ~below).sum())
    assert top["error_share"] == pytest.approx(origins / n) and top["baseline_error_share"] == 0
    # log_errors: the excess of these origins over the baseline's share within each call context by Laplace's rule
    # (0 of m baseline spans: p = π / (m + 2π), π the context's share of the incident's spans), less 2 standard
    # errors under no change (Σ n·p(1 − p)(1 + n/m)), over the spans: written out here
    ctx_a = pd.Series(tk.core.call_contexts(sa))[op]
    sb = sim_b.reset_index(drop=True)
    opb = (sb["service"].astype(str) == target).to_numpy() & (sb["name"].astype(str) == top["name"]).to_numpy()
    m_b = pd.Series(tk.core.call_contexts(sb))[opb].value_counts()
    shared = ctx_a.isin(m_b.index).to_numpy()
    n_ctx = ctx_a[shared].value_counts()
    pi = n_ctx / n_ctx.sum()
    m = m_b.reindex(n_ctx.index)
    p = pi / (m + 2 * pi)
    x = int((~below[op])[shared].sum())
    sd = float(np.sqrt((n_ctx * p * (1 - p) * (1 + n_ctx / m)).sum()))
    assert top["log_errors"] == pytest.approx(max(x - float((n_ctx * p).sum()) - 2 * sd, 0) / n_ctx.sum())
    # the ERROR statement is emitted by every target span of the operation except where a failed span of another
    # service lies below it (there it retells that error: left out of the template counts)
    other_below = np.zeros(len(sa), dtype=bool)  # a failed span of another service below, walked up by hand
    svc = sa["service"].astype(str).to_numpy()
    for i in np.flatnonzero(tk.core.failed(sa)):
        t, p_ = sa["trace_id"].iat[i], sa["parent_id"].iat[i]
        while isinstance(p_, str) and (t, p_) in pos:
            j = pos[(t, p_)]
            if svc[j] != svc[i]:
                other_below[j] = True
            p_ = sa["parent_id"].iat[j]
    stock = ev.templates[(ev.templates["service"] == target) & (ev.templates["name"] == top["name"])
                         & (ev.templates["template"] == "stock lookup failed for item <*>")].iloc[0]
    assert int(stock["emitting"]) == int((op & ~other_below).sum()) and 0 < int(stock["emitting"]) <= n
    if top["template"] == "handled <*> request":
        assert top["log_templates"] == pytest.approx(vanished - (op & other_below).sum() / n, abs=0.005)
    # the other services' template did not change (every span emits "handled <*> request" on both sides): no
    # evidence; an operation the baseline never ran has no share to compare with: no evidence either
    other = ev.templates[(ev.templates["service"] != target)]
    both = other["baseline_spans"] > 0
    assert (other.loc[both, "delta_share"].abs() < 1e-12).all() and (other["share"] == 1).all()
    assert (other["evidence"] == 0).all()


def test_log_evidence_weighs_a_change_by_both_sample_sizes():
    """20 of 20 spans against 0 of 1 is a weak change, 19 of 20 against 0 of 7 a strong one: the Agresti–Caffo
    interval's end nearer 0 (values worked out by hand: 0.0697, 0.5552); equal shares are no change."""
    from tracekit.analysis.log_evidence import _beyond_chance

    got = _beyond_chance(np.array([20, 19, 20, 0]), np.array([20, 20, 20, 20]), np.array([0, 0, 7, 7]),
                         np.array([1, 7, 7, 7]), 2.0)
    assert got[:3] == pytest.approx([0.06968, 0.55524, 0.0], abs=1e-4)
    assert got[3] < -0.5  # a statement all 7 baseline spans emitted, none of the incident's 20: vanished, signed


def test_log_errors_count_where_an_error_record_originates():
    """web → api (client span, no records) → db: db logs an ERROR and api logs 'call to db failed' as ERROR too
    in every incident trace; the baseline logs INFO only. The error began at db: api's ERROR share of origins
    is 0 although every api span carries an ERROR record (the client span between them carries none)."""
    from tracekit.analysis.log_evidence import log_evidence

    def side(n, offset, severity):
        cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")}
        recs = {k: [] for k in ("time", "trace_id", "span_id", "body", "severity")}
        for i in range(offset, offset + n):
            tid = f"{i + 1:032x}"
            chain = (("web", "GET /"), ("api", "handle"), ("api", "GET db"), ("db", "query"))
            for j, (svc, name) in enumerate(chain):
                cols["trace_id"].append(tid), cols["span_id"].append(f"{i + 1:08x}{j + 1:08x}")
                cols["parent_id"].append(None if j == 0 else f"{i + 1:08x}{j:08x}")
                cols["service"].append(svc), cols["name"].append(name)
                cols["start"].append(i * 100 + j), cols["end"].append(i * 100 + 50 - j)
            for j, body in ((3, "deadlock on row 7"), (1, "call to db failed")):
                recs["time"].append(i * 100 + 10), recs["trace_id"].append(tid)
                recs["span_id"].append(f"{i + 1:08x}{j + 1:08x}"), recs["body"].append(body)
                recs["severity"].append(severity)
        return tk.spans_from_columns(cols), recs

    inc, ri = side(30, 0, "ERROR")
    base, rb = side(30, 1000, "INFO")
    logs = tk.logs_from_columns({k: ri[k] + rb[k] for k in ri})
    t = log_evidence(inc, base, logs).table.set_index(["service", "name"])
    # 30 of 30 against 0 of 30: the excess over Laplace's chance p = 1/32 less 2 standard errors under no change
    assert t.loc[("db", "query"), "error_share"] == 1.0
    p = 1 / 32
    assert t.loc[("db", "query"), "log_errors"] == pytest.approx((30 - 30 * p - 2 * np.sqrt(30 * p * (1 - p) * 2)) / 30)
    assert t.loc[("api", "handle"), "error_share"] == 0.0 and t.loc[("api", "handle"), "log_errors"] == 0.0
    # the statements themselves did not change (same bodies on both sides): no template evidence anywhere
    assert (t["log_templates"] == 0).all()


def test_rank_causes_with_logs_says_logs_decided():
    inc = tk.simulate.simulate("baseline", 300, seed=3).spans
    base = tk.simulate.simulate("baseline", 300, seed=4).spans
    services = sorted(set(inc["service"].astype(str)))
    target = services[len(services) // 2]
    logs = pd.concat([_logs_for(inc, lambda s: "NullPointerException in handler" if s == target else "ok"),
                      _logs_for(base, lambda s: "ok")], ignore_index=True)
    plain = tk.rank_causes(inc, base, n_boot=20, lift_rows=0)
    rc = tk.rank_causes(inc, base, n_boot=20, lift_rows=0, logs=logs)
    assert rc.iloc[0]["service"] == target and rc.iloc[0]["decided_by"] == "logs: log_templates"
    assert rc.iloc[0]["log_template"] == "NullPointerException in handler"
    assert "decided_by" not in plain.columns  # without logs the table is as before
    # the score is the traces' score plus the log evidence
    m = rc.merge(plain[["service", "score"]], on="service", suffixes=("", "_traces"))
    assert np.allclose(m["score"], m["score_traces"] + m["log_templates"] + m["log_errors"])


# --------------------------------------------------------------------------------------------- show: analyses count log records


def _attached_chain():
    """web GET / -> api get -> db q, all status unset; db logs an ERROR in trace 1 only (by construction)."""
    n = 6
    cols = {"trace_id": [], "span_id": [], "parent_id": [], "service": [], "name": [], "start": [], "end": []}
    for i in range(n):
        for j, (svc, name) in enumerate((("web", "GET /"), ("api", "get"), ("db", "q"))):
            cols["trace_id"].append(f"{i + 1:032x}")
            cols["span_id"].append(f"{i + 1:08x}{j + 1:08x}")
            cols["parent_id"].append(None if j == 0 else f"{i + 1:08x}{j:08x}")
            cols["service"].append(svc), cols["name"].append(name)
            cols["start"].append(j), cols["end"].append(10 - j)
    spans = tk.spans_from_columns(cols)
    logs = tk.logs_from_columns({"time": [2, 3, 4], "trace_id": [f"{1:032x}", f"{1:032x}", f"{2:032x}"],
                                 "span_id": [f"{1:08x}{3:08x}", f"{1:08x}{2:08x}", f"{2:08x}{3:08x}"],
                                 "body": ["deadlock on row 42", "retrying", "query ok in 3 ms"],
                                 "severity": ["ERROR", "INFO", "INFO"]})
    return spans, tk.attach_logs(spans, logs).spans


def test_error_origins_and_top_exceptions_count_error_log_records():
    spans, att = _attached_chain()
    assert len(tk.error_origins(spans)) == 0  # no status anywhere: traces alone see no error
    eo = tk.error_origins(att, per_span=True)
    assert eo[["trace_id", "service", "hops"]].values.tolist() == [[f"{1:032x}", "db", 0]]
    te = tk.top_exceptions(att)
    assert te[["service", "exception_type", "template", "count"]].values.tolist() == [
        ["db", "log record (ERROR)", "deadlock on row <num>", 1]]


def test_bubble_up_sees_log_templates():
    spans, att = _attached_chain()
    hits = tk.bubble_up(att, [f"{1:032x}"], level="trace")
    t = hits[hits["dimension"] == "log_template"].set_index("value")
    assert t.loc["deadlock on row <*>", "selection_count"] == 1 and t.loc["deadlock on row <*>", "baseline_count"] == 0
    sev = hits[hits["dimension"] == "log_severity"].set_index("value")
    assert sev.loc["ERROR", "share_selection"] == 1.0 and sev.loc["ERROR", "share_baseline"] == 0.0
    assert "log_template" not in set(tk.bubble_up(spans, [f"{1:032x}"], level="trace")["dimension"])


# --------------------------------------------------------------------------------------------- show: explorer, waterfall, report

EVIL = "<script>alert('x')</script> card 4111 1111 1111 1111 declined"


def _attached_with_evil():
    spans, att = _attached_chain()
    logs = tk.logs_from_columns({"time": [2, 5], "trace_id": [f"{1:032x}"] * 2,
                                 "span_id": [f"{1:08x}{3:08x}", None], "body": [EVIL, "request done"],
                                 "severity": ["ERROR", "INFO"]})
    return tk.attach_logs(spans, logs).spans


def test_explorer_details_list_the_span_logs_escaped():
    from tracekit.widgets import ExplorerState

    att = _attached_with_evil()
    s = ExplorerState.from_spans(att)
    s = s.select_trace(f"{1:032x}").select_span(f"{1:08x}{3:08x}")
    d = s.span_details()
    assert [(g["severity"], g["body"]) for g in d["logs"]] == [("ERROR", EVIL)]
    assert all(e["name"] != "log" for e in d["events"])  # listed as logs, not twice
    html = s.details_html()
    assert "logs (1)" in html and "&lt;script&gt;" in html and "<script>" not in html
    root = s.select_span(f"{1:08x}{1:08x}").span_details()
    assert [(g["body"], g["trace_level"]) for g in root["logs"]] == [("request done", True)]


def test_waterfall_marks_spans_with_error_logs():
    att = _attached_with_evil()
    w = tk.waterfall_data(att, f"{1:032x}")
    assert w.set_index("service")["log_errors"].to_dict() == {"web": 0, "api": 0, "db": 1}
    fig = tk.plot_waterfall(att, f"{1:032x}")
    marks = [t for t in fig.data if t.meta == "log_errors"]
    assert len(marks) == 1 and list(marks[0].y) == [int(w.index[w["service"] == "db"][0])]
    assert not [t for t in tk.plot_waterfall(_attached_chain()[0], f"{2:032x}").data if t.meta == "log_errors"]


def test_report_example_traces_list_their_logs_redacted_and_escaped(tmp_path):
    att = _attached_with_evil()
    att = att.assign(end=att["end"] + pd.to_timedelta(np.where(att["trace_id"] == f"{1:032x}", 50, 0), unit="ms"))
    page = tk.report(att, tmp_path / "r.html", worst=1).read_text()
    assert f'id="logs-{1:032x}"' in page and "request done" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    redacted = tk.report(att, tmp_path / "r2.html", worst=1, redact=["log.body"]).read_text()
    assert f'id="logs-{1:032x}"' in redacted
    assert "request done" not in redacted and "4111 1111 1111 1111" not in redacted and "declined" not in redacted


# --------------------------------------------------------------------------------------------- the fast path


def _varied_lines():
    recs = [
        {"timeUnixNano": "1700000000000000001", "observedTimeUnixNano": "1700000000000000002", "severityNumber": 17,
         "severityText": "ERROR", "traceId": T1, "spanId": S1, "body": {"stringValue": "boom 1"},
         "attributes": [{"key": "n", "value": {"intValue": "-3"}}, {"key": "f", "value": {"doubleValue": 1.5}},
                        {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": 2}]}}},
                        {"key": "m", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": True}}]}}}]},
        {"timeUnixNano": "0", "observedTimeUnixNano": 1700000000000000005, "severityNumber": "SEVERITY_NUMBER_WARN2",
         "eventName": "ev", "body": {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}},
        {"timeUnixNano": "1700000000000000009", "traceId": "", "spanId": "", "attributes": []},
    ]
    doc = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                             "scopeLogs": [{"scope": {"name": "lib", "version": "2"}, "logRecords": recs}]}]}
    return [doc, doc]


def _both_ways(path, monkeypatch, errors="raise"):
    """read_logs of one file by the fast path and by the checked walk: (frame or error text, skipped) each."""
    import tracekit.io.logs as L

    out = []
    for fast in (True, False):
        monkeypatch.setattr(L, "FAST_PATH", fast)
        try:
            df = tk.read_logs(path, errors=errors)
        except tk.TraceFormatError as exc:
            out.append((str(exc), ()))
        else:
            out.append((df, df.attrs["skipped"]))
    monkeypatch.setattr(L, "FAST_PATH", True)
    return out


def _assert_same(got, want):
    """Equal frames (object columns compared by repr: 1 == True == 1.0 would hide a type change), or equal errors."""
    (a, skipped_a), (b, skipped_b) = got, want
    assert type(a) is type(b), (a, b)
    if isinstance(a, str):
        assert a == b
        return
    for col in ("attributes", "resource"):
        for df, other in ((a, b), (b, a)):  # the fast path's lazy columns: key reads (no cell built) as the dicts
            arr = df[col].array
            if isinstance(arr, LazyColumn):
                for k in sorted({k for d in other[col] for k in d}) + ["absent.key"]:
                    vals, has = arr.key_values(k)
                    assert repr(vals) == repr([d.get(k) for d in other[col]]), (col, k)
                    assert has.tolist() == [k in d for d in other[col]], (col, k)
                assert not arr.isna().any()
        assert [repr(x) for x in a[col]] == [repr(x) for x in b[col]]
    pd.testing.assert_frame_equal(_plain(a), _plain(b))
    assert skipped_a == skipped_b


def _plain(df):
    """``df`` with lazy ``attributes`` / ``resource`` (the fast path's) as object columns."""
    return df.astype({c: object for c in ("attributes", "resource")})


def test_fast_path_reads_as_the_checked_path(tmp_path, monkeypatch):
    import tracekit.io.logs as L

    docs = _varied_lines()
    p = tmp_path / "l.jsonl"
    p.write_bytes(b"\n".join(json.dumps(d, separators=(",", ":")).encode() for d in docs) + b"\n")
    assert L._fast(p.read_bytes(), "l.jsonl") is not None  # the fast path takes this file
    fast, checked = _both_ways(p, monkeypatch)
    _assert_same(fast, checked)
    fast = fast[0]
    assert fast["source_record"].tolist() == [1, 1, 1, 2, 2, 2] and set(fast["source_file"]) == {str(p)}
    assert fast.loc[0, "attributes"] == {"n": -3, "f": 1.5, "a": ["x", 2], "m": {"k": True}}
    assert fast.loc[1, "time"].value == 1700000000000000005 and fast.loc[1, "severity_number"] == 14
    assert fast.loc[1, "attributes"] == {"event.name": "ev"} and fast.loc[1, "body"] == '{"k":"v"}'
    # the same documents parsed (no bytes to decode: the checked walk) read the same but for where they came from
    parsed = tk.read_logs(docs)
    cols = [c for c in fast.columns if c not in ("source_file", "source_record")]
    assert isinstance(fast["attributes"].array, LazyColumn) and isinstance(fast["resource"].array, LazyColumn)
    lazy = tk.read_logs(p)
    assert tk.validate_logs(lazy) is lazy  # validating builds no cell: only the records with an event name are built
    assert lazy["attributes"].array.built().tolist() == [False, True, False, False, True, False]
    pd.testing.assert_frame_equal(_plain(fast)[cols], parsed[cols])


@pytest.mark.parametrize("name", ["logs.json", "events.json"])
def test_fast_path_reads_the_real_otlp_examples_as_the_checked_path(real_traces, tmp_path, monkeypatch, name):
    import tracekit.io.logs as L

    path = real_traces / "opentelemetry-proto" / name
    assert L._fast(path.read_bytes(), name) is not None  # a pretty-printed document: taken whole
    fast, checked = _both_ways(path, monkeypatch)
    _assert_same(fast, checked)
    assert fast[0]["source_record"].tolist() == [0]  # one document: the record is its resourceLogs index
    # as JSON lines (one line each, then the two files as two lines), gzip-compressed
    one = json.dumps(json.loads(path.read_bytes()), separators=(",", ":")).encode()
    for data, records in ((one + b"\n", [0]), (one + b"\n\n" + one + b"\r\n", [1, 3])):
        q = tmp_path / "l.jsonl.gz"
        q.write_bytes(gzip.compress(data))
        assert L._fast(data, "l") is not None
        fast, checked = _both_ways(q, monkeypatch)
        _assert_same(fast, checked)
        assert fast[0]["source_record"].tolist() == records


def test_fast_path_falls_back_on_what_it_does_not_declare(tmp_path):
    import tracekit.io.logs as L

    docs = _varied_lines()
    docs[1]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["somethingNew"] = 1  # an unknown key: checked path
    data = b"\n".join(json.dumps(d).encode() for d in docs) + b"\n"
    assert L._fast(data, "x") is None
    p = tmp_path / "l.jsonl"
    p.write_bytes(data)
    assert len(tk.read_logs(p)) == 6
    bad = data.replace(b'"timeUnixNano": "1700000000000000009"', b'"timeUnixNano": "+17"')
    p.write_bytes(bad)
    with pytest.raises(tk.TraceFormatError, match=r"line 1, resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[2\]"):
        tk.read_logs(p)


def test_log_evidence_uses_only_the_baseline_its_logs_cover():
    """Logs are often kept for less time than traces. A baseline of two periods, one with logs and one without
    (none collected): the spans of the period without records did not stop logging, so they are left out of the
    log evidence; with them the template every span emits would look three times rarer in the baseline."""
    from tracekit.analysis.log_evidence import log_evidence

    inc = tk.simulate.simulate("baseline", 120, seed=5).spans
    with_logs = tk.simulate.simulate("baseline", 120, seed=6).spans
    shift = pd.Timedelta("2h")
    no_logs = tk.simulate.simulate("baseline", 240, seed=7).spans
    no_logs = no_logs.assign(start=no_logs["start"] - shift, end=no_logs["end"] - shift)
    assert no_logs["end"].max() < with_logs["start"].min()  # two periods, apart
    logs = pd.concat([_logs_for(inc, lambda s: "handled request"), _logs_for(with_logs, lambda s: "handled request")],
                     ignore_index=True)
    ev = log_evidence(inc, pd.concat([with_logs, no_logs], ignore_index=True), logs)
    assert (ev.templates["evidence"] == 0).all() and (ev.table["log_templates"] == 0).all()
    assert ev.records == (len(inc), len(with_logs))
    # the baseline spans counted are those of the period with logs (whole traces)
    assert int(ev.table["baseline_spans"].sum()) == len(with_logs)


def _random_records(spans, rng, target=None, share=0.6):
    """One record per span: 'cache miss' in 30 % of spans, 'served from cache' else, ERROR in 2 % (both sides alike);
    with a ``target`` service, that share of its spans logs 'charge failed: card <n>' as ERROR instead."""
    n = len(spans)
    body = np.where(rng.random(n) < 0.3, "cache miss for key 7", "served from cache").astype(object)
    sev = np.where(rng.random(n) < 0.02, "ERROR", "INFO").astype(object)
    if target is not None:
        hit = (spans["service"].astype(str).to_numpy() == target) & (rng.random(n) < share)
        body[hit] = [f"charge failed: card {i}" for i in rng.integers(1000, 9999, int(hit.sum()))]
        sev[hit] = "ERROR"
    return {"time": spans["start"].to_numpy(), "trace_id": spans["trace_id"].astype(str).to_numpy(),
            "span_id": spans["span_id"].astype(str).to_numpy(), "body": body, "severity": sev}


@pytest.mark.parametrize("seed", range(6))
def test_log_evidence_across_seeds_finds_the_fault_and_invents_none(seed):
    """Generated scenarios (ground truth by construction): with the same random log mix on both sides no component
    gets log evidence worth saying (every value ≤ 0.05, the words' threshold); with one service (chosen per seed)
    logging a new ERROR statement in 60 % of its spans, rank_causes with logs ranks it first and logs decide."""
    from tracekit.analysis.log_evidence import log_evidence

    inc = tk.simulate.simulate("baseline", 300, seed=100 + seed).spans
    base = tk.simulate.simulate("baseline", 300, seed=200 + seed).spans
    rng = np.random.default_rng(seed)
    services = sorted(set(inc["service"].astype(str)))
    target = services[int(rng.integers(len(services)))]
    a, b = _random_records(inc, rng), _random_records(base, rng)
    null = tk.logs_from_columns({k: np.concatenate([a[k], b[k]]) for k in a})
    ev = log_evidence(inc, base, null).table
    assert ev["log_templates"].max() <= 0.05 and ev["log_errors"].max() <= 0.05
    a = _random_records(inc, rng, target=target)
    logs = tk.logs_from_columns({k: np.concatenate([a[k], b[k]]) for k in a})
    rc = tk.rank_causes(inc, base, n_boot=20, lift_rows=0, logs=logs, window=None)
    assert rc.iloc[0]["service"] == target and str(rc.iloc[0]["decided_by"]).startswith("logs:")
    assert "charge failed: card <*>" in str(rc.iloc[0]["log_template"])


# hostile values, each put in place of one field of one record (None: the key removed); ground truth is the
# checked walk (tested above on its own): the fast path must read each file to the same frame, the same
# error or the same skipped records
_HOSTILE = {
    "timeUnixNano": [None, "", "0", "+17", " 17", "-5", "00017", "9223372036854775807", "9223372036854775808",
                     "١٧", 17, -5, 2**63, 0, 1.5, True, [], "2024-01-01T00:00:00Z"],
    "observedTimeUnixNano": [None, "0", "abc", 0, 1700000000000000000, "1700000000000000000"],
    "severityNumber": [None, 0, 9, 24, 25, -1, "9", "SEVERITY_NUMBER_ERROR3", "SEVERITY_NUMBER_UNSPECIFIED",
                       "SEVERITY_NUMBER_NOPE", 2**63, 2**64, True, 9.0],
    "severityText": [None, "", "warning", "Information", "oops", 5],
    "traceId": [None, "", "XYZ", "5B8EFFF798038103D269B633813FC60C", "1-5759e988-bd862e3fe1be46a994272793",
                " 5b8efff798038103d269b633813fc60c ", "5b8efff7", 7],
    "spanId": [None, "", "EEE19B7EC3C1B174", "eee19b7e", "zzzzzzzzzzzzzzzz", 7],
    "body": [None, {}, {"stringValue": ""}, {"boolValue": True, "intValue": "5"}, {"intValue": "-3"},
             {"intValue": "+3"}, {"intValue": "1_000"}, {"intValue": 2**64}, {"doubleValue": 5}, {"doubleValue": "NaN"},
             {"bytesValue": "AAE="}, {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}]}},
             {"arrayValue": {}}, {"arrayValue": {"values": "x"}}, {"stringValueStrindex": 3}, "plain text", 5,
             {"stringValue": None}],
    "attributes": [None, [], [{"key": "k"}], [{"key": "k", "value": None}], [{"value": {"stringValue": "v"}}],
                   [{"key": "k", "value": {"stringValue": "a"}}, {"key": "k", "value": {"intValue": "2"}}],
                   [{"key": "k", "value": {"intValue": " 5"}}], [{"key": "k", "value": {"intValue": "99999999999999999999"}}],
                   [{"key": "k", "value": {"intValue": 2**64}}], [{"key": "k", "value": {"boolValue": False, "intValue": "x"}}],
                   [{"key": "k", "value": {"doubleValue": 2}}], [{"key": "event.name", "value": {"stringValue": "x"}}],
                   [{"key": 5, "value": {"stringValue": "v"}}], [{"key": "k", "value": {}}], {"k": "v"}],
    "eventName": [None, "", "page_view", 5],
    "flags": [None, 1, "1"],
    "somethingNew": [None, 1],
}


def _hostile_file(rng, only: tuple | None = None) -> bytes:
    """1-3 documents of 1-4 records; one or two hostile fields in the whole file (``only``: that one)."""
    docs = []
    for line in range(rng.integers(1, 4)):
        recs = [{"timeUnixNano": str(1700000000000000000 + 1000 * k + line), "observedTimeUnixNano": "1700000000000000001",
                 "severityNumber": 9, "severityText": "INFO", "traceId": T1, "spanId": S1,
                 "body": {"stringValue": f"order {k} placed"},
                 "attributes": [{"key": "code.function", "value": {"stringValue": "place"}},
                                {"key": "thread.id", "value": {"intValue": str(k)}}]} for k in range(rng.integers(1, 5))]
        scope = [{}, {"name": "lib"}, {"name": "lib", "version": "2", "attributes": [
            {"key": "a", "value": {"intValue": "1"}}]}][rng.integers(3)]
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}},
                                   {"key": "k8s.pod.name", "value": {"stringValue": "cart-1"}}]}
        docs.append({"resourceLogs": [{"resource": resource, "scopeLogs": [{"scope": scope, "logRecords": recs}]}]})
    for _ in range(1 if only else rng.integers(1, 3)):
        recs = docs[rng.integers(len(docs))]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        r = recs[rng.integers(len(recs))]
        key = only[0] if only else list(_HOSTILE)[rng.integers(len(_HOSTILE))]
        value = only[1] if only else _HOSTILE[key][rng.integers(len(_HOSTILE[key]))]
        if value is None:
            r.pop(key, None)
        else:
            r[key] = value
    sep = [b"\n", b"\r\n", b"\n\n"][rng.integers(3)]
    if len(docs) == 1 and rng.integers(2):
        return json.dumps(docs[0], indent=2).encode()  # one pretty-printed document
    return sep.join(json.dumps(d, separators=(",", ":")).encode() for d in docs) + b"\n"


@pytest.mark.slow  # 9.9 s on two loaded cores (load 7)
def test_fast_path_reads_hostile_files_as_the_checked_path(tmp_path, monkeypatch):
    import tracekit.io.logs as L

    rng = np.random.default_rng(30)
    taken = refused = 0
    each = [(k, v) for k, vs in _HOSTILE.items() for v in vs]
    for i in range(len(each) + 60):  # every hostile value alone once, then random pairs
        data = _hostile_file(rng, each[i] if i < len(each) else None)
        p = tmp_path / f"h{i}.jsonl"
        p.write_bytes(data)
        if L._fast(data, str(p)) is None:  # the checked walk reads it: a clear error or a frame, never a crash
            refused += 1
            try:
                with warnings.catch_warnings():  # (an attribute key given twice is loaded and warned of)
                    warnings.simplefilter("ignore", tk.TraceFormatWarning)
                    tk.read_logs(p)
            except tk.TraceFormatError as exc:
                assert exc.file == str(p) and exc.record
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", tk.TraceFormatWarning)
                tk.read_logs(p, errors="skip")
            continue
        taken += 1
        fast, checked = _both_ways(p, monkeypatch)
        _assert_same(fast, checked)
    assert taken >= 60 and refused >= 60, (taken, refused)  # not vacuous: both kinds of file were made


def test_logs_from_columns_repeats_a_single_value_for_every_row():
    """A service name given once is every row's (it was split into its characters, one per row)."""
    logs = tk.logs_from_columns({"time": [1, 2, 3], "body": ["a", "b", "c"], "service": "api", "host": "pod-1",
                                 "severity": "WARN", "trace_id": "A" * 32, "source_file": "export.csv"})
    assert logs["service"].tolist() == ["api"] * 3 and logs["host"].tolist() == ["pod-1"] * 3
    assert logs["severity_text"].tolist() == ["WARN"] * 3 and logs["trace_id"].tolist() == ["a" * 32] * 3
    assert logs["source_file"].tolist() == ["export.csv"] * 3
    with pytest.raises(tk.LogsSchemaError, match="no column holds a sequence"):
        tk.logs_from_columns({"time": 1, "body": "one record"})


def _routed_side(n, book_share, rng, offset, p_db, p_root, p_err, change=None):
    """``n`` requests through one gateway operation (``gateway /*``), each of route ``/book`` (share
    ``book_share``) or ``/search``: gateway → web ``book`` or ``search`` → db ``query``. Per route, the root logs
    'routing to <route>' with chance ``p_root[route]``, db logs 'row locked for key <n>' with chance
    ``p_db[route]`` and an ERROR 'lock wait timeout' with chance ``p_err[route]``; the web spans always log
    'handled'. ``change`` = (route, share): db spans of that route also log a new ERROR 'deadlock detected on
    key <n>' in that share of them. Ground truth by construction: the records depend on the route only."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "attributes")}
    recs = {k: [] for k in ("time", "trace_id", "span_id", "body", "severity")}

    def rec(t, tid, sid, body, sev="INFO"):
        for k, v in zip(recs, (t, tid, sid, body, sev), strict=True):
            recs[k].append(v)

    for i in range(offset, offset + n):
        route = "/book" if rng.random() < book_share else "/search"
        tid, t0 = f"{i + 1:032x}", 10**9 * i
        chain = (("gateway", "/*", {"http.route": route}), ("web", route[1:], {}), ("db", "query", {}))
        for j, (svc, name, attrs) in enumerate(chain):
            cols["trace_id"].append(tid), cols["span_id"].append(f"{i + 1:08x}{j + 1:08x}")
            cols["parent_id"].append(None if j == 0 else f"{i + 1:08x}{j:08x}")
            cols["service"].append(svc), cols["name"].append(name), cols["attributes"].append(attrs)
            cols["start"].append(t0 + j), cols["end"].append(t0 + 100 - j)
        if rng.random() < p_root[route]:
            rec(t0 + 1, tid, f"{i + 1:08x}{1:08x}", f"routing to {route}")
        rec(t0 + 2, tid, f"{i + 1:08x}{2:08x}", "handled")
        db = f"{i + 1:08x}{3:08x}"
        if rng.random() < p_db[route]:
            rec(t0 + 3, tid, db, f"row locked for key {rng.integers(100)}")
        if rng.random() < p_err[route]:
            rec(t0 + 4, tid, db, "lock wait timeout", "ERROR")
        if change is not None and route == change[0] and rng.random() < change[1]:
            rec(t0 + 5, tid, db, f"deadlock detected on key {rng.integers(100)}", "ERROR")
    return tk.spans_from_columns(cols), recs


def _route_mix(seed, change=None):
    """Incident and baseline of 400 requests each, whose mix of routes differs (80 % /book against 20 %) while
    every statement's chance per route is the same on both sides (drawn per seed)."""
    rng = np.random.default_rng(seed)
    p_db = {"/book": rng.uniform(0.6, 0.95), "/search": rng.uniform(0.0, 0.3)}
    p_root = {"/book": rng.uniform(0.6, 0.95), "/search": rng.uniform(0.0, 0.3)}
    p_err = {"/book": rng.uniform(0.2, 0.4), "/search": 0.0}
    inc, ri = _routed_side(400, 0.8, rng, 0, p_db, p_root, p_err, change)
    base, rb = _routed_side(400, 0.2, rng, 10_000, p_db, p_root, p_err)
    return inc, base, tk.logs_from_columns({k: ri[k] + rb[k] for k in ri})


@pytest.mark.parametrize("seed", range(4))
def test_log_evidence_a_change_of_route_mix_is_not_a_change_of_statement(seed):
    """Each statement is emitted at the same rate per route on both sides; only the mix of routes changed. The
    shares over all spans of an operation move (the single-share bound of the same counts is well above 0 — the
    rule before shares were compared within contexts), the shares within each context (the request's route for
    the root, the parent's operation below it) do not: no template or ERROR-origin evidence worth saying."""
    from tracekit.analysis.log_evidence import _beyond_chance, log_evidence

    inc, base, logs = _route_mix(seed)
    ev = log_evidence(inc, base, logs)
    assert ev.table["log_templates"].max() <= 0.05 and ev.table["log_errors"].max() <= 0.05
    t = ev.templates.set_index(["service", "name", "template"])
    for key in (("db", "query", "row locked for key <*>"), ("gateway", "/*", "routing to /book")):
        r = t.loc[key]
        pooled = _beyond_chance(r["emitting"], r["spans"], r["baseline_emitting"], r["baseline_spans"], 2.0)
        assert abs(float(pooled)) > 0.2  # the unstratified share moves with the mix
    # the table still says the plain shares
    r = t.loc[("db", "query", "row locked for key <*>")]
    assert r["share"] == pytest.approx(r["emitting"] / r["spans"])
    assert r["baseline_share"] == pytest.approx(r["baseline_emitting"] / r["baseline_spans"])


@pytest.mark.parametrize(("seed", "route", "least"), [(0, "/book", 0.2), (1, "/book", 0.2), (2, "/search", 0.05),
                                                      (3, "/search", 0.05)])
def test_log_evidence_finds_a_statement_that_changed_in_one_route(seed, route, least):
    """The same route-mix change, and in the incident db spans of one route also log a new ERROR statement in 70 %
    of them: found — db query first, with that template, beyond chance — and nothing else. Its weight is the
    route's share of the incident's db spans (80 % /book, 20 % /search): about 0.7 × that, less two standard
    errors, and at most the rise of the share of db spans logging an ERROR (a new ERROR statement is a new failure
    as far as spans fail more often: /book's db spans that already logged 'lock wait timeout', 20-40 %, do not)."""
    from tracekit.analysis.log_evidence import log_evidence

    inc, base, logs = _route_mix(seed, change=(route, 0.7))
    ev = log_evidence(inc, base, logs)
    top = ev.table.iloc[0]
    assert (top["service"], top["name"], top["template"]) == ("db", "query", "deadlock detected on key <*>")
    assert top["log_templates"] > least and top["log_errors"] > 0  # (db spans that already logged an ERROR: no rise)
    assert ev.table.iloc[1:]["log_templates"].max() <= 0.05 and ev.table.iloc[1:]["log_errors"].max() <= 0.05


def test_log_evidence_uses_the_period_its_logs_cover_not_whole_minutes():
    """Logs exported from a time in the middle of a minute (a retention cut, an export window): the baseline's
    requests of that minute before the first record logged as usual, none of it was collected. They are left
    out — the covered period starts a second before the first record — so 'handled', which every web span logs,
    does not look rarer in the baseline; counting whole minutes kept 20 silent requests (3:00–3:19)."""
    from tracekit.analysis.log_evidence import log_evidence

    rng = np.random.default_rng(7)
    p = {"/book": 0.5, "/search": 0.5}
    inc, ri = _routed_side(300, 0.5, rng, 10_000, p, p, {"/book": 0.0, "/search": 0.0})
    base, rb = _routed_side(400, 0.5, rng, 0, p, p, {"/book": 0.0, "/search": 0.0})  # request i starts at i s
    cut = 200 * 10**9  # 3 min 20 s: the baseline's records from here on only
    keep = [i for i, t in enumerate(rb["time"]) if t >= cut]
    logs = tk.logs_from_columns({k: list(ri[k]) + [rb[k][i] for i in keep] for k in ri})
    ev = log_evidence(inc, base, logs)
    t = ev.table.set_index(["service", "name"])
    assert t.loc[("gateway", "/*"), "baseline_spans"] == 200 and t.loc[("gateway", "/*"), "spans"] == 300
    h = ev.templates[ev.templates["template"] == "handled"]
    assert (h["baseline_share"] == 1).all() and (h["share"] == 1).all() and (h["evidence"] == 0).all()


def _deep(kind: str, depth: int) -> str:
    """An AnyValue nested ``depth`` levels deep, as JSON text (too deep for json.dumps to write)."""
    if kind == "kvlist":
        return '{"kvlistValue":{"values":[{"key":"k","value":' * depth + '{"stringValue":"leaf"}' + "}]}}" * depth
    return '{"arrayValue":{"values":[' * depth + '{"stringValue":"leaf"}' + "]}}" * depth


def test_values_nested_10000_deep_are_read_or_named_never_a_recursion_error(tmp_path):
    """A file of 300 KB: an attribute 10,000 kvlists deep is read (the typed decoder gives up: the checked walk
    reads it, iteratively); a body 10,000 arrays deep cannot become the body's JSON text: a TraceFormatError
    naming the record and the nesting, not a bare RecursionError or orjson's 'Recursion limit reached'."""
    head = ('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1544712660300000000",'
            '"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",')
    p = tmp_path / "deep.json"
    p.write_text(head + '"body":{"stringValue":"x"},"attributes":[{"key":"d","value":' + _deep("kvlist", 10_000) + "}]}]}]}]}")
    df = tk.read_logs(p)
    leaf, depth = df.loc[0, "attributes"]["d"], 0
    while isinstance(leaf, dict):
        leaf, depth = leaf["k"], depth + 1
    assert (leaf, depth, df.loc[0, "body"], df.loc[0, "span_id"]) == ("leaf", 10_000, "x", S1)
    p.write_text(head + '"body":' + _deep("array", 10_000) + "}]}]}]}")
    with pytest.raises(tk.TraceFormatError, match=r"deep\.json, resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]: "
                                                  r"body .*nested"):
        tk.read_logs(p)
    with pytest.warns(tk.TraceFormatWarning):
        assert len(tk.read_logs(p, errors="skip")) == 0


def test_json_lines_numeric_levels_and_odd_fields_are_kept(tmp_path):
    """pino and bunyan (Node.js) write ``"level": 30`` (10 trace … 60 fatal): an ERROR written as 50 must not
    become a record of no severity; a level, service or host field of a type the columns cannot hold stays in
    ``attributes`` under its own key instead of vanishing."""
    lines = [{"level": 50, "time": 1700000000000, "pid": 7, "hostname": "web-1", "msg": "db down"},
             {"level": 30, "time": 1700000000001, "msg": "ok"},
             {"level": 60, "time": 1700000000002, "msg": "dying"},
             {"level": 17, "msg": "an OTLP number"},
             {"level": 99, "msg": "no such level"},
             {"level": {"name": "x"}, "service": 5, "host": ["a", "b"], "msg": "odd"}]
    p = tmp_path / "pino.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines))
    df = tk.read_logs(p)
    assert df["severity_text"].tolist()[:4] == ["ERROR", "INFO", "FATAL", "ERROR"]
    assert df["severity_number"].tolist()[:4] == [17, 9, 21, 17]
    assert df.loc[0, "host"] == "web-1" and df.loc[0, "attributes"] == {"pid": 7}
    assert pd.isna(df.loc[4, "severity_text"]) and df.loc[4, "attributes"] == {"level": 99}
    assert df.loc[5, "attributes"] == {"level": {"name": "x"}, "service": 5, "host": ["a", "b"]}
    assert pd.isna(df.loc[5, "service"]) and pd.isna(df.loc[5, "host"])


def test_no_records_found_names_the_source(tmp_path):
    """A filter-log-events output that matched nothing (real shape: empty events, searchedLogStreams) read from
    a file or a directory: the error names what was read, as every other read error does."""
    p = tmp_path / "none.json"
    p.write_text(json.dumps({"events": [], "searchedLogStreams": [{"logStreamName": "s", "searchedCompletely": True}]}))
    with pytest.raises(tk.TraceFormatError, match=r"^.*none\.json: no log records found$"):
        tk.read_logs(p)
    with pytest.raises(tk.TraceFormatError) as e:
        tk.read_logs([p, p])
    assert e.value.file is not None and "none.json" in str(e.value)
    with pytest.warns(tk.TraceFormatWarning, match=r"none\.json: no log records found"):
        assert len(tk.read_logs(p, errors="skip")) == 0


def test_logs_from_columns_never_drops_or_mangles_a_value_silently():
    """Columns built by hand (a CSV, a DataFrame from elsewhere): an attributes cell that is JSON text or a list
    was silently replaced by {}; a map body became Python's repr (read_logs writes the same body as compact JSON:
    the two gave two templates for one message); a lone surrogate raised a bare UnicodeEncodeError."""
    from tracekit.logs_schema import LogsSchemaError

    df = tk.logs_from_columns({"time": [0, 1, 2], "body": [{"user": "ann", "n": [1, 2]}, ["a", 1], None],
                               "attributes": [None, {"k": "v"}, float("nan")]})
    assert df["body"].tolist()[:2] == ['{"user":"ann","n":[1,2]}', '["a",1]'] and pd.isna(df.loc[2, "body"])
    assert df["attributes"].tolist() == [{}, {"k": "v"}, {}]
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "1", "body": {"kvlistValue": {"values": [
        {"key": "user", "value": {"stringValue": "ann"}},
        {"key": "n", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"intValue": "2"}]}}}]}}}]}]}]}
    assert tk.read_logs(doc).loc[0, "body"] == df.loc[0, "body"]  # one text for one body, whichever constructor
    with pytest.raises(LogsSchemaError, match=r"column 'attributes' row 1: .*'\{\"a\": 1\}'.*dict"):
        tk.logs_from_columns({"time": [0, 1], "body": ["a", "b"], "attributes": [{}, '{"a": 1}']})
    with pytest.raises(LogsSchemaError, match=r"column 'resource' row 0: .*\[1, 2\]"):
        tk.logs_from_columns({"time": [0], "body": ["a"], "resource": [[1, 2]]})
    with pytest.raises(LogsSchemaError, match=r"column 'service' row 1: .*surrogate"):
        tk.logs_from_columns({"time": [0, 1], "body": ["a", "b"], "service": ["ok", "caf\udce9"]})


def test_lambda_report_lines_and_platform_records_carry_their_xray_trace():
    """Lambda's own records of a traced invocation name its X-Ray trace: the text REPORT line ('XRAY TraceId:
    1-…  SegmentId: …', tab-separated, after a newline) and, in Lambda's JSON log format, platform records'
    record.tracing.value (an X-Amzn-Trace-Id header). Both were read with no trace id, so the invocation's
    duration and memory record never reached its trace. The trace id only: the segment / Parent ids are not
    the span the spans frame holds for the function (they stay in the record's text or attributes)."""
    tid = "5e34a61410bd5abcf1fb44f07bc535a1"
    report = ("REPORT RequestId: 8f507cfc-1111-4697-b07a-ac58fc914c95\tDuration: 15.74 ms\tBilled Duration: 16 ms\t"
              "Memory Size: 128 MB\tMax Memory Used: 56 MB\t\nXRAY TraceId: 1-5e34a614-10bd5abcf1fb44f07bc535a1\t"
              "SegmentId: 07f5abc12d1f6f85\tSampled: true\t\n")
    platform = json.dumps({"time": "2024-01-01T00:00:00.003Z", "type": "platform.report", "record": {
        "requestId": "8f507cfc-1111-4697-b07a-ac58fc914c95", "metrics": {"durationMs": 15.74},
        "tracing": {"spanId": "073a49012f3c312e", "type": "X-Amzn-Trace-Id",
                    "value": "Root=1-5e34a614-10bd5abcf1fb44f07bc535a1;Parent=07f5abc12d1f6f85;Sampled=1"},
        "status": "success"}})
    untraced = "REPORT RequestId: 9f507cfc-1111-4697-b07a-ac58fc914c95\tDuration: 1.00 ms\t\n"
    out = {"events": [{"logStreamName": "s", "timestamp": 1704067200000 + i, "message": m, "ingestionTime": 1704067200100}
                      for i, m in enumerate((report, platform, untraced))], "searchedLogStreams": []}
    logs = tk.read_logs(out)
    assert logs["trace_id"].tolist()[:2] == [tid, tid] and pd.isna(logs.loc[2, "trace_id"])
    assert logs["span_id"].isna().all()
    spans = tk.spans_from_columns({"trace_id": [tid], "span_id": ["1" * 16], "service": ["fn"], "name": ["invoke"],
                                   "start": [logs["time"].min()], "end": [logs["time"].max()]})
    r = tk.attach_logs(spans, logs)
    assert (r.n_trace_level, r.n_unmatched) == (2, 1)


_SCALAR_BODIES = [({"doubleValue": "NaN"}, "NaN"), ({"doubleValue": "-Infinity"}, "-Infinity"),
                  ({"intValue": "99999999999999999999"}, "99999999999999999999"), ({"intValue": "-5"}, "-5"),
                  ({"doubleValue": 1.5}, "1.5"), ({"boolValue": True}, "true")]


def _scalar_body_file(tmp_path, body):
    p = tmp_path / "b.json"
    p.write_text(json.dumps(_otlp_log(body="x")).replace('{"stringValue": "x"}', json.dumps(body)))
    return p


@pytest.mark.parametrize(("body", "text"), _SCALAR_BODIES)
def test_a_scalar_body_is_its_otlp_json_text(tmp_path, monkeypatch, body, text):
    """The checked walk: a NaN / Infinity double body was written 'null' (orjson), an intValue past int64 was
    skipped as 'Integer exceeds 64-bit range'; a scalar body is now the text OTLP/JSON writes for it."""
    import tracekit.io.logs as L

    monkeypatch.setattr(L, "FAST_PATH", False)
    assert tk.read_logs(_scalar_body_file(tmp_path, body)).loc[0, "body"] == text


def test_fast_path_writes_a_nan_body_as_the_checked_walk(tmp_path):
    import tracekit.io.logs as L

    p = _scalar_body_file(tmp_path, {"doubleValue": "NaN"})
    assert tk.read_logs(p).loc[0, "body"] == "NaN"  # the typed decode refuses the string "NaN": the checked walk reads it
    # the fast path's body text is the checked walk's (one definition, _json_text) for what it does decode
    for v, text in ((float("nan"), "NaN"), (float("-inf"), "-Infinity"), (2**70, str(2**70)), ([1, "a"], '[1,"a"]')):
        assert L._body(L._AnyV(doubleValue=v) if isinstance(v, float) else L._AnyV(intValue=v) if isinstance(v, int)
                       else L._AnyV(arrayValue=msgspec.Raw(orjson.dumps({"values": [{"intValue": 1}, {"stringValue": "a"}]})))) \
            == text


def test_a_subscription_control_message_has_no_empty_service_or_host():
    """CloudWatch sends subscription destinations a CONTROL_MESSAGE with logGroup and logStream "" (AWS's
    documented health check): its record was given service "" and host "", which group as a service of their own.
    A control message is no log record now (listed in attrs['ignored']); a payload naming no group gives no service."""
    ctl = tk.read_logs([{"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                         "subscriptionFilters": [], "logEvents": [
                             {"id": "", "timestamp": 1432826855000,
                              "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]},
                        {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "", "logStream": "",
                         "subscriptionFilters": ["f"], "logEvents": [
                             {"id": "", "timestamp": 1432826855001, "message": json.dumps({"msg": "json", "level": "info"})}]}])
    assert ctl["service"].isna().all() and ctl["host"].isna().all()
    assert ctl["resource"].tolist() == [{"cloud.account.id": "123456789012", "log.subscription_filters": ["f"]}]
    assert ctl["body"].tolist() == ["json"]
    assert [(r.record, r.reason[:31]) for r in ctl.attrs["ignored"]] == [("[0]", "CloudWatch Logs CONTROL_MESSAGE")]


def test_a_subscription_payload_keeps_its_account_filters_and_extracted_fields():
    """A subscription payload's owner (the log group's account), its filters, and each event's extractedFields (a
    filter pattern's named fields; @aws.account and @aws.region in a centralised stream) were read by no column."""
    events = [{"id": "1", "timestamp": 1725544035523, "message": "First log",
               "extractedFields": {"@aws.account": "111111111111", "@aws.region": "us-east-1"}},
              {"id": "2", "timestamp": 1725544035524, "message": json.dumps({"level": "error", "message": "x", "user": "u"}),
               "extractedFields": {"user": "u2", "log.event_id": "not the id"}},
              {"id": "3", "timestamp": 1725544035525, "message": "no fields"}]
    got = tk.read_logs({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "g", "logStream": "s",
                        "subscriptionFilters": ["f", "g"], "logEvents": events})
    assert got["resource"].tolist() == [{"cloud.account.id": "123456789012", "log.subscription_filters": ["f", "g"],
                                         "log.group": "g", "log.stream": "s"}] * 3
    assert got["attributes"].tolist() == [
        {"log.event_id": "1", "log.extracted.@aws.account": "111111111111", "log.extracted.@aws.region": "us-east-1"},
        {"user": "u", "log.event_id": "2", "log.extracted.user": "u2", "log.extracted.log.event_id": "not the id"},
        {"log.event_id": "3"}]
    bad = {"messageType": "DATA_MESSAGE", "logGroup": "g", "logStream": "s",
           "logEvents": [{"id": "1", "timestamp": 1, "message": "m", "extractedFields": ["a"]}]}
    with pytest.raises(tk.TraceFormatError, match=r"logEvents\[0\]: extractedFields must be an object"):
        tk.read_logs(bad)


def test_scope_attributes_are_named_as_the_spans_and_metrics_readers_name_them(real_traces):
    """One name for a scope attribute in every reader (io.otlp.SCOPE_ATTR_PREFIX): read_logs named it
    otel.scope.<key>, so a scope attribute called 'name' overwrote otel.scope.name."""
    d = real_traces / "opentelemetry-proto"
    logs, spans = tk.read_logs(d / "logs.json"), tk.read(d / "trace.json")
    metrics = tk.read_metrics(d / "metrics.json")
    key = "otel.scope.attr.my.scope.attribute"  # the official examples share this scope attribute
    assert key in spans.loc[0, "resource"] and key in metrics.loc[0, "resource"]
    assert logs.loc[0, "resource"].get(key) == "some scope attribute"


def test_json_lines_times_and_trace_ids_as_common_loggers_write_them(tmp_path):
    """python-json-logger's default time key is 'asctime'; Google Cloud's structured logs write 'timestamp' as
    {seconds, nanos} and the trace as 'projects/<p>/traces/<id>' (the key read_logs lists, in the form Cloud
    Logging documents); a time of epoch digits in a string. The time was lost (NaT), or the record skipped."""
    lines = [{"asctime": "2023-01-01 00:00:00,123", "levelname": "ERROR", "name": "app", "message": "python-json-logger"},
             {"timestamp": {"seconds": 1700000000, "nanos": 5}, "severity": "ERROR", "message": "gcp",
              "logging.googleapis.com/trace": f"projects/my-proj/traces/{T1}", "logging.googleapis.com/spanId": S1},
             {"time": "1700000000123", "level": "info", "msg": "epoch ms in a string"},
             {"time": "1700000000", "level": "info", "msg": "epoch s in a string"}]
    p = tmp_path / "l.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines))
    df = tk.read_logs(p)
    assert df["time"].tolist() == [pd.Timestamp("2023-01-01 00:00:00.123", tz="UTC"),
                                   pd.Timestamp(1_700_000_000_000_000_005, tz="UTC"),
                                   pd.Timestamp(1_700_000_000_123_000_000, tz="UTC"), pd.Timestamp(1_700_000_000, unit="s", tz="UTC")]
    assert df.loc[1, "trace_id"] == T1 and df.loc[1, "span_id"] == S1 and df.loc[0, "attributes"] == {"name": "app"}


def test_a_scope_attribute_called_name_keeps_the_scope_name_in_both_paths(monkeypatch):
    import tracekit.io.logs as L

    doc = {"resourceLogs": [{"scopeLogs": [{"scope": {"name": "lib", "attributes": [
        {"key": "name", "value": {"stringValue": "not the scope's name"}}]},
        "logRecords": [{"timeUnixNano": "1", "body": {"stringValue": "x"}}]}]}]}
    for fast in (True, False):
        monkeypatch.setattr(L, "FAST_PATH", fast)
        res = tk.read_logs(doc).loc[0, "resource"]
        assert res["otel.scope.name"] == "lib" and res["otel.scope.attr.name"] == "not the scope's name", (fast, res)


def test_any_value_doubles_written_as_json_strings(tmp_path):
    """proto3's JSON mapping lets a double be a string ("0.5", "1e-9"); the AnyValue decoder (one for spans and
    logs) took only "NaN"/"Infinity" and skipped the whole record as 'doubleValue must be a number'."""
    doc = _otlp_log(attributes=[{"key": "ratio", "value": {"doubleValue": "0.5"}},
                                {"key": "tiny", "value": {"doubleValue": "-1E-9"}}])
    doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"] = {"doubleValue": "2.5"}
    p = tmp_path / "l.json"
    p.write_text(json.dumps(doc))
    df = tk.read_logs(p)
    assert df.loc[0, "attributes"] == {"ratio": 0.5, "tiny": -1e-9} and df.loc[0, "body"] == "2.5"
    spans = tk.read({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": T1, "spanId": S1, "name": "s", "startTimeUnixNano": "1", "endTimeUnixNano": "2",
        "attributes": [{"key": "ratio", "value": {"doubleValue": "0.5"}}]}]}]}]})
    assert spans.loc[0, "attributes"]["ratio"] == 0.5
    with pytest.raises(tk.TraceFormatError, match="doubleValue must be a number, got '0,5'"):
        tk.read_logs(json.loads(json.dumps(doc).replace('"0.5"', '"0,5"')))


def test_logs_insights_query_results_are_named_with_what_to_do():
    """`aws logs get-query-results` output (rows of {field, value}) is not log records read_logs takes; the error
    said only 'not a log record: the object has no message, time or trace id (keys: results, statistics, status)'."""
    out = {"results": [[{"field": "@timestamp", "value": "2019-06-12 22:13:01.000"},
                        {"field": "@message", "value": "hello"}, {"field": "@ptr", "value": "Cm…"}]],
           "statistics": {"recordsMatched": 1.0, "recordsScanned": 2.0, "bytesScanned": 300.0}, "status": "Complete"}
    with pytest.raises(tk.TraceFormatError, match=r"CloudWatch Logs Insights query results .*filter-log-events"):
        tk.read_logs(out)


def test_python_lambda_runtime_lines_give_their_level():
    """The Python Lambda runtime writes logging records as '[LEVEL]<TAB>time<TAB>request id<TAB>message' (Node.js puts
    the level third: 'time<TAB>request id<TAB>LEVEL<TAB>message', which was read); the Python form kept no level, so
    its ERROR records counted as no error."""
    out = {"events": [
        {"timestamp": 1704067200000, "message": "[ERROR]\t2024-01-01T00:00:00.000Z\t8f507cfc-1111-4697-b07a-ac58fc914c95"
                                                "\tpayment declined\n", "logStreamName": "s"},
        {"timestamp": 1704067200001, "message": "[WARNING]\t2024-01-01T00:00:00.001Z\t8f507cfc-1111-4697-b07a-ac58fc914c95"
                                                "\tretrying\tin 2 s\n", "logStreamName": "s"},
        {"timestamp": 1704067200002, "message": "[ERROR] Runtime.ImportModuleError: Unable to import module 'app'",
         "logStreamName": "s"}], "searchedLogStreams": []}
    df = tk.read_logs(out)
    assert df["severity_text"].tolist() == ["ERROR", "WARN", "ERROR"]
    assert df["body"].tolist() == ["payment declined", "retrying\tin 2 s",
                                   "[ERROR] Runtime.ImportModuleError: Unable to import module 'app'"]
    assert df.loc[0, "attributes"]["aws.request_id"] == "8f507cfc-1111-4697-b07a-ac58fc914c95"


def test_a_lambda_subscription_event_is_decoded(tmp_path):
    """A CloudWatch Logs subscription as a Lambda function receives it ({"awslogs": {"data": base64 of the gzip'd
    payload}}, the test event AWS's console and Powertools ship) was refused as 'not a log record (keys: awslogs)'."""
    import base64
    import zlib

    payload = {"messageType": "DATA_MESSAGE", "owner": "123456789123", "logGroup": "/aws/lambda/pay", "logStream": "s1",
               "subscriptionFilters": ["f"], "logEvents": [
                   {"id": "e1", "timestamp": 1440442987000, "message": "[ERROR]\t2015-08-24T19:03:07.000Z\treq-1\tboom\n"},
                   {"id": "e2", "timestamp": 1440442987001, "message": json.dumps({"level": "INFO", "message": "ok",
                                                                                   "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793"})}]}
    for pack in (gzip.compress, zlib.compress):  # CloudWatch sends gzip; some test events hold zlib
        event = {"awslogs": {"data": base64.b64encode(pack(json.dumps(payload).encode())).decode()}}
        df = tk.read_logs(event)
        assert df["body"].tolist() == ["boom", "ok"] and df["severity_text"].tolist() == ["ERROR", "INFO"]
        assert df.loc[1, "trace_id"] == "5759e988bd862e3fe1be46a994272793" and df.loc[0, "service"] == "/aws/lambda/pay"
    with pytest.raises(tk.TraceFormatError, match=r"awslogs\.data: not base64 of a gzip'd subscription payload"):
        tk.read_logs({"awslogs": {"data": "!!not base64!!"}})


def test_one_page_of_a_paginated_output_is_flagged(tmp_path):
    """A filter-log-events output saved with --max-items / --no-paginate holds a nextToken: later pages exist that
    the file does not hold. It was read as if whole; it is flagged (attrs['truncated'], one warning) now."""
    p = tmp_path / "page.json"
    page = {"events": [{"timestamp": 1, "message": "x", "logStreamName": "s"}], "searchedLogStreams": []}
    p.write_text(json.dumps({**page, "nextToken": "Bxkq6kVGFtq2y_MoigeqscPOdhXVbhiVtLoAmXb5jCrI4="}))
    with pytest.warns(tk.TraceFormatWarning, match=r"page\.json is one page of a paginated output \(nextToken\)"):
        df = tk.read_logs(p)
    assert df.attrs["truncated"] is True and len(df) == 1
    p.write_text(json.dumps(page))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tk.read_logs(p).attrs["truncated"] is False


def test_the_host_of_a_log_record_is_the_spans_host_rule(monkeypatch):
    """A log record's host is read as a span's (core.HOST_KEYS, first named): read_logs took host.name or k8s.pod.name
    only, so records of an ECS task or an EC2 instance had no host, and attach/metrics joins by host found nothing."""
    import tracekit.io.logs as L
    from tracekit.core import host_of

    for res in ({"aws.ecs.container_id": "c-1"}, {"aws.ec2.instance_id": "i-9", "k8s.pod.name": "p"}, {"host.id": "h"}):
        doc = {"resourceLogs": [{"resource": {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in res.items()]},
                                 "scopeLogs": [{"logRecords": [{"timeUnixNano": "1", "body": {"stringValue": "x"}}]}]}]}
        for fast in (True, False):
            monkeypatch.setattr(L, "FAST_PATH", fast)
            assert tk.read_logs(doc).loc[0, "host"] == host_of(res), (res, fast)
