"""Every plot_* figure, drawn from the bundled db-lock incident, has a title and titled axes (issue 16).

The figures are built once per module from finished analysis results, as the report builds them; the
test iterates every public ``plot_*`` of the figure modules, so a new figure without a case fails here.
"""

from __future__ import annotations

import inspect

import pytest

import tracekit as tk
import tracekit.plotting as plotting
import tracekit.plotting.flame as plotting_flame

from .browser import open_html
from .conftest import read_dataset

pytestmark = pytest.mark.slow  # every test shares a module fixture that draws every figure (21 s on 2 loaded cores)


def _cases() -> dict:
    inc = read_dataset("checkout-incident")
    base = read_dataset("checkout-baseline")
    slow = inc[inc["name"] == "SELECT orders"].sort_values("duration_ms")["trace_id"]
    tid, tid_fast = str(slow.iloc[-1]), str(slow.iloc[0])
    cp = tk.critical_path(inc)
    cpb = tk.critical_path(base)
    sel = set(inc.loc[inc["duration_ms"] > 300, "trace_id"].astype(str))
    return {
        "plot_waterfall": tk.plot_waterfall(inc, tid, critical_path=True),
        "plot_latency": tk.plot_latency(inc, by="service"),
        "plot_latency_ecdf": tk.plot_latency_ecdf(inc, base),
        "plot_critical_path_breakdown": tk.plot_critical_path_breakdown(tk.critical_path_breakdown(cp, spans=inc)),
        "plot_service_graph": tk.plot_service_graph(tk.service_graph(inc), baseline=tk.service_graph(base)),
        "plot_compare": tk.plot_compare(tk.compare(inc, base, n_boot=20)),
        "plot_bubble_up": tk.plot_bubble_up(tk.bubble_up(inc, sorted(sel))),
        "plot_timeline": tk.plot_timeline(inc, "1min", by="service", baseline=base),
        "plot_heatmap": tk.plot_heatmap(inc),
        "plot_flame": tk.plot_flame(tk.critical_path_tree(cp, spans=inc)),
        "plot_flame_diff": tk.plot_flame_diff(tk.critical_path_tree_diff(cp, cpb, spans_a=inc, spans_b=base, n_boot=0)),
        "plot_trace_diff": tk.plot_trace_diff(tk.diff_traces(inc, tid_fast, tid)),
    }


@pytest.fixture(scope="module")
def figures() -> dict:
    return _cases()


def _text(t) -> str:
    return (getattr(t, "text", None) or "") if t is not None else ""


def _axes(fig) -> list[tuple[str, object]]:
    """The cartesian axes that some trace draws on (layout names xaxis, xaxis2, …, yaxis…)."""
    used = set()
    for t in fig.data:
        if t.type in ("icicle", "treemap", "sunburst", "pie"):
            continue
        used.add("xaxis" + (t.xaxis or "x")[1:])
        used.add("yaxis" + (t.yaxis or "y")[1:])
    return [(k, fig.layout[k]) for k in sorted(used)]


@pytest.mark.slow  # 5.1 s in the fast lane (2 loaded cores, issue 28)
def test_every_public_figure_function_has_a_case(figures):
    # every plot_* of the plotting package (its modules re-export into tracekit.plotting), but the canvas
    # renderer, which returns an HTML page, not a figure
    public = {n for mod in (plotting, plotting_flame) for n, f in inspect.getmembers(mod, inspect.isfunction)
              if n.startswith("plot_") and f.__module__.startswith("tracekit.plotting")
              and f.__module__ != "tracekit.plotting.gl"}
    assert public == set(figures)


def test_every_figure_has_a_title_and_axis_titles(figures):
    problems = []
    for name, fig in figures.items():
        if not _text(fig.layout.title).strip():
            problems.append(f"{name}: no title")
        for key, ax in _axes(fig):
            if ax.visible is False:
                continue
            # a subplot axis sharing its x with the one below shows no ticks and needs no title of its own
            if key.startswith("xaxis") and ax.showticklabels is False:
                continue
            if not _text(ax.title).strip():
                problems.append(f"{name}: {key} has no title")
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_titles_survive_write_html_in_chromium(figures, tmp_path):
    probe = """() => {
      const gd = document.querySelector('.js-plotly-plot');
      const t = s => Array.from(gd.querySelectorAll(s)).map(e => e.textContent.trim()).filter(x => x);
      return {title: t('.gtitle'), x: t('.xtitle'), y: t('.ytitle')};
    }"""
    for name in ("plot_waterfall", "plot_latency_ecdf", "plot_service_graph", "plot_critical_path_breakdown"):
        path = tmp_path / f"{name}.html"
        figures[name].write_html(path, include_plotlyjs=True)
        page = open_html(path, wait_for=".js-plotly-plot .gtitle", evaluate=probe)
        assert page.errors == [], name
        assert page.value["title"], name
        if name != "plot_service_graph":
            assert page.value["x"] and page.value["y"], (name, page.value)
