"""The waterfall of one trace (:func:`plot_waterfall`): one horizontal bar trace for all spans.

The data step is :func:`tracekit.waterfall_data`; the canvas renderer for big traces is
:mod:`tracekit.plotting.gl`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.waterfall import waterfall_data
from ..core import trace_id_of
from ..core.words import ms_label
from ..errors import require
from .colors import CRITICAL_COLOR, ERROR_COLOR, esc, legend_text, service_colors, short_text
from .gl import CanvasFigure, plot_waterfall_gl

go = require("plotly.graph_objects", "plot")

__all__ = ["plot_waterfall", "waterfall_header"]

def _is_waterfall_rows(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and all(c in df.columns for c in ("depth", "start_ms", "cp_sections", "hover"))


# --------------------------------------------------------------------------------------------------
# waterfall

#: rows above which plot_waterfall hands the trace to the canvas renderer (plotly: 10,000 bars draw in ~2.9 s and
#: 50,000 in ~24 s of browser CPU on 2 loaded cores, benchmarks/bench_waterfall.py; the canvas redraws 100,000 in ~10 ms)
CANVAS_ABOVE = 5000

_MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_LABEL_CHARS = 56
#: most characters of the service before the operation in a label
_SERVICE_CHARS = 24


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


#: most characters of tree connectors before a label: deeper rows keep the last levels and say their depth. A chain
#: of 120 spans drew 360 characters of connectors before its last label (404 in all), and plotly left the bars 64 of
#: 1,300 px
_PREFIX_CHARS = 24


def _short_prefix(pre: str, depth: int) -> str:
    """``pre`` (3 characters a level) cut to :data:`_PREFIX_CHARS`: ``[depth N]`` and the last levels that fit.

    >>> _short_prefix("│  " * 10 + "└─ ", 11)
    '[11]│  │  │  │  │  └─ '
    """
    if len(pre) <= _PREFIX_CHARS:
        return pre
    tag = f"[{depth}]"
    keep = max(1, (_PREFIX_CHARS - len(tag)) // 3)
    return tag + pre[-3 * keep:]


#: pixels from the figure's top that the title and its line of facts take (title y=1 in the container, pad 14 px)
_TITLE_PX = 56


def waterfall_header(rows: pd.DataFrame, start: Any) -> str:
    """One line under the title: request latency, start time, outcome, span count — the whole trace in the kernel's
    terms, from ``rows.attrs`` (:func:`tracekit.waterfall_data`): the request root's duration and failure
    (:func:`tracekit.core.trace_outcomes`), never the first drawn row's (an orphan fragment that started earlier drew
    "request 200 ms · failed" over a 40 ms request that succeeded), and failed spans by :func:`tracekit.core.failed`
    (a 4xx is a client error, not a failure). The outcome is "status unknown" where the spans record none
    (``rows.attrs["status_recorded"]`` False), not "ok". Rows without those attrs (made by hand) are read as before:
    the first top-level row. ``start``: the trace's start when ``rows.attrs`` has none. The plotly waterfall, the canvas
    waterfall and the explorer's canvas all write this line.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> rows = tk.waterfall_data(spans, spans["trace_id"].iloc[0])
    >>> waterfall_header(rows, None).startswith("request ")
    True
    """
    a = rows.attrs
    start = a.get("trace_start", start)
    parts = []
    if "request_ms" in a:
        req = a["request_ms"]
        if req is not None and np.isfinite(req):
            parts.append(f"request {ms_label(float(req))}")
        elif not a.get("has_root", False):
            parts.append("no request root (fragments only): request latency unknown")
        elif a.get("request", False):  # a request whose root has not ended (trace_outcomes: request, no request_ms)
            parts.append("request latency unknown: the request root has not ended")
        else:
            parts.append("not a request (asynchronous work)")
    else:
        roots = rows[rows["depth"].to_numpy() == 0]
        if len(roots):
            parts.append(f"request {ms_label(float(roots['duration_ms'].iloc[0]))}")
    if start is not None and pd.notna(start):
        t = pd.Timestamp(start)
        t = t.tz_convert("UTC") if t.tzinfo is not None else t
        parts.append(f"started {t.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC")
    if "request_failed" in a:
        n_fail, n_client = int(a.get("failed_spans", 0)), int(a.get("client_error_spans", 0))
        outcome = {True: "failed", False: "ok", None: "status unknown"}[a["request_failed"]]
        if not a.get("request", True) and a["request_failed"] is not None:
            outcome = ("root failed" if a["request_failed"] else "root ok") if a.get("has_root") else (
                "earliest fragment failed" if a["request_failed"] else "earliest fragment ok")
        extra = [f"{n_fail} failed span{'s' if n_fail != 1 else ''}"] if n_fail else []
        if n_client:
            extra.append(f"{n_client} span{'s' if n_client != 1 else ''} with a 4xx client error")
        parts.append(outcome + (f" ({'; '.join(extra)})" if extra else ""))
    else:
        roots = rows[rows["depth"].to_numpy() == 0]
        n_err = int(rows["is_error"].to_numpy(dtype=bool).sum())
        root_err = bool(len(roots)) and bool(roots["is_error"].iloc[0])
        known = bool(a.get("status_recorded", True)) or n_err > 0
        parts.append(("failed" if root_err else "ok" if known else "status unknown")
                     + (f" ({n_err} error span{'s' if n_err != 1 else ''})" if n_err else ""))
    if bool(rows["in_progress"].to_numpy(dtype=bool).any()):
        parts.append("in progress")
    # a page of the trace's fragments (TraceExplorer.page_rows) says the whole trace's count in attrs["n_spans"]
    total = int(a.get("n_spans", len(rows) + int(rows["n_hidden"].sum())))
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
    canvas_above: int | None = CANVAS_ABOVE,
) -> go.Figure | CanvasFigure:
    """Waterfall of one trace: one horizontal bar per visible span, critical path overlaid.

    Above ``canvas_above`` visible rows the canvas renderer draws it instead (a
    :class:`~tracekit.plotting.gl.CanvasFigure`, from :func:`tracekit.plotting.gl.plot_waterfall_gl`):
    plotly would build a page of tens of MB (46 MB at 100,000 spans) that takes seconds per redraw.

    ``spans`` is a spans DataFrame (the rows are computed with :func:`tracekit.waterfall_data`
    and the ``trace_id``/``critical_path``/``collapse``/``max_depth`` arguments) or a frame that
    :func:`tracekit.waterfall_data` already returned. The figure holds ONE bar trace for all
    spans (``meta="spans"``; bar *i* is display row *i*: ``base`` = start offset, ``x`` =
    duration, ``marker.color`` = the service's colour per bar); an overlay of the in-progress spans,
    hatched (``meta="in_progress"``, under the critical path, which stays black through a running span)
    and one of the error spans outlined in :data:`ERROR_COLOR` (``meta="errors"``), each only when there
    are any, and not hoverable (so hover and clicks reach the spans trace); ONE bar trace of critical-path
    sections (``meta="critical_path"``, thinner, drawn over the spans; only when a critical path is
    given), a tick at the start of each span of zero duration (``meta="instant"``: a bar of no width is neither
    seen nor hovered; the tick has the span's hover, its ``y`` the row), and one legend-only entry per service
    (``meta="legend"``). The x axis is ms from the
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
        The trace to draw (32 hex digits or the X-Ray ``1-…`` form, or an id as the frame holds it); needed when
        ``spans`` holds several.
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
        Figure height in pixels (default: 20 px a row, at least 300, where rows are labelled; at most 1,100 where
        there are too many rows to label).
    title : str, optional
        Figure title (escaped).
    canvas_above : int or None, default 5000
        Most rows drawn with plotly; more go to the canvas renderer. ``None``: always plotly.

    Returns
    -------
    plotly.graph_objects.Figure or CanvasFigure
        A plotly figure, or above ``canvas_above`` rows the canvas waterfall.

    Raises
    ------
    ArgumentError
        ``trace_id`` is not a trace id and not one of the frame's.
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
            trace_id = trace_id_of(spans, trace_id)
        rows = waterfall_data(spans, trace_id, critical_path=critical_path, collapse=collapse, max_depth=max_depth)
        sub = spans if trace_id is None else spans[spans["trace_id"] == trace_id]
        shown_id = trace_id if trace_id is not None else (str(sub["trace_id"].iloc[0]) if len(sub) else None)
        if len(sub):
            trace_start = sub["start"].min()
    n = len(rows)
    if canvas_above is not None and n > canvas_above:
        # the canvas says what the plotly title says: the trace and its header line (it said "12,000 spans" only)
        head = title if title else (f"trace {shown_id} · " if shown_id is not None else "") + waterfall_header(rows, trace_start)
        kw = dict(colors=colors, title=head, **({"height": height} if height else {}))
        return CanvasFigure(plot_waterfall_gl(rows, **kw), plot_waterfall_gl(rows, full_html=True, **kw), n)
    # by every service of the frame (waterfall_data's attrs), not only this trace's: service_colors resolves palette
    # collisions among the names it is given, so a trace without the colliding service drew it in another colour
    # the trace's services drawn each in its own colour (service_colors' drawn: past 20 services two could share one)
    cmap = dict(colors) if colors is not None else service_colors(rows.attrs.get("services") or rows["service"].dropna().unique(),
                                                                  others=rows["service"].dropna().unique(),
                                                                  drawn=rows["service"].dropna().unique())
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
    start_ms = rows["start_ms"].to_numpy(dtype=float)
    dur_ms = rows["duration_ms"].to_numpy(dtype=float)
    # the in-progress spans hatched under the critical path: drawn over it (after it), the half-white hatch washed the
    # path through a running span to grey (in headless Chromium the topmost bar at its middle was the hatch)
    if in_progress.any():
        data.append(
            go.Bar(
                orientation="h", y=y[in_progress], base=start_ms[in_progress], x=dur_ms[in_progress],
                marker=dict(color="rgba(255,255,255,0.55)", line=dict(width=0), pattern=dict(shape="/", fgcolor="#666666", solidity=0.3)),
                hoverinfo="skip", name="in progress", meta="in_progress", showlegend=True,
            )
        )
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
                hovertext=[f"critical path {ms_label(s, unit=False)}–{ms_label(e)} ({ms_label(e - s)})" for s, e in flat],
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
            hovertext=[f"{int(k)} ERROR/FATAL log record{'s' if k != 1 else ''}" for k in log_err[le]], hoverinfo="text",
            showlegend=True))
    # a span of zero duration is a bar of no width: nothing drawn, and no hover or click reaches it (in headless
    # Chromium the pointer on its start showed nothing). A tick in its service's colour at its start, with its hover.
    instant = np.isfinite(dur_ms) & (dur_ms <= 0)
    if instant.any():
        data.append(go.Scatter(
            x=start_ms[instant], y=y[instant], mode="markers", name="zero duration", meta="instant",
            marker=dict(symbol="line-ns", size=14, line=dict(width=3, color=[fill[i] for i in np.flatnonzero(instant).tolist()])),
            hovertext=rows["hover"].to_numpy(dtype=object)[instant], hoverinfo="text", showlegend=False))
    for svc in svc_names:
        data.append(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=legend_text(svc), meta="legend", hoverinfo="skip",
                marker=dict(symbol="square", size=12, color=cmap.get(svc, "#999999")), showlegend=True,
            )
        )
    n_hidden = rows["n_hidden"].to_numpy()
    ticktext = None
    if n <= max_labels:
        # tree prefix + service chip + "service · operation" (the operation alone when it repeats
        # the service, as X-Ray segment names do), ⚠ on errors, (+N) folded; monospace and padded
        # on the right with non-breaking spaces, so the labels line up on the left like a tree
        prefixes = [_short_prefix(p, d) for p, d in zip(_tree_prefixes(rows["depth"].tolist()), rows["depth"].tolist(), strict=True)]
        plain, chips = [], []
        for pre, svc, nm, err, h in zip(prefixes, services.tolist(), rows["name"].astype(object).tolist(),
                                        is_error.tolist(), n_hidden.tolist(), strict=True):
            svc, nm = str(svc), str(nm)
            # the service cut too (short_text): a 10 KB service name made a 10 KB label, the operation's cut or not
            head = ("⚠ " if err else "") + ("" if nm == svc else f"{short_text(svc, _SERVICE_CHARS)} · ")
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
            esc(pre).replace(" ", "\u00a0") + f'<span style="color:{c}">■</span>\u00a0' + esc(body).replace(" ", "\u00a0")
            + "\u00a0" * (width - len(t))
            for (pre, c, body), t in zip(chips, plain, strict=True)
        ]
        # the duration written beside each bar (only with labels: text on thousands of bars slows the browser); after
        # the ERROR-logs diamond at the bar's end, not under it (it covered the first digit: "◆00.0 ms")
        spans_trace.text = [("\u00a0" * 3 if k > 0 else "") + ("≥ " if ip else "") + ms_label(d) if np.isfinite(d) else ""
                            for d, k, ip in zip(dur_ms.tolist(), log_err.tolist(), in_progress.tolist(), strict=True)]
        spans_trace.textposition = "outside"
        spans_trace.textfont = dict(size=10, color="#333333")
        spans_trace.cliponaxis = False
    header = waterfall_header(rows, trace_start)
    head = esc(title) if title else (f"trace {esc(str(shown_id))}" if shown_id is not None else "trace waterfall")
    fig = go.Figure(data=data)
    # 20 px a row where rows are labelled (11 px text): capped at 1,100 px, 120 labelled rows were 7 px apart and their
    # labels overprinted one another from about 70 rows on (the explorer opens traces folded to 150); unlabelled, the
    # bars share 1,100 px
    fig_height = height or int(max(300, 20 * n + 170) if ticktext is not None else min(max(300, 20 * n + 170), 1100))
    fig.update_layout(
        barmode="overlay",
        bargap=0.2,
        height=fig_height,
        title=dict(text=f"{head}<br><sup>{esc(header)}</sup>", x=0.01, xanchor="left", yref="container", y=1.0,
                   yanchor="top", pad=dict(t=14)),
        hovermode="closest",
        # the legend hangs from the container under the title's two lines, and plotly moves the plot below it: one
        # entry per service wraps to several rows (TrainTicket: 22 entries, 4 rows at 1,100 px), which, stacked up
        # from the plot (yref paper), were drawn over the title
        legend=dict(orientation="h", yref="container", yanchor="top", y=1.0 - _TITLE_PX / fig_height, xanchor="left",
                    x=0),
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
