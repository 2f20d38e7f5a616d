"""TraceQL defects found in session 47 (helper traceql4), each pinned by a test that failed before its fix; controls
(passing on both) say so in their docstring."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk
from tracekit.analysis.traceql import traceql_mask
from tracekit.errors import TraceQLError

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
    ("{ 1s > traceDuration }", ""),  # the bound on the right
    ("{ 100ms < traceDuration }", "abc"),
    ("{ traceDuration > duration }", "c"),  # a has no duration: no comparison; b: at least 500 ms vs 500 ms, unknown
    ("{ traceDuration != nil }", "abc"),
    ("{ (traceDuration > 1s) = false }", ""),  # unknown compared is unknown (it was "abc")
    ("{ (traceDuration > 1s) != true }", ""),  # (it was "abc")
    ("{ (traceDuration > 1s) = true }", ""),
    ("{ (traceDuration > 100ms) = true }", "abc"),
    ("{ (traceDuration < 100ms) = false }", "abc"),
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
from tracekit.analysis.traceql import traceql_mask
from tracekit.errors import TraceQLError
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


# ------------------------------------------------------------------------------------------- 3: a brute-force reference

def _forest(seed: int) -> list[dict]:
    """Random traces whose answer is known span by span: span ids repeat across traces (1, 2, ... in each), some
    parents missing (an orphan's fragment), some spans still running (no end), some spans exported twice (a
    copy alike, or a copy still running beside the finished one), rows in any order."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(int(rng.integers(1, 4))):
        n = int(rng.integers(1, 11))
        for i in range(n):
            u = rng.random()
            pid = None if i == 0 or u < 0.1 else (99 if u < 0.2 else int(rng.integers(1, i + 1)))
            start = int(rng.integers(0, 6)) * MS
            end = None if rng.random() < 0.1 else start + int(rng.integers(0, 11)) * MS
            r = {"trace": t, "sid": i + 1, "pid": pid, "service": str(rng.choice(["a", "b"])),
                 "name": str(rng.choice(["x", "y"])), "status": str(rng.choice(["ok", "error"])), "start": start,
                 "end": end, "k": [1, 2, None][int(rng.integers(0, 3))]}
            rows.append(r)
            if rng.random() < 0.15:  # exported twice: alike, or once while running
                rows.append(r | {"end": None} if end is not None and rng.random() < 0.5 else dict(r))
    return [rows[i] for i in rng.permutation(len(rows))]


def _frame(rows: list[dict]):
    return tk.spans_from_columns({
        "trace_id": [format(r["trace"] + 1, "032x") for r in rows], "span_id": [format(r["sid"], "016x") for r in rows],
        "parent_id": [None if r["pid"] is None else format(r["pid"], "016x") for r in rows],
        "service": [r["service"] for r in rows], "name": [r["name"] for r in rows],
        "status": [r["status"] for r in rows], "start": [r["start"] for r in rows], "end": [r["end"] for r in rows],
        "attributes": [{} if r["k"] is None else {"k": r["k"]} for r in rows]})


class _Ref:
    """The answer by definition, span by span: of the rows sharing a trace and span id the kept one is the first
    finished copy (else the first); a span's parent is the kept row its parent id names in its trace; a trace's
    duration is its last end less its first start over kept rows, a lower bound while one of them runs."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        kept: dict = {}
        for i, r in enumerate(rows):
            key = (r["trace"], r["sid"])
            if key not in kept or (rows[kept[key]]["end"] is None and r["end"] is not None):
                kept[key] = i
        self.kept = set(kept.values())
        self.parent = {i: kept.get((r["trace"], r["pid"])) if r["pid"] is not None else None
                       for i, r in enumerate(rows)}
        self.tdur: dict = {}
        self.last_end: dict = {}
        for t in {r["trace"] for r in rows}:
            mine = [rows[i] for i in self.kept if rows[i]["trace"] == t]
            ends = [r["end"] for r in mine if r["end"] is not None]
            running = any(r["end"] is None for r in mine)
            self.tdur[t] = (None if not ends else max(ends) - min(r["start"] for r in mine), running)
            self.last_end[t] = max(ends) if ends else None

    def dur(self, i: int):
        r = self.rows[i]
        return None if r["end"] is None else r["end"] - r["start"]

    def dur_cmp(self, i: int, v: int):
        """duration > v: a running span has run at least until its trace's last end so far (0 if none later)."""
        r = self.rows[i]
        if r["end"] is not None:
            return r["end"] - r["start"] > v
        last = self.last_end[r["trace"]]
        bound = 0 if last is None else max(last - r["start"], 0)
        return True if bound > v else None

    def ancestors(self, i: int) -> list[int]:
        out, p = [], self.parent[i]
        while p is not None and p not in out:
            out.append(p)
            p = self.parent[p]
        return out

    def related(self, rel: str, x: int, S: set) -> bool:
        p = self.parent
        if rel == ">":
            return p[x] in S
        if rel == "<":
            return any(p[y] == x for y in S)
        if rel == ">>":
            return any(a in S for a in self.ancestors(x))
        if rel == "<<":
            return any(x in self.ancestors(y) for y in S)
        return p[x] is not None and any(p[y] == p[x] and y != x for y in S)  # ~

    def op(self, op: str, A: set, B: set) -> set:
        if op == "||":
            return A | B
        if op == "&&":
            return (A | B) if A and B else set()
        base = op.lstrip("!&")
        if op.startswith("!"):
            return {x for x in B if not self.related(base, x, A)}
        out = {x for x in B if self.related(base, x, A)}
        if op.startswith("&"):
            back = {">": "<", "<": ">", ">>": "<<", "<<": ">>", "~": "~"}[base]
            out |= {x for x in A if self.related(back, x, B)}
        return out


def _td_cmp(ref: _Ref, i: int, op: str, v: int):
    """traceDuration op v: True, False, or None (unknown: a running trace's bound does not decide)."""
    d, running = ref.tdur[ref.rows[i]["trace"]]
    if d is None:
        return None if running else False
    exact = {"<": d < v, ">": d > v}[op]
    if not running:
        return exact
    if op == ">":
        return True if d > v else None
    return False if d >= v else None


CONDS3 = {  # query -> predicate (ref, row) -> True / False / None (unknown: no filter keeps it)
    "{ }": lambda ref, i: True,
    '{ resource.service.name = "a" }': lambda ref, i: ref.rows[i]["service"] == "a",
    "{ status = error }": lambda ref, i: ref.rows[i]["status"] == "error",
    "{ duration > 5ms }": lambda ref, i: ref.dur_cmp(i, 5 * MS),
    "{ !(duration > 5ms) }": lambda ref, i: (lambda t: None if t is None else not t)(ref.dur_cmp(i, 5 * MS)),
    '{ .k = 1 || name = "y" }': lambda ref, i: ref.rows[i]["k"] == 1 or ref.rows[i]["name"] == "y",
    "{ traceDuration > 8ms }": lambda ref, i: _td_cmp(ref, i, ">", 8 * MS),
    "{ traceDuration < 8ms }": lambda ref, i: _td_cmp(ref, i, "<", 8 * MS),
    "{ !(traceDuration < 8ms) }": lambda ref, i: (lambda t: None if t is None else not t)(_td_cmp(ref, i, "<", 8 * MS)),
    "{ traceDuration < 8ms || status = error }": lambda ref, i: True if ref.rows[i]["status"] == "error"
    else _td_cmp(ref, i, "<", 8 * MS),
}
OPS3 = [">", ">>", "<", "<<", "~", "!>", "!>>", "!<", "!<<", "!~", "&>", "&>>", "&<", "&<<", "&~", "&&", "||"]
BYS = {"resource.service.name": "service", "name": "name"}
AGGS = {  # aggregate filter -> (per spanset rows -> value or None, comparison)
    "count() > 1": (lambda ref, S: len(S), lambda v: v > 1),
    "avg(duration) > 4ms": ("avg", lambda v: v > 4 * MS),
    "min(duration) <= 3ms": ("min", lambda v: v <= 3 * MS),
    "max(duration) >= 8ms": ("max", lambda v: v >= 8 * MS),
    "sum(duration) > 12ms": ("sum", lambda v: v > 12 * MS),
}


def _agg_value(ref: _Ref, fn, S: set):
    if callable(fn):
        return fn(ref, S)
    ds = [ref.dur(i) for i in S if ref.dur(i) is not None]  # a span still running has no duration yet: left out
    if not ds:
        return None
    return {"avg": sum(ds) / len(ds), "min": min(ds), "max": max(ds), "sum": sum(ds)}[fn]


def _ref_pipeline(ref: _Ref, qa: str, op: str | None, qb: str | None, by: str | None, post: tuple | None,
                  agg: str | None) -> tuple[set, dict]:
    """``{A} [op {B}] [| by(f)] [| {C} op2 {D}] [| agg]``: the rows kept and each one's aggregate value."""
    rows = ref.rows
    spansets: dict = {}
    for t in {r["trace"] for r in rows}:
        mine = {i for i in ref.kept if rows[i]["trace"] == t}
        A = {i for i in mine if CONDS3[qa](ref, i) is True}
        sel = A if op is None else ref.op(op, A, {i for i in mine if CONDS3[qb](ref, i) is True})
        if by is None:
            spansets[(t,)] = sel
        else:
            for i in sel:
                spansets.setdefault((t, rows[i][BYS[by]]), set()).add(i)
    if post is not None:
        qc, op2, qd = post
        spansets = {k: ref.op(op2, {i for i in S if CONDS3[qc](ref, i) is True},
                              {i for i in S if CONDS3[qd](ref, i) is True}) for k, S in spansets.items()}
    out, values = set(), {}
    for S in spansets.values():
        if not S:
            continue
        if agg is not None:
            fn, ok = AGGS[agg]
            v = _agg_value(ref, fn, S)
            if v is None or not ok(v):
                continue
            values.update(dict.fromkeys(S, v))
        out |= S
    return out, values


@pytest.mark.parametrize("seed", range(200))
def test_spanset_operators_and_aggregates_agree_with_a_brute_force_reference(seed):
    """Every structural operator (negated and union forms too), ``&&``/``||``, ``by()`` then an operator per spanset,
    and count/avg/min/max/sum filters with and without ``by()``, on random forests with span ids repeated across
    traces, missing parents, spans still running and spans exported twice: the rows and aggregate values a
    span-by-span walk of the definitions gives."""
    rows = _forest(seed)
    spans = _frame(rows)
    ref = _Ref(rows)
    rng = np.random.default_rng(10_000 + seed)
    conds = list(CONDS3)
    pick = lambda: conds[int(rng.integers(len(conds)))]  # noqa: E731
    cases = [(pick(), op, pick(), None, None, None) for op in OPS3]
    cases += [(pick(), None, None, None, None, agg) for agg in AGGS]
    for by in BYS:
        cases.append((pick(), None, None, by, (pick(), OPS3[int(rng.integers(len(OPS3)))], pick()), None))
        cases.append((pick(), OPS3[int(rng.integers(len(OPS3)))], pick(), by, None, list(AGGS)[int(rng.integers(5))]))
    for qa, op, qb, by, post, agg in cases:
        q = qa + ("" if op is None else f" {op} {qb}") + ("" if by is None else f" | by({by})")
        q += "" if post is None else f" | {post[0]} {post[1]} {post[2]}"
        q += "" if agg is None else f" | {agg}"
        mask, extras = traceql_mask(spans, q)
        want, values = _ref_pipeline(ref, qa, op, qb, by, post, agg)
        got = set(np.flatnonzero(mask).tolist())
        assert got == want, (q, sorted(got), sorted(want))
        if agg is not None:
            col = np.asarray(extras[agg.split(" ")[0]], dtype=np.float64)
            assert {i: float(col[i]) for i in got} == pytest.approx({i: float(v) for i, v in values.items()}), q


# ------------------------------------------------------------------------------------------- a running span

S = 1000 * MS


def _hung():
    """a (0 s, still running) -> b (0..30 s), c (10 s, still running): a has run at least 30 s, c at least 20 s."""
    return tk.spans_from_columns({
        "trace_id": [T1] * 3, "span_id": [x * 16 for x in "abc"], "parent_id": [None, "a" * 16, "a" * 16],
        "service": ["s"] * 3, "name": ["op"] * 3, "start": [0, 0, 10 * S], "end": [None, 30 * S, None]})


@pytest.mark.parametrize("query, want", [
    ("{ duration > 20s }", "ab"),  # a has run 30 s at least (it was missed: a hung span was invisible); c: 20 s, unknown
    ("{ duration > 10s }", "abc"),
    ("{ duration >= 20s }", "abc"),
    ("{ duration < 1s }", ""),
    ("{ !(duration > 25s) }", ""),  # b ran 30 s; a surely more; c unknown
    ("{ !(duration > 35s) }", "b"),  # a, c unknown (both were kept: no duration read as "not more than 35 s")
    ("{ duration > 20s } >> { }", "bc"),
])
def test_the_duration_of_a_running_span_is_a_lower_bound(query, want):
    """A span still running was still running when the trace was captured, after every end its trace records: it has
    run at least until the trace's last end so far (:func:`tracekit.core.running_ns`). Filters read that bound as
    ``traceDuration``'s: decided, or unknown. On the old code a running span had no duration: ``{ duration > 20s }``
    missed the span hung 30 s, and ``{ !(duration > 35s) }`` kept it."""
    assert _ids(_hung(), query) == want


def test_aggregates_selections_and_metrics_read_known_durations_only():
    """A bound is no value: ``select(duration)`` of a running span is None, aggregates and metrics functions leave it
    out (the old code did so too: it had no duration), ``select(traceDuration)`` of a running trace is None (it gave
    its extent so far, 30 s, as if the trace had ended)."""
    spans = _hung()
    out = tk.traceql(spans, "{ } | select(duration, traceDuration)")
    assert out["duration"].tolist() == [None, 30 * S, None]
    assert out["traceDuration"].tolist() == [None] * 3
    agg = tk.traceql(spans, "{ } | max(duration) >= 30s")
    assert agg["max(duration)"].tolist() == [30 * S] * 3
    assert tk.traceql(spans, "{ } | max(duration) > 30s").empty
    m = tk.traceql_metrics(spans, "{ } | max_over_time(duration)", step="1h")
    assert m["value"].tolist() == [30.0]
    m = tk.traceql_metrics(spans, "{ } | count_over_time()", step="1h")
    assert m["value"].tolist() == [3.0]


@pytest.mark.parametrize("query", [None, b"{ } | rate()", 3, ["{ } | rate()"]])
def test_traceql_metrics_names_a_query_that_is_no_text(query):
    """``traceql_metrics(spans, None)`` raised a bare AttributeError ('NoneType' object has no attribute 'kind');
    now the TraceQLError (an ArgumentError) traceql gives, naming the type."""
    spans = _hung()
    with pytest.raises(TraceQLError, match=f"a TraceQL query is a string, got {type(query).__name__}"):
        tk.traceql_metrics(spans, query)
    with pytest.raises(TraceQLError, match=f"a TraceQL query is a string, got {type(query).__name__}"):
        tk.traceql(spans, query)


def test_duration_on_a_frame_with_a_span_lacking_an_id_answers_as_before():
    """Control (passes on main; the running-span bound first broke it): a span lacking an id leaves no span tree, so
    no bound for the running span, and ``{ duration > 1ns }`` still answers from the spans' own times."""
    spans = tk.spans_from_columns({
        "trace_id": [T1] * 3, "span_id": ["a" * 16, None, "c" * 16], "parent_id": [None, "a" * 16, "a" * 16],
        "service": ["s"] * 3, "name": ["op"] * 3, "start": [0] * 3, "end": [10, None, 5]})
    assert tk.traceql(spans, "{ duration > 1ns }")["span_id"].tolist() == ["a" * 16, "c" * 16]
    assert tk.traceql(spans, "{ duration > 7ns }")["span_id"].tolist() == ["a" * 16]


def test_tracekit_query_says_a_running_traces_extent_is_a_lower_bound():
    """``tracekit query``'s line of a trace whose root is still running said "trace extent 500.0 ms", its extent so far
    read as its extent; now "at least", as the report says it (one wording: core.words.extent_words). A finished
    trace (control) keeps its plain extent."""
    from tracekit.cli_query import format_matches

    spans = tk.spans_from_columns({
        "trace_id": [T1] * 2 + [T2], "span_id": [x * 16 for x in "abc"], "parent_id": [None, "a" * 16, None],
        "service": ["s"] * 3, "name": ["op"] * 3, "kind": ["consumer", "internal", "consumer"],
        "start": [0, 0, 0], "end": [None, 500 * MS, 300 * MS]})
    text = format_matches(spans, tk.traceql(spans, "{ }"), limit=0)
    line1 = next(x for x in text.splitlines() if x.startswith(f"trace {T1}"))
    line2 = next(x for x in text.splitlines() if x.startswith(f"trace {T2}"))
    assert "trace extent at least 500.0 ms, a span still in progress" in line1, line1
    assert line2.endswith("trace extent 300.0 ms"), line2


def test_by_an_unknown_condition_groups_it_apart_from_false():
    """``by(traceDuration > 1s)``: the running trace (at least 500 ms so far) is neither true nor false: its spans
    form a spanset of their own with the value None; they were grouped with the finished trace's spans under False."""
    out = tk.traceql(_running(), "{ } | by(traceDuration > 1s)")
    values = dict(zip(out["span_id"].str[0], out["traceDuration > 1s"], strict=True))
    assert values == {"a": None, "b": None, "c": None, "d": False, "e": False}
    sets = dict(zip(out["span_id"].str[0], out["spanset"], strict=True))
    assert sets["a"] == sets["b"] == sets["c"] != sets["d"] == sets["e"]
