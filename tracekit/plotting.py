"""Figures of an investigation: ``plot_*`` functions that return plotly Figures.

Every function takes data (a spans DataFrame or an analysis result), renders it and returns a
:class:`plotly.graph_objects.Figure`; none calls ``.show()``. Every figure can be written as one
self-contained HTML file (``fig.write_html(path, include_plotlyjs=True)``), which needs no
network. Everything taken from a trace (service and span names, attribute values) is
HTML-escaped before it reaches plotly, whose text fields accept a subset of HTML.

The data steps live beside their analyses (:func:`tracekit.waterfall_data`,
:func:`tracekit.critical_path_breakdown`, :func:`tracekit.service_graph`); the figures here only
render. Colours are per service and stable: :func:`service_colors` sorts the service names and
walks a fixed palette, so one service has the same colour in every figure of one data set.

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

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .analysis.waterfall import WATERFALL_COLUMNS, waterfall_data
from .core import normalize_trace_id, routes
from .errors import TraceKitError, require

go = require("plotly.graph_objects", "plot")

__all__ = [
    "PALETTE",
    "ERROR_COLOR",
    "CRITICAL_COLOR",
    "service_colors",
    "bar_colors",
    "plot_waterfall",
    "plot_latency",
    "plot_critical_path_breakdown",
    "plot_service_graph",
    "plot_compare",
]

#: Qualitative palette (plotly's "Plotly" + "D3" sets): services are assigned in sorted order.
PALETTE: tuple[str, ...] = (
    "#636EFA", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
    "#1F77B4", "#FF7F0E", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF",
)
#: Outline of error spans and colour of error markers.
ERROR_COLOR = "#D62728"
#: Critical-path overlay colour.
CRITICAL_COLOR = "#111111"

_esc = html.escape


def _key_text(values: pd.Series) -> pd.Series:
    """A key column as text, missing values as ``<NA>`` (``astype(str)`` alone keeps them as floats)."""
    return values.astype(object).where(values.notna(), "<NA>").astype(str)


def service_colors(services: Iterable[Any]) -> dict[str, str]:
    """Stable colour per service: sorted names mapped onto :data:`PALETTE` (cycling).

    >>> service_colors(["db", "api", "db"])
    {'api': '#636EFA', 'db': '#00CC96'}
    """
    names = sorted({str(s) for s in services if s is not None and not (isinstance(s, float) and np.isnan(s))})
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(names)}


def bar_colors(trace: Any) -> list[str]:
    """The colour each bar of a bar trace is drawn in (a list, also when one colour is set for all).

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "auth"], "name": ["x", "y"],
    ...     "start": [0, 1], "end": [5, 3]})
    >>> bar_colors(tk.plot_waterfall(spans).data[0])
    ['#00CC96', '#636EFA']
    """
    color = trace.marker.color
    return [color] * len(trace.x) if isinstance(color, str) else [str(c) for c in color]


def _is_waterfall_rows(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and all(c in df.columns for c in ("depth", "start_ms", "cp_sections", "hover"))


# --------------------------------------------------------------------------------------------------
# waterfall


def plot_waterfall(
    spans: pd.DataFrame,
    trace_id: str | None = None,
    *,
    critical_path: bool | pd.DataFrame | None = None,
    collapse: Iterable[str] = (),
    max_depth: int | None = None,
    colors: Mapping[str, str] | None = None,
    max_labels: int = 150,
    height: int | None = None,
    title: str | None = None,
) -> Any:
    """Waterfall of one trace: one horizontal bar per visible span, critical path overlaid.

    ``spans`` is a spans DataFrame (the rows are computed with :func:`tracekit.waterfall_data`
    and the ``trace_id``/``critical_path``/``collapse``/``max_depth`` arguments) or a frame that
    :func:`tracekit.waterfall_data` already returned. The figure holds ONE bar trace for all
    spans (``meta="spans"``; bar *i* is display row *i*: ``base`` = start offset, ``x`` =
    duration, ``marker.color`` = the service's colour per bar); an
    overlay of the error spans outlined in :data:`ERROR_COLOR` (``meta="errors"``) and one of
    the in-progress spans, hatched (``meta="in_progress"``), each only when there are any, and
    not hoverable (so hover and clicks reach the spans trace); ONE bar trace of critical-path sections
    (``meta="critical_path"``, thinner, drawn over the spans; only when a critical path is
    given), and one legend-only entry per service (``meta="legend"``). The x axis is ms from the
    trace start; y tick labels are span names indented by depth when the figure has at most
    ``max_labels`` rows (every label is measured by plotly.js in the browser: in headless
    Chromium 300 labels added seconds and 1,000 over a minute to the first draw, so larger
    traces rely on the hover text, and on folding in :class:`tracekit.TraceExplorer`).

    Size (``benchmarks/bench_waterfall.py``, headless Chromium, busy 2-core machine): 10,000
    spans draw in ~2.9 s and redraw after a zoom in ~0.5 s of browser CPU; 50,000 spans take ~24 s
    and ~12 s — plotly.js's bar drawing grows faster than linearly, so fold big traces
    (``max_depth``/``collapse``) for interactive use, or draw them with
    :func:`tracekit.plotting_gl.plot_waterfall_gl` (canvas, level of detail: 100,000 spans
    redraw in ~10 ms), which :class:`tracekit.TraceExplorer` uses above 2,000 spans.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame, or the rows :func:`tracekit.waterfall_data` returned.
    trace_id : str, optional
        The trace to draw (32 hex digits or the X-Ray ``1-…`` form); needed when ``spans`` holds several.
    critical_path : bool or pandas.DataFrame, optional
        ``True`` to compute and overlay the critical path, or its sections (:func:`tracekit.critical_path`).
    collapse : iterable of str
        Span ids whose subtrees are folded.
    max_depth : int, optional
        Deepest level shown.
    colors : mapping of str to str, optional
        Colour per service (default :func:`service_colors`).
    max_labels : int
        Most rows that get y tick labels.
    height : int, optional
        Figure height in pixels (default grows with the rows).
    title : str, optional
        Figure title (escaped).
    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ArgumentError
        ``trace_id`` is not a trace id.
    TraceKitError
        The trace is not in the spans, or several traces and no ``trace_id``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["ab" * 16] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["api", "db", "api"],
    ...     "name": ["GET /", "query", "render"], "status": ["ok", "error", "ok"],
    ...     "start": [0, 1_000_000, 6_000_000], "end": [10_000_000, 5_000_000, 9_000_000]})
    >>> fig = tk.plot_waterfall(spans, critical_path=True)
    >>> bars = fig.data[0]
    >>> [float(v) for v in bars.base], [float(v) for v in bars.x], tk.plotting.bar_colors(bars)
    ([0.0, 1.0, 6.0], [10.0, 4.0, 3.0], ['#636EFA', '#00CC96', '#636EFA'])
    >>> [t.meta for t in fig.data]
    ['spans', 'critical_path', 'errors', 'legend', 'legend']
    >>> [float(v) for v in fig.data[2].y], fig.data[2].marker.line.color
    ([1.0], '#D62728')
    """
    if _is_waterfall_rows(spans):
        rows = spans
    else:
        if trace_id is not None:
            trace_id = normalize_trace_id(trace_id)
        rows = waterfall_data(spans, trace_id, critical_path=critical_path, collapse=collapse, max_depth=max_depth)
    n = len(rows)
    cmap = dict(colors) if colors is not None else service_colors(rows["service"].dropna().unique())
    services = rows["service"].astype(object).to_numpy()
    svc_names = sorted(set(map(str, services)))
    # one colour string per bar. (Service codes on a stepwise colorscale validate ~10x faster in
    # Python, but plotly.js then maps every bar through the colorscale on every redraw: zooming a
    # 5,000-span waterfall took 0.98 s of browser CPU against 0.35 s with colour strings.)
    palette = {s_: cmap.get(s_, "#999999") for s_ in svc_names}
    fill = [palette[str(s_)] for s_ in services.tolist()]
    is_error = rows["is_error"].to_numpy(dtype=bool)
    in_progress = rows["in_progress"].to_numpy(dtype=bool)
    y = np.arange(n, dtype=np.int64)

    spans_trace = go.Bar(
        orientation="h",
        y=y,
        base=rows["start_ms"].to_numpy(dtype=float),
        x=rows["duration_ms"].to_numpy(dtype=float),
        marker=dict(color=fill, line=dict(width=0)),
        hovertext=rows["hover"].to_numpy(dtype=object),
        hoverinfo="text",
        name="spans",
        meta="spans",
        showlegend=False,
    )
    data = [spans_trace]
    cp_wanted = critical_path is not None and critical_path is not False
    if cp_wanted or (_is_waterfall_rows(spans) and rows["on_critical_path"].any()):
        secs = rows["cp_sections"].tolist()
        counts = np.fromiter((len(s) for s in secs), dtype=np.int64, count=n)
        flat = [p for s in secs for p in s]
        cs = np.array([p[0] for p in flat], dtype=float)
        ce = np.array([p[1] for p in flat], dtype=float)
        data.append(
            go.Bar(
                orientation="h",
                y=np.repeat(y, counts),
                base=cs,
                x=ce - cs,
                width=0.3,
                marker=dict(color=CRITICAL_COLOR, line=dict(width=0)),
                hovertext=[f"critical path {s:.3f}–{e:.3f} ms ({e - s:.3f} ms)" for s, e in flat],
                hoverinfo="text",
                name="critical path",
                meta="critical_path",
                showlegend=True,
            )
        )
    # errors and in-progress spans are marked by overlay bars over just those spans, so the
    # spans trace keeps uniform styling (per-bar style arrays made plotly.js redraws ~2x slower).
    # They come after the critical-path trace: placed right after the spans trace, the error
    # overlay doubled the browser CPU of a zoom on 10,000 spans (1.2 s against 0.6 s, measured).
    start_ms = rows["start_ms"].to_numpy(dtype=float)
    dur_ms = rows["duration_ms"].to_numpy(dtype=float)
    if is_error.any():
        data.append(
            go.Bar(
                orientation="h", y=y[is_error], base=start_ms[is_error], x=dur_ms[is_error],
                marker=dict(color="rgba(0,0,0,0)", line=dict(color=ERROR_COLOR, width=2)),
                hoverinfo="skip", name="error", meta="errors", showlegend=True,
            )
        )
    if in_progress.any():
        data.append(
            go.Bar(
                orientation="h", y=y[in_progress], base=start_ms[in_progress], x=dur_ms[in_progress],
                marker=dict(color="rgba(255,255,255,0.55)", line=dict(width=0), pattern=dict(shape="/", fgcolor="#666666", solidity=0.3)),
                hoverinfo="skip", name="in progress", meta="in_progress", showlegend=True,
            )
        )
    for svc in svc_names:
        data.append(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=_esc(svc), meta="legend", hoverinfo="skip",
                marker=dict(symbol="square", size=12, color=cmap.get(svc, "#999999")), showlegend=True,
            )
        )
    n_hidden = rows["n_hidden"].to_numpy()
    ticktext = None
    if n <= max_labels:  # name indented by depth (non-breaking spaces survive SVG), ⚠ on errors, (+N) folded
        ticktext = [
            "\u00a0\u00a0" * d + ("⚠ " if err else "") + _esc(str(nm)) + (f" (+{int(h)})" if h else "")
            for d, nm, err, h in zip(rows["depth"].tolist(), rows["name"].astype(object).tolist(), is_error.tolist(), n_hidden.tolist(), strict=True)
        ]
    fig = go.Figure(data=data)
    fig.update_layout(
        barmode="overlay",
        bargap=0.2,
        height=height or int(min(max(250, 20 * n + 120), 1000)),
        title=_esc(title) if title else None,
        hovermode="closest",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
        margin=dict(l=10, r=10, t=60 if title else 40, b=40),
        xaxis=dict(title="ms from trace start", rangemode="tozero", zeroline=True),
        yaxis=dict(
            autorange="reversed",
            tickmode="array" if ticktext is not None else "auto",
            tickvals=y if ticktext is not None else None,
            ticktext=ticktext,
            showticklabels=ticktext is not None,
            automargin=True,
        ),
        uirevision="waterfall",
    )
    return fig


# --------------------------------------------------------------------------------------------------
# latency distributions


def _latency_groups(spans: pd.DataFrame, by: str | Sequence[str] | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=spans.index)
    keys = [by] if isinstance(by, str) else list(by)
    parts = []
    for k in keys:
        if k == "route":  # the one route key (tracekit.core.routes), as sampling strata use it
            parts.append(pd.Series(np.asarray(routes(spans), dtype=object), index=spans.index).astype(str))
        elif k in spans.columns:
            parts.append(spans[k].astype(object).where(spans[k].notna(), "<NA>").astype(str))
        else:
            raise TraceKitError(f"plot_latency: by={k!r} is neither a spans column nor 'route'")
    out = parts[0]
    for p in parts[1:]:
        out = out + " · " + p
    return out


def plot_latency(
    spans: pd.DataFrame,
    by: str | Sequence[str] | None = "service",
    *,
    kind: str = "histogram",
    log_x: bool = False,
    bins: int = 40,
    top: int = 10,
    roots_only: bool = False,
    max_points: int = 2000,
    title: str | None = None,
) -> Any:
    """Latency distribution (``duration_ms``) per group: step histogram or ECDF.

    ``by`` is a spans column (``service``, ``name``, ``kind``…), ``"route"`` (the one route key,
    :func:`tracekit.core.routes`: ``http.route``, else the path with ids masked, else the name), a list of those, or
    ``None`` for one group. The ``top`` most frequent groups get one line trace each (named by
    the group, escaped; ``meta`` = the raw group). ``kind="histogram"`` draws counts over bins
    shared by all groups (log-spaced with ``log_x``); ``kind="ecdf"`` the fraction of spans at
    or below each latency (at most ``max_points`` points per group). ``roots_only`` keeps spans
    without a parent (end-to-end latency). Spans without a duration (in progress) are left out;
    with ``log_x``, zero durations are too.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``duration_ms`` is drawn).
    by : str or sequence of str or None
        Grouping: spans columns and/or ``"route"``; ``None`` for one group.
    kind : {"histogram", "ecdf"}
        Step histogram of counts or empirical CDF.
    log_x : bool
        Log-spaced bins / a log x axis.
    bins : int
        Histogram bins shared by all groups.
    top : int
        Most frequent groups drawn.
    roots_only : bool
        Only spans without a parent.
    max_points : int
        Most ECDF points per group.
    title : str, optional
        Figure title (escaped).
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["ab" * 16] * 4, "span_id": [c * 16 for c in "abcd"],
    ...     "service": ["api", "api", "api", "db"], "name": ["x"] * 4,
    ...     "start": [0] * 4, "end": [1_000_000, 2_000_000, 4_000_000, 3_000_000]})
    >>> fig = tk.plot_latency(spans, kind="ecdf")
    >>> [(t.name, [float(v) for v in t.x], [round(float(v), 3) for v in t.y]) for t in fig.data]
    [('api', [1.0, 2.0, 4.0], [0.333, 0.667, 1.0]), ('db', [3.0], [1.0])]
    """
    if kind not in ("histogram", "ecdf"):
        raise TraceKitError(f"plot_latency: kind must be 'histogram' or 'ecdf', got {kind!r}")
    if "duration_ms" not in spans.columns:
        raise TraceKitError("plot_latency: spans DataFrame has no duration_ms column")
    sel = spans
    if roots_only:
        sel = sel[sel["parent_id"].isna()]
    dur = sel["duration_ms"].to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(dur) & ((dur > 0) if log_x else (dur >= 0))
    groups = _latency_groups(sel, by)[ok]
    dur = dur[ok]
    counts = groups.value_counts(sort=False)
    order = sorted(counts.index, key=lambda g: (-counts[g], g))[:top]
    cmap = service_colors(order) if by == "service" else {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}
    gv = groups.to_numpy(dtype=object)
    data = []
    if kind == "histogram" and len(dur):
        lo, hi = float(dur.min()), float(dur.max())
        if hi <= lo:
            hi = lo + 1.0
        edges = np.logspace(np.log10(lo), np.log10(hi), bins + 1) if log_x else np.linspace(lo, hi, bins + 1)
        edges[0], edges[-1] = lo, hi  # exact ends, so the extremes are always counted
    for g in order:
        v = np.sort(dur[gv == g])
        if kind == "histogram":
            c, _ = np.histogram(v, bins=edges)
            x = edges
            y = np.append(c, c[-1]).astype(float)
            trace = go.Scatter(x=x, y=y, mode="lines", line=dict(shape="hv", color=cmap[g]), name=_esc(g), meta=g,
                               hovertemplate="%{x:.3f} ms: %{y} spans<extra>%{fullData.name}</extra>")
        else:
            k = len(v)
            frac = np.arange(1, k + 1) / k
            if k > max_points:
                idx = np.unique(np.linspace(0, k - 1, max_points).round().astype(np.int64))
                v, frac = v[idx], frac[idx]
            trace = go.Scatter(x=v, y=frac, mode="lines", line=dict(shape="hv", color=cmap[g]), name=_esc(g), meta=g)
        data.append(trace)
    fig = go.Figure(data=data)
    dropped = len(counts) - len(order)
    default_title = f"latency by {by if isinstance(by, str) else ' · '.join(by or ['all'])}" + (f" (top {len(order)} of {len(counts)} groups)" if dropped > 0 else "")
    fig.update_layout(
        title=_esc(title or default_title),
        xaxis=dict(title="duration (ms)", type="log" if log_x else "linear"),
        yaxis=dict(title="spans" if kind == "histogram" else "fraction of spans ≤ x", rangemode="tozero"),
        hovermode="closest",
    )
    return fig


# --------------------------------------------------------------------------------------------------
# critical-path breakdown

_BREAKDOWN_STATS = ("cp_ms", "mean_ms", "share", "p50_ms", "p95_ms", "traces", "trace_share")


def plot_critical_path_breakdown(
    breakdown: pd.DataFrame,
    *,
    value: str = "cp_ms",
    top: int = 20,
    title: str | None = None,
) -> Any:
    """Horizontal bars of where critical-path time goes, from :func:`tracekit.critical_path_breakdown`.

    One bar trace; one bar per key (the ``by`` columns of the breakdown, joined with `` · ``),
    largest ``value`` at the top, at most ``top`` bars; the text on each bar is its ``share`` of
    end-to-end time. Bars are coloured by service when ``service`` is a key.

    Parameters
    ----------
    breakdown : pandas.DataFrame
        The frame of :func:`tracekit.critical_path_breakdown`.
    value : str
        The column drawn (``cp_ms`` by default).
    top : int
        Most bars drawn.
    title : str, optional
        Figure title (escaped).
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import pandas as pd, tracekit as tk
    >>> bd = pd.DataFrame({"service": ["db", "api"], "cp_ms": [60.0, 40.0], "share": [0.6, 0.4]})
    >>> fig = tk.plot_critical_path_breakdown(bd)
    >>> list(fig.data[0].y), [float(v) for v in fig.data[0].x], list(fig.data[0].text)
    (['db', 'api'], [60.0, 40.0], ['60.0%', '40.0%'])
    """
    if not isinstance(breakdown, pd.DataFrame):
        raise TraceKitError(f"plot_critical_path_breakdown expects a DataFrame, got {type(breakdown).__name__}")
    if value not in breakdown.columns:
        raise TraceKitError(f"plot_critical_path_breakdown: column {value!r} not in the breakdown ({list(breakdown.columns)})")
    keys = [c for c in breakdown.columns if c not in _BREAKDOWN_STATS]
    if not keys:
        raise TraceKitError("plot_critical_path_breakdown: the breakdown has no key column (e.g. service)")
    bd = breakdown.sort_values(value, ascending=False, kind="stable").head(top)
    label = _key_text(bd[keys[0]])
    for k in keys[1:]:
        label = label + " · " + _key_text(bd[k])
    labels = [_esc(s) for s in label.tolist()]
    if "service" in keys:
        cmap = service_colors(breakdown["service"].astype(object).astype(str))
        color: Any = [cmap[str(s)] for s in bd["service"].astype(object)]
    else:
        color = PALETTE[0]
    share = bd["share"].to_numpy(dtype=float) if "share" in bd.columns else None
    text = [f"{s:.1%}" for s in share] if share is not None else None
    hover = []
    for i, (_, r) in enumerate(bd.iterrows()):
        parts = [f"<b>{labels[i]}</b>"]
        for c in _BREAKDOWN_STATS:
            if c in bd.columns:
                v = r[c]
                parts.append(f"{c}: {v:.1%}" if c in ("share", "trace_share") else f"{c}: {v:,.3f}" if isinstance(v, float) else f"{c}: {v}")
        hover.append("<br>".join(parts))
    fig = go.Figure(
        go.Bar(orientation="h", y=labels, x=bd[value].to_numpy(dtype=float), text=text, textposition="auto",
               marker=dict(color=color), hovertext=hover, hoverinfo="text", name=value, meta="breakdown")
    )
    n_traces = breakdown.attrs.get("traces")
    default_title = "critical-path time by " + " · ".join(keys) + (f" ({n_traces} traces)" if n_traces is not None else "")
    fig.update_layout(
        title=_esc(title or default_title),
        xaxis=dict(title=value.replace("_ms", " (ms)")),
        yaxis=dict(autorange="reversed", automargin=True, type="category"),
        height=int(min(max(250, 28 * len(bd) + 120), 900)),
    )
    return fig


# --------------------------------------------------------------------------------------------------
# service graph


def _positions(G, pos) -> dict[Any, tuple[float, float]]:
    if pos is None:
        try:
            from .analysis.graph import graph_layout
        except ImportError:  # graph module not available: a deterministic spring layout
            import networkx as nx

            pos = nx.spring_layout(G, seed=0) if len(G) else {}
        else:
            pos = graph_layout(G)
    if isinstance(pos, pd.DataFrame):
        if "element" in pos.columns:  # graph_layout: node rows and edge rows
            pos = pos[pos["element"] == "node"]
        df = pos.set_index("node") if "node" in pos.columns else pos
        return {k: (float(r["x"]), float(r["y"])) for k, r in df.iterrows()}
    return {k: (float(v[0]), float(v[1])) for k, v in dict(pos).items()}


def plot_service_graph(G, *, pos: Any = None, max_arrows: int = 300, title: str | None = None) -> Any:
    """Service dependency graph from :func:`tracekit.service_graph` (a ``networkx.DiGraph``).

    ``pos`` maps node → (x, y) (a dict, or a DataFrame with ``node``/``x``/``y``); by default
    :func:`tracekit.analysis.graph.graph_layout` computes it. Traces: ``meta="edges"`` (one line trace of
    all edges), ``meta="edge_info"`` (a marker at each edge's midpoint whose hover shows the
    edge attributes: calls, errors, p50, p95, …), ``meta="nodes"`` (one marker per service,
    coloured by its failed share when the node carries ``failed`` (or ``errors``) and ``calls``/``spans``).
    Arrows are layout annotations (up to ``max_arrows``).

    Parameters
    ----------
    G : networkx.DiGraph
        The graph of :func:`tracekit.service_graph` (or any graph with such attributes).
    pos : dict or pandas.DataFrame, optional
        Node positions (default: :func:`tracekit.analysis.graph.graph_layout`).
    max_arrows : int
        Most arrow annotations drawn.
    title : str, optional
        Figure title (escaped).
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import networkx as nx, tracekit as tk
    >>> G = nx.DiGraph()
    >>> G.add_edge("api", "db", calls=10, errors=1, p50=3.0, p95=9.5)
    >>> fig = tk.plot_service_graph(G, pos={"api": (0, 0), "db": (1, 0)})
    >>> [t.meta for t in fig.data], list(fig.data[0].x)
    (['edges', 'edge_info', 'nodes'], [0.0, 1.0, None])
    >>> fig.data[1].hovertext[0]
    'api → db<br>calls: 10<br>errors: 1<br>p50: 3<br>p95: 9.5'
    """
    p = _positions(G, pos)
    missing = [n for n in G.nodes if n not in p]
    if missing:
        raise TraceKitError(f"plot_service_graph: no position for nodes {missing[:5]}")
    ex: list[float | None] = []
    ey: list[float | None] = []
    mx, my, mtext = [], [], []
    annotations = []
    for u, v, attrs in G.edges(data=True):
        (x0, y0), (x1, y1) = p[u], p[v]
        ex += [x0, x1, None]
        ey += [y0, y1, None]
        mx.append((x0 + x1) / 2)
        my.append((y0 + y1) / 2)
        info = [f"{_esc(str(u))} → {_esc(str(v))}"]
        for k, val in attrs.items():
            if isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool):
                info.append(f"{_esc(str(k))}: {val:,.4g}" if isinstance(val, (float, np.floating)) else f"{_esc(str(k))}: {val:,}")
        mtext.append("<br>".join(info))
        if len(annotations) < max_arrows and (u, v) != (v, u) and u != v:
            annotations.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                                    arrowhead=2, arrowsize=1.2, arrowwidth=1.2, arrowcolor="#888888", standoff=14, text=""))
    nodes = list(G.nodes)
    nx_ = [p[n][0] for n in nodes]
    ny_ = [p[n][1] for n in nodes]
    rate = []
    ntext = []
    for n in nodes:
        a = G.nodes[n]
        calls = a.get("calls", a.get("spans", a.get("requests")))
        # the node's failed spans (tracekit.core.failed, counted by service_graph as "failed", earlier "errors");
        # faults are part of them, never added on top
        nfail = next((a[k] for k in ("failed", "errors") if isinstance(a.get(k), (int, float, np.integer, np.floating))
                      and not isinstance(a.get(k), bool)), None)
        r = min(1.0, float(nfail) / float(calls)) if calls and nfail is not None else 0.0
        rate.append(r)
        info = [f"<b>{_esc(str(n))}</b>"] + [
            f"{_esc(str(k))}: {val:,.4g}" if isinstance(val, (float, np.floating)) else f"{_esc(str(k))}: {val:,}"
            for k, val in a.items()
            if isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool)
        ]
        ntext.append("<br>".join(info))
    fig = go.Figure(
        [
            go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#AAAAAA", width=1.5), hoverinfo="skip", name="calls", meta="edges", showlegend=False),
            go.Scatter(x=mx, y=my, mode="markers", marker=dict(size=8, color="#AAAAAA", opacity=0.4), hovertext=mtext, hoverinfo="text", name="edge", meta="edge_info", showlegend=False),
            go.Scatter(
                x=nx_, y=ny_, mode="markers+text", text=[_esc(str(n)) for n in nodes], textposition="top center",
                marker=dict(size=22, color=rate, cmin=0.0, cmax=max(0.05, max(rate, default=0.0)), colorscale="Reds",
                            line=dict(color="#333333", width=1), showscale=True, colorbar=dict(title="failed share")),
                hovertext=ntext, hoverinfo="text", name="services", meta="nodes", showlegend=False,
            ),
        ]
    )
    fig.update_layout(
        title=_esc(title or f"service graph ({G.number_of_nodes()} services, {G.number_of_edges()} edges)"),
        annotations=annotations,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        hovermode="closest",
        plot_bgcolor="white",
    )
    return fig


# --------------------------------------------------------------------------------------------------
# comparison


def plot_compare(
    comparison: Any,
    *,
    metric: str = "cp_ms",
    before: str | None = None,
    after: str | None = None,
    key: str | Sequence[str] | None = None,
    top: int = 20,
    labels: tuple[str, str] | None = None,
    title: str | None = None,
) -> Any:
    """Before/after bars per key, from :func:`tracekit.compare` (or any frame of paired columns).

    ``comparison`` is a :class:`tracekit.analysis.comparison.Comparison` (its ``table`` is drawn) or a
    DataFrame. :func:`tracekit.compare` calls ``a`` the set under suspicion and ``b`` the
    reference, so by default the reference bar is ``<metric>_b`` and the other ``<metric>_a``
    (``metric`` = ``cp_ms``, ``p50_ms``, ``p95_ms``, ``calls``, ``fanout``, ``error_rate``).
    ``before``/``after`` name other columns; without them and without ``<metric>_a/_b``, the first
    of ``<m>_before``/``<m>_after``, ``before_<m>``/``after_<m>`` or ``before``/``after`` is used.
    Keys are the remaining text columns (or ``key``). Two bar traces (``meta="before"`` and
    ``"after"``), grouped, keys ordered by the absolute change, largest first, at most ``top``;
    the hover shows the change and, when present, its confidence interval (``delta_<m>_lo/_hi``).

    Parameters
    ----------
    comparison : Comparison or pandas.DataFrame
        The result of :func:`tracekit.compare` (or its ``table``), or any frame of paired columns.
    metric : str
        The metric whose ``_a``/``_b`` columns are drawn.
    before, after : str, optional
        Explicit reference / other columns.
    key : str or sequence of str, optional
        Key columns (default: the text columns).
    top : int
        Most keys drawn.
    labels : (str, str), optional
        Legend names of the two bars.
    title : str, optional
        Figure title (escaped).
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import pandas as pd, tracekit as tk
    >>> cmp = pd.DataFrame({"service": ["api", "db"], "p50_ms_a": [11.0, 9.0], "p50_ms_b": [10.0, 5.0]})
    >>> fig = tk.plot_compare(cmp, metric="p50_ms")
    >>> [(t.meta, t.name, list(t.y), [float(v) for v in t.x]) for t in fig.data]
    [('before', 'b (reference)', ['db', 'api'], [5.0, 10.0]), ('after', 'a', ['db', 'api'], [9.0, 11.0])]
    """
    params: dict = {}
    if hasattr(comparison, "table") and isinstance(comparison.table, pd.DataFrame):
        params = dict(getattr(comparison, "params", {}) or {})
        comparison = comparison.table
    if not isinstance(comparison, pd.DataFrame):
        raise TraceKitError(f"plot_compare expects a Comparison or a DataFrame, got {type(comparison).__name__}")
    cols = list(comparison.columns)
    paired_ab = False
    if before is None and after is None and f"{metric}_a" in cols and f"{metric}_b" in cols:
        before, after, paired_ab = f"{metric}_b", f"{metric}_a", True
    if before is None or after is None:
        pair = _find_pair(comparison)
        if pair is None:
            raise TraceKitError(f"plot_compare: no before/after column pair found in {cols}; pass before= and after=")
        before, after = pair
        paired_ab = before.endswith("_b") and after.endswith("_a")
    for c in (before, after):
        if c not in cols:
            raise TraceKitError(f"plot_compare: column {c!r} not in the comparison ({cols})")
    if labels is None:
        labels = ("b (reference)", "a") if paired_ab else ("before", "after")
    if key is not None:
        keys = [key] if isinstance(key, str) else list(key)
    elif params.get("by") is not None:
        by = params["by"]
        keys = [k for k in ([by] if isinstance(by, str) else list(by)) if k in cols]
        if "operation" in ([by] if isinstance(by, str) else list(by)):
            keys = [k for k in ("service", "name") if k in cols] or keys
    else:
        keys = [
            c for c in cols
            if c not in (before, after, "presence")
            and not pd.api.types.is_numeric_dtype(comparison[c]) and not pd.api.types.is_bool_dtype(comparison[c])
        ]
    b_val = comparison[before].astype(float)
    a_val = comparison[after].astype(float)
    df = comparison.assign(_change=(a_val - b_val).abs().fillna(0.0)).sort_values("_change", ascending=False, kind="stable").head(top)
    if keys:
        lab = _key_text(df[keys[0]])
        for k in keys[1:]:
            lab = lab + " · " + _key_text(df[k])
        ylab = [_esc(x) for x in lab.tolist()]
    else:
        ylab = [str(i) for i in df.index]
    stat = _stat_name(after)
    hover = []
    for i, (_, r) in enumerate(df.iterrows()):
        delta = float(r[after]) - float(r[before])
        parts = [f"<b>{ylab[i]}</b>", f"{_esc(labels[0])}: {float(r[before]):,.4g}", f"{_esc(labels[1])}: {float(r[after]):,.4g}", f"change: {delta:+,.4g}"]
        lo, hi = f"delta_{stat}_lo", f"delta_{stat}_hi"
        if lo in df.columns and hi in df.columns and pd.notna(r[lo]) and pd.notna(r[hi]):
            sig = " (excludes 0)" if r[lo] > 0 or r[hi] < 0 else ""
            parts.append(f"CI [{float(r[lo]):+,.4g}, {float(r[hi]):+,.4g}]{sig}")
        if "presence" in df.columns and pd.notna(r["presence"]):
            parts.append(f"presence: {_esc(str(r['presence']))}")
        hover.append("<br>".join(parts))
    fig = go.Figure(
        [
            go.Bar(orientation="h", y=ylab, x=df[before].to_numpy(dtype=float), name=_esc(labels[0]), meta="before",
                   marker=dict(color="#9DA3AE"), hovertext=hover, hoverinfo="text"),
            go.Bar(orientation="h", y=ylab, x=df[after].to_numpy(dtype=float), name=_esc(labels[1]), meta="after",
                   marker=dict(color=PALETTE[0]), hovertext=hover, hoverinfo="text"),
        ]
    )
    fig.update_layout(
        barmode="group",
        title=_esc(title or f"{stat}: {labels[0]} vs {labels[1]}" + (f" by {' · '.join(keys)}" if keys else "")),
        yaxis=dict(autorange="reversed", automargin=True, type="category"),
        xaxis=dict(title=_esc(stat)),
        height=int(min(max(250, 40 * len(df) + 120), 1000)),
    )
    return fig


def _stat_name(col: str) -> str:
    for suf in ("_a", "_b", "_before", "_after"):
        if col.endswith(suf):
            return col[: -len(suf)]
    for pre in ("a_", "b_", "before_", "after_"):
        if col.startswith(pre):
            return col[len(pre):]
    return col


def _find_pair(df: pd.DataFrame) -> tuple[str, str] | None:
    """(before, after) columns: ``x_b``/``x_a`` (tk.compare: b is the reference), ``x_before``/``x_after``, …"""
    cols = [c for c in df.columns if isinstance(c, str)]
    numeric = {c for c in cols if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    for a_suf, b_suf in (("_b", "_a"), ("_before", "_after")):
        for c in cols:
            if c.endswith(a_suf) and c in numeric:
                other = c[: -len(a_suf)] + b_suf
                if other in numeric:
                    return c, other
    for a_pre, b_pre in (("a_", "b_"), ("before_", "after_")):
        for c in cols:
            if c.startswith(a_pre) and c in numeric:
                other = b_pre + c[len(a_pre):]
                if other in numeric:
                    return c, other
    if "before" in numeric and "after" in numeric:
        return "before", "after"
    return None


# keep the waterfall's column list reachable for callers that check frames
_WATERFALL_COLUMNS = WATERFALL_COLUMNS


def plot_bubble_up(hits: pd.DataFrame, *, top: int = 6, values: int = 8, title: str | None = None) -> Any:
    """Draw :func:`tracekit.bubble_up` results as BubbleUp does: the top dimensions side by side.

    One panel per dimension, in the order of each dimension's best row (``hits`` is ranked), at
    most ``top``; in each panel at most ``values`` values (the best ranked) as two horizontal bars:
    the share of baseline units with the value (grey, ``meta["role"] == "baseline"``) and of
    selected units (colour, ``"selection"``). The hover shows the counts, the difference with its
    interval, the lift, the q-value and the latency / error-rate difference; a panel title ends
    with ``*`` when one of its values has ``q_value < 0.05``. Values and names are HTML-escaped.

    Parameters
    ----------
    hits : pandas.DataFrame
        The result of :func:`tracekit.bubble_up`.
    top : int
        Most dimensions (panels).
    values : int
        Most values per panel.
    title : str, optional
        Figure title (escaped).
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import pandas as pd, tracekit as tk
    >>> hits = pd.DataFrame({"dimension": ["host", "host", "region"], "value": ["h1", "h2", "eu"],
    ...                      "share_selection": [1.0, 0.0, 0.5], "share_baseline": [0.2, 0.8, 0.5],
    ...                      "q_value": [0.01, 0.01, 1.0]})
    >>> fig = tk.plot_bubble_up(hits)
    >>> [(t.meta["role"], t.meta["dimension"], list(t.y), [float(v) for v in t.x]) for t in fig.data]
    [('baseline', 'host', ['h1', 'h2'], [0.2, 0.8]), ('selection', 'host', ['h1', 'h2'], [1.0, 0.0]), ('baseline', 'region', ['eu'], [0.5]), ('selection', 'region', ['eu'], [0.5])]
    """
    if not isinstance(hits, pd.DataFrame):
        raise TraceKitError(f"plot_bubble_up expects the DataFrame of tk.bubble_up, got {type(hits).__name__}")
    need = ("dimension", "value", "share_selection", "share_baseline")
    missing = [c for c in need if c not in hits.columns]
    if missing:
        raise TraceKitError(f"plot_bubble_up: hits lack columns {', '.join(missing)} (pass the result of tk.bubble_up)")
    if int(top) < 1 or int(values) < 1:
        raise TraceKitError(f"plot_bubble_up: top and values must be >= 1, got {top!r}, {values!r}")
    make_subplots = require("plotly.subplots", "plot").make_subplots
    dims = list(dict.fromkeys(hits["dimension"].astype(object).tolist()))[: int(top)]
    n = max(len(dims), 1)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    qcol = "q_value" in hits.columns
    titles = []
    for d in dims:
        sig = qcol and bool((hits.loc[hits["dimension"] == d, "q_value"] < 0.05).any())
        titles.append(_esc(str(d)) + (" *" if sig else ""))
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=titles or None, horizontal_spacing=0.12,
                        vertical_spacing=min(0.12, 0.5 / nrow))

    def num(r: Any, c: str) -> float:
        return float(r[c]) if c in r and pd.notna(r[c]) else float("nan")

    for i, d in enumerate(dims):
        sub = hits[hits["dimension"] == d].head(int(values))
        ylab = [_esc(str(v)) for v in sub["value"].tolist()]
        hover = []
        for lab, (_, r) in zip(ylab, sub.iterrows(), strict=True):
            parts = [f"<b>{_esc(str(d))} = {lab}</b>",
                     f"selection: {num(r, 'share_selection'):.1%}" + (f" ({int(r['selection_count'])})" if "selection_count" in r else ""),
                     f"baseline: {num(r, 'share_baseline'):.1%}" + (f" ({int(r['baseline_count'])})" if "baseline_count" in r else "")]
            if "diff_lo" in r and pd.notna(r["diff_lo"]):
                parts.append(f"difference: {num(r, 'diff'):+.1%} [{num(r, 'diff_lo'):+.1%}, {num(r, 'diff_hi'):+.1%}]")
            if "lift" in r and pd.notna(r["lift"]):
                parts.append(f"lift: {num(r, 'lift'):.3g}")
            if qcol and pd.notna(r["q_value"]):
                parts.append(f"q: {num(r, 'q_value'):.3g}")
            if "delta_latency_ms" in r and pd.notna(r["delta_latency_ms"]):
                parts.append(f"latency with − without: {num(r, 'delta_latency_ms'):+,.4g} ms")
            if "delta_error_rate" in r and pd.notna(r["delta_error_rate"]):
                parts.append(f"error rate with − without: {num(r, 'delta_error_rate'):+.1%}")
            hover.append("<br>".join(parts))
        row, col = i // ncol + 1, i % ncol + 1
        for role, column, color in (("baseline", "share_baseline", "#9DA3AE"), ("selection", "share_selection", PALETTE[0])):
            fig.add_trace(go.Bar(orientation="h", y=ylab, x=sub[column].to_numpy(dtype=float), name=role,
                                 legendgroup=role, showlegend=i == 0, marker=dict(color=color),
                                 meta={"role": role, "dimension": str(d)}, hovertext=hover, hoverinfo="text"),
                          row=row, col=col)
        fig.update_yaxes(autorange="reversed", type="category", automargin=True, row=row, col=col)
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=row, col=col)
    nsel = hits.attrs.get("n_selection")
    nbase = hits.attrs.get("n_baseline")
    default = "What distinguishes the selection" + (f" ({nsel} vs {nbase} {hits.attrs.get('level', 'trace')}s)" if nsel is not None else "")
    fig.update_layout(barmode="group", title=_esc(title or default), height=int(min(max(300, 260 * nrow), 1600)))
    return fig


__all__.append("plot_bubble_up")


# --------------------------------------------------------------------------------------------------
# the time axis: timeline and heatmap


def _is_timeline(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and {"time", "requests", "p95_ms"} <= set(df.columns) and "span_id" not in df.columns


def _timeline_keys(tl: pd.DataFrame) -> list[str]:
    from .analysis.timeline import TIMELINE

    return [c for c in tl.columns if c not in TIMELINE.column_names]


def _key_labels(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    if not keys:
        return pd.Series("all", index=df.index)
    out = _key_text(df[keys[0]])
    for k in keys[1:]:
        out = out + " · " + _key_text(df[k])
    return out


def plot_timeline(
    data: pd.DataFrame,
    freq: str = "1min",
    by: str | Sequence[str] | None = None,
    *,
    changes: pd.DataFrame | None = None,
    baseline: pd.DataFrame | None = None,
    deployments: pd.DataFrame | bool = True,
    weights: Any = None,
    top: int = 8,
    title: str | None = None,
) -> Any:
    """Requests, error rate and p50/p95/p99 of request latency over time, per key.

    Parameters
    ----------
    data : pandas.DataFrame
        Spans (a :func:`~tracekit.timeline` is computed with ``freq``, ``by``, ``weights``) or a timeline.
    freq, by, weights
        As for :func:`~tracekit.timeline` (ignored when ``data`` is a timeline).
    changes : pandas.DataFrame, optional
        :func:`~tracekit.detect_changes` result: each window is shaded (to the end of the data
        while ongoing) and labelled with its key and metric.
    baseline : pandas.DataFrame, optional
        Spans or a timeline of a normal period (e.g. the same hour another day), drawn dashed in
        grey over the same keys; a baseline from another day is shifted onto the window's start.
    deployments : pandas.DataFrame or bool
        :func:`~tracekit.deployments` result, or True to compute it from ``data`` (spans only):
        each version change (a version seen after another of the same service) is a vertical line
        at its first appearance, labelled ``service version``.
    top : int
        Most keys drawn (the busiest).
    title : str, optional
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Three rows sharing the time axis. Every trace has ``meta`` = {"metric", "key", "role"}
        (role ``value``, ``band`` or ``baseline``); shapes are named ``change`` or ``deployment``.

    Raises
    ------
    TraceKitError
        ``data`` is neither spans nor a timeline.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("slow-deploy", 300, seed=12).spans
    >>> fig = tk.plot_timeline(spans, freq="5min", by="root_service")
    >>> sorted({t.meta["metric"] for t in fig.data})
    ['error_rate', 'p50_ms', 'p95_ms', 'p99_ms', 'requests']
    >>> [s.name for s in fig.layout.shapes if s.name == "deployment"]
    ['deployment']
    """
    from plotly.subplots import make_subplots

    from .analysis.timeline import deployments as _deployments
    from .analysis.timeline import timeline

    if _is_timeline(data):
        tl = data
        deps = deployments if isinstance(deployments, pd.DataFrame) else None
    elif isinstance(data, pd.DataFrame) and "span_id" in data.columns:
        tl = timeline(data, freq, by, weights=weights)
        deps = deployments if isinstance(deployments, pd.DataFrame) else (_deployments(data) if deployments else None)
    else:
        raise TraceKitError("plot_timeline: data must be a spans DataFrame or a timeline() result")
    keys = _timeline_keys(tl)
    labels = _key_labels(tl, keys)
    totals = tl.groupby(labels.to_numpy(), sort=False)["requests"].sum()
    order = sorted(totals.index, key=lambda g: (-totals[g], g))[:top]
    cmap = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}
    if keys == ["service"]:
        cmap = {g: c for g, c in service_colors(order).items()}
    base_tl = None
    if baseline is not None:
        base_tl = baseline if _is_timeline(baseline) else timeline(baseline, tl.attrs.get("params", {}).get("freq", freq),
                                                                  keys or None, weights=None)
        if len(base_tl) and len(tl):
            shift = tl["time"].min() - base_tl["time"].min()
            base_tl = base_tl.assign(time=base_tl["time"] + shift)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("requests per bucket", "error rate", "request latency (ms): p50 · p95 · p99"))
    dash = {"p50_ms": "dot", "p95_ms": "solid", "p99_ms": "dash"}
    lv = labels.to_numpy(dtype=object)
    for g in order:
        part = tl[lv == g]
        x = part["time"]
        color = cmap[g]
        meta = lambda m, role="value", g=g: {"metric": m, "key": g, "role": role}  # noqa: E731
        fig.add_trace(go.Scatter(x=x, y=part["requests"], mode="lines", line=dict(color=color, shape="hv"),
                                 name=_esc(g), legendgroup=g, meta=meta("requests")), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=part["error_rate"], mode="lines+markers", line=dict(color=color),
                                 name=_esc(g), legendgroup=g, showlegend=False, meta=meta("error_rate"),
                                 customdata=np.column_stack([part["error_rate_lo"], part["error_rate_hi"]]),
                                 hovertemplate="%{y:.1%} [%{customdata[0]:.1%}, %{customdata[1]:.1%}]"), row=2, col=1)
        fig.add_trace(go.Scatter(x=pd.concat([x, x[::-1]]), y=pd.concat([part["p95_ms_hi"], part["p95_ms_lo"][::-1]]),
                                 fill="toself", line=dict(width=0), fillcolor=color, opacity=0.15, hoverinfo="skip",
                                 legendgroup=g, showlegend=False, meta=meta("p95_ms", "band")), row=3, col=1)
        for m in ("p50_ms", "p95_ms", "p99_ms"):
            fig.add_trace(go.Scatter(x=x, y=part[m], mode="lines", line=dict(color=color, dash=dash[m]),
                                     name=f"{_esc(g)} {m[:3]}", legendgroup=g, showlegend=False, meta=meta(m),
                                     customdata=np.column_stack([part[f"{m}_lo"], part[f"{m}_hi"]]),
                                     hovertemplate=f"{m[:3]} %{{y:,.4g}} ms [%{{customdata[0]:,.4g}}, %{{customdata[1]:,.4g}}]"),
                          row=3, col=1)
        if base_tl is not None:
            bl = _key_labels(base_tl, keys).to_numpy(dtype=object)
            bp = base_tl[bl == g]
            for row, m in ((1, "requests"), (2, "error_rate"), (3, "p95_ms")):
                fig.add_trace(go.Scatter(x=bp["time"], y=bp[m], mode="lines", line=dict(color="#9DA3AE", dash="dash"),
                                         name=f"baseline {_esc(g)}", legendgroup=f"baseline {g}", showlegend=row == 1,
                                         meta=meta(m, "baseline")), row=row, col=1)
    end = tl["time"].max() + pd.Timedelta(pd.tseries.frequencies.to_offset(tl.attrs.get("params", {}).get("freq", freq))) \
        if len(tl) else None
    if changes is not None and len(changes):
        ckeys = [c for c in keys if c in changes.columns]
        clabels = _key_labels(changes, ckeys)
        for (_, c), lab in zip(changes.iterrows(), clabels, strict=True):
            x1 = c["recovery"] if pd.notna(c["recovery"]) else end
            color = cmap.get(lab, ERROR_COLOR)
            fig.add_shape(type="rect", x0=c["onset"], x1=x1, y0=0, y1=1, xref="x", yref="paper", name="change",
                          fillcolor=color, opacity=0.12, line=dict(width=0), layer="below")
            fig.add_annotation(x=c["onset"], y=1.04, xref="x", yref="paper", yanchor="bottom", xanchor="left",
                               showarrow=False,
                               text=_esc(f"{lab} {c['metric']} {c['delta']:+,.3g}"), font=dict(size=10, color=color))
    if deps is not None and len(deps):
        for _, d in deps[deps["previous"].notna()].iterrows():
            fig.add_shape(type="line", x0=d["first_seen"], x1=d["first_seen"], y0=0, y1=1, xref="x", yref="paper",
                          name="deployment", line=dict(color="#444", dash="dot", width=1))
            fig.add_annotation(x=d["first_seen"], y=1.0, xref="x", yref="paper", yanchor="bottom", xanchor="left",
                               showarrow=False, text=_esc(f"▲ {d['service']} {d['version']}"), font=dict(size=10))
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=3, col=1)
    by_txt = " · ".join(keys) if keys else "all requests"
    fig.update_layout(title=_esc(title or f"timeline by {by_txt}"), height=720, hovermode="x unified")
    return fig


def plot_heatmap(
    spans: pd.DataFrame,
    freq: str = "1min",
    by: str | Sequence[str] | None = None,
    *,
    key: Any = None,
    bins: int = 40,
    weights: Any = None,
    title: str | None = None,
    points: bool = False,
) -> Any:
    """Time × request latency heatmap (log latency axis), the number of requests as colour.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    freq : str
        Column width (a pandas offset alias).
    by : str or list of str, optional
        What a request is, as for :func:`~tracekit.timeline` (``None``: every request root).
    key : value or tuple, optional
        Keep the requests of this key of ``by`` only (e.g. ``by="service", key="checkout"``).
    bins : int
        Latency rows (log-spaced from the smallest to the largest positive latency).
    weights : DataFrame, Series or float, optional
        Sampling weights: colour = estimated requests (Σ weights).
    title : str, optional
        Figure title.
    points : bool
        Also draw every request as a faint, selectable marker (``meta="requests"``; its
        ``customdata`` is the request's row in :func:`~tracekit.select_requests` with the same
        ``by`` / ``key`` / ``weights``), so a box or lasso drawn on the figure selects requests.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` (``meta="heatmap"``): ``x`` bucket starts, ``y`` geometric bin centres
        (ms), ``z`` requests per cell (bins × buckets); the y-axis is logarithmic. With
        ``points``, a ``Scattergl`` of the requests follows, and the drag mode is box select.

    Raises
    ------
    TraceKitError
        ``key`` given without ``by``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 200, seed=1).spans
    >>> fig = tk.plot_heatmap(spans, freq="10min", bins=12)
    >>> h = fig.data[0]
    >>> int(sum(map(sum, h.z))), len(h.x), len(h.y)
    (200, 6, 12)
    """
    from .analysis.timeline import select_requests

    if key is not None and by is None:
        raise TraceKitError("plot_heatmap: key= needs by= (the column the key is a value of)")
    rows = select_requests(spans, by, key=key, weights=weights)
    lat = rows["latency_ms"].to_numpy(dtype=float)
    ok = np.isfinite(lat) & (lat > 0)
    rows, lat = rows[ok], lat[ok]
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq)).value
    fig = go.Figure()
    if len(rows):
        t = rows["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        b = (t // step) * step
        b0 = int(b.min())
        nb = int((b.max() - b0) // step) + 1
        lo, hi = float(lat.min()), float(lat.max())
        if hi <= lo:
            hi = lo * 1.01 + 1e-9
        edges = np.logspace(np.log10(lo), np.log10(hi), bins + 1)
        yi = np.clip(np.searchsorted(edges, lat, side="right") - 1, 0, bins - 1)
        xi = (b - b0) // step
        z = np.zeros((bins, nb))
        np.add.at(z, (yi, xi), rows["weight"].to_numpy(dtype=float))
        xs = pd.to_datetime(b0 + step * np.arange(nb), utc=True)
        ys = np.sqrt(edges[:-1] * edges[1:])
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=z, colorscale="Viridis", meta="heatmap",
                                 colorbar=dict(title="requests"),
                                 hovertemplate="%{x}<br>%{y:,.4g} ms: %{z:,.4g} requests<extra></extra>"))
        if points:
            fig.add_trace(go.Scattergl(
                x=rows["time"], y=lat, mode="markers", meta="requests", customdata=np.flatnonzero(ok),
                marker=dict(size=4, color="rgba(255,255,255,0.35)"), showlegend=False, name="requests",
                selected=dict(marker=dict(color="#FF7F0E")), unselected=dict(marker=dict(opacity=0.35)),
                hovertemplate="%{x}<br>%{y:,.4g} ms<extra>request</extra>"))
            fig.update_layout(dragmode="select")
    what = "all requests" if by is None else (f"{by}={key}" if key is not None else f"by {by}")
    fig.update_layout(title=_esc(title or f"request latency over time ({what})"),
                      yaxis=dict(title="request latency (ms)", type="log"), xaxis=dict(title="time"))
    return fig


__all__ += ["plot_timeline", "plot_heatmap"]
