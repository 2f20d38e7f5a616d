"""TraceQL review s43 (traceql): the cost of parsing long spanset queries, and answers of the evaluator on small
frames built by construction. Each test failed before its fix unless its docstring calls it a control."""

from __future__ import annotations

import sys
import time

import pytest

import tracekit as tk
import tracekit.analysis.traceql.parse  # noqa: F401  (the module, which the package shadows with its function)

parse_mod = sys.modules["tracekit.analysis.traceql.parse"]
MS = 1_000_000
T1 = "1" * 32


def _chain(n: int, tag: str) -> str:
    """``{ .k = "<tag>0" } || { .k = "<tag>1" } || ...``: n spansets joined, a query of ~22 n characters."""
    return " || ".join(f'{{ .k = "{tag}{i}" }}' for i in range(n))


class _Counting:
    """The Earley parser, counting its parses (its lexer, used by the prefix-run check, passed through)."""

    def __init__(self, real):
        self.real, self.parses = real, 0

    def parse(self, text):
        self.parses += 1
        return self.real.parse(text)

    def lex(self, text):
        return self.real.lex(text)


def test_a_long_spanset_query_is_parsed_without_earley(monkeypatch):
    """An 8 kB spanset query went through lark's Earley parser, linear but ~1.5 ms a token: 1.3 to 3 s for 8 kB of
    ``||``/``&&``/``|`` on this machine (5 s reported). Spanset queries now go through an LALR parser of the same
    rules (0.05 to 0.1 s); Earley parses only what that one cannot read (metrics queries, syntax errors)."""
    from tracekit.analysis.traceql import grammar

    earley = _Counting(grammar.parser())
    monkeypatch.setattr(parse_mod, "parser", lambda: earley)
    q = _chain(360, "long")
    assert 7000 < len(q) <= parse_mod.MAX_QUERY_CHARS
    t0 = time.perf_counter()
    got = parse_mod.parse(q)
    took = time.perf_counter() - t0
    assert earley.parses == 0
    assert took < 1.0, f"{took:.2f} s to parse {len(q):,} characters"
    # the answer by construction: 360 spans, one per tag value, and 10 others; the chain keeps exactly the 360
    n = 370
    spans = tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [f"{i:016x}" for i in range(n)], "parent_id": [None] * n,
        "service": ["s"] * n, "name": ["op"] * n, "start": [0] * n, "end": [MS] * n,
        "attributes": [{"k": f"long{i}" if i < 360 else f"other{i}"} for i in range(n)],
        "resource": [{} for _ in range(n)]})
    out = tk.traceql(spans, got)
    assert list(out["span_id"]) == [f"{i:016x}" for i in range(360)]


QUERIES = [
    "{ }", "{ true }", '{ .a = "x" && span.b > 3 || resource.c =~ "a.*" }', "{ -2 ^ 2 = -4 }",
    "{ 2 ^ -1 ^ 2 > 0 }", "{ !(.a = 1) && !.b }", "{ .a - -1 * 3 % 2 = 0 }", "{ duration > 1h30m || .x != nil }",
    '{ } > { } >> { } !< { } &~ { } && { } || { }', "({ } > { }) && ({ status = error } | count() > 1)",
    "{ } | count() > 2 | avg(duration) < 2 * 3ms", "{ } | 2 < count()", "{ } | -count() > -3",
    "{ } | by(resource.service.name) | count() > 1 | coalesce()", "{ } | select(span.a, .b, duration, name)",
    '{ span."a b" = `raw` && ."x\\"y" = "\\u00e9" }', "{ kind = server && status != unset } | max(.n) >= 1.5e3",
    "{ trace:rootService = \"s\" && span:name != \"x\" && event:name = \"e\" }", "{ .a } with(most_recent=true)",
    "{ nestedSetParent = -1 } ~ { childCount > 0 }", "{ .a = 1 } | sum(.a + 1) = 2 | min(.a) < 0 | count() = 1",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_lalr_tree_is_the_earley_tree(query):
    """Control of the change above (it fails on the old code only as an ImportError: there was no LALR parser): for
    each query the LALR parser reads, its tree is the Earley parser's, rule for rule, token for token, with the same
    positions (which error messages quote). The same check passed on the 853 distinct queries the traceql tests and
    Tempo's test_examples.yaml parse (263 more, metrics queries and syntax errors, fall back to Earley)."""
    from tracekit.analysis.traceql.grammar import fast_parser, parser

    def shape(x):
        if hasattr(x, "children"):
            m = x.meta
            where = None if m.empty else (m.start_pos, m.end_pos, m.line, m.column, m.end_line, m.end_column)
            return x.data, where, tuple(shape(c) for c in x.children)
        return x.type, str(x), x.start_pos, x.end_pos, x.line, x.column

    assert shape(fast_parser().parse(query)) == shape(parser().parse(query))
