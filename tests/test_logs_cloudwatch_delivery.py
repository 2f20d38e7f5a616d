"""CloudWatch Logs as users archive and receive it: the subscription payload as Kinesis Data Firehose writes it to
S3 (gzip'd JSON objects one after another, no separator), as a Lambda function receives it from a Kinesis data
stream ({"Records": [{"kinesis": {"data"}}]}) and as a Firehose data-transformation function receives it
({"invocationId", "deliveryStreamArn", "records": [{"recordId", "data"}]}); CONTROL_MESSAGE payloads; the files of a
directory no reader reads; structlog's ``event`` key. Each failed on main at 015377e.

Fixtures are written here from the shapes AWS documents (CloudWatch Logs "Subscription filters" and Firehose's
"Data transformation" pages): ground truth by construction, every event of every DATA_MESSAGE known."""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import re
import warnings

import pandas as pd
import pytest

import tracekit as tk

T0 = 1764064800000  # 2025-11-25T10:00:00Z, ms
CONTROL_TEXT = "CWL CONTROL MESSAGE: Checking health of destination Firehose."
# message texts that a JSON-object splitter could trip on: braces and quotes inside strings, escapes, non-ASCII
TEXTS = ["plain text", 'a "quoted" }{ brace pair', "ends with a brace }", "{not json", "tab\tand\nnewline",
         "naïve – ünïcode ✓", "back\\slash \\\" quote", "}{}{}{", "ends as objects meet }{"]


def _payload(group: str, stream: str, events: list, kind: str = "DATA_MESSAGE") -> dict:
    return {"messageType": kind, "owner": "123456789012", "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["to-firehose"], "logEvents": events}


def _control(ts: int = T0) -> dict:
    """CloudWatch's health check of a destination (owner "CloudwatchLogs", group and stream "")."""
    return {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
            "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": ts, "message": CONTROL_TEXT}]}


def _archive(seed: int = 7, n: int = 40) -> tuple[list[dict], list[tuple]]:
    """Payloads as a Firehose stream receives them (control messages among them) and the truth: one
    (object number, event id, group, stream, time ms, message) per event of every DATA_MESSAGE, in order."""
    rnd = random.Random(seed)
    payloads, truth, eid = [], [], 0
    for k in range(1, n + 1):
        if k == 1 or rnd.random() < 0.1:
            payloads.append(_control(T0 + k))
            continue
        group, stream = rnd.choice(["/aws/lambda/checkout", "/ecs/cart", "api-gw"]), f"2025/11/25/[$LATEST]{k:04x}"
        events = []
        for _ in range(rnd.randint(1, 6)):
            eid += 1
            text = rnd.choice(TEXTS) if rnd.random() < 0.7 else json.dumps({"level": "info", "message": rnd.choice(TEXTS)})
            events.append({"id": f"{eid:056d}", "timestamp": T0 + 1000 * k + eid, "message": text})
            body = json.loads(text)["message"] if text.startswith("{\"") else text.rstrip("\n")
            truth.append((k, f"{eid:056d}", group, stream, T0 + 1000 * k + eid, body))
        payloads.append(_payload(group, stream, events))
    return payloads, truth


def _compact(p: dict) -> bytes:
    """A payload as CloudWatch Logs writes it: compact JSON (some here with \\u escapes, some with raw UTF-8)."""
    return json.dumps(p, separators=(",", ":"), ensure_ascii=len(p["logEvents"]) % 2 == 0).encode()


def _firehose_object(payloads: list[dict]) -> bytes:
    """An S3 object of a Firehose stream fed by a subscription: each record gzip'd by CloudWatch Logs, the records
    written one after another (so the object is gzip members, their text objects with no separator)."""
    return b"".join(gzip.compress(_compact(p), mtime=0) for p in payloads)


def _check(df: pd.DataFrame, truth: list[tuple], controls: list[int], file: str) -> None:
    got = list(zip(df["source_record"], [a["log.event_id"] for a in df["attributes"]],
                   [r["log.group"] for r in df["resource"]], [r["log.stream"] for r in df["resource"]],
                   df["time"].astype("int64") // 10**6, df["body"], strict=True))
    assert got == truth  # every event of every DATA_MESSAGE, once, in order, with its time and place
    assert df["service"].tolist() == [t[2] for t in truth]  # the log group names the service
    assert (df["source"] == "cloudwatch").all() and (df["source_file"] == file).all()
    ignored = [r for r in df.attrs["ignored"]]
    assert [(r.file, r.record) for r in ignored] == [(file, f"object {k}") for k in controls]
    assert all("CONTROL_MESSAGE" in r.reason and CONTROL_TEXT in r.reason for r in ignored)
    assert df.attrs["skipped"] == () and df.attrs["truncated"] is False
    tk.validate_logs(df)


# --------------------------------------------------------------------------------------------- 1, 2: Firehose → S3


def test_a_firehose_s3_object_is_read_whole_and_its_control_messages_listed(tmp_path):
    payloads, truth = _archive()
    controls = [k for k, p in enumerate(payloads, 1) if p["messageType"] == "CONTROL_MESSAGE"]
    p = tmp_path / "to-firehose-1-2025-11-25-10-00-00-0a1b.gz"  # Firehose names objects so (no .json)
    p.write_bytes(_firehose_object(payloads))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing skipped: no warning
        df = tk.read_logs(p)
    _check(df, truth, controls, str(p))
    # the same text in one gzip stream, as bytes, as a JSON string, as a file object: the same frame
    text = b"".join(_compact(x) for x in payloads)
    for source, name in ((gzip.compress(text), "<object>"), (text.decode(), "<object>"), (io.BytesIO(text), "<object>")):
        _check(tk.read_logs(source), truth, controls, name)


def test_objects_one_after_another_with_white_space_and_of_every_shape_read_logs_reads(tmp_path):
    """jq prints objects one after another, pretty-printed; the objects may be any document read_logs reads."""
    payloads, truth = _archive(seed=3, n=12)
    controls = [k for k, p in enumerate(payloads, 1) if p["messageType"] == "CONTROL_MESSAGE"]
    p = tmp_path / "jq.json"
    p.write_text("\n".join(json.dumps(x, indent=2) for x in payloads) + "\n")
    _check(tk.read_logs(p), truth, controls, str(p))
    docs = [{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "1700000000000000000",
                                                              "body": {"stringValue": "otlp }{"}}]}]}]},
            {"time": "2025-11-25T10:00:00Z", "level": "warn", "msg": "a JSON record"},
            {"events": [{"timestamp": T0, "message": "from filter-log-events", "logStreamName": "s"}]}]
    (tmp_path / "lines.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "glued.json").write_text("".join(json.dumps(d) for d in docs))
    lines, glued = tk.read_logs(tmp_path / "lines.jsonl"), tk.read_logs(tmp_path / "glued.json")
    plain = {c: object for c in ("attributes", "resource")}
    pd.testing.assert_frame_equal(glued.drop(columns="source_file").astype(plain),
                                  lines.drop(columns="source_file").astype(plain))  # object N is line N


def test_what_is_not_an_object_between_objects_is_named_by_object_and_byte(tmp_path):
    one, two = (_compact(_payload("g", "s", [{"id": str(i), "timestamp": T0 + i, "message": f"m{i}"}])) for i in (1, 2))
    p = tmp_path / "glued.json"
    p.write_bytes(one + two + b" 42 " + one)
    with pytest.raises(tk.TraceFormatError, match=r"glued\.json, object 3: after object 2 comes b'42 .*\(byte "
                                                  r"[0-9,]+\), not a JSON object"):
        tk.read_logs(p)
    with pytest.warns(tk.TraceFormatWarning, match="rest of the file is not read"):
        assert tk.read_logs(p, errors="skip")["body"].tolist() == ["m1", "m2"]
    p.write_bytes(one + b" 42 " + two)  # what follows the first object is no object: not objects one after another
    with pytest.raises(tk.TraceFormatError, match=r"glued\.json: not valid JSON \(unexpected content after document"):
        tk.read_logs(p)
    p.write_bytes(one + b'{"logGroup": "g", "logEvents": [}' + two)  # a bad object between good ones
    with pytest.raises(tk.TraceFormatError, match=r"glued\.json, object 2: bytes [0-9,]+-[0-9,]+: not valid JSON"):
        tk.read_logs(p)
    with pytest.warns(tk.TraceFormatWarning, match="skipped 1 bad record"):
        df = tk.read_logs(p, errors="skip")
    assert df["body"].tolist() == ["m1", "m2"] and df["source_record"].tolist() == [1, 3]
    assert [r.record for r in df.attrs["skipped"]] == ["object 2"]


def test_a_cut_firehose_object_loads_the_objects_before_the_cut(tmp_path):
    """A download cut short: errors="skip" loads every object before the cut and sets attrs["truncated"], as the
    other paths do for a cut gzip file; a strict read raises."""
    payloads, truth = _archive(seed=11, n=30)
    blob = gzip.compress(b"".join(_compact(x) for x in payloads), mtime=0)
    p = tmp_path / "cut.gz"
    p.write_bytes(blob[: len(blob) * 2 // 3])
    with pytest.raises(tk.TraceFormatError, match=r"cut\.gz: gzip data is truncated"):
        tk.read_logs(p)
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read_logs(p, errors="skip")
    assert df.attrs["truncated"] is True
    (reason,) = [r.reason for r in df.attrs["skipped"]]  # one record for the cut (two before s31's D16)
    assert reason.startswith("gzip data is truncated") and "; where the data stops: object " in reason
    assert reason.split("; where the data stops: object ")[1].split(":")[1].strip().startswith(
        "the data stops inside this object")
    cut = int(reason.split("; where the data stops: object ")[1].split(":")[0])
    assert 1 < cut < len(payloads)
    # every event of every object before the cut, none after it
    assert list(zip(df["source_record"], df["body"], strict=True)) == [(k, b) for k, *_, b in truth if k < cut]
    # cut at an object's end (the gzip member of each record whole): nothing half read, the rest simply absent
    members = _firehose_object(payloads)
    p.write_bytes(members[:len(members) // 2])
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read_logs(p, errors="skip")
    assert df.attrs["truncated"] is True and len(df) > 0


def test_a_file_of_control_messages_only_says_so():
    with pytest.raises(tk.TraceFormatError, match=r"no log records found \(2 documents that are not log data; "
                                                  r"first: CloudWatch Logs CONTROL_MESSAGE"):
        tk.read_logs(b"".join(_compact(_control(T0 + i)) for i in range(2)))


def test_the_spans_reader_reads_objects_glued_together_too():
    """Objects one after another are read by every reader now (``cat`` of files without a final newline glues
    documents; tests/test_glued_json.py); read_logs alone numbers a whole file's objects by place."""
    doc = [json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "1" * 32, "spanId": sid * 16, "name": "x", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]})
        for sid in "ab"]  # two spans (one span glued to itself would be one span read twice: io._copies)
    assert tk.read((doc[0] + doc[1]).encode())["span_id"].tolist() == ["a" * 16, "b" * 16]


# --------------------------------------------------------------------------------------------- 3: Kinesis, Firehose events


def _b64(payload, pack=gzip.compress) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.b64encode(pack(raw)).decode()


def _kinesis_event(datas: list[str]) -> dict:
    """A Lambda function's event from a Kinesis data stream a subscription writes to (AWS's documented shape)."""
    return {"Records": [{"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "pk", "sequenceNumber": f"4959{i}",
                                     "data": d, "approximateArrivalTimestamp": 1764064801.5},
                         "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000000:{i}",
                         "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
                         "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/logs"}
                        for i, d in enumerate(datas)]}


def _firehose_event(datas: list[str]) -> dict:
    """A Firehose data-transformation function's event (AWS's documented shape)."""
    return {"invocationId": "00540a87-5050-496a-84e4-e7d92bbaf5e2",
            "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs", "region": "us-east-1",
            "records": [{"recordId": f"4959{i}", "approximateArrivalTimestamp": 1764064801500, "data": d}
                        for i, d in enumerate(datas)]}


@pytest.mark.parametrize("event, where", [(_kinesis_event, "Records[{i}].kinesis.data"),
                                          (_firehose_event, "records[{i}].data")])
def test_lambda_events_of_kinesis_and_firehose_are_decoded(tmp_path, event, where):
    payloads, truth = _archive(seed=5, n=10)
    controls = [i for i, p in enumerate(payloads) if p["messageType"] == "CONTROL_MESSAGE"]
    p = tmp_path / "event.json"
    p.write_text(json.dumps(event([_b64(x) for x in payloads])))
    df = tk.read_logs(p)
    assert list(zip(df["source_record"] + 1, [a["log.event_id"] for a in df["attributes"]], df["service"],
                    df["time"].astype("int64") // 10**6, df["body"], strict=True)) == [
        (k, e, g, t, b) for k, e, g, _, t, b in truth]  # record i of the event: source_record i
    assert [r.record for r in df.attrs["ignored"]] == [where.format(i=i) for i in controls]
    # a record whose data is no subscription payload: named by file and record; skipped and listed with errors="skip"
    bad = [_b64(payloads[1]), "bm90IGd6aXA=", _b64({"hello": "world"}), _b64(b"[1, 2]"), _b64(b'{"logEvents": [1'),
           _b64(payloads[2])]
    p.write_text(json.dumps(event(bad)))
    with pytest.raises(tk.TraceFormatError, match=re.escape(f"event.json, {where.format(i=1)}: not base64 of a gzip'd "
                                                            "subscription payload")):
        tk.read_logs(p)
    with pytest.warns(tk.TraceFormatWarning, match="read_logs skipped 4 bad record"):
        df = tk.read_logs(p, errors="skip")
    assert set(df["source_record"]) == {0, 5}
    not_payload = "not a CloudWatch Logs subscription payload"
    assert [(r.record, r.reason.split(" (")[0]) for r in df.attrs["skipped"]] == [
        (where.format(i=1), "not base64 of a gzip'd subscription payload"), (where.format(i=2), not_payload),
        (where.format(i=3), not_payload), (where.format(i=4), "the decoded data is not JSON")]
    assert "the data holds a JSON object with keys hello" in df.attrs["skipped"][1].reason


def test_a_record_without_data_and_a_bad_awslogs_event_are_named():
    ev = _kinesis_event([_b64(_payload("g", "s", [{"id": "1", "timestamp": T0, "message": "ok"}]))])
    ev["Records"].append({"kinesis": {"partitionKey": "pk"}, "eventSource": "aws:kinesis"})
    with pytest.raises(tk.TraceFormatError, match=r"Records\[1\]: expected a Kinesis record with kinesis\.data"):
        tk.read_logs(ev)
    fh = _firehose_event([])
    fh["records"] = [{"recordId": "1"}]
    with pytest.raises(tk.TraceFormatError, match=r"records\[0\]: expected a Firehose record with data"):
        tk.read_logs(fh)
    with pytest.raises(tk.TraceFormatError, match=r"awslogs\.data: not a CloudWatch Logs subscription payload"):
        tk.read_logs({"awslogs": {"data": _b64({"awslogs": {"data": "…"}})}})  # no payload inside a payload
    ctl = tk.read_logs([{"awslogs": {"data": _b64(_control())}},
                        {"awslogs": {"data": _b64(_payload("g", "s", [{"id": "9", "timestamp": T0, "message": "x"}]))}}])
    assert ctl["body"].tolist() == ["x"] and [r.record for r in ctl.attrs["ignored"]] == ["[0].awslogs.data"]


def test_a_firehose_that_decompresses_its_records_gives_base64_of_the_json():
    df = tk.read_logs(_firehose_event([_b64(_payload("g", "s", [{"id": "1", "timestamp": T0, "message": "m"}]),
                                            pack=lambda b: b)]))
    assert df["body"].tolist() == ["m"]


# --------------------------------------------------------------------------------------------- hostile


def test_hostile_subscription_data_is_refused_with_a_reason(monkeypatch):
    huge = base64.b64encode(b"\x00" * (8 << 20)).decode()  # an 11 MB base64 blob of no gzip
    with pytest.raises(tk.TraceFormatError, match=r"Records\[0\]\.kinesis\.data: not base64 of a gzip'd"):
        tk.read_logs(_kinesis_event([huge]))
    deep = b'{"logEvents": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(tk.TraceFormatError, match=r"records\[0\]\.data: the decoded data is not JSON"):
        tk.read_logs(_firehose_event([_b64(deep)]))
    with pytest.raises(tk.TraceFormatError, match=r"records\[0\]: expected a Firehose record with data"):
        tk.read_logs(_firehose_event([]) | {"records": [[1, 2]]})
    with pytest.raises(tk.TraceFormatError, match=r"records must be a list"):
        tk.read_logs(_firehose_event([]) | {"records": "x"})
    # a bomb in one record is refused by read_bytes; many records each under the cap are refused in all
    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", "100000")
    big = _payload("g", "s", [{"id": str(i), "timestamp": T0, "message": "x" * 1000} for i in range(120)])
    with pytest.raises(tk.TraceFormatError, match=r"Records\[0\]\.kinesis\.data: gzip data decompresses to more"):
        tk.read_logs(_kinesis_event([_b64(big)]))
    part = _payload("g", "s", [{"id": str(i), "timestamp": T0, "message": "x" * 1000} for i in range(30)])
    assert 25_000 < len(json.dumps(part)) < 33_000  # three are under the cap in all, four over it
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read_logs(_kinesis_event([_b64(part)] * 5), errors="skip")
    assert len(df) == 90 and [r.record for r in df.attrs["skipped"]] == [f"Records[{i}].kinesis.data" for i in (3, 4)]
    assert "decompress to more than" in df.attrs["skipped"][0].reason


@pytest.mark.parametrize("data", [b"{}" * 50_000, b"{" * 2_000_000 + b"}{", b'{"a":' * 200_000 + b"1" + b"}" * 200_000
                                  + b"{}", b'{"message": "x"}' + b"[1]" * 1000, b"{}{\"message\": \"" + b"}{" * 100_000],
                         ids=["empty objects", "2M open braces", "nested 200,000 deep", "lists after", "unclosed string"])
def test_hostile_objects_one_after_another_end_in_a_named_error(data):
    with pytest.raises(tk.TraceFormatError) as info:
        tk.read_logs(data)
    assert info.value.file == "<object>" and (info.value.record or "object ").startswith("object ")


def test_deeply_nested_lists_are_said_not_to_be_log_data():
    with pytest.raises(tk.TraceFormatError, match=r"lists nested more than 16 deep: not log data"):
        tk.read_logs(b"[" * 5000 + b"{}" + b"]" * 5000)  # was a RecursionError


# --------------------------------------------------------------------------------------------- 4: directories


def test_files_of_a_directory_no_reader_reads_are_listed(tmp_path):
    d = tmp_path / "incident"
    (d / "sub").mkdir(parents=True)
    (d / "logs.jsonl").write_text(json.dumps({"msg": "read", "time": "2025-11-25T10:00:00Z"}) + "\n")
    (d / "app.log").write_text("2025-11-25 10:00:00 ERROR plain text\n")
    (d / "sub" / "metrics.csv").write_text("time,value\n")
    (d / "NOTES.txt").write_text("not JSON\n")
    (d / ".hidden.log").write_text("x")
    df = tk.read_logs(d)
    assert df["body"].tolist() == ["read"]
    got = {(r.file.replace(str(d), "D"), r.record, r.reason.split(":")[0]) for r in df.attrs["ignored"]}
    assert got == {("D/app.log", None, "file not read"), ("D/sub/metrics.csv", None, "file not read"),
                   ("D/NOTES.txt", None, "file not read"), ("D/.hidden.log", None, "file not read")}
    assert "give this file itself" in next(r.reason for r in df.attrs["ignored"] if r.file.endswith("app.log"))
    assert tk.read_logs(d / "logs.jsonl").attrs["ignored"] == ()  # a file given by name: nothing to list
    (d / "m.jsonl").write_text(json.dumps({"Label": "Latency", "Datapoints": [
        {"Timestamp": "2025-11-25T10:00:00Z", "Average": 1.0, "Unit": "Milliseconds"}]}) + "\n")
    (d / "t.json").write_bytes(tk.examples.path("checkout-small").read_bytes())
    for reader in (tk.read_metrics, tk.read):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.TraceFormatWarning)  # each skips the others' files
            frame = reader(d, errors="skip")
        files = {r.file.replace(str(d), "D") for r in frame.attrs["ignored"] if r.reason.startswith("file not read")}
        assert files == {"D/app.log", "D/sub/metrics.csv", "D/NOTES.txt", "D/.hidden.log"}, reader


def test_a_directory_of_no_readable_file_names_what_it_holds(tmp_path):
    (tmp_path / "app.log").write_text("x\n")
    with pytest.raises(tk.TraceFormatError, match=r"directory holds no file a reader reads \(named \.json, \.jsonl, "
                                                  r"\.ndjson or \.gz, or \.txt starting like JSON\) "
                                                  r"\(it holds 1 other file\(s\): app\.log; give a file itself"):
        tk.read_logs(tmp_path)
    # a .txt that is not JSON (a LICENSE) is held, not read: the message no longer says .txt files are read
    (tmp_path / "LICENSE.txt").write_text("MIT\n")
    with pytest.raises(tk.TraceFormatError, match=r"starting like JSON\) \(it holds 2 other file\(s\): LICENSE\.txt, app\.log"):
        tk.read(tmp_path)


# --------------------------------------------------------------------------------------------- 5: structlog


def test_structlog_event_key_is_the_message_unless_it_is_an_object(tmp_path):
    lines = [{"event": "user logged in", "level": "info", "timestamp": "2025-11-25T10:00:00Z", "user": 3},
             {"event": {"kind": "event", "category": ["web"]}, "level": "info", "timestamp": "2025-11-25T10:00:01Z"},
             {"event": "login", "message": "the message wins", "timestamp": "2025-11-25T10:00:02Z"},
             {"event": {"name": "exception"}, "msg": "otlp-ish", "timestamp": "2025-11-25T10:00:03Z"}]
    p = tmp_path / "structlog.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    df = tk.read_logs(p)
    assert df["body"].tolist()[0] == "user logged in" and df.loc[0, "attributes"] == {"user": 3}
    assert pd.isna(df.loc[1, "body"]) and df.loc[1, "attributes"] == {"event": {"kind": "event", "category": ["web"]}}
    assert df.loc[2, "body"] == "the message wins" and df.loc[2, "attributes"] == {"event": "login"}
    assert df.loc[3, "body"] == "otlp-ish" and df.loc[3, "attributes"] == {"event": {"name": "exception"}}
    assert df["severity_text"].tolist()[:2] == ["INFO", "INFO"]
