"""Waterfalls of big traces (10k–100k+ spans) drawn on a canvas, shipped as compact columns.

:func:`plot_waterfall_gl` returns a self-contained HTML fragment (or page) holding one trace as
typed arrays (base64 ``Float64``/``Int32``/``Uint8`` columns plus dictionaries of the distinct
service and span names) and a small JavaScript renderer (``tracekit/plotting/waterfall_gl.js``, embedded,
no network). The renderer draws only the rows in view; spans narrower than a pixel at the
current zoom are merged into the pixel they fall in (one pixel write instead of a rectangle);
span-name labels appear only when rows are tall enough to read; the critical path (thin dark
bars), errors (red outlines, at least 3 px wide so they stay visible when zoomed out), spans with
ERROR log records (a red diamond at the span's end, as :func:`tracekit.plot_waterfall` marks them) and
in-progress spans (a dashed grey outline: drawn to the trace end) are drawn over the spans. Wheel zooms time (shift+wheel or wheel over the labels zooms rows), drag
pans, double-click resets, a click opens the span's details, the search box highlights spans
whose name, service or span id contains the text and "next" zooms to each match.

Small traces keep :func:`tracekit.plot_waterfall` (plotly bars, hover boxes); this renderer is
for traces where one SVG bar per span is too slow (``benchmarks/bench_waterfall_gl.py``).

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
...     "service": ["api", "db"], "name": ["GET /", "query"], "start": [0, 2_000_000], "end": [9_000_000, 5_000_000]})
>>> cols = waterfall_columns(tk.waterfall_data(spans))
>>> cols["n"], cols["names"], [float(v) for v in decode(cols["end"], "float64")]
(2, ['GET /', 'query'], [9.0, 5.0])
>>> page = plot_waterfall_gl(spans, full_html=True)
>>> page.count("<script") == 2 and "tkWaterfalls" in page
True
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.waterfall import waterfall_data
from ..core.files import replaced
from ..core.words import bidi_visible
from ..errors import ArgumentError

__all__ = ["waterfall_columns", "plot_waterfall_gl", "write_waterfall_gl", "decode", "CanvasFigure"]

_JS_PATH = Path(__file__).with_name("waterfall_gl.js")
_ids = itertools.count()


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def decode(text: str, dtype: str) -> np.ndarray:
    """Inverse of the base64 column encoding of :func:`waterfall_columns` (little-endian).

    >>> decode(_b64(np.array([1, 2], dtype="<i4")), "int32").tolist()
    [1, 2]
    """
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def _parent_rows(rows: pd.DataFrame, span_ids: list[str]) -> np.ndarray:
    """Display row of each row's parent (-1: none). In waterfall_data's depth-first order a row's parent is the
    nearest row above it one level up (hidden rows take their descendants with them); that row is taken when it
    holds the parent id, so of a span read twice the children hang on the copy waterfall_data hung them on (the span
    tree's, :func:`tracekit.core.span_rows`), not on the first row holding the id (which depended on row order).
    Rows not in that order (filtered by hand) fall back to the first row holding the id."""
    n = len(rows)
    pid = rows["parent_id"].astype(object).to_numpy(dtype=object, na_value=None)
    pos = pd.Series(np.arange(n), index=span_ids)
    pos = pos[~pos.index.duplicated()]
    parent = pos.reindex(pid).fillna(-1).to_numpy(dtype=np.int64)
    depth = rows["depth"].to_numpy(dtype=np.int64)
    if n:
        idx = np.arange(n, dtype=np.int64)
        o = np.lexsort((idx, depth))
        comb = depth[o] * (n + 1) + idx[o]
        k = np.searchsorted(comb, (depth - 1) * (n + 1) + idx, side="left") - 1
        cand = o[np.maximum(k, 0)]
        sid = np.asarray(span_ids, dtype=object)
        ok = (k >= 0) & (depth > 0) & (depth[cand] == depth - 1) & (sid[cand] == pid)
        parent[ok] = cand[ok]
    return parent.astype("<i4")


def waterfall_columns(rows: pd.DataFrame, *, colors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The rows of :func:`tracekit.waterfall_data` as compact columns for the canvas renderer.

    Returns a JSON-ready dict: ``n``; ``start``/``end`` (float64 ms offsets), ``depth``,
    ``svc``/``name`` (int32 codes into ``services``/``names``), ``parent`` (int32 display row
    of the parent, -1 for none), ``flags`` (uint8: 1 error, 2 in progress, 4 parent missing,
    8 has children), ``log_errors`` (int32: ERROR/FATAL log records on the span, :func:`tracekit.attach_logs`),
    ``cp_row``/``cp_start``/``cp_end`` (critical-path sections: row and ms),
    each base64 of little-endian bytes (:func:`decode` reads one back); ``services``,
    ``colors`` (one per service), ``names``, ``span_ids`` (lists) and ``t_end``.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api", "db"], "name": ["x", "y"],
    ...     "status": ["ok", "error"], "start": [0, 1_000_000], "end": [4_000_000, 3_000_000]})
    >>> c = waterfall_columns(tk.waterfall_data(spans, critical_path=True))
    >>> decode(c["flags"], "uint8").tolist(), decode(c["parent"], "int32").tolist(), decode(c["cp_row"], "int32").tolist()
    ([8, 1], [-1, 0], [0, 0, 1])
    """
    missing = [c for c in ("span_id", "parent_id", "depth", "start_ms", "end_ms", "service", "name", "is_error", "cp_sections")
               if c not in rows.columns]
    if missing:
        raise ArgumentError(f"waterfall_columns needs the rows of tk.waterfall_data; missing columns: {', '.join(missing)}")
    n = len(rows)
    svc_codes, services = pd.factorize(rows["service"].astype(object).fillna("<NA>"), sort=True)
    name_codes, names = pd.factorize(rows["name"].astype(object).fillna("<NA>"))
    if colors is None:
        from .colors import service_colors

        colors = service_colors(rows.attrs.get("services") or services, others=services, drawn=services)  # as plot_waterfall
    span_ids = rows["span_id"].astype(object).fillna("").astype(str).tolist()
    parent = _parent_rows(rows, span_ids)
    flags = (rows["is_error"].to_numpy(dtype=bool).astype(np.uint8)
             | (rows["in_progress"].to_numpy(dtype=bool).astype(np.uint8) << 1 if "in_progress" in rows else 0)
             | (rows["orphan"].to_numpy(dtype=bool).astype(np.uint8) << 2 if "orphan" in rows else 0)
             | (rows["has_children"].to_numpy(dtype=bool).astype(np.uint8) << 3 if "has_children" in rows else 0)).astype(np.uint8)
    secs = rows["cp_sections"].tolist()
    counts = np.fromiter((len(s) for s in secs), dtype=np.int64, count=n)
    flat = np.array([p for s in secs for p in s], dtype="<f8").reshape(-1, 2)
    end = rows["end_ms"].to_numpy(dtype="<f8")
    # ERROR/FATAL log records on each span (tk.attach_logs; 0 without): marked at the span's end, as plot_waterfall does
    log_errors = (rows["log_errors"].fillna(0).to_numpy(dtype="<i4") if "log_errors" in rows.columns
                  else np.zeros(n, dtype="<i4"))
    return {
        "n": n,
        "start": _b64(rows["start_ms"].to_numpy(dtype="<f8")),
        "end": _b64(end),
        "depth": _b64(rows["depth"].to_numpy(dtype="<i4")),
        "svc": _b64(svc_codes.astype("<i4")),
        "name": _b64(name_codes.astype("<i4")),
        "parent": _b64(parent),
        "flags": _b64(flags),
        "log_errors": _b64(log_errors),
        "cp_row": _b64(np.repeat(np.arange(n, dtype="<i4"), counts)),
        "cp_start": _b64(flat[:, 0].copy()),
        "cp_end": _b64(flat[:, 1].copy()),
        # drawn with fillText: bidi controls shown (core.words.bidi_visible), so a name cannot reverse its row's text
        "services": [bidi_visible(s) for s in services],
        "colors": [colors.get(str(s), "#999999") for s in services],
        "names": [bidi_visible(s) for s in names],
        "span_ids": span_ids,
        "t_end": float(end.max()) if n else 0.0,
    }


def _json_script(obj: Any) -> str:
    # inside <script>: no "<" at all, so neither </script> nor <!-- can end or confuse the element
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


@dataclass(frozen=True)
class CanvasFigure:
    """The canvas waterfall as a figure-like object: what :func:`tracekit.plot_waterfall` returns above its
    ``canvas_above`` threshold (a plotly page of that many bars would be tens of MB and slow to draw).

    Shows itself in Jupyter (``_repr_html_``) and writes itself like a plotly figure
    (``write_html(path)``, ``to_html()``).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api", "db"], "name": ["GET /", "q"],
    ...     "start": [0, 1_000_000], "end": [5_000_000, 3_000_000]})
    >>> fig = tk.plot_waterfall(spans, canvas_above=1)
    >>> type(fig).__name__, fig.n_rows, fig.to_html().startswith("<!DOCTYPE html>")
    ('CanvasFigure', 2, True)
    """

    html: str  #: the ``<div>`` fragment (data and renderer embedded)
    page: str  #: the same as a self-contained page
    n_rows: int  #: rows drawn

    def _repr_html_(self) -> str:
        return self.html

    def to_html(self, full_html: bool = True, **_: Any) -> str:
        """The page (``full_html``) or the fragment."""
        return self.page if full_html else self.html

    def write_html(self, path: str | Path, **_: Any) -> Path:
        """Write the self-contained page (plotly's keyword arguments are accepted and ignored)."""
        p = Path(path)
        with replaced(p) as f:  # whole or not at all
            f.write(self.page.encode("utf-8"))
        return p


def plot_waterfall_gl(
    spans: pd.DataFrame,
    trace_id: str | None = None,
    *,
    critical_path: bool | pd.DataFrame | None = None,
    colors: Mapping[str, str] | None = None,
    height: int = 700,
    title: str | None = None,
    full_html: bool = False,
) -> str:
    """HTML of the canvas waterfall of one trace (a ``<div>`` fragment, or a page with ``full_html``).

    ``spans`` is a spans DataFrame (rows from :func:`tracekit.waterfall_data` with ``trace_id``
    and ``critical_path``) or rows that function already returned. The fragment embeds its data
    and the renderer; several fragments on one page each draw their own trace. Every string from
    the trace reaches the page as JSON data and is drawn as text (canvas ``fillText``,
    ``textContent``), never parsed as HTML. In the page, ``window.tkWaterfalls[id]`` exposes
    ``setView(x0_ms, x1_ms, row0, row1)`` (redraws, returns draw statistics), ``search(text)``,
    ``focus(row)`` and ``last`` (statistics of the last draw: ms, spans drawn as rectangles and
    merged below a pixel, critical-path sections, error marks, ERROR-log marks ``logs``, in-progress marks
    ``in_progress``, labels).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame, or rows :func:`tracekit.waterfall_data` returned.
    trace_id : str, optional
        The trace to draw when ``spans`` holds several (X-Ray form accepted).
    critical_path : bool or pandas.DataFrame, optional
        Mark the critical path (``True``: compute it; a frame: sections already computed).
    colors : mapping, optional
        Colour per service (default: :func:`tracekit.plotting.service_colors`).
    height : int, default 700
        Canvas height in pixels.
    title : str, optional
        Title shown above the canvas (drawn as text; default: the number of spans).
    full_html : bool, default False
        Return a whole page instead of a fragment.

    Returns
    -------
    str
        HTML: a ``<div>`` fragment with its data and renderer, or a page.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16], "span_id": ["a" * 16],
    ...     "service": ["api"], "name": ["</script><b>x"], "start": [0], "end": [1_000_000]})
    >>> frag = plot_waterfall_gl(spans)
    >>> "</script><b>" in frag, "\\\\u003c/script>\\\\u003cb>x" in frag
    (False, True)
    """
    if isinstance(spans, pd.DataFrame) and all(c in spans.columns for c in ("depth", "start_ms", "cp_sections")):
        rows = spans
    else:
        rows = waterfall_data(spans, trace_id, critical_path=critical_path)
    data = waterfall_columns(rows, colors=colors)
    from .colors import CRITICAL_COLOR, ERROR_COLOR

    n_spans = data["n"]
    data.update(height=int(height), title=title if title is not None else f"{n_spans:,} spans",
                critical_color=CRITICAL_COLOR, error_color=ERROR_COLOR)
    div = f"tkw-{next(_ids)}-{np.random.default_rng().integers(1 << 30):x}"
    frag = (
        f'<div id="{div}" class="tkw" style="font:12px sans-serif">'
        '<div><b class="tkw-title"></b> <input class="tkw-search" placeholder="search name / service / span id" size="30">'
        ' <button class="tkw-next">next match</button> <button class="tkw-reset">reset zoom</button>'
        ' <span class="tkw-count"></span> <span style="color:#666">wheel: zoom time · shift+wheel: zoom rows · drag: pan · click: details</span></div>'
        '<canvas style="display:block;border:1px solid #ddd"></canvas><div class="tkw-details" style="min-height:3em"></div></div>'
        f'<script type="application/json" class="tkw-data" data-for="{div}">{_json_script(data)}</script>'
        f"<script>{_JS_PATH.read_text()}</script>"
    )
    if full_html:
        return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>waterfall</title></head><body>{frag}</body></html>'
    return frag


def write_waterfall_gl(spans: pd.DataFrame, path: str | Path, trace_id: str | None = None, **kwargs: Any) -> Path:
    """Write :func:`plot_waterfall_gl` as one self-contained HTML page (works offline); returns the path.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame, or rows :func:`tracekit.waterfall_data` returned.
    path : str or pathlib.Path
        Where to write the page.
    trace_id : str, optional
        The trace to draw when ``spans`` holds several.
    **kwargs
        Passed to :func:`plot_waterfall_gl` (``critical_path``, ``colors``, ``height``, ``title``).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.spans_from_columns({"trace_id": ["ab" * 16], "span_id": ["a" * 16],
    ...     "service": ["api"], "name": ["GET /"], "start": [0], "end": [1_000_000]})
    >>> p = write_waterfall_gl(spans, os.path.join(tempfile.mkdtemp(), "w.html"))
    >>> p.read_text().startswith("<!DOCTYPE html>")
    True
    """
    p = Path(path)
    page = plot_waterfall_gl(spans, trace_id, full_html=True, **kwargs)
    with replaced(p) as f:  # whole or not at all
        f.write(page.encode("utf-8"))
    return p
