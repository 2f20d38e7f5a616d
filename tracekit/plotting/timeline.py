"""Time axes: :func:`plot_timeline` (requests, error rate and latency per bucket) and
:func:`plot_heatmap` (time x request latency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.args import count_arg, duration_arg
from ..core.deprecation import renamed
from ..core.words import freq_text, ms_label, points
from ..errors import ArgumentError, require
from .colors import (
    ERROR_COLOR,
    PALETTE,
    esc,
    key_text,
    legend_text,
    log_ticks,
    population_text,
    population_title,
    say_empty,
    service_colors,
    short_text,
)

go = require("plotly.graph_objects", "plot")

__all__ = ["plot_timeline", "plot_heatmap"]

# --------------------------------------------------------------------------------------------------
# the time axis: timeline and heatmap



#: a series' key in its traces' ``legendgroup`` and ``meta["key"]`` is its name up to this many characters, cut in
#: the middle past them: each series' name went whole into ~15 fields of its traces, so a 20 MB span name made a
#: 320 MB report (2.4 GB to draw) and 100 MB ran out of memory
KEY_CHARS = 1_000


def _trace_keys(names: list) -> dict:
    """Each series name → the key its traces carry (:data:`KEY_CHARS`): the name, or cut in the middle (``…``),
    numbered when two cut alike.

    >>> k = _trace_keys(["api", "a" * 600 + "x" * 600, "a" * 600 + "y" * 600])
    >>> k["api"], len(k["a" * 600 + "x" * 600]), k["a" * 600 + "y" * 600].endswith("#2")
    ('api', 1000, False)
    """
    out: dict = {}
    seen: set = set()
    for i, g in enumerate(names):
        text = str(g)
        k = text if len(text) <= KEY_CHARS else short_text(text, KEY_CHARS)
        if k in seen:
            k = f"{k} #{i}"
        seen.add(k)
        out[g] = g if k == text else k
    return out

def _is_timeline(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and {"time", "requests", "p95_ms"} <= set(df.columns) and "span_id" not in df.columns


def _timeline_keys(tl: pd.DataFrame) -> list[str]:
    from ..analysis.timeline import timeline_keys

    return timeline_keys(tl)


def _key_labels(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    if not keys:
        return pd.Series("all", index=df.index)
    out = key_text(df[keys[0]])
    for k in keys[1:]:
        out = out + " · " + key_text(df[k])
    return out


def _metric_change_words(row: pd.Series, units: dict) -> str:
    """A :func:`~tracekit.detect_metric_changes` row's label: its own key (service / host: a change by host drawn on a
    timeline by service is still the host's), metric name, the change of its bucket mean with the metric's unit (the
    row's, else the joined series'; none said when not known or dimensionless)."""
    from ..analysis.metric_evidence import unit_words
    from ..analysis.metric_series import METRIC_KEYS

    label = " · ".join(str(row[k]) for k in METRIC_KEYS if k in row.index and pd.notna(row[k])) or "all"
    u = unit_words(row["unit"] if "unit" in row.index and pd.notna(row["unit"]) else units.get(f"metric.{row['name']}"))
    d = row["delta"]
    return f"{label} {row['name']} " + (f"{d:+,.3g}{' ' + u if u else ''}" if pd.notna(d) else "changed")


#: Height of one line of a change or deployment label (font size 10) and the box's border and padding, in px:
#: the labels at the top of the first row are stacked by them.
LABEL_LINE_PX, LABEL_PAD_PX = 14, 6


@renamed(top="n")
def plot_timeline(
    data: pd.DataFrame,
    freq: str = "1min",
    by: str | Sequence[str] | None = None,
    *,
    changes: pd.DataFrame | None = None,
    baseline: pd.DataFrame | None = None,
    deployments: pd.DataFrame | bool = True,
    weights: Any = None,
    n: int = 8,
    title: str | None = None,
    metrics: pd.DataFrame | None = None,
    metric_names: str | Sequence[str] | None = None,
) -> go.Figure:
    """Requests, error rate and p50/p95/p99 of request latency over time, per key.

    Parameters
    ----------
    data : pandas.DataFrame
        Spans (a :func:`~tracekit.timeline` is computed with ``freq``, ``by``, ``weights``) or a timeline.
    freq, by, weights
        As for :func:`~tracekit.timeline` (ignored when ``data`` is a timeline).
    changes : pandas.DataFrame, optional
        :func:`~tracekit.detect_changes` or :func:`~tracekit.detect_metric_changes` result: each window is
        shaded (to the end of the data while ongoing) and labelled with its key and metric (a metric series' change
        with the change of its bucket mean and the metric's unit; its unchanged series are not drawn).
    baseline : pandas.DataFrame, optional
        Spans or a timeline of a normal period (e.g. the same hour another day), drawn dashed in
        grey over the same keys; a baseline from another day is shifted onto the window's start.
    deployments : pandas.DataFrame or bool
        :func:`~tracekit.deployments` result, or True to compute it from ``data`` (spans only):
        each version change (a version seen after another of the same service) is a vertical line
        at its first appearance, labelled ``service version``.
    n : int
        Most keys drawn: the keys named by ``changes`` first, then the busiest.
    title : str, optional
        Figure title.
    metrics, metric_names : optional
        A metrics frame and the names to draw (default: all, at most 4): one more row per metric under
        the latency, per key on the same buckets (``by`` None, ``"service"`` or ``"host"``;
        :func:`tracekit.analysis.metric_series.join_metric_series`), traces' ``meta`` metric ``metric.<name>``.

    Returns
    -------
    plotly.graph_objects.Figure
        Three rows (and one per metric) sharing the time axis. Every trace has ``meta`` = {"metric", "key", "role"}
        (role ``value``, ``band`` or ``baseline``); shapes are named ``change`` or ``deployment``, and so are their
        labels (annotations), stacked at the top inside the first row, deployments first. When no span
        records a status (the timeline's error rate is NaN), the error-rate row is titled and annotated "unknown"
        (annotation named ``error rate unknown``), never drawn as 0 %.

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
    top = count_arg(n, "n", "plot_timeline", minimum=1)  # -1 dropped the least busy key, 2.5 a bare TypeError
    from plotly.subplots import make_subplots

    from ..analysis.timeline import PARTIAL_BUCKET, timeline
    from ..analysis.timeline import deployments as _deployments

    if _is_timeline(data):
        tl = data
        deps = deployments if isinstance(deployments, pd.DataFrame) else None
    elif isinstance(data, pd.DataFrame) and "span_id" in data.columns:
        try:
            tl = timeline(data, freq, by, weights=weights)
        except ArgumentError as exc:  # said as this figure's argument (the figure is what the user called)
            msg = str(exc)
            raise ArgumentError("plot_timeline:" + msg[len("timeline:"):] if msg.startswith("timeline:") else msg) from None
        deps = deployments if isinstance(deployments, pd.DataFrame) else (_deployments(data) if deployments else None)
    else:
        raise ArgumentError("plot_timeline: data must be a spans DataFrame or a timeline() result")
    keys = _timeline_keys(tl)
    if metrics is not None:
        from ..analysis.metric_series import join_metric_series

        tl = join_metric_series(tl.drop(columns=[c for c in tl.columns if str(c).startswith("metric.")]), metrics,
                                metric_names, keys, tl.attrs.get("params", {}).get("freq", freq))
    mcols = [c for c in tl.columns if str(c).startswith("metric.")][:4]
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
        # all services, as elsewhere; the drawn ones each their own colour (service_colors' drawn)
        cmap = {g: c for g, c in service_colors(totals.index, drawn=order).items() if g in set(order)}
    base_tl = None
    if baseline is not None:
        base_tl = baseline if _is_timeline(baseline) else timeline(baseline, tl.attrs.get("params", {}).get("freq", freq),
                                                                  keys or None, weights=None)
        if len(base_tl) and len(tl):
            shift = tl["time"].min() - base_tl["time"].min()
            base_tl = base_tl.assign(time=base_tl["time"] + shift)
    # no span records a status (tracekit.core.status_recorded): the timeline's error rate is NaN, unknown, not 0
    er_unknown = tl.attrs.get("status_recorded") is False or (
        len(tl) > 0 and bool(tl["error_rate"].isna().all()) and bool((tl["requests"] > 0).any()))
    # every request still in progress (no outcome yet: tracekit.core.outcome_unknown) in data that records a status:
    # unknown for that reason, not for want of a status
    busy = (tl["requests"] > 0).to_numpy(dtype=bool) if len(tl) else np.zeros(0, bool)
    er_pending = (er_unknown and tl.attrs.get("status_recorded") is True and "unknown" in tl.columns and busy.any()
                  and bool((tl["unknown"].to_numpy(dtype=float)[busy] >= tl["requests"].to_numpy(dtype=float)[busy]).all()))
    er_title = ("error rate: unknown (every request still in progress)" if er_pending else
                "error rate: unknown (no span records a status)" if er_unknown else "error rate")
    # the bucket's length, said: "requests per bucket" was a count per an unnamed length of time
    bucket = tl.attrs.get("params", {}).get("freq") or freq
    per = f"per {esc(freq_text(bucket))} bucket" if bucket else "per bucket"
    # a partial first or last bucket (the data fills only part of it) is drawn as an open marker, said in the title
    partial = "covered" in tl.columns and bool((tl["covered"].to_numpy(dtype=float, na_value=1.0) < PARTIAL_BUCKET).any())
    fig = make_subplots(rows=3 + len(mcols), cols=1, shared_xaxes=True, vertical_spacing=0.06 if not mcols else 0.04,
                        subplot_titles=(f"requests {per}" + (" · ○ a partial bucket: the data covers only part of it"
                                                             if partial else ""), er_title, "request latency (ms): p50 · p95 · p99",
                                        *[esc(f"{c[len('metric.'):]} (mean ") + per + ")" for c in mcols]))
    dash = {"p50_ms": "dot", "p95_ms": "solid", "p99_ms": "dash"}
    lv = labels.to_numpy(dtype=object)
    keyed = _trace_keys(order)
    for g in order:
        part = tl[lv == g]
        x = part["time"]
        color = cmap[g]
        meta = lambda m, role="value", k=keyed[g]: {"metric": m, "key": k, "role": role}  # noqa: E731
        fig.add_trace(go.Scatter(x=x, y=part["requests"], mode="lines", line=dict(color=color, shape="hv"),
                                 name=legend_text(g), legendgroup=keyed[g], meta=meta("requests")), row=1, col=1)
        if "covered" in part.columns:  # a partial first or last bucket: its count is a part of a bucket's, no drop
            cut = part[part["covered"].to_numpy(dtype=float, na_value=1.0) < PARTIAL_BUCKET]
            if len(cut):
                fig.add_trace(go.Scatter(
                    x=cut["time"], y=cut["requests"], mode="markers", name=legend_text(g), legendgroup=keyed[g], showlegend=False,
                    marker=dict(color=color, symbol="circle-open", size=9), meta=meta("requests", "partial"),
                    customdata=cut["covered"].to_numpy(dtype=float),
                    hovertemplate="%{y:,.4g} requests in a partial bucket: the data covers %{customdata:.0%} of it"
                                  "<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=part["error_rate"], mode="lines+markers", line=dict(color=color),
                                 name=legend_text(g), legendgroup=keyed[g], showlegend=False, meta=meta("error_rate"),
                                 customdata=np.column_stack([part["error_rate_lo"], part["error_rate_hi"]]),
                                 hovertemplate="%{y:.1%} [%{customdata[0]:.1%}, %{customdata[1]:.1%}]"), row=2, col=1)
        fig.add_trace(go.Scatter(x=pd.concat([x, x[::-1]]), y=pd.concat([part["p95_ms_hi"], part["p95_ms_lo"][::-1]]),
                                 fill="toself", line=dict(width=0), fillcolor=color, opacity=0.15, hoverinfo="skip",
                                 legendgroup=keyed[g], showlegend=False, meta=meta("p95_ms", "band")), row=3, col=1)
        for m in ("p50_ms", "p95_ms", "p99_ms"):
            fig.add_trace(go.Scatter(x=x, y=part[m], mode="lines", line=dict(color=color, dash=dash[m]),
                                     name=f"{legend_text(g)} {m[:3]}", legendgroup=keyed[g], showlegend=False, meta=meta(m),
                                     # the one duration rule (core.words.ms_label): d3's ,.4g wrote 4e-05 for 40 ns
                                     customdata=np.column_stack([[ms_label(v) for v in part[c].to_numpy(dtype=float, na_value=np.nan)]
                                                                 for c in (m, f"{m}_lo", f"{m}_hi")]),
                                     hovertemplate=f"{m[:3]} %{{customdata[0]}} [%{{customdata[1]}}, %{{customdata[2]}}]"),
                          row=3, col=1)
        for r, c in enumerate(mcols, start=4):
            fig.add_trace(go.Scatter(x=x, y=part[c], mode="lines+markers", line=dict(color=color), name=f"{legend_text(g)} {esc(c)}",
                                     legendgroup=keyed[g], showlegend=False, meta=meta(c), connectgaps=False), row=r, col=1)
        if base_tl is not None:
            bl = _key_labels(base_tl, keys).to_numpy(dtype=object)
            bp = base_tl[bl == g]
            for row, m in ((1, "requests"), (2, "error_rate"), (3, "p95_ms")):
                fig.add_trace(go.Scatter(x=bp["time"], y=bp[m], mode="lines", line=dict(color="#9DA3AE", dash="dash"),
                                         name=f"baseline {legend_text(g)}", legendgroup=f"baseline {keyed[g]}", showlegend=row == 1,
                                         meta=meta(m, "baseline")), row=row, col=1)
    metric_units = tl.attrs.get("metric_units") or {}  # (join_metric_series': "metric.<name>" → unit)
    end = tl["time"].max() + pd.Timedelta(pd.tseries.frequencies.to_offset(tl.attrs.get("params", {}).get("freq", freq))) \
        if len(tl) else None
    # labels at the top of the first row, inside it, stacked downwards by their number of lines: a label above
    # the row sat on its subplot title, and a second window's box 14 px under a first one of three lines
    # covered it (deploy-regression: "▲ payments 1.5.0" on "requests per 1min bucket")
    shift = 4
    if deps is not None and len(deps):
        for _, d in deps[deps["previous"].notna()].iterrows():
            fig.add_shape(type="line", x0=d["first_seen"], x1=d["first_seen"], y0=0, y1=1, xref="x", yref="paper",
                          name="deployment", line=dict(color="#444", dash="dot", width=1))
            fig.add_annotation(x=d["first_seen"], y=1.0, xref="x", yref="paper", yanchor="top", xanchor="left",
                               showarrow=False, text=esc(f"▲ {d['service']} {d['version']}"), font=dict(size=10),
                               bgcolor="rgba(255,255,255,0.8)", yshift=-shift, name="deployment")
            shift += LABEL_LINE_PX + LABEL_PAD_PX
    if changes is not None and len(changes) and "metric" not in changes.columns and "name" in changes.columns:
        # detect_metric_changes' rows: a metric series' window (the changed ones: all_series=True keeps the others)
        changes = changes[changes["changed"].to_numpy(dtype=bool) & changes["onset"].notna().to_numpy()] \
            if "changed" in changes.columns else changes[changes["onset"].notna().to_numpy()]
    if changes is not None and len(changes):
        ckeys = [c for c in keys if c in changes.columns]
        clabels = _key_labels(changes, ckeys)
        # one shaded window per distinct (onset, recovery), labelled once with its changes stacked (the
        # keys hurt together in one incident would otherwise draw overlapping labels and darker shading)
        windows: dict[tuple, list[tuple[str, Any]]] = {}
        for (_, c), lab in zip(changes.iterrows(), clabels, strict=True):
            x1 = c["recovery"] if pd.notna(c["recovery"]) else end
            windows.setdefault((c["onset"], x1), []).append((lab, c))
        for (x0, x1), items in windows.items():
            items.sort(key=lambda it: -abs(float(it[1]["delta"])) if pd.notna(it[1]["delta"]) else 0.0)
            color = cmap.get(items[0][0], ERROR_COLOR) if len({it[0] for it in items}) == 1 else ERROR_COLOR
            fig.add_shape(type="rect", x0=x0, x1=x1, y0=0, y1=1, xref="x", yref="paper", name="change",
                          fillcolor=color, opacity=0.10, line=dict(width=0), layer="below")
            unit = {"p95_ms": " ms", "p50_ms": " ms", "p99_ms": " ms"}
            lines = [esc(f"{lab} {c['metric'].replace('_ms', '')} "
                          + (points(c["delta"]) if c["metric"] == "error_rate" else f"{c['delta']:+,.0f}{unit.get(c['metric'], '')}"))
                     if "metric" in c else esc(_metric_change_words(c, metric_units)) for lab, c in items[:4]]
            if len(items) > 4:
                lines.append(f"+{len(items) - 4} more")
            fig.add_annotation(x=x0, y=1.0, xref="x", yref="paper", yanchor="top", xanchor="left", showarrow=False,
                               text="<br>".join(lines), align="left", font=dict(size=10, color="#222222"),
                               bgcolor="rgba(255,255,255,0.8)", bordercolor=color, borderwidth=1, yshift=-shift,
                               name="change")
            shift += LABEL_LINE_PX * len(lines) + LABEL_PAD_PX
    fig.update_yaxes(rangemode="tozero", title_text="requests", row=1, col=1)
    # ".0%" labelled the ticks of a 1.1 % peak "0%, 0%, 1%, 1%"; "~" drops the zeros a tick does not need
    fig.update_yaxes(tickformat=".3~%", rangemode="tozero", title_text="error rate", row=2, col=1)
    if er_unknown:
        fig.add_annotation(text="unknown: no span carries a status, an HTTP code or a fault flag, so failures "
                                "cannot be counted (not 0 %)", xref="x2 domain", yref="y2 domain", x=0.5, y=0.5,
                           showarrow=False, font=dict(size=12, color="#444"), name="error rate unknown")
        fig.update_yaxes(range=[0, 1], showticklabels=False, row=2, col=1)  # no scale to read a 0 % off
    fig.update_yaxes(rangemode="tozero", title_text="latency (ms)", row=3, col=1)
    units = tl.attrs.get("metric_units", {})
    periods = tl.attrs.get("metric_periods", {})
    drawn = tl[np.isin(lv, order)] if len(tl) else tl
    for r, c in enumerate(mcols, start=4):  # the metric's unit on its axis ("no unit given" when the points had none)
        u = str(units.get(c, "") or "")
        fig.update_yaxes(title_text=esc(u if u else "no unit given"), row=r, col=1)
        if len(tl) and not drawn[c].notna().any():  # nothing to draw: say why, not an empty row
            from ..analysis.changes import period_text

            p = periods.get(c)
            what = (f"its points cover {period_text(*p)}" if p is not None and (p[1] <= tl["time"].min() or p[0] > tl[
                "time"].max()) else f"no point of the {'keys' if keys else 'requests'} drawn falls in their buckets")
            fig.add_annotation(text=esc(f"no {c[len('metric.'):]} beside these requests: {what}"),
                               xref=f"x{r} domain", yref=f"y{r} domain", x=0.5, y=0.5, showarrow=False,
                               font=dict(size=12, color="#444"), name="metric without points")
    fig.update_xaxes(title_text="time (UTC)", row=3 + len(mcols), col=1)
    by_txt = " · ".join(keys) if keys else "all requests"
    # the population (the timeline's requests, every key) and their window: the first and last start, as the
    # heatmap's (the buckets' own ends read 14:00-15:00 beside the heatmap's 14:00-14:59 for the same requests)
    if len(tl):
        t0, t1 = tl.attrs.get("first", pd.NaT), tl.attrs.get("last", pd.NaT)
        if pd.isna(t0) or pd.isna(t1):  # a table not from timeline(): the buckets it covers
            t0, t1 = tl["time"].min(), tl["time"].max() + pd.Timedelta(pd.tseries.frequencies.to_offset(bucket))
        weighted = bool(tl.attrs.get("params", {}).get("weighted"))
        who = population_text(int(tl["sampled"].sum()) if "sampled" in tl.columns else float(np.nansum(tl["requests"])),
                              "request", t0, t1,
                              estimated=float(np.nansum(tl["requests"])) if weighted else None)
    else:
        who = "0 requests"
    fig.update_layout(title=population_title(title or f"timeline by {by_txt}", who), height=720 + 180 * len(mcols),
                      hovermode="x unified")
    if not len(tl):  # three empty panels said nothing
        say_empty(fig, "no request to draw over time (no request root: fragments only, or no spans)")
    return fig


def _key_words(by: Any, key: Any) -> str:
    """``by`` and the ``key`` drawn, in words for a title: ``service=checkout, name=GET /``, each value cut
    (:func:`~tracekit.plotting.colors.short_text`); ``by service · name`` without a key. Python's reprs were printed
    ("(['service', 'name']=('checkout', 'GET /'))") and a 1,000-character value whole (a 1,040-character title).

    >>> _key_words(["service", "name"], ("checkout", "GET /")), _key_words("service", None)
    ('service=checkout, name=GET /', 'by service')
    """
    keys = [by] if isinstance(by, str) else list(by)
    if key is None:
        return "by " + " · ".join(map(str, keys))
    vals = list(key) if isinstance(key, (tuple, list)) and len(keys) > 1 else [key]
    if len(vals) != len(keys):
        return f"{' · '.join(map(str, keys))}={short_text(str(key))}"
    return ", ".join(f"{k}={short_text(str(v))}" for k, v in zip(keys, vals, strict=True))


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
) -> go.Figure:
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
    from ..analysis.timeline import heatmap_requests, latency_heatmap, no_data_windows

    if key is not None and by is None:
        raise ArgumentError("plot_heatmap: key= needs by= (the column the key is a value of)")
    duration_arg(freq, "freq", "plot_heatmap")
    bins = count_arg(bins, "bins", "plot_heatmap", minimum=1, maximum=10_000)
    # the data step (tracekit.analysis.timeline.latency_heatmap): the figure renders its cells, computes nothing
    try:  # the requests once: the cells count them, the points draw them
        rows = heatmap_requests(spans, by, key=key, weights=weights) if points else None
        cells = latency_heatmap(spans, freq, by, key=key, bins=bins, weights=weights, requests=rows)
    except ArgumentError as exc:  # said as this figure's argument (the figure is what the user called)
        msg = str(exc)
        for name in ("heatmap_requests:", "latency_heatmap:"):
            msg = msg.replace(name, "plot_heatmap:", 1) if msg.startswith(name) else msg
        raise ArgumentError(msg) from None
    fig = go.Figure()
    if len(cells):
        nb = len(cells) // bins
        z = cells["requests"].to_numpy(dtype=float).reshape(nb, bins).T
        xs = pd.DatetimeIndex(cells["time"].to_numpy()[::bins])
        ys = cells["latency_ms"].to_numpy(dtype=float)[:bins]
        edges = np.append(cells["latency_lo_ms"].to_numpy(dtype=float)[:bins], float(cells["latency_hi_ms"].iloc[bins - 1]))
        # empty cells white, so "no request here" does not read as a colour of the scale
        zmax = float(z.max()) if z.size else 1.0
        pos_min = float(z[z > 0].min()) if (z > 0).any() else 1.0
        eps = min(0.5, 0.5 * pos_min / zmax) if zmax > 0 else 0.5
        scale = [[0.0, "#FFFFFF"], [eps, "#FFF3B0"]] + [[eps + (1 - eps) * f, c] for f, c in
                                                         ((0.3, "#FDB863"), (0.65, "#E4572E"), (1.0, "#67001F"))]
        # a cell's latency bucket as its bounds, by the one duration rule (core.words.ms_label): its centre with
        # d3's ,.4g read as one measured latency
        band = np.array([f"{ms_label(a, unit=False)}–{ms_label(b_)}" for a, b_ in zip(edges[:-1], edges[1:], strict=True)],
                        dtype=object)
        # a bucket with no data (latency_heatmap's no_data, timeline's rule): NaN cells, not 0 requests, shaded grey
        gaps = cells["no_data"].to_numpy(dtype=bool)[::bins]
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        # one shape per run of such buckets (no_data_windows), all set at once: a shape a bucket, each add_vrect
        # copying every shape before it, was quadratic (a 1970 trace beside 2026 ones: minutes on one figure)
        runs = no_data_windows(pd.DataFrame({"time": xs, "no_data": gaps}), step)
        fig.update_layout(shapes=[dict(type="rect", xref="x", yref="paper", x0=a, x1=b, y0=0, y1=1,
                                       fillcolor="#BBBBBB", opacity=0.35, line_width=0, layer="below", name="no data")
                                  for a, b in runs])
        if gaps.any():
            fig.add_annotation(text=esc(cells.attrs.get("no_data") or "no data"), xref="paper", yref="paper", x=0,
                               y=1.0, xanchor="left", yanchor="bottom", showarrow=False, font=dict(size=10, color="#444"),
                               name="no data")
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=z, colorscale=scale, zmin=0.0, meta="heatmap",
                                 colorbar=dict(title="requests"), customdata=np.repeat(band[:, None], nb, axis=1),
                                 hovertemplate="%{x}<br>%{customdata}: %{z:,.4g} requests<extra></extra>",
                                 **({"hoverongaps": False} if gaps.any() else {})))  # no "NaN requests" hover
        if rows is not None:
            lat = rows["latency_ms"].to_numpy(dtype=float)
            fig.add_trace(go.Scattergl(
                x=rows["time"], y=lat, mode="markers", meta="requests", customdata=rows.index.to_numpy(),
                marker=dict(size=4, color="rgba(255,255,255,0.35)"), showlegend=False, name="requests",
                selected=dict(marker=dict(color="#FF7F0E")), unselected=dict(marker=dict(opacity=0.35)),
                # the latency by the one duration rule (core.words.ms_label) as text: d3's ,.4g read 40 ns "0.00004000 ms" and
                # 1,234.5 ms "1,235 ms" (customdata is the request's row, which a selection reads)
                text=[ms_label(v) for v in lat.tolist()],
                hovertemplate="%{x}<br>%{text}<extra>request</extra>"))
            fig.update_layout(dragmode="select")
    what = "all requests" if by is None else _key_words(by, key)
    lat_range = list(cells.attrs.get("latency_range_ms", ()))
    # the population and the window (the requests counted, their first and last start) and the requests left out
    a = cells.attrs
    who = population_text(a.get("sampled", 0), "request", a.get("first"), a.get("last"),
                          estimated=a.get("requests") if weights is not None else None, left_out=a.get("left_out", 0),
                          left_out_why="without a known, positive latency")
    fig.update_layout(title=population_title(title or f"request latency over time ({what})",
                                             who + (f", columns of {freq_text(freq)}" if len(cells) else "")),
                      yaxis=dict(title="request latency (ms, log scale)", type="log",
                                 **(log_ticks(lat_range) if len(cells) else {})),
                      xaxis=dict(title="time (UTC)"), plot_bgcolor="white")
    if not len(cells):
        say_empty(fig, "no request with a positive latency to draw")
    return fig
