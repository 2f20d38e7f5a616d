"""spans_from_columns sets a span's status from its HTTP code as read_otlp does (session 51).

A 503 server span built from columns read status 'unset' (its fault flag derived) where the same span read from OTLP
JSON read 'error', flagged as derived: one span, two frames.
"""

from __future__ import annotations

import json

import pandas as pd

import tracekit as tk
from tracekit.schema import STATUS_FROM

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns
CASES = [  # kind, code, status given → status read
    ("server", 503, "unset", "error"),
    ("server", 404, "unset", "unset"),  # a 4xx is the client's error: a server span's status stays unset
    ("client", 404, "unset", "error"),
    ("client", 503, "ok", "ok"),  # a status set stays
    ("internal", 500, "unset", "unset"),
    ("server", 200, "unset", "unset"),
]
_OTLP_KIND = {"server": 2, "client": 3, "internal": 1}
_OTLP_STATUS = {"unset": 0, "ok": 1, "error": 2}


def _otlp(tmp_path):
    spans = [{"traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": "op", "kind": _OTLP_KIND[k],
              "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**6),
              "attributes": [{"key": "http.response.status_code", "value": {"intValue": str(c)}}],
              "status": {"code": _OTLP_STATUS[s]}} for i, (k, c, s, _) in enumerate(CASES)]
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                              "scopeSpans": [{"spans": spans}]}]}
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc))
    return tk.read(p)


def _columns(attrs: list[dict]) -> pd.DataFrame:
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(len(CASES))], "span_id": [f"{i + 1:016x}" for i in range(len(CASES))],
        "service": "web", "name": "op", "kind": [c[0] for c in CASES], "status": [c[2] for c in CASES],
        "attributes": attrs, "start": [T0] * len(CASES), "end": [T0 + 10**6] * len(CASES)})


def test_status_from_the_code_as_the_otlp_reader_reads_it(tmp_path):
    attrs = [{"http.response.status_code": c[1]} for c in CASES]
    given = [dict(a) for a in attrs]
    built, read = _columns(attrs), _otlp(tmp_path)
    assert built["status"].tolist() == [c[3] for c in CASES]
    assert built["status"].tolist() == read["status"].tolist()
    flagged = [STATUS_FROM in a for a in built["attributes"]]
    assert flagged == [STATUS_FROM in a for a in read["attributes"]] == [c[2] != c[3] for c in CASES]
    assert attrs == given  # the caller's dicts are not changed
    for col in ("http_status", "error", "fault", "throttle"):
        assert built[col].tolist() == read[col].tolist(), col


def test_the_reading_mark_is_not_written_to_xray():
    """tracekit's own marks (how a span was read) are no span data: xray_segment_documents leaves them out, for a span
    read from OTLP or built from columns alike (the 503 server span's metadata held tracekit.status_from)."""
    from tracekit.io.write import xray_segment_documents

    built = _columns([{"http.response.status_code": c[1], "team": "a"} for c in CASES])
    assert any(STATUS_FROM in a for a in built["attributes"])  # the shape this test is about
    text = json.dumps(xray_segment_documents(built))
    assert "tracekit." not in text and '"team": "a"' in text
