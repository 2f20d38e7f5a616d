"""Comparisons with a baseline: :func:`plot_compare` (one row per key, both sides) and
:func:`plot_bubble_up` (the attribute values that set a selection apart)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..analysis.waterfall import WATERFALL_COLUMNS
from ..core.args import count_arg
from ..core.deprecation import renamed
from ..core.words import hover_text, ms_label, ms_text, percent
from ..errors import ArgumentError, require
from .colors import (
    PALETTE,
    category_ticks,
    esc,
    key_text,
    legend_text,
    result_colors,
    say_empty,
    short_text,
)

go = require("plotly.graph_objects", "plot")

__all__ = ["plot_compare", "plot_bubble_up"]

# --------------------------------------------------------------------------------------------------
# comparison


@renamed(top="n")
def plot_compare(
    comparison: Any,
    *,
    metric: str = "cp_ms",
    before: str | None = None,
    after: str | None = None,
    key: str | Sequence[str] | None = None,
    n: int = 20,
    labels: tuple[str, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Before/after bars per key, from :func:`tracekit.compare` (or any frame of paired columns).

    ``comparison`` is a :class:`tracekit.analysis.comparison.Comparison` (its ``table`` is drawn) or a
    DataFrame. :func:`tracekit.compare` calls ``a`` the set under suspicion and ``b`` the
    reference, so by default the reference bar is ``<metric>_b`` and the other ``<metric>_a``
    (``metric`` = ``cp_ms``, ``p50_ms``, ``p95_ms``, ``calls``, ``fanout``, ``error_rate``).
    ``before``/``after`` name other columns; without them and without ``<metric>_a/_b``, the first
    of ``<m>_before``/``<m>_after``, ``before_<m>``/``after_<m>`` or ``before``/``after`` is used.
    Keys are the remaining text columns (or ``key``). Two bar traces (``meta="before"`` and
    ``"after"``), grouped, keys ordered by the absolute change, largest first, at most ``top``;
    the reference bars grey, the others in :func:`service_colors` when ``service`` is a key; the hover shows the change and, when present, its confidence interval (``delta_<m>_lo/_hi``).

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
    n : int
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
    top = count_arg(n, "n", "plot_compare", minimum=1)  # -1 dropped the smallest change, 2.5 a bare TypeError
    params: dict = {}
    if hasattr(comparison, "table") and isinstance(comparison.table, pd.DataFrame):
        params = dict(getattr(comparison, "params", {}) or {})
        comparison = comparison.table
    if not isinstance(comparison, pd.DataFrame):
        raise ArgumentError(f"plot_compare expects a Comparison or a DataFrame, got {type(comparison).__name__}")
    cols = list(comparison.columns)
    paired_ab = False
    if before is None and after is None and f"{metric}_a" in cols and f"{metric}_b" in cols:
        before, after, paired_ab = f"{metric}_b", f"{metric}_a", True
    if before is None or after is None:
        pair = _find_pair(comparison)
        if pair is None:
            raise ArgumentError(f"plot_compare: no before/after column pair found in {cols}; pass before= and after=")
        before, after = pair
        paired_ab = before.endswith("_b") and after.endswith("_a")
    for c in (before, after):
        if c not in cols:
            raise ArgumentError(f"plot_compare: column {c!r} not in the comparison ({cols})")
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
        lab = key_text(df[keys[0]])
        for k in keys[1:]:
            lab = lab + " · " + key_text(df[k])
        plain = lab.tolist()
        ylab = [esc(x) for x in plain]
    else:
        plain = [str(i) for i in df.index]
        ylab = list(plain)
    stat = _stat_name(after)
    # a duration (a column in ms) said by the one rule (core.words: ms_label, ms_text for a change), with its unit;
    # d3-like ,.4g wrote "4e-05" for 40 ns and no unit
    in_ms = str(stat).endswith("_ms")
    val = ms_label if in_ms else (lambda v: f"{v:,.4g}")
    chg = (lambda v: ms_text(v, signed=True)) if in_ms else (lambda v: f"{v:+,.4g}")
    hover = []
    for i, (_, r) in enumerate(df.iterrows()):
        delta = float(r[after]) - float(r[before])
        parts = [f"<b>{hover_text(plain[i])}</b>", f"{esc(labels[0])}: {val(float(r[before]))}",
                 f"{esc(labels[1])}: {val(float(r[after]))}", f"change: {chg(delta)}"]
        lo, hi = f"delta_{stat}_lo", f"delta_{stat}_hi"
        if lo in df.columns and hi in df.columns and pd.notna(r[lo]) and pd.notna(r[hi]):
            sig = " (excludes 0)" if r[lo] > 0 or r[hi] < 0 else ""
            parts.append(f"CI [{chg(float(r[lo]))}, {chg(float(r[hi]))}]{sig}")
        if "presence" in df.columns and pd.notna(r["presence"]):
            parts.append(f"presence: {esc(str(r['presence']))}")
        hover.append("<br>".join(parts))
    # the bars of the period under suspicion in each service's colour (as in every figure); the reference grey
    after_color: Any = PALETTE[0]
    if "service" in keys:
        cmap = result_colors(comparison, comparison["service"].astype(object).dropna().astype(str))
        after_color = [cmap.get(str(v), "#999999") for v in df["service"].astype(object)]
    fig = go.Figure(
        [
            go.Bar(orientation="h", y=ylab, x=df[before].to_numpy(dtype=float), name=esc(labels[0]), meta="before",
                   marker=dict(color="#9DA3AE"), hovertext=hover, hoverinfo="text"),
            go.Bar(orientation="h", y=ylab, x=df[after].to_numpy(dtype=float), name=esc(labels[1]), meta="after",
                   marker=dict(color=after_color), hovertext=hover, hoverinfo="text"),
        ]
    )
    fig.update_layout(
        barmode="group",
        title=esc(title or f"{_STAT_TITLES.get(stat, stat)}: {labels[1]} vs {labels[0]}" + (f", by {' · '.join(keys)}" if keys else "")),
        yaxis=dict(autorange="reversed", automargin=True, type="category", title=esc(" · ".join(map(str, keys)) or "row"),
                   **category_ticks(plain)),
        xaxis=dict(title=esc(_STAT_TITLES.get(stat, stat))),
        height=int(min(max(250, 40 * len(df) + 120), 1000)),
    )
    if not isinstance(after_color, str):  # one swatch would show the first service's colour as the set's: say it instead
        fig.update_layout(showlegend=False, margin=dict(t=90))
        fig.add_annotation(text=f"grey: {esc(labels[0])} · in each service's colour: {esc(labels[1])}",
                           xref="paper", yref="paper", x=0, y=1, yanchor="bottom", xanchor="left", showarrow=False,
                           yshift=6, font=dict(size=12), name="legend")
    if not len(df):  # empty axes said nothing
        say_empty(fig, "nothing to compare: the comparison has no rows")
    return fig


#: Axis titles (with units) of the metrics of :func:`tracekit.compare`.
_STAT_TITLES = {
    "cp_ms": "critical-path time per trace (ms)", "p50_ms": "p50 span duration (ms)", "p95_ms": "p95 span duration (ms)",
    "calls": "calls per request", "fanout": "direct children per span", "error_rate": "error rate",
}


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


#: most characters of a bubble-up panel's y axis title (drawn upright along a panel ~100-250 px high; the panel's
#: title above it says the dimension up to LABEL_CHARS)
_AXIS_TITLE_CHARS = 24


@renamed(top="n")
def plot_bubble_up(hits: pd.DataFrame, *, n: int = 6, values: int = 8, title: str | None = None) -> go.Figure:
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
    n : int
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
    top = n  # the old name, kept in the body
    if not isinstance(hits, pd.DataFrame):
        raise ArgumentError(f"plot_bubble_up expects the DataFrame of tk.bubble_up, got {type(hits).__name__}")
    need = ("dimension", "value", "share_selection", "share_baseline")
    missing = [c for c in need if c not in hits.columns]
    if missing:
        raise ArgumentError(f"plot_bubble_up: hits lack columns {', '.join(missing)} (pass the result of tk.bubble_up)")
    if int(top) < 1 or int(values) < 1:
        raise ArgumentError(f"plot_bubble_up: top and values must be >= 1, got {top!r}, {values!r}")
    make_subplots = require("plotly.subplots", "plot").make_subplots
    dims = list(dict.fromkeys(hits["dimension"].astype(object).tolist()))[: int(top)]
    n = max(len(dims), 1)
    # panels side by side only when their value labels leave room for the bars (a label is ~6.5 px a
    # character; labels of a panel on the right are drawn in the gap between the panels)
    label_px = 6.5 * max((len(short_text(str(v))) for d in dims
                          for v in hits.loc[hits["dimension"] == d, "value"].head(int(values))), default=4) + 34
    ncol = max(1, min(3, n, int(1000 // (label_px + 220))))
    nrow = -(-n // ncol)
    panel_px = 22 * min(int(values), int(hits.groupby("dimension").size().max()) if len(hits) else 1) + 60
    height = int(min(max(300, nrow * (panel_px + 80) + 120), 2400))
    qcol = "q_value" in hits.columns
    titles = []
    for d in dims:
        sig = qcol and bool((hits.loc[hits["dimension"] == d, "q_value"] < 0.05).any())
        # cut (legend_text): a 500-character attribute key was printed whole over its panel and along its y axis
        titles.append(legend_text(d) + (" *" if sig else ""))
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=titles or None,
                        horizontal_spacing=min(0.5, label_px / 1000 + 0.03) if ncol > 1 else 0.1,
                        vertical_spacing=min(0.3, 90 / height) if nrow > 1 else 0.1)

    def num(r: Any, c: str) -> float:
        return float(r[c]) if c in r and pd.notna(r[c]) else float("nan")

    for i, d in enumerate(dims):
        sub = hits[hits["dimension"] == d].head(int(values))
        plain = [str(v) for v in sub["value"].tolist()]
        ylab = [esc(v) for v in plain]
        hover = []
        for lab, (_, r) in zip(plain, sub.iterrows(), strict=True):
            parts = [f"<b>{hover_text(d)} = {hover_text(lab)}</b>",
                     f"selection: {percent(num(r, 'share_selection'), 1)}" + (f" ({int(r['selection_count'])})" if "selection_count" in r else ""),
                     f"baseline: {percent(num(r, 'share_baseline'), 1)}" + (f" ({int(r['baseline_count'])})" if "baseline_count" in r else "")]
            if "diff_lo" in r and pd.notna(r["diff_lo"]):
                parts.append(f"difference: {num(r, 'diff'):+.1%} [{num(r, 'diff_lo'):+.1%}, {num(r, 'diff_hi'):+.1%}]")
            if "lift" in r and pd.notna(r["lift"]):
                parts.append(f"lift: {num(r, 'lift'):.3g}")
            if qcol and pd.notna(r["q_value"]):
                parts.append(f"q: {num(r, 'q_value'):.3g}")
            if "delta_latency_ms" in r and pd.notna(r["delta_latency_ms"]):
                parts.append(f"latency with − without: {ms_text(num(r, 'delta_latency_ms'), signed=True)}")
            if "delta_error_rate" in r and pd.notna(r["delta_error_rate"]):
                parts.append(f"error rate with − without: {num(r, 'delta_error_rate'):+.1%}")
            elif hits.attrs.get("status_recorded") is False:  # core.status_recorded: unknown, not 0
                parts.append("error rate with − without: unknown (no span records a status)")
            hover.append("<br>".join(parts))
        row, col = i // ncol + 1, i % ncol + 1
        for role, column, color in (("baseline", "share_baseline", "#9DA3AE"), ("selection", "share_selection", PALETTE[0])):
            fig.add_trace(go.Bar(orientation="h", y=ylab, x=sub[column].to_numpy(dtype=float), name=role,
                                 legendgroup=role, showlegend=i == 0, marker=dict(color=color),
                                 meta={"role": role, "dimension": str(d)}, hovertext=hover, hoverinfo="text"),
                          row=row, col=col)
        fig.update_yaxes(autorange="reversed", type="category", automargin=True, row=row, col=col,
                         title=dict(text=esc(short_text(str(d), _AXIS_TITLE_CHARS)), font=dict(size=11), standoff=2), **category_ticks(plain))
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=row, col=col,
                         title=dict(text=f"share of {esc(str(hits.attrs.get('level', 'trace')))}s", font=dict(size=11)))
    nsel = hits.attrs.get("n_selection")
    nbase = hits.attrs.get("n_baseline")
    default = "What distinguishes the selection" + (f" ({nsel} vs {nbase} {hits.attrs.get('level', 'trace')}s)" if nsel is not None else "")
    fig.update_layout(barmode="group", title=esc(title or default), height=height)
    if not dims:  # no panel at all: a title over nothing
        say_empty(fig, "no attribute value to draw: the attribution has no rows")
    return fig
