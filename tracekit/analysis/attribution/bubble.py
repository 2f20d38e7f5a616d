"""What distinguishes a selection of traces (or spans) from a baseline (:func:`bubble_up`)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ...core import (
    HOST_KEYS,
    REGION_KEYS,
    VERSION_KEYS,
    count_arg,
    failed,
    normalize_trace_ids,
    outcome_unknown,
    require_columns,
    result_table,
    safe_str,
    share_arg,
    span_tree,
    status_recorded,
)
from ...core.deprecation import renamed
from ...errors import ArgumentError, TraceKitError
from ..logs import log_dimensions
from ..structure import trace_summary
from ..traceql import is_traceql, traceql_mask
from .common import first_and_codes, usort, value_label

#: public names; the other module-level names are helpers shared within the package
__all__ = ["bubble_up", "DERIVED", "BUBBLE_UP"]

#: derived dimensions, in tie-break order, and the source keys they are taken from
DERIVED = ("service", "operation", "host", "version", "region", "status_class", "log_template", "log_severity")


_EXCLUDE = re.compile(
    r"(^|[._])(trace|span|parent|request|invocation|message|correlation|transaction|execution|event)[._]?id$"
    r"|^(id|uuid|guid)$|[._](uuid|guid)$"
    r"|(^|[._])(start[._]?|end[._]?)?time(stamp)?([._]?(unix[._]?)?(nano|ns|ms|s))?$|(^|[._])ts$"
    r"|^xray\.trace\.duration$",
    re.IGNORECASE,
)
_NUM = (int, float, np.integer, np.floating)
_NESTED = frozenset({dict, list, tuple})


def _flatten(d: dict, prefix: str, out_k: list, out_v: list, depth: int = 0) -> None:
    for k, v in d.items():
        if v is None:
            continue
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            if depth < 3:
                _flatten(v, key + ".", out_k, out_v, depth + 1)
            continue
        if isinstance(v, (list, tuple)):
            v = ",".join(map(safe_str, v))  # a deeply nested item must not overflow the stack
        elif isinstance(v, float) and v != v:
            continue
        out_k.append(key)
        out_v.append(v)


def _explode(col: pd.Series, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, key, value) triples of a dict column; each distinct dict object is flattened once."""
    objs = col.to_numpy(dtype=object)
    n = len(objs)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0, object)
    first, inv = first_and_codes(objs)
    keys: list = []
    vals: list = []
    counts = np.zeros(len(first), np.int64)
    for j, i in enumerate(first.tolist()):
        d = objs[i]
        if isinstance(d, dict) and d:
            before = len(keys)
            if _NESTED.isdisjoint(map(type, d.values())):  # flat: the common case, C-level extends
                keys.extend(d if not prefix else [prefix + k for k in d])
                vals.extend(d.values())  # None / NaN values are dropped later, vectorised
            else:
                _flatten(d, prefix, keys, vals)
            counts[j] = len(keys) - before
    inv = inv.ravel()
    cnt = counts[inv]
    total = int(cnt.sum())
    rows = np.repeat(np.arange(n, dtype=np.int64), cnt)
    off = np.cumsum(counts) - counts
    starts = np.cumsum(cnt) - cnt
    pos = np.repeat(off[inv], cnt) + (np.arange(total, dtype=np.int64) - np.repeat(starts, cnt))
    k_arr = np.empty(len(keys), object)
    k_arr[:] = keys
    v_arr = np.empty(len(vals), object)
    v_arr[:] = vals
    return rows, k_arr[pos], v_arr[pos]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _as_ids(values: Iterable[Any], trace_ids: bool) -> set[str]:
    """Trace ids through :func:`tracekit.core.normalize_trace_id` (X-Ray form accepted); span ids lower-cased."""
    if trace_ids:
        return set(normalize_trace_ids([str(v) for v in values]))
    return {str(v).strip().lower() for v in values}


def _from_traceql(spans: pd.DataFrame, query: str, level: str) -> np.ndarray | set:
    hit = traceql_mask(spans, query)[0]
    return hit if level == "span" else set(spans["trace_id"].to_numpy(dtype=object)[hit])


def _resolve(sel: Any, frame: pd.DataFrame, ids: pd.Index, what: str, id_kind: str) -> np.ndarray:
    """A selection (predicate on ``frame``, boolean Series indexed like ``frame``, or a set of ids)
    as a boolean array over the rows of ``frame``."""
    if sel is None:
        raise ArgumentError(f"bubble_up: {what} is None")
    if callable(sel):
        try:
            r = sel(frame)
        except TraceKitError:
            raise
        except Exception as e:  # a user predicate that fails: say which
            raise ArgumentError(f"bubble_up: the {what} predicate raised {type(e).__name__}: {e}") from e
        sel = r
    if isinstance(sel, pd.Series) and (pd.api.types.is_bool_dtype(sel) or (
            sel.dtype == object and len(sel) and all(isinstance(x, (bool, np.bool_)) for x in sel.dropna()))):
        if sel.index.equals(frame.index):  # the usual case; also fine with a non-unique index
            return sel.fillna(False).to_numpy(dtype=bool)
        if not sel.index.isin(frame.index).any() and len(sel):
            raise ArgumentError(f"bubble_up: the {what} Series is not indexed by {id_kind} (no index value matches)")
        return sel.reindex(frame.index).fillna(False).to_numpy(dtype=bool)
    if isinstance(sel, np.ndarray) and sel.dtype == bool:
        if len(sel) != len(frame):
            raise ArgumentError(f"bubble_up: the {what} array has {len(sel)} entries, expected {len(frame)} ({id_kind})")
        return sel
    if isinstance(sel, (set, frozenset, list, tuple, pd.Index, np.ndarray, pd.Series)):
        want = _as_ids(sel, id_kind == "trace ids")
        return ids.isin(list(want))
    raise ArgumentError(f"bubble_up: {what} must be a predicate, a boolean Series over {id_kind}, or a set of ids; "
                        f"got {type(sel).__name__}")


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        den = 1 + z * z / n
        c = (p + z * z / (2 * n)) / den
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(c - h, 0, 1), np.clip(c + h, 0, 1)


def _fisher_p(a: np.ndarray, n_with: np.ndarray, n_sel: int, n_all: int) -> np.ndarray:
    """Fisher's exact test, two-sided by doubling the smaller one-sided p (capped at 1): not scipy's default
    ``fisher_exact`` p (which sums every table no likelier than the observed one, and is at most this)."""
    from ...core.distributions import hypergeom_cdf, hypergeom_sf

    lo = hypergeom_cdf(a, n_all, n_with, n_sel)
    hi = hypergeom_sf(a - 1, n_all, n_with, n_sel)
    return np.minimum(1.0, 2 * np.minimum(lo, hi))


def _bh(p: np.ndarray) -> np.ndarray:
    m = len(p)
    if not m:
        return p.copy()
    order = np.argsort(p, kind="stable")
    q = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


#: the columns of :func:`bubble_up`
BUBBLE_UP = result_table("bubble_up", "one row per (dimension, value), best first", [
    ('dimension', 'string', '', 'attribute key (resource keys as resource.<key>) or derived dimension'),
    ('value', 'string', '', "the value, a top_k 'other' bucket or a numeric [lo, hi) bucket"),
    ('source', 'string', '', 'attribute, resource or derived'),
    ('selection_count', 'int64', 'units', 'selected units (traces or spans) having the value'),
    ('baseline_count', 'int64', 'units', 'baseline units having the value'),
    ('share_selection', 'float64', '', 'selection_count / selected units'),
    ('share_baseline', 'float64', '', 'baseline_count / baseline units'),
    ('diff', 'float64', '', 'share_selection - share_baseline (the effect size)'),
    ('diff_lo', 'float64', '', 'lower bound of the Newcombe interval of diff'),
    ('diff_hi', 'float64', '', 'upper bound of the Newcombe interval of diff'),
    ('lift', 'float64', '', 'share_selection / share_baseline'),
    ('odds_ratio', 'float64', '', 'odds ratio (Haldane +0.5)'),
    ('p_value', 'float64', '', "Fisher's exact test, two-sided by doubling: min(1, 2 × the smaller one-sided "
                               "hypergeometric p), at least scipy's default (minlike) two-sided p and at most twice it"),
    ('q_value', 'float64', '', 'Benjamini-Hochberg over the table'),
    ('score', 'float64', '', 'bound of the diff interval nearest 0 (0 when it crosses 0): the rank'),
    ('latency_with_ms', 'float64', 'ms', 'mean latency of units with the value (request_ms for traces, span duration for spans)'),
    ('latency_without_ms', 'float64', 'ms', 'mean latency of units without it (NaN when no unit lacks it)'),
    ('delta_latency_ms', 'float64', 'ms', 'latency_with_ms - latency_without_ms'),
    ('error_rate_with', 'float64', '', 'share failed of the units with the value whose outcome is known (request failed / '
                                       'span failed, core; a request or span still in progress with no status yet is '
                                       'left out: core.outcome_unknown); NaN (unknown, not 0) when none is known, and '
                                       'when no span of the selection and baseline records a status '
                                       '(core.status_recorded; attrs status_recorded)'),
    ('error_rate_without', 'float64', '', 'share failed of units without it; NaN (unknown) as error_rate_with'),
    ('delta_error_rate', 'float64', '', 'error_rate_with - error_rate_without; NaN (unknown) as error_rate_with'),
    ('unknown_with', 'int64', 'units', 'units with the value (selection and baseline) whose outcome is unknown, left '
                                       'out of error_rate_with: service_graph\'s unknown (a request or span still in '
                                       'progress with no status yet; at the trace level every request when no span '
                                       'records a status, as core.unknown_outcomes)'),
    ('unknown_without', 'int64', 'units', 'units without it whose outcome is unknown, left out of error_rate_without'),
])


@renamed(top_k="n")
def bubble_up(
    spans: pd.DataFrame,
    selection: Callable[[pd.DataFrame], Any] | pd.Series | Iterable[str],
    baseline: Callable[[pd.DataFrame], Any] | pd.Series | Iterable[str] | None = None,
    level: str = "trace",
    *,
    n: int = 20,
    bins: int = 5,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Which attribute values are over-represented in ``selection`` against ``baseline``.

    ``level="trace"``: ``selection``/``baseline`` are a predicate on the trace summary
    (:func:`tracekit.trace_summary`, indexed by trace id: ``lambda t: t.request_ms > 1000``), a
    boolean Series indexed by trace id, or a collection of trace ids (32-hex or X-Ray form).
    ``level="span"``: a predicate on the spans frame, a boolean Series indexed like it, or a
    collection of span ids. At either level a TraceQL query string selects too
    (``'{ resource.service.name = "payments" && status = error }'``: the traces holding a matching
    span, or the matching spans). ``baseline=None`` is every unit not selected; a given baseline must
    not overlap the selection. One row per (dimension, value), best first; columns are described
    in the module docstring. ``attrs``: ``empty_side`` (what a side holding no unit means, also warned; "" when both
    hold some), ``n_selection``, ``n_baseline``, ``level``, ``excluded``, ``status_recorded``
    (whether some span of the selected and baseline units records a status, :func:`tracekit.core.status_recorded`;
    when none does, ``error_rate_with``, ``error_rate_without`` and ``delta_error_rate`` are NaN: unknown, not 0).
    An empty selection or baseline is not an error: the shares are reported and ``p_value``,
    ``q_value`` are NaN (``score`` 0). ``n`` values are kept per key (the rest go to
    ``"other"``); numeric keys with more values are cut into ``bins`` quantile buckets.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    selection : Callable[[pandas.DataFrame], Any] | pandas.Series | Iterable[str]
        The selected units: a predicate on the trace summary (or the spans with ``level="span"``), a boolean Series or a collection of ids.
    baseline : Callable[[pandas.DataFrame], Any] | pandas.Series | Iterable[str] | None, default None
        What the selection is compared with, given like ``selection`` (``None``: every unit not selected); must not overlap it.
    level : str, default 'trace'
        ``"trace"`` (units are traces) or ``"span"``.
    n : int, default 20
        Values kept per key; the rest go to ``"other"``.
    bins : int, default 5
        Quantile buckets a numeric key with more than ``n`` values is cut into (at least 2).
    ci : float, default 0.95
        Confidence level of the intervals, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Which attribute values are over-represented in ``selection`` against ``baseline`` (columns
        :data:`BUBBLE_UP`); the error-rate columns are NaN (unknown, not 0) when no span of the units counted
        records a status (``attrs["status_recorded"]`` False).

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": [f"{i:032x}" for i in range(1, 9)], "span_id": [f"{i:016x}" for i in range(1, 9)],
    ...     "service": ["api"] * 8, "name": ["GET /"] * 8,
    ...     "start": [0] * 8, "end": [900 * ms, 800 * ms, 850 * ms, 10 * ms, 12 * ms, 11 * ms, 9 * ms, 13 * ms],
    ...     "resource": [{"host.name": h} for h in ["h1", "h1", "h1", "h2", "h2", "h2", "h2", "h1"]]})
    >>> hits = tk.bubble_up(spans, lambda t: t.request_ms > 100)
    >>> hits[["dimension", "value", "selection_count", "baseline_count", "share_selection", "share_baseline"]].head(2).values.tolist()
    [['host', 'h1', 3, 1, 1.0, 0.2], ['resource.host.name', 'h1', 3, 1, 1.0, 0.2]]
    """
    top_k = n  # the old name, kept in the body
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "bubble_up")
    if level not in ("trace", "span"):
        raise ArgumentError(f"bubble_up: level must be 'trace' or 'span', got {level!r}")
    ci = share_arg(ci, "ci", "bubble_up")
    top_k = count_arg(top_k, "n", "bubble_up", minimum=1)
    bins = count_arg(bins, "bins", "bubble_up", minimum=2)
    n = len(spans)
    if level == "trace":
        tcode, tuniq = pd.factorize(spans["trace_id"].astype(object), sort=False)
        unit_of_row = np.asarray(tcode, np.int64)
        summary = trace_summary(spans).set_index("trace_id", drop=False)
        summary.index = summary.index.astype(object)
        summary = summary.reindex(pd.Index(tuniq, dtype=object))
        frame = summary
        ids = pd.Index(tuniq, dtype=object)
        lat = summary["request_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
        err = summary["failed"].to_numpy(dtype=bool, na_value=False)
        # a request still in progress with no outcome yet: left out of the error rates (core.failed_share's rule)
        err_known = summary["failed"].notna().to_numpy(dtype=bool)
        kind = "trace ids"
    else:
        unit_of_row = np.arange(n, dtype=np.int64)
        frame = spans
        ids = pd.Index(spans["span_id"].astype(object).str.lower(), dtype=object)
        lat = spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
        err = failed(spans)
        err_known = ~outcome_unknown(spans)  # a span still in progress with no status yet: neither failed nor ok
        kind = "span rows"
    # a span exported twice is one span, the copy the kernel tree keeps (core.span_rows' rule: the complete copy, then
    # the longest, whatever the row order): at the span level one unit, at either level its values are that copy's
    # (a re-export's other host was a value of its trace: host h9 in 1 selected trace of 4, where the span was on h1)
    dup = span_tree(spans).duplicate
    n_units = len(frame) - (int(dup.sum()) if level == "span" else 0)  # (the other copies were counted as units)
    if is_traceql(selection):  # a TraceQL query: the matching spans, or the traces holding one
        selection = _from_traceql(spans, selection, level)
    if is_traceql(baseline):
        baseline = _from_traceql(spans, baseline, level)
    sel = _resolve(selection, frame, ids, "selection", kind)
    if baseline is None:
        base = ~sel
    else:
        base = _resolve(baseline, frame, ids, "baseline", kind)
        both = sel & base
        if both.any():
            raise ArgumentError(f"bubble_up: {int(both.sum())} units are in both the selection and the baseline; "
                                "pass disjoint sets (or baseline=None for the rest)")
    if level == "span":
        sel, base = sel & ~dup, base & ~dup
    n_sel, n_base = int(sel.sum()), int(base.sum())
    # an empty side is no comparison: 267 rows of NaN shares and odds ratios of a 0.5 correction were returned for a
    # selection that held nothing (checkout-small, request_ms > 1e9) without a word. The rows stay (empty in, NaN
    # out, as every analysis answers), and it is said: a warning and attrs["empty_side"]
    empty_side = ""
    if n_units and (not n_sel or not n_base):
        units = "traces" if level == "trace" else "spans"
        side, other = ("selection", "baseline") if not n_sel else ("baseline", "selection")
        empty_side = (f"bubble_up: the {side} holds none of the frame's {n_units:,} {units} (the {other} holds "
                      f"{max(n_sel, n_base):,}): nothing is compared, every share and p-value is NaN"
                      + ("; baseline=None takes the units not selected, and every unit is selected"
                         if n_sel and baseline is None else ""))
        warnings.warn(empty_side, UserWarning, stacklevel=3)  # the user's call, past @renamed's wrapper

    # ---- triples (row, key, value) ----------------------------------------------------------
    parts_r, parts_k, parts_v, parts_src = [], [], [], []
    if "attributes" in spans.columns:
        r, k, v = _explode(spans["attributes"], "")
        parts_r.append(r), parts_k.append(k), parts_v.append(v), parts_src.append(np.zeros(len(r), np.int8) + 1)
    if "resource" in spans.columns:
        r, k, v = _explode(spans["resource"], "resource.")
        parts_r.append(r), parts_k.append(k), parts_v.append(v), parts_src.append(np.zeros(len(r), np.int8) + 2)
    rows = np.concatenate(parts_r) if parts_r else np.zeros(0, np.int64)
    keys = np.concatenate(parts_k) if parts_k else np.zeros(0, object)
    vals = np.concatenate(parts_v) if parts_v else np.zeros(0, object)
    kcode, kuniq = pd.factorize(keys, sort=False)
    kcode = np.asarray(kcode, np.int64)
    kuniq = list(kuniq)
    allkeys = list(kuniq)  # key codes from here on: source keys, then derived names
    dcode = {}
    for name in DERIVED:
        if name not in dcode:
            dcode[name] = allkeys.index(name) if name in kuniq else len(allkeys)
            if dcode[name] == len(allkeys):
                allkeys.append(name)
    excluded = sorted({k for k in kuniq if _EXCLUDE.search(k.removeprefix("resource."))})
    # derived dimensions from source keys
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    alias = {}
    for j, k in enumerate(kuniq):
        bare = k.removeprefix("resource.")
        if bare in HOST_KEYS:
            alias[j] = "host"
        elif bare in REGION_KEYS:
            alias[j] = "region"
        elif bare in VERSION_KEYS:
            alias[j] = "version"
    d_rows, d_keys, d_vals = [np.arange(n), np.arange(n)], [np.full(n, dcode["service"]), np.full(n, dcode["operation"])], [
        svc, np.array([f"{a}: {b}" for a, b in zip(svc, spans["name"].to_numpy(dtype=object, na_value=None), strict=True)], dtype=object)]
    if "http_status" in spans.columns:
        hs = spans["http_status"].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = ~np.isnan(hs)
        d_rows.append(np.flatnonzero(ok))
        d_keys.append(np.full(int(ok.sum()), dcode["status_class"]))
        d_vals.append(np.array([f"{int(h) // 100}xx" for h in hs[ok]], dtype=object))
    for dname, (lrows, lvals) in log_dimensions(spans).items():  # log records attached by attach_logs
        d_rows.append(lrows), d_keys.append(np.full(len(lrows), dcode[dname])), d_vals.append(lvals)
    if alias:
        anames = np.array([dcode[alias[j]] if j in alias else -1 for j in range(len(kuniq))], dtype=np.int64)
        amask = anames[kcode] >= 0
        am_rows = rows[amask]
        dk = anames[kcode[amask]]
        dv = vals[amask].copy()
        isver = dk == dcode["version"]
        dv[isver] = [f"{s}@{value_label(x)}" for s, x in zip(svc[am_rows[isver]], dv[isver], strict=True)]
        d_rows.append(am_rows), d_keys.append(dk), d_vals.append(dv)
    drows = np.concatenate(d_rows).astype(np.int64)
    dkeys = np.concatenate(d_keys).astype(np.int64)
    dvals = np.concatenate(d_vals)
    excl = set(excluded)
    keep_src = ~np.array([k in excl for k in kuniq], dtype=bool)[kcode] if excluded else np.ones(len(kcode), bool)
    rows = np.concatenate([drows, rows[keep_src]])
    keys = np.concatenate([dkeys, kcode[keep_src]])
    vals = np.concatenate([dvals, vals[keep_src]])
    src = np.concatenate([np.zeros(len(drows), np.int8), np.concatenate(parts_src)[keep_src] if parts_src else np.zeros(0, np.int8)])
    ok = pd.notna(vals) if len(vals) else np.zeros(0, bool)
    units = unit_of_row[rows]
    inuse = (sel | base)[units] & ok & ~dup[rows]
    units, keys, vals, src = units[inuse], keys[inuse], vals[inuse], src[inuse]

    # ---- values: numeric bins and top-k buckets (all on integer codes) ---------------------
    kcode, kidx = pd.factorize(keys, sort=False)
    kcode = np.asarray(kcode, np.int64)
    kuniq = [allkeys[i] for i in kidx]
    n_keys = len(kuniq)
    vals = vals.copy()
    tcodes, tuniq_ = pd.factorize(np.fromiter(map(type, vals), dtype=object, count=len(vals)), sort=False)
    t_bool = np.array([t is bool or t is np.bool_ for t in tuniq_], dtype=bool)
    t_num = np.array([issubclass(t, _NUM) and not t_bool[i] for i, t in enumerate(tuniq_)], dtype=bool)
    isbool = t_bool[tcodes] if len(vals) else np.zeros(0, bool)
    isnum = t_num[tcodes] if len(vals) else np.zeros(0, bool)
    if isbool.any():
        vals[isbool] = np.where(vals[isbool].astype(bool), "true", "false")
    vcode, vuniq = pd.factorize(vals, sort=False)
    vcode = np.asarray(vcode, np.int64)
    vlabel = np.array([value_label(v) for v in vuniq], dtype=object)
    vnum = np.array([float(v) if isinstance(v, _NUM) and not isinstance(v, (bool, np.bool_)) else np.nan for v in vuniq])
    # dense (key, value) pair codes and distinct (unit, pair)
    pcode, puniq = pd.factorize(kcode * max(len(vuniq), 1) + vcode, sort=False)
    pcode = np.asarray(pcode, np.int64)
    n_p = len(puniq)
    p_key = np.asarray(puniq, np.int64) // max(len(vuniq), 1)
    p_val = np.asarray(puniq, np.int64) % max(len(vuniq), 1)
    up = usort(units * max(n_p, 1) + pcode)
    units, pcode = up // max(n_p, 1), up % max(n_p, 1)
    p_units = np.bincount(pcode, minlength=n_p)  # distinct units per pair
    distinct = np.bincount(p_key, minlength=n_keys)
    all_num = np.bincount(kcode, weights=~isnum, minlength=n_keys) == 0
    binned = np.flatnonzero(all_num & (distinct > top_k))
    p_label = vlabel[p_val] if n_p else np.zeros(0, object)
    if len(binned):
        order = np.argsort(p_key, kind="stable")
        bounds = np.searchsorted(p_key[order], np.arange(n_keys + 1))
        for j in binned.tolist():
            ps = order[bounds[j]:bounds[j + 1]]
            x = vnum[p_val[ps]]
            edges = np.unique(np.quantile(np.repeat(x, p_units[ps]), np.linspace(0, 1, bins + 1)))
            if len(edges) < 2:
                continue
            bi = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
            names = [f"[{_fmt(edges[i])}, {_fmt(edges[i + 1])}{']' if i == len(edges) - 2 else ')'}"
                     for i in range(len(edges) - 1)]
            p_label[ps] = np.array(names, dtype=object)[bi]
    big = (distinct > top_k) & ~np.isin(np.arange(n_keys), binned)
    if big.any():
        # keep the top_k values of the key by units over selection and baseline together: the
        # buckets must not depend on which units are selected, or "other" is biased by construction
        # (keeping values frequent in the selection leaves an "other" depleted in it: false hits)
        order = np.lexsort((p_label.astype(str), -p_units, p_key))
        pk = p_key[order]
        rank = np.arange(n_p) - np.searchsorted(pk, pk)
        drop = order[(rank >= top_k) & big[pk]]
        p_label[drop] = "other"
    # final (key, label) combos
    lcode, _ = pd.factorize(p_label, sort=False)
    ccode, cuniq = pd.factorize(p_key * max(n_p, 1) + np.asarray(lcode, np.int64), sort=False)
    ccode = np.asarray(ccode, np.int64)
    m = len(cuniq)
    uc = usort(units * max(m, 1) + ccode[pcode])
    u, code = uc // max(m, 1), uc % max(m, 1)
    c_key = np.zeros(m, np.int64)
    c_key[ccode] = p_key
    c_label = np.empty(m, object)
    c_label[ccode] = p_label
    a = np.bincount(code, weights=sel[u], minlength=m)
    b = np.bincount(code, weights=base[u], minlength=m)
    ksrc = np.zeros(n_keys, np.int8)
    ksrc[kcode] = src

    # ---- statistics -------------------------------------------------------------------------
    from ...core.distributions import normal_ppf

    z = float(normal_ppf(0.5 + ci / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1 = a / n_sel if n_sel else np.full(m, np.nan)
        p2 = b / n_base if n_base else np.full(m, np.nan)
        l1, u1 = _wilson(a, np.full(m, float(n_sel)), z)
        l2, u2 = _wilson(b, np.full(m, float(n_base)), z)
        d = p1 - p2
        dlo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        dhi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        lift = p1 / p2
        odds = ((a + 0.5) * (n_base - b + 0.5)) / ((n_sel - a + 0.5) * (b + 0.5))
    pv = _fisher_p(a, a + b, n_sel, n_sel + n_base) if n_sel and n_base else np.full(m, np.nan)
    q = np.full(m, np.nan)
    good = ~np.isnan(pv)
    q[good] = _bh(pv[good])
    # latency / error with vs without, over selection ∪ baseline
    pool = sel | base
    lat_ok = pool & ~np.isnan(lat)
    lat0 = np.where(lat_ok, lat, 0.0)
    n_with_l = np.bincount(code, weights=lat_ok[u], minlength=m)
    s_with_l = np.bincount(code, weights=lat0[u], minlength=m)
    err_ok = pool & err_known  # the error rates are over the units whose outcome is known
    n_with_e = np.bincount(code, weights=err_ok[u], minlength=m)
    e_with = np.bincount(code, weights=(err & err_ok)[u], minlength=m)
    tot_l, cnt_l = lat0[lat_ok].sum(), float(lat_ok.sum())
    tot_e, cnt_e = float((err & err_ok).sum()), float(err_ok.sum())
    # the units each error rate left out (outcome unknown): with the value, and without it
    n_with_pool = np.bincount(code, weights=pool[u], minlength=m)
    unk_with = np.rint(n_with_pool - n_with_e).astype(np.int64)
    unk_without = np.rint((float(pool.sum()) - cnt_e) - (n_with_pool - n_with_e)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        lw = s_with_l / n_with_l
        # no unit without the value: NaN (unknown), never the float noise of total − sum over 0 (±inf by row order)
        n_without_l = cnt_l - n_with_l
        lwo = np.where(n_without_l > 0, (tot_l - s_with_l) / np.where(n_without_l > 0, n_without_l, 1), np.nan)
        ew = e_with / n_with_e
        ewo = (tot_e - e_with) / (cnt_e - n_with_e)
    # the spans of the units counted: when none records a status, nothing could be recorded as failed (unknown, not 0)
    scols = [c for c in ("status", "http_status", "fault", "error", "throttle") if c in spans.columns]
    known = bool(status_recorded(spans[scols].iloc[np.flatnonzero(pool[unit_of_row] & ~dup)])) if n else False
    if not known:
        ew, ewo = np.full(m, np.nan), np.full(m, np.nan)
    score = np.where(d > 0, np.maximum(dlo, 0), np.maximum(-dhi, 0))
    score = np.nan_to_num(score, nan=0.0)
    kk = c_key
    dims = np.array(kuniq, dtype=object)[kk] if m else np.zeros(0, object)
    prio = {name: i for i, name in enumerate(DERIVED)}
    out = pd.DataFrame({
        "dimension": dims,
        "value": c_label,
        "source": np.array(["derived", "attribute", "resource"], dtype=object)[ksrc[kk]] if m else np.zeros(0, object),
        "selection_count": a.astype(np.int64), "baseline_count": b.astype(np.int64),
        "share_selection": p1, "share_baseline": p2, "diff": d, "diff_lo": dlo, "diff_hi": dhi,
        "lift": lift, "odds_ratio": odds, "p_value": pv, "q_value": q, "score": score,
        "latency_with_ms": lw, "latency_without_ms": lwo, "delta_latency_ms": lw - lwo,
        "error_rate_with": ew, "error_rate_without": ewo, "delta_error_rate": ew - ewo,
        "unknown_with": unk_with, "unknown_without": unk_without,
    })
    out["_prio"] = [prio.get(x, len(prio)) if s == "derived" else len(prio) for x, s in zip(out["dimension"], out["source"], strict=True)]
    out["_neg"] = ~(out["diff"] > 0)
    # the rank compares scores and q-values to 12 decimals (equal scores reached by other sums differ in the last
    # bits), then a stable key: the same rows in another order give the same table
    out["_score"], out["_q"] = out["score"].round(12), out["q_value"].round(12)
    out = out.sort_values(["_score", "_q", "_neg", "_prio", "dimension", "value"],
                          ascending=[False, True, True, True, True, True],
                          kind="stable", na_position="last").drop(columns=["_prio", "_neg", "_score", "_q"]).reset_index(drop=True)
    out.attrs.update({"empty_side": empty_side, "n_selection": n_sel, "n_baseline": n_base, "level": level,
                      "excluded": tuple(excluded),
                      "n_units": n_units, "ci": ci, "status_recorded": known})
    return out
