"""TraceExplorer: pick a trace, look at its waterfall, open a span — inside Jupyter.

The widget is a thin ipywidgets shell. Everything it knows lives in :class:`ExplorerState`, a
frozen dataclass whose methods are pure: each takes the state and returns a new one
(``select_trace``, ``click``, ``toggle_collapse``, ``with_filter``, ``next_slowest``, …) or data
derived from it (``trace_table``, ``waterfall``, ``figure``, ``span_details``,
``details_html``). Widget callbacks only call those methods and redraw what changed, so tests
drive the state directly (plotly click events fire only in a live front end).

Requires the ``jupyter`` extra (ipywidgets, plotly, anywidget — plotly ≥ 6's FigureWidget is
an anywidget). :class:`ExplorerState` itself needs plotly only for :meth:`ExplorerState.figure`.

>>> import tracekit as tk
>>> from tracekit.widgets import ExplorerState
>>> spans = tk.spans_from_columns({
...     "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
...     "parent_id": [None, "1" * 16, None], "service": ["api", "db", "api"],
...     "name": ["GET /", "query", "GET /health"],
...     "start": [0, 1_000_000, 0], "end": [9_000_000, 8_000_000, 2_000_000]})
>>> s = ExplorerState.from_spans(spans)
>>> s.trace_id == "a" * 32, s.trace_table()["request_ms"].tolist()
(True, [9.0, 2.0])
>>> s = s.click(1)                      # the waterfall's second row
>>> s.span_id == "2" * 16, s.span_details()["header"]["service"]
(True, 'db')
>>> s.next_slowest().trace_id == "b" * 32
True
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .analysis.logs import is_log_event
from .analysis.traceql import is_traceql, traceql_mask
from .analysis.waterfall import waterfall_data
from .core import (
    FAILED_WORDS,
    require_columns,
    result_table,
    safe_repr,
    span_rows,
    span_tree,
    status_recorded,
    to_text,
    trace_id_of,
    trace_outcomes,
)
from .core.args import count_arg
from .core.nested import map_leaves
from .core.words import bidi_visible, ms_label, ms_number, plural
from .errors import ArgumentError, TraceKitError, TraceQLError, require

__all__ = ["ExplorerState", "TraceExplorer", "trace_table", "TRACE_TABLE_COLUMNS", "HeatmapState", "HeatmapExplorer"]

_SORT_KEYS = ("request_ms", "extent_ms", "failed_spans", "n_spans", "start", "root_name", "root_service", "trace_id")


def _esc(text: Any, quote: bool = True) -> str:
    """HTML-escaped text with its bidi controls shown (core.words.bidi_visible), so a name cannot reorder the pane."""
    return html.escape(bidi_visible(text), quote=quote)



#: the explorer's trace list (:func:`trace_table`), declared as data
TRACE_TABLE = result_table("trace_table", "one row per trace of the explorer's list, slowest request first", [
    ("trace_id", "string", "", "32-hex trace id"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "request start (the request root's start, else the earliest span's)"),
    ("request_ms", "float64", "ms", "request latency: the request root's duration; NaN without a root"),
    ("extent_ms", "float64", "ms", "trace extent: first start to last end, async work included; the last end so far (a "
                                   "lower bound) where in_progress"),
    ("in_progress", "bool", "", "some span of the trace has not ended (core.trace_outcomes)"),
    ("n_spans", "int64", "spans", "spans in the trace"),
    ("failed", "boolean", "", f"the request failed (its root span: {FAILED_WORDS}); <NA> (unknown, "
                              "not False) on every row when no span records a status (core.status_recorded)"),
    ("failed_spans", "int64", "spans", "spans of the trace recorded as failed (tracekit.core.failed); 0 where no span "
                                       "records a status (``failed`` is <NA> there)"),
    ("services", "string", "", "services of the trace, sorted, comma-separated"),
    ("root_service", "string", "", "service of the request root (else of the earliest fragment)"),
    ("root_name", "string", "", "operation of the request root (else of the earliest fragment)"),
])
#: columns of :func:`trace_table`, in order
TRACE_TABLE_COLUMNS = tuple(TRACE_TABLE.column_names)


def trace_table(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per trace for the explorer's list, in the kernel's terms (:func:`tracekit.core.trace_outcomes`).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame; it is not modified.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACE_TABLE_COLUMNS`: ``trace_id``, ``start`` (request start), ``request_ms``
        (request latency: the request root's duration), ``extent_ms`` (first start to last end,
        async work included; the last end so far where ``in_progress``: some span has not ended),
        ``n_spans``, ``failed`` (the request failed: nullable boolean, ``<NA>`` on
        every row when no span records a status, :func:`tracekit.core.status_recorded`), ``failed_spans``
        (spans that failed, :func:`tracekit.core.failed`: :data:`tracekit.core.FAILED_WORDS`), ``services``
        (sorted, comma-separated), ``root_service``, ``root_name`` (the request root, else the
        earliest fragment). Slowest request first; traces without a request root last.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16],
    ...     "parent_id": [None, "1" * 16], "service": ["web", "db"], "name": ["GET /", "q"],
    ...     "status": ["ok", "error"], "start": [0, 1_000_000], "end": [5_000_000, 2_000_000]})
    >>> trace_table(spans)[["request_ms", "failed", "failed_spans", "services", "root_name"]].values.tolist()
    [[5.0, False, 1, 'db, web', 'GET /']]
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), "TraceExplorer")
    o = trace_outcomes(spans)
    tree = span_tree(spans)
    n_spans = np.bincount(tree.trace, minlength=tree.n_traces).astype("int64")
    svc = pd.DataFrame({"t": tree.trace, "service": spans["service"].astype(object).to_numpy()}).dropna()
    svc = svc.drop_duplicates().sort_values(["t", "service"]).groupby("t")["service"].agg(", ".join)
    out = pd.DataFrame({
        "trace_id": o["trace_id"].astype(object).to_numpy(),
        "start": o["start"],
        "request_ms": o["request_ms"],
        "extent_ms": o["extent_ms"],
        "in_progress": o["in_progress"],  # the extent is a lower bound there
        "n_spans": n_spans,
        "failed": o["failed"].astype("boolean"),  # <NA> where no span records a status (core.trace_outcomes)
        "failed_spans": o["failed_spans"].astype("int64"),
        "services": svc.reindex(np.arange(tree.n_traces), fill_value="").to_numpy(dtype=object),
        "root_service": o["root_service"].astype(object).to_numpy(),
        "root_name": o["root_name"].astype(object).to_numpy(),
    }, columns=list(TRACE_TABLE_COLUMNS)).astype({c.name: c.dtype for c in TRACE_TABLE.columns})
    return out.sort_values(["request_ms", "trace_id"], ascending=[False, True], kind="stable", na_position="last").reset_index(drop=True)


@dataclass
class _Shared:
    """Data shared by every state derived from one ``from_spans`` call (not part of equality)."""

    spans: pd.DataFrame
    traces: pd.DataFrame
    by_trace: dict[str, np.ndarray]
    cache: dict = field(default_factory=dict)
    #: trace ids of requests whose root has not ended (trace_outcomes: request, in progress, no request_ms)
    open_requests: frozenset = frozenset()


@dataclass(frozen=True)
class ExplorerState:
    """What the explorer shows. Methods return new states (or data); nothing is mutated.

    Fields: ``service`` (show traces touching this service, or None), ``errors_only`` (only
    traces with a failed span, :func:`tracekit.core.failed`: 4xx client errors are not failures),
    ``search`` (case-insensitive substring of the root service/operation or trace id, or a
    TraceQL query such as ``{ status = error } >> { kind = client }``: the traces holding a match),
    ``sort_by`` / ``descending`` (trace list order), ``trace_id`` (selected trace), ``span_id``
    (selected span), ``span_row`` (its position among the trace's spans, which tells apart spans sharing an id;
    None: the copy the span tree keeps, :func:`tracekit.core.span_rows`), ``collapsed`` (span ids folded), ``max_depth``, ``critical_path``,
    ``auto_fold`` (a newly selected trace with more spans than this opens folded to the deepest
    level that keeps at most this many rows — the figure then keeps its span-name labels; a trace of more top-level
    fragments than this has no such level: it opens at depth 0 and is drawn a page of ``auto_fold`` fragments at a
    time, each page labelled (``page``, :meth:`pages`, :meth:`with_page`); None opens every trace unfolded and
    on one page), ``page`` (the page of top-level fragments drawn, from 0: :meth:`page_rows`), ``canvas_above`` (a trace with more spans than this is drawn by
    the canvas renderer :func:`tracekit.plotting.gl.plot_waterfall_gl` instead of plotly, and
    opens unfolded: folding stays available but is not needed to stay responsive; None keeps
    plotly for every trace), ``only_traces`` (list only these trace ids — a selection made
    elsewhere, e.g. a box on the latency heatmap of :class:`HeatmapExplorer`; None lists all).
    """

    shared: _Shared = field(repr=False, compare=False)
    service: str | None = None
    errors_only: bool = False
    search: str = ""
    sort_by: str = "request_ms"
    descending: bool = True
    trace_id: str | None = None
    span_id: str | None = None
    span_row: int | None = None
    collapsed: frozenset = frozenset()
    max_depth: int | None = None
    critical_path: bool = True
    auto_fold: int | None = 150
    canvas_above: int | None = None
    only_traces: frozenset | None = None
    page: int = 0

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_spans(
        cls, spans: pd.DataFrame, *, critical_path: bool = True, trace_id: str | None = None, auto_fold: int | None = 150,
        canvas_above: int | None = None,
    ) -> ExplorerState:
        """State for ``spans`` with the slowest trace (or ``trace_id``) selected.

        >>> import tracekit as tk
        >>> s = ExplorerState.from_spans(tk.spans_from_columns({"trace_id": ["c" * 32], "span_id": ["1" * 16],
        ...     "service": ["api"], "name": ["GET /"], "start": [0], "end": [1_000_000]}))
        >>> s.trace_id == "c" * 32, s.span_id == "1" * 16
        (True, True)
        """
        traces = trace_table(spans)
        codes, uniques = pd.factorize(spans["trace_id"].astype(object))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        by_trace = {str(t): order[bounds[i] : bounds[i + 1]] for i, t in enumerate(uniques)}
        o = trace_outcomes(spans)  # cached per frame (trace_table read it)
        open_ = o["request"].to_numpy(dtype=bool) & o["in_progress"].to_numpy(dtype=bool) & o["request_ms"].isna().to_numpy()
        state = cls(_Shared(spans, traces, by_trace, open_requests=frozenset(o["trace_id"].astype(object).to_numpy()[open_].tolist())),
                    critical_path=critical_path, auto_fold=auto_fold,
                    canvas_above=canvas_above)
        first = trace_id if trace_id is not None else (traces["trace_id"].iloc[0] if len(traces) else None)
        return state.select_trace(first) if first is not None else state

    # -- derived data --------------------------------------------------------------------------
    @property
    def spans(self) -> pd.DataFrame:
        return self.shared.spans

    @property
    def services(self) -> list[str]:
        """Every service in the data, sorted (the service filter's choices)."""
        return sorted(map(str, self.shared.spans["service"].dropna().unique()))

    def trace_table(self) -> pd.DataFrame:
        """The trace list after the filters, in the chosen order."""
        t = self.shared.traces
        keep = np.ones(len(t), dtype=bool)
        if self.service is not None:  # by the spans, not by splitting the list's text ("payments, eu" is one name)
            keep &= t["trace_id"].astype(object).isin(self._service_traces(self.service)).to_numpy(dtype=bool)
        if self.errors_only:
            keep &= (t["failed_spans"] > 0).to_numpy()
        if self.only_traces is not None:
            keep &= t["trace_id"].astype(object).isin(self.only_traces).to_numpy(dtype=bool)
        if self.search and is_traceql(self.search):  # a TraceQL query: traces holding a matching span
            keep &= t["trace_id"].astype(object).isin(self._traceql_traces()[0]).to_numpy(dtype=bool)
        elif self.search:
            q = self.search.lower()
            hay = (t["root_service"].astype(str) + " " + t["root_name"].astype(str) + " " + t["trace_id"].astype(str)).str.lower()
            keep &= hay.str.contains(q, regex=False).to_numpy(dtype=bool)
        t = t[keep]
        if self.sort_by != "request_ms" or not self.descending:
            t = t.sort_values([self.sort_by, "trace_id"], ascending=[not self.descending, True], kind="stable", na_position="last")
        return t.reset_index(drop=True)

    def _service_traces(self, service: str) -> frozenset:
        key = ("service", service)
        cache = self.shared.cache
        if key not in cache:
            sp = self.shared.spans
            hit = sp["service"].astype(object).to_numpy() == service
            cache[key] = frozenset(sp["trace_id"].to_numpy(dtype=object)[hit].tolist())
        return cache[key]

    def _traceql_traces(self) -> tuple[frozenset, str | None]:
        key = ("traceql", self.search)
        cache = self.shared.cache
        if key not in cache:
            try:
                mask = traceql_mask(self.shared.spans, self.search)[0]
                cache[key] = (frozenset(self.shared.spans["trace_id"].to_numpy(dtype=object)[mask]), None)
            except TraceQLError as e:  # half-typed queries list nothing and say why
                cache[key] = (frozenset(), str(e))
        return cache[key]

    def search_error(self) -> str | None:
        """Why the search box's TraceQL query cannot run (None when it runs or is plain text).

        >>> import tracekit as tk
        >>> s = ExplorerState.from_spans(tk.examples.load("checkout-small"))
        >>> s.with_filter(search="{ status = ").search_error().splitlines()[0]
        'unexpected end of query at position 12:'
        >>> len(s.with_filter(search="{ status = error }").trace_table()) < len(s.trace_table())
        True
        """
        return self._traceql_traces()[1] if is_traceql(self.search) else None

    def trace_spans(self, trace_id: str | None = None) -> pd.DataFrame:
        tid = trace_id or self.trace_id
        if tid is None:
            return self.shared.spans.iloc[0:0]
        return self.shared.spans.iloc[self.shared.by_trace.get(tid, np.zeros(0, np.int64))]

    def waterfall(self) -> pd.DataFrame:
        """:func:`tracekit.waterfall_data` of the selected trace with the current folding (memoised)."""
        if self.trace_id is None:
            raise TraceKitError("no trace selected")
        key = (self.trace_id, self.collapsed, self.max_depth, self.critical_path)
        cache = self.shared.cache
        if key not in cache:
            sub = self.trace_spans()
            cp: Any = None
            if self.critical_path:
                cp = self._critical_path(sub)
            if len(cache) > 32:
                cache.clear()
            rows = waterfall_data(sub, self.trace_id, critical_path=cp, collapse=self.collapsed, max_depth=self.max_depth)
            # the header says what the trace list says (trace_outcomes of the whole frame: a trace continuing
            # another's request, or recording no status in a frame that does, is judged over the frame)
            t = self.shared.traces
            r = t[t["trace_id"].astype(object).to_numpy() == self.trace_id]
            if len(r):
                req, fl = r["request_ms"].iloc[0], r["failed"].iloc[0]
                rows.attrs["request_ms"] = float(req) if pd.notna(req) else float("nan")
                # a request whose root has not ended has no latency yet, and is still a request (waterfall_data's
                # attrs["request"]): bool(notna) called it "not a request (asynchronous work)"
                rows.attrs["request"] = bool(pd.notna(req)) or (bool(r["in_progress"].iloc[0]) and rows.attrs.get("request", False))
                rows.attrs["request_failed"] = None if pd.isna(fl) else bool(fl)
                rows.attrs["status_recorded"] = bool(t["failed"].notna().any())  # <NA> on every row: none recorded
            cache[key] = rows
        return cache[key]

    def _critical_path(self, sub: pd.DataFrame) -> pd.DataFrame | None:
        key = ("cp", self.trace_id)
        cache = self.shared.cache
        if key not in cache:
            try:
                from .analysis.critical_paths import critical_path
            except ImportError:
                cache[key] = None
            else:
                cache[key] = critical_path(sub)
        return cache[key]

    def figure(self) -> Any:
        """The waterfall figure of the selected trace (:func:`tracekit.plot_waterfall`)."""
        from .plotting import plot_waterfall

        rows = self.page_rows()
        # the spans drawn and the trace's are counted once, by the header line under the title (waterfall_header:
        # '23 spans, 3 shown'); the title counted them again, unseparated and in the plural for one ('· 1 spans')
        title = f"trace {self.trace_id}"
        if self.pages() > 1:
            title += f" · {self.page_words()}"
        # plotly whatever the size: the canvas is chosen by the state's own canvas_above (figure_html), and
        # plot_waterfall's default threshold (5,000 rows) returned a CanvasFigure that FigureWidget refused
        return plot_waterfall(rows, title=title, colors=_colors(self.services, rows), canvas_above=None)

    def _tops(self) -> np.ndarray:
        """Display rows of :meth:`waterfall` that start a top-level fragment (depth 0), in order."""
        return np.flatnonzero(self.waterfall()["depth"].to_numpy() == 0)

    def pages(self) -> int:
        """Pages the selected trace is drawn on: 1, or with ``auto_fold`` set and more top-level fragments than it
        (no folding depth fits), one page of ``auto_fold`` fragments each (0 without a selected trace).

        >>> import tracekit as tk
        >>> n = 5   # five fragments of one trace: spans whose parents were not exported
        >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
        ...     "parent_id": [f"{i + 100:016x}" for i in range(n)], "service": ["api"] * n, "name": ["op"] * n,
        ...     "start": [i * 1000 for i in range(n)], "end": [i * 1000 + 500 for i in range(n)]})
        >>> s = ExplorerState.from_spans(spans, auto_fold=2)
        >>> s.pages(), len(s.page_rows()), s.page_words()
        (3, 2, 'fragments 1–2 of 5 (page 1 of 3)')
        >>> s = s.with_page(2)
        >>> s.page_rows()["span_id"].tolist() == [f"{5:016x}"], s.span_id == f"{5:016x}"
        (True, True)
        """
        if self.trace_id is None:
            return 0
        if self.auto_fold is None or self.auto_fold < 1 or self.uses_canvas():
            return 1
        return max(1, -(-len(self._tops()) // self.auto_fold))

    def page_words(self) -> str:
        """Which fragments the page draws, in words (``fragments 151–200 of 200 (page 2 of 2)``); '' on one page."""
        n = self.pages()
        if n <= 1:
            return ""
        k = len(self._tops())
        first = self._page() * self.auto_fold
        last = min(first + self.auto_fold, k)
        return f"fragments {first + 1:,}–{last:,} of {k:,} (page {self._page() + 1} of {n})"

    def _page(self) -> int:
        """``page`` within the trace's pages (folding can leave fewer pages than the state's page number)."""
        return min(max(self.page, 0), max(self.pages() - 1, 0))

    def page_rows(self) -> pd.DataFrame:
        """The rows of :meth:`waterfall` on the current page (all of them on one page), index 0..n-1 (the figure's bar
        positions); ``attrs`` as :meth:`waterfall`'s, with ``n_spans`` the whole trace's span count."""
        rows = self.waterfall()
        if self.pages() <= 1:
            return rows
        tops = self._tops()
        p = self._page()
        lo = int(tops[p * self.auto_fold])
        hi = int(tops[(p + 1) * self.auto_fold]) if (p + 1) * self.auto_fold < len(tops) else len(rows)
        out = rows.iloc[lo:hi].reset_index(drop=True)
        out.attrs = {**rows.attrs, "n_spans": len(self.trace_spans())}
        return out

    def with_page(self, page: int) -> ExplorerState:
        """Draw page ``page`` (from 0) of the selected trace's top-level fragments; the selected span moves to the
        page's first row when it is not on it.

        Raises
        ------
        ArgumentError
            ``page`` is not a whole number in ``0 .. pages() - 1``.
        """
        n = self.pages()
        if isinstance(page, bool) or not isinstance(page, (int, np.integer)) or not 0 <= int(page) < max(n, 1):
            raise ArgumentError(f"ExplorerState.with_page: page must be a whole number from 0 to {max(n, 1) - 1} "
                                f"(the trace is drawn on {plural(max(n, 1), 'page')}), got {page!r}")
        s = replace(self, page=int(page))
        rows = s.page_rows()
        if s.span_id is not None and s.span_id in set(rows["span_id"].astype(object)):
            return s
        return s._select_row(rows, 0)

    def next_page(self) -> ExplorerState:
        """The next page of fragments; stays at the last."""
        return self.with_page(self._page() + 1) if self._page() + 1 < self.pages() else self

    def previous_page(self) -> ExplorerState:
        """The previous page of fragments; stays at the first."""
        return self.with_page(self._page() - 1) if self._page() > 0 else self

    def uses_canvas(self) -> bool:
        """Whether the selected trace is big enough (``canvas_above``) for the canvas renderer."""
        return self.canvas_above is not None and self.trace_id is not None and len(self.trace_spans()) > self.canvas_above

    def figure_html(self) -> str:
        """The canvas waterfall (:func:`tracekit.plotting.gl.plot_waterfall_gl`) of the selected trace, current folding."""
        from .plotting.gl import plot_waterfall_gl
        from .plotting.waterfall import waterfall_header

        rows = self.waterfall()
        # the header plot_waterfall writes under its title (request latency, start, outcome, spans shown): the canvas
        # said only "trace … · 12,000 spans"
        return plot_waterfall_gl(rows, colors=_colors(self.services, rows), full_html=True,
                                 title=f"trace {self.trace_id} · {waterfall_header(rows, None)}")

    # -- transitions ---------------------------------------------------------------------------
    def select_trace(self, trace_id: str) -> ExplorerState:
        """Select a trace (32 hex digits or the X-Ray ``1-…`` form): folding is reset and its root span selected."""
        trace_id = trace_id_of(self.shared.by_trace, trace_id)  # as the spans hold it, else canonical
        if trace_id not in self.shared.by_trace:  # a bad argument (ArgumentError, a TraceKitError), as plot_waterfall says
            raise ArgumentError(f"ExplorerState.select_trace: trace_id {trace_id!r} is not in the explorer's spans "
                                f"({plural(len(self.shared.by_trace), 'trace')})")
        s = replace(self, trace_id=trace_id, span_id=None, span_row=None, collapsed=frozenset(), max_depth=None, page=0)
        rows = s.waterfall()
        if self.auto_fold is not None and len(rows) > self.auto_fold and not s.uses_canvas():
            per_depth = np.bincount(rows["depth"].to_numpy(), minlength=1).cumsum()
            fits = np.flatnonzero(per_depth <= self.auto_fold)
            s = replace(s, max_depth=int(fits[-1]) if len(fits) else 0)
            rows = s.page_rows()  # no depth fits: the first page of auto_fold fragments
        return s._select_row(rows, 0)

    def _select_row(self, rows: pd.DataFrame, row: int) -> ExplorerState:
        """Select the span drawn on display row ``row`` of ``rows`` (none when there are no rows)."""
        if not len(rows):
            return replace(self, span_id=None, span_row=None)
        return replace(self, span_id=str(rows["span_id"].iloc[row]), span_row=int(rows["span_row"].iloc[row]))

    def select_span(self, span_id: str | None) -> ExplorerState:
        if span_id is not None and span_id not in set(self.trace_spans()["span_id"].astype(object)):
            raise ArgumentError(f"ExplorerState.select_span: span_id {span_id!r} is not in trace {self.trace_id}")
        return replace(self, span_id=span_id, span_row=None)

    def click(self, row: int) -> ExplorerState:
        """A click on the waterfall's bar ``row`` (plotly's point index: the row on the page drawn) selects that span."""
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)):  # plotly's point index; 'x' was a ValueError
            raise ArgumentError(f"ExplorerState.click: row must be a whole number (a bar's point index), got {row!r}")
        row = int(row)
        rows = self.page_rows()
        if not 0 <= row < len(rows):
            return self
        return self._select_row(rows, int(row))

    def toggle_collapse(self, span_id: str | None = None) -> ExplorerState:
        """Fold or unfold the subtree under ``span_id`` (default: the selected span)."""
        sid = span_id or self.span_id
        if sid is None:
            return self
        folded = self.collapsed ^ {sid}
        return replace(self, collapsed=frozenset(folded))

    def with_max_depth(self, max_depth: int | None) -> ExplorerState:
        """Show spans down to depth ``max_depth`` (0: the top-level spans; None: every depth).

        Raises
        ------
        ArgumentError
            ``max_depth`` is not a whole number >= 0 or None (checked here: a state holding -1 raised only when
            drawn, after the widget had taken it).
        """
        max_depth = count_arg(max_depth, "max_depth", "ExplorerState.with_max_depth", minimum=0, allow_none=True)
        s = replace(self, max_depth=max_depth)
        return s._keep_visible_span()

    def expand_all(self) -> ExplorerState:
        return replace(self, collapsed=frozenset(), max_depth=None)

    def with_filter(self, *, service: Any = ..., errors_only: Any = ..., search: Any = ...,
                    only_traces: Any = ...) -> ExplorerState:
        """Change filters (``...`` keeps one); the selection moves to the first listed trace if it
        is filtered out. ``only_traces``: an iterable of trace ids (32-hex or X-Ray form) or None."""
        if isinstance(only_traces, str):  # one trace id, not its characters ("not a trace id: 'a'")
            only_traces = [only_traces]
        if only_traces is not ... and only_traces is not None:
            only_traces = frozenset(trace_id_of(self.shared.by_trace, t) for t in only_traces)
        s = replace(
            self,
            service=self.service if service is ... else service,
            errors_only=self.errors_only if errors_only is ... else bool(errors_only),
            search=self.search if search is ... else str(search or ""),
            only_traces=self.only_traces if only_traces is ... else only_traces,
        )
        listed = s.trace_table()["trace_id"]
        if len(listed) and s.trace_id not in set(listed):
            return s.select_trace(listed.iloc[0])
        return s

    def sort(self, by: str, descending: bool = True) -> ExplorerState:
        if by not in _SORT_KEYS:
            raise ArgumentError(f"cannot sort traces by {by!r}; choose one of {_SORT_KEYS}")
        return replace(self, sort_by=by, descending=bool(descending))

    def _ranking(self) -> list[str]:
        t = self.trace_table().sort_values(["request_ms", "trace_id"], ascending=[False, True], kind="stable", na_position="last")
        return t["trace_id"].tolist()

    def next_slowest(self) -> ExplorerState:
        """The next trace down the duration ranking (of the listed traces); stays at the last."""
        rank = self._ranking()
        if not rank:
            return self
        if self.trace_id not in rank:
            return self.select_trace(rank[0])
        i = rank.index(self.trace_id)
        return self.select_trace(rank[min(i + 1, len(rank) - 1)]) if i + 1 < len(rank) else self

    def previous_slowest(self) -> ExplorerState:
        """The next slower trace (up the ranking); stays at the slowest."""
        rank = self._ranking()
        if not rank:
            return self
        if self.trace_id not in rank:
            return self.select_trace(rank[0])
        i = rank.index(self.trace_id)
        return self.select_trace(rank[i - 1]) if i > 0 else self

    def _keep_visible_span(self) -> ExplorerState:
        if self.span_id is None:
            return self
        rows = self.page_rows()
        if self.span_id in set(rows["span_id"].astype(object)):
            return self
        return self._select_row(rows, 0)

    # -- details pane --------------------------------------------------------------------------
    def span_details(self) -> dict[str, Any]:
        """Plain data of the selected span: ``header`` (service, name, kind, status, …, offsets),
        ``attributes`` (other keys), ``annotations`` and ``metadata`` (X-Ray), ``exceptions``
        (from ``exception`` events and an X-Ray ``cause``), ``events``, ``logs`` (log records attached by
        :func:`tracekit.attach_logs`: time, severity, body, template id, trace-level), ``resource``, ``links``."""
        if self.span_id is None:
            return {}
        sub = self.trace_spans()
        # by id alone: the copy of a span read twice that is the span (core.tree.span_rows: the one its children, its
        # log records and the critical path are on), not the first row (its 10..30 ms copy, without the records)
        at = int(span_rows(sub, sub["trace_id"].iloc[:1].tolist(), [self.span_id])[0]) if len(sub) else -1
        if at < 0:
            return {}
        r = sub.iloc[at]
        if self.span_row is not None and 0 <= self.span_row < len(sub) and sub["span_id"].iloc[self.span_row] == self.span_id:
            r = sub.iloc[self.span_row]  # the copy that was clicked, when spans share an id
        t0 = sub["start"].min()
        header: dict[str, Any] = {"service": _plain(r["service"]), "name": _plain(r["name"])}
        for c in ("kind", "status", "status_message", "http_status", "span_id", "parent_id", "source", "source_file", "source_record"):
            if c in r.index and _plain(r[c]) is not None:
                header[c] = _plain(r[c])
        header["start_ms"] = (r["start"] - t0).value / 1e6
        header["duration_ms"] = None if pd.isna(r.get("duration_ms", np.nan)) else float(r["duration_ms"])
        for flag in ("error", "fault", "throttle", "in_progress", "inferred"):
            if flag in r.index and bool(r[flag]):
                header[flag] = True
        attrs = r["attributes"] if isinstance(r.get("attributes"), dict) else {}
        annotations = {k[len("annotation."):]: v for k, v in attrs.items() if k.startswith("annotation.")}
        metadata = {k[len("metadata."):]: v for k, v in attrs.items() if k.startswith("metadata.")}
        if isinstance(attrs.get("metadata"), dict):
            metadata.update(attrs["metadata"])
        if isinstance(attrs.get("annotations"), dict):
            annotations.update(attrs["annotations"])
        other = {k: v for k, v in attrs.items() if not (k.startswith("annotation.") or k.startswith("metadata.") or k in ("metadata", "annotations", "cause"))}
        events = list(r["events"]) if isinstance(r.get("events"), (list, tuple, np.ndarray)) else []
        exceptions = []
        t0_ns = int(t0.value)
        ev_rows = []
        log_rows = []  # log records attached by tk.attach_logs, listed apart from the span's own events
        for ev in events:
            if not isinstance(ev, dict):
                continue
            ea = ev.get("attributes") or {}
            when = ev.get("time")
            offset = (int(when) - t0_ns) / 1e6 if isinstance(when, (int, np.integer)) else None
            if is_log_event(ev):
                log_rows.append({"time_ms": offset, "severity": ea.get("log.severity"), "body": ea.get("log.body"),
                                 "template_id": ea.get("log.template_id"), "trace_level": bool(ea.get("log.trace_level"))})
                continue
            ev_rows.append({"time_ms": offset, "name": ev.get("name"), "attributes": dict(ea)})
            if ev.get("name") == "exception":
                exceptions.append(
                    {"type": ea.get("exception.type"), "message": ea.get("exception.message") or (
                        f"exception id {ea['exception.id']}" if ea.get("exception.id") else None),
                     "stacktrace": ea.get("exception.stacktrace")}
                )
        cause = attrs.get("cause") if not exceptions else None  # readers turn a cause into exception events
        if isinstance(cause, dict):
            for ex in cause.get("exceptions") or []:
                if not isinstance(ex, dict):
                    continue
                stack = ex.get("stack") or []
                lines = [f"  at {f.get('label', '?')} ({f.get('path', '?')}:{f.get('line', '?')})" for f in stack if isinstance(f, dict)]
                exceptions.append({"type": ex.get("type"), "message": ex.get("message"), "stacktrace": "\n".join(lines) or None})
        elif isinstance(cause, str) and cause:
            exceptions.append({"type": None, "message": f"exception id {cause}", "stacktrace": None})
        return _deep_copy({  # plain data: nested dicts and links are copies, not the spans' own objects
            "header": header,
            "attributes": dict(sorted(other.items())),
            "annotations": dict(sorted(annotations.items())),
            "metadata": dict(sorted(metadata.items())),
            "exceptions": exceptions,
            "events": ev_rows,
            "logs": log_rows,
            "resource": dict(sorted((r["resource"] or {}).items())) if isinstance(r.get("resource"), dict) else {},
            "links": list(r["links"]) if isinstance(r.get("links"), (list, tuple, np.ndarray)) else [],
        })

    def details_html(self) -> str:
        """The details pane as HTML; every value from the trace is escaped.

        >>> import tracekit as tk
        >>> s = ExplorerState.from_spans(tk.spans_from_columns({"trace_id": ["c" * 32], "span_id": ["1" * 16],
        ...     "service": ["api"], "name": ["<GET />"], "start": [0], "end": [1_000_000],
        ...     "attributes": [{"annotation.user": "<b>bob</b>"}]}))
        >>> html = s.details_html()
        >>> "&lt;GET /&gt;" in html and "&lt;b&gt;bob&lt;/b&gt;" in html and "<b>bob" not in html
        True
        """
        d = self.span_details()
        if not d:
            return "<p><i>no span selected</i></p>"
        h = d["header"]
        out = [f"<h4 style='margin:4px 0'>{_esc(str(h['service']))}: {_esc(str(h['name']))}</h4>"]
        head = {k: v for k, v in h.items() if k not in ("service", "name")}
        # offsets and durations by the one duration rule (core.words.ms_label), as the figure's hover says them; a span
        # without an end said "duration_ms: null" (JSON's word for span_details' None)
        head["start_ms"] = _ms(head.get("start_ms"))
        if head.get("duration_ms") is None:
            head["duration_ms"] = "unknown: " + ("the span is still in progress" if h.get("in_progress") else "the span has no end")
        else:
            head["duration_ms"] = _ms(head["duration_ms"])
        out.append(_table(head))
        if d["exceptions"]:
            out.append("<h5 style='margin:6px 0;color:#D62728'>exceptions</h5>")
            for ex in d["exceptions"]:
                title = ": ".join(_esc(str(x)) for x in (ex.get("type"), ex.get("message")) if x)
                out.append(f"<div><b>{title}</b></div>")
                if ex.get("stacktrace"):
                    out.append(f"<pre style='font-size:11px;max-height:240px;overflow:auto'>{_esc(str(ex['stacktrace']))}</pre>")
        for section in ("annotations", "metadata", "attributes", "resource"):
            if d[section]:
                out.append(f"<h5 style='margin:6px 0'>{section}</h5>")
                out.append(_table(d[section]))
        if d["events"]:
            out.append("<h5 style='margin:6px 0'>events</h5>")
            out.append(
                "<table>"
                + "".join(
                    f"<tr><td>{_ms(e['time_ms'])}</td><td>{_esc(str(e['name']))}</td>"
                    f"<td style='{_WRAP}'>{_esc(_fmt(e['attributes']))}</td></tr>"
                    for e in d["events"]
                )
                + "</table>"
            )
        if d["logs"]:
            out.append(f"<h5 style='margin:6px 0'>logs ({len(d['logs'])})</h5>")
            red = " style='color:#D62728'"
            out.append("<table>" + "".join(
                f"<tr><td>{_ms(g['time_ms'])}</td><td{red if g['severity'] in ('ERROR', 'FATAL') else ''}>"
                f"{_esc(str(g['severity'] or ''))}</td><td style='{_WRAP}'>{_esc(str(g['body'] if g['body'] is not None else ''))}"
                f"{' <i>(trace-level)</i>' if g['trace_level'] else ''}</td></tr>"
                for g in d["logs"]) + "</table>")
        if d["links"]:
            out.append("<h5 style='margin:6px 0'>links</h5>")
            out.append("<ul>" + "".join(f"<li>{_esc(_fmt(link))}</li>" for link in d["links"]) + "</ul>")
        return "\n".join(out)


def _deep_copy(v: Any) -> Any:
    """``copy.deepcopy``, or an iterative copy (arrays become lists) for values nested too deep for it."""
    try:
        return copy.deepcopy(v)
    except RecursionError:
        return map_leaves(v, lambda x: x)


def _ms(v: float | None) -> str:
    return "" if v is None else ms_label(v)


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _fmt(v: Any, limit: int = 4000) -> str:
    if isinstance(v, str):
        s = v
    else:
        try:
            s = json.dumps(v, default=str, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            s = safe_repr(v, limit)
        except RecursionError:  # nested deeper than json can go: iterative text, cut at the limit
            s = to_text(v, limit + 1, sort_keys=True)
    return s if len(s) <= limit else s[:limit] + f"… ({len(s)} chars)"


#: a details cell's text wraps, inside a long word too: a 5,000-character log body made the pane scroll sideways
_WRAP = "white-space:pre-wrap;overflow-wrap:anywhere"


def _table(d: dict) -> str:
    rows = "".join(
        f"<tr><td style='vertical-align:top;padding-right:8px'><code>{_esc(str(k))}</code></td>"
        f"<td style='{_WRAP}'>{_esc(_fmt(v))}</td></tr>"
        for k, v in d.items()
    )
    return f"<table style='font-size:12px'>{rows}</table>"


def _colors(services: Iterable[str], rows: pd.DataFrame) -> dict[str, str]:
    """The frame's service colours, the services of the waterfall ``rows`` each its own (service_colors' drawn)."""
    from .plotting import service_colors

    return service_colors(services, drawn=rows["service"].dropna().unique())


class TraceExplorer:
    """Jupyter widget: trace list → waterfall (critical path marked) → span details.

    ``TraceExplorer(spans)`` shows the traces sorted slowest first (filter by service, errors,
    text; sort by duration, errors, spans, start), the waterfall of the selected trace (click a
    bar to open the span; fold/unfold the selected span's subtree; limit the depth), next /
    previous slowest buttons, and a details pane (attributes, events, exception stack, X-Ray
    annotations/metadata; escaped). ``explorer.state`` is the current :class:`ExplorerState`;
    display the explorer itself (or ``explorer.widget``).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (not modified).
    critical_path : bool
        Overlay each trace's critical path.
    max_listed : int
        Most traces in the list.
    auto_fold : int, optional
        A trace with more spans than this opens folded (``None``: never).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16],
    ...     "parent_id": [None, "1" * 16], "service": ["api", "db"], "name": ["GET /", "query"],
    ...     "start": [0, 1_000_000], "end": [9_000_000, 8_000_000]})
    >>> ex = tk.TraceExplorer(spans)
    >>> len(ex.figure.data[0].x), ex.state.span_id == "1" * 16
    (2, True)
    """

    def __init__(self, spans: pd.DataFrame, *, critical_path: bool = True, max_listed: int = 500, auto_fold: int | None = 150,
                 canvas_above: int | None = 2_000):
        self._W = require("ipywidgets", "jupyter")
        self._go = require("plotly.graph_objects", "jupyter")
        require("anywidget", "jupyter")
        self.max_listed = max_listed
        self._syncing = False
        self.state = ExplorerState.from_spans(spans, critical_path=critical_path, auto_fold=auto_fold,
                                              canvas_above=canvas_above)
        W = self._W
        self.service = W.Dropdown(options=[("all services", None)] + [(s, s) for s in self.state.services], value=None, description="service")
        self.errors_only = W.Checkbox(value=False, description="failed only", indent=False)
        self.search = W.Text(value="", placeholder="root op / trace id / { TraceQL }", description="search")
        self.sort_by = W.Dropdown(options=list(_SORT_KEYS), value="request_ms", description="sort by")
        self.descending = W.ToggleButton(value=True, description="descending", icon="sort-amount-desc")
        self.traces = W.Select(options=[], rows=8, layout=W.Layout(width="100%"))
        self.list_note = W.HTML()
        self.prev_button = W.Button(description="◀ slower", tooltip="previous (slower) trace")
        self.next_button = W.Button(description="faster ▶", tooltip="next slowest trace")
        self.fold_button = W.Button(description="fold / unfold span", tooltip="collapse or expand the selected span's subtree")
        self.expand_button = W.Button(description="expand all")
        self.prev_page_button = W.Button(description="◀ fragments", tooltip="previous page of top-level fragments")
        self.next_page_button = W.Button(description="fragments ▶", tooltip="next page of top-level fragments")
        self.depth = W.Dropdown(options=[("all depths", None)] + [(str(d), d) for d in range(0, 11)], value=None, description="max depth")
        self.status = W.HTML()
        self.details = W.HTML()
        self.figure = self._go.FigureWidget()
        self._figure_box = W.Box([self.figure], layout=W.Layout(width="100%"))

        self.service.observe(lambda ch: self._apply(self.state.with_filter(service=ch["new"])), names="value")
        self.errors_only.observe(lambda ch: self._apply(self.state.with_filter(errors_only=ch["new"])), names="value")
        self.search.observe(lambda ch: self._apply(self.state.with_filter(search=ch["new"])), names="value")
        self.sort_by.observe(lambda ch: self._apply(self.state.sort(ch["new"], self.descending.value)), names="value")
        self.descending.observe(lambda ch: self._apply(self.state.sort(self.sort_by.value, ch["new"])), names="value")
        self.traces.observe(self._on_trace_selected, names="value")
        self.prev_button.on_click(lambda _b: self._apply(self.state.previous_slowest()))
        self.next_button.on_click(lambda _b: self._apply(self.state.next_slowest()))
        self.fold_button.on_click(lambda _b: self._apply(self.state.toggle_collapse()))
        self.expand_button.on_click(lambda _b: self._apply(self.state.expand_all()))
        self.prev_page_button.on_click(lambda _b: self._apply(self.state.previous_page()))
        self.next_page_button.on_click(lambda _b: self._apply(self.state.next_page()))
        self.depth.observe(lambda ch: None if self._syncing else self._apply(self.state.with_max_depth(ch["new"])), names="value")

        self.widget = W.VBox(
            [
                W.HBox([self.service, self.errors_only, self.search]),
                W.HBox([self.sort_by, self.descending, self.prev_button, self.next_button]),
                self.list_note,
                self.traces,
                W.HBox([self.fold_button, self.expand_button, self.depth, self.prev_page_button, self.next_page_button,
                        self.status]),
                W.HBox(
                    [self._figure_box, W.Box([self.details], layout=W.Layout(width="35%", max_height="700px", overflow="auto"))],
                    layout=W.Layout(width="100%"),
                ),
            ]
        )
        self._render(None, self.state)

    # -- callbacks: each delegates to one ExplorerState method -------------------------------
    def _on_trace_selected(self, change: dict) -> None:
        if self._syncing or change.get("new") is None or change["new"] == self.state.trace_id:
            return
        self._apply(self.state.select_trace(change["new"]))

    def _on_bar_click(self, trace: Any, points: Any, selector: Any = None) -> None:
        inds = list(getattr(points, "point_inds", []) or [])
        if inds:
            self._apply(self.state.click(inds[0]))

    def _on_tick_click(self, trace: Any, points: Any, selector: Any = None) -> None:
        inds = list(getattr(points, "point_inds", []) or [])
        if inds:  # the tick's y is the span's row
            self._apply(self.state.click(int(trace.y[inds[0]])))

    def _apply(self, new: ExplorerState) -> None:
        old, self.state = self.state, new
        self._render(old, new)

    # -- rendering ---------------------------------------------------------------------------
    def _render(self, old: ExplorerState | None, new: ExplorerState) -> None:
        list_keys = ("service", "errors_only", "search", "sort_by", "descending", "trace_id", "only_traces")
        if old is None or any(getattr(old, k) != getattr(new, k) for k in list_keys):
            self._render_list(new)
        view_keys = ("trace_id", "collapsed", "max_depth", "critical_path", "page")
        if old is None or any(getattr(old, k) != getattr(new, k) for k in view_keys):
            self._render_figure(new)
        if old is None or old.span_id != new.span_id or old.span_row != new.span_row or old.trace_id != new.trace_id:
            self.details.value = new.details_html()
        self._syncing = True
        try:
            if self.depth.value != new.max_depth:
                if new.max_depth not in [v for _, v in self.depth.options]:
                    self.depth.options = list(self.depth.options) + [(str(new.max_depth), new.max_depth)]
                self.depth.value = new.max_depth
        finally:
            self._syncing = False
        rows = new.page_rows() if new.trace_id is not None else None
        pages = new.pages()
        self.prev_page_button.disabled = pages <= 1 or new._page() == 0
        self.next_page_button.disabled = pages <= 1 or new._page() + 1 >= pages
        self.prev_page_button.layout.display = self.next_page_button.layout.display = None if pages > 1 else "none"
        shown = (f"{len(rows)} of {len(new.trace_spans())} spans shown" + (f" · {new.page_words()}" if pages > 1 else "")
                 if rows is not None else
                 "no trace to show: the spans hold none" if new.shared.traces.empty else
                 "no trace to show: the filters leave none")
        if rows is not None and new.trace_table().empty:  # the trace shown stays (with_filter), and is not a match
            shown = f"no trace matches the filters; still showing the trace selected before ({shown})"
        if new.search_error():
            shown = "search: " + new.search_error().splitlines()[0]
        self.status.value = _esc(shown)

    def _render_list(self, s: ExplorerState) -> None:
        t = s.trace_table()
        head = t.head(self.max_listed)
        options = [
            (
                # no request latency (no request root, or asynchronous work: NaN) is said, not "nan ms"
                # core.words.ms_number: a request of 5 µs read "0.0 ms"
                # a request whose root has not ended is one, of no latency yet: it read "no request"
                (f"{ms_number(r.request_ms):>10} ms  " if pd.notna(r.request_ms) else
                 f"{'in progress':>10}     " if r.trace_id in s.shared.open_requests else f"{'no request':>10}     ")
                + f"{f'⚠{r.failed_spans} ' if r.failed_spans else ''}{bidi_visible(r.root_service)}: {bidi_visible(r.root_name)}"
                f"  [{r.n_spans} spans]  {r.trace_id[:12]}",
                r.trace_id,
            )
            for r in head.itertuples(index=False)
        ]
        if s.trace_id is not None and s.trace_id not in set(head["trace_id"]):
            options.insert(0, (f"(selected) {s.trace_id}", s.trace_id))
        self._syncing = True
        try:
            self.traces.options = options
            self.traces.value = s.trace_id if s.trace_id is not None and options else None
        finally:
            self._syncing = False
        more = f" (first {self.max_listed})" if len(t) > self.max_listed else ""
        self.traces.description = ""
        self.traces.layout.height = None
        self.traces.tooltip = f"{len(t)} traces{more}"
        # said on the page, not only in a tooltip: 2,000 traces listed their slowest 500 without a visible word
        total = len(s.shared.traces)
        order = ("slowest first" if s.sort_by == "request_ms" and s.descending else
                 f"by {s.sort_by}, {'descending' if s.descending else 'ascending'}")
        matched = f"{len(t):,} of {plural(total, 'trace')} match the filters" if len(t) != total else plural(total, "trace")
        self.list_note.value = _esc(matched + (
            f"; the first {self.max_listed:,} listed ({order}): filter, search or sort to reach the others"
            if len(t) > self.max_listed else ""))

    def _render_figure(self, s: ExplorerState) -> None:
        if s.trace_id is not None and s.uses_canvas():
            # big trace: the canvas renderer in an iframe (its scripts run; clicks open details inside it)
            frame = f'<iframe srcdoc="{html.escape(s.figure_html(), quote=True)}" style="width:100%;height:820px;border:0"></iframe>'
            self.figure = self._W.HTML(value=frame, layout=self._W.Layout(width="100%"))
            self._figure_box.children = (self.figure,)
            return
        if s.trace_id is None:
            fw = self._go.FigureWidget()
        else:
            fw = self._go.FigureWidget(s.figure())
            fw.data[0].on_click(self._on_bar_click)
            for tr in fw.data:  # a span of zero duration is clicked on its tick (plot_waterfall's meta="instant")
                if getattr(tr, "meta", None) == "instant":
                    tr.on_click(self._on_tick_click)
        self.figure = fw
        self._figure_box.children = (fw,)

    # -- display -----------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:  # pragma: no cover - needs a notebook front end
        from IPython.display import display

        display(self.widget)


# ---- the latency heatmap: brush a box, see what the selected requests have in common ----------------
class _HeatShared:
    """Data shared by every state derived from one ``HeatmapState.from_spans`` (not part of equality)."""

    def __init__(self, spans: pd.DataFrame, rows: pd.DataFrame, cache: dict) -> None:
        self.spans, self.rows, self.cache = spans, rows, cache


@dataclass(frozen=True)
class HeatmapState:
    """What :class:`HeatmapExplorer` shows: the requests of a time × latency heatmap and a selection.

    Fields: ``by`` / ``key`` / ``freq`` / ``bins`` (as :func:`tracekit.plot_heatmap`), ``selected``
    (positions of the selected requests in :attr:`requests`, sorted; empty: nothing selected),
    ``box`` (the time × latency box last selected, or None). Methods return new states or data.

    Examples
    --------
    >>> import tracekit as tk
    >>> from tracekit.widgets import HeatmapState
    >>> spans = tk.simulate.simulate("baseline", 300, seed=1).spans
    >>> s = HeatmapState.from_spans(spans, freq="10min")
    >>> s = s.select_box(("2024-01-01", "2030-01-01"), (1000, float("inf")))
    >>> bool((s.selected_requests()["latency_ms"] >= 1000).all()), len(s.trace_ids()) == len(s.selected)
    (True, True)
    """

    shared: _HeatShared = field(repr=False, compare=False)
    by: Any = None
    key: Any = None
    freq: str = "1min"
    bins: int = 40
    selected: tuple = ()
    box: tuple | None = None

    @classmethod
    def from_spans(cls, spans: pd.DataFrame, by: Any = None, *, key: Any = None, freq: str = "1min",
                   bins: int = 40) -> HeatmapState:
        """State over the requests of ``spans`` (:func:`tracekit.select_requests` with ``by`` / ``key``)."""
        from .analysis.timeline import select_requests

        rows = select_requests(spans, by, key=key)
        return cls(_HeatShared(spans, rows, {}), by=by, key=key, freq=freq, bins=int(bins))

    @property
    def requests(self) -> pd.DataFrame:
        """Every request of the heatmap (rows of :func:`tracekit.select_requests`)."""
        return self.shared.rows

    def select_box(self, time: tuple[Any, Any], latency_ms: tuple[float, float]) -> HeatmapState:
        """Select the requests in ``time`` × ``latency_ms`` (both ends included; naive times are UTC)."""
        t0, t1 = (pd.Timestamp(x) for x in time)
        t0, t1 = (t if t.tzinfo is not None else t.tz_localize("UTC") for t in (t0, t1))
        lo, hi = sorted(float(x) for x in latency_ms)
        t0, t1 = min(t0, t1), max(t0, t1)
        r = self.shared.rows
        lat = r["latency_ms"].to_numpy(dtype=float)
        inside = ((r["time"] >= t0) & (r["time"] <= t1)).to_numpy(dtype=bool, na_value=False) & (lat >= lo) & (lat <= hi)
        return replace(self, selected=tuple(int(i) for i in np.flatnonzero(inside)), box=((t0, t1), (lo, hi)))

    def select_points(self, positions: Iterable[int]) -> HeatmapState:
        """Select requests by their positions in :attr:`requests` (the heatmap's ``customdata``)."""
        n = len(self.shared.rows)
        pos = sorted({int(p) for p in positions})
        bad = [p for p in pos if not 0 <= p < n]
        if bad:
            raise ArgumentError(f"HeatmapState.select_points: positions {bad[:5]} are outside the {n} requests")
        return replace(self, selected=tuple(pos), box=None)

    def clear(self) -> HeatmapState:
        return replace(self, selected=(), box=None)

    def selected_requests(self) -> pd.DataFrame:
        """The selected rows of :attr:`requests`."""
        return self.shared.rows.iloc[list(self.selected)].reset_index(drop=True)

    def trace_ids(self) -> list[str]:
        """Trace ids of the selected requests, each once, in request order."""
        return list(dict.fromkeys(self.selected_requests()["trace_id"].astype(str)))

    def attribution(self, **kwargs: Any) -> pd.DataFrame:
        """:func:`tracekit.bubble_up` of the selected traces against the other traces of the heatmap
        (its unselected requests: slow checkouts against the other checkouts, not against every
        trace; memoised). An empty frame when nothing is selected, or nothing is left to compare with (every
        trace of the heatmap selected). ``kwargs`` go to ``bubble_up``."""
        if not self.selected or not self._others():
            return pd.DataFrame()
        key = ("bubble", self.selected, tuple(sorted(kwargs.items())))
        cache = self.shared.cache
        if key not in cache:
            from .analysis.attribution import bubble_up

            if len(cache) > 16:
                cache.clear()
            cache[key] = bubble_up(self.shared.spans, set(self.trace_ids()), self._others(), **kwargs)
        return cache[key]

    def _others(self) -> set:
        """Trace ids of the heatmap's requests that are not selected (the attribution's baseline)."""
        return set(self.shared.rows["trace_id"].astype(str)) - set(self.trace_ids())

    def figure(self) -> Any:
        """The heatmap with its requests as selectable points (:func:`tracekit.plot_heatmap`)."""
        from .plotting import plot_heatmap

        return plot_heatmap(self.shared.spans, self.freq, self.by, key=self.key, bins=self.bins, points=True,
                            title="request latency over time — drag a box to select requests")

    def summary_html(self, top: int = 10) -> str:
        """The selection in words and its top attribute values (escaped HTML)."""
        if not self.selected:
            return "<p><i>drag a box on the heatmap to select requests</i></p>"
        sel = self.selected_requests()
        lat = sel["latency_ms"].to_numpy(dtype=float)
        t0, t1 = sel["time"].min(), sel["time"].max()
        # the window with its date: "23:30:00–23:30:00 UTC" was a day apart
        window = (f"{t0:%Y-%m-%d %H:%M:%S}–{t1:%H:%M:%S} UTC" if pd.notna(t0) and t0.date() == t1.date()
                  else f"{t0:%Y-%m-%d %H:%M:%S} – {t1:%Y-%m-%d %H:%M:%S} UTC")
        head = (f"<p><b>{plural(len(sel), 'request')} selected</b> in {plural(len(self.trace_ids()), 'trace')}, "
                f"{window}, "
                + (f"latency {ms_label(np.nanmin(lat), unit=False)}–{ms_label(np.nanmax(lat))}, " if np.isfinite(lat).any() else
                   "latency unknown (still in progress), ")
                + _failed_words(sel["failed"], status_recorded(self.shared.spans)) + "</p>") if len(sel) else ""
        if not self._others():
            return head + "<p><i>every request of the heatmap is selected: no other request to compare with</i></p>"
        hits = self.attribution()
        if hits.empty:
            return head
        cols = ["dimension", "value", "share_selection", "share_baseline", "q_value"]
        cells = "".join(
            "<tr>" + "".join(f"<td>{_esc(_fmt(v, 80)) if not isinstance(v, float) else f'{v:.3g}'}</td>" for v in r) + "</tr>"
            for r in hits[cols].head(top).itertuples(index=False))
        return (head + "<table><tr>" + "".join(f"<th>{_esc(c)}</th>" for c in cols) + "</tr>" + cells + "</table>")


def _failed_words(failed: pd.Series, recorded: bool) -> str:
    """The failed requests of a selection over those whose outcome is known, and why the others are unknown."""
    known = failed.notna()
    unknown = int((~known).sum())
    why = "no span records a status" if not recorded else "still in progress"
    if not known.any():
        return f"failed unknown ({why})"
    if not unknown:
        return f"{int(failed.sum()):,} failed"
    return (f"{int(failed[known].sum()):,} failed of the {plural(int(known.sum()), 'request')} with a known outcome "
            f"({unknown:,} unknown: {why})")


class HeatmapExplorer:
    """Jupyter widget: a time × latency heatmap; a box drawn on it selects requests, lists their
    traces in a :class:`TraceExplorer` below and runs :func:`tracekit.bubble_up` on them.

    Everything it knows is in :class:`HeatmapState` (``explorer.state``) and the inner
    :class:`TraceExplorer` (``explorer.traces``); the widget only forwards plotly's selection.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (not modified).
    by, key, freq, bins
        As :func:`tracekit.plot_heatmap`.
    **explorer_kwargs
        Passed to :class:`TraceExplorer`.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 200, seed=1).spans
    >>> hx = tk.HeatmapExplorer(spans, freq="10min")
    >>> hx.select_box(("2000-01-01", "2100-01-01"), (0, 50))   # what a drag on the heatmap does
    >>> listed = set(hx.traces.state.trace_table()["trace_id"])
    >>> listed == set(hx.state.trace_ids()) and len(listed) > 0
    True
    """

    def __init__(self, spans: pd.DataFrame, by: Any = None, *, key: Any = None, freq: str = "1min", bins: int = 40,
                 **explorer_kwargs: Any) -> None:
        self._W = require("ipywidgets", "jupyter")
        self._go = require("plotly.graph_objects", "jupyter")
        self.state = HeatmapState.from_spans(spans, by, key=key, freq=freq, bins=bins)
        self.traces = TraceExplorer(spans, **explorer_kwargs)
        self.figure = self._go.FigureWidget(self.state.figure())
        for tr in self.figure.data:
            if getattr(tr, "meta", None) == "requests":
                tr.on_selection(self._on_selection)
                tr.on_deselect(lambda *_a: self._apply(self.state.clear()))
        self.clear_button = self._W.Button(description="clear selection")
        self.clear_button.on_click(lambda _b: self._apply(self.state.clear()))
        self.summary = self._W.HTML(self.state.summary_html())
        self.widget = self._W.VBox([self.figure, self._W.HBox([self.clear_button]), self.summary, self.traces.widget])

    def _on_selection(self, trace: Any, points: Any, selector: Any = None) -> None:
        inds = list(getattr(points, "point_inds", []) or [])
        custom = getattr(trace, "customdata", None)
        custom = [] if custom is None else list(custom)
        self._apply(self.state.select_points(int(custom[i]) for i in inds) if custom else self.state.clear())

    def select_box(self, time: tuple[Any, Any], latency_ms: tuple[float, float]) -> None:
        """Select the requests in a box, as a drag on the heatmap does."""
        self._apply(self.state.select_box(time, latency_ms))

    def _apply(self, new: HeatmapState) -> None:
        self.state = new
        self.summary.value = new.summary_html()
        ids = new.trace_ids() if new.selected else None
        self.traces._apply(self.traces.state.with_filter(only_traces=ids))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
