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
