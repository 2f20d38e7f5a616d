"""TraceQL defects found in review (session s31, /tmp/tk/s31/query_review/REPORT.md), each pinned by a test that
failed before its fix: fractional durations (D7), parent cycles under ``<<`` (D3), structural operators after
``by()`` (D1), negated operators with an empty left side (D2, kept: Tempo's engine does the same)."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk
from tracekit.analysis.traceql import parse, traceql_mask
from tracekit.analysis.traceql.parse import duration_ns
from tracekit.core.tree import span_tree
from tracekit.errors import TraceQLError

MS = 1_000_000
T1 = "1" * 32


def _spans(parent: list, service: list | None = None, status: list | None = None, trace: list | None = None):
    """Spans ``a``, ``b``, ... with ``parent`` as letters (None: a root), each inside the one before."""
    n = len(parent)
    ids = [chr(ord("a") + i) * 16 for i in range(n)]
    return tk.spans_from_columns({
        "trace_id": trace or [T1] * n, "span_id": ids,
        "parent_id": [None if p is None else p * 16 for p in parent],
        "service": service or ["s"] * n, "name": [f"op{i}" for i in range(n)],
        "status": status or ["ok"] * n, "start": [i * MS for i in range(n)], "end": [(20 - i) * MS for i in range(n)]})


def _ids(spans, query: str) -> str:
    return "".join(sorted(s[0] for s in tk.traceql(spans, query)["span_id"]))


# ------------------------------------------------------------------------------------------- D7: durations

@pytest.mark.parametrize("text, ns", [
    ("1.5ms", 1_500_000), ("0.5s", 500_000_000), (".5s", 500_000_000), ("1.ms", 1_000_000), ("2.5ms", 2_500_000),
    ("1h30m", 5_400_000_000_000), ("1.5h30m", 7_200_000_000_000), ("300us", 300_000), ("300µs", 300_000),
    ("1500ns", 1500), ("0.1ns", 0), ("2d", 172_800_000_000_000), ("1d2h", 93_600_000_000_000),
    ("1w", 604_800_000_000_000), ("1y", 365 * 86_400 * 10**9),
])
def test_durations_are_read_as_tempo_reads_them(text, ns):
    """Tempo's lexer hands a number and its unit runes to Prometheus' ParseDuration, then Go's time.ParseDuration:
    fractions (1.5ms, .5s) were refused as "unexpected 'ms'" because the FLOAT token outranked DURATION."""
    assert duration_ns(text) == ns
    q = parse(f"{{ duration > {text} }}")
    rhs = q.body.stages[0].expr.rhs
    assert (rhs.type, rhs.value) == ("duration", ns)


@pytest.mark.parametrize("text", ["1.5d", "2h1d", "1e3ms", "1.5e3ms", "1d1.5h"])
def test_durations_tempo_refuses_are_refused_with_a_position(text):
    with pytest.raises(TraceQLError) as e:
        parse(f"{{ duration > {text} }}")
    assert 13 <= e.value.position < 13 + len(text)  # at the literal (or at its unit, after an exponent)


def test_exponents_stay_numbers():
    for text, v in [("1e3", 1000.0), ("1.5e3", 1500.0), ("1E-3", 0.001), (".5", 0.5), ("1.5", 1.5)]:
        rhs = parse(f"{{ .x = {text} }}").body.stages[0].expr.rhs
        assert (rhs.type, rhs.value) == ("float", v)


def test_fractional_durations_filter_as_their_whole_forms():
    spans = tk.examples.load("checkout-small")
    assert len(tk.traceql(spans, "{ duration > 1.5ms }")) == len(tk.traceql(spans, "{ duration > 1500us }")) > 0
    assert len(tk.traceql(spans, "{ duration > 0.5s }")) == len(tk.traceql(spans, "{ duration > 500ms }"))
    svc = spans["service"].iloc[0]
    a = tk.traceql(spans, f'{{ resource.service.name = "{svc}" }} | avg(duration) > 2.5ms')
    b = tk.traceql(spans, f'{{ resource.service.name = "{svc}" }} | avg(duration) > 2500us')
    assert a["span_id"].tolist() == b["span_id"].tolist()


def test_a_fractional_day_step_is_still_read_by_pandas():
    spans = tk.examples.load("checkout-small")
    m = tk.traceql_metrics(spans, "{ } | count_over_time()", step="1.5d")
    assert int(m["value"].sum()) == len(spans)


# ------------------------------------------------------------------------------------------- D3: cycles

def _cycle():
    return _spans(["b", "a"])  # a and b each other's parent


@pytest.mark.parametrize("query, want", [
    ("{ } >> { }", ""), ("{ } << { }", ""), ("{ } &>> { }", ""), ("{ } &<< { }", ""),
    ("{ } !<< { }", "ab"), ("{ } !>> { }", "ab"),
])
def test_spans_on_a_parent_cycle_have_no_ancestors_or_descendants(query, want):
    """`<<`, `&>>`, `!<<` raised a bare IndexError in SpanTree.below when every span is on a cycle."""
    assert _ids(_cycle(), query) == want


def test_below_with_every_row_on_a_cycle():
    tree = span_tree(_cycle())
    assert tree.cycle.all()
    for mask in ([True, True], [True, False], [False, False]):
        assert tree.below(np.array(mask)).tolist() == [False, False]


def test_below_with_a_cycle_beside_a_tree():
    # trace 1: a -> b -> c; trace 2: d and e each other's parent, f under e
    spans = _spans([None, "a", "b", "e", "d", "e"], trace=[T1] * 3 + ["2" * 32] * 3)
    tree = span_tree(spans)
    assert tree.cycle.tolist() == [False, False, False, True, True, True]
    assert tree.below(np.ones(6, dtype=bool)).tolist() == [True, True, False, False, False, False]
    assert _ids(spans, "{ } << { }") == "ab"
    assert _ids(spans, "{ } !<< { }") == "cdef"


def test_early_stops_on_a_trace_all_on_a_cycle():
    """early_stops marks stops through SpanTree.below: it raised the same IndexError on such a frame."""
    from tracekit.analysis.early_stops import early_stops

    baseline = _spans([None, "a"], trace=["2" * 32] * 2)
    es = early_stops(_cycle(), baseline)
    assert len(es) == 2 and not es["origin"].any()


# ------------------------------------------------------------------------------------------- D1: by() then structure

def test_a_structural_stage_after_by_relates_spans_of_one_spanset():
    """api -> db: after by(service) the db spanset holds no parent of the db span (Tempo evaluates each spanset
    alone); the structural stage related spans across spansets and returned the db span."""
    spans = _spans([None, "a"], service=["api", "db"])
    for op in (">", ">>", "&>", "&>>", "<", "<<", "~"):
        assert _ids(spans, f"{{ }} | by(resource.service.name) | {{ }} {op} {{ }}") == "", op
    assert _ids(spans, "{ } | by(resource.service.name) | { } !> { }") == "ab"  # no parent in its own spanset
    assert _ids(spans, "{ } | by(resource.service.name) | coalesce() | { } > { }") == "b"  # one spanset again
    assert _ids(spans, "{ } > { }") == "b"


def test_structure_inside_a_nested_stage_after_by_is_per_spanset():
    # a -> b -> c, a and c in service x, b in y: after by(service) c is a descendant of a in x's spanset
    spans = _spans([None, "a", "b"], service=["x", "y", "x"])
    assert _ids(spans, "{ } | by(resource.service.name) | { } >> { }") == "c"
    assert _ids(spans, "{ } | by(resource.service.name) | { } > { }") == ""
    assert _ids(spans, "{ } | by(resource.service.name) | ({ } >> { }) && { }") == "ac"  # && per spanset too
    assert _ids(spans, "{ } | by(resource.service.name) | { } << { }") == "a"


GROUP_CONDS = {"{ }": lambda r: True, "{ status = error }": lambda r: r["status"] == "error",
               '{ name = "x" }': lambda r: r["name"] == "x"}
GROUP_OPS = [">", ">>", "<", "<<", "~", "!>", "!>>", "!<", "!<<", "!~", "&>", "&>>", "&<", "&<<", "&~", "&&", "||"]


def _naive_grouped(rows, key, ca, op, cb) -> set[int]:
    """`{ } | by(key) | {A} op {B}` span by span: both ends of a relation in one (trace, key) spanset."""
    parent = [r["parent"] for r in rows]

    def anc(i):
        out, p = [], parent[i]
        while p is not None:
            out.append(p)
            p = parent[p]
        return out

    g = [(r["trace"], r[key]) for r in rows]
    out = set()
    for grp in set(g):
        members = {i for i in range(len(rows)) if g[i] == grp}
        A = {i for i in members if ca(rows[i])}
        B = {i for i in members if cb(rows[i])}
        rel = {">": lambda x, S: parent[x] in S, "<": lambda x, S: any(parent[y] == x for y in S),
               ">>": lambda x, S: any(a in S for a in anc(x)), "<<": lambda x, S: any(x in anc(y) for y in S),
               "~": lambda x, S: parent[x] is not None and any(parent[y] == parent[x] and y != x for y in S)}
        back = {">": "<", "<": ">", ">>": "<<", "<<": ">>", "~": "~"}
        if op == "||":
            out |= A | B
        elif op == "&&":
            out |= (A | B) if A and B else set()
        elif op.startswith("!"):
            out |= {x for x in B if not rel[op[1:]](x, A)}
        else:
            base = op.lstrip("&")
            out |= {x for x in B if rel[base](x, A)}
            if op.startswith("&"):
                out |= {x for x in A if rel[back[base]](x, B)}
    return out


def _random_forest(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(int(rng.integers(1, 4))):
        first = len(rows)
        for i in range(int(rng.integers(1, 14))):
            par = None if i == 0 or rng.random() < 0.1 else int(rng.integers(first, first + i))
            rows.append({"trace": t, "parent": par, "service": str(rng.choice(["a", "b"])),
                         "status": str(rng.choice(["ok", "error"])), "name": str(rng.choice(["x", "y"]))})
    order = rng.permutation(len(rows))  # parents after children too
    pos = {int(old): new for new, old in enumerate(order)}
    return [rows[old] | {"parent": None if rows[old]["parent"] is None else pos[rows[old]["parent"]]} for old in order]


@pytest.mark.parametrize("seed", range(12))
def test_structure_after_by_agrees_with_a_per_spanset_walk(seed):
    rows = _random_forest(seed)
    spans = tk.spans_from_columns({
        "trace_id": [format(r["trace"] + 1, "032x") for r in rows],
        "span_id": [format(i + 1, "016x") for i in range(len(rows))],
        "parent_id": [None if r["parent"] is None else format(r["parent"] + 1, "016x") for r in rows],
        "service": [r["service"] for r in rows], "name": [r["name"] for r in rows],
        "status": [r["status"] for r in rows], "start": [0] * len(rows), "end": [MS] * len(rows)})
    for qa, ca in GROUP_CONDS.items():
        for op in GROUP_OPS:
            for qb, cb in GROUP_CONDS.items():
                for by, key in (("resource.service.name", "service"), ("name", "name")):
                    mask, _ = traceql_mask(spans, f"{{ }} | by({by}) | {qa} {op} {qb}")
                    got = set(np.flatnonzero(mask).tolist())
                    assert got == _naive_grouped(rows, key, ca, op, cb), (qa, op, qb, by)


# ------------------------------------------------------------------------------------------- D2: kept, pinned

@pytest.mark.parametrize("op", ["!>", "!>>", "!<", "!<<", "!~"])
def test_a_negated_operator_with_no_left_hand_span_keeps_every_right_hand_span(op):
    """As Tempo's engine since v2.9.0 (grafana/tempo#5578: joinSpansets passes an empty left side on, and
    DescendantOf/ChildOf/SiblingOf with falseForAll keep every right-hand span); the reviewer read the code before
    that fix, which returned nothing. Kept, and stated in the traceql docstring."""
    spans = _spans([None, "a", "a"])  # no error span
    assert _ids(spans, f"{{ status = error }} {op} {{ }}") == "abc"
    assert _ids(spans, f"{{ status = error }} {op.replace('!', '')} {{ }}") == ""
    assert _ids(spans, f"{{ status = error }} {op.replace('!', '&')} {{ }}") == ""
