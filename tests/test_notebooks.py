"""The committed notebooks: built by notebooks/build_notebooks.py, small, no widget state, no hard-coded conclusions.

(pytest --nbval-lax runs each of them top to bottom; this file checks what nbval cannot.)
"""

from __future__ import annotations

import importlib.util

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
