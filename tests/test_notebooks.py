"""The committed notebooks: built by notebooks/build_notebooks.py, small, no widget state, no hard-coded conclusions.

(pytest --nbval-lax runs each of them top to bottom; this file checks what nbval cannot.)
"""

from __future__ import annotations

import importlib.util
import json
import re

import nbformat
import pytest

import tracekit as tk

from .conftest import REPO

NOTEBOOKS = REPO / "notebooks"


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS / "build_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BUILDER = _builder()


@pytest.mark.parametrize("name", list(BUILDER.NOTEBOOKS))
def test_committed_notebook_is_the_built_one(name):
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    built = BUILDER.NOTEBOOKS[name]
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in built.cells], (
        f"notebooks/{name}.ipynb differs from build_notebooks.py: run python notebooks/build_notebooks.py notebooks {name[:2]}")


@pytest.mark.parametrize("name", list(BUILDER.NOTEBOOKS))
def test_committed_notebook_is_small_and_stores_no_widget_or_figure(name):
    path = NOTEBOOKS / f"{name}.ipynb"
    assert path.stat().st_size < 1_000_000
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata  # widget state: megabytes, blank outside a live kernel
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert not any(m in out.get("data", {}) for m in BUILDER.DROP_MIMETYPES), (name, cell.source[:60])


def test_builder_keeps_text_and_drops_figures_and_widgets():
    text = nbformat.v4.new_output("stream", name="stdout", text="12 requests")
    table = nbformat.v4.new_output("execute_result", data={"text/html": "<table></table>", "text/plain": "x"})
    fig = nbformat.v4.new_output("display_data", data={"application/vnd.plotly.v1+json": {}, "text/html": "<div>"})
    loader = nbformat.v4.new_output("display_data", data={"text/html": "<script>/* plotly.js */</script>"})
    widget = nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {}})
    assert [BUILDER.keep(o) for o in (text, table, fig, loader, widget)] == [True, True, False, False, False]


# what the bundled data's ground truth says; a template computes these, it never writes them down
TRUTH_WORDS = {
    "01-postmortem": ["orders", "orders-db", "14:27", "14:36", "checkout ·", "+25", "payments"],
    "02-exploratory-performance": ["risk-score", "1.5.0", "1.4.2", "14:30", "payments", "catalog"],
}


@pytest.mark.parametrize("name", list(TRUTH_WORDS))
def test_templates_compute_their_conclusions(name):
    """Code cells before the ground-truth check name no result: every sentence is computed from the data."""
    cells = BUILDER.NOTEBOOKS[name].cells
    check = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and "ground truth" in c.source)
    code = "\n".join(c.source for c in cells[:check] if c.cell_type == "code")
    assert "say(" in code or "print(f" in code
    assert [w for w in TRUTH_WORDS[name] if w in code] == []
    assert "truth" in "".join(c.source for c in cells[check:])  # and the check cell compares with the truth


def test_percentile_window_in_fractions_is_refused():
    """Notebook 02 once passed (0.95, 1.0) where percents are meant and showed NaN; now a clear error."""
    spans = tk.examples.load("deploy-small")
    cp = tk.critical_path(spans)
    with pytest.raises(tk.ArgumentError, match=r"in percent.*\(95, 100\)"):
        tk.critical_path_breakdown(cp, by="service", spans=spans, percentile_window=(0.95, 1.0))
    slowest = tk.critical_path_breakdown(cp, by="service", spans=spans, percentile_window=(95, 100))
    n = spans["trace_id"].nunique()
    assert 1 <= slowest.attrs["traces"] <= max(1, round(0.05 * n) + 1)  # the slowest 5 %, not NaN
    assert slowest["share"].notna().all() and abs(slowest["share"].sum() - 1) < 1e-9


# --------------------------------------------------------------------------------------------------
# what the committed notebooks print, read as a reader reads it, against numbers computed from the data


def _outputs(name: str) -> list[str]:
    """Each code cell's stored text (printed lines and plain-text results), in order."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    out = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        parts = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                parts.append(o["text"])
            elif "text/plain" in o.get("data", {}):
                parts.append(o["data"]["text/plain"])
        out.append("".join(parts))
    return out


def _printed(name: str, start: str) -> str:
    """The stored output of the code cell whose printed text has a line beginning with ``start``."""
    hits = [o for o in _outputs(name) if any(line.startswith(start) for line in o.splitlines())]
    assert len(hits) == 1, f"{name}: {len(hits)} cells print a line beginning {start!r}"
    return hits[0]


@pytest.mark.parametrize("name", list(BUILDER.NOTEBOOKS))
def test_stored_tables_are_rounded_for_reading(name):
    """A stored table with 0.287500, 60.274175 or 78188.322 (01's health shares, 02's compare table) is read digit
    by digit: every number a notebook prints has at most 3 decimals, and no object repr stands in for a table."""
    for text in _outputs(name):
        # (a time's seconds may have them, and a sum of dollars under a cent: $0.0014)
        # (nor a p-value's two significant digits: "p ≤ 0.0025", core.p_value_text)
        assert not re.search(r"(?<![\d:$])(?<!p ≤ )(?<!p = )\d+\.\d{4,}\b", text), text[:400]
        assert "object at 0x" not in text and "Styler at" not in text, text[:200]


@pytest.mark.parametrize("name", list(BUILDER.NOTEBOOKS))
def test_stored_outputs_hold_no_warning(name):
    """02 stored "UserWarning: obj.round has no effect with datetime" under its version table (a frame with
    first_seen rounded whole): a reader sees the library complain about the notebook's own code."""
    nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            text = o.get("text", "") if o.get("output_type") == "stream" else ""
            text = "".join(text) if isinstance(text, list) else text
            assert o.get("name") != "stderr" or not re.search(r"\w+Warning\b", text), text[:300]
            assert o.get("output_type") != "error", o.get("ename")


@pytest.fixture(scope="module")
def checkout_window():
    """Notebook 01's window and its like-with-like baseline minutes, computed as its cells compute them."""
    spans, baseline = tk.read(REPO / "datasets/checkout-incident"), tk.read(REPO / "datasets/checkout-baseline")
    split = tk.split_by_change(spans, tk.detect_changes(spans, by="service"))
    normal = tk.split_by_change(baseline, (split.onset, split.recovery)).incident
    return spans, split.incident, normal


def test_01_critical_path_table_shows_the_biggest_services(checkout_window):
    """Sorted by the change alone, the unchanged services came in table order: payments, the window's second
    largest part of request time, was not among the eight rows shown."""
    _, during, _ = checkout_window
    bd = tk.critical_path_breakdown(tk.critical_path(during), by="service").sort_values("mean_ms", ascending=False)
    text = _printed("01-postmortem", "Critical path:")
    table = text.split("\n", 1)[1]
    for service in bd["service"].head(3):
        assert re.search(rf"\b{re.escape(service)}\b", table), (service, table)
    top_delta = bd["service"].iloc[0]
    n_in = during.loc[during["service"] == top_delta, "trace_id"].nunique()
    assert f"all {during['trace_id'].nunique():,} requests of the window ({n_in:,} of them reach {top_delta}" in text


def test_01_who_names_how_many_normal_requests_pass_the_same_line(checkout_window):
    _, during, normal = checkout_window
    req_d, req_n = tk.trace_summary(during), tk.trace_summary(normal)
    p95 = tk.core.percentile(req_n["request_ms"], 0.95)
    hurt, usual = int((req_d["request_ms"] > p95).sum()), int((req_n["request_ms"] > p95).sum())
    text = _printed("01-postmortem", "Who:")
    assert f"Who: {hurt:,} of {len(req_d):,} requests" in text
    assert f"against {usual:,} of {len(req_n):,} ({usual / len(req_n):.0%})" in text


def test_01_exemplar_says_what_its_critical_path_holds(checkout_window):
    """The slowest request of the window is slow for two reasons (orders-db and a failed, retried card charge):
    the sentence names its largest critical-path operations, so the reader does not take it for the pure case."""
    spans, during, _ = checkout_window
    w0 = tk.trace_summary(during).sort_values("request_ms", ascending=False).iloc[0]
    cp = tk.critical_path(spans[spans["trace_id"] == w0["trace_id"]])
    top = cp.groupby(["service", "name"], as_index=False)["duration_ms"].sum().nlargest(3, "duration_ms")
    text = _printed("01-postmortem", "Exemplar:")
    assert w0["trace_id"] in text
    for r in top.itertuples():
        assert f"{r.service} · {r.name} {r.duration_ms:,.0f} ms" in text


def _cells_of(name: str, upto: str) -> str:
    """The code of a notebook's code cells up to and including the first one containing ``upto``."""
    code = []
    for cell in (c for c in BUILDER.NOTEBOOKS[name].cells if c.cell_type == "code"):
        code.append(cell.source)
        if upto in cell.source:
            return "\n".join(code)
    raise AssertionError(f"{name}: no code cell contains {upto!r}")


def test_03_every_xray_rule_matches_requests():
    """The rule meant for checkout matched '/api/checkout*', a path no request of the population has: all 3,000
    went to Default, and the table compared a sampler that did not exist."""
    ns: dict = {}
    exec(compile(_cells_of("03-sampling-bias", "matched = "), "03-sampling-bias", "exec"), ns)  # noqa: S102
    matched, rules = ns["matched"], ns["rules"]
    assert all(int(matched.get(r["RuleName"], 0)) > 0 for r in rules), matched.to_dict()
    text = _printed("03-sampling-bias", "Requests matched per rule:")
    assert all(f"{r['RuleName']} {int(matched[r['RuleName']]):,}" in text for r in rules)
    # the comparison says how many failed requests each sampler keeps, from the same population
    n_failed = int(tk.trace_summary(ns["population"])["failed"].sum())
    assert f"failed kept (of {n_failed})" in _printed("03-sampling-bias", "Of ")
    kept_failed = int(tk.trace_summary(ns["sample"])["failed"].sum())
    noun = "failed request" if kept_failed == 1 else "failed requests"
    assert f"rests on {kept_failed:,} {noun} kept of {n_failed:,}" in _printed("03-sampling-bias", "The sample as is")


def test_05_says_which_minutes_and_whose_metric(real_traces):
    """Notebook 05 called its baseline 'the 10 minutes before' (trace files exist for 4 of them), drew the top
    metric of the 11th-ranked service under a markdown naming the first, and showed an example trace without a single
    ERROR record under 'ERROR records mark their spans'."""
    import pandas as pd

    day = real_traces / "nezha" / "fault-days" / "rca_data" / "2023-01-29" / "trace"
    t0 = pd.Timestamp("2023-01-29 09:12:56", tz="UTC")
    held = [pd.Timestamp(f"2023-01-29 {p.name[:5].replace('_', ':')}", tz="UTC") for p in day.glob("*_trace.csv.gz")]
    before = sorted(m for m in held if t0 - pd.Timedelta("10min") < m + pd.Timedelta("1min") and m < t0)
    text = _printed("05-logs-and-metrics", "incident:")
    spanned = 11  # the minutes a 10-minute window ending at 09:12:56 overlaps: 09:02 .. 09:12
    assert (f"from the trace files of {len(before)} of the {spanned} minutes it overlaps "
            f"({', '.join(f'{m:%H:%M}' for m in before)})") in text
    drawn = _printed("05-logs-and-metrics", "The top metric of")
    assert re.search(r"drawn: \S+ of \S+ \(ranked \d+\)", drawn)
    shown = _printed("05-logs-and-metrics", "trace ")
    n_err = int(re.search(r"(\d+) of them ERROR", shown).group(1))
    assert n_err > 0 and "(on " in shown
