"""Session 45, lead: one count of spans (spans, not rows) said everywhere.

A span exported twice is one span (the kernel tree's copy). The report's header, ``tracekit query``'s header, a
big trace's canvas title and the service graph's scope each counted that by hand; they now take
:func:`tracekit.core.tree.span_count`, and this file pins that they agree with it and with a count built by
construction (the frame without its copies).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.graph import graph_scope
from tracekit.cli_query import format_matches
from tracekit.core.tree import span_count
from tracekit.reporting import collect_report

ROOT = Path(__file__).resolve().parents[1]


def _with_copies(seed: int = 0) -> tuple[pd.DataFrame, int]:
    spans = tk.examples.load("checkout-small")
    rng = np.random.default_rng(seed)
    again = spans.iloc[np.sort(rng.choice(len(spans), 25, replace=False))]
    return pd.concat([spans, again], ignore_index=True), len(spans)


def test_span_count_is_spans_not_rows() -> None:
    twice, n = _with_copies()
    assert len(twice) == n + 25
    assert span_count(twice) == n
    first = (twice["trace_id"] == twice["trace_id"].iloc[0]).to_numpy()
    assert span_count(twice, first) == int((tk.examples.load("checkout-small")["trace_id"] == twice["trace_id"].iloc[0]).sum())
    assert span_count(twice.iloc[:0]) == 0


def test_every_header_counts_what_span_count_counts() -> None:
    twice, n = _with_copies(1)
    assert collect_report(twice).counts["spans"] == n
    head = format_matches(twice, twice.iloc[:1], limit=1).splitlines()[0]
    assert re.search(rf"of \d+ traces, {n:,} spans\)", head), head
    assert graph_scope(twice)["spans"] == n


def test_no_module_counts_copies_by_hand() -> None:
    """The count is written once, in core/tree.py: a hand-written ``(~...duplicate).sum()`` elsewhere drifts."""
    pattern = re.compile(r"~\s*[\w.]*(?:\([^)]*\))?\.duplicate\)\.sum\(\)")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "tracekit").rglob("*.py")) if p.name != "tree.py"
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == []


def test_high_cardinality_ratio_counts_spans_not_copies() -> None:
    """Every span exported twice halved a key's distinct values per span (0.6 read 0.3): the key was not flagged at
    ``cardinality_min_ratio=0.5``, while the same spans read once were. Now the same finding either way."""
    spans = tk.simulate.simulate("baseline", 40, seed=3).spans
    ids = np.arange(len(spans))
    attrs = [{**(a if isinstance(a, dict) else {}), "req.id": f"r{i % int(len(spans) * 0.6)}"}
             for a, i in zip(spans["attributes"], ids, strict=True)]
    once = spans.assign(attributes=attrs)
    twice = pd.concat([once, once], ignore_index=True)
    opts = {"cardinality_min_distinct": 20, "cardinality_min_ratio": 0.5}

    def flagged(frame: pd.DataFrame) -> pd.DataFrame:
        h = tk.health_report(frame, checks=["high_cardinality_attribute"], **opts)
        return h[(h["check"] == "high_cardinality_attribute") & (h["subject"] == "req.id")]

    a, b = flagged(once), flagged(twice)
    assert len(a) == 1
    assert len(b) == 1
    assert b["explanation"].iloc[0] == a["explanation"].iloc[0]


def test_logs_or_metrics_given_as_traces_say_where_they_go(tmp_path: Path) -> None:
    """A folder of logs and metrics handed over as the traces said "none of them traces" and no more: the error now
    names the readers (and the report's options) that take them; a metrics-only file names metrics alone."""
    import pytest

    from tracekit.errors import TraceFormatError

    both = ROOT / "datasets" / "deploy-regression-signals"
    with pytest.raises(TraceFormatError) as e:
        tk.read(both)
    msg = str(e.value)
    assert "none of them traces" in msg
    assert "tk.read_logs (tracekit report --logs)" in msg and "tk.read_metrics (tracekit report --metrics)" in msg
    only = tmp_path / "m.json"
    only.write_text('{"resourceMetrics": []}\n', encoding="utf-8")
    with pytest.raises(TraceFormatError) as e:
        tk.read(only)
    assert "tk.read_metrics" in str(e.value) and "read_logs" not in str(e.value)
    assert str(only) in str(e.value)


def test_a_caller_whose_spans_make_a_new_call_is_not_said_unchanged() -> None:
    """deploy-regression: payments 1.5.0 adds a GET /v1/risk-score call to every POST /api/charge span (the truth
    file). The new call's evidence is ranked at its own operation; the caller's row said "nothing in its spans'
    timing, calls or errors differs clearly" with delta_fanout +1.0, and the report repeated it where logs ranked it
    first. Control: an operation whose calls did not change keeps the old words."""
    spans = tk.read(ROOT / "datasets" / "deploy-regression")
    rc = tk.rank_causes(spans, level="operation")
    row = rc[(rc["service"] == "payments") & (rc["name"] == "POST /api/charge")].iloc[0]
    assert row["delta_fanout"] >= 0.9
    hyp = row["hypothesis"]
    assert "calls or errors differs" not in hyp
    assert "1.0 more direct calls on average than the baseline's" in hyp
    same = rc[(rc["delta_fanout"].abs() < 0.1) & (rc["score"] <= 0.05)]
    assert len(same) and same["hypothesis"].str.contains("nothing in its spans' timing, calls or errors").all()


def test_traceql_span_attribute_reads_xray_default_metadata() -> None:
    """The AWS X-Ray exporters put every attribute not indexed as an annotation under metadata's default namespace:
    '{ span.http.route != nil }' found 0 of checkout-incident's 29,596 spans (found by the traceql2 reviewer); it now
    finds every span whose metadata.default holds http.route, counted here by hand. A span's own attribute still
    comes first (the control below)."""
    spans = tk.read(ROOT / "datasets" / "checkout-incident")

    def route(a: object) -> object:
        md = a.get("metadata.default") if isinstance(a, dict) else None
        return md.get("http.route") if isinstance(md, dict) else None

    want = [route(a) for a in spans["attributes"]]
    n = sum(r is not None for r in want)
    assert n > 1000
    assert len(tk.traceql(spans, "{ span.http.route != nil }")) == n
    cart = sum(r == "/api/cart/{cart_id}" for r in want)
    assert 0 < cart < n
    assert len(tk.traceql(spans, '{ span.http.route = "/api/cart/{cart_id}" }')) == cart
    # control: an attribute of the span's own is read before the metadata's
    own = spans.assign(attributes=[{**a, "http.route": "own"} if route(a) is not None else a for a in spans["attributes"]])
    assert len(tk.traceql(own, '{ span.http.route = "own" }')) == n
