"""Trace shapes, reviewed (s49, shapes): what_if, diff_traces, workflows, service_graph and the critical path on
traces built by hand, where the right answer is known by construction."""

from __future__ import annotations

import pytest

import tracekit as tk

MS = 10**6
T0 = 1_767_225_600 * 10**9


def _trace(rows, tid="1" * 32):
    """rows: (span id char, parent char or None, service, name, start ms, end ms)."""
    return tk.spans_from_columns({
        "trace_id": [tid] * len(rows), "span_id": [r[0] * 16 for r in rows],
        "parent_id": [r[1] * 16 if r[1] else None for r in rows], "service": [r[2] for r in rows],
        "name": [r[3] for r in rows], "kind": ["internal"] * len(rows),
        "start": [T0 + int(r[4] * MS) for r in rows], "end": [T0 + int(r[5] * MS) for r in rows]})


# ------------------------------------------------------------------------------------- 1. what_if selectors

@pytest.mark.parametrize("service,name", [("cache:v2", "GET"), ("arn:aws:lambda", "Invoke"), ("web", "GET /a:b")])
def test_what_if_selects_service_operation_when_the_service_holds_a_colon(service, name):
    # ("web", "GET /a:b") is a control (passes before and after: the first ":" is the service's end)
    # root 0..100 calls the span 10..60 then render 60..90: 30 ms off the span is 30 ms off the request (sequential)
    # by construction. A service named 'cache:v2' split 'cache:v2:GET' at its first ':' (service 'cache', operation
    # 'v2:GET'): 'matches no span', an ArgumentError for a span that is there
    spans = _trace([("a", None, "web", "GET /", 0, 100), ("b", "a", service, name, 10, 60),
                    ("c", "a", "web", "render", 60, 90)])
    r = tk.what_if(spans, {f"{service}:{name}": -30})
    assert r.changed_spans == 1
    assert r.spans["duration_ms"].tolist() == [70.0, 20.0, 30.0]
