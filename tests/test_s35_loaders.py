"""Readers of spans and logs (session 35 review of tracekit/io, core/ids, schema, logs_schema).

Each test builds its input by construction (the truth known before reading) and pins one defect fixed:
integers beyond 64 bits in X-Ray documents (fast and checked paths, every source shape), trace ids written as
UUIDs joining logs to spans, ``spans_from_columns`` honouring an HTTP status as the readers do, one rule for a
blank service name, and the hostile inputs listed in the module's last section.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.outcomes import failed
from tracekit.io import xray_fast

TID = "5759e988bd862e3fe1be46a994272793"
XTID = "1-5759e988-bd862e3fe1be46a994272793"
SID = "53995c3f42cd8ad8"
WIDE = 2**70 + 1  # a float cannot hold it: 2**70 + 1 read through a float is 2**70
T0 = 1544712660


# ---------------------------------------------------------------------------------------------
# 1. integers beyond 64 bits in X-Ray documents


def _doc(**extra):
    d = {"trace_id": XTID, "id": SID, "name": "api", "start_time": float(T0), "end_time": T0 + 0.25}
    d.update(extra)
    return d


def _sources(doc: dict) -> dict[str, bytes]:
    """One document as each X-Ray source shape: a BatchGetTraces page (Document strings), the raw segment
    document, and JSON lines of raw documents (a second document on line 2)."""
    text = json.dumps(doc)
    page = {"Traces": [{"Id": XTID, "Segments": [{"Id": SID, "Document": text}]}]}
    other = json.dumps({**doc, "id": "1111111111111111"})
    return {"page": json.dumps(page).encode(), "raw": text.encode(), "jsonl": f"{text}\n{other}\n".encode()}


WIDE_CASES = {
    "content_length": (dict(http={"response": {"status": 200, "content_length": WIDE}}),
                       "http.response.content_length", WIDE),
    "negative content_length": (dict(http={"response": {"status": 200, "content_length": -WIDE}}),
                                "http.response.content_length", -WIDE),
    "metadata": (dict(metadata={"default": {"n": WIDE}}), "metadata.default", {"n": WIDE}),
    "metadata nested deeper": (dict(metadata={"default": {"a": {"b": [-WIDE]}}}), "metadata.default",
                               {"a": {"b": [-WIDE]}}),
    "annotation": (dict(annotations={"n": WIDE}), "annotation.n", WIDE),
    "aws": (dict(aws={"retries": WIDE}), "aws.retries", WIDE),
    "cause": (dict(fault=True, cause={"exceptions": [{"id": "0123456789abcdef", "message": "m", "n": WIDE}]}),
              "cause", {"exceptions": [{"id": "0123456789abcdef", "message": "m", "n": WIDE}]}),
    "status beyond a status code": (dict(http={"response": {"status": WIDE}}), "http.response.status", WIDE),
}


@pytest.mark.parametrize("case", list(WIDE_CASES))
def test_xray_integers_beyond_64_bits_are_kept_exact_by_both_paths(monkeypatch, case):
    extra, key, want = WIDE_CASES[case]
    for shape, data in _sources(_doc(**extra)).items():
        for fast in (True, False):
            monkeypatch.setattr(xray_fast, "ENABLED", fast)
            df = tk.read_xray(data)
            got = df.loc[0, "attributes"][key]
            assert got == want and type(got) is type(want), (shape, fast, got)
            status = df.loc[0, "http_status"]
            if case == "status beyond a status code" or "http" not in extra:  # no status code: the value stays
                assert pd.isna(status)
            else:
                assert status == 200


def test_wide_int_check_has_the_64_bit_bounds():
    from tracekit.io._sources import exact_ints, loads, may_hold_wide_int

    # orjson reads -2**63 .. 2**64 - 1 exactly; beyond, a float. Nanosecond times (19 digits) are not looked at again;
    # 20 digits, or a minus and 19, may be beyond (looked at: the value then comes from msgspec, exact either way)
    assert not may_hold_wide_int(b"[9223372036854775807, -922337203685477580, 1544712660000000000]")
    assert may_hold_wide_int(b"[18446744073709551616]") and may_hold_wide_int(b"[-9223372036854775809]")
    # 20 decimal digits inside a string (a hex trace id) or after a decimal point are no integer: not parsed again
    assert not may_hold_wide_int(b'{"trace_id": "1-5759e988-000000000000000000000ab1", "t": 0.000000000000000000001}')
    text = b'{"a": [18446744073709551616, -9223372036854775809, 1.5], "a2": "x"}'
    assert exact_ints(text, loads(text)) == {"a": [2**64, -(2**63) - 1, 1.5], "a2": "x"}


def test_tk_read_and_read_otlp_keep_an_integer_beyond_64_bits_as_read_xray_does(monkeypatch):
    # tk.read parses files itself (then hands X-Ray documents on): it read 2**70 + 1 as a float where read_xray kept
    # it; an OTLP intValue written as a JSON number was refused where the same value as a string was kept
    raw = json.dumps(_doc(metadata={"d": {"n": WIDE}})).encode()
    assert tk.read(raw).loc[0, "attributes"]["metadata.d"] == {"n": WIDE}
    for value in (f'{{"intValue": {WIDE}}}', f'{{"intValue": "{WIDE}"}}'):
        span = (f'{{"traceId": "{TID}", "spanId": "{SID}", "name": "x", "startTimeUnixNano": "{T0 * 10**9}", '
                f'"endTimeUnixNano": "{T0 * 10**9 + 1}", "attributes": [{{"key": "n", "value": {value}}}]}}')
        doc = f'{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{span}]}}]}}]}}'
        lines = f"{doc}\n{doc.replace(SID, '1111111111111111')}\n"
        for reader in (tk.read_otlp, tk.read):
            for data in (doc, lines):
                got = reader(data.encode()).loc[0, "attributes"]["n"]
                assert got == WIDE and type(got) is int, (reader, value)


# ---------------------------------------------------------------------------------------------
# 2. trace ids written as UUIDs (and X-Ray ids) join logs to spans


UUID_FORMS = ["5759e988-bd86-2e3f-e1be-46a994272793", "5759E988-BD86-2E3F-E1BE-46A994272793",
              XTID, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", TID.upper()]


@pytest.fixture(scope="module")
def one_span():
    return tk.spans_from_columns({"trace_id": [TID], "span_id": [SID], "service": ["web"], "name": ["GET /"],
                                  "start": [T0 * 10**9], "end": [T0 * 10**9 + 10**8]})


def test_log_trace_ids_as_uuids_join_their_spans(one_span):
    n = len(UUID_FORMS)
    cols = tk.logs_from_columns({"time": [T0 * 10**9 + 5 * 10**7] * n, "body": [f"r{i}" for i in range(n)],
                                 "trace_id": UUID_FORMS, "span_id": [SID] * n})
    assert cols["trace_id"].tolist() == [TID] * n
    lines = "\n".join(json.dumps({"timestamp": "2018-12-13T14:51:00.05Z", "message": f"r{i}", "trace_id": t,
                                  "span_id": SID}) for i, t in enumerate(UUID_FORMS)).encode()
    read = tk.read_logs(lines)
    for logs in (cols, read):
        r = tk.attach_logs(one_span, logs)
        assert int(r.spans["log_records"].sum()) == n and len(r.unmatched) == 0
    assert tk.core.normalize_trace_id(UUID_FORMS[1]) == TID
    assert tk.core.normalize_trace_id("0" * 32) == "0" * 32  # an all-zero id is still found (as before)
    with pytest.raises(tk.errors.ArgumentError, match="UUID"):
        tk.core.normalize_trace_id("5759e988-bd86-2e3f-e1be-46a99427279")  # one digit short


# ---------------------------------------------------------------------------------------------
# 3. spans_from_columns honours an HTTP status as the OTLP and X-Ray readers do


def _otlp_request(code: int) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
            "scopeSpans": [{"spans": [{"traceId": TID, "spanId": SID, "name": "GET /", "kind": 2,
                                       "startTimeUnixNano": str(T0 * 10**9), "endTimeUnixNano": str(T0 * 10**9 + 10**8),
                                       "attributes": [{"key": "http.response.status_code",
                                                       "value": {"intValue": str(code)}}]}]}]}]}


def _columns(**extra) -> pd.DataFrame:
    return tk.spans_from_columns({"trace_id": [TID], "span_id": [SID], "service": ["api"], "name": ["GET /"],
                                  "kind": ["server"], "start": [T0 * 10**9], "end": [T0 * 10**9 + 10**8], **extra})


def test_a_500_request_fails_whichever_way_it_is_read():
    xray = tk.read_xray(_sources(_doc(fault=True, http={"response": {"status": 500}}))["page"])
    frames = {"xray": xray, "otlp": tk.read_otlp(_otlp_request(500)),
              "http_status column": _columns(http_status=[500]),
              "stable attribute": _columns(attributes=[{"http.response.status_code": 500}]),
              "legacy attribute": _columns(attributes=[{"http.status_code": "500"}]),
              "x-ray attribute": _columns(attributes=[{"http.response.status": 500}])}
    for how, df in frames.items():
        row = df.iloc[0]
        assert (row["http_status"], bool(row["fault"]), bool(row["error"])) == (500, True, False), how
        assert failed(df).tolist() == [True], how
    # a flag given is kept (X-Ray's own: a 500 the SDK did not mark a fault), a column given wins over attributes
    row = _columns(http_status=[500], fault=[False], attributes=[{"http.response.status_code": 404}]).iloc[0]
    assert (row["http_status"], bool(row["fault"]), bool(row["error"])) == (500, False, False)


@pytest.mark.parametrize("code, flags", [(404, (True, False, False)), (429, (True, False, True)),
                                         (503, (False, True, False))])
def test_spans_from_columns_flags_follow_the_otlp_reader(code, flags):
    otlp = tk.read_otlp(_otlp_request(code)).iloc[0]
    cols = _columns(http_status=[code], attributes=[{"http.response.status_code": 200}]).iloc[0]
    for row in (otlp, cols):
        assert (bool(row["error"]), bool(row["fault"]), bool(row["throttle"])) == flags
    ok = _columns(http_status=[200]).iloc[0]
    assert not (ok["error"] or ok["fault"] or ok["throttle"])


# ---------------------------------------------------------------------------------------------
# 4. one rule for a blank service name


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_a_blank_service_is_unknown_service_in_every_reader(name):
    otlp = _otlp_request(200)
    otlp["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"] = name
    doc = _doc(name=name, subsegments=[{"id": "1111111111111111", "name": "q", "start_time": float(T0),
                                        "end_time": T0 + 0.1}])
    frames = {"otlp": tk.read_otlp(otlp), "otlp file": tk.read_otlp(json.dumps(otlp).encode()),
              "xray page": tk.read_xray(_sources(doc)["page"]), "xray raw": tk.read_xray(doc),
              "columns": _columns(service=[name]), "columns None": _columns(service=[None])}
    for how, df in frames.items():
        assert df["service"].tolist() == ["unknown_service"] * len(df), how
    logs = tk.read_logs(json.dumps({"timestamp": "2018-12-13T14:51:00Z", "message": "m", "service": name}).encode())
    assert logs["service"].isna().all()  # the logs' service is nullable: blank is missing
    # a name is kept as given, "?" too (the analyses' "?" for a missing service never comes from a reader now)
    assert _columns(service=["?"]).loc[0, "service"] == "?" and tk.read_xray(_doc(name=" ?")).loc[0, "service"] == " ?"
