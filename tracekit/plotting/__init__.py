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
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.waterfall import WATERFALL_COLUMNS, waterfall_data
from ..core import normalize_trace_id, routes
from ..errors import TraceKitError, require

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
    "EDGE_COLORS",
    "plot_compare",
]

#: Qualitative palette of 20 colours: Kelly's colours of maximum contrast without white, black, red
#: (red marks errors) and grey (grey marks the baseline), plus cyan and indigo; the four that were
#: hard to tell from a neighbour (two yellows, two violets, two teals: CIELAB distance 13–19) replaced
#: by violet, pink, magenta and green, and the light blue that looked like the baseline grey (22) by
#: periwinkle, so any two, and each against red, grey and the critical-path black, are at least 25
#: apart (a test measures it).
#: :func:`service_colors` hashes a service's name onto it.
PALETTE: tuple[str, ...] = (
    "#0067A5", "#F38400", "#008856", "#875692", "#F3C300", "#E68FAC", "#654522", "#6B6ECF", "#8DB600", "#AB63FA",
    "#F99379", "#C2B280", "#B3446C", "#17BECF", "#FF97FF", "#2B3D26", "#CF1C90", "#2CA02C", "#6B6B1E", "#332288",
)
#: Outline of error spans and colour of error markers.
ERROR_COLOR = "#D62728"
#: Critical-path overlay colour.
CRITICAL_COLOR = "#111111"

_esc = html.escape


def _key_text(values: pd.Series) -> pd.Series:
    """A key column as text, missing values as ``<NA>`` (``astype(str)`` alone keeps them as floats)."""
    return values.astype(object).where(values.notna(), "<NA>").astype(str)


def _palette_slot(name: str) -> int:
    """The palette slot a name prefers: a CRC-32 of its UTF-8 bytes (stable across runs and machines)."""
    return zlib.crc32(name.encode("utf-8")) % len(PALETTE)


def service_colors(services: Iterable[Any]) -> dict[str, str]:
    """One colour per service, the same in every figure: each name hashed onto :data:`PALETTE`.

    A service's colour depends on its name only, not on which other services are present or
    in what order, except when two names of one call hash to the same slot: then the names are
    taken in sorted order and a later one moves to the next free slot (so the colours of one
    call are distinct as long as there are at most ``len(PALETTE)`` services; beyond that they
    repeat). Missing values (None, NaN) are skipped; names are compared as text.

    Parameters
    ----------
    services : iterable
        Service names (repeats allowed).

    Returns
    -------
    dict of str to str
        Service name → ``#RRGGBB``, in sorted name order.

    Examples
    --------
    >>> c = service_colors(["db", "api", "db"])
    >>> sorted(c), c["api"] == service_colors(["api", "checkout", "payments"])["api"]
    (['api', 'db'], True)
    >>> len(set(service_colors(f"svc-{i}" for i in range(20)).values()))
    20
    """
    names = sorted({str(s) for s in services if s is not None and not (isinstance(s, float) and np.isnan(s)) and s is not pd.NA})
    k = len(PALETTE)
    taken: set[int] = set()
    out: dict[str, str] = {}
    for s in names:
        slot = _palette_slot(s)
        if len(taken) < k:
            while slot in taken:
                slot = (slot + 1) % k
            taken.add(slot)
        out[s] = PALETTE[slot]
    return out


def bar_colors(trace: Any) -> list[str]:
    """The colour each bar of a bar trace is drawn in (a list, also when one colour is set for all).

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "auth"], "name": ["x", "y"],
    ...     "start": [0, 1], "end": [5, 3]})
    >>> c = service_colors(["web", "auth"])
    >>> bar_colors(tk.plot_waterfall(spans).data[0]) == [c["web"], c["auth"]]
    True
    """
    color = trace.marker.color
    return [color] * len(trace.x) if isinstance(color, str) else [str(c) for c in color]


def _is_waterfall_rows(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and all(c in df.columns for c in ("depth", "start_ms", "cp_sections", "hover"))


# --------------------------------------------------------------------------------------------------
# waterfall

_MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_LABEL_CHARS = 56


def _tree_prefixes(depth: Sequence[int]) -> list[str]:
    """Tree-drawing prefixes (``├─ ``, ``└─ ``, ``│  ``) for rows in depth-first order, linear time.

    >>> _tree_prefixes([0, 1, 2, 1, 0])
    ['', '├─ ', '│  └─ ', '└─ ', '']
    """
    n = len(depth)
    last = [True] * n
    seen: list[bool] = []  # seen[d]: a later row at depth d under the same ancestor (backward scan)
    for i in range(n - 1, -1, -1):
        d = int(depth[i])
        if len(seen) <= d:
            seen += [False] * (d + 1 - len(seen))
        last[i] = not seen[d]
        seen[d] = True
        del seen[d + 1:]
    out = []
    open_: list[bool] = []  # open_[k]: the ancestor at depth k+1 has later siblings (draw │)
    for i in range(n):
        d = int(depth[i])
        if d == 0:
            out.append("")
            open_ = []
            continue
        del open_[d - 1:]
        out.append("".join("│  " if o else "   " for o in open_) + ("└─ " if last[i] else "├─ "))
        open_.append(not last[i])
    return out


def _waterfall_header(rows: pd.DataFrame, start: Any) -> str:
    """One line under the title: request duration, start time, status, span count."""
    roots = rows[rows["depth"].to_numpy() == 0]
    parts = []
    if len(roots):
        parts.append(f"request {float(roots['duration_ms'].iloc[0]):,.1f} ms")
    if start is not None and pd.notna(start):
        t = pd.Timestamp(start)
        t = t.tz_convert("UTC") if t.tzinfo is not None else t
        parts.append(f"started {t.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC")
    n_err = int(rows["is_error"].to_numpy(dtype=bool).sum())
    root_err = bool(len(roots)) and bool(roots["is_error"].iloc[0])
    parts.append(("failed" if root_err else "ok") + (f" ({n_err} error span{'s' if n_err != 1 else ''})" if n_err else ""))
    if bool(rows["in_progress"].to_numpy(dtype=bool).any()):
        parts.append("in progress")
    total = len(rows) + int(rows["n_hidden"].sum())
    parts.append(f"{total:,} span{'s' if total != 1 else ''}" + (f", {len(rows):,} shown" if total != len(rows) else ""))
    return " · ".join(parts)



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
    :func:`tracekit.plotting.gl.plot_waterfall_gl` (canvas, level of detail: 100,000 spans
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
    >>> c = tk.plotting.service_colors(["api", "db"])
    >>> [float(v) for v in bars.base], [float(v) for v in bars.x], tk.plotting.bar_colors(bars) == [c["api"], c["db"], c["api"]]
    ([0.0, 1.0, 6.0], [10.0, 4.0, 3.0], True)
    >>> [t.meta for t in fig.data]
    ['spans', 'critical_path', 'errors', 'legend', 'legend']
    >>> [float(v) for v in fig.data[2].y], fig.data[2].marker.line.color
    ([1.0], '#D62728')
    """
    trace_start = None
    if _is_waterfall_rows(spans):
        rows = spans
        trace_start = rows.attrs.get("trace_start")
        shown_id = trace_id
    else:
        if trace_id is not None:
            trace_id = normalize_trace_id(trace_id)
        rows = waterfall_data(spans, trace_id, critical_path=critical_path, collapse=collapse, max_depth=max_depth)
        sub = spans if trace_id is None else spans[spans["trace_id"] == trace_id]
        shown_id = trace_id if trace_id is not None else (str(sub["trace_id"].iloc[0]) if len(sub) else None)
        if len(sub):
            trace_start = sub["start"].min()
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
    log_err = rows["log_errors"].to_numpy(dtype=np.int64) if "log_errors" in rows.columns else np.zeros(n, np.int64)
    if (log_err > 0).any():  # spans with ERROR log records (tk.attach_logs): a marker at the span's end
        le = log_err > 0
        data.append(go.Scatter(
            x=(start_ms + np.nan_to_num(dur_ms))[le], y=y[le], mode="markers", name="ERROR logs", meta="log_errors",
            marker=dict(symbol="diamond", size=9, color=ERROR_COLOR, line=dict(color="white", width=1)),
            hovertext=[f"{int(k)} ERROR log record{'s' if k != 1 else ''}" for k in log_err[le]], hoverinfo="text",
            showlegend=True))
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
    if n <= max_labels:
        # tree prefix + service chip + "service · operation" (the operation alone when it repeats
        # the service, as X-Ray segment names do), ⚠ on errors, (+N) folded; monospace and padded
        # on the right with non-breaking spaces, so the labels line up on the left like a tree
        prefixes = _tree_prefixes(rows["depth"].tolist())
        plain, chips = [], []
        for pre, svc, nm, err, h in zip(prefixes, services.tolist(), rows["name"].astype(object).tolist(),
                                        is_error.tolist(), n_hidden.tolist(), strict=True):
            svc, nm = str(svc), str(nm)
            head = ("⚠ " if err else "") + ("" if nm == svc else f"{svc} · ")
            tail = f" (+{int(h)})" if h else ""
            room = max(12, _LABEL_CHARS - len(pre) - 2)
            if len(head) + len(nm) + len(tail) > room:
                # shorten the operation from the left: its end ("…Service/Convert") tells operations apart
                keep = max(6, room - len(head) - len(tail) - 1)
                nm = "…" + nm[-keep:]
            body = head + nm + tail
            plain.append(pre + "■ " + body)
            chips.append((pre, palette.get(svc, "#999999"), body))
        width = max((len(t) for t in plain), default=0)
        ticktext = [
            _esc(pre).replace(" ", "\u00a0") + f'<span style="color:{c}">■</span>\u00a0' + _esc(body).replace(" ", "\u00a0")
            + "\u00a0" * (width - len(t))
            for (pre, c, body), t in zip(chips, plain, strict=True)
        ]
        # the duration written beside each bar (only with labels: text on thousands of bars slows the browser)
        spans_trace.text = [f"{d:,.1f} ms" if np.isfinite(d) else "" for d in dur_ms.tolist()]
        spans_trace.textposition = "outside"
        spans_trace.textfont = dict(size=10, color="#333333")
        spans_trace.cliponaxis = False
    header = _waterfall_header(rows, trace_start)
    head = _esc(title) if title else (f"trace {_esc(str(shown_id))}" if shown_id is not None else "trace waterfall")
    fig = go.Figure(data=data)
    fig.update_layout(
        barmode="overlay",
        bargap=0.2,
        height=height or int(min(max(300, 20 * n + 170), 1100)),
        title=dict(text=f"{head}<br><sup>{_esc(header)}</sup>", x=0.01, xanchor="left", yref="container", y=1.0,
                   yanchor="top", pad=dict(t=14)),
        hovermode="closest",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
        margin=dict(l=10, r=60, t=100, b=40),
        xaxis=dict(title="ms from trace start", rangemode="tozero", zeroline=True),
        yaxis=dict(
            title="span (tree by parent)",
            autorange="reversed",
            tickmode="array" if ticktext is not None else "auto",
            tickvals=y if ticktext is not None else None,
            ticktext=ticktext,
            tickfont=dict(family=_MONO, size=11),
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


def _auto_log(values: np.ndarray) -> bool:
    """Log x when the positive values span more than two decades (a linear axis would put nearly
    everything in the first bins)."""
    pos = values[np.isfinite(values) & (values > 0)]
    return bool(len(pos)) and float(pos.max()) > 100.0 * float(pos.min())


def _ecdf_xy(v: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    v = np.sort(v)
    k = len(v)
    frac = np.arange(1, k + 1) / k
    if k > max_points:
        idx = np.unique(np.linspace(0, k - 1, max_points).round().astype(np.int64))
        v, frac = v[idx], frac[idx]
    return v, frac


def _log_ticks(values: Iterable[float]) -> dict[str, Any]:
    """Tick values 1-2-5 per decade over the positive values, labelled in ms (plotly's default log
    ticks label the minor digits only, "2 3 4 … 100")."""
    v = np.asarray([x for x in values if np.isfinite(x) and x > 0], dtype=float)
    if not len(v):
        return {}
    lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
    ticks = [m * 10.0 ** e for e in np.arange(lo, hi + 1) for m in (1, 2, 5) if v.min() / 1.5 <= m * 10.0 ** e <= v.max() * 1.5]
    if len(ticks) < 2:
        return {}
    return dict(tickmode="array", tickvals=ticks, ticktext=[f"{t:,.4g}" for t in ticks])


def _fmt_ms(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{v:,.0f} ms" if abs(v) >= 100 else f"{v:,.3g} ms"


def plot_latency(
    spans: pd.DataFrame,
    by: str | Sequence[str] | None = "service",
    *,
    kind: str = "histogram",
    log_x: bool | None = None,
    bins: int = 40,
    top: int = 10,
    roots_only: bool = False,
    max_points: int = 2000,
    baseline: pd.DataFrame | None = None,
    title: str | None = None,
) -> Any:
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
    top : int
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
        raise TraceKitError(f"plot_latency: kind must be 'histogram' or 'ecdf', got {kind!r}")

    def prepare(frame: pd.DataFrame, what: str) -> tuple[pd.Series, np.ndarray]:
        if not isinstance(frame, pd.DataFrame) or "duration_ms" not in frame.columns:
            raise TraceKitError(f"plot_latency: {what} must be a spans DataFrame with a duration_ms column")
        sel = frame[frame["parent_id"].isna()] if roots_only else frame
        d = sel["duration_ms"].to_numpy(dtype=float, na_value=np.nan)
        return _latency_groups(sel, by), d

    groups, dur = prepare(spans, "spans")
    bgroups, bdur = prepare(baseline, "baseline") if baseline is not None else (None, None)
    if log_x is None:
        log_x = _auto_log(dur if bdur is None else np.concatenate([dur, bdur]))
    ok = np.isfinite(dur) & ((dur > 0) if log_x else (dur >= 0))
    groups, dur = groups[ok], dur[ok]
    if bdur is not None:
        bok = np.isfinite(bdur) & ((bdur > 0) if log_x else (bdur >= 0))
        bgroups, bdur = bgroups[bok], bdur[bok]
    counts = groups.value_counts(sort=False)
    order = sorted(counts.index, key=lambda g: (-counts[g], g))[:top]
    cmap = service_colors(order) if by == "service" else {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}
    gv = groups.to_numpy(dtype=object)
    bgv = bgroups.to_numpy(dtype=object) if bgroups is not None else None
    data = []
    if kind == "histogram" and len(dur):
        both = dur if bdur is None or not len(bdur) else np.concatenate([dur, bdur])
        lo, hi = float(both.min()), float(both.max())
        if hi <= lo:
            hi = lo + 1.0
        edges = np.logspace(np.log10(lo), np.log10(hi), bins + 1) if log_x else np.linspace(lo, hi, bins + 1)
        edges[0], edges[-1] = lo, hi  # exact ends, so the extremes are always counted
    unit = "spans" if by is not None or not roots_only else "requests"
    for g in order:
        series = [(dur[gv == g], _esc(g), g, "solid")]
        if bgv is not None:
            series.append((bdur[bgv == g], f"baseline · {_esc(g)}", f"baseline · {g}", "dash"))
        for v, name, meta, dash in series:
            if not len(v):
                continue
            line = dict(shape="hv", color=cmap[g], dash=dash)
            if kind == "histogram":
                c, _ = np.histogram(v, bins=edges)
                trace = go.Scatter(x=edges, y=np.append(c, c[-1]).astype(float), mode="lines", line=line, name=name, meta=meta,
                                   hovertemplate=f"%{{x:,.4g}} ms: %{{y}} {unit}<extra>%{{fullData.name}}</extra>")
            else:
                x, frac = _ecdf_xy(v, max_points)
                trace = go.Scatter(x=x, y=frac, mode="lines", line=line, name=name, meta=meta,
                                   hovertemplate=f"%{{y:.1%}} of {unit} ≤ %{{x:,.4g}} ms<extra>%{{fullData.name}}</extra>")
            data.append(trace)
    fig = go.Figure(data=data)
    dropped = len(counts) - len(order)
    default_title = (f"{'request' if roots_only else 'span'} latency by {by if isinstance(by, str) else ' · '.join(by or ['all'])}"
                     + (" vs baseline (dashed)" if baseline is not None else "")
                     + (f" (top {len(order)} of {len(counts)} groups)" if dropped > 0 else ""))
    fig.update_layout(
        title=_esc(title or default_title),
        xaxis=dict(title=f"{'root span' if roots_only else 'span'} duration (ms{', log scale' if log_x else ''})",
                   type="log" if log_x else "linear", **(_log_ticks(dur) if log_x else {})),
        yaxis=dict(title=f"{unit} per bin" if kind == "histogram" else f"fraction of {unit} ≤ x",
                   rangemode="tozero", tickformat=".0%" if kind == "ecdf" else None),
        hovermode="closest",
    )
    return fig


def plot_latency_ecdf(
    incident: Any,
    baseline: Any = None,
    *,
    by: str | Sequence[str] | None = None,
    top: int = 10,
    max_points: int = 2000,
    labels: tuple[str, str] = ("incident", "baseline"),
    title: str | None = None,
) -> Any:
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
    incident : pandas.DataFrame or pandas.Series or array-like
        Spans of the period under investigation, or request latencies in ms.
    baseline : pandas.DataFrame or pandas.Series or array-like, optional
        Spans (or latencies) of a normal period.
    by : str or sequence of str, optional
        Group span durations (``None``: request latency, one line per period).
    top : int
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
    from ..core import percentile, trace_outcomes

    if by is not None:
        if not isinstance(incident, pd.DataFrame) or (baseline is not None and not isinstance(baseline, pd.DataFrame)):
            raise TraceKitError("plot_latency_ecdf: by= needs spans DataFrames (span durations are grouped)")

    def values(x: Any, what: str) -> pd.Series:
        if isinstance(x, pd.DataFrame):
            if by is None:
                return pd.Series(trace_outcomes(x)["request_ms"].to_numpy(dtype=float, na_value=np.nan)).rename("all")
            if "duration_ms" not in x.columns:
                raise TraceKitError(f"plot_latency_ecdf: {what} spans have no duration_ms column")
            return pd.Series(x["duration_ms"].to_numpy(dtype=float, na_value=np.nan), index=_latency_groups(x, by).to_numpy())
        try:
            return pd.Series(np.asarray(x, dtype=float)).rename("all")
        except (TypeError, ValueError) as exc:
            raise TraceKitError(f"plot_latency_ecdf: {what} must be spans or latencies in ms, got {type(x).__name__}") from exc

    inc = values(incident, "incident")
    base = values(baseline, "baseline") if baseline is not None else None
    inc = inc[np.isfinite(inc.to_numpy()) & (inc.to_numpy() > 0)]
    if base is not None:
        base = base[np.isfinite(base.to_numpy()) & (base.to_numpy() > 0)]
    if by is None:
        order = ["all"]
        ginc = {"all": inc.to_numpy()}
        gbase = {"all": base.to_numpy()} if base is not None else {}
        cmap = {"all": PALETTE[0]}
    else:
        counts = pd.Series(inc.index).value_counts(sort=False)
        order = sorted(counts.index, key=lambda g: (-counts[g], g))[:top]
        idx = inc.index.to_numpy(dtype=object)
        ginc = {g: inc.to_numpy()[idx == g] for g in order}
        bidx = base.index.to_numpy(dtype=object) if base is not None else None
        gbase = {g: base.to_numpy()[bidx == g] for g in order} if base is not None else {}
        cmap = service_colors(order) if by == "service" else {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}
    unit = "requests" if by is None else "spans"
    data = []
    for g in order:
        for period, label, v, dash, color in (
            ("incident", labels[0], ginc[g], "solid", cmap[g]),
            ("baseline", labels[1], gbase.get(g), "dash", "#7F8591" if by is None else cmap[g]),
        ):
            if v is None or not len(v):
                continue
            p50, p95 = (float(q) for q in percentile(v, (0.5, 0.95)))
            x, frac = _ecdf_xy(v, max_points)
            name = (_esc(label) if by is None else f"{_esc(g)} · {_esc(label)}") + f" (n={len(v):,}, p50 {_fmt_ms(p50)}, p95 {_fmt_ms(p95)})"
            data.append(go.Scatter(x=x, y=frac, mode="lines", line=dict(shape="hv", color=color, dash=dash, width=2),
                                   name=name, meta={"period": period, "group": g},
                                   hovertemplate=f"%{{y:.1%}} of {unit} ≤ %{{x:,.4g}} ms<extra>{_esc(label)}</extra>"))
    fig = go.Figure(data=data)
    what = "request latency" if by is None else f"span duration by {by if isinstance(by, str) else ' · '.join(by)}"
    default = what + (f": {labels[0]} vs {labels[1]}" if baseline is not None else "")
    fig.add_hline(y=0.95, line=dict(color="#BBBBBB", dash="dot", width=1), annotation_text="p95",
                  annotation_position="bottom right", annotation_font_size=10)
    fig.update_layout(
        title=_esc(title or default),
        xaxis=dict(title=f"{what.split(' by ')[0]} (ms, log scale)", type="log",
                   **_log_ticks([float(t.x[0]) for t in data if len(t.x)] + [float(t.x[-1]) for t in data if len(t.x)])),
        yaxis=dict(title=f"fraction of {unit} ≤ x", range=[0, 1.02], tickformat=".0%"),
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
        hovermode="closest",
        margin=dict(b=110),
    )
    return fig


__all__.append("plot_latency_ecdf")


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
        xaxis=dict(title={"cp_ms": "critical-path time (ms, summed over traces)", "mean_ms": "critical-path time per trace (ms)",
                          "share": "share of end-to-end time"}.get(value, value.replace("_ms", " (ms)"))),
        yaxis=dict(autorange="reversed", automargin=True, type="category", title=_esc(" · ".join(map(str, keys)))),
        height=int(min(max(250, 28 * len(bd) + 120), 900)),
    )
    return fig


# --------------------------------------------------------------------------------------------------
# service graph


def _layered_positions(G) -> tuple[dict[Any, tuple[float, float]], dict[tuple, list[tuple[float, float]]]]:
    """Positions of a layered left-to-right drawing and the bends of long edges.

    The layer of a node is that of :func:`tracekit.analysis.graph.graph_layout` (callers left of
    callees; nodes on a cycle share one). An edge spanning several layers gets a bend point in
    every layer it crosses (a Sugiyama dummy node), so it runs around the nodes in between
    instead of through them. Each layer is ordered by the barycentre of its neighbours (four
    down-and-up sweeps, fewer crossings), then y is the rank centred on 0, one unit apart.
    Returns ``(pos, bends)``: node → (x, y) and edge (u, v) → bend points."""
    from ..analysis.graph import graph_layout

    lay = graph_layout(G)
    lay = lay[lay["element"] == "node"]
    layer = {v: float(x) for v, x in zip(lay["node"].tolist(), lay["x"].tolist(), strict=True)}
    layers: dict[float, list] = {}
    for v in lay["node"].tolist():
        layers.setdefault(layer[v], []).append(v)
    up: dict[Any, list] = {v: [] for v in G.nodes}  # neighbours one layer left / right (dummies included)
    down: dict[Any, list] = {v: [] for v in G.nodes}
    chains: dict[tuple, list] = {}
    for u, v in G.edges:
        if u == v:
            continue
        lu, lv = layer[u], layer[v]
        if abs(lv - lu) <= 1:
            if lv > lu:
                down[u].append(v)
                up[v].append(u)
            elif lv < lu:
                down[v].append(u)
                up[u].append(v)
            continue
        step = 1.0 if lv > lu else -1.0
        prev = u
        chain = []
        x = lu + step
        while (x - lv) * step < 0:
            d = ("__bend__", u, v, x)
            layers.setdefault(x, []).append(d)
            layer[d] = x
            up[d], down[d] = [], []
            a_, b_ = (prev, d) if step > 0 else (d, prev)
            down[a_].append(b_)
            up[b_].append(a_)
            chain.append(d)
            prev = d
            x += step
        a_, b_ = (prev, v) if step > 0 else (v, prev)
        down[a_].append(b_)
        up[b_].append(a_)
        chains[(u, v)] = chain
    xs = sorted(layers)
    for x in xs:
        layers[x].sort(key=lambda v: (isinstance(v, tuple) and len(v) == 4 and v[0] == "__bend__", str(v)))
    y = {v: float(i - (len(vs) - 1) / 2) for x in xs for vs in [layers[x]] for i, v in enumerate(vs)}
    links = [(a_, b_) for a_ in down for b_ in down[a_]]

    def crossings() -> int:
        if len(links) > 400:
            return 0
        n_cross = 0
        for i, (a1, b1) in enumerate(links):
            for a2, b2 in links[i + 1:]:
                if layer[a1] == layer[a2] and a1 != a2 and b1 != b2 and (y[a1] - y[a2]) * (y[b1] - y[b2]) < 0:
                    n_cross += 1
        return n_cross

    best = (crossings(), dict(y))
    for _ in range(6):  # median-free barycentre sweeps, callers last (the order read left to right)
        for nbrs, order in ((down, xs[-2::-1]), (up, xs[1:])):
            for x in order:
                vs = layers[x]

                def centre(v, nbrs=nbrs):
                    nb = nbrs[v]
                    return float(np.mean([y[u] for u in nb])) if nb else y[v]

                keyed = sorted(((centre(v), y[v], str(v)), v) for v in vs)
                layers[x] = vs = [v for _, v in keyed]
                for i, v in enumerate(vs):
                    y[v] = float(i - (len(vs) - 1) / 2)
            c = crossings()
            if c < best[0]:
                best = (c, dict(y))
    y = best[1]
    pos = {v: (layer[v], y[v]) for v in G.nodes}
    bends = {e: [(layer[d], y[d]) for d in chain] for e, chain in chains.items()}
    return pos, bends


def _positions(G, pos) -> dict[Any, tuple[float, float]]:
    if pos is None:
        return _layered_positions(G)[0] if len(G) else {}
    if isinstance(pos, pd.DataFrame):
        if "element" in pos.columns:  # graph_layout: node rows and edge rows
            pos = pos[pos["element"] == "node"]
        df = pos.set_index("node") if "node" in pos.columns else pos
        return {k: (float(r["x"]), float(r["y"])) for k, r in df.iterrows()}
    return {k: (float(v[0]), float(v[1])) for k, v in dict(pos).items()}


def _num(a: Mapping, *keys: str) -> float | None:
    for k in keys:
        v = a.get(k)
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return float(v)
    return None


def _edge_failed_share(a: Mapping) -> float | None:
    calls, nfail = _num(a, "calls", "weight"), _num(a, "failed", "errors")
    return nfail / calls if calls and nfail is not None else None


#: Edge colours of the service map: without a baseline by failed share, with one by the change of p95.
EDGE_COLORS: dict[str, str] = {
    "ok": "#8C8C8C", "failing": "#F4A261", "failing ≥ 5%": ERROR_COLOR,
    "slower ×2+": "#B2182B", "slower": "#EF8A62", "unchanged": "#B4B4B4", "faster": "#4393C3",
    "new": "#7B3294", "gone": "#CFCFCF",
}


def _edge_class(a: Mapping | None, b: Mapping | None) -> str:
    """The colour class of an edge: ``a`` its attributes, ``b`` the baseline's (None: no baseline given
    when both are dicts… see callers)."""
    if b is None:
        r = _edge_failed_share(a or {})
        return "ok" if not r else ("failing ≥ 5%" if r >= 0.05 else "failing")
    if a is None:
        return "gone"
    if not b:
        return "new"
    pa, pb = _num(a, "p95_ms", "p95"), _num(b, "p95_ms", "p95")
    if pa is None or pb is None or not np.isfinite(pa) or not np.isfinite(pb):
        return "unchanged"
    if pa >= 2 * pb and pa - pb >= 1.0:
        return "slower ×2+"
    if pa >= 1.2 * pb and pa - pb >= 1.0:
        return "slower"
    if pa <= pb / 1.2 and pb - pa >= 1.0:
        return "faster"
    return "unchanged"


def _fmt_num(v: float) -> str:
    """A hover number: thousands separators, no exponent for the sizes traces have."""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


def _fmt_pct(r: float | None) -> str:
    return "–" if r is None else f"{r:.1%}" if r < 0.1 else f"{r:.0%}"


def _service_of(G, v) -> str:
    a = G.nodes[v] if v in G else {}
    return str(a.get("service", v)) if G.graph.get("by") == "operation" else str(v)


def _ops_of(ops_graph, v, by_node: dict) -> list[str]:
    """Hover lines listing the operations of node ``v`` from an operation-level graph."""
    lines = []
    for op, a in by_node.get(str(v), [])[:12]:
        n = _num(a, "spans")
        lines.append(f"· {_esc(str(a.get('name', op)))}" + (f" ({int(n):,} spans)" if n else ""))
    more = len(by_node.get(str(v), [])) - 12
    if more > 0:
        lines.append(f"· … {more} more")
    return lines


def _place_edge_labels(paths: list, labels: list[str], nodes: list[tuple[float, float]],
                       px: tuple[float, float]) -> tuple[list[float], list[float]]:
    """Greedy placement of edge labels on their edges, so they overlap neither each other nor a node
    (with its name above it). Candidates lie along each edge's first segment (a long edge's label
    stays near its source), the middle first; sizes are estimated in pixels (``px`` = pixels per
    data unit in x and y; 6 px per character of a 10 px font). An edge whose candidates all
    collide takes the least-overlapping one."""
    sx, sy = px
    boxes: list[tuple[float, float, float, float]] = []
    for x, y in nodes:  # the marker and the name above it
        boxes.append((x * sx - 40, x * sx + 40, y * sy - 38, y * sy + 13))

    def overlap(b: tuple[float, float, float, float]) -> float:
        tot = 0.0
        for c in boxes:
            w = min(b[1], c[1]) - max(b[0], c[0])
            h = min(b[3], c[3]) - max(b[2], c[2])
            if w > 0 and h > 0:
                tot += w * h
        return tot

    out_x, out_y = [0.0] * len(paths), [0.0] * len(paths)
    order = sorted(range(len(paths)), key=lambda i: -len(labels[i]))  # the longest labels choose first
    for i in order:
        (x0, y0), (x1, y1) = paths[i][0], paths[i][1]
        if (x0, y0) == (x1, y1):  # self-loop: above the node
            out_x[i], out_y[i] = x0, y0 - 0.45
            continue
        lines = html.unescape(labels[i]).split("<br>")
        half_w, half_h = 3.0 * max(len(x) for x in lines) + 4, 7.0 * len(lines) + 1
        best = None
        for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82):
            cx, cy = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            b = (cx * sx - half_w, cx * sx + half_w, cy * sy - half_h, cy * sy + half_h)
            o = overlap(b)
            if best is None or o < best[0]:
                best = (o, cx, cy, b)
            if o == 0:
                break
        _, out_x[i], out_y[i], b = best
        boxes.append(b)
    return out_x, out_y


def plot_service_graph(
    G,
    *,
    pos: Any = None,
    max_arrows: int = 300,
    baseline: Any = None,
    operations: Any = None,
    edge_labels: bool = True,
    title: str | None = None,
) -> Any:
    """Service map from :func:`tracekit.service_graph`: callers left, callees right, calls as arrows.

    Nodes are the graph's nodes (services, and the uninstrumented peers ``service_graph`` names,
    such as a database or an external host), in layers from the services nobody calls (left) to
    their callees (right), each layer ordered to reduce crossings; every node is drawn in its
    :func:`service_colors` colour with its name in a label above it, its outline red when its
    failed share (``failed`` or ``errors`` over ``calls``/``spans``) is above 0. Edges are arrows
    (up to ``max_arrows``) whose width grows with the calls and whose colour is their class in
    :data:`EDGE_COLORS`: by failed share, or with a ``baseline`` graph by the change of p95 (new
    and vanished calls included; the baseline's nodes join the layout). A label near each edge's
    start reads ``calls · p95`` (and the failed share when there are failures, or p95 before →
    after with a baseline); the hover of the edge midpoint marker and of the node list every
    number and, when ``operations`` is given (the graph of ``service_graph(spans,
    by="operation")``), the operations behind a node and an edge.

    Traces, in order: ``meta="edges"`` (one grey line trace of every edge), ``meta="edge_info"``
    (a marker per edge at its label: ``customdata`` = the edge class, ``hovertext`` its numbers),
    ``meta="nodes"`` (one marker per node: ``text`` the names, ``customdata`` the failed share),
    then legend-only entries (``meta="legend"``) for the edge classes present. Node labels and
    arrows are layout annotations (names ``node_label``/``arrow``).

    Parameters
    ----------
    G : networkx.DiGraph
        The graph of :func:`tracekit.service_graph` (or any graph with such attributes).
    pos : dict or pandas.DataFrame, optional
        Node positions (default: the layered layout described above).
    max_arrows : int
        Most arrow annotations drawn.
    baseline : networkx.DiGraph, optional
        The same graph for a normal period: edges are coloured by their change of p95.
    operations : networkx.DiGraph, optional
        The operation-level graph (``service_graph(spans, by="operation")``) of the same spans,
        listed in the hovers.
    edge_labels : bool
        Write calls and p95 on every edge.
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
    >>> [t.meta for t in fig.data]
    ['edges', {'edge': ['api', 'db'], 'class': 'failing ≥ 5%'}, 'edge_info', 'nodes', 'legend']
    >>> info = next(t for t in fig.data if t.meta == "edge_info")
    >>> info.hovertext[0]
    '<b>api → db</b><br>calls: 10<br>failed: 1 (10.0%)<br>p50: 3<br>p95: 9.5'
    >>> B = nx.DiGraph(); B.add_edge("api", "db", calls=10, p95_ms=4.0)
    >>> G.edges["api", "db"]["p95_ms"] = 9.5
    >>> fig = tk.plot_service_graph(G, baseline=B)
    >>> [a.text for a in fig.layout.annotations if a.name == "edge_label"]
    ['10 calls · 10% failed<br>p95 4 ms → 9.5 ms']
    """
    nx = require("networkx", "core")
    U = G
    if baseline is not None:
        if not isinstance(baseline, nx.DiGraph):
            raise TraceKitError(f"plot_service_graph: baseline must be a networkx.DiGraph, got {type(baseline).__name__}")
        U = nx.DiGraph(G)
        for v, a in baseline.nodes(data=True):
            if v not in U:
                U.add_node(v, **a)
        for u, v in baseline.edges:
            if not U.has_edge(u, v):
                U.add_edge(u, v)
    if pos is None and len(U):
        p, bends = _layered_positions(U)
    else:
        p, bends = _positions(U, pos), {}
    missing = [n for n in U.nodes if n not in p]
    if missing:
        raise TraceKitError(f"plot_service_graph: no position for nodes {missing[:5]}")
    by_op = G.graph.get("by") == "operation"
    cmap = service_colors({_service_of(U, v) for v in U.nodes})
    # the operation-level graph, indexed by service (nodes) and by service pair (edges)
    op_nodes: dict[str, list] = {}
    op_edges: dict[tuple[str, str], list] = {}
    if operations is not None:
        if not isinstance(operations, nx.DiGraph):
            raise TraceKitError(f"plot_service_graph: operations must be the networkx.DiGraph of service_graph(spans, by='operation'), got {type(operations).__name__}")
        for v, a in operations.nodes(data=True):
            if a.get("instrumented", True):
                op_nodes.setdefault(str(a.get("service", v)), []).append((v, a))
        for u, v, a in operations.edges(data=True):
            su = str(operations.nodes[u].get("service", u))
            sv = str(operations.nodes[v].get("service", v))
            op_edges.setdefault((su, sv), []).append((u, v, a))
        for lst in op_nodes.values():
            lst.sort(key=lambda t: -(_num(t[1], "spans") or 0))
        for lst in op_edges.values():
            lst.sort(key=lambda t: -(_num(t[2], "calls") or 0))
    max_calls = max([_num(a, "calls", "weight") or 1.0 for _, _, a in U.edges(data=True)] or [1.0])

    ex: list[float | None] = []
    ey: list[float | None] = []
    mtext, mlabel, mclass, paths, widths = [], [], [], [], []
    annotations: list[dict] = []
    classes_seen: list[str] = []
    for u, v in U.edges:
        a = G.edges[u, v] if G.has_edge(u, v) else None
        b = (baseline.edges[u, v] if baseline.has_edge(u, v) else {}) if baseline is not None else None
        cls = _edge_class(a, b)
        if cls not in classes_seen:
            classes_seen.append(cls)
        path = [p[u], *bends.get((u, v), []), p[v]]
        for x_, y_ in path:
            ex.append(x_)
            ey.append(y_)
        ex.append(None)
        ey.append(None)
        paths.append(path)
        mclass.append(cls)
        cur = a if a is not None else {}
        calls = _num(cur, "calls", "weight")
        p95 = _num(cur, "p95_ms", "p95")
        r = _edge_failed_share(cur)
        info = [f"<b>{_esc(str(u))} → {_esc(str(v))}</b>"]
        if a is None:
            info.append("not called in this period (called in the baseline)")
        for k, val in cur.items():
            if isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool) and k != "weight":
                kk = k[:-3] if k.endswith("_ms") else k
                if k in ("errors", "failed"):
                    info.append(f"failed: {int(val):,}" + (f" ({r:.1%})" if r is not None else ""))
                else:
                    info.append(f"{_esc(str(kk))}: {_fmt_num(val)}" + (" ms" if k.endswith("_ms") else ""))
        if cur.get("async"):
            info.append("asynchronous")
        label = ""
        if calls is not None:
            label = f"{int(calls):,} calls" + (f"\np95 {_fmt_ms(p95)}" if p95 is not None else "")
            if r:
                label += f" · {_fmt_pct(r)} failed"
        if b is not None and b:
            bp95 = _num(b, "p95_ms", "p95")
            bcalls = _num(b, "calls", "weight")
            br = _edge_failed_share(b)
            info.append(f"<i>baseline → now</i>: calls {int(bcalls or 0):,} → {int(calls or 0):,}; "
                        f"p95 {_fmt_ms(bp95 if bp95 is not None else np.nan)} → {_fmt_ms(p95 if p95 is not None else np.nan)}; "
                        f"failed {_fmt_pct(br)} → {_fmt_pct(r)}")
            if bp95 is not None and p95 is not None and cls in ("slower ×2+", "slower", "faster"):
                label = (f"{int(calls or 0):,} calls" + (f" · {_fmt_pct(r)} failed" if r else "")
                         + f"\np95 {_fmt_ms(bp95)} → {_fmt_ms(p95)}")
        if cls in ("new", "gone"):
            label = (label + "\n" if label else "") + cls
        ops = op_edges.get((_service_of(U, u), _service_of(U, v)), []) if not by_op else []
        if ops:
            info.append("operations:")
            for ou, _ov, oa in ops[:10]:
                on = operations.nodes[ou].get("name", ou)
                info.append(f"· {_esc(str(on))}: {int(_num(oa, 'calls') or 0):,} calls, p95 {_fmt_ms(_num(oa, 'p95_ms', 'p95') or np.nan)}")
        mtext.append("<br>".join(info))
        mlabel.append("<br>".join(_esc(x) for x in label.split("\n")) if edge_labels else "")
        width = round(float(1.0 + 3.0 * np.log1p(calls) / np.log1p(max_calls)), 2) if calls else 1.0
        widths.append(width)
        if sum(1 for x in annotations if x.get("name") == "arrow") < max_arrows and u != v:
            (x0, y0), (x1, y1) = path[-2], path[-1]
            annotations.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                                    arrowhead=2, arrowsize=1.0, arrowwidth=width, arrowcolor=EDGE_COLORS[cls],
                                    standoff=13, startstandoff=13 if len(path) == 2 else 0, text="", name="arrow"))
    nodes = list(U.nodes)
    rate, ntext, ncolor, nline = [], [], [], []
    for n in nodes:
        a = U.nodes[n]
        calls = _num(a, "calls", "spans", "requests")
        nfail = _num(a, "failed", "errors")
        r = min(1.0, nfail / calls) if calls and nfail is not None else 0.0
        rate.append(r)
        ncolor.append(cmap.get(_service_of(U, n), "#999999"))
        nline.append(ERROR_COLOR if r > 0 else "#333333")
        info = [f"<b>{_esc(str(n))}</b>"]
        if a.get("instrumented") is False:
            info.append("not instrumented (named by its callers' client spans)")
        if baseline is not None and n not in G:
            info.append("only in the baseline")
        for k, val in a.items():
            if isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool):
                if a.get("instrumented") is False and not val:
                    continue  # a peer has no spans of its own: its zeros say nothing
                if k in ("errors", "failed"):
                    info.append(f"failed: {int(val):,}" + (f" ({r:.1%})" if calls else ""))
                else:
                    info.append(f"{_esc(str(k))}: {_fmt_num(val)}" + (" ms" if k.endswith("_ms") else ""))
        if not by_op:
            ops = _ops_of(operations, n, op_nodes)
            if not ops and a.get("instrumented") is False:  # a peer: the operations calling it
                callers = [(ou, oa) for (su, sv), lst in op_edges.items() if sv == str(n) for ou, _, oa in lst]
                ops = [f"· {_esc(str(operations.nodes[ou].get('name', ou)))} (from {_esc(str(operations.nodes[ou].get('service', '')))}, "
                       f"{int(_num(oa, 'calls') or 0):,} calls)" for ou, oa in callers[:12]]
            if ops:
                info += ["operations:"] + ops
        ntext.append("<br>".join(info))
        label = _esc(str(a.get("name", n)) if by_op else str(n))
        if by_op:
            label = f"{_esc(str(a.get('service', '')))}<br>{label}"
        annotations.append(dict(x=p[n][0], y=p[n][1], xref="x", yref="y", text=label, showarrow=False, yshift=22,
                                font=dict(size=12, color="#222222"), bgcolor="rgba(255,255,255,0.85)", borderpad=1,
                                name="node_label"))
    xs = [p[n][0] for n in nodes] or [0.0]
    ys = [p[n][1] for n in nodes] or [0.0]
    for path in paths:
        ys += [q[1] for q in path]
    per_layer = max([sum(1 for n in nodes if p[n][0] == x) for x in set(xs)] or [1])
    height = int(min(max(420, 105 * max(per_layer, max(ys) - min(ys) + 1) + 160), 1800))
    x_lo, x_hi, y_lo, y_hi = min(xs) - 0.45, max(xs) + 0.45, min(ys) - 0.6, max(ys) + 0.7
    mx, my = _place_edge_labels(paths, mlabel, [p[n] for n in nodes],
                                px=(1000.0 / (x_hi - x_lo), (height - 100.0) / (y_hi - y_lo)))
    if edge_labels:
        for lx, ly, lab, cls in zip(mx, my, mlabel, mclass, strict=True):
            if lab:
                annotations.append(dict(x=lx, y=ly, xref="x", yref="y", text=lab, showarrow=False, name="edge_label",
                                        font=dict(size=10, color="#B2182B" if cls in ("slower ×2+", "failing ≥ 5%") else "#333333"),
                                        bgcolor="rgba(255,255,255,0.85)", borderpad=1))
    data = [go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="rgba(0,0,0,0)", width=1), hoverinfo="skip", name="calls",
                       meta="edges", showlegend=False)]
    for (u, v), path, cls, w in zip(U.edges, paths, mclass, widths, strict=True):
        if u == v:
            continue
        data.append(go.Scatter(x=[q[0] for q in path], y=[q[1] for q in path], mode="lines",
                               line=dict(color=EDGE_COLORS[cls], width=w, shape="spline" if len(path) > 2 else "linear"),
                               hoverinfo="skip", showlegend=False, name=f"{_esc(str(u))} → {_esc(str(v))}",
                               meta={"edge": [str(u), str(v)], "class": cls}))
    data += [
        go.Scatter(x=mx, y=my, mode="markers", text=mlabel, customdata=mclass,
                   marker=dict(size=14, color="rgba(255,255,255,0.01)", line=dict(width=0)),
                   hovertext=mtext, hoverinfo="text", name="edge", meta="edge_info", showlegend=False),
        go.Scatter(
            x=[p[n][0] for n in nodes], y=[p[n][1] for n in nodes], mode="markers", text=[_esc(str(n)) for n in nodes],
            customdata=rate,
            marker=dict(size=24, color=ncolor, line=dict(color=nline, width=[1 + 4 * min(1.0, 10 * r) for r in rate])),
            hovertext=ntext, hoverinfo="text", name="services", meta="nodes", showlegend=False,
        ),
    ]
    for cls in classes_seen:
        data.append(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=EDGE_COLORS[cls], width=3),
                               name={"ok": "calls, none failed", "failing": "calls, some failed",
                                     "failing ≥ 5%": "calls, ≥ 5% failed", "slower ×2+": "p95 ≥ 2× baseline",
                                     "slower": "p95 ≥ 1.2× baseline", "unchanged": "p95 within 1.2× of baseline",
                                     "faster": "p95 ≤ baseline / 1.2", "new": "new call (not in baseline)",
                                     "gone": "call only in baseline"}[cls],
                               meta="legend", hoverinfo="skip", showlegend=True))
    what = "operations" if by_op else "services"
    n_peer = sum(1 for _, a in G.nodes(data=True) if a.get("instrumented") is False)
    default = (f"service map: {G.number_of_nodes() - n_peer} {what}"
               + (f" + {n_peer} uninstrumented peer{'s' if n_peer != 1 else ''}" if n_peer else "")
               + f", {G.number_of_edges()} call edges"
               + (" — p95 against the baseline" if baseline is not None else ""))
    fig = go.Figure(data)
    fig.update_layout(
        title=_esc(title or default),
        annotations=annotations,
        xaxis=dict(visible=False, range=[x_lo, x_hi]),
        yaxis=dict(visible=False, range=[y_hi, y_lo], autorange=False),
        hovermode="closest",
        plot_bgcolor="white",
        height=height,
        legend=dict(orientation="h", yanchor="top", y=-0.02, xanchor="left", x=0),
        margin=dict(l=20, r=20, t=60, b=40),
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
    # the bars of the period under suspicion in each service's colour (as in every figure); the reference grey
    after_color: Any = PALETTE[0]
    if "service" in keys:
        cmap = service_colors(comparison["service"].astype(object))
        after_color = [cmap.get(str(v), "#999999") for v in df["service"].astype(object)]
    fig = go.Figure(
        [
            go.Bar(orientation="h", y=ylab, x=df[before].to_numpy(dtype=float), name=_esc(labels[0]), meta="before",
                   marker=dict(color="#9DA3AE"), hovertext=hover, hoverinfo="text"),
            go.Bar(orientation="h", y=ylab, x=df[after].to_numpy(dtype=float), name=_esc(labels[1]), meta="after",
                   marker=dict(color=after_color), hovertext=hover, hoverinfo="text"),
        ]
    )
    fig.update_layout(
        barmode="group",
        title=_esc(title or f"{_STAT_TITLES.get(stat, stat)}: {labels[1]} vs {labels[0]}" + (f", by {' · '.join(keys)}" if keys else "")),
        yaxis=dict(autorange="reversed", automargin=True, type="category", title=_esc(" · ".join(map(str, keys)) or "row")),
        xaxis=dict(title=_esc(_STAT_TITLES.get(stat, stat))),
        height=int(min(max(250, 40 * len(df) + 120), 1000)),
    )
    return fig


#: Axis titles (with units) of the metrics of :func:`tracekit.compare`.
_STAT_TITLES = {
    "cp_ms": "critical-path time per trace (ms)", "p50_ms": "p50 span duration (ms)", "p95_ms": "p95 span duration (ms)",
    "calls": "calls per trace", "fanout": "direct children per span", "error_rate": "error rate",
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
    # panels side by side only when their value labels leave room for the bars (a label is ~6.5 px a
    # character; labels of a panel on the right are drawn in the gap between the panels)
    label_px = 6.5 * max((len(str(v)) for d in dims for v in hits.loc[hits["dimension"] == d, "value"].head(int(values))),
                         default=4) + 34
    ncol = max(1, min(3, n, int(1000 // (label_px + 220))))
    nrow = -(-n // ncol)
    panel_px = 22 * min(int(values), int(hits.groupby("dimension").size().max()) if len(hits) else 1) + 60
    height = int(min(max(300, nrow * (panel_px + 80) + 120), 2400))
    qcol = "q_value" in hits.columns
    titles = []
    for d in dims:
        sig = qcol and bool((hits.loc[hits["dimension"] == d, "q_value"] < 0.05).any())
        titles.append(_esc(str(d)) + (" *" if sig else ""))
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=titles or None,
                        horizontal_spacing=min(0.5, label_px / 1000 + 0.03) if ncol > 1 else 0.1,
                        vertical_spacing=min(0.3, 90 / height) if nrow > 1 else 0.1)

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
        fig.update_yaxes(autorange="reversed", type="category", automargin=True, row=row, col=col,
                         title=dict(text=_esc(str(d)), font=dict(size=11), standoff=2))
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=row, col=col,
                         title=dict(text=f"share of {_esc(str(hits.attrs.get('level', 'trace')))}s", font=dict(size=11)))
    nsel = hits.attrs.get("n_selection")
    nbase = hits.attrs.get("n_baseline")
    default = "What distinguishes the selection" + (f" ({nsel} vs {nbase} {hits.attrs.get('level', 'trace')}s)" if nsel is not None else "")
    fig.update_layout(barmode="group", title=_esc(title or default), height=height)
    return fig


__all__.append("plot_bubble_up")


# --------------------------------------------------------------------------------------------------
# the time axis: timeline and heatmap


def _is_timeline(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and {"time", "requests", "p95_ms"} <= set(df.columns) and "span_id" not in df.columns


def _timeline_keys(tl: pd.DataFrame) -> list[str]:
    from ..analysis.timeline import TIMELINE

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
        Most keys drawn: the keys named by ``changes`` first, then the busiest.
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

    from ..analysis.timeline import deployments as _deployments
    from ..analysis.timeline import timeline

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
    if changes is not None and len(changes) and keys and all(k in changes.columns for k in keys):
        # keys with a detected change are drawn even when they are not among the busiest: the shaded
        # window names them, so their lines must be there to read
        changed = _key_labels(changes, keys).tolist()
        first = [g for g in dict.fromkeys(changed) if g in totals.index]
        order = (first + [g for g in order if g not in first])[: max(top, len(first))]
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
        # one shaded window per distinct (onset, recovery), labelled once with its changes stacked (the
        # keys hurt together in one incident would otherwise draw overlapping labels and darker shading)
        windows: dict[tuple, list[tuple[str, Any]]] = {}
        for (_, c), lab in zip(changes.iterrows(), clabels, strict=True):
            x1 = c["recovery"] if pd.notna(c["recovery"]) else end
            windows.setdefault((c["onset"], x1), []).append((lab, c))
        for k, ((x0, x1), items) in enumerate(windows.items()):
            items.sort(key=lambda it: -abs(float(it[1]["delta"])) if pd.notna(it[1]["delta"]) else 0.0)
            color = cmap.get(items[0][0], ERROR_COLOR) if len({it[0] for it in items}) == 1 else ERROR_COLOR
            fig.add_shape(type="rect", x0=x0, x1=x1, y0=0, y1=1, xref="x", yref="paper", name="change",
                          fillcolor=color, opacity=0.10, line=dict(width=0), layer="below")
            unit = {"p95_ms": " ms", "p50_ms": " ms", "p99_ms": " ms"}
            lines = [_esc(f"{lab} {c['metric'].replace('_ms', '')} "
                          + (f"{c['delta']:+.1%}" if c["metric"] == "error_rate" else f"{c['delta']:+,.0f}{unit.get(c['metric'], '')}"))
                     for lab, c in items[:4]]
            if len(items) > 4:
                lines.append(f"+{len(items) - 4} more")
            fig.add_annotation(x=x0, y=1.0, xref="x", yref="paper", yanchor="top", xanchor="left", showarrow=False,
                               text="<br>".join(lines), align="left", font=dict(size=10, color="#222222"),
                               bgcolor="rgba(255,255,255,0.8)", bordercolor=color, borderwidth=1, yshift=-4 - 14 * k,
                               name="change")
    if deps is not None and len(deps):
        for _, d in deps[deps["previous"].notna()].iterrows():
            fig.add_shape(type="line", x0=d["first_seen"], x1=d["first_seen"], y0=0, y1=1, xref="x", yref="paper",
                          name="deployment", line=dict(color="#444", dash="dot", width=1))
            fig.add_annotation(x=d["first_seen"], y=1.0, xref="x", yref="paper", yanchor="bottom", xanchor="left",
                               showarrow=False, text=_esc(f"▲ {d['service']} {d['version']}"), font=dict(size=10))
    fig.update_yaxes(rangemode="tozero", title_text="requests", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="error rate", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", title_text="latency (ms)", row=3, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=3, col=1)
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
    from ..analysis.timeline import select_requests

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
        # empty cells white, so "no request here" does not read as a colour of the scale
        zmax = float(z.max()) if z.size else 1.0
        pos_min = float(z[z > 0].min()) if (z > 0).any() else 1.0
        eps = min(0.5, 0.5 * pos_min / zmax) if zmax > 0 else 0.5
        scale = [[0.0, "#FFFFFF"], [eps, "#FFF3B0"]] + [[eps + (1 - eps) * f, c] for f, c in
                                                         ((0.3, "#FDB863"), (0.65, "#E4572E"), (1.0, "#67001F"))]
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=z, colorscale=scale, zmin=0.0, meta="heatmap",
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
                      yaxis=dict(title="request latency (ms, log scale)", type="log",
                                 **(_log_ticks([float(lat.min()), float(lat.max())]) if len(lat) else {})),
                      xaxis=dict(title="time (UTC)"), plot_bgcolor="white")
    return fig


__all__ += ["plot_timeline", "plot_heatmap"]
