"""TraceQL review s40 (traceql2): the cost of parsing hostile queries (runs of ``^`` and of prefix ``!``/``-``) and
wrong answers of the evaluator on small frames built by construction; each test failed before its fix."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.traceql.parse import MAX_QUERY_DEPTH, parse

MS = 1_000_000
T1 = "1" * 32


def _spans(attrs: list[dict]) -> pd.DataFrame:
    """Root spans ``a``, ``b``, ... of one trace with these span attributes."""
    n = len(attrs)
    return tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [chr(ord("a") + i) * 16 for i in range(n)], "parent_id": [None] * n,
        "service": ["s"] * n, "name": ["op"] * n, "start": [0] * n, "end": [MS] * n, "attributes": attrs,
        "resource": [{} for _ in range(n)]})


def _ids(spans: pd.DataFrame, query: str) -> str:
    return "".join(s[0] for s in tk.traceql(spans, query)["span_id"])


# ------------------------------------------------------------------------------------------- parse cost

def _earley_items(query: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Earley items the parser makes for ``query``: its work, counted (not timed)."""
    from lark.parsers import earley_common

    from tracekit.analysis.traceql.grammar import parser

    made = [0]
    init = earley_common.Item.__init__

    def counting(self, *args, **kwargs):
        made[0] += 1
        init(self, *args, **kwargs)

    p = parser()
    monkeypatch.setattr(earley_common.Item, "__init__", counting)
    p.parse(query)
    monkeypatch.setattr(earley_common.Item, "__init__", init)
    return made[0]


@pytest.mark.parametrize("run", [
    lambda n: "{ span.n = " + " ^ ".join(["2"] * n) + " }",
    lambda n: "{ } | count() > " + " ^ ".join(["2"] * n),
], ids=["field", "scalar filter"])
def test_a_run_of_powers_parses_in_linear_work(run, monkeypatch):
    """``^`` was a right-recursive rule, which the Earley parser (no Leo items) parses in super-linear time: 400
    ``^`` took 11 s and the 2,000 of an 8 kB query 198 s before the depth check refused them (now 4.9 s, linear).
    Measured in Earley items: 80 ``^`` made 2.3 times the items of 40 (17,322) and more than a run of 80 ``+`` of
    the same length (14,557); now 1.8 times (8,170) and fewer than the ``+`` run."""
    plus = run(80).replace("^", "+")
    n40, n80, n_plus = (_earley_items(q, monkeypatch) for q in (run(40), run(80), plus))
    assert n80 < 2 * n40 and n80 <= n_plus
    # the run is still right-associative: 2 ^ 3 ^ 2 = 2 ^ 9, a minus before an operand negating the rest of the run
    spans = _spans([{"n": 512}, {"n": 64}, {"n": 0.5}, {"n": 2.0 ** -8}])
    assert _ids(spans, "{ span.n = 2 ^ 3 ^ 2 }") == "a"
    assert _ids(spans, "{ span.n = 2 ^ -1 ^ 3 }") == "c"  # 2 ^ -(1 ^ 3)
    assert _ids(spans, "{ span.n = 2 ^ -2 ^ 3 }") == "d"  # 2 ^ -(2 ^ 3)
    assert _ids(spans, "{ } | count() = 4 ^ 1 ^ 0") == "abcd"  # 4 ^ (1 ^ 0) = 4, where (4 ^ 1) ^ 0 = 1


@pytest.mark.parametrize("query, at", [
    ("{ " + "!" * 8000 + "true }", 2 + MAX_QUERY_DEPTH + 1),
    ("{ span.n = " + "- " * 4000 + "1 }", 11 + 2 * (MAX_QUERY_DEPTH + 1)),
    ("{ span.n = 1 " + "- " * 4000 + "1 }", 13 + 2 * (MAX_QUERY_DEPTH + 1)),  # the first '-' is binary
], ids=["8000 !", "4000 -", "binary - then 4000 -"])
def test_a_long_run_of_prefix_operators_is_refused_before_the_parse(query, at):
    """8,000 ``!`` took the Earley parse 8.8 s (4,000 ``- `` 5.0 s) before the depth check refused them, with no
    position; the lexer now finds the 402nd ``!``/``-`` in a row (one may be a binary minus, so 401 nest)."""
    with pytest.raises(tk.errors.TraceQLError, match="nested too deeply") as info:
        parse(query)
    assert info.value.position == at and query[at] in "!-"
    # 400 in a row are parsed and refused by the depth check as before; 200 are a query
    assert _ids(_spans([{"n": 1}]), "{ span.n = " + "-" * 200 + "1 }") == "a"


@pytest.mark.parametrize("query, token", [
    ("{ span.n = " + " ^ ".join(["2"] * 402) + " }", "2"),  # right-associative: the 401st level is deep in the run
    ("{ span.n = " + " + ".join(["1"] * 402) + " }", "1 + 1"),  # left-associative: the run's start
    ("{ " + "!" * 399 + "true }", "!"),
], ids=["402 ^", "402 +", "399 !"])
def test_a_query_refused_as_too_deep_after_the_parse_names_the_position(query, token):
    """The depth check after the parse named no position (and showed only the query's first 80 characters); it now
    points at the start of the part of the query that passes the 400th level."""
    with pytest.raises(tk.errors.TraceQLError, match=r"nested too deeply \(\d+ levels; at most 400\)") as info:
        parse(query)
    err = info.value
    assert err.position is not None and query[err.position:].startswith(token) and err.query == query


# ------------------------------------------------------------------------------------------- statusMessage

def test_a_span_with_no_status_message_has_the_empty_one():
    """Tempo keeps statusMessage as a plain string, "" on a span without one, and this parser refuses
    'statusMessage = nil' ("always has a value"); yet a span with no message answered no comparison: of 3 spans, one
    with "boom", '!= "boom"' found 0, '=~ ".*"' 1 and '!= nil' 1. Now 2, 3 and 3."""
    spans = _spans([{}, {}, {}])
    spans["status_message"] = pd.array([None, "boom", None], dtype=spans["status_message"].dtype)
    before = spans.copy()
    assert _ids(spans, '{ statusMessage != "boom" }') == "ac"
    assert _ids(spans, '{ statusMessage = "" }') == "ac"
    assert _ids(spans, '{ statusMessage =~ ".*" }') == "abc"
    assert _ids(spans, '{ statusMessage !~ "b.*" }') == "ac"
    assert _ids(spans, "{ statusMessage != nil }") == "abc"
    assert _ids(spans, '{ span:statusMessage = "boom" }') == "b"
    assert tk.traceql(spans, "{ } | select(statusMessage)")["statusMessage"].tolist() == ["", "boom", ""]
    pd.testing.assert_frame_equal(spans, before)  # the frame keeps its missing messages


# ------------------------------------------------------------------------------------------- by() keys

def test_by_groups_values_of_one_type_as_tempo_does():
    """Tempo's group key is a typed static: true, 1 and 1.0 are three groups. In Python True == 1 == 1.0, so
    by(span.b) put the three spans in one spanset and a metrics 'by (span.b)' counted 3 under the label True (and
    [True] with [1]). Now each value of one type is a group: 1 appears twice, every other value once."""
    spans = _spans([{"b": True}, {"b": 1}, {"b": 1.0}, {"b": "x"}, {"b": [True]}, {"b": [1]}, {}, {"b": 1}])
    got = tk.traceql(spans, "{ } | by(span.b)")
    assert got["spanset"].tolist() == [0, 1, 2, 3, 4, 5, 6, 1]
    assert _ids(spans, "{ } | by(span.b) | count() = 2") == "bh"
    m = tk.traceql_metrics(spans, "{ } | count_over_time() by (span.b)", step="1h")
    counts = {f"{type(k).__name__} {k!r}": v for k, v in zip(m["span.b"], m["value"], strict=True)}  # True != 1 here
    assert counts == {"bool True": 1, "int 1": 2, "float 1.0": 1, "str 'x'": 1, "tuple (True,)": 1, "tuple (1,)": 1,
                      "NoneType None": 1}
