"""Lead's fixes, session 44: each test was shown failing on the old code unless its docstring says control."""
from __future__ import annotations

import pandas as pd

import tracekit as tk
from tracekit.cli_query import format_matches


def _twice() -> pd.DataFrame:
    """One trace of 3 spans, the child 'b' exported twice (4 rows)."""
    t = "0" * 31 + "1"
    return tk.spans_from_columns({
        "trace_id": [t] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "b" * 16],
        "parent_id": [None, "a" * 16, "a" * 16, "a" * 16], "service": ["web", "db", "db", "db"],
        "name": ["GET /", "q", "r", "q"], "start": [0, 1, 5, 1], "end": [10, 4, 8, 4]})


def test_query_header_counts_spans_not_rows():
    """`tracekit query` printed "(of 1 trace, 4 spans)" for 3 spans, one exported twice: the header counted rows
    while the query itself counts the kernel's one copy. Now 3."""
    spans = _twice()
    head = format_matches(spans, tk.traceql(spans, "{ }"), limit=5).splitlines()[0]
    assert head.startswith("1 trace, 3 spans matched (of 1 trace, 3 spans)"), head


def test_query_header_on_distinct_spans_is_unchanged():
    """Control: without copies the header's count is the row count."""
    spans = _twice().iloc[:3]
    head = format_matches(spans, tk.traceql(spans, '{ name = "q" }'), limit=5).splitlines()[0]
    assert head.startswith("1 trace, 1 span matched (of 1 trace, 3 spans)"), head
