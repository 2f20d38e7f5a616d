"""TraceQL on the spans frame: semantics per operator on hand-built traces, errors, metrics,
property tests against a naive evaluator, real public files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.analysis.traceql import parse, traceql_mask
from tracekit.errors import ArgumentError, TraceQLError

MS = 1_000_000
T1, T2 = "1" * 32, "2" * 32
API_RES = {"service.name": "api", "deployment.environment": "prod"}
ORD_RES = {"service.name": "orders", "deployment.environment": "prod", "n": 9, "otel.scope.name": "grpc"}

# Two traces, times in ms:
#
# trace 1                                   0        50       100
#   A api    server   GET /checkout         [=========================]  ok     {http.method: GET, n: 3}
#   ├─ B api  client  call-orders             [=============]             ok     {peer.service: orders}
#   │  └─ C orders server POST /orders         [==========]               error  {n: 5, "foo bar": x}
#   │     ├─ D orders client db.query            [====]                   ok     {db.system: postgres, n: 7}
#   │     └─ E orders client db.query                 [====]              error  {db.system: postgres}, event exception
#   └─ F api  internal render                               [========]    ok
# trace 2 (read from X-Ray: its annotations answer span.x)
#   G web    server   GET /home             [=====]                        ok     {http.method: GET, annotation.tier: gold}
#   └─ H web  client  call-orders            [===]                         ok     link -> trace 1 / A
#      └─ I orders server POST /orders        [==]                         ok     {n: "5"}  (a string)
#
# orders' resource (trace 1) has n = 9, so the unscoped .n of E (no span attribute) is 9.
ROWS = [
    # id, trace, parent, service, name, kind, start, end, status, attrs, resource
    ("A", T1, None, "api", "GET /checkout", "server", 0, 100, "ok", {"http.method": "GET", "n": 3}, API_RES),
    ("B", T1, "A", "api", "call-orders", "client", 5, 60, "ok", {"peer.service": "orders"}, API_RES),
    ("C", T1, "B", "orders", "POST /orders", "server", 10, 55, "error", {"n": 5, "foo bar": "x"}, ORD_RES),
    ("D", T1, "C", "orders", "db.query", "client", 12, 30, "ok", {"db.system": "postgres", "n": 7}, ORD_RES),
    ("E", T1, "C", "orders", "db.query", "client", 31, 50, "error", {"db.system": "postgres"}, ORD_RES),
    ("F", T1, "A", "api", "render", "internal", 61, 95, "ok", {}, API_RES),
    ("G", T2, None, "web", "GET /home", "server", 0, 20, "ok", {"http.method": "GET", "annotation.tier": "gold"},
     {"service.name": "web"}),
    ("H", T2, "G", "web", "call-orders", "client", 2, 18, "ok", {}, {"service.name": "web"}),
    ("I", T2, "H", "orders", "POST /orders", "server", 3, 17, "ok", {"n": "5"}, {"service.name": "orders"}),
]
LETTERS = [r[0] for r in ROWS]


def _sid(letter: str) -> str:
    return (letter.lower() * 16) if letter in "abcdef" else format(ord(letter), "016x")


def _frame() -> pd.DataFrame:
    events = [[] for _ in ROWS]
    events[LETTERS.index("E")] = [{"time": 36 * MS, "name": "exception", "attributes": {"exception.type": "Timeout"}}]
    links = [[] for _ in ROWS]
    links[LETTERS.index("H")] = [{"trace_id": T1, "span_id": _sid("A"), "attributes": {"kind": "follows"}}]
    return tk.spans_from_columns({
        "trace_id": [r[1] for r in ROWS], "span_id": [_sid(r[0]) for r in ROWS],
        "parent_id": [None if r[2] is None else _sid(r[2]) for r in ROWS], "service": [r[3] for r in ROWS],
        "name": [r[4] for r in ROWS], "kind": [r[5] for r in ROWS],
        "start": [r[6] * MS for r in ROWS], "end": [r[7] * MS for r in ROWS], "status": [r[8] for r in ROWS],
        "status_message": ["timeout" if r[0] == "E" else None for r in ROWS],
        "attributes": [r[9] for r in ROWS], "resource": [r[10] for r in ROWS], "events": events, "links": links,
        "source": ["otlp" if r[1] == T1 else "xray" for r in ROWS]})


SPANS = _frame()


def hits(query: str, spans: pd.DataFrame = SPANS) -> str:
    out = tk.traceql(spans, query)
    by_id = {_sid(x): x for x in LETTERS}
    return "".join(by_id[s] for s in out["span_id"])


@pytest.mark.parametrize("query, expected", [
    # intrinsics
    ('{ resource.service.name = "orders" }', "CDEI"),
    ("{ duration > 40ms }", "ABC"),
    ("{ duration >= 20ms && duration < 21ms }", "G"),
    ("{ status = error }", "CE"),
    ("{ status != error }", "ABDFGHI"),
    ('{ statusMessage = "timeout" }', "E"),
    ("{ kind = client }", "BDEH"),
    ('{ name = "db.query" }', "DE"),
    ("{ traceDuration > 50ms }", "ABCDEF"),
    ('{ rootName = "GET /home" }', "GHI"),
    ('{ rootServiceName = "api" }', "ABCDEF"),
    ("{ span:childCount = 2 }", "AC"),
    ("{ span:duration < 15ms }", "I"),
    ('{ trace:rootService = "web" && span:kind = server }', "GI"),
    (f'{{ trace:id = "{T2}" && span:id = "{_sid("H")}" }}', "H"),
    (f'{{ span:parentID = "{_sid("C")}" }}', "DE"),
    ("{ nestedSetParent = -1 }", "AG"),
    ("{ }", "ABCDEFGHI"),
    ("{ true }", "ABCDEFGHI"),
    ("{ false }", ""),
    # attributes, scopes, types
    ("{ .n = 5 }", "C"),
    ('{ .n = "5" }', "I"),
    ("{ .n != 5 }", "ADE"),
    ("{ .n > 4 }", "CDE"),
    ("{ span.n > 4 }", "CD"),
    ("{ .n > 4.5 && .n < .8e1 }", "CD"),  # .8e1: a number, as Go reads it
    ("{ resource.n = 9 }", "CDE"),
    ('{ .deployment.environment = "prod" }', "ABCDEF"),
    ('{ ."foo bar" = "x" }', "C"),
    ('{ span."foo bar" = "x" }', "C"),
    ('{ span.tier = "gold" }', "G"),  # an X-Ray annotation answers span.x
    ('{ .annotation.tier = "gold" }', "G"),
    ("{ .db.system != nil }", "DE"),
    ("{ .db.system = nil }", "ABCFGHI"),
    ('{ instrumentation:name = "grpc" }', "CDE"),
    # arithmetic
    ("{ .n + 1 = 6 }", "C"),
    ("{ .n * 2 > 10 }", "DE"),
    ("{ -.n < -6 }", "DE"),
    ("{ .n % 2 = 1 && .n ^ 2 > 20 }", "CDE"),
    ("{ duration > 10ms * 4 }", "ABC"),
    ("{ -2 ^ 2 = -4 && 2 * -3 = -6 && 2 ^ -1 = 0.5 }", "ABCDEFGHI"),  # unary minus binds looser than ^
    # regex: fully anchored, RE2
    ('{ name =~ "db.*" }', "DE"),
    ('{ name =~ "db" }', ""),
    ('{ name !~ "db.*" }', "ABCFGHI"),
    (r'{ name =~ "(GET|POST) /\\w+" }', "ACGI"),
    ('{ .http.method =~ "G.T" }', "AG"),
    # boolean logic inside a filter; && and || bind alike, left to right, as in Tempo
    ('{ status = error || name = "render" }', "CEF"),
    ('{ !(status = error) && kind = server }', "AGI"),
    # events and links
    ('{ event:name = "exception" }', "E"),
    ('{ event.exception.type = "Timeout" }', "E"),
    ("{ event:timeSinceStart > 4ms }", "E"),
    ("{ event:timeSinceStart > 6ms }", ""),
    (f'{{ link:traceID = "{T1}" }}', "H"),
    (f'{{ link:spanID = "{_sid("A")}" }}', "H"),
    ('{ link.kind = "follows" }', "H"),
    # spanset operators
    ('{ status = error } && { name = "render" }', "CEF"),
    ('{ status = error } && { name = "GET /home" }', ""),
    ('{ name = "render" } || { name = "GET /home" }', "FG"),
    # structural
    ("{ kind = server } > { kind = client }", "BDEH"),
    ('{ name = "call-orders" } > { }', "CI"),
    ("{ status = error } < { }", "BC"),
    ('{ resource.service.name = "api" } >> { status = error }', "CE"),
    ("{ status = error } << { }", "ABC"),
    ('{ name = "db.query" } ~ { }', "DE"),
    ('{ name = "call-orders" } ~ { }', "F"),
    ('{ name = "POST /orders" } !> { }', "ABCFGHI"),
    ('{ resource.service.name = "api" } !>> { }', "AGHI"),
    ("{ status = error } !< { }", "ADEFGHI"),
    ("{ status = error } !<< { }", "DEFGHI"),
    ('{ name = "db.query" } !~ { }', "ABCFGHI"),
    ('{ name = "call-orders" } &> { }', "BCHI"),
    ('{ name = "POST /orders" } &>> { status = error }', "CE"),
    ("{ status = error } &< { }", "BCE"),
    ('{ name = "db.query" } &<< { kind = server }', "ACDE"),
    ('{ name = "db.query" && status = error } &~ { }', "DE"),
    ('({ kind = server } > { kind = client }) >> { status = error }', "CE"),
    ('{ kind = server } > { kind = client } && { name = "render" }', "BDEF"),
    # pipelines
    ("{ } | count() > 3", "ABCDEF"),
    ('{ resource.service.name = "orders" } | avg(duration) > 20ms', "CDE"),
    ("{ } | max(duration) > 90ms | { kind = internal }", "F"),
    ("{ } | sum(span.n) = 15", "ABCDEF"),
    ("{ } | min(.n) < 4", "ABCDEF"),
    ("{ } | by(resource.service.name) | count() > 2", "ABCDEF"),
    ("{ } | by(resource.service.name) | count() = 1 | coalesce()", "I"),
    ("count() = 3 | { kind = server }", "GI"),
    ("{ } | { status = error } >> { }", "DE"),
    ("{ } | count() > 1 with(sample=0.1)", "ABCDEFGHI"),
])
def test_each_construct_selects_the_spans_the_tree_says(query, expected):
    assert hits(query) == expected


def test_select_adds_the_fields_by_adds_the_spanset():
    out = tk.traceql(SPANS, "{ status = error } | select(span.db.system, duration)")
    assert out["span.db.system"].tolist() == [None, "postgres"]
    assert out["duration"].tolist() == [45 * MS, 19 * MS]
    out = tk.traceql(SPANS, "{ } | by(resource.service.name) | count() > 2")
    assert out.groupby("spanset")["resource.service.name"].agg(set).tolist() == [{"api"}, {"orders"}]
    assert out["count()"].tolist() == [3.0] * 6


def test_result_is_a_new_frame_and_input_is_untouched():
    before = SPANS.copy()
    out = tk.traceql(SPANS, "{ } | select(.n)")
    out.loc[out.index[0], "name"] = "changed"
    pd.testing.assert_frame_equal(SPANS, before)
    assert "n" not in SPANS.columns and ".n" not in SPANS.columns


def test_accessor_forwards():
    assert SPANS.tk.traceql("{ status = error }")["span_id"].tolist() == tk.traceql(SPANS, "{ status = error }")["span_id"].tolist()


def test_regex_is_linear_on_long_values():
    spans = tk.spans_from_columns({"trace_id": [T1] * 2, "span_id": ["a" * 16, "b" * 16], "service": ["s"] * 2,
                                   "name": ["x"] * 2, "start": [0, 0], "end": [1, 1],
                                   "attributes": [{"s": "a" * 200_000}, {"s": "a" * 50 + "b"}]})
    assert tk.traceql(spans, '{ .s =~ "(a+)+b" }')["span_id"].tolist() == ["b" * 16]
    assert tk.traceql(spans, '{ .s =~ "(a|aa)*" }')["span_id"].tolist() == ["a" * 16]


# ---------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("query, position, words", [
    ("{ .a == 4 }", 7, "unexpected"),
    ("{ .a = 4", 9, "end of query"),
    ('{ name = "x }', 10, "string"),
    ("{ attribute = 4 }", 3, "unknown identifier"),
    ("{ 1 = name }", 5, "cannot compare"),
    ('{ span.foo =~ "(" }', 15, "regular expression"),
    ('{ span.foo =~ "(?=a)" }', 15, "regular expression"),
    ("{ status > ok }", 10, "= or !="),
    ("{ parent.a = 1 }", 3, "not supported"),
    ("min(.field) < max(duration)", 1, "not supported"),
    ("{ span:status = nil }", 15, "cannot be nil"),
    ("{ trace:name = 1 }", 3, "not an intrinsic"),
    ("{ } | rate() | topk(0)", 21, "above 0"),
])
def test_errors_name_the_position_with_a_caret(query, position, words):
    with pytest.raises(TraceQLError) as info:
        tk.traceql(SPANS, query)
    err = info.value
    assert isinstance(err, ArgumentError)
    text = str(err)
    assert words in text
    assert f"position {position}" in text
    line, caret = text.splitlines()[1:3]
    assert line.strip() == query
    assert caret.index("^") - 2 == position - 1


def test_metrics_query_is_refused_by_traceql_and_spans_query_by_metrics():
    with pytest.raises(TraceQLError, match="traceql_metrics"):
        tk.traceql(SPANS, "{ } | rate()")
    with pytest.raises(TraceQLError, match="metrics"):
        tk.traceql_metrics(SPANS, "{ }")
    with pytest.raises(TraceQLError):
        tk.traceql(SPANS, 42)
    with pytest.raises(TraceQLError, match="empty"):
        tk.traceql(SPANS, "  ")
    with pytest.raises(ArgumentError, match="step"):
        tk.traceql_metrics(SPANS, "{ } | rate()", step="soon")


def test_compare_is_refused_as_not_supported():
    with pytest.raises(TraceQLError, match="compare\\(\\) is not supported"):
        tk.traceql_metrics(SPANS, "{ } | compare({ status = error })")


# ---------------------------------------------------------------------------------- metrics

def test_count_and_rate_over_time_by_service():
    m = tk.traceql_metrics(SPANS, "{ } | count_over_time() by (resource.service.name)", step="50ms")
    got = {(t.value // MS, s): v for t, s, v in m.itertuples(index=False)}
    # starts: A0 B5 C10 D12 E31 F61 | G0 H2 I3 -> buckets [0,50) and [50,100)
    assert got == {(0, "api"): 2, (0, "orders"): 4, (0, "web"): 2, (50, "api"): 1, (50, "orders"): 0, (50, "web"): 0}
    r = tk.traceql_metrics(SPANS, "{ } | rate()", step="50ms")
    assert r["value"].tolist() == [8 / 0.05, 1 / 0.05]


def test_over_time_functions_in_seconds():
    q = '{ name = "db.query" } | {fn}(duration)'
    expect = {"min_over_time": 0.018, "max_over_time": 0.019, "avg_over_time": 0.0185, "sum_over_time": 0.037}
    for fn, v in expect.items():
        m = tk.traceql_metrics(SPANS, q.replace("{fn}", fn), step="1s")
        assert m["value"].tolist() == pytest.approx([v])
    m = tk.traceql_metrics(SPANS, "{ } | quantile_over_time(duration, .5, 1)", step="1s")
    durs = sorted(r[7] - r[6] for r in ROWS)  # ms: inverted_cdf median is the 5th of 9
    assert m["quantile"].tolist() == [0.5, 1.0]
    assert m["value"].tolist() == pytest.approx([durs[4] / 1000, durs[-1] / 1000])
    h = tk.traceql_metrics(SPANS, "{ } | histogram_over_time(duration)", step="1s")
    assert int(h["value"].sum()) == 9
    # Tempo's Log2Bucketize: the duration in ns rounded up to a power of two, given in seconds
    assert set(h["bucket"]) == {2.0 ** np.ceil(np.log2((r[7] - r[6]) * MS)) / 1e9 for r in ROWS}


def test_second_stages_and_math():
    q = "{ } | count_over_time() by (resource.service.name)"
    top = tk.traceql_metrics(SPANS, q + " | topk(1)", step="1s")
    assert top[["resource.service.name", "value"]].values.tolist() == [["orders", 4.0]]
    low = tk.traceql_metrics(SPANS, q + " | bottomk(1)", step="1s")
    assert low["value"].tolist() == [2.0]
    flt = tk.traceql_metrics(SPANS, q + " > 2", step="1s")
    assert sorted(flt["value"].tolist()) == [3.0, 4.0]
    share = tk.traceql_metrics(SPANS, "({ status = error } | count_over_time()) / ({ } | count_over_time()) * 100",
                               step="1s")
    assert share["value"].tolist() == pytest.approx([200 / 9])


# ---------------------------------------------------------------------------------- properties

CONDS = {  # query text -> naive predicate on a row dict
    "{ }": lambda r: True,
    '{ resource.service.name = "a" }': lambda r: r["service"] == "a",
    "{ status = error }": lambda r: r["status"] == "error",
    "{ duration > 5ms }": lambda r: r["dur"] > 5,
    '{ .k = 1 || name = "y" }': lambda r: r["k"] == 1 or r["name"] == "y",
}
OPS = [">", ">>", "<", "<<", "~", "!>", "!>>", "!<", "!<<", "!~", "&>", "&>>", "&<", "&<<", "&~", "&&", "||"]


def _naive(rows: list[dict], ca, op: str, cb) -> set[int]:
    """Spans selected by `{A} op {B}`, by walking parent links span by span."""
    parent = {i: r["parent"] for i, r in enumerate(rows)}

    def ancestors(i):
        out, p = [], parent[i]
        while p is not None:
            out.append(p)
            p = parent[p]
        return out

    A = {i for i, r in enumerate(rows) if ca(r)}
    B = {i for i, r in enumerate(rows) if cb(r)}
    rel = {  # x related to some y in S
        ">": lambda x, S: parent[x] in S,
        "<": lambda x, S: any(parent[y] == x for y in S),
        ">>": lambda x, S: any(a in S for a in ancestors(x)),
        "<<": lambda x, S: any(x in ancestors(y) for y in S),
        "~": lambda x, S: parent[x] is not None and any(parent[y] == parent[x] and y != x for y in S),
    }
    back = {">": "<", "<": ">", ">>": "<<", "<<": ">>", "~": "~"}
    if op == "||":
        return A | B
    if op == "&&":
        traces = {rows[i]["trace"] for i in A} & {rows[i]["trace"] for i in B}
        return {i for i in A | B if rows[i]["trace"] in traces}
    base = op.lstrip("!&")
    if op.startswith("!"):
        return {x for x in B if not rel[base](x, A)}
    out = {x for x in B if rel[base](x, A)}
    if op.startswith("&"):
        out |= {x for x in A if rel[back[base]](x, B)}
    return out


@st.composite
def forests(draw):
    rows = []
    for t in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 12))
        first = len(rows)
        for i in range(n):
            par = draw(st.one_of(st.none(), st.integers(first, first + i - 1))) if i else None
            rows.append({"trace": t, "parent": par, "service": draw(st.sampled_from("ab")),
                         "status": draw(st.sampled_from(["ok", "error"])), "dur": draw(st.integers(0, 10)),
                         "k": draw(st.sampled_from([1, 2, None])), "name": draw(st.sampled_from("xy"))})
    order = draw(st.permutations(range(len(rows))))  # rows in any order: parents may come after children
    return _reorder(rows, order)


def _reorder(rows, order):
    pos = {old: new for new, old in enumerate(order)}
    return [rows[old] | {"parent": None if rows[old]["parent"] is None else pos[rows[old]["parent"]]} for old in order]


def _to_frame(rows):
    return tk.spans_from_columns({
        "trace_id": [format(r["trace"] + 1, "032x") for r in rows],
        "span_id": [format(i + 1, "016x") for i in range(len(rows))],
        "parent_id": [None if r["parent"] is None else format(r["parent"] + 1, "016x") for r in rows],
        "service": [r["service"] for r in rows], "name": [r["name"] for r in rows],
        "status": [r["status"] for r in rows], "start": [0] * len(rows), "end": [r["dur"] * MS for r in rows],
        "attributes": [{} if r["k"] is None else {"k": r["k"]} for r in rows]})


@settings(max_examples=25, derandomize=True, deadline=None)
@given(forests(), st.sampled_from(list(CONDS)), st.sampled_from(OPS), st.sampled_from(list(CONDS)))
def test_spanset_operators_agree_with_a_naive_walk(rows, qa, op, qb):
    spans = _to_frame(rows)
    mask, _ = traceql_mask(spans, f"{qa} {op} {qb}")
    assert set(np.flatnonzero(mask).tolist()) == _naive(rows, CONDS[qa], op, CONDS[qb])


@settings(max_examples=25, derandomize=True, deadline=None)
@given(forests())
def test_intervals_are_the_descendant_relation(rows):
    spans = _to_frame(rows)
    tree = tk.core.tree.span_tree(spans)
    left, right = tree.intervals()
    marked = np.array([r["dur"] % 2 == 1 for r in rows], dtype=bool)
    below = tree.below(marked)  # the shared "some descendant is marked" kernel (early_stops, TraceQL's <<)
    for i in range(len(rows)):
        desc = {j for j in range(len(rows)) if left[i] < left[j] <= right[i]}
        walk = set()
        for j in range(len(rows)):
            p = rows[j]["parent"]
            while p is not None:
                if p == i:
                    walk.add(j)
                    break
                p = rows[p]["parent"]
        assert desc == walk
        assert bool(below[i]) == any(marked[j] for j in walk)


def test_intervals_of_a_deep_chain_with_wide_levels_are_the_descendant_relation():
    """Narrow levels (under 1/64 of the rows) add their subtree sizes row by row, wide ones in one pass over all rows:
    a pass over all rows per level made the first >> on a 80,000-deep chain take 8.7 s (0.61 s now). A chain of
    300 spans, 400 leaves on 20 of its levels, two roots: both kinds of level, checked against a walk up."""
    rng = np.random.default_rng(5)
    parent = [None] + list(range(299))  # the chain
    hangs = rng.choice(np.arange(0, 300, 15), size=400)  # 20 levels get ~20 leaves each: wide
    parent += [int(h) for h in hangs]
    parent += [None, 700]  # another root and its child
    n = len(parent)
    spans = tk.spans_from_columns({
        "trace_id": ["0" * 31 + "1"] * n, "span_id": [format(i + 1, "016x") for i in range(n)],
        "parent_id": [None if p is None else format(p + 1, "016x") for p in parent], "service": ["a"] * n,
        "name": ["x"] * n, "start": [0] * n, "end": [1] * n})
    left, right = tk.core.tree.span_tree(spans).intervals()
    ancestors = []
    for j in range(n):
        up, p = set(), parent[j]
        while p is not None:
            up.add(p)
            p = parent[p]
        ancestors.append(up)
    for i in range(0, n, 7):
        assert {j for j in range(n) if left[i] < left[j] <= right[i]} == {j for j in range(n) if i in ancestors[j]}
    assert right[0] - left[0] == 299 + 400  # the first root holds the chain and every leaf


# ---------------------------------------------------------------------------------- real files

def test_real_xray_segments_annotations_and_structure(real_traces):
    path = real_traces / "otel-contrib-awsxray-testdata" / "ddbSample.txt"
    if not path.exists():
        pytest.skip(f"{path} not found")
    spans = tk.read(path)
    key = "DDB.DescribeExistingTableAndPutToMissingTable.Annotation"
    owner = [i for i, a in enumerate(spans["attributes"]) if a.get("annotation." + key) == "anno"]
    got = tk.traceql(spans, f'{{ span.{key} = "anno" }}')
    assert got.index.tolist() == spans.index[owner].tolist() and len(owner) == 1
    assert tk.traceql(spans, f'{{ .annotation.{key} = "anno" }}').index.tolist() == got.index.tolist()
    assert set(tk.traceql(spans, '{ resource.service.name = "DDB" }').index) == set(spans.index)
    # error spans under an error span, by walking parent ids
    ids = dict(zip(spans["span_id"], spans["parent_id"], strict=True))
    err = set(spans.loc[spans["status"] == "error", "span_id"])

    def under_error(sid):
        p = ids.get(sid)
        while isinstance(p, str):
            if p in err:
                return True
            p = ids.get(p)
        return False

    want = [s for s in spans["span_id"] if s in err and under_error(s)]
    assert tk.traceql(spans, "{ status = error } >> { status = error }")["span_id"].tolist() == want
    assert len(want) >= 3


def test_real_otlp_links_and_events(real_traces):
    base = real_traces / "jaeger" / "integration-fixtures-traces"
    if not base.exists():
        pytest.skip(f"{base} not found")
    links = tk.read(base / "link_attributes_trace.json")
    got = tk.traceql(links, "{ link.sameplacelinkattribute2 = 123 }")
    want = [i for i, ls in zip(links.index, links["links"], strict=True)
            if any((lk.get("attributes") or {}).get("sameplacelinkattribute2") == 123 for lk in ls)]
    assert got.index.tolist() == want and want
    assert tk.traceql(links, '{ link:traceID = "000000000000000000000000000000ff" }').index.tolist() == want
    events = tk.read(base / "log_tags_trace.json")
    want = [i for i, es in zip(events.index, events["events"], strict=True)
            if any((e.get("attributes") or {}).get("sameplacetag4") is True for e in es)]
    assert tk.traceql(events, "{ event.sameplacetag4 = true }").index.tolist() == want and want
    ex = tk.read(base / "example_trace.json")
    want = ex.index[(ex["service"] == "example-service-1") & (ex["kind"] != "unspecified")].tolist()
    assert tk.traceql(ex, '{ resource.service.name = "example-service-1" && kind != unspecified }').index.tolist() == want


def test_bundled_example_filter_equals_pandas():
    for name in ("checkout-small", "checkout-small-otlp"):
        spans = tk.examples.load(name)
        got = tk.traceql(spans, '{ resource.service.name = "checkout" && duration > 100ms && status = error }')
        want = spans[(spans["service"] == "checkout") & (spans["duration_ms"] > 100) & (spans["status"] == "error")]
        assert got.index.tolist() == want.index.tolist()


def test_parse_is_cached_and_returns_the_tree():
    assert parse("{ .a = 1 }") is parse("{ .a = 1 }")


@pytest.mark.parametrize("query, words", [
    ("{ " + "!" * 3000 + "true }", "nested too deeply"),
    pytest.param(" >> ".join(["{ }"] * 1100), "nested too deeply", marks=pytest.mark.slow),  # ~6 s of Earley
    ("{ " + " || ".join(['.a = "x"'] * 1000) + " }", "at most 8,192"),
], ids=["3000 nots", "1100 structural", "10k chars"])
def test_hostile_queries_are_refused_not_crashed(query, words):
    with pytest.raises(TraceQLError, match=words):
        tk.traceql(SPANS, query)


def test_empty_frame_gives_empty_results():
    empty = tk.empty_spans()
    assert tk.traceql(empty, "{ } >> { status = error } | count() > 1").empty
    for q in ("{ } | rate()", "{ } | count_over_time() by (name)", "{ } | avg_over_time(duration)"):
        m = tk.traceql_metrics(empty, q)
        assert m.empty and list(m.columns)[0] == "time" and m.columns[-1] == "value"


@pytest.mark.parametrize(("query", "says"), [
    ('{ name = "\ud800" }', "lone surrogate (U+D800)"),  # the character itself (no UTF-8 text holds one)
    ('{ name = "\\ud800" }', r"escape \ud800 names no character"),  # Go's escape of one
    ('{ name = "\\U00110000" }', r"escape \U00110000 names no character"),
    ("{ } | count() > 2 ^ 70", "integer 2 ^ 70 is out of range"),
    ("{ } | count() > 2 ^ 999999999", "integer 2 ^ 999999999 is out of range"),  # refused before computing it
])
def test_queries_past_the_numbers_and_texts_tempo_can_hold_are_traceql_errors(query, says):
    """A lone surrogate reached pyarrow (UnicodeEncodeError); 2 ^ 99999 between constants raised OverflowError
    from Python's float power; 2 ^ 999999999 folded to a 125 MB integer first."""
    spans = tk.examples.load("checkout-small")
    with pytest.raises(tk.errors.TraceQLError, match=re.escape(says)):
        tk.traceql(spans, query)


def test_float_overflow_between_constants_is_infinite_as_in_go():
    spans = tk.examples.load("checkout-small")
    assert len(tk.traceql(spans, "{ 2 ^ 99999 > 1 }")) == len(spans)  # +Inf > 1
    assert len(tk.traceql(spans, "{ 10.0 ^ 400 < 0 }")) == 0
    assert len(tk.traceql(spans, "{ (-8) ^ 0.5 > 1 }")) == 0  # NaN compares false


def test_traceql_metrics_refuses_a_step_that_cuts_the_data_into_too_many_buckets():
    """step='1ns' over an hour of spans asked numpy for 5 TiB (MemoryError)."""
    from tracekit.analysis.traceql.metrics import MAX_BUCKETS

    spans = tk.examples.load("checkout-small")
    with pytest.raises(tk.ArgumentError, match=r"step '1ns' cuts the spans' 3,095 s into [\d,]+ buckets, more than "):
        tk.traceql_metrics(spans, "{ } | rate()", step="1ns")
    seconds = (spans["start"].max() - spans["start"].min()).total_seconds()
    assert seconds < MAX_BUCKETS and len(tk.traceql_metrics(spans, "{ } | rate()", step="1s")) >= seconds
