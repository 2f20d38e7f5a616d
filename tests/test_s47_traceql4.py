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


# ------------------------------------------------------------------------------------------- 2: hostile queries

_HOSTILE = r'''
import json, sys
import tracekit as tk
from tracekit.errors import TraceQLError

n = 4
spans = tk.spans_from_columns({
    "trace_id": ["1" * 32] * n, "span_id": [f"{i:016x}" for i in range(n)], "parent_id": [None] + ["0" * 16] * 3,
    "service": ["s"] * n, "name": ["op"] * n, "start": [0] * n, "end": [10] * n,
    "attributes": [{"v": "a" * 100_000 + "!"}, {"v": "a" * 100_000, "é✓": "x"}, {"v": "é✓𝄞", "x": 2}, {"x": 3}]})
queries = json.loads(sys.stdin.read())
out = {}
for q in queries:
    try:
        out[q] = sorted(int(s, 16) for s in tk.traceql(spans, q)["span_id"])
    except TraceQLError as e:
        out[q] = ["error", e.position, str(e).split(" at position")[0][:60]]
    except Exception as e:  # a bare error is a defect
        out[q] = ["other", type(e).__name__]
print(json.dumps(out))
'''

HOSTILE = {
    # catastrophic-backtracking patterns on 100 kB values: RE2, linear; the answer by construction
    '{ .v =~ "(a+)+$" }': [1], '{ .v =~ "(a|aa)+" }': [1], '{ .v =~ "(a*)*b" }': [], '{ .v =~ "(a+)+!" }': [0],
    '{ .v =~ "(.*a){20}" }': [1], '{ .v !~ "(a+)+" }': [0, 2],
    # unicode in strings and names, and in a regex
    '{ .v = "é✓𝄞" }': [2], '{ .é✓ = "x" }': [1], '{ ."é✓" = "x" }': [1], '{ .v =~ "é.𝄞" }': [2],
    "{\n\t.x\t>=\n2\n}": [2, 3],
    # huge numbers: a right answer (durations, floats) or a refusal at the literal (int64)
    "{ .x < 1e999 }": [2, 3], "{ .x > -1e999 }": [2, 3], "{ duration < 99999999999999999999999h }": [0, 1, 2, 3],
    "{ .x = 9223372036854775807 }": [], "{ } | count() > 1e400": [],
    "{ .x = 9223372036854775808 }": ["error", 7, "integer 9223372036854775808 is out of range"],
}


def _error(query: str, message: str, position: int | None):
    return ["error", position, message]


def test_hostile_queries_get_a_right_answer_or_a_clear_error_in_a_subprocess():
    """Controls (they pass on the old code too): catastrophic regexes on 100 kB values, unicode, huge numbers, and the
    refusals below each give the answer known by construction or a TraceQLError naming the position, never a bare
    error. Run in a subprocess whose generous timeout only guards against a hang; no assertion reads a time."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    refused = {
        "": ("empty query", 0), "   \n\t ": ("empty query", 0),
        '{ .v = "abc }': ("unterminated string", 7), "{ .v = `abc }": ("unterminated string", 7),
        '{ ."abc = 1 }': ("unterminated quoted attribute name", 3),
        "{ " + "(" * 10_000 + "true" + ")" * 10_000 + " }": ("query of 20,008 characters; at most 8,192 are parse", None),
        "{ " + "(" * 4_000 + "true" + ")" * 4_000 + " }": ("query nested too deeply (more than 400 brackets open)", 401),
        "(" * 2_000 + "{ }" + ")" * 2_000: ("query nested too deeply (more than 400 brackets open)", 400),  # the 401st
        '{ .v = "' + "a" * 1_000_000 + '" }': ("query of 1,000,011 characters; at most 8,192 are pa", None),
        " > ".join(["{ }"] * 1000): ("query nested too deeply (1002 levels; at most 400)", 0),
        "{ " + "!" * 500 + "true }": ("query nested too deeply (more than 400 '!' or '-' in ", 403),
        "{ .v = 'x' }": ("unexpected character \"'\"", 7),
    }
    want = dict(HOSTILE)
    want.update({q: _error(q, m, p) for q, (m, p) in refused.items()})
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", _HOSTILE], input=json.dumps(list(want)), capture_output=True,
                          text=True, timeout=600, cwd=root, env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    for q, w in want.items():
        if w and w[0] == "error":
            assert got[q][0] == "error" and got[q][1] == w[1] and got[q][2].startswith(w[2][:40]), (q[:60], got[q])
        else:
            assert got[q] == w, (q[:60], got[q])


def test_select_of_many_fields_gives_no_warning_and_every_column():
    """select() of 500 fields added its columns one insert at a time: pandas warned "DataFrame is highly fragmented"
    once per field past the 100th (400 PerformanceWarnings in a notebook). Now one piece, no warning, every column
    with each span's value, the frame's attrs kept."""
    import warnings

    n = 3
    spans = tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [f"{i:016x}" for i in range(n)], "parent_id": [None] * n,
        "service": ["s"] * n, "name": ["op"] * n, "start": [0] * n, "end": [MS] * n,
        "attributes": [{f"a{k}": i * 1000 + k for k in range(500)} for i in range(n)]})
    spans.attrs["source_files"] = ["x.json"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tk.traceql(spans, "{ .a1 > 1000 } | select(" + ", ".join(f".a{k}" for k in range(500)) + ")")
    assert out["span_id"].tolist() == [f"{i:016x}" for i in range(1, n)]  # span 0's a1 is 1: left out
    for k in (0, 1, 250, 499):
        assert out[f".a{k}"].tolist() == [i * 1000 + k for i in range(1, n)]
    assert out.attrs == {"source_files": ["x.json"]}
