"""Result tables are declared as data (tracekit.core.results); the tables in docs/reference.md are generated from them.

Regenerate it after changing a declaration::

    python tests/test_result_tables.py --write
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- result-tables:start -->", "<!-- result-tables:end -->"


def _load_all() -> dict:
    import tracekit.analysis
    import tracekit.investigate

    for pkg in (tracekit.analysis, tracekit.investigate):  # investigate: rank_causes, peer_outliers declare tables
        for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(m.name)
    for m in ("tracekit.aws", "tracekit.reporting", "tracekit.widgets"):  # they declare tables too
        importlib.import_module(m)
    from tracekit.core import RESULT_TABLES

    return RESULT_TABLES


def _generated() -> str:
    from tracekit.core import results_markdown

    tables = _load_all()
    return f"{START}\n{results_markdown(sorted(tables))}{END}"


def test_every_analysis_declares_its_result_table():
    tables = _load_all()
    for name in ("trace_summary", "critical_path", "critical_path_breakdown", "health_report", "weighted_summary",
                 "detect_clock_skew", "diff_traces", "critical_path_tree", "what_if", "find_repeated_calls", "compare"):
        assert name in tables, f"{name} has no declared result table"
    for t in tables.values():
        assert t.columns and all(c.meaning for c in t.columns), t.name
        assert len(set(t.column_names)) == len(t.column_names), t.name


def test_structure_health_and_skew_return_their_declared_columns_and_dtypes():
    import tracekit as tk
    from tracekit.analysis.health import FINDING_TABLE
    from tracekit.analysis.skew import SKEW_TABLE
    from tracekit.analysis.structure import TRACE_SUMMARY

    spans = tk.examples.load("clock-skew-small")
    for df, table in ((tk.trace_summary(spans), TRACE_SUMMARY), (tk.detect_clock_skew(spans), SKEW_TABLE)):
        assert list(df.columns) == table.column_names
        assert [str(t) for t in df.dtypes] == [c.dtype for c in table.columns], table.name
    hr = tk.health_report(spans)
    assert list(hr.columns) == FINDING_TABLE.column_names and len(hr)
    from tracekit.analysis.repeated import REPEATED_CALLS  # declared since session 30 (undeclared before)

    for df in (tk.find_repeated_calls(tk.examples.load("checkout-small")), tk.find_repeated_calls(tk.empty_spans())):
        assert list(df.columns) == REPEATED_CALLS.column_names
        assert [str(t) for t in df.dtypes] == [c.dtype for c in REPEATED_CALLS.columns]
    from tracekit.analysis.comparison import COMPARE_TABLE  # Comparison.table: key columns, then the declared ones

    small = tk.examples.load("checkout-small")
    for by in ("service", ["service", "name"]):
        t = tk.compare(small, small.iloc[: len(small) // 2], by=by, n_boot=50).table
        keys = [by] if isinstance(by, str) else by
        assert list(t.columns) == [*keys, *COMPARE_TABLE.column_names]
        assert all(str(t[c.name].dtype) == c.dtype for c in COMPARE_TABLE.columns if c.dtype == "float64")


def test_rank_causes_with_logs_and_metrics_returns_its_declared_columns():
    """rank_causes' ten columns for logs and metrics (signals, decided_by, …) were in no table of reference.md."""
    import tracekit as tk
    from tracekit.investigate.causes import RANK_CAUSES, RANK_CAUSES_SIGNALS

    sig = REPO / "datasets" / "deploy-regression-signals"
    rc = tk.rank_causes(tk.read(REPO / "datasets" / "deploy-regression"), level="service", n_boot=1, lift_rows=0,
                        logs=tk.read_logs(sig / "logs.jsonl.gz"), metrics=tk.read_metrics(sig / "metrics.jsonl.gz"))
    assert list(rc.columns) == ["service", *RANK_CAUSES.column_names, *RANK_CAUSES_SIGNALS.column_names]
    tail = rc[RANK_CAUSES_SIGNALS.column_names]
    assert [str(t) for t in tail.dtypes] == [c.dtype for c in RANK_CAUSES_SIGNALS.columns]


DOC = REPO / "docs" / "reference.md"


def test_docs_tables_are_generated_from_the_declarations():
    text = DOC.read_text()
    m = re.search(re.escape(START) + ".*?" + re.escape(END), text, flags=re.S)
    assert m, f"{DOC} has no generated result-tables block"
    assert m.group(0) == _generated(), "docs/reference.md is stale: run python tests/test_result_tables.py --write"
    assert "docs/reference.md" in (REPO / "README.md").read_text(), "README links the result tables"


if __name__ == "__main__" and "--write" in sys.argv:
    sys.path.insert(0, str(REPO))
    text = DOC.read_text()
    new = _generated()
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: new, text, flags=re.S) if START in text else text + "\n" + new + "\n"
    DOC.write_text(text)
