"""The rows a trace waterfall draws: the data step of :func:`tracekit.plot_waterfall`.

:func:`waterfall_data` turns one trace of the spans DataFrame into one row per *visible* span, in
depth-first display order (children by start time, as Jaeger UI shows them), with the depth, the
start offset and duration in milliseconds from the trace start, and the critical-path sections
that fall inside each span. It draws nothing (no plotly here: layer 3); the figure is
:func:`tracekit.plotting.plot_waterfall`, the widget :class:`tracekit.widgets.TraceExplorer`.

Conventions
-----------
* Offsets are ``float`` milliseconds from the earliest ``start`` of the trace (``start_ms``,
  ``end_ms``); computed from integer nanoseconds, so nothing is rounded on the way.
* An in-progress span (``in_progress`` or no ``end``) is drawn to the trace end (the latest known
  ``end``, or the latest ``start`` when no span has ended) and keeps ``in_progress=True``.
* A span whose ``parent_id`` is not in the trace (an *orphan*, e.g. an X-Ray segment whose caller
  was not sampled) is shown at depth 0 among the roots with ``orphan=True``. Spans caught in a
  parent cycle are shown the same way, so every span of the trace appears exactly once.
* Collapsing (``collapse=[span_ids]`` and/or ``max_depth``) hides descendants; the hidden spans'
  critical-path sections are merged into their nearest visible ancestor (as Jaeger UI does when a
  row is collapsed), so the path stays continuous on screen. ``n_hidden`` says how many spans a
  row folds away.
* ``hover`` is HTML for plotly's hover box; every value from the trace in it is HTML-escaped.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["ab" * 16] * 3,
...     "span_id": ["a" * 16, "b" * 16, "c" * 16],
...     "parent_id": [None, "a" * 16, "a" * 16],
...     "service": ["api", "db", "api"], "name": ["GET /", "SELECT", "render"],
...     "start": [0, 5_000_000, 1_000_000], "end": [10_000_000, 9_000_000, 4_000_000]})
>>> w = tk.waterfall_data(spans)
>>> w[["name", "depth", "start_ms", "duration_ms"]].to_string(index=False)
'  name  depth  start_ms  duration_ms\\n GET /      0       0.0         10.0\\nrender      1       1.0          3.0\\nSELECT      1       5.0          4.0'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..core.args import count_arg
from ..core.frame import require_columns
from ..core.naming import frame_services
from ..core.outcomes import client_error, failed, status_recorded, trace_outcomes
from ..core.tree import self_ns, span_rows, span_tree
from ..core.words import hover_pairs, hover_text, ms_label
from ..errors import ArgumentError, TraceKitError

__all__ = ["waterfall_data", "WATERFALL_COLUMNS"]

#: Columns of the frame :func:`waterfall_data` returns, in order.
WATERFALL_COLUMNS: tuple[str, ...] = (
    "span_id",
    "parent_id",
    "depth",
    "start_ms",
    "end_ms",
    "duration_ms",
    "service",
    "name",
    "kind",
    "status",
    "is_error",
    "in_progress",
    "orphan",
    "has_children",
    "collapsed",
    "n_hidden",
    "on_critical_path",
    "cp_sections",
    "cp_ms",
    "log_errors",
    "label",
    "hover",
    "span_row",
)

_CP_REQUIRED = ("span_id", "start", "end")


def _to_ns(values: pd.Series) -> np.ndarray:
    """int64 ns since the epoch of a datetime-like or integer series (NaT → minimum int64)."""
    s = values
    if s.dtype.kind in "iu":
        return s.to_numpy(dtype="int64")
    if not isinstance(s.dtype, pd.DatetimeTZDtype) and s.dtype.kind != "M":
        s = pd.to_datetime(s, utc=True)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.astype("datetime64[ns]").to_numpy().view("int64")


_NAT = np.iinfo("int64").min
#: the spans columns waterfall_data reads
_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")


def _pick_trace(spans: pd.DataFrame, trace_id: str | None) -> pd.DataFrame:
    if trace_id is None:
        ids = pd.unique(spans["trace_id"].dropna())
        if not len(ids):  # said as what it is, not "pass trace_id= (one of e.g. [])"
            raise TraceKitError(f"waterfall_data: the spans hold no trace ({len(spans)} spans{' without a trace id' if len(spans) else ''}): "
                                "there is nothing to draw")
        if len(ids) != 1:
            raise TraceKitError(
                f"waterfall_data: the spans hold {len(ids)} traces; pass trace_id= (one of e.g. {list(ids[:3])})"
            )
        return spans
    tid = trace_id.lower() if isinstance(trace_id, str) else trace_id
    if isinstance(tid, str) and tid.startswith("1-"):
        from ..schema import xray_to_trace_id

        tid = xray_to_trace_id(tid)
    sub = spans[spans["trace_id"] == tid]
    if sub.empty:
        raise ArgumentError(f"waterfall_data: trace {trace_id!r} is not in the spans ({spans['trace_id'].nunique()} traces)")
    return sub


def _display_order(parent_pos: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth-first order (children by start, ties by input order); returns (order, depth, top_flag).

    ``parent_pos[i]`` is the row of i's parent or -1. Spans unreachable from a top-level span
    (parent cycles) are promoted to top level, earliest first. ``top_flag`` marks promoted spans.
    """
    n = len(parent_pos)
    pos = np.arange(n)
    # children grouped by parent, each group sorted by (start, input order)
    by = np.lexsort((pos, start, parent_pos))
    sorted_parent = parent_pos[by]
    bounds = np.searchsorted(sorted_parent, np.arange(-1, n + 1))  # group of parent p: bounds[p+1]:bounds[p+2]
    order = np.empty(n, dtype=np.int64)
    depth = np.full(n, -1, dtype=np.int64)
    promoted = np.zeros(n, dtype=bool)
    k = 0

    def walk(top: list[int]) -> None:
        nonlocal k
        stack = [(i, 0) for i in reversed(top)]
        pop, push = stack.pop, stack.append
        while stack:
            i, d = pop()
            if depth[i] >= 0:
                continue
            depth[i] = d
            order[k] = i
            k += 1
            kids = by[bounds[i + 1] : bounds[i + 2]]
            for c in kids[::-1].tolist():
                push((c, d + 1))

    walk(by[bounds[0] : bounds[1]].tolist())
    while k < n:  # parent cycles: promote the earliest unvisited span
        left = np.flatnonzero(depth < 0)
        first = int(left[np.lexsort((left, start[left]))[0]])
        promoted[first] = True
        walk([first])
    return order, depth, promoted


def _merge_sections(pairs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    pairs = sorted(pairs)
    out: list[tuple[float, float]] = []
    for s, e in pairs:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _cp_frame(critical_path, trace: pd.DataFrame, trace_id) -> pd.DataFrame | None:
    if critical_path is None or critical_path is False:
        return None
    if critical_path is True:
        try:
            from .critical_paths import critical_path as compute
        except ImportError as exc:  # the critical-path module is another layer-3 analysis
            raise ArgumentError("critical_path=True needs tracekit.critical_path, which is not available") from exc
        return compute(trace)
    if not isinstance(critical_path, pd.DataFrame):
        raise ArgumentError(
            f"critical_path must be True/False or a DataFrame from tk.critical_path, got {type(critical_path).__name__}"
        )
    missing = [c for c in _CP_REQUIRED if c not in critical_path.columns]
    if missing:
        raise ArgumentError(f"critical_path frame is missing columns: {', '.join(missing)} (expected tk.critical_path output)")
    cp = critical_path
    if "trace_id" in cp.columns:
        cp = cp[cp["trace_id"] == trace_id]
    return cp


_MAX_INDENT = 64


def waterfall_data(
    spans: pd.DataFrame,
    trace_id: str | None = None,
    *,
    critical_path: bool | pd.DataFrame | None = None,
    collapse: Iterable[str] | None = (),
    max_depth: int | None = None,
) -> pd.DataFrame:
    """One row per visible span of one trace, in depth-first display order.

    Parameters
    ----------
    spans:
        Spans DataFrame (the canonical schema). It is not modified.
    trace_id:
        The trace to show (32-hex or X-Ray ``1-…`` form). May be omitted when ``spans`` holds
        exactly one trace.
    critical_path:
        ``True`` computes :func:`tracekit.critical_path` for the trace; a DataFrame of
        critical-path sections (columns ``span_id``, ``start``, ``end``, optionally ``trace_id``)
        is used as given; ``None``/``False`` leaves ``cp_sections`` empty.
    collapse:
        Span ids whose descendants are hidden (one id, a list of them, or ``None`` for none).
    max_depth:
        Hide spans deeper than this (0 shows the roots only).

    Returns a DataFrame with the columns of :data:`WATERFALL_COLUMNS` and a 0..n-1 index (the
    display row): ``start_ms``/``end_ms``/``duration_ms`` are offsets from the trace start (an
    in-progress span ends at the trace end); ``is_error`` is status ``error`` or an X-Ray
    error/fault flag; ``collapsed`` is true for a visible row that hides descendants
    (``n_hidden`` of them); ``cp_sections`` is a list of ``(start_ms, end_ms)`` tuples of the
    critical path inside the row's span (merged with those of its hidden descendants);
    ``log_errors`` counts the span's ERROR/FATAL log records (after :func:`tracekit.attach_logs`; 0 without);
    ``span_row`` is the span's position among the trace's rows of ``spans`` (0-based, input order), which tells
    apart spans sharing an id; ``label`` is the name indented by depth (non-breaking spaces; past 64 levels the indentation
    stays at 64 and the label starts with ``[depth N]``); ``hover`` is escaped HTML.
    ``attrs["status_recorded"]`` is :func:`tracekit.core.status_recorded` of ``spans``: False when no span
    records a status, an HTTP code or a fault flag, so ``is_error`` False means unknown, not ok. The whole
    trace in the kernel's terms (:func:`tracekit.core.trace_outcomes`; hidden rows included), for the figure's
    header: ``attrs["trace_start"]`` (UTC: the trace's start, :func:`tracekit.core.trace_outcomes`' — the request
    root's, the earliest span's without one; the x axis counts from the earliest span), ``"request_ms"`` (the request root's duration; NaN without a root or
    for asynchronous work), ``"request"``, ``"has_root"``, ``"root_span_id"``, ``"request_failed"`` (True / False,
    None when unknown), ``"failed_spans"`` (:func:`tracekit.core.failed`: :data:`tracekit.core.FAILED_WORDS`) and
    ``"client_error_spans"`` (4xx: ``is_error`` marks these too); ``attrs["services"]``: every service of ``spans``
    (the figure colours by them, as the frame's other figures do).

    Returns
    -------
    pandas.DataFrame
        One row per visible span of one trace, in depth-first display order.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["ab" * 16] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["api", "api", "db"],
    ...     "name": ["GET /", "load", "<query>"],
    ...     "start": [0, 2_000_000, 3_000_000], "end": [10_000_000, 8_000_000, 7_000_000]})
    >>> import pandas as pd
    >>> ms = lambda *v: pd.to_datetime([x * 1_000_000 for x in v], unit="ns", utc=True)
    >>> cp = pd.DataFrame({"span_id": ["a" * 16, "b" * 16, "c" * 16, "b" * 16, "a" * 16],
    ...     "start": ms(8, 7, 3, 2, 0), "end": ms(10, 8, 7, 3, 2)})
    >>> w = tk.waterfall_data(spans, critical_path=cp, collapse=["b" * 16])
    >>> w[["name", "n_hidden", "cp_sections"]].values.tolist()
    [['GET /', 0, [(0.0, 2.0), (8.0, 10.0)]], ['load', 1, [(2.0, 8.0)]]]
    >>> "&lt;query&gt;" in tk.waterfall_data(spans).loc[2, "hover"]
    True
    """
    require_columns(spans, _NEEDED, "waterfall_data")
    # a whole number >= 0 or None (core.count_arg): True was taken as max_depth=1
    max_depth = count_arg(max_depth, "max_depth", "waterfall_data", minimum=0, allow_none=True)
    if collapse is None:  # nothing collapsed, as the default (); was a bare TypeError from iterating None
        collapse = ()
    if isinstance(collapse, str):
        collapse = [collapse]
    elif not isinstance(collapse, Iterable) or isinstance(collapse, (bytes, Mapping)):
        raise ArgumentError(f"waterfall_data: collapse must be a span id or a list of span ids, got {type(collapse).__name__}")
    trace = _pick_trace(spans, trace_id)
    tid = trace["trace_id"].iloc[0]
    n = len(trace)

    span_id = trace["span_id"].astype(object).to_numpy()
    has_parent = trace["parent_id"].notna().to_numpy()
    start = _to_ns(trace["start"])
    end_raw = trace["end"]
    end_missing = end_raw.isna().to_numpy()
    end = np.where(end_missing, _NAT, _to_ns(end_raw.fillna(trace["start"])))
    in_progress = end_missing.copy()
    if "in_progress" in trace.columns:
        in_progress |= trace["in_progress"].fillna(False).to_numpy(dtype=bool)

    t0 = int(start.min())
    known_end = end[~end_missing]
    t_end = int(max(known_end.max() if len(known_end) else start.max(), start.max()))
    end = np.where(in_progress, np.maximum(t_end, start), end)

    # parent row of each span: the span tree's (core.tree), whose copy of a span read twice is the span whatever the row
    # order; the first row was taken, so a child and the critical path hung on the 10..30 ms copy of a span the tree
    # and the critical path read as 10..90 ms, or on the other, by row order. A span naming itself: no parent.
    tree = span_tree(trace)
    parent_pos = tree.parent.copy()
    orphan = has_parent & (parent_pos < 0)

    order, depth, promoted = _display_order(parent_pos, start)
    orphan |= promoted
    parent_pos[promoted] = -1

    # visibility: hidden when an ancestor is collapsed or deeper than max_depth
    collapse_set = set(collapse)
    collapsing = np.isin(span_id, list(collapse_set)) if collapse_set else np.zeros(n, dtype=bool)
    if max_depth is not None:
        collapsing |= depth == max_depth
    # in display order a parent precedes its children: propagate "nearest visible ancestor"
    visible_anchor = np.empty(n, dtype=np.int64)  # position of the visible row representing i
    hidden = np.zeros(n, dtype=bool)
    for i in order.tolist():
        p = parent_pos[i]
        if p >= 0 and (hidden[p] or collapsing[p]):
            hidden[i] = True
            visible_anchor[i] = visible_anchor[p]
        else:
            visible_anchor[i] = i
    n_children = np.bincount(parent_pos[parent_pos >= 0], minlength=n)
    n_hidden = np.bincount(visible_anchor[hidden], minlength=n)

    # critical path sections, per visible anchor
    sections: dict[int, list[tuple[float, float]]] = {}
    cp = _cp_frame(critical_path, trace, tid)
    if cp is not None and len(cp):
        cp_pos = span_rows(trace, np.full(len(cp), tid, dtype=object), cp["span_id"], tree)  # the tree's copy
        unknown = cp_pos < 0
        if unknown.any():
            warnings.warn(
                f"trace {tid}: {int(unknown.sum())} critical-path sections name spans not in the trace; ignored",
                UserWarning,
                stacklevel=2,
            )
        keep = ~unknown
        anchors = visible_anchor[cp_pos[keep]]
        cs = (_to_ns(cp["start"])[keep] - t0) / 1e6
        ce = (_to_ns(cp["end"])[keep] - t0) / 1e6
        for a, s, e in zip(anchors.tolist(), cs.tolist(), ce.tolist(), strict=False):
            if e > s:
                sections.setdefault(a, []).append((s, e))
        sections = {a: _merge_sections(v) for a, v in sections.items()}

    rows = order[~hidden[order]]
    start_ms = (start[rows] - t0) / 1e6
    end_ms = (end[rows] - t0) / 1e6
    dur_ms = (end[rows] - start[rows]) / 1e6
    m = len(rows)

    def text_col(col: str, default: str) -> pd.Series:
        if col in trace.columns:
            return trace[col].iloc[rows].astype("string[pyarrow]").reset_index(drop=True)
        return pd.Series(pd.array([default] * m, dtype="string[pyarrow]"))

    status = text_col("status", "unset")
    kind = text_col("kind", "unspecified")
    service = text_col("service", "")
    name = text_col("name", "")
    is_error = status.eq("error").fillna(False).to_numpy(dtype=bool)
    for flag in ("error", "fault"):
        if flag in trace.columns:
            is_error = is_error | trace[flag].fillna(False).to_numpy(dtype=bool)[rows]
    status_message = (
        trace["status_message"].iloc[rows].reset_index(drop=True) if "status_message" in trace.columns else pd.Series([pd.NA] * m, dtype="string[pyarrow]")
    )
    cp_sections = [sections.get(i, []) for i in rows.tolist()] if sections else [[] for _ in range(m)]
    cp_ms = np.array([sum(e - s for s, e in secs) for secs in cp_sections], dtype=float) if sections else np.zeros(m)
    d = depth[rows]
    parent_out = trace["parent_id"].iloc[rows].astype("string[pyarrow]").reset_index(drop=True)
    parent_out = parent_out.mask(parent_pos[rows] < 0)

    # indentation stops growing at _MAX_INDENT levels (a deeper row says its depth): a 100k-deep
    # chain would otherwise need 10^10 characters of indentation
    indent = ["\u00a0\u00a0" * k for k in range(min(int(d.max()) if m else 0, _MAX_INDENT) + 1)]
    labels = [(indent[dd] if dd <= _MAX_INDENT else f"{indent[_MAX_INDENT]}[depth {dd}] ") + nm
              for dd, nm in zip(d.tolist(), name.fillna("").tolist(), strict=False)]
    # the span's exclusive time (core.tree.self_ns, the one definition: NaN in progress), said in the hover as a part
    # of its duration ("self 60.0 ms of 100.0 ms")
    own_ms = self_ns(trace, tree)[rows] / 1e6
    hover = _hover_texts(
        service, name, kind, status, status_message, start_ms, dur_ms, is_error, in_progress[rows], orphan[rows],
        n_hidden[rows], cp_ms, span_id[rows], own_ms,
    )
    out = pd.DataFrame(
        {
            "span_id": trace["span_id"].iloc[rows].astype("string[pyarrow]").reset_index(drop=True),
            "parent_id": parent_out,
            "depth": d.astype("int64"),
            "start_ms": start_ms,
            "end_ms": end_ms,
            "duration_ms": dur_ms,
            "service": service,
            "name": name,
            "kind": kind,
            "status": status,
            "is_error": is_error.astype(bool),
            "in_progress": in_progress[rows],
            "orphan": orphan[rows],
            "has_children": n_children[rows] > 0,
            "collapsed": n_hidden[rows] > 0,
            "n_hidden": n_hidden[rows].astype("int64"),
            "on_critical_path": cp_ms > 0 if not sections else np.array([bool(x) for x in cp_sections], dtype=bool),
            "cp_sections": pd.Series(cp_sections, dtype=object),
            "cp_ms": cp_ms,
            # ERROR/FATAL log records on the span (tk.attach_logs); 0 without logs attached
            "log_errors": (trace["log_errors"].fillna(0).to_numpy(dtype=np.int64)[rows] if "log_errors" in trace.columns
                           else np.zeros(m, dtype=np.int64)),
            "label": pd.Series(labels, dtype=object),  # object: skips a 0.1 s/50k-span Arrow conversion
            "hover": pd.Series(hover, dtype=object),
            # the span's position among the trace's rows of the input (0-based): tells apart spans sharing an id
            "span_row": rows.astype("int64"),
        }
    )
    # whether the frame can say that anything failed (core.status_recorded): where no span records a status, a row's
    # is_error False is unknown, not "ok" (TrainTicket's spans carry none)
    out.attrs["status_recorded"] = status_recorded(spans)
    out.attrs.update(_request_facts(trace, tid, t0, out.attrs["status_recorded"]))
    # every service of the frame, so the figure colours a service as the frame's other figures do (service_colors
    # resolves palette collisions among the names it is given)
    out.attrs["services"] = frame_services(spans)
    return out


def _request_facts(trace: pd.DataFrame, tid, t0: int, recorded: bool) -> dict:
    """What the figure's header says of the whole trace, in the kernel's terms (:func:`tracekit.core.trace_outcomes`,
    :func:`tracekit.core.failed`), not read off the first drawn row: an orphan fragment that starts before the request
    root, or a 4xx client error, is not the request's latency or failure."""
    oc = trace_outcomes(trace)
    oc = oc[oc["trace_id"].astype(object).to_numpy() == tid]
    facts: dict = {"trace_start": pd.Timestamp(t0, unit="ns", tz="UTC"), "request_ms": float("nan"), "request": False,
                   "has_root": False, "request_failed": None,
                   "failed_spans": int(failed(trace).sum()), "client_error_spans": int(client_error(trace).sum())}
    if len(oc):
        r = oc.iloc[0]
        # the trace's start as every table says it (the request root's; the earliest span's without one), not the
        # earliest drawn span's: a child skewed 5 ms before its parent made the header and the explorer's list differ
        if pd.notna(r["start"]):
            facts["trace_start"] = pd.Timestamp(r["start"]).tz_convert("UTC")
        facts["request_ms"] = float(r["request_ms"]) if pd.notna(r["request_ms"]) else float("nan")
        facts["request"], facts["has_root"] = bool(r["request"]), bool(r["has_root"])
        # <NA> on a trace that records no status of its own, in a frame that does: the frame's kernel says False
        facts["request_failed"] = bool(r["failed"]) if pd.notna(r["failed"]) else (False if recorded else None)
        if facts["has_root"] and pd.notna(r["root_span_id"]):
            facts["root_span_id"] = str(r["root_span_id"])
    return facts


def _escaped(values: pd.Series) -> list[str]:
    """core.words.hover_text of each value (no tag drawn, quotes kept; cut to HOVER_CHARS, on lines of 100: a
    2,015-character operation made the hover box 13,041 px wide, over the whole figure), computed once per distinct
    value (names repeat a lot)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    table = np.array([hover_text(u) for u in uniques] + ["&lt;NA&gt;"], dtype=object)
    return table[codes].tolist()  # code -1 (missing) picks the last entry


def _hover_texts(service, name, kind, status, message, start_ms, dur_ms, is_error, in_progress, orphan, n_hidden, cp_ms, span_id,
                 own_ms) -> list[str]:
    kd, st = _escaped(kind), _escaped(status)
    # "<b>service</b>: name" by core.words.hover_pair (each cut, the name on a line of its own when both do not fit one),
    # once per distinct pair
    heads = hover_pairs(service.astype(object).fillna("<NA>").tolist(), name.astype(object).fillna("<NA>").tolist(),
                        bold=True)
    # an in-progress span has no duration yet: what is drawn (to the trace end) is a lower bound, said as one
    base = [
        f"{h}<br>start {ms_label(s)} · duration {'≥ ' if ip else ''}{ms_label(du)}"
        f"<br>self {ms_label(o) + ' of ' + ms_label(du) if o == o and not ip else 'unknown (in progress)'}"
        f"<br>kind {k} · status {t}"
        for h, s, du, o, k, t, ip in zip(heads, start_ms.tolist(), dur_ms.tolist(), own_ms.tolist(), kd, st,
                                         in_progress.tolist(), strict=False)
    ]
    extra = [""] * len(base)
    msg_ok = message.notna().to_numpy(dtype=bool) & (message.astype(object).fillna("").astype(str).to_numpy() != "")
    flagged = np.flatnonzero(msg_ok | is_error | in_progress | orphan | (n_hidden > 0) | (cp_ms > 0))
    msgs = message.astype(object).to_numpy()
    for i in flagged.tolist():
        parts = []
        if msg_ok[i]:
            parts.append(f"message: {hover_text(msgs[i])}")
        if is_error[i]:
            parts.append("<b>error</b>")
        if in_progress[i]:
            parts.append("in progress (drawn to trace end)")
        if orphan[i]:
            parts.append("parent span missing from the trace")
        if n_hidden[i]:
            parts.append(f"{int(n_hidden[i])} spans collapsed")
        if cp_ms[i] > 0:
            parts.append(f"critical path {ms_label(cp_ms[i])}")
        extra[i] = "<br>" + "<br>".join(parts)
    return [f"{b}{e}<br>span {sid}" for b, e, sid in zip(base, extra, span_id.tolist(), strict=False)]
