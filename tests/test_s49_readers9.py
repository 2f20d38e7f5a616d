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
