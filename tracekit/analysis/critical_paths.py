"""Critical path of every trace, and where the critical time goes across traces.

:func:`critical_path` follows Jaeger UI's semantics by default (jaeger-ui
``components/TracePage/CriticalPath``):

1. every root span (no parent, or a parent that is not in the trace) is walked on its own;
2. children are *sanitised* in tree order against their (already sanitised) parent: a child
   that starts at/after the parent's end or ends at/before the parent's start is dropped with
   its subtree; an overflowing end or start is clamped to the parent's;
3. a CONSUMER child of a PRODUCER parent is not blocking and is pruned with its subtree;
4. the walk starts at the parent's end, takes the last-finishing child, then repeatedly the
   last-finishing child that ends before the start of the previous one; the time
   between critical children belongs to the parent. Zero-length sections are not emitted, except
   the one section of a root that lasts 0 ms (start == end): that request still counts as one,
   with 0 ms of its root's service, in the breakdown and the flame tree.

One deliberate default differs from Jaeger UI: ``adjacent_sequential=True`` — a child that ends
exactly when the next one starts counts as *before* it (CRISP's ``<=``). Jaeger's strict ``<``
drops such a predecessor from the path together with everything it called; with microsecond
timestamps (X-Ray, the simulator, any instrumentation that starts the next call in the same
tick) back-to-back calls are common, and e.g. in the simulated ``db-lock`` incident the strict
rule hides the whole ``checkout`` call behind a 2 ms ``render page`` that starts the microsecond
it returns. None of Jaeger's nine reference cases has adjacent children, so they are unaffected;
``adjacent_sequential=False`` reproduces Jaeger exactly.

The choices other tools make differently are parameters: ``adjacent_sequential``, ``overlap_tolerance``
(CRISP: a child may overlap the next by up to this fraction of the parent's duration; its
section is cut where the next one starts), ``surrounding`` (a child that starts before *and*
ends after its parent: ``"clamp"`` like Jaeger, or ``"drop"``) and ``nonblocking`` (which
relations are asynchronous: ``"producer_consumer"``, ``"consumer"`` for every CONSUMER child,
``"links"`` for a child that carries a link to its parent, as Jaeger's FOLLOWS_FROM rule did).

Decisions (documented, tested):

* ties between children ending at the same time go to the one that started first (the longest),
  then to the smaller span id, so results never depend on row order (Jaeger keeps input order);
* zero-length children are skipped: they carry no time and, with that order, never change the
  path (Jaeger may split the parent's section in two at such a child; the time is the same);
* in-progress spans (``end`` is NaT): with ``in_progress="extend"`` (default) a non-root span is
  taken to run until its parent ends, and an in-progress root until the latest time seen in its
  trace; ``in_progress="drop"`` removes them with their subtrees (an in-progress root becomes a
  failure). A span still running has not ended before its parent did, so with ``surrounding="drop"``
  an in-progress span that also started before its parent is dropped as surrounding (with
  ``"clamp"`` its section is cut to the parent's interval, as for any surrounding child);
* X-Ray inferred segments repeat the interval of the subsegment that called the downstream
  service; with ``inferred="keep"`` (default) the time goes to the inferred segment (its service is
  the downstream one, e.g. a DynamoDB table, as in X-Ray's service map); ``"drop"`` leaves it
  with the calling subsegment;
* times are integer nanoseconds throughout; a time of 0 is a time like any other;
* a duplicated span id: one copy is the span, whatever the row order (:func:`tracekit.core.span_tree`'s rule: a
  complete copy, then the longest, then the earliest start…; not the first row), the other copies are left out and
  the trace is kept (listed in ``cp.attrs["duplicates_left_out"]``), unless a span names the duplicated id as its parent;
* per-trace problems skip that trace (an ambiguous parent: a span whose parent id is duplicated;
  parent cycles) or that root (a root
  ending before it starts, an in-progress root with nothing after its start) and are listed in
  ``cp.attrs["failures"]`` as :class:`CriticalPathFailure` records; they never raise.

Speed: ids are decoded from the Arrow buffers to integers, the tree is linked with one sort, and
sanitising runs level by level over numpy arrays. The walk itself has two engines giving the same
sections (property-tested): ``"numpy"`` (default) computes every trace at once — each child's
successor on its parent's chain by one ``searchsorted``, the on-path spans by a breadth-first
sweep, a span's sections as the gaps between its on-path children; ``"loop"`` is the reference
walk, one forward scan per on-path parent over plain integer lists, and the one that handles
``overlap_tolerance``. Both are O(n log n) in spans, with memory linear in spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..core import (
    flag_arg,
    percentile,
    percentile_window_arg,
    quantiles_with_zeros,
    require_columns,
    result_table,
    span_tree,
    unique_sorted,
)
from ..core.cache import frame_cached
from ..core.keys import by_keys, key_frame
from ..core.naming import frame_services
from ..errors import ArgumentError
from ..schema import SharedTuple, shared_attr
from .critical_path_walk import (  # noqa: F401 (re-exported)
    CP_COLUMNS,
    CRITICAL_PATH,
    CriticalPathFailure,
    linked_to_parent,
    nonblocking_rules,
    requests_only,
    walk_critical_path,
)
from .workflows import Stitched, workflow_critical_path

__all__ = ["critical_path", "critical_path_breakdown", "CriticalPathFailure"]

CRITICAL_PATH_BREAKDOWN = result_table("critical_path_breakdown", "one row per by-key: where request critical-path time goes", [
    ("cp_ms", "float64", "ms", "total critical-path time of the key over the requests used"),
    ("mean_ms", "float64", "ms per request", "cp_ms / number of requests (0 where the key is absent)"),
    ("share", "float64", "", "cp_ms / total critical-path time of the requests (= their summed request latency)"),
    ("p50_ms", "float64", "ms", "median per-request contribution (inverted_cdf, absent = 0)"),
    ("p95_ms", "float64", "ms", "p95 of the per-request contribution (inverted_cdf, absent = 0)"),
    ("traces", "int64", "requests", "requests in which the key holds a critical-path section (a 0 ms request: its root's, of 0 ms; a span wholly covered by its "
                                    "children holds none: an X-Ray subsegment under its inferred segment)"),
    ("trace_share", "float64", "", "traces / number of requests"),
])


def critical_path(
    spans: pd.DataFrame | Stitched,
    *,
    adjacent_sequential: bool = True,
    overlap_tolerance: float = 0.0,
    surrounding: str = "clamp",
    nonblocking: str | Iterable[str] | None = "producer_consumer",
    in_progress: str = "extend",
    inferred: str = "keep",
    engine: str = "auto",
    across_links: bool = False,
) -> pd.DataFrame:
    """Critical-path sections of every trace: one row per section, in time order per trace.

    Columns: ``trace_id, span_id, service, name, kind, start, end, duration_ms`` of the section
    (not of the span), ``section_index`` (0.. in time order within the trace), ``depth`` of the
    span, ``root_span_id``, ``call_path`` (``service:name > …`` from the root), ``in_progress``
    and ``inferred`` flags of the span. The sections of one root tile it exactly.
    ``cp.attrs["failures"]`` is a tuple of :class:`CriticalPathFailure` (traces skipped, and why);
    ``cp.attrs["duplicates_left_out"]`` lists the traces kept whose duplicated span ids' other copies were left out;
    ``cp.attrs["no_start"]`` counts the spans left out because their start is unknown (:func:`tracekit.core.start_unknown`:
    OTLP's unset start read as 1970; their time is held by their parent; ``no_start_spans`` names them);
    ``cp.attrs["params"]`` records the settings. The input is never modified.

    Parameters: see the module docstring (Jaeger UI defaults). ``engine``: ``"numpy"`` computes
    every trace at once with sorted arrays (the default when ``overlap_tolerance`` is 0);
    ``"loop"`` is the reference walk over integer lists (needed for a tolerance); both give the
    same sections (property-tested).

    Computed once per frame and settings (:mod:`tracekit.core.cache`, as the span tree): a report
    that asks for the critical path of one frame from several analyses walks it once.

    ``across_links=True`` continues the path through asynchronous hops (span links, producer →
    consumer, messaging attributes; :func:`tracekit.analysis.workflows.workflow_critical_path`):
    one path per *workflow* instead of per trace, each queue wait a section of its own
    (``section="queue"``); the result then has the columns of ``workflow_critical_path``.

    Parameters
    ----------
    spans : pandas.DataFrame or Stitched
        A spans frame (one row per span, tracekit.schema); with ``across_links=True`` also the result of
        :func:`tracekit.stitch`, whose hops (and their ``order``) are walked as they are.
    adjacent_sequential : bool, default True
        A child that ends exactly when the next starts counts as before it (CRISP's ``<=``; ``False``: Jaeger's strict ``<``).
    overlap_tolerance : float, default 0.0
        A child may overlap the next by up to this fraction of the parent's duration, in [0, 1) (CRISP); needs ``engine="loop"``.
    surrounding : str, default 'clamp'
        A child that starts before and ends after its parent (or is still running): ``"clamp"`` (Jaeger) or ``"drop"``.
    nonblocking : str | Iterable[str] | None, default 'producer_consumer'
        Which relations are asynchronous (off the path): ``"producer_consumer"``, ``"consumer"``, ``"links"``, a list of them, or ``None``.
    in_progress : str, default 'extend'
        Spans with no end: ``"extend"`` (to the parent's end, a root to its trace's last time) or ``"drop"``.
        A span still running counts as ending after its parent: one that started before its parent is a
        surrounding child, dropped under ``surrounding="drop"``.
    inferred : str, default 'keep'
        X-Ray inferred segments: ``"keep"`` (the time goes to the downstream service) or ``"drop"``.
    engine : str, default 'auto'
        ``"numpy"`` (every trace at once), ``"loop"`` (the reference walk; needed for a tolerance) or ``"auto"``.
    across_links : bool, default False
        Continue through asynchronous hops (links, producer → consumer): one path per workflow (:func:`tracekit.workflow_critical_path`).

    Returns
    -------
    pandas.DataFrame
        Critical-path sections of every trace: one row per section, in time order per trace.

    Examples
    --------
    >>> import tracekit as tk
    >>> # root  |-------------------|   0..100 ms
    >>> # db       |----|               10..40
    >>> # cache             |--|        50..70
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["api", "db", "cache"],
    ...     "name": ["GET /", "query", "get"],
    ...     "start": [0, 10 * ms, 50 * ms], "end": [100 * ms, 40 * ms, 70 * ms]})
    >>> cp = tk.critical_path(spans)
    >>> cp[["service", "duration_ms"]].values.tolist()
    [['api', 10.0], ['db', 30.0], ['api', 10.0], ['cache', 20.0], ['api', 30.0]]
    """
    across = flag_arg(across_links, "across_links", "critical_path")
    if isinstance(spans, Stitched):
        if not across:
            raise ArgumentError("critical_path: a stitch() result is walked across its hops: give across_links=True, "
                                "or its .spans for the per-trace path")
    else:
        require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"),
                        "critical_path")
    options = dict(adjacent_sequential=adjacent_sequential, overlap_tolerance=overlap_tolerance, surrounding=surrounding,
                   nonblocking=nonblocking, in_progress=in_progress, inferred=inferred, engine=engine)
    if across:  # an additive path: the workflow walk calls the per-trace walk below
        return workflow_critical_path(spans, **options)
    if not isinstance(nonblocking, str | None):
        # hashable, order-free: one cache entry per setting (checked first: a number among the names was a TypeError)
        options["nonblocking"] = tuple(sorted(nonblocking_rules(nonblocking)))
    key = tuple(sorted(options.items()))
    if "links" in nonblocking_rules(nonblocking):
        # the rule reads the links column, which the cache does not fingerprint (an object column of lists): a frame
        # equal in every other column (spans.assign(links=...)) took the path walked without its links. The rows
        # the rule makes asynchronous are part of the key
        key += (("linked_to_parent", np.packbits(linked_to_parent(spans)).tobytes()),)
    cp = frame_cached(spans, "critical_path", key, _CP_INPUTS, lambda: walk_critical_path(spans, **options), _sections_of)
    out = requests_only(cp, spans)
    out.attrs["services"] = frame_services(spans)  # every service of the frame: its figures colour them as all others
    return out


def _sections_of(cp: pd.DataFrame, trace_ids: pd.Index) -> pd.DataFrame:
    """The sections of some (whole) traces, from the critical path of a frame holding them (the walk is
    per trace: a trace's sections do not depend on the other traces)."""
    keep = set(trace_ids.astype(str))
    out = cp[cp["trace_id"].isin(trace_ids)].reset_index(drop=True)
    out.attrs = dict(cp.attrs)
    out.attrs["failures"] = SharedTuple(f for f in cp.attrs.get("failures", ()) if f.trace_id in keep)
    out.attrs["duplicates_left_out"] = SharedTuple(f for f in cp.attrs.get("duplicates_left_out", ()) if f.trace_id in keep)
    out.attrs["no_start_spans"] = SharedTuple(x for x in cp.attrs.get("no_start_spans", ()) if x[0] in keep)
    out.attrs["no_start"] = len(out.attrs["no_start_spans"])
    return out


#: the columns the walk reads (fingerprinted by the per-frame cache; ``links`` is an object column and
#: is not hashed: see tracekit.core.cache)
_CP_INPUTS = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "in_progress", "inferred")


# --------------------------------------------------------------------------------------------


def span_key_rows(spans: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``trace_id``, ``span_id`` and the ``keys`` columns (named keys derived, :func:`tracekit.core.keys.key_frame`),
    one row per span: of a span read twice, the copy that is the span (:mod:`tracekit.core.tree`: the complete copy,
    then the longest...), not the first row, which depends on row order. The rows :func:`critical_path_breakdown`
    joins a critical path's sections to for keys the path does not hold; :func:`tracekit.dask.critical_path_breakdown`
    joins each partition's with the same rows.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    keys : sequence of str
        Columns or named keys (:data:`tracekit.core.BY_KEYS`).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16] * 2,
    ...     "service": ["x", "y"], "name": ["q"] * 2, "start": [0, 0], "end": [20, 90]})   # read twice
    >>> span_key_rows(spans, ["service"])["service"].tolist()   # the longer copy is the span
    ['y']
    """
    frame, _ = key_frame(spans, list(keys), what="critical_path_breakdown")
    require_columns(frame, ["trace_id", "span_id", *keys], "critical_path_breakdown")
    return frame.loc[~span_tree(frame).duplicate, ["trace_id", "span_id", *keys]].reset_index(drop=True)


def critical_path_breakdown(
    cp: pd.DataFrame,
    by: str | Sequence[str] = "service",
    spans: pd.DataFrame | None = None,
    percentile_window: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Where critical-path time goes across traces, per ``by`` key (one row per key).

    Columns: the ``by`` keys, ``cp_ms`` (total critical-path ms), ``mean_ms`` (per request, over
    all requests in ``cp``, 0 where the key is absent), ``share`` (``cp_ms`` / the requests' total
    critical-path time = the sum of their request latencies), ``p50_ms``/``p95_ms`` (of the
    per-request contribution, same population as ``mean_ms``; :func:`tracekit.core.percentile`),
    ``traces`` (requests in which the key holds a critical-path section; a 0 ms request's root holds one of 0 ms), ``trace_share`` (``traces`` /
    number of requests). Sorted by ``cp_ms`` descending.

    Only the request root's sections count (``cp["request"]``): an orphan fragment or an extra
    root of a trace is not a second request, so its time is not added to the end-to-end totals;
    it is reported in ``attrs["fragment_ms"]``.

    ``by`` is a column of ``cp`` (``service``, ``name``, ``call_path``, …) or a list of them; a key
    that is not in ``cp`` is taken from ``spans`` (joined on trace_id and span_id).
    ``percentile_window=(95, 100)`` keeps only traces whose end-to-end time is in that
    percentile range (CRISP: what dominates the slowest 5 %?). The frame's ``attrs["traces"]``
    is the number of traces used.

    Parameters
    ----------
    cp : pandas.DataFrame
        A critical path, as :func:`tracekit.critical_path` returns it.
    by : str | Sequence[str], default 'service'
        Grouping keys: a named key of :data:`tracekit.core.BY_KEYS` (service, operation, route, host, version, call_path) or a column, or a list of them.
    spans : pandas.DataFrame | None, default None
        The spans, to take ``by`` keys that are not columns of ``cp`` from (joined on trace and span id).
    percentile_window : tuple[float, float] | None, default None
        Keep only requests whose request latency is in this percentile range, e.g. ``(95, 100)``.

    Returns
    -------
    pandas.DataFrame
        Where critical-path time goes across traces, per ``by`` key (one row per key).

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api", "db"], "name": ["GET /", "query"],
    ...     "start": [0, 10 * ms], "end": [100 * ms, 70 * ms]})
    >>> bd = tk.critical_path_breakdown(tk.critical_path(spans))
    >>> bd[["service", "cp_ms", "share"]].values.tolist()
    [['db', 60.0, 0.6], ['api', 40.0, 0.4]]
    """
    if not isinstance(cp, pd.DataFrame):
        raise ArgumentError(f"critical_path_breakdown: cp must be the DataFrame tk.critical_path returns, got {type(cp).__name__}")
    require_columns(cp, ("trace_id", "span_id", "duration_ms"), "critical_path_breakdown")
    if "parent_id" in cp.columns and "root_span_id" not in cp.columns:  # a spans frame: its durations are no path
        raise ArgumentError("critical_path_breakdown: cp is a spans frame (it has parent_id, not root_span_id); pass "
                            "tk.critical_path(spans), and the spans as spans= for keys the path does not hold")
    if spans is not None and not isinstance(spans, pd.DataFrame):
        raise ArgumentError(f"critical_path_breakdown: spans must be a spans DataFrame or None, got {type(spans).__name__}")
    keys = by_keys(by, what="critical_path_breakdown")
    window = percentile_window_arg(percentile_window, "critical_path_breakdown")
    fragment_ms = 0.0
    if "request" in cp.columns:
        req = cp["request"].to_numpy(dtype=bool, na_value=False)
        fragment_ms = float(cp["duration_ms"].to_numpy(dtype=np.float64)[~req].sum())
        cp = cp[req]
    data = cp
    missing = [k for k in keys if k not in cp.columns]
    if missing:
        if spans is None:
            raise ArgumentError(f"critical_path_breakdown: {missing} not in the critical path; pass spans= to take them from the spans")
        spans, _ = key_frame(spans, missing, what="critical_path_breakdown")
        data = cp[["trace_id", "span_id", "duration_ms", *[k for k in keys if k in cp.columns]]].merge(
            span_key_rows(spans, missing), on=["trace_id", "span_id"], how="left")
    tcode, _ = pd.factorize(data["trace_id"], sort=True)
    ms = data["duration_ms"].to_numpy(dtype=np.float64)
    n_tr = int(tcode.max()) + 1 if len(tcode) else 0
    e2e = np.bincount(tcode, weights=ms, minlength=n_tr)
    keep_trace = np.ones(n_tr, dtype=bool)
    if window is not None:
        lo_p, hi_p = window
        if n_tr:
            lo_v, hi_v = percentile(e2e, [lo_p / 100, hi_p / 100])
            keep_trace = (e2e >= lo_v) & (e2e <= hi_v)
    rows = keep_trace[tcode] if len(tcode) else np.zeros(0, dtype=bool)
    n_used = int(keep_trace.sum())
    # per (key, trace) contribution
    kdf = data.loc[rows, keys].reset_index(drop=True)
    kcode = kdf.groupby(keys, sort=True, dropna=False).ngroup().to_numpy() if len(kdf) else np.zeros(0, dtype=np.int64)
    n_k = int(kcode.max()) + 1 if len(kcode) else 0
    t_used = tcode[rows]
    pair = kcode.astype(np.int64) * max(n_tr, 1) + t_used
    upair, inv = unique_sorted(pair, return_inverse=True)
    contrib = np.bincount(inv, weights=ms[rows], minlength=len(upair))
    pk = upair // max(n_tr, 1)
    cp_ms = np.bincount(pk, weights=contrib, minlength=n_k)
    traces = np.bincount(pk, minlength=n_k)
    q = quantiles_with_zeros(pk, contrib, n_k, n_used, (0.5, 0.95))
    total = float(e2e[keep_trace].sum())
    first = pd.Series(np.arange(len(kcode))).groupby(kcode).first().to_numpy() if len(kcode) else np.zeros(0, dtype=np.int64)
    out = kdf.iloc[first].reset_index(drop=True) if len(kdf) else pd.DataFrame({k: pd.Series([], dtype=data[k].dtype) for k in keys})
    out["cp_ms"] = cp_ms.astype(np.float64)  # (a bincount of no rows is int64)
    out["mean_ms"] = cp_ms / n_used if n_used else np.nan
    out["share"] = cp_ms / total if total > 0 else np.nan
    out["p50_ms"] = q[:, 0]
    out["p95_ms"] = q[:, 1]
    out["traces"] = traces.astype(np.int64)
    out["trace_share"] = traces / n_used if n_used else np.nan
    out = out.sort_values(["cp_ms", *keys], ascending=[False] + [True] * len(keys), kind="stable").reset_index(drop=True)
    out.attrs["traces"] = n_used
    out.attrs["services"] = frame_services(spans) or shared_attr(tuple(cp.attrs.get("services", ())))
    out.attrs["fragment_ms"] = fragment_ms
    out.attrs["percentile_window"] = window
    out.attrs["params"] = shared_attr({"by": keys, "percentile_window": window, "critical_path": cp.attrs.get("params")})
    return out
