"""Failure and outcome rates with spans still in progress, and what counts as failed (session 38, rates2).

Covers: the one outcome definition of tracekit.core.outcomes (an explicit OTel status ``ok`` is final over the
HTTP code for client errors and throttles too), the ``unknown`` count of calls left out of a failure rate
(service map colour, version_regressions, peer_outliers, compare, bubble_up), and the traces-with-a-failed-span
share beside spans in progress. Every frame is built by construction, so each expected figure is known.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


# ------------------------------------------------------------------------- an explicit status ok over the HTTP code

def _otlp_codes(tmp_path, cases) -> pd.DataFrame:
    """One server span per (status code, HTTP code), read through the OTLP reader."""
    spans = []
    for i, (st, code) in enumerate(cases, 1):
        sp = {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "GET /x", "kind": 2,
              "startTimeUnixNano": "1", "endTimeUnixNano": "1000001",
              "attributes": [{"key": "http.response.status_code", "value": {"intValue": str(code)}}]}
        if st is not None:
            sp["status"] = {"code": st}
        spans.append(sp)
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                              "scopeSpans": [{"spans": spans}]}]}
    p = tmp_path / "codes.json"
    p.write_text(json.dumps(doc))
    return tk.read_otlp(p)


def test_explicit_status_ok_is_final_over_a_4xx_and_a_429(tmp_path):
    # OTel: "Analysis tools should respond to an Ok status by suppressing any errors they would otherwise
    # generate. For example, to suppress noisy errors such as 404s." (status 1 = OK, 2 = ERROR, absent = UNSET)
    df = _otlp_codes(tmp_path, [(1, 404), (None, 404), (1, 429), (None, 429), (2, 404), (1, 500)])
    assert df["status"].tolist() == ["ok", "unset", "ok", "unset", "error", "ok"]
    assert tk.core.client_error(df).tolist() == [False, True, False, True, True, False]
    assert tk.core.throttled(df).tolist() == [False, False, False, True, False, False]
    assert tk.core.failed(df).tolist() == [False] * 6
    out = tk.core.trace_outcomes(df)
    assert out["client_error"].tolist() == [False, True, False, True, True, False]
    assert out["throttled"].tolist() == [False, False, False, True, False, False]
    # a flag given without an HTTP code (X-Ray's own, a hand-built frame's) is an outcome of its own: it stays
    hand = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["w"], "name": ["x"],
                                  "start": [0], "end": [MS], "status": ["ok"], "error": [True], "throttle": [True]})
    assert tk.core.client_error(hand).tolist() == [True] and tk.core.throttled(hand).tolist() == [True]
