"""The per-trace table every sampling analysis works on (request root, outcome, strata keys)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...core import ns, require_columns, routes, span_tree, status_recorded, trace_outcomes
from ...core.keys import by_keys, key_frame
from ...errors import ArgumentError
from ...schema import STRING

#: public names; the other module-level names are helpers shared within the package
__all__ = []

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")


def as_list(by: Any) -> list[str]:
    """``by`` as key columns (:func:`tracekit.core.keys.by_keys`; ``None`` or an empty list: no grouping)."""
    if isinstance(by, (list, tuple)) and not by:  # by=[]: one stratum, as before the shared key table
        return []
    return by_keys(by, allow_none=True)


def _status_class(http_status: pd.Series, failed: np.ndarray, known: bool = True,
                  outcome_known: np.ndarray | None = None) -> pd.Series:
    """HTTP ``2xx`` / ``4xx`` / ``5xx``; without a code, ``error`` / ``ok`` by the trace's outcome, or ``unknown`` where
    no span of the frame records a status (core.status_recorded: "ok" would claim a success nobody recorded), and on a
    row whose ``outcome_known`` is False (a request still in progress with no status yet: it had not answered)."""
    hs = pd.array(http_status, dtype="Int64")
    cls = pd.Series((hs // 100).astype("string"), dtype=STRING) + "xx"
    fallback = np.where(failed, "error", "ok") if known else np.full(len(cls), "unknown", dtype=object)
    if outcome_known is not None:
        fallback = np.where(np.asarray(outcome_known, dtype=bool), fallback, "unknown")
    return cls.fillna(pd.Series(fallback, index=cls.index, dtype=STRING)).astype(STRING)


def dict_get(values: Iterable[Any], keys: Sequence[str]) -> list[Any]:
    out = []
    for d in values:
        v = None
        if type(d) is dict or (d is not None and isinstance(d, Mapping)):
            for k in keys:
                v = d.get(k)
                if v is not None:
                    break
        out.append(v)
    return out


def isin_text(values: pd.Series | np.ndarray, among: pd.Series | np.ndarray) -> np.ndarray:
    """Fast membership for text (hash table over object arrays; Arrow-string ``isin`` loops in Python)."""
    a = np.asarray(values, dtype=object)
    b = np.asarray(among, dtype=object)
    return pd.Index(a, dtype=object).isin(b)


def known_requests(tt: pd.DataFrame) -> np.ndarray:
    """Per row of a :func:`trace_table`: a request whose outcome is known — :func:`tracekit.core.failed_share`'s
    population (rootless traces and asynchronous work are not requests; a request still in progress with no status
    yet is left out). Every failed share of the sampling analyses is ``failed`` over these rows."""
    return tt["request"].to_numpy(dtype=bool) & tt["outcome_known"].to_numpy(dtype=bool)


def trace_table(spans: pd.DataFrame, by: Sequence[str] = (), what: str = "spans") -> pd.DataFrame:
    """One row per trace, from :func:`tracekit.core.trace_outcomes`: the request root's fields, the ``by`` keys.

    Columns: ``trace_id``, ``span_id``, ``service``, ``name``, ``start`` of the request root (else of
    the trace's earliest fragment head), ``request_ms`` (request latency), the root's ``http_status``,
    ``trace_state``, ``attributes``, ``resource`` when present, ``failed`` (the request failed),
    ``request`` (the trace is a request: :func:`tracekit.core.failed_share`'s population), ``outcome_known``
    (its ``failed`` is known: False for a request whose root is still in progress with no status yet, which
    :func:`tracekit.core.failed_share` leaves out, and on every row when no span records a status),
    ``any_failed`` (some span failed, retried or not), ``any_failed_known`` (that is known: False where none failed
    while a span is still in progress with no status yet, and on every row when no span records a status), ``n_spans``
    and the ``by`` keys
    (``status_class``, ``route`` = :func:`tracekit.core.routes` of the root). Ordered by start, then
    first appearance. ``failed`` and ``any_failed`` are plain booleans (what was recorded as failed);
    ``attrs["status_recorded"]`` says whether any span of ``spans`` records a status
    (:func:`tracekit.core.status_recorded`, read off :func:`tracekit.core.trace_outcomes`' ``<NA>``): where
    it is False, every error rate computed from them is unknown, not 0, and the callers say so.
    """
    require_columns(spans, _NEEDED, what)
    derived = [b for b in by if b in ("host", "version", "call_path") and b not in spans.columns]
    if derived:  # the named keys' derived columns (core.keys), read at the root as any column
        spans, _ = key_frame(spans, derived, what=what)
    cols = ["trace_id", "span_id", "service", "name", "start"]
    extra = [c for c in ("http_status", "trace_state", "attributes", "resource") if c in spans.columns]
    for b in by:
        if b not in ("status_class", "route") and b not in cols + extra:
            if b not in spans.columns:
                raise ArgumentError(f"{what}: cannot stratify by {b!r}: not a column of the spans and not one of "
                                    "'status_class', 'route'")
            extra.append(b)
    tree = span_tree(spans)
    oc = trace_outcomes(spans)
    n_tr = tree.n_traces
    # head row per trace: the request root, else the earliest fragment head (as trace_outcomes)
    head = tree.request_root.copy()
    missing = head < 0
    if missing.any():
        start_ns = ns(spans["start"])
        # (as trace_outcomes: of a head read twice the copy the tree keeps, not the first row)
        o = np.lexsort((np.arange(len(spans)), start_ns, np.where(tree.orphan, 0, 1), tree.duplicate, tree.trace))
        tt_ = tree.trace[o]
        first = o[np.r_[True, tt_[1:] != tt_[:-1]]]
        head[missing] = first[missing]
    req_start = ns(oc["start"])
    order = np.lexsort((np.arange(n_tr), req_start))  # by request start, then first appearance
    rows = head[order]
    out = spans[cols + extra].iloc[rows].reset_index(drop=True)
    out["trace_id"] = out["trace_id"].astype(STRING)
    out["start"] = oc["start"].iloc[order].reset_index(drop=True)
    out.insert(5, "request_ms", oc["request_ms"].to_numpy(dtype=np.float64)[order])
    # core.status_recorded(spans) (trace_outcomes' failed is <NA> on every row when no span records one, and on a
    # row whose root is in progress too: "any <NA>" made one in-progress request turn every status_class unknown)
    known = status_recorded(spans)
    out["failed"] = oc["failed"].to_numpy(dtype=bool, na_value=False)[order]
    out["request"] = oc["request"].to_numpy(dtype=bool)[order]  # a request (core.outcomes): not rootless, not async
    # the request's outcome is known (core.failed_share's population: a root in progress with no status yet is not)
    out["outcome_known"] = oc["failed"].notna().to_numpy(dtype=bool)[order]
    out["any_failed"] = oc["failed_spans"].to_numpy()[order] > 0
    # whether a failed span anywhere is known (core.trace_outcomes' any_failed: not where none failed while a span is
    # still in progress with no status yet, nor on any row when no span records a status)
    out["any_failed_known"] = oc["any_failed"].notna().to_numpy(dtype=bool)[order]
    out["n_spans"] = np.bincount(tree.trace, minlength=n_tr).astype(np.int64)[order]
    if "status_class" in by:
        hs = out["http_status"] if "http_status" in out.columns else pd.Series([pd.NA] * len(out))
        out["status_class"] = _status_class(hs.reset_index(drop=True), out["failed"].to_numpy(), known,
                                            out["outcome_known"].to_numpy(dtype=bool))
    if "route" in by:
        out["route"] = routes(spans.iloc[rows]).astype(STRING).reset_index(drop=True)
    out.attrs["status_recorded"] = known
    return out
