"""benchmarks/bench_analyses.py: the generator's table (one row per analysis, finite ratios) and the docs block."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_analyses", ROOT / "benchmarks" / "bench_analyses.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclass looks its module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny(bench, tmp_path_factory):
    # no gc.collect + malloc_trim before each of the 26 measurements (they cost 2.9 s CPU per 30 in a fresh process,
    # more with every object a worker holds; the fixture took 25-60 s in pytest workers late in the suite against
    # 6-11 s alone): the test checks the table, not the figures
    return bench.run(400, tmp_path_factory.mktemp("bench"), trim=False)


@pytest.mark.slow  # 10.6 s wall for 400 spans on the loaded 2-core machine (imports and the simulator, not the rows)
def test_one_row_per_analysis_with_finite_ratios(bench, tiny):
    facts, rows = tiny
    names = [r["analysis"] for r in rows]
    assert names == ["read (reference)"] + [name for name, _, _ in bench.ANALYSES]
    assert len(set(names)) == len(names)
    assert rows[0]["ratio"] == 1.0 and rows[0]["cpu_s"] > 0
    for r in rows:
        assert math.isfinite(r["ratio"]) and r["ratio"] >= 0, r
        assert math.isfinite(r["cpu_s"]) and r["cpu_s"] >= 0, r
        assert math.isclose(r["ratio"], r["cpu_s"] / rows[0]["cpu_s"]) or r is rows[0]
    # the analyses the brief lists are all measured
    for needed in ("trace_summary", "health_report", "critical_path", "critical_path_breakdown", "service_graph",
                   "compare", "find_repeated_calls", "timeline", "detect_changes", "rank_causes", "bubble_up",
                   "sampling_weights", "weighted_summary", "critical_path_tree", "what_if", "stitch", "error_origins",
                   "top_exceptions", "traceql filter", "write_parquet", "read_parquet"):
        assert needed in names
    assert facts["spans"] > 0 and facts["traces"] > 0 and facts["baseline_spans"] > 0


def test_rendered_block_parses_back_and_replaces_only_the_block(bench, tmp_path):
    facts = {"spans": 12_345, "traces": 600, "baseline_spans": 6_000, "json_mib": 7.5, "load_before": (1.0, 2.0, 3.0),
             "load_after": (1.5, 2.5, 3.5), "cpus": 2, "date": "2026-11-23 17:00 UTC", "python": "3.11",
             "pandas": "3", "commit": "abc1234", "requested": 12_000}
    rows = [{"analysis": "read (reference)", "call": "tk.read(x)", "cpu_s": 2.0, "ratio": 1.0, "peak_mib": 300.4},
            {"analysis": "traceql structural", "call": "traceql(spans, '{ a } >> { b }') | 'x'", "cpu_s": 0.25,
             "ratio": 0.125, "peak_mib": math.nan},
            {"analysis": "compare", "call": "compare(spans, baseline)", "cpu_s": 3.0, "ratio": 1.5, "peak_mib": 1234.0}]
    block = bench.render(facts, rows, note="a | pipe in a note")
    parsed = bench.parse_block(block)
    assert [r["analysis"] for r in parsed] == [r["analysis"] for r in rows]
    assert [r["call"] for r in parsed] == [r["call"] for r in rows]  # '|' inside a call survives the table
    for got, want in zip(parsed, rows, strict=True):
        assert got["ratio"] == pytest.approx(want["ratio"], abs=5e-4)
        assert math.isnan(got["peak_mib"]) if math.isnan(want["peak_mib"]) else got["peak_mib"] == pytest.approx(
            want["peak_mib"], abs=0.5)
    assert f"{facts['spans']:,} spans" in block and facts["date"] in block and "load average" in block
    doc = tmp_path / "doc.md"
    doc.write_text(f"# title\n\nprose\n\n{bench.BEGIN}\nold\n{bench.END}\n\ntail\n")
    bench.write_doc(block, doc)
    text = doc.read_text()
    assert text.startswith("# title\n\nprose\n\n") and text.endswith("\n\ntail\n") and "old" not in text
    assert len(bench.parse_block(text)) == len(rows)
    with pytest.raises(ValueError, match="no generated block"):
        bench.parse_block("no markers here")


def test_the_committed_doc_block_parses(bench):
    doc = (ROOT / "docs" / "analyses-at-scale.md").read_text()
    rows = bench.parse_block(doc)
    if rows:  # generated: one row per analysis, finite ratios, the read as the reference
        assert [r["analysis"] for r in rows] == ["read (reference)"] + [name for name, _, _ in bench.ANALYSES]
        assert rows[0]["ratio"] == 1.0 and all(math.isfinite(r["ratio"]) for r in rows)
    assert "analyses-at-scale.md" in (ROOT / "docs" / "benchmarks.md").read_text()
