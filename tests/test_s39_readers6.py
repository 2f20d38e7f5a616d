"""Readers (session 39, readers6): where a repeated X-Ray key is looked for again, HTTP codes that are no HTTP
status, and a hostile pass over the trace readers.

1. read_xray: a Document whose fast-path key counts differ (an identity key given twice) made its whole file (or
   bytes, file object, parsed value) be read again by the checked code; now only the traces counted with it (a chunk
   of about ``xray_fast._JOIN`` Documents of one page) are walked again, the file read once.
2. An HTTP status outside 100-599 (999, -5, 0, 600, 10**9) made the OTLP reader and ``spans_from_columns`` derive a
   server fault from any code >= 500 (999 counted as a failure) and nothing from -5; now no flag is derived from such
   a code (it is kept as given), an explicit ``ok`` no longer passes over a fault flag because of it, and
   ``health_report`` flags it (``bad_http_status``: ``out_of_range``, and ``not_a_number`` for "abc").

Every input is built by construction (JSON text written by hand).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError

XTID = "1-5759e988-bd862e3fe1be46a994272793"
T0 = 1_700_000_000_000_000_000  # ns: 2023-11-14


# ----------------------------------------------------------------------------- 1. X-Ray: a repeated key, walked again


def _xseg(i: int, extra: str = "") -> str:
    d = {"id": f"{i + 256:016x}", "trace_id": XTID, "name": "api", "start_time": 1.7e9 + i, "end_time": 1.7e9 + i + 1}
    return json.dumps(d)[:-1] + extra + "}"


def _xtraces(n: int, bad: int, first: int = 0) -> list:
    """``n`` traces of one Document each (span ids from ``first``); trace ``bad``'s Document holds "id" twice with
    different values."""
    return [{"Id": XTID, "Segments": [{"Id": str(i), "Document": _xseg(first + i, ', "id": "00000000000000ff"'
                                                                    if i == bad else "")}]} for i in range(n)]


@pytest.fixture
def checked_traces(monkeypatch):
    """The traces the checked code walks (``_Builder.add_trace`` calls), with chunks of 4 Documents."""
    from tracekit.io import xray, xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", True)
    monkeypatch.setattr(xray_fast, "_JOIN", 4)
    calls: list[str] = []
    real = xray._Builder.add_trace

    def counting(self, trace, file, line, label, unused):
        calls.append(label)
        return real(self, trace, file, line, label, unused)

    monkeypatch.setattr(xray._Builder, "add_trace", counting)
    return calls


@pytest.mark.parametrize("form", ["bytes", "file", "parsed"])
def test_xray_a_repeated_key_walks_again_only_the_traces_counted_with_it(tmp_path, checked_traces, form):
    # 10 traces, chunks of 4 Documents: trace 5 is in the chunk of traces 4-7; the other 6 traces are not walked twice
    text = json.dumps({"Traces": _xtraces(10, bad=5)})
    (tmp_path / "p.json").write_text(text)
    src = {"bytes": lambda: text.encode(), "file": lambda: tmp_path / "p.json", "parsed": lambda: json.loads(text)}[form]
    with pytest.raises(TraceFormatError, match="key 'id' is given 2 times") as info:
        tk.read_xray(src())
    assert info.value.record == "Traces[5].Segments[0]"
    checked_traces.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray(src(), errors="skip")
    assert checked_traces == [f"Traces[{i}]" for i in range(4, 8)]
    assert [int(s, 16) - 256 for s in df["span_id"]] == [0, 1, 2, 3, 4, 6, 7, 8, 9]  # file order kept
    assert [s.record for s in df.attrs["skipped"]] == ["Traces[5].Segments[0]"]


def test_xray_a_repeated_key_in_one_page_of_a_list_walks_that_page_again_only(checked_traces):
    pages = [{"Traces": _xtraces(3, bad=-1)}, {"Traces": _xtraces(3, bad=1, first=10)},
             {"Traces": _xtraces(3, bad=-1, first=20)}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray(json.dumps(pages).encode(), errors="skip")
    assert checked_traces == ["[1], Traces[0]", "[1], Traces[1]", "[1], Traces[2]"]
    assert [s.record for s in df.attrs["skipped"]] == ["[1], Traces[1].Segments[0]"]
    assert [int(s, 16) - 256 for s in df["span_id"]] == [0, 1, 2, 10, 12, 20, 21, 22]


def test_xray_chunks_load_the_frame_the_checked_code_loads(monkeypatch, checked_traces):
    # a key given twice with one value (counts differ, nothing refused) in chunk 2 of 3, and metadata holding "id":
    # the same frame as the checked code alone, row for row
    from tracekit.io import xray_fast

    traces = _xtraces(10, bad=-1)
    traces[6]["Segments"][0]["Document"] = _xseg(6, ', "id": "0000000000000106"')
    traces[9]["Segments"][0]["Document"] = _xseg(9, ', "metadata": {"default": {"id": 1}}')
    text = json.dumps({"Traces": traces}).encode()
    fast = tk.read_xray(text)
    assert checked_traces == [f"Traces[{i}]" for i in (4, 5, 6, 7, 8, 9)]
    monkeypatch.setattr(xray_fast, "ENABLED", False)
    slow = tk.read_xray(text)
    cols = ["trace_id", "span_id", "parent_id", "name", "start", "end", "source_record"]
    assert fast[cols].equals(slow[cols]) and list(fast["attributes"]) == list(slow["attributes"])


# ----------------------------------------------------------------------------- 2. HTTP codes that are no HTTP status

OUT_OF_RANGE = [999, -5, 0, 99, 600, 10**9]


def _otlp_doc(codes: list, status: int = 0) -> bytes:
    spans = [{"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": "GET /", "kind": 2,
              "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**6), "status": {"code": status},
              "attributes": [{"key": "http.response.status_code",
                              "value": {"stringValue": c} if isinstance(c, str) else {"intValue": str(c)}}]}
             for i, c in enumerate(codes)]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "api"}}]}, "scopeSpans": [{"spans": spans}]}]}).encode()


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "checked"])
def test_otlp_an_http_code_outside_100_599_derives_no_flag_and_is_kept(monkeypatch, fast):
    from tracekit.io import otlp_fast

    monkeypatch.setattr(otlp_fast, "ENABLED", fast)
    codes = [*OUT_OF_RANGE, 404, 429, 503, 200]
    df = tk.read_otlp(_otlp_doc(codes))
    assert df["http_status"].tolist() == codes  # loaded as given
    assert [a["http.response.status_code"] for a in df["attributes"]] == codes
    n = len(OUT_OF_RANGE)
    assert df["fault"].tolist() == [False] * n + [False, False, True, False]
    assert df["error"].tolist() == [False] * n + [True, True, False, False]
    assert df["throttle"].tolist() == [False] * n + [False, True, False, False]
    assert tk.core.failed(df).tolist() == [False] * n + [False, False, True, False]


def test_spans_from_columns_derives_flags_by_the_readers_rule():
    codes = [*OUT_OF_RANGE, 404, 429, 503]
    n = len(codes)
    sp = tk.spans_from_columns({"trace_id": ["1" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
                                "service": ["web"] * n, "name": ["x"] * n, "start": [0] * n, "end": [10**6] * n,
                                "http_status": codes})
    k = len(OUT_OF_RANGE)
    assert sp["fault"].tolist() == [False] * k + [False, False, True]
    assert sp["error"].tolist() == [False] * k + [True, True, False]
    assert sp["http_status"].tolist() == codes


def test_an_explicit_ok_passes_over_a_5xx_only_not_an_out_of_range_code():
    # a fault flag (X-Ray's own, a hand-built frame's) beside status ok: a 5xx code is what ok is final over; a 999 is
    # no HTTP answer, so the flag stands (failed), as it does with no code at all
    codes = [503, 999, 10**9, None]
    n = len(codes)
    sp = tk.spans_from_columns({"trace_id": ["1" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
                                "service": ["web"] * n, "name": ["x"] * n, "start": [0] * n, "end": [10**6] * n,
                                "status": ["ok"] * n, "http_status": codes, "fault": [True] * n})
    assert tk.core.failed(sp).tolist() == [False, True, True, True]


def test_health_flags_http_codes_that_are_no_http_status_by_problem():
    # 3 out of range (2 traces), 2 not a number (an "abc" string, a 503.5), 3 good codes and one span with none
    vals = [999, -5, 600, "abc", 503.5, 503, 404, 200, None]
    tids = ["1" * 32, "1" * 32, "2" * 32, "3" * 32, "3" * 32, "4" * 32, "4" * 32, "5" * 32, "5" * 32]
    n = len(vals)
    attrs = [{} if v is None else {"http.response.status_code": v} for v in vals]
    sp = tk.spans_from_columns({"trace_id": tids, "span_id": [f"{i + 1:016x}" for i in range(n)],
                                "service": ["web"] * n, "name": ["x"] * n, "start": [0] * n, "end": [10**6] * n,
                                "attributes": attrs})
    assert sp["http_status"].tolist()[:3] == [999, -5, 600]  # loaded, not dropped
    r = tk.health_report(sp)
    got = r[r["check"] == "bad_http_status"].set_index("subject")
    assert sorted(got.index) == ["not_a_number", "out_of_range"]
    assert got.loc["out_of_range", ["spans_affected", "traces_affected"]].tolist() == [3, 2]
    assert got.loc["not_a_number", ["spans_affected", "traces_affected"]].tolist() == [2, 1]
    assert (got["severity"] == "warning").all()
    clean = tk.spans_from_columns({"trace_id": tids[5:], "span_id": [f"{i + 1:016x}" for i in range(4)],
                                   "service": ["web"] * 4, "name": ["x"] * 4, "start": [0] * 4, "end": [10**6] * 4,
                                   "attributes": attrs[5:]})
    assert not (tk.health_report(clean)["check"] == "bad_http_status").any()


def test_xray_an_out_of_range_http_status_loads_flagged_and_its_own_flags_decide():
    docs = [{"id": f"{i + 1:016x}", "trace_id": XTID, "name": "api", "start_time": 1.7e9, "end_time": 1.7e9 + 1,
             "http": {"response": {"status": s}}, **({"fault": True} if f else {})}
            for i, (s, f) in enumerate([(999, True), (999, False), (-5, False), (200, False)])]
    df = tk.read_xray(docs)
    assert df["http_status"].tolist() == [999, 999, -5, 200]
    assert tk.core.failed(df).tolist() == [True, False, False, False]  # X-Ray's fault flag, not the code
    r = tk.health_report(df)
    row = r[(r["check"] == "bad_http_status") & (r["subject"] == "out_of_range")]
    assert row["spans_affected"].tolist() == [3]
    assert np.isnan(row["value"]).all()


# ----------------------------------------------------------------------------- 3. hostile pass: a span id of zeros


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "checked"])
def test_xray_a_span_id_of_zeros_is_no_id_as_in_otlp(monkeypatch, fast):
    # FORMATS.md: "", absent and all-zero ids are "no id". A segment 0000000000000000 loaded, while another Document
    # naming it as parent_id became a root (a parent of zeros is none): one id, a parent to its subsegments and
    # nothing to the other document. Now refused, as read_otlp refuses a spanId of zeros; a parent_id of zeros
    # stays a root
    from tracekit.io import xray_fast

    monkeypatch.setattr(xray_fast, "ENABLED", fast)
    zero = {"id": "0" * 16, "trace_id": XTID, "name": "api", "start_time": 1.7e9, "end_time": 1.7e9 + 1,
            "subsegments": [{"id": "c" * 16, "name": "db", "start_time": 1.7e9, "end_time": 1.7e9 + 0.5}]}
    child = {"id": "d" * 16, "trace_id": XTID, "parent_id": "0" * 16, "name": "svc2", "start_time": 1.7e9,
             "end_time": 1.7e9 + 0.2}
    page = {"Traces": [{"Id": XTID, "Segments": [{"Id": str(j), "Document": json.dumps(x)}
                                                 for j, x in enumerate([zero, child])]}]}
    with pytest.raises(TraceFormatError, match="id '0000000000000000' is all zeros: no id") as info:
        tk.read_xray(page)
    assert info.value.record == "Traces[0].Segments[0]"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray(page, errors="skip")
    assert df["span_id"].tolist() == ["d" * 16] and df["parent_id"].isna().all()
    assert [s.record for s in df.attrs["skipped"]] == ["Traces[0].Segments[0]"]
    # a nested subsegment of zeros (and an upper-case id beside it: the regex path): it and its subtree are left
    # out, the rest of its segment loads
    top = dict(zero, id="A" * 16, subsegments=[{"id": "0" * 16, "name": "db", "start_time": 1.7e9,
                                                "end_time": 1.7e9 + 0.5, "subsegments": [
                                                    {"id": "e" * 16, "name": "q", "start_time": 1.7e9,
                                                     "end_time": 1.7e9 + 0.1}]}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray([top], errors="skip")
    assert df["span_id"].tolist() == ["a" * 16]
    assert "is all zeros" in df.attrs["skipped"][0].reason and "(2 spans) were left out" in df.attrs["skipped"][0].reason
    # as in OTLP
    otlp = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "1" * 32, "spanId": "0" * 16, "name": "op",
                                                          "startTimeUnixNano": str(T0),
                                                          "endTimeUnixNano": str(T0 + 1)}]}]}]}
    with pytest.raises(TraceFormatError, match="no spanId"):
        tk.read_otlp(otlp)
