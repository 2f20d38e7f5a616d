"""Readers (session 38, readers5): what a repeated identity key costs and where the readers look for one.

1. read_xray: a Document whose fast-path key counts differ (an identity key given twice) made the whole source be
   read again by the checked walk; now only that file (or the bytes / file object / parsed value) is read again, the
   rows of the others kept.
2. read_logs looked for a repeated identity key only in OTLP log records: a CloudWatch Logs event (``timestamp``,
   ``message``, ``logStreamName``, ``eventId``, ``ingestionTime``), a JSON log line (the keys its time, message, trace
   and span ids are read from), a GELF record (``short_message``, ``_trace_id``…) or a CloudWatch event's JSON message
   given one twice with different values loaded the last silently; now refused, naming the record and the key.
3. A line of JSON lines holding a Latin-1 byte (every reader): the error said "str is not valid UTF-8: surrogates not
   allowed: line 1 column 1 (char 0)" (orjson's words: no surrogate, not column 1); it now says the text is not UTF-8,
   which byte of the file is not, and what to do, as for a whole file.
4. read_metrics' histogram count (OTLP fixed64): one beyond 64 bits was taken and said after a float's rounding
   ("count is 123456789012345677877719597056"); a count of 2**64 - 1 whose buckets add up to it was refused (compared
   as the float 2**64); a count of 2**53 + 1 whose buckets add up to 2**53 loaded (compared as floats: equal).

Every input is built by construction (JSON text written by hand so that a key can be given twice).
"""

from __future__ import annotations

import json
import warnings

import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError

XTID = "1-5759e988-bd862e3fe1be46a994272793"


def _xseg(i: int, extra: str = "") -> str:
    d = {"id": f"{i:016x}", "trace_id": XTID, "name": "api", "start_time": 1.7e9, "end_time": 1.7e9 + 1}
    return json.dumps(d)[:-1] + extra + "}"


def _xpage(*docs: str) -> str:
    return json.dumps({"Traces": [{"Id": XTID, "Segments": [{"Id": str(j), "Document": d} for j, d in enumerate(docs)]}]})


@pytest.fixture
def file_reads(monkeypatch):
    """The files read_xray reads, one entry per read (its bytes taken from disk)."""
    from tracekit.io import xray

    reads: list[str] = []
    real = xray.path_bytes

    def counting(path):
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(xray, "path_bytes", counting)
    return reads


def test_read_xray_reads_again_only_the_file_holding_a_repeated_key(tmp_path, file_reads):
    # a.json: JSON lines, its second line not JSON (skipped, errors="skip"); b.json: segment 12 holds "id" twice;
    # c.json clean. Each file is read once (b.json's traces walked again, checked: readers6); nothing is listed twice,
    # every other span loads
    (tmp_path / "a.json").write_text(_xpage(_xseg(1)) + "\n{not json\n" + _xpage(_xseg(2)) + "\n")
    (tmp_path / "b.json").write_text(_xpage(_xseg(11), _xseg(12, ', "id": "00000000000000ff"'), _xseg(13)))
    (tmp_path / "c.json").write_text(_xpage(_xseg(21), _xseg(22)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray(tmp_path, errors="skip")
    assert sorted(file_reads) == ["a.json", "b.json", "c.json"]
    assert sorted(int(s, 16) for s in df["span_id"]) == [1, 2, 11, 13, 21, 22]
    skipped = [(s.file.rsplit("/", 1)[-1], s.record) for s in df.attrs["skipped"]]
    assert skipped == [("a.json", "line 2"), ("b.json", "Traces[0].Segments[1]")]
    # the records keep their places in file order (b's rows after a's, before c's)
    assert [int(s, 16) for s in df["span_id"]] == [1, 2, 11, 13, 21, 22]
    with pytest.raises(TraceFormatError, match="key 'id' is given 2 times") as info:
        tk.read_xray([tmp_path / "c.json", tmp_path / "b.json"])
    assert info.value.file.endswith("b.json") and info.value.record == "Traces[0].Segments[1]"


# ----------------------------------------------------------------------------- read_logs: CloudWatch, JSON lines, GELF

MS = 1_700_000_000_000  # ms: 2023-11-14T22:13:20Z


def _cw(*events: str) -> bytes:
    return ('{"events": [' + ", ".join(events) + '], "searchedLogStreams": []}').encode()


def _event(i: int, extra: str = "", message: str | None = None) -> str:
    d = {"logStreamName": "s", "timestamp": MS + i, "message": message or f"m{i}", "ingestionTime": MS + i + 5,
         "eventId": str(i)}
    return json.dumps(d)[:-1] + extra + "}"


def _jline(i: int, extra: str = "") -> str:
    d = {"time": f"2023-11-14T22:13:2{i}Z", "msg": f"m{i}", "trace_id": f"{i:032x}", "span_id": f"{i:016x}", "route": "/a"}
    return json.dumps(d)[:-1] + extra + "}"


def _gelf(i: int, extra: str = "") -> str:
    d = {"version": "1.1", "host": "h", "short_message": f"m{i}", "timestamp": MS / 1000 + i, "level": 6,
         "_trace_id": f"{i:032x}"}
    return json.dumps(d)[:-1] + extra + "}"


# (the text, where the bad record is, the key given twice): each second value differs from the first
LOG_CASES = {
    **{f"cloudwatch-{k}": (_cw(_event(1), _event(2, f', "{k}": {v}'), _event(3)), "events[1]", k)
       for k, v in [("timestamp", MS + 9), ("message", '"other"'), ("logStreamName", '"t"'), ("eventId", '"99"'),
                    ("ingestionTime", MS + 99)]},
    **{f"json-lines-{k}": ("\n".join([_jline(1), _jline(2, f', "{k}": {v}'), _jline(3)]).encode() + b"\n", "line 2", k)
       for k, v in [("time", '"2023-11-14T22:14:00Z"'), ("msg", '"other"'), ("trace_id", f'"{9:032x}"'),
                    ("span_id", f'"{9:016x}"')]},
    **{f"gelf-{k}": ("\n".join([_gelf(1), _gelf(2, f', "{k}": {v}'), _gelf(3)]).encode() + b"\n", "line 2", k)
       for k, v in [("short_message", '"other"'), ("timestamp", MS / 1000 + 9), ("_trace_id", f'"{9:032x}"')]},
}


@pytest.mark.parametrize("case", list(LOG_CASES))
def test_read_logs_refuses_an_identity_key_given_twice_naming_record_and_key(case):
    text, where, key = LOG_CASES[case]
    with pytest.raises(TraceFormatError) as info:
        tk.read_logs(text)
    assert info.value.record == where and f"key {key!r} is given 2 times with different values" in info.value.reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_logs(text, errors="skip")
    # the two clean records load (m1, m3), the bad one is listed where it is; no mark reaches the attributes
    assert df["body"].tolist() == ["m1", "m3"] and [s.record for s in df.attrs["skipped"]] == [where]
    assert not any(str(k).startswith("\x00") for a in df["attributes"] for k in a)


def test_read_logs_refuses_a_repeated_key_in_a_cloudwatch_events_json_message():
    inner = '{"msg": "a", "level": "info", "msg": "b"}'
    text = _cw(_event(1), _event(2, message=inner))
    with pytest.raises(TraceFormatError, match="message: key 'msg' is given 2 times") as info:
        tk.read_logs(text)
    assert info.value.record == "events[1]"


def test_read_logs_a_repeated_key_with_one_value_or_not_an_identity_key_loads():
    # the same message twice (nothing lost) and an attribute key twice (route: not an identity key, the last kept as
    # every JSON parser keeps it): both load, as without the copy
    text = "\n".join([_jline(1, ', "msg": "m1"'), _jline(2, ', "route": "/b"')]).encode() + b"\n"
    df = tk.read_logs(text)
    assert df["body"].tolist() == ["m1", "m2"] and df["attributes"].iloc[1]["route"] == "/b"
    cw = tk.read_logs(_cw(_event(1, ', "message": "m1"'), _event(2)))
    assert cw["body"].tolist() == ["m1", "m2"]


# ----------------------------------------------------------------------------- a Latin-1 byte in a line of JSON lines

T0 = 1_700_000_000_000_000_000
TID = "5759e988bd862e3fe1be46a994272793"
LINES = {
    "read_otlp": lambda i: {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": TID, "spanId": f"{i:016x}", "name": "café", "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 1)}]}]}]},
    "read_xray": lambda i: {"trace_id": XTID, "id": f"{i:016x}", "name": "café", "start_time": 1.7e9, "end_time": 1.7e9 + 1},
    "read_logs": lambda i: {"time": "2023-11-14T22:13:20Z", "msg": f"café {i}"},
    "read_metrics": lambda i: {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "café", "gauge": {
        "dataPoints": [{"timeUnixNano": str(T0 + i), "asDouble": 1.5}]}}]}]}]},
}


@pytest.mark.parametrize("reader", list(LINES))
def test_a_latin1_byte_in_a_json_line_is_said_as_such_with_its_byte(reader):
    make, read = LINES[reader], getattr(tk, reader)
    lines = [json.dumps(make(i), ensure_ascii=False) for i in (1, 2, 3)]
    data = "\n".join(lines[:1]).encode() + b"\n" + lines[1].encode("latin-1") + b"\n" + lines[2].encode() + b"\n"
    with pytest.raises(TraceFormatError) as info:
        read(data)
    reason = info.value.reason
    assert info.value.record == "line 2" and "surrogate" not in reason and "column 1 (char 0)" not in reason
    assert f"not UTF-8 text (JSON must be UTF-8): byte {data.index(bytes([0xE9])):,} is b'\\xe9'" in reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read(data, errors="skip")
    assert len(df) == 2 and [s.record for s in df.attrs["skipped"]] == ["line 2"]


# ----------------------------------------------------------------------------- read_metrics: counts at the 64-bit edge


def _hist(count: str, bucket: str) -> bytes:
    return ('{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "c", "histogram": {"aggregationTemporality": 2, '
            f'"dataPoints": [{{"timeUnixNano": "{T0}", "count": {count}, "bucketCounts": [{bucket}], '
            '"explicitBounds": []}]}}]}]}]}').encode()


@pytest.fixture(params=[True, False], ids=["fast", "checked"])
def metrics_fast(request, monkeypatch):
    from tracekit.io import metrics as metrics_io

    monkeypatch.setattr(metrics_io, "FAST", request.param)


def test_read_metrics_a_count_beyond_64_bits_is_said_as_written(metrics_fast):
    with pytest.raises(TraceFormatError) as info:
        tk.read_metrics(_hist('"123456789012345678901234567890"', '"1"'))
    assert "count must be a non-negative integer of at most 64 bits" in info.value.reason
    assert "123456789012345678901234567890" in info.value.reason and "1234567890123456778777" not in info.value.reason


@pytest.mark.parametrize(("count", "bucket", "loads"), [
    (2**64 - 1, 2**64 - 1, True),  # the largest count, its bucket holding all: loads
    (2**53 + 1, 2**53 + 1, True),
    (2**53 + 1, 2**53, False),  # off by one: refused (as floats the two are equal)
], ids=["uint64-max", "2^53+1", "2^53+1-vs-2^53"])
@pytest.mark.parametrize("quoted", [True, False], ids=["string", "number"])
def test_read_metrics_compares_a_count_with_its_buckets_exactly(metrics_fast, count, bucket, loads, quoted):
    q = (lambda x: f'"{x}"') if quoted else str
    text = _hist(q(count), q(bucket))
    if loads:
        assert tk.read_metrics(text)["count"].tolist() == [float(count)]
    else:
        with pytest.raises(TraceFormatError, match=f"the bucket counts add up to {bucket}, count is {count}"):
            tk.read_metrics(text)
