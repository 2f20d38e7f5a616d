"""Session 49, readers9: the loaders on data their authors did not write (X-Ray and OTLP status from HTTP codes,
X-Ray time rounding, OTLP duplicate attribute keys, log formats)."""

from __future__ import annotations

import json

import pandas as pd

import tracekit as tk
from tracekit.core.outcomes import client_error, failed, throttled

TID_X = "1-5759e988-bd862e3fe1be46a994272793"
T0 = 1_700_000_000.0


def _vals(col: pd.Series) -> list:
    """A column's values with every missing one as None (NA compares as neither equal nor unequal)."""
    return [None if pd.isna(v) else v for v in col.tolist()]


def _seg(sid: str, code: int | None, **flags) -> dict:
    d = {"trace_id": TID_X, "id": sid, "name": "web", "start_time": T0, "end_time": T0 + 0.5, **flags}
    if code is not None:
        d["http"] = {"request": {"method": "GET", "url": "https://x/"}, "response": {"status": code}}
    return d


def _xray_both_paths(tmp_path, docs: list[dict]) -> list[pd.DataFrame]:
    """The same documents read as raw documents (the checked walk) and as a BatchGetTraces page (the fast path)."""
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps(d) + "\n" for d in docs))
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"Traces": [{"Id": TID_X, "Segments": [
        {"Id": d["id"], "Document": json.dumps(d)} for d in docs]}], "UnprocessedTraceIds": []}))
    return [tk.read_xray(raw).sort_values("span_id", ignore_index=True),
            tk.read_xray(page).sort_values("span_id", ignore_index=True)]


def test_xray_http_status_without_flags_is_a_failure(tmp_path):
    """X-Ray's SDKs set ``fault`` from a 5xx, ``error`` from a 4xx and ``throttle`` from a 429; a hand-written or
    proxy segment carries the code alone. A 503 without the flag read as status ``ok`` with no fault: not failed
    (0 of 1 failures seen). By construction: the code implies the flags (tracekit.schema.http_status_flags, the OTLP
    reader's rule), the status is X-Ray's ``error`` for a flag, and the row says its status was derived."""
    docs = [_seg("a000000000000001", 503), _seg("a000000000000002", 404), _seg("a000000000000003", 429, error=True),
            _seg("a000000000000004", 200), _seg("a000000000000005", 500, fault=True),
            _seg("a000000000000006", None)]
    for df in _xray_both_paths(tmp_path, docs):
        assert _vals(df["http_status"]) == [503, 404, 429, 200, 500, None]
        assert df["fault"].tolist() == [True, False, False, False, True, False]
        assert df["error"].tolist() == [False, True, True, False, False, False]
        assert df["throttle"].tolist() == [False, False, True, False, False, False]
        assert df["status"].tolist() == ["error", "error", "error", "ok", "error", "ok"]
        assert failed(df).tolist() == [True, False, False, False, True, False]
        assert client_error(df).tolist() == [False, True, True, False, False, False]
        assert throttled(df).tolist() == [False, False, True, False, False, False]
        derived = [a.get(tk.schema.STATUS_FROM) for a in df["attributes"]]
        assert derived == ["http_status", "http_status", "http_status", None, None, None]


def test_xray_subsegment_5xx_without_fault(tmp_path):
    """A downstream call's subsegment answered 502 with no ``fault`` flag: a failed call, as the SDK would flag it."""
    sub = {"id": "b000000000000001", "name": "api.example.com", "namespace": "remote", "start_time": T0 + 0.1,
           "end_time": T0 + 0.2, "http": {"response": {"status": 502}}}
    doc = {**_seg("a000000000000001", 200), "subsegments": [sub]}
    for df in _xray_both_paths(tmp_path, [doc]):
        row = df.set_index("span_id").loc["b000000000000001"]
        assert (row["fault"], row["status"]) == (True, "error")
        assert failed(df).tolist() == [False, True]


def _otlp(tmp_path, spans: list[tuple[int, int | None, int | None]]) -> pd.DataFrame:
    """One OTLP/JSON file of spans (kind, status code or None, http.response.status_code or None)."""
    out = []
    for i, (kind, st, code) in enumerate(spans):
        sp = {"traceId": "5759e988bd862e3fe1be46a994272793", "spanId": f"{i + 1:016x}", "name": "GET /",
              "kind": kind, "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000500000000"}
        if st is not None:
            sp["status"] = {"code": st}
        if code is not None:
            sp["attributes"] = [{"key": "http.response.status_code", "value": {"intValue": str(code)}}]
        out.append(sp)
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "web"}}]}, "scopeSpans": [{"spans": out}]}]}))
    return tk.read_otlp(p).sort_values("span_id", ignore_index=True)


def test_otlp_http_status_sets_an_unset_status(tmp_path):
    """OpenTelemetry's HTTP semantic conventions: a server span's status is Error for a 5xx and stays unset for a
    4xx; a client span's is Error for a 4xx or 5xx; a status the instrumentation set stays. A server span with 503 and
    status UNSET read as ``unset`` (its X-Ray twin as ``error`` after the fix above): the one rule now holds for
    both readers (tracekit.schema.http_status_error) and the row says its status was derived."""
    server, client, internal = 2, 3, 1
    df = _otlp(tmp_path, [(server, None, 503), (server, 0, 404), (client, 0, 404), (client, None, 503),
                          (server, 1, 500), (server, 2, 200), (internal, 0, 500), (server, 0, 200)])
    assert df["status"].tolist() == ["error", "unset", "error", "error", "ok", "error", "unset", "unset"]
    derived = [a.get(tk.schema.STATUS_FROM) for a in df["attributes"]]
    assert derived == ["http_status", None, "http_status", "http_status", None, None, None, None]
    assert failed(df).tolist() == [True, False, False, True, False, True, True, False]


def _us_half_up(text: str) -> int:
    """Epoch seconds given as decimal text -> ns, rounded to the microsecond, a half up (the text is the truth)."""
    from decimal import ROUND_HALF_UP, Decimal
    return int(Decimal(text).scaleb(6).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 1000


def test_xray_times_with_seven_to_nine_decimals_round_from_their_text(tmp_path):
    """X-Ray times written with 7-9 decimals (the OTel collector's exporter, hand-written segments) were rounded to
    the microsecond from the parsed float, not from the number's text: 1 µs off wherever the text's sub-µs part
    lies within the float's half step (0.12 µs at today's epoch) of a half microsecond (by construction below, about
    one in eight; the old code: hundreds of 6,000 times). Truth: the decimal text rounded to the microsecond (a half up, test_read_xray's ns()), for raw
    documents and for BatchGetTraces pages alike."""
    import random
    rng = random.Random(49)
    docs, truth = [], {}
    for i in range(3000):
        sec = 1_700_000_000 + rng.randrange(86_400)
        d = rng.choice((7, 8, 9))
        a = f"{sec}.{rng.randrange(10 ** d):0{d}d}"
        b = f"{sec + 1}.{rng.randrange(10 ** d):0{d}d}"
        sid = f"{i + 1:016x}"
        docs.append(f'{{"trace_id": "{TID_X}", "id": "{sid}", "name": "web", "start_time": {a}, "end_time": {b}}}')
        truth[sid] = (_us_half_up(a), _us_half_up(b))
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(docs) + "\n")
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"Traces": [{"Id": TID_X, "Segments": [
        {"Id": json.loads(d)["id"], "Document": d} for d in docs]}]}))
    for path in (raw, page):
        df = tk.read_xray(path)
        ns = zip(df["start"].astype("int64").tolist(), df["end"].astype("int64").tolist(), strict=True)
        got = dict(zip(df["span_id"], ns, strict=True))
        off = [s for s in truth if got[s] != truth[s]]
        assert not off, f"{path.name}: {len(off)} of {len(truth)} spans off, e.g. {off[:3]}"


def test_xray_six_decimal_times_control(tmp_path):
    """Control: six decimals (what X-Ray's SDKs write) are exact microseconds before and after."""
    doc = _seg("a000000000000001", None)
    doc["start_time"], doc["end_time"] = 1596566305.535414, 1596566305.592854
    df = tk.read_xray([doc])
    assert df["start"].astype("int64").tolist() == [_us_half_up("1596566305.535414")]
    assert df["end"].astype("int64").tolist() == [_us_half_up("1596566305.592854")]


def test_tk_read_rounds_seven_decimal_xray_times_as_read_xray(tmp_path):
    """tk.read (the sniffing reader) reads X-Ray files through its own parse: the same times as read_xray."""
    docs = [_seg(f"a{i:015x}", None) for i in range(1, 4)]
    texts = ["1700000000.12345651", "1700000000.5874245", "1596566305.5928545"]
    lines = []
    for d, t in zip(docs, texts, strict=True):
        d["start_time"] = 0.0
        lines.append(json.dumps(d).replace('"start_time": 0.0', f'"start_time": {t}'))
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(lines) + "\n")
    want = [_us_half_up(t) for t in texts]
    assert tk.read_xray(p)["start"].astype("int64").tolist() == want
    assert tk.read(p)["start"].astype("int64").tolist() == want


TID = "5759e988bd862e3fe1be46a994272793"
SID = "b7ad6b7169203331"


def _logs(tmp_path, records: list[dict]) -> pd.DataFrame:
    p = tmp_path / "app.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return tk.read_logs(p)


def test_datadog_decimal_ids_are_the_hex_ids(tmp_path):
    """Datadog's log injection writes ``dd.trace_id`` / ``dd.span_id`` as unsigned decimals (dd-trace-java's MDC
    flat, dd-trace-py/js nested under ``"dd"``): they loaded as no trace and no span (0 of 3 records joinable). By
    construction: the span id is the decimal in 16 hex digits; a 64-bit trace id is the lower half of the 128-bit one
    (upper half zeros, Datadog's 64-bit rule); a 128-bit trace id logged as 32 hex stays."""
    lo, s10 = int(TID[16:], 16), int(SID, 16)
    df = _logs(tmp_path, [
        {"timestamp": "2023-11-14T22:13:20Z", "message": "a", "dd": {"trace_id": str(lo), "span_id": str(s10),
                                                                     "env": "prod"}},
        {"timestamp": "2023-11-14T22:13:20Z", "message": "b", "dd.trace_id": str(lo), "dd.span_id": str(s10)},
        {"timestamp": "2023-11-14T22:13:20Z", "message": "c", "dd.trace_id": TID, "dd.span_id": s10},
    ])
    assert _vals(df["trace_id"]) == ["0" * 16 + TID[16:], "0" * 16 + TID[16:], TID]
    assert _vals(df["span_id"]) == [SID] * 3
    assert df["attributes"].iloc[0] == {"dd": {"env": "prod"}}


def test_journald_json_export(tmp_path):
    """``journalctl -o json`` records (every value a string, __REALTIME_TIMESTAMP in µs, PRIORITY a syslog level)
    were refused: "not a log record". By construction: the time is the µs, the priority's word the severity (3
    error, 6 info, 4 warning), the unit the service, _HOSTNAME the host, TRACE_ID/SPAN_ID the ids, a message journald
    wrote as bytes (no UTF-8) its text; the other fields stay in attributes."""
    df = _logs(tmp_path, [
        {"__REALTIME_TIMESTAMP": "1700000000123456", "MESSAGE": "boom", "PRIORITY": "3", "_SYSTEMD_UNIT": "web.service",
         "_HOSTNAME": "h1", "TRACE_ID": TID, "SPAN_ID": SID, "_PID": "42"},
        {"__REALTIME_TIMESTAMP": "1700000001000000", "MESSAGE": "fine", "PRIORITY": "6", "SYSLOG_IDENTIFIER": "cron"},
        {"__REALTIME_TIMESTAMP": "1700000002000001", "MESSAGE": list(b"hi"), "PRIORITY": "4"},
    ])
    assert df["time"].astype("int64").tolist() == [1700000000123456000, 1700000001000000000, 1700000002000001000]
    assert _vals(df["severity_text"]) == ["ERROR", "INFO", "WARN"]
    assert _vals(df["service"])[:2] == ["web.service", "cron"]
    assert _vals(df["host"])[0] == "h1"
    assert (_vals(df["trace_id"])[0], _vals(df["span_id"])[0]) == (TID, SID)
    assert _vals(df["body"]) == ["boom", "fine", "hi"]
    assert df["attributes"].iloc[0]["_PID"] == "42"


def test_go_slog_levels_between_the_named_ones(tmp_path):
    """Go's log/slog writes a level between its named ones as "ERROR+2", "DEBUG-4": they loaded with no severity
    (an ERROR+2 record was no error). By construction (slog DEBUG -4, INFO 0, WARN 4, ERROR 8; OpenTelemetry's otelslog
    bridge: severity number = level + 9, clipped to 1-24): ERROR+2 -> 19 (ERROR), DEBUG-4 -> 1 (TRACE), INFO+1 -> 10,
    WARN-2 -> 11 (INFO); the text as written stays in attributes."""
    levels = ["ERROR+2", "DEBUG-4", "INFO+1", "WARN-2", "WARN", "ERROR"]
    df = _logs(tmp_path, [{"time": "2023-11-14T22:13:20Z", "level": lv, "msg": lv} for lv in levels])
    assert _vals(df["severity_number"]) == [19, 1, 10, 11, 13, 17]
    assert _vals(df["severity_text"]) == ["ERROR", "TRACE", "INFO", "INFO", "WARN", "ERROR"]
    assert df["attributes"].iloc[0]["level"] == "ERROR+2"


def test_bad_errors_and_progress_are_argument_errors(tmp_path):
    """read_xray, read_otlp and read raised a bare ValueError naming no function for ``errors="ignore"`` (read_logs
    and read_metrics an ArgumentError: the design's one error for a bad argument), and took ``progress="no"`` as True
    (a truthy string: the bar shown). Now each is a tracekit.ArgumentError naming the function and the argument."""
    import pytest
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps(_seg("a000000000000001", None)) + "\n")
    for f in (tk.read_xray, tk.read_otlp, tk.read, tk.read_logs, tk.read_metrics):
        with pytest.raises(tk.ArgumentError, match=rf"{f.__name__}: errors must be"):
            f(p, errors="ignore")
    for f in (tk.read_xray, tk.read_otlp, tk.read):
        with pytest.raises(tk.ArgumentError, match=rf"{f.__name__}: progress must be"):
            f(p, progress="no")
    assert len(tk.read_xray(p, progress=None)) == 1 and len(tk.read(p, progress=False)) == 1  # control


def test_parsed_pages_round_seven_decimal_documents_from_their_text():
    """boto3's ``batch_get_traces`` returns parsed pages whose Documents are still JSON text: read_xray and read
    rounded their 7-decimal times from the float (the file path read them from the text). By construction: the
    Document text rounded to the microsecond."""
    texts = ["1700000000.12345651", "1700000000.5874245", "1596566305.5928545"]
    docs = []
    for i, t in enumerate(texts):
        d = json.dumps(_seg(f"a{i + 1:015x}", None)).replace(f'"start_time": {T0}', f'"start_time": {t}')
        docs.append({"Id": f"a{i + 1:015x}", "Document": d})
    page = {"Traces": [{"Id": TID_X, "Segments": docs}], "UnprocessedTraceIds": []}
    want = [_us_half_up(t) for t in texts]
    assert tk.read_xray(page)["start"].astype("int64").tolist() == want
    assert tk.read(page)["start"].astype("int64").tolist() == want


def test_one_letter_levels_beside_i_w_e(tmp_path):
    """glog/klog write I, W, E, F and Android's logcat V, D, I, W, E: I, W and E were read, F (fatal), D and V
    loaded with no severity (a fatal record was no error: 3 of 5 letters unread). By construction: each letter's
    word (V verbose -> TRACE)."""
    letters = ["V", "D", "I", "W", "E", "F"]
    df = _logs(tmp_path, [{"time": "2023-11-14T22:13:20Z", "level": x, "msg": x} for x in letters])
    assert _vals(df["severity_text"]) == ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
