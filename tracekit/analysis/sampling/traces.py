"""The per-trace table every sampling analysis works on (request root, outcome, strata keys)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...errors import TraceKitError
from ...schema import STRING

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "start", "duration_ms", "status", "fault")


def _check_spans(spans: Any, what: str = "spans") -> None:
    if not isinstance(spans, pd.DataFrame):
        raise TraceKitError(f"{what} must be a spans DataFrame, got {type(spans).__name__}")
    missing = [c for c in _NEEDED if c not in spans.columns]
    if missing:
        raise TraceKitError(f"{what} DataFrame is missing columns needed here: {', '.join(missing)}")


def as_list(by: Any) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _status_class(http_status: pd.Series, failed: np.ndarray) -> pd.Series:
    hs = pd.array(http_status, dtype="Int64")
    cls = pd.Series((hs // 100).astype("string"), dtype=STRING) + "xx"
    fallback = np.where(failed, "error", "ok")
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


def trace_table(spans: pd.DataFrame, by: Sequence[str] = (), what: str = "spans") -> pd.DataFrame:
    """One row per trace: root span fields, ``failed``, ``root_failed``, ``n_spans`` and the ``by`` keys."""
    _check_spans(spans, what)
    cols = ["trace_id", "span_id", "service", "name", "start", "duration_ms"]
    extra = [c for c in ("http_status", "trace_state", "attributes", "resource") if c in spans.columns]
    for b in by:
        if b not in ("status_class", "route") and b not in cols + extra:
            if b not in spans.columns:
                raise TraceKitError(f"cannot stratify by {b!r}: not a column of {what} and not one of "
                                    "'status_class', 'route'")
            extra.append(b)
    if len(spans) == 0:
        out = pd.DataFrame({c: spans[c].iloc[:0] for c in cols + extra})
        out["failed"] = np.zeros(0, bool)
        out["root_failed"] = np.zeros(0, bool)
        out["n_spans"] = np.zeros(0, np.int64)
        for b in by:
            if b in ("status_class", "route"):
                out[b] = pd.Series([], dtype=STRING)
        return out
    tcode, tuniq = pd.factorize(spans["trace_id"], sort=True)  # codes in trace-id order
    n_tr = len(tuniq)
    failed = ((spans["status"] == "error").fillna(False).to_numpy(dtype=bool)
              | spans["fault"].fillna(False).to_numpy(dtype=bool))
    is_root = spans["parent_id"].isna().to_numpy()
    # orphans (parent id not a span id of the same trace) only matter in traces without a true root
    orphan = np.zeros(len(spans), dtype=bool)
    rootless = (np.bincount(tcode, weights=is_root, minlength=n_tr) == 0)[tcode]
    if rootless.any():
        sub = spans.loc[rootless, ["span_id", "parent_id"]]
        m = len(sub)
        idcode, _ = pd.factorize(pd.concat([sub["span_id"], sub["parent_id"]], ignore_index=True))
        width = np.int64(idcode.max() + 2)
        tc = tcode[rootless].astype(np.int64)
        orphan[rootless] = ~pd.Series(tc * width + idcode[m:]).isin(tc * width + idcode[:m]).to_numpy()
    rank = np.where(is_root, 0, np.where(orphan, 1, 2))
    start_ns = spans["start"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((start_ns, rank, tcode))
    sc = tcode[order]
    first = order[np.r_[True, sc[1:] != sc[:-1]]]  # root row position per trace, by trace code
    any_failed = np.bincount(tcode, weights=failed, minlength=n_tr) > 0
    n_spans = np.bincount(tcode, minlength=n_tr)
    out_order = np.lexsort((tcode[first], start_ns[first]))  # by root start, then trace id
    rows = first[out_order]
    out = spans[cols + extra].iloc[rows].reset_index(drop=True)
    out["trace_id"] = out["trace_id"].astype(STRING)
    out["root_failed"] = failed[rows]
    out["failed"] = any_failed[tcode[rows]]
    out["n_spans"] = n_spans[tcode[rows]].astype(np.int64)
    if "status_class" in by:
        hs = out["http_status"] if "http_status" in out.columns else pd.Series([pd.NA] * len(out))
        out["status_class"] = _status_class(hs.reset_index(drop=True), out["root_failed"].to_numpy())
    if "route" in by:
        attrs = out["attributes"] if "attributes" in out.columns else [None] * len(out)
        route = pd.Series(dict_get(attrs, ("http.route",)), dtype=STRING)
        out["route"] = route.fillna(out["name"].astype(STRING)).astype(STRING)
    return out
