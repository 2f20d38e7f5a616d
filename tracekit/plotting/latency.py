"""Latency distributions (:func:`plot_latency`, :func:`plot_latency_ecdf`) and where critical-path time
goes (:func:`plot_critical_path_breakdown`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.args import count_arg
from ..core.deprecation import renamed
from ..core.words import hover_text, ms_label, percent
from ..errors import ArgumentError, require
from .colors import (
    PALETTE,
    category_ticks,
    esc,
    fmt_ms,
    key_text,
    legend_text,
    log_ticks,
    population_text,
    population_title,
    result_colors,
    say_empty,
    service_colors,
)

go = require("plotly.graph_objects", "plot")

__all__ = ["plot_latency", "plot_latency_ecdf", "plot_critical_path_breakdown"]

# latency distributions


def _ms_texts(x: np.ndarray) -> list[str]:
    """Each latency of an ECDF's x as its hover says it (core.words.ms_label, one duration rule), each distinct value
    written once (an ECDF repeats every x at its step)."""
    u, inv = np.unique(np.asarray(x, dtype=float), return_inverse=True)
    return np.array([ms_label(v) for v in u], dtype=object)[inv.reshape(-1)].tolist()


def _ecdf_mode(x: np.ndarray) -> str:
    """An ECDF curve's plotly mode: a line, and a marker where it has one point (a line of one point is drawn as
    nothing: the report of one X-Ray trace showed an ECDF with no curve at all)."""
    return "lines+markers" if len(x) == 1 else "lines"


@renamed(top="n")
def plot_latency(
    spans: pd.DataFrame,
    by: str | Sequence[str] | None = "service",
    *,
    kind: str = "histogram",
    log_x: bool | None = None,
    bins: int = 40,
    n: int = 10,
    roots_only: bool = False,
    max_points: int = 2000,
    baseline: pd.DataFrame | None = None,
    title: str | None = None,
) -> go.Figure:
    """Latency distribution (``duration_ms``) per group: step histogram or ECDF.

    ``by`` is a spans column (``service``, ``name``, ``kind``…), ``"route"`` (the one route key,
    :func:`tracekit.core.routes`: ``http.route``, else the path with ids masked, else the name), a list of those, or
    ``None`` for one group. The ``top`` most frequent groups get one line trace each (named by
    the group, escaped; ``meta`` = the raw group), coloured by :func:`service_colors` when
    ``by="service"``. ``kind="histogram"`` draws counts over bins shared by all groups
    (log-spaced with ``log_x``); ``kind="ecdf"`` the fraction of spans at or below each latency
    (at most ``max_points`` points per group). ``roots_only`` keeps spans without a parent
    (end-to-end latency; :func:`plot_latency_ecdf` draws request latency by the kernel's
    definition). Spans without a duration (in progress) are left out; with a log axis, zero
    durations are too. ``baseline`` (spans of a normal period) adds one dashed line per drawn group
    (``meta`` = ``"baseline · <group>"``) over the same bins.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``duration_ms`` is drawn).
    by : str or sequence of str or None
        Grouping: spans columns and/or ``"route"``; ``None`` for one group.
    kind : {"histogram", "ecdf"}
        Step histogram of counts or empirical CDF.
    log_x : bool, optional
        Log-spaced bins / a log x axis; by default log when the durations span more than two
        decades (a linear axis would put nearly every span in the first bin).
    bins : int
        Histogram bins shared by all groups.
    n : int
        Most frequent groups drawn.
    roots_only : bool
        Only spans without a parent.
    max_points : int
        Most ECDF points per group.
    baseline : pandas.DataFrame, optional
        Spans of a normal period, drawn dashed per group.
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
    >>> fig.layout.xaxis.title.text
    'span duration (ms)'
    """
    if kind not in ("histogram", "ecdf"):
        raise ArgumentError(f"plot_latency: kind must be 'histogram' or 'ecdf', got {kind!r}")
    bins = count_arg(bins, "bins", "plot_latency", minimum=1, maximum=10_000)
    n = count_arg(n, "n", "plot_latency", minimum=1)  # n=-1 drew all groups but the last, 2.5 a bare TypeError
    max_points = count_arg(max_points, "max_points", "plot_latency", minimum=1)
    for frame, what in ((spans, "spans"), (baseline, "baseline")):
        if (frame is not None or what == "spans") and (not isinstance(frame, pd.DataFrame) or "duration_ms" not in frame.columns):
            raise ArgumentError(f"plot_latency: {what} must be a spans DataFrame with a duration_ms column")
    # the data step (tracekit.analysis.latency): the figure renders its table, computes nothing
    from ..analysis.latency import latency_ecdf, latency_histogram

    common = dict(baseline=baseline, n=n, roots_only=roots_only, log_x=log_x, of="spans")
    table = (latency_histogram(spans, by, bins=bins, **common) if kind == "histogram"
             else latency_ecdf(spans, by=by, max_points=max_points, **common))
    a = table.attrs
    log_x = a["log_x"]
    order = list(dict.fromkeys(table["group"].astype(object).tolist()))
    # by every service of the spans, drawn or not (the top n only: a service left out moved no other off its colour,
    # so a drawn one could differ from the waterfall and the service map of the same spans)
    cmap = (service_colors(a["groups"], drawn=order) if by == "service" else {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)})
    # spans without a parent are root spans, not requests (core.trace_outcomes: a consumer root is asynchronous work,
    # a rootless trace has no request): plot_latency_ecdf draws request latency
    unit = "root spans" if roots_only else "spans"
    data = []
    for (g, period), part in table.groupby(["group", "period"], sort=False):
        g = str(g)
        base = period == "baseline"
        name, meta = (f"baseline · {legend_text(g)}", f"baseline · {g}") if base else (legend_text(g), g)
        line = dict(shape="hv", color=cmap[g], dash="dash" if base else "solid")
        if kind == "histogram":
            edges = np.append(part["latency_lo_ms"].to_numpy(dtype=float), float(part["latency_hi_ms"].iloc[-1]))
            c = part["count"].to_numpy()
            # each bin's bounds as text by the one duration rule (core.words.ms_label), not d3's ,.4g
            bins_text = [f"{ms_label(lo, unit=False)}–{ms_label(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
            trace = go.Scatter(x=edges, y=np.append(c, c[-1]).astype(float), mode="lines", line=line, name=name, meta=meta,
                               customdata=[*bins_text, bins_text[-1]],
                               hovertemplate=f"%{{customdata}}: %{{y}} {unit}<extra>%{{fullData.name}}</extra>")
        else:
            x, frac = part["latency_ms"].to_numpy(dtype=float), part["fraction"].to_numpy(dtype=float)
            trace = go.Scatter(x=x, y=frac, mode=_ecdf_mode(x), line=line, name=name, meta=meta, customdata=_ms_texts(x),
                               hovertemplate=f"%{{y:.1%}} of {unit} ≤ %{{customdata}}<extra>%{{fullData.name}}</extra>")
        data.append(trace)
    fig = go.Figure(data=data)
    n_groups = len(a["groups"])
    dropped = n_groups - len(order)
    # the population and window of each period (the values counted, the first and last start) and what is left out
    noun = "root span" if roots_only else "span"
    pops = [population_text(a["counts"][p], noun, *a["window"][p], left_out=a["left_out"][p],
                            left_out_why=f"without a {'positive ' if log_x else ''}duration") for p in a["counts"]]
    default_title = (f"{noun} latency by {by if isinstance(by, str) else ' · '.join(by or ['all'])}"
                     + (" vs baseline (dashed)" if baseline is not None else "")
                     + (f" (top {len(order)} of {n_groups} groups)" if dropped > 0 else ""))
    who = pops[0] if len(pops) == 1 else f"{pops[0]} · baseline: {pops[1]}"
    fig.update_layout(
        title=population_title(title or default_title, who),
        xaxis=dict(title=f"{'root span' if roots_only else 'span'} duration (ms{', log scale' if log_x else ''})",
                   type="log" if log_x else "linear", **(log_ticks(a["drawn_range"]) if log_x else {})),
        yaxis=dict(title=f"{unit} per bin" if kind == "histogram" else f"fraction of {unit} ≤ x",
                   rangemode="tozero", tickformat=".0%" if kind == "ecdf" else None),
        hovermode="closest",
    )
    if not data:
        say_empty(fig, f"no {'root ' if roots_only else ''}span with a {'positive ' if log_x else ''}duration to draw "
                       f"({len(spans):,} spans given)")
    return fig


@renamed(incident="spans", top="n")
def plot_latency_ecdf(
    spans: pd.DataFrame | Sequence[float] | np.ndarray,
    baseline: pd.DataFrame | Sequence[float] | np.ndarray | None = None,
    *,
    by: str | Sequence[str] | None = None,
    n: int = 10,
    max_points: int = 2000,
    labels: tuple[str, str] = ("incident", "baseline"),
    title: str | None = None,
) -> go.Figure:
    """Log-x ECDF of request latency, the baseline overlaid: how the whole distribution moved.

    With ``by=None`` the values are request latencies: the request root span's duration of each
    trace (``request_ms`` of :func:`tracekit.core.trace_outcomes`, the README's definition; an
    async tail does not count). ``incident`` and ``baseline`` may also be latencies already
    computed (a Series or array of milliseconds). With ``by`` (e.g. ``"service"``) the values
    are span durations per group, as :func:`plot_latency` draws them, one colour per group
    (:func:`service_colors` for services) and the baseline dashed in the same colour. Each
    line's legend name carries its count and p50 / p95 (:func:`tracekit.core.percentile`), so
    "p95 250 ms → 620 ms" can be read off the legend. Non-positive and missing values are left
    out (a log axis cannot show them).

    Parameters
    ----------
    spans : pandas.DataFrame or pandas.Series or array-like
        Spans of the period under investigation, or request latencies in ms.
    baseline : pandas.DataFrame or pandas.Series or array-like, optional
        Spans (or latencies) of a normal period.
    by : str or sequence of str, optional
        Group span durations (``None``: request latency, one line per period).
    n : int
        Most groups drawn (with ``by``).
    max_points : int
        Most points per line.
    labels : (str, str)
        Names of the two periods.
    title : str, optional
        Figure title (escaped).

    Returns
    -------
    plotly.graph_objects.Figure
        One line per period (and group): ``meta`` = ``{"period": "incident"|"baseline", "group": …}``;
        x log-scaled.

    Examples
    --------
    >>> import pandas as pd, tracekit as tk
    >>> fig = tk.plot_latency_ecdf(pd.Series([10.0, 20.0, 400.0]), pd.Series([10.0, 12.0]))
    >>> [(t.meta["period"], [float(v) for v in t.x]) for t in fig.data]
    [('incident', [10.0, 20.0, 400.0]), ('baseline', [10.0, 12.0])]
    >>> fig.layout.xaxis.type, fig.layout.xaxis.title.text
    ('log', 'request latency (ms, log scale)')
    """
    n = count_arg(n, "n", "plot_latency_ecdf", minimum=1)  # n=-1 drew all groups but the last
    max_points = count_arg(max_points, "max_points", "plot_latency_ecdf", minimum=1)
    if by is not None:
        if not isinstance(spans, pd.DataFrame) or (baseline is not None and not isinstance(baseline, pd.DataFrame)):
            raise ArgumentError("plot_latency_ecdf: by= needs spans DataFrames (span durations are grouped)")
        for frame, what in ((spans, "incident"), (baseline, "baseline")):
            if frame is not None and "duration_ms" not in frame.columns:
                raise ArgumentError(f"plot_latency_ecdf: {what} spans have no duration_ms column")
    # the data step (tracekit.analysis.latency.latency_ecdf): the figure renders its table, computes nothing
    from ..analysis.latency import latency_ecdf

    try:
        table = latency_ecdf(spans, baseline, by=by, n=n, max_points=max_points, log_x=True,
                             of="requests" if by is None else "spans")
    except ArgumentError as exc:
        raise ArgumentError(str(exc).replace("latency_ecdf:", "plot_latency_ecdf:", 1)) from None
    a = table.attrs
    if by is None:
        order = ["all"]
        cmap = {"all": PALETTE[0]}
    else:
        order = list(dict.fromkeys(table["group"].astype(object).tolist()))
        cmap = service_colors(a["groups"], drawn=order) if by == "service" else {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}
    unit = "requests" if by is None else "spans"
    lines = {(str(g), p): part for (g, p), part in table.groupby(["group", "period"], sort=False)}
    data = []
    for g in order:
        for period, label, dash, color in (
            ("spans", labels[0], "solid", cmap[g]),
            ("baseline", labels[1], "dash", "#7F8591" if by is None else cmap[g]),
        ):
            part = lines.get((g, period))
            if part is None:
                continue
            x, frac = part["latency_ms"].to_numpy(dtype=float), part["fraction"].to_numpy(dtype=float)
            k, p50, p95 = int(part["count"].iloc[0]), float(part["p50_ms"].iloc[0]), float(part["p95_ms"].iloc[0])
            name = (legend_text(label) if by is None else f"{legend_text(g)} · {legend_text(label)}") + f" (n={k:,}, p50 {fmt_ms(p50)}, p95 {fmt_ms(p95)})"
            data.append(go.Scatter(x=x, y=frac, mode=_ecdf_mode(x), line=dict(shape="hv", color=color, dash=dash, width=2),
                                   name=name, meta={"period": "incident" if period == "spans" else period, "group": g},
                                   customdata=_ms_texts(x),
                                   hovertemplate=f"%{{y:.1%}} of {unit} ≤ %{{customdata}}<extra>{esc(label)}</extra>"))
    fig = go.Figure(data=data)
    what = "request latency" if by is None else f"span duration by {by if isinstance(by, str) else ' · '.join(by)}"
    # the population and window of each period (the values counted, the first and last start) and what is left out
    pops = [population_text(a["counts"][p], unit[:-1], *a["window"][p], left_out=a["left_out"][p],
                            left_out_why="without a positive latency") for p in a["counts"]]
    default = what + (f": {labels[0]} vs {labels[1]}" if baseline is not None else "")
    who = f"{labels[0]}: {pops[0]} · {labels[1]}: {pops[1]}" if baseline is not None else pops[0]
    fig.add_hline(y=0.95, line=dict(color="#BBBBBB", dash="dot", width=1), annotation_text="p95",
                  annotation_position="bottom right", annotation_font_size=10)
    fig.update_layout(
        title=population_title(title or default, who),
        xaxis=dict(title=f"{what.split(' by ')[0]} (ms, log scale)", type="log",
                   **log_ticks([float(t.x[0]) for t in data if len(t.x)] + [float(t.x[-1]) for t in data if len(t.x)])),
        yaxis=dict(title=f"fraction of {unit} ≤ x", range=[0, 1.02], tickformat=".0%"),
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
        hovermode="closest",
        margin=dict(b=110),
    )
    if not data:
        say_empty(fig, f"no {unit[:-1]} with a positive latency to draw" + (f" ({a.get('why_none', 'no spans')})" if by is None else ""))
    return fig




# --------------------------------------------------------------------------------------------------
# critical-path breakdown

_BREAKDOWN_STATS = ("cp_ms", "mean_ms", "share", "p50_ms", "p95_ms", "traces", "trace_share")


@renamed(top="n")
def plot_critical_path_breakdown(
    breakdown: pd.DataFrame,
    *,
    value: str = "cp_ms",
    n: int = 20,
    title: str | None = None,
) -> go.Figure:
    """Horizontal bars of where critical-path time goes, from :func:`tracekit.critical_path_breakdown`.

    One bar trace; one bar per key (the ``by`` columns of the breakdown, joined with `` · ``),
    largest ``value`` at the top, at most ``top`` bars; the text on each bar is its ``share`` of
    the requests' critical-path time (their summed request latency). Bars are coloured by service when ``service``
    is a key. The population is requests, as in the breakdown's result table
    (``attrs["traces"]`` of the breakdown counts the requests used): title, axis and hover say so.

    Parameters
    ----------
    breakdown : pandas.DataFrame
        The frame of :func:`tracekit.critical_path_breakdown`.
    value : str
        The column drawn (``cp_ms`` by default).
    n : int
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
    top = count_arg(n, "n", "plot_critical_path_breakdown", minimum=1)  # -1 dropped the smallest bar, 2.5 a TypeError
    if not isinstance(breakdown, pd.DataFrame):
        raise ArgumentError(f"plot_critical_path_breakdown expects a DataFrame, got {type(breakdown).__name__}")
    if value not in breakdown.columns:
        raise ArgumentError(f"plot_critical_path_breakdown: column {value!r} not in the breakdown ({list(breakdown.columns)})")
    keys = [c for c in breakdown.columns if c not in _BREAKDOWN_STATS]
    if not keys:
        raise ArgumentError("plot_critical_path_breakdown: the breakdown has no key column (e.g. service)")
    bd = breakdown.sort_values(value, ascending=False, kind="stable").head(top)
    label = key_text(bd[keys[0]])
    for k in keys[1:]:
        label = label + " · " + key_text(bd[k])
    plain = label.tolist()
    labels = [esc(s) for s in plain]
    if "service" in keys:
        cmap = result_colors(breakdown, breakdown["service"].astype(object).dropna().astype(str))
        color: Any = [cmap.get(str(s), "#999999") if pd.notna(s) else "#999999" for s in bd["service"].astype(object)]
    else:
        color = PALETTE[0]
    share = bd["share"].to_numpy(dtype=float) if "share" in bd.columns else None
    text = [f"{percent(s, 1)}" for s in share] if share is not None else None
    # the population is requests (CRITICAL_PATH_BREAKDOWN: attrs["traces"] counts the requests used, not the traces:
    # async-workflows has 515 traces and 400 requests), each number said with its unit
    n_req = breakdown.attrs.get("traces")
    of_req = f" of {n_req:,}" if n_req is not None else ""
    stat_text = {
        "cp_ms": lambda v: f"critical-path time: {ms_label(v)}, summed over the requests",
        "mean_ms": lambda v: f"per request: {ms_label(v)} (mean over all requests, 0 where absent)",
        "share": lambda v: f"share of the requests' critical-path time: {percent(v, 1)}",
        "p50_ms": lambda v: f"p50 per request: {ms_label(v)}",
        "p95_ms": lambda v: f"p95 per request: {ms_label(v)}",
        "traces": lambda v: f"on the critical path in {int(v):,}{of_req} requests",
        "trace_share": lambda v: f"share of requests with it on the path: {percent(v, 1)}",
    }
    hover = []
    for i, (_, r) in enumerate(bd.iterrows()):
        parts = [f"<b>{hover_text(plain[i])}</b>"]
        for c in _BREAKDOWN_STATS:
            if c in bd.columns and pd.notna(r[c]):
                parts.append(stat_text[c](r[c]))
        hover.append("<br>".join(parts))
    fig = go.Figure(
        go.Bar(orientation="h", y=labels, x=bd[value].to_numpy(dtype=float), text=text, textposition="auto",
               marker=dict(color=color), hovertext=hover, hoverinfo="text", name=value, meta="breakdown")
    )
    default_title = "critical-path time by " + " · ".join(keys) + (f" ({n_req:,} request{'' if n_req == 1 else 's'})" if n_req is not None else "")
    fig.update_layout(
        title=esc(title or default_title),
        xaxis=dict(title={"cp_ms": "critical-path time (ms, summed over requests)", "mean_ms": "critical-path time per request (ms)",
                          "share": "share of the requests' critical-path time", "p50_ms": "p50 per request (ms)",
                          "p95_ms": "p95 per request (ms)", "traces": "requests with it on the critical path",
                          "trace_share": "share of requests with it on the critical path"}.get(value, value.replace("_ms", " (ms)"))),
        yaxis=dict(autorange="reversed", automargin=True, type="category", title=esc(" · ".join(map(str, keys))),
                   **category_ticks(plain)),
        height=int(min(max(250, 28 * len(bd) + 120), 900)),
    )
    if not len(bd):  # empty axes said nothing
        say_empty(fig, "no critical-path time to draw: no request's critical path was walked (no request root, or "
                       "no spans)")
    return fig
