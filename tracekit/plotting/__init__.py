"""Figures of an investigation: ``plot_*`` functions that return plotly Figures.

Every function takes data (a spans DataFrame or an analysis result), renders it and returns a
:class:`plotly.graph_objects.Figure`; none calls ``.show()``. Every figure can be written as one
self-contained HTML file (``fig.write_html(path, include_plotlyjs=True)``), which needs no
network. Everything taken from a trace (service and span names, attribute values) is
HTML-escaped before it reaches plotly, whose text fields accept a subset of HTML.

The data steps live beside their analyses (:func:`tracekit.waterfall_data`,
:func:`tracekit.critical_path_breakdown`, :func:`tracekit.service_graph`); the figures here only
render. Colours are per service and stable: :func:`service_colors` hashes each service name onto a
fixed palette, so one service has the same colour in every figure, whatever else is in the data.

One module per figure family: :mod:`~tracekit.plotting.waterfall`, :mod:`~tracekit.plotting.latency`
(distributions, critical-path breakdown), :mod:`~tracekit.plotting.service_map`,
:mod:`~tracekit.plotting.compare` (compare, bubble-up), :mod:`~tracekit.plotting.timeline` (timeline,
heatmap), :mod:`~tracekit.plotting.flame` (flame graphs, trace diff), :mod:`~tracekit.plotting.gl` (the
canvas renderer for big waterfalls) and :mod:`~tracekit.plotting.colors`; every public name is importable
from ``tracekit.plotting``.

Requires the ``plot`` extra (plotly).

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
...     "service": ["api", "db"], "name": ["GET /", "query"], "start": [0, 2_000_000], "end": [9_000_000, 5_000_000]})
>>> fig = tk.plot_waterfall(spans)
>>> [t.name for t in fig.data if t.meta == "spans"], [float(v) for v in fig.data[0].x]
(['spans'], [9.0, 3.0])
"""

from __future__ import annotations

from .colors import CRITICAL_COLOR, ERROR_COLOR, PALETTE, bar_colors, service_colors
from .compare import plot_bubble_up, plot_compare
from .flame import DIFF_COLORS, plot_flame, plot_flame_diff, plot_trace_diff
from .gl import plot_waterfall_gl, write_waterfall_gl
from .latency import plot_critical_path_breakdown, plot_latency, plot_latency_ecdf
from .service_map import EDGE_COLORS, plot_service_graph
from .timeline import plot_heatmap, plot_timeline
from .waterfall import plot_waterfall

__all__ = [
    "PALETTE",
    "ERROR_COLOR",
    "CRITICAL_COLOR",
    "service_colors",
    "bar_colors",
    "plot_waterfall",
    "plot_latency",
    "plot_latency_ecdf",
    "plot_critical_path_breakdown",
    "plot_service_graph",
    "EDGE_COLORS",
    "plot_compare",
    "plot_bubble_up",
    "plot_timeline",
    "plot_heatmap",
    "plot_flame",
    "plot_flame_diff",
    "plot_trace_diff",
    "DIFF_COLORS",
    "plot_waterfall_gl",
    "write_waterfall_gl",
]
