"""What distinguishes the slow and the failing traces: attribute correlation, version regressions,
cold starts.

:func:`bubble_up` — like Honeycomb's BubbleUp: every attribute, resource attribute, X-Ray
annotation (``annotation.*``) and a few derived dimensions (``service``, ``operation`` =
``service: name``, ``status_class`` = HTTP ``2xx``/``4xx``/``5xx``, ``host``, ``region``,
``version`` = ``service@version``) is compared between a *selection* of traces (or spans) and a
*baseline* (the rest, or a given set).

* **Presence.** At ``level="trace"`` a trace *has* a value if any of its spans has it; at
  ``level="span"`` each span is a unit. A unit can have several values of one key (a trace runs
  several services); each (key, value) is one yes/no property of the unit.
* **Explosion.** The dict columns are exploded in one pass into (unit, key, value) triples —
  each distinct dict object is flattened once (resources are shared by many spans) and expanded
  with numpy — then every count is a ``bincount`` over codes: no per-key pass over the frame.
  Nested dicts (X-Ray ``metadata.<namespace>``) become dotted keys; lists are joined with ``,``.
* **Buckets.** A key with more than ``top_k`` distinct values keeps its ``top_k`` most frequent
  values and puts the rest in ``"other"``; a numeric key with more than ``top_k`` distinct values
  is cut at its quantiles (``bins`` buckets, labelled ``[lo, hi)``). Nothing is dropped for
  cardinality. Ids and timestamps are excluded by key name (trace/span/parent/request/invocation/
  message ids, bare ``id``/``uuid``, ``time``/``start_time``/``timestamp``…, and X-Ray's
  ``xray.trace.Duration``, which *is* the latency); ids that may explain a problem (account,
  instance, deployment, customer ids) are kept and bucketed;
  the excluded keys are listed in ``hits.attrs["excluded"]``.
* **Statistics** per (dimension, value), with ``a``/``b`` units having it in the selection /
  baseline out of ``n_sel``/``n_base``: ``share_selection`` = a/n_sel, ``share_baseline`` =
  b/n_base, ``diff`` (their difference, the effect size) with a Newcombe hybrid-score interval
  (``diff_lo``, ``diff_hi``; Wilson intervals combined — good coverage for small counts and
  shares near 0 or 1), ``lift`` (ratio of shares), ``odds_ratio`` (Haldane +0.5),
  ``p_value`` from Fisher's exact test (two-sided by doubling the smaller hypergeometric tail,
  capped at 1; vectorised with ``scipy.stats.hypergeom``) and ``q_value`` by Benjamini–Hochberg
  over every row of the table. ``latency_with_ms``/``latency_without_ms`` (mean unit duration of
  the selection ∪ baseline units with / without the value), ``delta_latency_ms`` and the same for
  ``error_rate`` (a trace is in error if any span has status error or an error/fault flag).
* **Rank.** By ``score`` = the bound of the ``diff`` interval nearest to 0 (0 when the interval
  crosses 0): a large difference measured on few traces ranks below a slightly smaller one measured
  on many. Ties go to derived dimensions first (``host`` before ``resource.host.name``), then by name.

:func:`version_regressions` — per service and version: entry spans (the requests the service
handled), ``first_seen`` (a deploy marker), latency p50/p95, error rate, critical-path ms per
trace, each compared with the previous version (by first appearance) with percentile-bootstrap
intervals, a ``regression`` flag and whether the first appearance lines up with an incident window.

:func:`cold_starts` — serverless cold starts per function (from :func:`lambda_invocations`):
OTLP ``faas.coldstart``, X-Ray ``Initialization`` subsegments of a Lambda function segment
(``origin`` ``AWS::Lambda::Function``). Share of cold invocations, initialisation time, the
latency a cold start adds to an invocation (cold − warm mean, bootstrap interval), the
critical-path time of the initialisation and the share of the slowest traces that had one.

>>> import tracekit as tk
>>> spans = tk.examples.load("bad-host-small")
>>> hits = tk.bubble_up(spans, lambda t: t.duration_ms > t.duration_ms.quantile(0.8))
>>> hits.attrs["n_selection"], hits.attrs["n_baseline"]
(8, 32)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..core import quantile_draws
from ..errors import TraceKitError
from ..schema import xray_to_trace_id
from .critical_paths import critical_path
from .structure import _check_columns, span_tree, trace_summary

__all__ = ["bubble_up", "version_regressions", "cold_starts", "lambda_invocations"]

#: derived dimensions, in tie-break order, and the source keys they are taken from
DERIVED = ("service", "operation", "host", "version", "region", "status_class")
_HOST_KEYS = ("host.name", "faas.instance", "aws.ec2.instance_id", "aws.ecs.container", "aws.lambda.instance",
              "k8s.pod.name", "container.id")
_REGION_KEYS = ("cloud.region", "aws.region")
_VERSION_KEYS = ("service.version", "faas.version", "aws.elastic_beanstalk.version_label")

_EXCLUDE = re.compile(
    r"(^|[._])(trace|span|parent|request|invocation|message|correlation|transaction|execution|event)[._]?id$"
    r"|^(id|uuid|guid)$|[._](uuid|guid)$"
    r"|(^|[._])(start[._]?|end[._]?)?time(stamp)?([._]?(unix[._]?)?(nano|ns|ms|s))?$|(^|[._])ts$"
    r"|^xray\.trace\.duration$",
    re.IGNORECASE,
)
_NUM = (int, float, np.integer, np.floating)
_NESTED = frozenset({dict, list, tuple})


# ---------------------------------------------------------------------------------------------
# helpers


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
            v = ",".join(map(str, v))
        elif isinstance(v, float) and v != v:
            continue
        out_k.append(key)
        out_v.append(v)


def _usort(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values by sort (numpy 2's hash-based ``np.unique`` is ~50x slower on ints)."""
    s = np.sort(x, kind="stable")
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def _first_and_codes(objs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each object's identity and the first row of each distinct object."""
    codes, uniq = pd.factorize(np.fromiter(map(id, objs), dtype=np.uint64, count=len(objs)), sort=False)
    codes = np.asarray(codes, np.int64)
    first = np.full(len(uniq), -1, np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first, codes


def _explode(col: pd.Series, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, key, value) triples of a dict column; each distinct dict object is flattened once."""
    objs = col.to_numpy(dtype=object)
    n = len(objs)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0, object)
    first, inv = _first_and_codes(objs)
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


def _label(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _err_flags(spans: pd.DataFrame) -> np.ndarray:
    n = len(spans)

    def col(c: str) -> np.ndarray:
        return spans[c].to_numpy(dtype=bool, na_value=False) if c in spans.columns else np.zeros(n, dtype=bool)

    st = spans["status"].to_numpy(dtype=object, na_value="") == "error" if "status" in spans.columns else np.zeros(n, bool)
    return st | col("error") | col("fault")


def _as_ids(values: Iterable[Any]) -> set[str]:
    out = set()
    for v in values:
        s = str(v)
        out.add(xray_to_trace_id(s) if s.startswith("1-") and s.count("-") == 2 else s.lower())
    return out


def _resolve(sel: Any, frame: pd.DataFrame, ids: pd.Index, what: str, id_kind: str) -> np.ndarray:
    """A selection (predicate on ``frame``, boolean Series indexed like ``frame``, or a set of ids)
    as a boolean array over the rows of ``frame``."""
    if sel is None:
        raise TraceKitError(f"bubble_up: {what} is None")
    if callable(sel):
        try:
            r = sel(frame)
        except TraceKitError:
            raise
        except Exception as e:  # a user predicate that fails: say which
            raise TraceKitError(f"bubble_up: the {what} predicate raised {type(e).__name__}: {e}") from e
        sel = r
    if isinstance(sel, pd.Series) and (pd.api.types.is_bool_dtype(sel) or (
            sel.dtype == object and len(sel) and all(isinstance(x, (bool, np.bool_)) for x in sel.dropna()))):
        if sel.index.equals(frame.index):  # the usual case; also fine with a non-unique index
            return sel.fillna(False).to_numpy(dtype=bool)
        if not sel.index.isin(frame.index).any() and len(sel):
            raise TraceKitError(f"bubble_up: the {what} Series is not indexed by {id_kind} (no index value matches)")
        return sel.reindex(frame.index).fillna(False).to_numpy(dtype=bool)
    if isinstance(sel, np.ndarray) and sel.dtype == bool:
        if len(sel) != len(frame):
            raise TraceKitError(f"bubble_up: the {what} array has {len(sel)} entries, expected {len(frame)} ({id_kind})")
        return sel
    if isinstance(sel, (set, frozenset, list, tuple, pd.Index, np.ndarray, pd.Series)):
        want = _as_ids(sel)
        return ids.isin(list(want))
    raise TraceKitError(f"bubble_up: {what} must be a predicate, a boolean Series over {id_kind}, or a set of ids; "
                        f"got {type(sel).__name__}")


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        den = 1 + z * z / n
        c = (p + z * z / (2 * n)) / den
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(c - h, 0, 1), np.clip(c + h, 0, 1)


def _fisher_p(a: np.ndarray, n_with: np.ndarray, n_sel: int, n_all: int) -> np.ndarray:
    from scipy.stats import hypergeom

    lo = hypergeom.cdf(a, n_all, n_with, n_sel)
    hi = hypergeom.sf(a - 1, n_all, n_with, n_sel)
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


# ---------------------------------------------------------------------------------------------
# bubble_up


def bubble_up(
    spans: pd.DataFrame,
    selection: Callable[[pd.DataFrame], Any] | pd.Series | Iterable[str],
    baseline: Callable[[pd.DataFrame], Any] | pd.Series | Iterable[str] | None = None,
    level: str = "trace",
    *,
    top_k: int = 20,
    bins: int = 5,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Which attribute values are over-represented in ``selection`` against ``baseline``.

    ``level="trace"``: ``selection``/``baseline`` are a predicate on the trace summary
    (:func:`tracekit.trace_summary`, indexed by trace id: ``lambda t: t.duration_ms > 1000``), a
    boolean Series indexed by trace id, or a collection of trace ids (32-hex or X-Ray form).
    ``level="span"``: a predicate on the spans frame, a boolean Series indexed like it, or a
    collection of span ids. ``baseline=None`` is every unit not selected; a given baseline must
    not overlap the selection. One row per (dimension, value), best first; columns are described
    in the module docstring. ``attrs``: ``n_selection``, ``n_baseline``, ``level``, ``excluded``.
    An empty selection or baseline is not an error: the shares are reported and ``p_value``,
    ``q_value`` are NaN (``score`` 0). ``top_k`` values are kept per key (the rest go to
    ``"other"``); numeric keys with more values are cut into ``bins`` quantile buckets.

    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": [f"{i:032x}" for i in range(1, 9)], "span_id": [f"{i:016x}" for i in range(1, 9)],
    ...     "service": ["api"] * 8, "name": ["GET /"] * 8,
    ...     "start": [0] * 8, "end": [900 * ms, 800 * ms, 850 * ms, 10 * ms, 12 * ms, 11 * ms, 9 * ms, 13 * ms],
    ...     "resource": [{"host.name": h} for h in ["h1", "h1", "h1", "h2", "h2", "h2", "h2", "h1"]]})
    >>> hits = tk.bubble_up(spans, lambda t: t.duration_ms > 100)
    >>> hits[["dimension", "value", "selection_count", "baseline_count", "share_selection", "share_baseline"]].head(2).values.tolist()
    [['host', 'h1', 3, 1, 1.0, 0.2], ['resource.host.name', 'h1', 3, 1, 1.0, 0.2]]
    """
    _check_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "bubble_up spans")
    if level not in ("trace", "span"):
        raise TraceKitError(f"bubble_up: level must be 'trace' or 'span', got {level!r}")
    if not (0 < ci < 1):
        raise TraceKitError(f"bubble_up: ci must be in (0, 1), got {ci!r}")
    if int(top_k) < 1 or int(bins) < 2:
        raise TraceKitError(f"bubble_up: top_k must be >= 1 and bins >= 2, got {top_k!r}, {bins!r}")
    n = len(spans)
    err_span = _err_flags(spans)
    if level == "trace":
        tcode, tuniq = pd.factorize(spans["trace_id"].astype(object), sort=False)
        unit_of_row = np.asarray(tcode, np.int64)
        summary = trace_summary(spans).set_index("trace_id", drop=False)
        summary.index = summary.index.astype(object)
        summary = summary.reindex(pd.Index(tuniq, dtype=object))
        frame = summary
        ids = pd.Index(tuniq, dtype=object)
        lat = summary["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
        err = np.zeros(len(tuniq), bool)
        np.logical_or.at(err, unit_of_row, err_span)
        kind = "trace ids"
    else:
        unit_of_row = np.arange(n, dtype=np.int64)
        frame = spans
        ids = pd.Index(spans["span_id"].astype(object).str.lower(), dtype=object)
        lat = spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
        err = err_span
        kind = "span rows"
    n_units = len(frame)
    sel = _resolve(selection, frame, ids, "selection", kind)
    if baseline is None:
        base = ~sel
    else:
        base = _resolve(baseline, frame, ids, "baseline", kind)
        both = sel & base
        if both.any():
            raise TraceKitError(f"bubble_up: {int(both.sum())} units are in both the selection and the baseline; "
                                "pass disjoint sets (or baseline=None for the rest)")
    n_sel, n_base = int(sel.sum()), int(base.sum())

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
        if bare in _HOST_KEYS:
            alias[j] = "host"
        elif bare in _REGION_KEYS:
            alias[j] = "region"
        elif bare in _VERSION_KEYS:
            alias[j] = "version"
    d_rows, d_keys, d_vals = [np.arange(n), np.arange(n)], [np.full(n, dcode["service"]), np.full(n, dcode["operation"])], [
        svc, np.array([f"{a}: {b}" for a, b in zip(svc, spans["name"].to_numpy(dtype=object, na_value=None), strict=True)], dtype=object)]
    if "http_status" in spans.columns:
        hs = spans["http_status"].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = ~np.isnan(hs)
        d_rows.append(np.flatnonzero(ok))
        d_keys.append(np.full(int(ok.sum()), dcode["status_class"]))
        d_vals.append(np.array([f"{int(h) // 100}xx" for h in hs[ok]], dtype=object))
    if alias:
        anames = np.array([dcode[alias[j]] if j in alias else -1 for j in range(len(kuniq))], dtype=np.int64)
        amask = anames[kcode] >= 0
        am_rows = rows[amask]
        dk = anames[kcode[amask]]
        dv = vals[amask].copy()
        isver = dk == dcode["version"]
        dv[isver] = [f"{s}@{_label(x)}" for s, x in zip(svc[am_rows[isver]], dv[isver], strict=True)]
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
    inuse = (sel | base)[units] & ok
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
    vlabel = np.array([_label(v) for v in vuniq], dtype=object)
    vnum = np.array([float(v) if isinstance(v, _NUM) and not isinstance(v, (bool, np.bool_)) else np.nan for v in vuniq])
    # dense (key, value) pair codes and distinct (unit, pair)
    pcode, puniq = pd.factorize(kcode * max(len(vuniq), 1) + vcode, sort=False)
    pcode = np.asarray(pcode, np.int64)
    n_p = len(puniq)
    p_key = np.asarray(puniq, np.int64) // max(len(vuniq), 1)
    p_val = np.asarray(puniq, np.int64) % max(len(vuniq), 1)
    up = _usort(units * max(n_p, 1) + pcode)
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
    uc = _usort(units * max(m, 1) + ccode[pcode])
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
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + ci / 2))
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
    n_with = a + b
    e_with = np.bincount(code, weights=(err & pool)[u], minlength=m)
    tot_l, cnt_l = lat0[lat_ok].sum(), float(lat_ok.sum())
    tot_e, cnt_e = float((err & pool).sum()), float(pool.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        lw = s_with_l / n_with_l
        lwo = (tot_l - s_with_l) / (cnt_l - n_with_l)
        ew = e_with / n_with
        ewo = (tot_e - e_with) / (cnt_e - n_with)
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
    })
    out["_prio"] = [prio.get(x, len(prio)) if s == "derived" else len(prio) for x, s in zip(out["dimension"], out["source"], strict=True)]
    out["_neg"] = ~(out["diff"] > 0)
    out = out.sort_values(["score", "q_value", "_neg", "_prio", "dimension", "value"],
                          ascending=[False, True, True, True, True, True],
                          kind="stable", na_position="last").drop(columns=["_prio", "_neg"]).reset_index(drop=True)
    out.attrs.update({"n_selection": n_sel, "n_baseline": n_base, "level": level, "excluded": tuple(excluded),
                      "n_units": n_units, "ci": ci})
    return out


# ---------------------------------------------------------------------------------------------
# version regressions


def _lookup(spans: pd.DataFrame, keys: tuple[str, ...]) -> np.ndarray:
    """First of ``keys`` found in each span's resource, then attributes (object array, None if none)."""
    n = len(spans)
    out = np.full(n, None, dtype=object)
    for col in ("attributes", "resource"):  # resource last so it wins
        if col not in spans.columns:
            continue
        objs = spans[col].to_numpy(dtype=object)
        first, inv = _first_and_codes(objs)
        got = np.full(len(first), None, dtype=object)
        for j, i in enumerate(first.tolist()):
            d = objs[i]
            if isinstance(d, dict):
                for k in keys:
                    v = d.get(k)
                    if v is not None:
                        got[j] = v
                        break
        vals = got[inv.ravel()]
        has = vals != None  # noqa: E711  (object array)
        out[has] = vals[has]
    return out


def _boot_mean(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    m = len(x)
    if m == 0:
        return np.full(n_boot, np.nan)
    out = np.empty(n_boot)
    step = max(1, 4_000_000 // m)
    for s in range(0, n_boot, step):
        e = min(n_boot, s + step)
        out[s:e] = x[rng.integers(0, m, size=(e - s, m))].mean(axis=1)
    return out


def _entry_rows(spans: pd.DataFrame) -> tuple[np.ndarray, Any]:
    tree = span_tree(spans)
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    par = tree.parent
    psvc = np.where(par >= 0, svc[np.maximum(par, 0)], None)
    return (par < 0) | (psvc != svc), tree


def version_regressions(
    spans: pd.DataFrame,
    attribute: str = "service.version",
    *,
    incident: tuple[Any, Any] | None = None,
    tolerance: str | pd.Timedelta = "15min",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    **critical_path_kwargs: Any,
) -> pd.DataFrame:
    """Per service and version: how the version behaved and how it changed from the previous one.

    The version of a span is ``attribute`` in its resource (else its attributes); for
    ``"service.version"`` also ``faas.version`` and Elastic Beanstalk's ``version_label``. The
    *calls* of a service are its entry spans (a root, or a span whose parent is in another
    service). Columns: ``service``, ``version``, ``previous_version`` (the version first seen just
    before, <NA> for the first), ``first_seen``/``last_seen`` (start of its first/last call — the
    first is a deploy marker), ``calls``, ``traces``, ``p50_ms``, ``p95_ms`` (inverted-cdf),
    ``error_rate``, ``cp_ms`` (critical-path ms of the service's spans per trace it served whose
    critical path did not fail), and
    for each of those ``delta_<m>`` with ``delta_<m>_lo``/``_hi`` (percentile bootstrap, seeded:
    calls resampled for latency and errors, traces for ``cp_ms``); ``regression`` (some interval of
    p50, p95, error rate or cp_ms lies above 0) and ``in_incident`` (first seen inside
    ``incident = (start, end)`` widened by ``tolerance`` before the start; <NA> without an incident
    and for the first version of a service, whose first call only marks the start of the data).

    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": [f"{i:032x}" for i in range(1, 7)], "span_id": [f"{i:016x}" for i in range(1, 7)],
    ...     "service": ["pay"] * 6, "name": ["charge"] * 6,
    ...     "start": [i * 1000 * ms for i in range(6)],
    ...     "end": [i * 1000 * ms + d * ms for i, d in enumerate([10, 12, 11, 50, 52, 51])],
    ...     "resource": [{"service.version": v} for v in ["1.0"] * 3 + ["1.1"] * 3]})
    >>> r = tk.version_regressions(spans, n_boot=200)
    >>> r[["version", "previous_version", "p50_ms", "delta_p50_ms", "regression"]].values.tolist()
    [['1.0', <NA>, 11.0, nan, False], ['1.1', '1.0', 51.0, 40.0, True]]
    """
    _check_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "version_regressions spans")
    if not (0 < ci < 1):
        raise TraceKitError(f"version_regressions: ci must be in (0, 1), got {ci!r}")
    if n_boot < 1:
        raise TraceKitError(f"version_regressions: n_boot must be >= 1, got {n_boot!r}")
    keys = (attribute,) + (_VERSION_KEYS[1:] if attribute == "service.version" else ())
    ver = _lookup(spans, keys)
    ver = np.array([None if v is None else _label(v) for v in ver], dtype=object)
    entry, tree = _entry_rows(spans)
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    use = entry & (ver != None) & (svc != None)  # noqa: E711
    cols = ["service", "version", "previous_version", "first_seen", "last_seen", "calls", "traces", "p50_ms", "p95_ms",
            "error_rate", "cp_ms"]
    metrics = ("p50_ms", "p95_ms", "error_rate", "cp_ms")
    rng = np.random.default_rng(seed)
    lo_q, hi_q = (1 - ci) / 2 * 100, (1 + ci) / 2 * 100
    calls = pd.DataFrame({
        "service": svc[use], "version": ver[use], "trace": tree.trace[use],
        "start": spans["start"].to_numpy()[use],
        "dur": spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)[use],
        "err": _err_flags(spans)[use],
    })
    # critical-path ms per (service, version, trace)
    cp = critical_path(spans, **critical_path_kwargs)
    rowkey = pd.DataFrame({"trace_id": spans["trace_id"].astype(object).to_numpy(),
                           "span_id": spans["span_id"].astype(object).to_numpy(), "version": ver,
                           "trace": tree.trace}).drop_duplicates(["trace_id", "span_id"])
    cpv = pd.DataFrame({"trace_id": cp["trace_id"].astype(object).to_numpy(), "span_id": cp["span_id"].astype(object).to_numpy(),
                        "service": cp["service"].astype(object).to_numpy(), "ms": cp["duration_ms"].to_numpy(np.float64)})
    cpv = cpv.merge(rowkey, on=["trace_id", "span_id"], how="left")
    cp_sum = cpv.dropna(subset=["version"]).groupby(["service", "version", "trace"], sort=False)["ms"].sum()
    # traces with a critical path: one whose path failed has no cp time to average (not 0 ms)
    has_cp = np.zeros(len(tree.trace_ids), dtype=bool)
    has_cp[cpv["trace"].dropna().to_numpy(dtype=np.int64)] = True
    rows = []
    draws: dict[tuple, dict[str, np.ndarray]] = {}
    for (s, v), g in calls.groupby(["service", "version"], sort=True):
        dur = np.sort(g["dur"].dropna().to_numpy())
        e = g["err"].to_numpy()
        tr = _usort(g["trace"].to_numpy())
        tr_cp = tr[has_cp[tr]]
        cpt = cp_sum.get(s, None)
        per_trace = np.zeros(len(tr_cp))
        if cpt is not None and v in cpt.index.get_level_values(0):
            sub = cpt.loc[v]
            per_trace = sub.reindex(tr_cp).fillna(0.0).to_numpy(np.float64)
        p50, d50 = quantile_draws(dur, 0.5, rng.random(n_boot))
        p95, d95 = quantile_draws(dur, 0.95, rng.random(n_boot))
        er = float(e.mean()) if len(e) else np.nan
        dre = rng.binomial(len(e), er, n_boot) / len(e) if len(e) else np.full(n_boot, np.nan)
        cpm = float(per_trace.mean()) if len(per_trace) else np.nan
        rows.append({"service": s, "version": v, "first_seen": g["start"].min(), "last_seen": g["start"].max(),
                     "calls": len(g), "traces": len(tr), "p50_ms": p50, "p95_ms": p95, "error_rate": er, "cp_ms": cpm})
        draws[(s, v)] = {"p50_ms": d50, "p95_ms": d95, "error_rate": dre, "cp_ms": _boot_mean(per_trace, n_boot, rng)}
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "previous_version"])
    if not len(out):
        out["previous_version"] = pd.Series([], dtype=object)
        for mname in metrics:
            for suf in ("", "_lo", "_hi"):
                out[f"delta_{mname}{suf}"] = pd.Series([], dtype=np.float64)
        out["regression"] = pd.Series([], dtype=bool)
        out["in_incident"] = pd.Series([], dtype="boolean")
        return out[cols + [c for c in out.columns if c not in cols]]
    out["first_seen"] = pd.to_datetime(out["first_seen"], utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    out = out.sort_values(["service", "first_seen", "version"], kind="stable").reset_index(drop=True)
    prev = out.groupby("service")["version"].shift(1)
    out.insert(2, "previous_version", prev.astype(object).where(prev.notna(), pd.NA))
    for mname in metrics:
        dv, dl, dh = np.full(len(out), np.nan), np.full(len(out), np.nan), np.full(len(out), np.nan)
        for i, (s, v, pv) in enumerate(zip(out["service"], out["version"], out["previous_version"], strict=True)):
            if pv is pd.NA:
                continue
            cur = out.at[i, mname]
            old = out.loc[(out["service"] == s) & (out["version"] == pv), mname].iloc[0]
            dv[i] = cur - old
            diff = draws[(s, v)][mname] - draws[(s, pv)][mname]
            if not np.isnan(diff).all():
                dl[i], dh[i] = np.nanpercentile(diff, [lo_q, hi_q])
        out[f"delta_{mname}"], out[f"delta_{mname}_lo"], out[f"delta_{mname}_hi"] = dv, dl, dh
    out["regression"] = np.zeros(len(out), bool)
    for mname in metrics:
        out["regression"] |= (out[f"delta_{mname}_lo"] > 0).to_numpy()
    if incident is not None:
        try:
            a, b = (pd.Timestamp(x) for x in incident)
            a = a.tz_localize("UTC") if a.tzinfo is None else a
            b = b.tz_localize("UTC") if b.tzinfo is None else b
            tol = pd.Timedelta(tolerance)
        except (TypeError, ValueError) as ex:
            raise TraceKitError(f"version_regressions: incident must be (start, end) timestamps, got {incident!r}: {ex}") from ex
        hit = ((out["first_seen"] >= a - tol) & (out["first_seen"] <= b)).astype("boolean")
        out["in_incident"] = hit.where(out["previous_version"].notna(), pd.NA)  # a first version is no deploy
    else:
        out["in_incident"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out.attrs["params"] = {"attribute": attribute, "n_boot": n_boot, "ci": ci, "seed": seed, **critical_path_kwargs}
    return out


# ---------------------------------------------------------------------------------------------
# cold starts


def _attr(spans: pd.DataFrame, col: str, key: str) -> np.ndarray:
    if col not in spans.columns:
        return np.full(len(spans), None, dtype=object)
    return np.array([d.get(key) if isinstance(d, dict) else None for d in spans[col].to_numpy(dtype=object)], dtype=object)


def _function_name(spans: pd.DataFrame) -> np.ndarray:
    fn = _lookup(spans, ("faas.name", "aws.lambda.function_name", "aws.function_name"))
    arn = _lookup(spans, ("aws.function_arn", "resource_arn", "cloud.resource_id"))
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    out = np.empty(len(spans), dtype=object)
    for i, (f, a, s) in enumerate(zip(fn, arn, svc, strict=True)):
        if f is None and isinstance(a, str) and ":function:" in a:
            f = a.split(":function:", 1)[1].split(":", 1)[0]
        out[i] = str(f) if f is not None else s
    return out


def lambda_invocations(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per serverless function invocation found in ``spans``, cold or warm.

    An invocation is a span with a ``faas.coldstart`` attribute (OTLP), an X-Ray function segment
    (``origin`` ``AWS::Lambda::Function``), or an entry span of a resource on ``aws_lambda`` /
    with ``faas.name``. It is *cold* when ``faas.coldstart`` is true or an ``Initialization`` span
    is its child (or its parent's child: X-Ray's newer layout puts ``Initialization`` under the
    ``AWS::Lambda`` service segment). Columns: ``trace_id``, ``span_id``, ``function``, ``start``,
    ``duration_ms``, ``cold``, ``init_ms`` (duration of its Initialization spans, NaN if none),
    ``init_span_id``.

    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["1" * 32] * 3 + ["2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16, None], "service": ["fn"] * 4,
    ...     "name": ["fn", "Initialization", "work", "fn"],
    ...     "start": [0, 0, 300 * ms, 0], "end": [320 * ms, 300 * ms, 320 * ms, 20 * ms],
    ...     "attributes": [{"origin": "AWS::Lambda::Function"}, {}, {}, {"origin": "AWS::Lambda::Function"}]})
    >>> from tracekit.analysis.attribution import lambda_invocations
    >>> lambda_invocations(spans)[["function", "cold", "init_ms", "duration_ms"]].values.tolist()
    [['fn', True, 300.0, 320.0], ['fn', False, nan, 20.0]]
    """
    _check_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "cold_starts spans")
    n = len(spans)
    entry, tree = _entry_rows(spans)
    par = tree.parent
    name = spans["name"].to_numpy(dtype=object, na_value="")
    origin = _attr(spans, "attributes", "origin")
    flag = _lookup(spans.drop(columns=["resource"], errors="ignore"), ("faas.coldstart",))
    platform = _lookup(spans, ("cloud.platform",))
    faas = _lookup(spans, ("faas.name",))
    is_init = name == "Initialization"
    inv = (origin == "AWS::Lambda::Function") | (flag != None) | (  # noqa: E711
        entry & ((platform == "aws_lambda") | (faas != None)) & ~is_init)  # noqa: E711
    inv &= ~is_init
    cold = np.array([f is True or (isinstance(f, str) and f.lower() == "true") for f in flag], dtype=bool)
    init_ms = np.full(n, np.nan)
    init_sid = np.full(n, None, dtype=object)
    dur = spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    sid = spans["span_id"].to_numpy(dtype=object, na_value=None)
    owner = np.full(n, -1, np.int64)  # invocation row of each Initialization span
    ip = np.flatnonzero(is_init)
    p = par[ip]
    direct = (p >= 0) & inv[np.maximum(p, 0)]
    owner[ip[direct]] = p[direct]
    # sibling layout: Initialization under the AWS::Lambda segment, the function segment beside it
    rest = ip[~direct & (p >= 0)]
    if len(rest):
        inv_rows = np.flatnonzero(inv & (par >= 0))
        by_parent = dict(zip(par[inv_rows].tolist(), inv_rows.tolist(), strict=True))
        for r in rest.tolist():
            o = by_parent.get(int(par[r]), -1)
            owner[r] = o
    has = owner >= 0
    if has.any():
        o = owner[has]
        cold[o] = True
        sums = np.bincount(o, weights=np.nan_to_num(dur[has]), minlength=n)
        uo = _usort(o)
        init_ms[uo] = sums[uo]
        init_sid[o] = sid[has]
    rows = np.flatnonzero(inv)
    return pd.DataFrame({
        "trace_id": spans["trace_id"].to_numpy(dtype=object)[rows], "span_id": sid[rows],
        "function": _function_name(spans)[rows], "start": spans["start"].iloc[rows].reset_index(drop=True),
        "duration_ms": dur[rows], "cold": cold[rows], "init_ms": init_ms[rows], "init_span_id": init_sid[rows],
    })


def _init_on_path(spans: pd.DataFrame, inv: pd.DataFrame, cp: pd.DataFrame) -> np.ndarray:
    """Critical-path ms during each cold invocation's Initialization span: its overlap with the
    path sections of the Initialization span, its parent and its grandparent in the same service
    (X-Ray records Initialization *before* the function segment starts, inside the ``AWS::Lambda``
    segment's time, so the time sits in that segment's own section). NaN for warm invocations
    and for cold ones known only from a flag; 0 when the initialisation held nothing up."""
    out = np.where(inv["init_span_id"].notna().to_numpy(), 0.0, np.nan)
    rows = np.flatnonzero(inv["init_span_id"].notna().to_numpy())
    if not len(rows) or not len(cp):
        return out
    key = pd.MultiIndex.from_arrays([spans["trace_id"].astype(object).to_numpy(), spans["span_id"].astype(object).to_numpy()])
    t0 = int(_ns_of(spans["start"]).min())  # times relative to the first start stay exact in float64

    def rel(col: pd.Series) -> np.ndarray:
        na = col.isna().to_numpy()
        return np.where(na, np.nan, (_ns_of(col) - t0).astype(np.float64))

    info = pd.DataFrame({"parent": spans["parent_id"].astype(object).to_numpy(), "service": spans["service"].astype(object).to_numpy(),
                         "s": rel(spans["start"]), "e": rel(spans["end"])}, index=key)
    info = info[~info.index.duplicated()]
    tid = inv["trace_id"].to_numpy(object)[rows]
    i0 = inv["init_span_id"].to_numpy(object)[rows]
    me = info.reindex(pd.MultiIndex.from_arrays([tid, i0]))
    p1 = me["parent"].to_numpy(object)
    pi = info.reindex(pd.MultiIndex.from_arrays([tid, p1]))
    p2 = np.where(pi["service"].to_numpy(object) == me["service"].to_numpy(object), pi["parent"].to_numpy(object), None)
    cand = pd.DataFrame({"row": np.tile(rows, 3), "trace_id": np.tile(tid, 3), "span_id": np.concatenate([i0, p1, p2]),
                         "is_": np.tile(me["s"].to_numpy(np.float64), 3), "ie": np.tile(me["e"].to_numpy(np.float64), 3)})
    cand = cand[pd.notna(cand["span_id"])].drop_duplicates(["row", "span_id"])
    sec = pd.DataFrame({"trace_id": cp["trace_id"].astype(object).to_numpy(), "span_id": cp["span_id"].astype(object).to_numpy(),
                        "cs": rel(cp["start"]), "ce": rel(cp["end"])})
    j = cand.merge(sec, on=["trace_id", "span_id"], how="inner")
    ov = np.clip(np.minimum(j["ce"], j["ie"]) - np.maximum(j["cs"], j["is_"]), 0, None) / 1e6
    add = np.bincount(j["row"].to_numpy(np.int64), weights=np.nan_to_num(ov.to_numpy(np.float64)), minlength=len(out))
    out[rows] = add[rows]
    return out


def _ns_of(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).view("int64") if len(s) else np.zeros(0, np.int64)


def cold_starts(
    spans: pd.DataFrame,
    *,
    slowest: float = 0.05,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    **critical_path_kwargs: Any,
) -> pd.DataFrame:
    """Serverless cold starts per function and what they cost.

    One row per function (:func:`lambda_invocations`): ``invocations``, ``cold_starts``,
    ``cold_share``; ``init_p50_ms`` (median of the Initialization spans, inverted-cdf, with an exact
    order-statistic bootstrap interval ``init_p50_lo``/``_hi``), ``init_mean_ms``; ``added_ms`` = mean
    duration of cold − warm invocations with a bootstrap interval (``added_ms_lo``/``_hi``);
    ``cp_added_ms``: mean critical-path ms of the initialisation per cold start (0 when the
    function runs asynchronously, e.g. an SQS consumer, and so does not hold up the request);
    ``slow_traces`` (the slowest ``slowest`` share of traces by duration), ``slow_cold_share``
    (share of them with a cold start of the function) against ``trace_cold_share`` (all traces).

    >>> import tracekit as tk
    >>> spans = tk.examples.load("cold-starts-small")
    >>> cs = tk.cold_starts(spans, n_boot=100)
    >>> cs[["function", "invocations", "cold_starts"]].values.tolist()
    [['fulfillment', 12, 2]]
    """
    if not (0 < slowest <= 1):
        raise TraceKitError(f"cold_starts: slowest must be in (0, 1], got {slowest!r}")
    if not (0 < ci < 1) or n_boot < 1:
        raise TraceKitError(f"cold_starts: need 0 < ci < 1 and n_boot >= 1, got {ci!r}, {n_boot!r}")
    inv = lambda_invocations(spans)
    cols = ["function", "invocations", "cold_starts", "cold_share", "init_p50_ms", "init_p50_lo", "init_p50_hi",
            "init_mean_ms", "added_ms",
            "added_ms_lo", "added_ms_hi", "cp_added_ms", "slow_traces", "slow_cold_share", "trace_cold_share"]
    if not len(inv):
        return pd.DataFrame({c: pd.Series([], dtype=object if c == "function" else np.float64) for c in cols})
    rng = np.random.default_rng(seed)
    lo_q, hi_q = (1 - ci) / 2 * 100, (1 + ci) / 2 * 100
    summ = trace_summary(spans)
    tdur = summ["duration_ms"].to_numpy(np.float64)
    n_tr = len(summ)
    k = max(1, int(np.ceil(slowest * n_tr)))
    slow_ids = set(summ["trace_id"].astype(object).to_numpy()[np.argsort(-np.nan_to_num(tdur, nan=-np.inf), kind="stable")[:k]])
    cp = critical_path(spans, **critical_path_kwargs)
    inv["cp_added_ms"] = _init_on_path(spans, inv, cp)
    rows = []
    for fn, g in inv.groupby("function", sort=True):
        c = g["cold"].to_numpy(bool)
        d = g["duration_ms"].to_numpy(np.float64)
        init = g["init_ms"].to_numpy(np.float64)[c]
        dc, dw = d[c & ~np.isnan(d)], d[~c & ~np.isnan(d)]
        added = float(dc.mean() - dw.mean()) if len(dc) and len(dw) else np.nan
        if len(dc) and len(dw):
            bd = _boot_mean(dc, n_boot, rng) - _boot_mean(dw, n_boot, rng)
            alo, ahi = np.percentile(bd, [lo_q, hi_q])
        else:
            alo = ahi = np.nan
        ii = np.sort(init[~np.isnan(init)])
        p50, dr = quantile_draws(ii, 0.5, rng.random(n_boot))
        i_lo, i_hi = np.percentile(dr, [lo_q, hi_q]) if len(ii) else (np.nan, np.nan)
        cpa = g["cp_added_ms"].to_numpy(np.float64)[c]
        cp_add = float(np.nanmean(cpa)) if (~np.isnan(cpa)).any() else np.nan
        cold_tr = set(g["trace_id"].to_numpy(object)[c])
        rows.append({
            "function": fn, "invocations": len(g), "cold_starts": int(c.sum()), "cold_share": float(c.mean()),
            "init_p50_ms": p50, "init_p50_lo": float(i_lo), "init_p50_hi": float(i_hi),
            "init_mean_ms": float(np.nanmean(init)) if (~np.isnan(init)).any() else np.nan,
            "added_ms": added, "added_ms_lo": float(alo), "added_ms_hi": float(ahi), "cp_added_ms": cp_add,
            "slow_traces": k, "slow_cold_share": len(cold_tr & slow_ids) / k, "trace_cold_share": len(cold_tr) / n_tr,
        })
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["params"] = {"slowest": slowest, "n_boot": n_boot, "ci": ci, "seed": seed, **critical_path_kwargs}
    return out
