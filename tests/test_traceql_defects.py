"""TraceQL defects found in review (session s31, /tmp/tk/s31/query_review/REPORT.md), each pinned by a test that
failed before its fix: fractional durations (D7), parent cycles under ``<<`` (D3), structural operators after
``by()`` (D1), negated operators with an empty left side (D2, kept: Tempo's engine does the same)."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk
from tracekit.analysis.traceql import parse
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
