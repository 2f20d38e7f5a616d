"""TraceQL defects found in session 47 (helper traceql4), each pinned by a test that failed before its fix; controls
(passing on both) say so in their docstring."""

from __future__ import annotations

import pytest

import tracekit as tk

MS = 1_000_000
T1, T2 = "1" * 32, "2" * 32


def _ids(spans, query: str) -> str:
    return "".join(sorted(s[0] for s in tk.traceql(spans, query)["span_id"]))


# ------------------------------------------------------------------------------------------- 1: a running trace

def _running():
    """Trace 1 (a, b, c) still running: a has no end, b ran 0..500 ms (error), c 100..200 ms: its traceDuration so
    far is 500 ms, a lower bound. Trace 2 (d, e) finished: 0..500 ms exactly."""
    return tk.spans_from_columns({
        "trace_id": [T1] * 3 + [T2] * 2, "span_id": [x * 16 for x in "abcde"],
        "parent_id": [None, "a" * 16, "a" * 16, None, "d" * 16], "service": ["s"] * 5,
        "name": ["op"] * 5, "status": ["unset", "error", "ok", "ok", "ok"],
        "start": [0, 0, 100 * MS, 0, 0], "end": [None, 500 * MS, 200 * MS, 500 * MS, 100 * MS]})


# query -> the spans of the running trace it must return (the finished trace d, e is compared exactly, below)
RUNNING = [
    ("{ traceDuration > 1s }", ""),  # at least 500 ms: may be more than 1 s, or not: unknown
    ("{ traceDuration < 1s }", ""),  # unknown (it was "abc": the bound read as exact)
    ("{ traceDuration <= 1s }", ""),
    ("{ traceDuration = 500ms }", ""),  # unknown (it was "abc")
    ("{ traceDuration != 500ms }", ""),
    ("{ traceDuration > 100ms }", "abc"),  # at least 500 ms: surely more than 100 ms
    ("{ traceDuration >= 500ms }", "abc"),
    ("{ traceDuration != 100ms }", "abc"),
    ("{ traceDuration < 500ms }", ""),  # surely not
    ("{ traceDuration = 100ms }", ""),
    ("{ !(traceDuration > 1s) }", ""),  # not unknown is unknown (it was "abc")
    ("{ !(traceDuration < 100ms) }", "abc"),  # surely false, so its negation surely true
    ("{ !(traceDuration > 100ms) }", ""),
    ("{ traceDuration < 1s || status = error }", "b"),  # unknown or true
    ("{ traceDuration < 1s || true }", "abc"),
    ("{ !(traceDuration > 1s && false) }", "abc"),  # unknown and false is false
    ("{ !(traceDuration > 1s && true) }", ""),
    ("{ !(traceDuration > 1s || true) }", ""),
    ("{ traceDuration + 1s > 1.2s }", "abc"),  # at least 1.5 s
    ("{ traceDuration - 100ms > 300ms }", "abc"),  # at least 400 ms
    ("{ traceDuration * 2 > 900ms }", "abc"),
    ("{ traceDuration / 2 < 100ms }", ""),  # at least 250 ms: surely not
    ("{ -traceDuration < 0 }", ""),  # at most -500 ms, unknown below: not decided by a lower bound
    ("{ 1s > traceDuration }", ""),  # the bound on the right
    ("{ 100ms < traceDuration }", "abc"),
    ("{ traceDuration > duration }", "c"),  # a has no duration: no comparison; b: at least 500 ms vs 500 ms, unknown
    ("{ traceDuration != nil }", "abc"),
]


@pytest.mark.parametrize("query, want", RUNNING)
def test_the_traceduration_of_a_running_trace_is_a_lower_bound(query, want):
    """The trace is still running (a span has no end): its traceDuration so far (500 ms) is the least it can be. A
    comparison the bound decides holds or fails; one it does not decide is unknown, which no filter keeps and which
    ``!`` leaves unknown. On the old code the bound was read as exact: ``{ traceDuration < 1s }`` and
    ``{ traceDuration = 500ms }`` returned the running trace, ``{ !(traceDuration > 1s) }`` too."""
    spans = _running()
    got = _ids(spans, query)
    assert "".join(c for c in got if c in "abc") == want


@pytest.mark.parametrize("query", [q for q, _ in RUNNING])
def test_a_finished_trace_is_compared_exactly(query):
    """Control: the finished trace (d, e: exactly 500 ms) answers each query as its exact value says."""
    spans = _running()
    got = "".join(c for c in _ids(spans, query) if c in "de")
    dur = {"d": 500 * MS, "e": 100 * MS}
    want = "".join(s for s in "de" if _exact(query, 500 * MS, dur[s], s))
    assert got == want


def _exact(query: str, td: int, d: int, s: str) -> bool:
    """The query's filter on exact values, by Python (a finished trace)."""
    expr = query.strip("{} ").replace("traceDuration", "TD").replace("duration", "D").replace("TD", "td")
    expr = expr.replace("D", "d").replace("!=", "<>").replace("!(", "not (").replace("&&", " and ").replace("||", " or ")
    expr = expr.replace("<>", "!=").replace("= ", "== ").replace("<== ", "<= ").replace(">== ", ">= ").replace("!== ", "!= ")
    expr = expr.replace("status == error", f"{s == 'b'}").replace("true", "True").replace("false", "False")
    expr = expr.replace("!= nil", "is not None")
    for unit, k in (("ms", MS), ("s", 1000 * MS)):
        import re
        expr = re.sub(rf"(\d+(?:\.\d+)?){unit}\b", lambda m, k=k: repr(float(m.group(1)) * k), expr)
    return bool(eval(expr, {}, {"td": td, "d": d}))
