"""Review s38, what users see (views2): the report's first words on data without a single root span, durations in
every hover by the one duration rule (core.words), the service map of ~40 services and the TraceExplorer's
auto-fold of a trace of many fragments. Frames are built by construction; each test failed on the code before its
fix."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Spans from (trace, span, parent, service, name, start_ns, end_ns) tuples (ids widened to 32 / 16 hex)."""
    t, s, p, sv, nm, a, b = zip(*rows, strict=True)
    return tk.spans_from_columns({
        "trace_id": [x * 32 for x in t], "span_id": [f"{x:016x}" for x in s],
        "parent_id": [None if x is None else f"{x:016x}" for x in p], "service": list(sv), "name": list(nm),
        "kind": ["server"] * len(rows), "start": list(a), "end": list(b)})


# ---- the report leads with "no root span at all" --------------------------------------------------------------------
@pytest.fixture(scope="module")
def children_only():
    """Six traces of api -> db -> cache whose api root was never exported: each trace holds the db span (its parent,
    span 1 of the trace, absent) and the cache span below it, so no trace has a root span by construction."""
    rows = []
    for i, tr in enumerate("abcdef"):
        t0 = i * 60_000_000_000
        rows += [(tr, 10 * i + 2, 10 * i + 1, "db", "SELECT", t0 + 1_000_000, t0 + 8_000_000),
                 (tr, 10 * i + 3, 10 * i + 2, "cache", "GET", t0 + 2_000_000, t0 + 3_000_000)]
    return _frame(rows)


def test_postmortem_leads_with_no_root_span_at_all(children_only):
    """It led with '0 requests in 00:00–00:05 UTC: p50 request latency n/a, p95 n/a, error rate unknown'; the missing
    roots were said only in 'how sure' (as 'count the 0 requests whose root was')."""
    pm = tk.postmortem(children_only)
    first = pm.findings[0]
    assert first.topic == "what"
    assert first.text.startswith("No root span at all: none of the 6 traces"), first.text
    assert first.evidence["rootless_traces"] == 6 and first.evidence["requests"] == 0
    sure = " ".join(pm.sentences("sure"))
    assert "the 0 requests" not in sure and "None of its 6 has a root span" in sure, sure
    # a trace with its root beside the fragments: the numbers of its requests are said as before, not 'no root'
    whole = _frame([("9", 1, None, "api", "GET /", 0, 10_000_000), ("9", 2, 1, "db", "SELECT", 1_000_000, 8_000_000)])
    pm = tk.postmortem(pd.concat([children_only, whole], ignore_index=True))
    first = pm.sentences("what")[0]
    assert first.startswith("1 request in ") and "No root span" not in first, first

