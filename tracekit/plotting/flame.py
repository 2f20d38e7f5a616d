"""Figures of many critical paths and of trace diffs: flame graphs and aligned waterfalls.

Render-only (the data come from :func:`tracekit.critical_path_tree`, :func:`tracekit.critical_path_tree_diff`
and :func:`tracekit.diff_traces`); every name from a trace is HTML-escaped before it reaches plotly.
Requires the ``plot`` extra.

>>> import tracekit as tk
>>> spans = tk.examples.load("checkout-small")
>>> fig = tk.plot_flame(tk.critical_path_tree(tk.critical_path(spans), spans=spans))
>>> fig.data[0].type
'icicle'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.words import hover_pairs, hover_text, ms_label, ms_text
from ..errors import ArgumentError, require
from .colors import ERROR_COLOR, LABEL_CHARS, esc, key_text, label_colors, result_colors, say_empty, short_text

go = require("plotly.graph_objects", "plot")

__all__ = ["plot_flame", "plot_flame_diff", "plot_trace_diff", "DIFF_COLORS"]

#: colour of each diff status in :func:`plot_trace_diff`
DIFF_COLORS = {"same": "#B0B7C3", "changed": "#FF7F0E", "added": "#2CA02C", "removed": ERROR_COLOR}


#: the id of the base a flame diff draws under several call paths (no node id holds an invisible separator's escape)
_BASE = "\u2063all requests"

#: most levels of indentation of a trace diff's row label (deeper rows say their depth)
_MAX_INDENT = 16


def _esc(values) -> list[str]:
    return [esc(str(v)) for v in values]


def _node_texts(tree: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Each node's ``service: name`` (escaped) as its tile label (cut to LABEL_CHARS) and as its hover's first line
    (core.words.hover_pair: service and name each cut to HOVER_CHARS, on lines of 100): the whole text was both, and a 2,015-character operation of a
    1,504-character service made a hover box 22,888 px wide in headless Chromium, over the whole figure and its title.
    A missing name says <NA>, not "nan"."""
    svc, nm = key_text(tree["service"]).tolist(), key_text(tree["name"]).tolist()
    labels = [esc(short_text(f"{s}: {n}", LABEL_CHARS)) for s, n in zip(svc, nm, strict=True)]
    hovers = hover_pairs(svc, nm)
    return labels, hovers


def _need(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    if not isinstance(df, pd.DataFrame) or any(c not in df.columns for c in cols):
        raise ArgumentError(f"expected the result of {what}")


def _window_words(params: object) -> str:
    """The requests a percentile window kept, in words (``"; requests at p95-p100 of critical-path time"``), or ``""``."""
    w = params.get("percentile_window") if isinstance(params, dict) else None
    if w is None:
        return ""
    return f"; requests at p{float(w[0]):g}\u2013p{float(w[1]):g} of critical-path time"


def _requests_words(n: object) -> str:
    return f"{n:,} request{'' if n == 1 else 's'}"


def plot_flame(tree: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Flame graph (plotly icicle, root at the bottom) of a :func:`tracekit.critical_path_tree`.

    Parameters
    ----------
    tree : pandas.DataFrame
        The result of :func:`tracekit.critical_path_tree`: widths are ``total_ms`` per request.
    title : str, optional
        Figure title (escaped; default: what is shown and over how many requests).

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ArgumentError
        ``tree`` is not a critical-path tree.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> fig = tk.plot_flame(tk.critical_path_tree(tk.critical_path(spans), spans=spans))
    >>> fig.layout.title.text.startswith("Critical path")
    True
    """
    _need(tree, ("node", "parent", "service", "name", "self_ms", "total_ms", "traces"), "tk.critical_path_tree")
    colors = result_colors(tree, tree["service"])
    n = tree.attrs.get("requests")
    labels, hovers = _node_texts(tree)
    # a span without a service (allowed by the schema) is grey, as in every figure, not a KeyError
    fills = [colors.get(str(s), "#999999") if pd.notna(s) else "#999999" for s in tree["service"]]
    fig = go.Figure(go.Icicle(
        ids=_esc(tree["node"]), parents=["" if p is None or pd.isna(p) else esc(str(p)) for p in tree["parent"]],
        labels=labels, values=tree["total_ms"].to_numpy(dtype=float), branchvalues="total",
        marker={"colors": fills},
        # each label in the colour that contrasts most with its tile (plotly drew the root's in dark blue on any fill)
        textfont={"color": label_colors(fills)},
        # durations as text by the one rule (core.words.ms_label): plotly's %{value:.2f} said a 4 µs step was "0.00 ms"
        customdata=np.c_[[ms_label(v) for v in tree["total_ms"].to_numpy(dtype=float)],
                         [ms_label(v) for v in tree["self_ms"].to_numpy(dtype=float)],
                         [f"{v:,.0f}" for v in tree["traces"].to_numpy(dtype=float)], hovers],
        # both times per request (self_ms is, as total_ms: CRITICAL_PATH_TREE), and the requests on the path out of the
        # tree's: "self 20.0 ms" and "in 3 requests" said neither of what
        hovertemplate="%{customdata[3]}<br>total %{customdata[0]} per request<br>self %{customdata[1]} per request"
                      "<br>on the path in %{customdata[2]}" + (f" of {_requests_words(n)}" if n else " requests")
                      + "<extra></extra>",
        tiling={"orientation": "v", "flip": "y"}, sort=False,
    ))
    # the window the requests were kept by is said (a tree of the slowest 5 % read as one of every request)
    default = ("Critical path by call path (ms per request" + (f", {_requests_words(n)}" if n else "")
               + _window_words(tree.attrs.get("params")) + ")")
    fig.update_layout(title=esc(title or default), margin={"t": 50, "l": 10, "r": 10, "b": 10})
    if not len(tree):
        say_empty(fig, "no critical path of a request to draw" + (f" ({n:,} requests)" if n is not None else ""))
    return fig


def plot_flame_diff(diff: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Flame graph of the incident coloured by the change of each node's own critical-path time.

    Widths are the incident's ``total_ms_a``; colour is ``delta_self_ms`` (red: slower than the
    baseline, blue: faster) on a symmetric scale; hover gives the interval.

    Parameters
    ----------
    diff : pandas.DataFrame
        The result of :func:`tracekit.critical_path_tree_diff`.
    title : str, optional
        Figure title (escaped).

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ArgumentError
        ``diff`` is not a critical-path tree diff.

    Examples
    --------
    >>> import tracekit as tk
    >>> cp = tk.critical_path(tk.examples.load("checkout-small"))
    >>> fig = tk.plot_flame_diff(tk.critical_path_tree_diff(cp, cp, n_boot=0))
    >>> fig.data[0].marker.cmid
    0
    """
    _need(diff, ("node", "parent", "service", "name", "total_ms_a", "delta_self_ms", "delta_self_lo", "delta_self_hi"),
          "tk.critical_path_tree_diff")
    d = diff[diff["total_ms_a"] > 0] if (diff["total_ms_a"] > 0).any() else diff
    delta = d["delta_self_ms"].to_numpy(dtype=float)
    span = float(np.nanmax(np.abs(delta))) if len(delta) and np.isfinite(delta).any() else 1.0
    labels, hovers = _node_texts(d)
    ids = _esc(d["node"])
    parents = ["" if p is None or pd.isna(p) else esc(str(p)) for p in d["parent"]]
    values = d["total_ms_a"].to_numpy(dtype=float)
    customdata = np.c_[[ms_label(v) for v in values], [ms_text(v, signed=True) for v in delta],
                       [ms_text(v, signed=True) for v in d["delta_self_lo"].to_numpy(dtype=float)],
                       [ms_text(v, signed=True) for v in d["delta_self_hi"].to_numpy(dtype=float)],
                       [ms_text(v, signed=True) for v in d["delta_total_ms"].to_numpy(dtype=float)], hovers]
    colors = delta
    tops = [i for i, p in enumerate(parents) if p == ""]
    if len(tops) > 1:
        # several call paths start the tree: plotly joins them under a root of its own that, with a colour scale,
        # it draws dark grey (#444) and unlabelled, whatever root.color says — a blank dark band under the flame.
        # The band is drawn instead, white (no change of its own) and named for what it holds: the requests
        for i in tops:
            parents[i] = _BASE
        ids, parents, labels = [_BASE, *ids], ["", *parents], ["all requests", *labels]
        values = np.r_[values[tops].sum(), values]
        whole = float(np.nansum(d["delta_total_ms"].to_numpy(dtype=float)[tops]))
        customdata = np.r_[[[ms_label(values[0]), "", "", "", ms_text(whole, signed=True), "all requests"]], customdata]
        colors = np.r_[0.0, delta]
    # the fill plotly draws each tile in (the colour scale at its change; an unknown change at the middle), for the
    # label colour that contrasts most with it: the root's label was dark blue on the scale's dark red or blue
    from plotly.colors import sample_colorscale

    cmax = span or 1
    where = np.clip((np.nan_to_num(colors, nan=0.0) + cmax) / (2 * cmax), 0.0, 1.0)
    text_colors = label_colors(sample_colorscale("RdBu_r", where.tolist())) if len(where) else []
    hover = ("%{customdata[5]}<br>incident %{customdata[0]} per request<br>Δ self %{customdata[1]} "
             "[%{customdata[2]}, %{customdata[3]}]<br>Δ total %{customdata[4]}<extra></extra>")
    fig = go.Figure(go.Icicle(
        ids=ids, parents=parents, labels=labels, values=values, branchvalues="total",
        marker={"colors": colors, "colorscale": "RdBu_r", "cmid": 0, "cmin": -span or -1, "cmax": span or 1,
                "colorbar": {"title": {"text": "Δ self ms<br>per request"}}},
        textfont={"color": text_colors},
        # durations as text by the one rule (core.words: ms_label, ms_text for a signed change)
        customdata=customdata,
        hovertemplate=(["all requests: the call paths' common base, no span of its own<br>incident %{customdata[0]} "
                        "per request<br>Δ total %{customdata[4]}<extra></extra>", *[hover] * len(d)]
                       if len(tops) > 1 else hover),
        tiling={"orientation": "v", "flip": "y"}, sort=False,
    ))
    # NaN when a side holds no request (its time per request is unknown): a plain sum said "+0.0 ms per request"
    root = float(diff.loc[diff["depth"] == 0, "delta_total_ms"].sum(min_count=1))
    n_req = diff.attrs.get("requests")
    if np.isfinite(root):
        what = f"{ms_text(root, signed=True)} per request"
    elif n_req is not None and len(n_req) == 2 and 0 in tuple(n_req):
        what = "no request in the " + ("incident" if not n_req[0] else "baseline") + " to compare with"
    else:
        what = "change unknown"
    # each side's population and the window: the title said a change per request without saying of which requests
    if n_req is not None and len(n_req) == 2:
        what += f" ({_requests_words(n_req[0])} vs {_requests_words(n_req[1])}{_window_words(diff.attrs.get('params'))})"
    fig.update_layout(title=esc(title or f"Critical path, incident vs baseline: {what}"),
                      margin={"t": 50, "l": 10, "r": 10, "b": 10})
    return fig


def plot_trace_diff(diff: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Both traces of a :func:`tracekit.diff_traces` as aligned waterfalls, changes highlighted.

    One row per aligned pair (indented by depth): the reference trace *a* as a hollow outline,
    trace *b* as a bar coloured by status (:data:`DIFF_COLORS`); x is the start offset from each
    trace's request root.

    Parameters
    ----------
    diff : pandas.DataFrame
        The result of :func:`tracekit.diff_traces`.
    title : str, optional
        Figure title (escaped).

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ArgumentError
        ``diff`` is not a trace diff.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> ids = spans["trace_id"].unique()[:2]
    >>> fig = tk.plot_trace_diff(tk.diff_traces(spans, ids[0], ids[1]))
    >>> [t.name for t in fig.data]
    ['a (reference)', 'b']
    """
    _need(diff, ("service", "name", "depth", "status", "start_ms_a", "start_ms_b", "duration_ms_a", "duration_ms_b",
                 "delta_duration_ms"), "tk.diff_traces")
    n = len(diff)
    # each label cut (short_text) and indented at most _MAX_INDENT levels, deeper rows saying their depth: a
    # 1,000-character service name was a 2,013-character tick label that left the bars 60 of 1,300 px in Chromium
    y = [f"{i:>4} " + "\u2003" * min(int(d), _MAX_INDENT) + (f"[depth {int(d)}] " if int(d) > _MAX_INDENT else "")
         + esc(short_text(f"{s}: {nm}"))
         for i, (d, s, nm) in enumerate(zip(diff["depth"], diff["service"], diff["name"], strict=True))]
    hover_b = [hover_text(f"{s}: {nm}") + f"<br>{st}" + (f" Δ {ms_text(dd, signed=True)}" if np.isfinite(dd) else "")
               for s, nm, st, dd in zip(diff["service"], diff["name"], diff["status"],
                                        diff["delta_duration_ms"].to_numpy(dtype=float), strict=True)]
    fig = go.Figure()
    fig.add_trace(go.Bar(name="a (reference)", y=y, base=diff["start_ms_a"].to_numpy(dtype=float),
                         x=diff["duration_ms_a"].to_numpy(dtype=float), orientation="h",
                         marker={"color": "rgba(0,0,0,0)", "line": {"color": "#444", "width": 1}},
                         customdata=[f"{ms_label(s, unit=False)} + {ms_label(x)}" for s, x in zip(
                             diff["start_ms_a"].to_numpy(dtype=float), diff["duration_ms_a"].to_numpy(dtype=float), strict=True)],
                         hovertemplate="a: %{customdata}<extra></extra>"))
    fig.add_trace(go.Bar(name="b", y=y, base=diff["start_ms_b"].to_numpy(dtype=float),
                         x=diff["duration_ms_b"].to_numpy(dtype=float), orientation="h", width=0.5,
                         marker={"color": [DIFF_COLORS.get(s, "#888") for s in diff["status"]]},
                         # the hover's text only: drawn on the bars it was a 6 px scribble beside every span
                         text=hover_b, textposition="none",
                         customdata=[f"{ms_label(s, unit=False)} + {ms_label(x)}" for s, x in zip(
                             diff["start_ms_b"].to_numpy(dtype=float), diff["duration_ms_b"].to_numpy(dtype=float), strict=True)],
                         hovertemplate="%{text}<br>b: %{customdata}<extra></extra>"))
    changed = diff[diff["status"] != "same"]
    default = f"Trace diff: {len(changed)} of {n} spans changed, added or removed"
    fig.update_layout(barmode="overlay", title=esc(title or default), height=max(300, 22 * n + 120),
                      xaxis_title="ms from the request root", yaxis={"autorange": "reversed", "title": "span (a and b aligned)"},
                      legend={"orientation": "h"}, margin={"l": 10})
    return fig
