"""Lambda invocations and cold starts (:func:`lambda_invocations`, :func:`cold_starts`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...core import (
    DEFAULT_N_BOOT,
    boot_args,
    count_arg,
    frame_cached,
    interval_ends,
    number_arg,
    quantile_draws,
    require_columns,
    result_table,
    span_tree,
    trace_outcomes,
)
from ...core.attributes import attribute_values
from ...schema import shared_attr
from ..changes import fitting_freq
from ..critical_paths import critical_path
from .common import boot_mean, entry_rows, lookup_keys, usort

#: public names; the other module-level names are helpers shared within the package
__all__ = ["lambda_invocations", "cold_starts", "cold_start_changes", "LAMBDA_INVOCATIONS", "COLD_STARTS",
           "COLD_START_CHANGES"]


def _attr(spans: pd.DataFrame, col: str, key: str) -> np.ndarray:
    if col not in spans.columns:
        return np.full(len(spans), None, dtype=object)
    out = np.empty(len(spans), dtype=object)
    out[:] = attribute_values(spans, key, col)
    return out


def _function_name(spans: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The function of each span at positions ``rows`` (invocations): its faas / Lambda name, else the name in its
    function ARN, else its service (looked up for those rows only: for every span it was 86 ms of a 0.34 s
    cold_starts on the bundled incident's 29,596 spans, 344 of which invoke a function)."""
    fn = lookup_keys(spans, ("faas.name", "aws.lambda.function_name", "aws.function_name"), rows)
    arn = lookup_keys(spans, ("aws.function_arn", "resource_arn", "cloud.resource_id"), rows)
    svc = spans["service"].to_numpy(dtype=object, na_value=None)[rows]
    out = np.empty(len(rows), dtype=object)
    for i, (f, a, s) in enumerate(zip(fn, arn, svc, strict=True)):
        if f is None and isinstance(a, str) and ":function:" in a:
            f = a.split(":function:", 1)[1].split(":", 1)[0]
        out[i] = str(f) if f is not None else s
    return out


#: the columns of :func:`lambda_invocations`
LAMBDA_INVOCATIONS = result_table("lambda_invocations", "one row per Lambda invocation", [
    ('trace_id', 'string', '', '32-hex trace id'),
    ('span_id', 'string', '', "the invocation's span"),
    ('function', 'string', '', 'Lambda function'),
    ('start', 'datetime64[ns, UTC]', 'ns, UTC', 'invocation start'),
    ('duration_ms', 'float64', 'ms', 'invocation span duration'),
    ('cold', 'bool', '', 'a cold start'),
    ('init_ms', 'float64', 'ms', 'duration of its Initialization spans (NaN if none)'),
    ('init_span_id', 'string', '', 'its Initialization span (<NA> if none)'),
])
#: the columns of :func:`cold_starts`
COLD_STARTS = result_table("cold_starts", "one row per Lambda function", [
    ('function', 'string', '', 'Lambda function'),
    ('invocations', 'int64', 'invocations', 'invocations seen'),
    ('cold_starts', 'int64', 'invocations', 'of them, cold'),
    ('cold_share', 'float64', '', 'cold_starts / invocations'),
    ('init_p50_ms', 'float64', 'ms', 'median Initialization duration (core.percentile)'),
    ('init_p50_lo', 'float64', 'ms', 'lower bound of its exact bootstrap interval'),
    ('init_p50_hi', 'float64', 'ms', 'upper bound of its exact bootstrap interval'),
    ('init_mean_ms', 'float64', 'ms', 'mean Initialization duration'),
    ('added_ms', 'float64', 'ms', 'mean duration of cold minus warm invocations'),
    ('added_ms_lo', 'float64', 'ms', 'lower bound of its bootstrap interval; NaN with fewer than 2 cold or 2 warm invocations'),
    ('added_ms_hi', 'float64', 'ms', 'upper bound of its bootstrap interval; NaN with fewer than 2 cold or 2 warm invocations'),
    ('cp_added_ms', 'float64', 'ms', "mean critical-path ms of the initialisation per cold start, on the request's path "
                                     '(0 for asynchronous work: a consumer in a trace of its own)'),
    ('slow_traces', 'int64', 'traces', 'the slowest share of traces by request_ms'),
    ('slow_cold_share', 'float64', '', 'share of the slow traces with a cold start of the function'),
    ('trace_cold_share', 'float64', '', 'share of all traces with one'),
])


#: the columns every function here needs (each names itself when one is missing: lambda_invocations said cold_starts)
_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")


def lambda_invocations(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per serverless function invocation found in ``spans``, cold or warm.

    An invocation is a span with a ``faas.coldstart`` attribute (OTLP), an X-Ray function segment
    (``origin`` ``AWS::Lambda::Function``), or an entry span of a resource on ``aws_lambda`` /
    with ``faas.name``. It is *cold* when ``faas.coldstart`` is true or an ``Initialization`` span
    is its child (or its parent's child: X-Ray's newer layout puts ``Initialization`` under the
    ``AWS::Lambda`` service segment). Columns: ``trace_id``, ``span_id``, ``function``, ``start``,
    ``duration_ms``, ``cold``, ``init_ms`` (duration of its Initialization spans, NaN if none),
    ``init_span_id``.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).

    Returns
    -------
    pandas.DataFrame
        One row per serverless function invocation found in ``spans``, cold or warm.

    Examples
    --------
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
    require_columns(spans, _NEEDED, "lambda_invocations")
    # computed once per frame: cold_starts, cold_start_changes and the postmortem's cold-start times all read it
    return frame_cached(spans, "lambda_invocations", None, _INVOCATION_INPUTS, lambda: _lambda_invocations(spans),
                        by_trace=_invocations_of)


#: the columns lambda_invocations reads (of attributes and resource the cache hashes no content, but a frame served
#: from another's result must hold the same: core.cache)
_INVOCATION_INPUTS = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "duration_ms",
                      "attributes", "resource")


def _invocations_of(inv: pd.DataFrame, trace_ids: pd.Index) -> pd.DataFrame:
    """The invocations of some (whole) traces, from those of a frame holding them."""
    return inv[inv["trace_id"].isin(trace_ids)].reset_index(drop=True)


def _lambda_invocations(spans: pd.DataFrame) -> pd.DataFrame:
    n = len(spans)
    entry, tree = entry_rows(spans)
    par = tree.parent
    name = spans["name"].to_numpy(dtype=object, na_value="")
    origin = _attr(spans, "attributes", "origin")
    flag = lookup_keys(spans, ("faas.coldstart",), columns=("attributes",))
    platform = lookup_keys(spans, ("cloud.platform",))
    faas = lookup_keys(spans, ("faas.name",))
    is_init = name == "Initialization"
    inv = (origin == "AWS::Lambda::Function") | (flag != None) | (  # noqa: E711
        entry & ((platform == "aws_lambda") | (faas != None)) & ~is_init)  # noqa: E711
    inv &= ~is_init & ~tree.duplicate  # a span exported twice is one invocation (kernel tree)
    cold = np.array([f is True or (isinstance(f, str) and f.lower() == "true") for f in flag], dtype=bool)
    init_ms = np.full(n, np.nan)
    init_sid = np.full(n, None, dtype=object)
    dur = spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    sid = spans["span_id"].to_numpy(dtype=object, na_value=None)
    owner = np.full(n, -1, np.int64)  # invocation row of each Initialization span
    ip = np.flatnonzero(is_init & ~tree.duplicate)  # an Initialization span read twice is one: its time once (was summed
    # over the copies, 300 ms read twice said init_ms 600), the copy the tree chose (the longer)
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
        uo = usort(o)
        init_ms[uo] = sums[uo]
        init_sid[o] = sid[has]
    rows = np.flatnonzero(inv)
    return pd.DataFrame({
        "trace_id": spans["trace_id"].to_numpy(dtype=object)[rows], "span_id": sid[rows],
        "function": _function_name(spans, rows), "start": spans["start"].iloc[rows].reset_index(drop=True),
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
    if "request" in cp.columns:  # the request's path only (critical_path_breakdown's): a consumer in a trace of its
        # own (SQS -> Lambda, linked) is asynchronous work, its initialisation holds no request up (was its whole time)
        cp = cp[cp["request"].to_numpy(dtype=bool, na_value=False)]
    if not len(rows) or not len(cp):
        return out
    t0 = int(_ns_of(spans["start"]).min())  # times relative to the first start stay exact in float64
    # only the spans and path sections of the traces holding these invocations are looked up (an index of (trace,
    # span) over the whole frame was ~40 ms of cold_starts on the bundled incident: 29,596 spans, 4 cold starts)
    tid = inv["trace_id"].to_numpy(object)[rows]
    # of a span read twice, the copy the tree chose (core.tree): the first row was read, so the Initialization span's
    # overlap with the path was its 10..30 or its 10..90 ms copy's by row order
    spans = spans[spans["trace_id"].isin(tid).to_numpy(dtype=bool) & ~span_tree(spans).duplicate]
    cp = cp[cp["trace_id"].isin(tid).to_numpy(dtype=bool)]
    key = pd.MultiIndex.from_arrays([spans["trace_id"].astype(object).to_numpy(), spans["span_id"].astype(object).to_numpy()])

    def rel(col: pd.Series) -> np.ndarray:
        na = col.isna().to_numpy()
        return np.where(na, np.nan, (_ns_of(col) - t0).astype(np.float64))

    info = pd.DataFrame({"parent": spans["parent_id"].astype(object).to_numpy(), "service": spans["service"].astype(object).to_numpy(),
                         "s": rel(spans["start"]), "e": rel(spans["end"])}, index=key)
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
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = 0.95,
    seed: int = 0,
    **critical_path_kwargs: Any,
) -> pd.DataFrame:
    """Serverless cold starts per function and what they cost.

    One row per function (:func:`lambda_invocations`): ``invocations``, ``cold_starts``,
    ``cold_share``; ``init_p50_ms`` (median of the Initialization spans, inverted-cdf, with an exact
    order-statistic bootstrap interval ``init_p50_lo``/``_hi``), ``init_mean_ms``; ``added_ms`` = mean
    duration of cold − warm invocations with a bootstrap interval (``added_ms_lo``/``_hi``; NaN with fewer than
    2 cold or 2 warm invocations: resampling one cold start draws it every time, so the interval held the warm
    ones' spread only — sampled-errors' single cold start read "+670 ms [+670 ms, +671 ms]");
    ``cp_added_ms``: mean critical-path ms of the initialisation per cold start, on the request's path (0 when the
    function runs asynchronously, e.g. an SQS consumer, in the producer's trace or a trace of its own, and so does
    not hold up the request);
    ``slow_traces`` (the slowest ``slowest`` share of traces by request latency, ``request_ms``), ``slow_cold_share``
    (share of them with a cold start of the function) against ``trace_cold_share`` (all traces).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    slowest : float, default 0.05
        The share of slowest traces (by ``request_ms``) the cold-start share is also measured in, in (0, 1].
    n_boot : int, default 1000
        Bootstrap resamples for the intervals (default :data:`tracekit.core.DEFAULT_N_BOOT`); 0: no intervals (the
        ``_lo``/``_hi`` columns NaN), as in :func:`tracekit.what_if`.
    ci : float, default 0.95
        Confidence level of the intervals, in (0, 1).
    seed : int, default 0
        Seed of the bootstrap's random generator (results are reproducible).
    **critical_path_kwargs : Any
        Settings passed to :func:`tracekit.critical_path`.

    Returns
    -------
    pandas.DataFrame
        Serverless cold starts per function and what they cost.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("cold-starts-small")
    >>> cs = tk.cold_starts(spans, n_boot=100)
    >>> cs[["function", "invocations", "cold_starts"]].values.tolist()
    [['fulfillment', 12, 2]]
    """
    # a share in (0, 1]: a string was a bare TypeError, True was taken as 1
    slowest = number_arg(slowest, "slowest", "cold_starts", low=0, high=1, low_open=True)
    n_boot, ci = boot_args(n_boot, ci, "cold_starts")  # 0: no intervals (NaN), as what_if and the tree diff take it
    require_columns(spans, _NEEDED, "cold_starts")
    inv = lambda_invocations(spans)
    cols = ["function", "invocations", "cold_starts", "cold_share", "init_p50_ms", "init_p50_lo", "init_p50_hi",
            "init_mean_ms", "added_ms",
            "added_ms_lo", "added_ms_hi", "cp_added_ms", "slow_traces", "slow_cold_share", "trace_cold_share"]
    if not len(inv):
        return COLD_STARTS.typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}))  # the declared dtypes
    rng = np.random.default_rng(seed)
    summ = trace_outcomes(spans)
    tdur = summ["request_ms"].to_numpy(np.float64)
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
        if len(dc) and len(dw) and n_boot:
            bd = boot_mean(dc, n_boot, rng) - boot_mean(dw, n_boot, rng)  # drawn either way: the same random stream
            # one value resampled is that value: no spread to draw an interval from
            alo, ahi = interval_ends(bd, ci) if len(dc) >= 2 and len(dw) >= 2 else (np.nan, np.nan)
        else:
            alo = ahi = np.nan
        ii = np.sort(init[~np.isnan(init)])
        p50, dr = quantile_draws(ii, 0.5, rng.random(n_boot))
        i_lo, i_hi = interval_ends(dr, ci) if len(ii) and n_boot else (np.nan, np.nan)
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
    out = COLD_STARTS.typed(pd.DataFrame(rows, columns=cols))
    out.attrs["params"] = shared_attr({"slowest": slowest, "n_boot": n_boot, "ci": ci, "seed": seed, **critical_path_kwargs})
    return out


#: the columns of :func:`cold_start_changes`
COLD_START_CHANGES = result_table("cold_start_changes", "one row per Lambda function with a cold start", [
    ('function', 'string', '', 'Lambda function'),
    ('onset', 'datetime64[ns, UTC]', 'ns, UTC', 'start of the time bucket where its cold share rose most against the rest'),
    ('recovery', 'datetime64[ns, UTC]', 'ns, UTC', 'the bucket after that window (NaT: to the end of the data)'),
    ('cold_inside', 'int64', 'invocations', 'cold invocations in the window'),
    ('invocations_inside', 'int64', 'invocations', 'invocations in the window'),
    ('cold_outside', 'int64', 'invocations', 'cold invocations outside it'),
    ('invocations_outside', 'int64', 'invocations', 'invocations outside it'),
    ('p_value', 'float64', '', 'permutation p-value of the largest rise (cold labels shuffled over the invocations), '
                               "Holm-adjusted over the functions; 1 when there are too few buckets"),
])


def cold_start_changes(spans: pd.DataFrame, *, freq: str = "1min", min_buckets: int = 2, n_perm: int = 9999,
                       seed: int = 0) -> pd.DataFrame:
    """Did a function's share of cold invocations move within the data? Its most raised window and a p-value.

    Without a baseline, cold starts at their usual rate (a new execution environment now and then) are not a change;
    a scale-out is a stretch where far more invocations are cold than in the rest of the data. Per function with a
    cold start, invocations (:func:`lambda_invocations`) are counted in ``freq`` buckets; every window of buckets
    with at least ``min_buckets`` buckets inside and outside is scored by the standardised difference of cold shares
    (two-proportion z: inside − outside, one-sided: a rise), and the largest is the window. Its p-value is a
    permutation test — the cold labels shuffled over the function's invocations (exchangeable when the share did not
    move), the same maximum taken; the per-bucket cold counts of a shuffle are drawn directly (multivariate
    hypergeometric: memory ~ permutations × buckets, whatever the number of invocations), in chunks, stopping once
    10 shuffles reach the observed maximum (Besag–Clifford: p = 10 / shuffles done; else (1 + hits) / (1 + n_perm))
    — Holm-adjusted over the functions. Over more than :data:`~tracekit.analysis.changes.MAX_BUCKETS` buckets of
    ``freq`` a coarser round bucket is used (the scan costs ~ buckets² per shuffle), said in ``attrs["params"]``.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    freq : str, default "1min"
        Time bucket.
    min_buckets : int, default 2
        Fewest buckets inside and outside a window.
    n_perm : int, default 9999
        Most permutations (the smallest p-value is 1 / (n_perm + 1), before Holm).
    seed : int, default 0
        Seed of the permutations.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`COLD_START_CHANGES`, one row per function with a cold start, smallest p-value first.

    Examples
    --------
    >>> import tracekit as tk
    >>> sim = tk.simulate.simulate("cold-starts", 400, seed=3, window_s=900.0)
    >>> r = cold_start_changes(sim.spans).iloc[0]
    >>> r["function"], bool(r["p_value"] < 0.01)
    ('fulfillment', True)
    >>> t0 = sim.truth.scale_out_time
    >>> abs(r["onset"] - t0) <= pd.Timedelta("3min")
    True
    """
    from ...core import holm

    n_perm = count_arg(n_perm, "n_perm", "cold_start_changes", minimum=1)
    min_buckets = count_arg(min_buckets, "min_buckets", "cold_start_changes", minimum=1)
    require_columns(spans, _NEEDED, "cold_start_changes")
    inv = lambda_invocations(spans)
    cols = COLD_START_CHANGES.column_names
    rows = []
    asked, freq_note = freq, None
    if len(inv):
        freq, freq_note = fitting_freq(inv["start"], freq, what="the invocations")
        step = pd.Timedelta(freq)
        t0 = inv["start"].min().floor(step)
        rng = np.random.default_rng(seed)
        for fn, g in inv.groupby("function", sort=True):
            cold = g["cold"].to_numpy(dtype=bool)
            if not cold.any():
                continue
            b = ((g["start"] - t0) // step).to_numpy(dtype=np.int64)
            nb = int(b.max()) + 1
            n = np.bincount(b, minlength=nb).astype(float)
            best = _rise_scan(n, np.bincount(b[cold], minlength=nb).astype(float)[None, :], min_buckets)
            row = dict(function=str(fn), onset=pd.NaT, recovery=pd.NaT, cold_inside=0, invocations_inside=0,
                       cold_outside=int(cold.sum()), invocations_outside=len(g), p_value=1.0)
            if best is not None and np.isfinite(best[0][0]):
                z, a, e = best[0][0], int(best[1][0]), int(best[2][0])
                inside = (b >= a) & (b < e)
                row.update(onset=t0 + a * step, recovery=t0 + e * step if e < nb else pd.NaT,
                           cold_inside=int(cold[inside].sum()), invocations_inside=int(inside.sum()),
                           cold_outside=int(cold[~inside].sum()), invocations_outside=int((~inside).sum()),
                           p_value=_shuffled_p(n, int(cold.sum()), z, min_buckets, n_perm, rng))
            rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        out["p_value"] = holm(out["p_value"].to_numpy(dtype=float))
        out = out.sort_values(["p_value", "function"], kind="stable").reset_index(drop=True)
    for c in ("onset", "recovery"):
        out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[ns, UTC]")
    out.attrs["params"] = shared_attr({"freq": freq, "freq_asked": asked, "freq_note": freq_note, "min_buckets": min_buckets,
                           "n_perm": n_perm, "seed": seed})
    return out


#: shuffles drawn at a time, and the hits after which the sequential test stops (Besag–Clifford)
_CHUNK, _HITS = 1000, 10


def _shuffled_p(n: np.ndarray, n_cold: int, z: float, min_buckets: int, n_perm: int,
                rng: np.random.Generator) -> float:
    """Permutation p-value of the largest rise ``z``: the cold labels shuffled over the invocations, drawn as
    per-bucket cold counts (multivariate hypergeometric), stopping at :data:`_HITS` shuffles reaching ``z``."""
    counts = n.astype(np.int64)
    hits = done = 0
    while done < n_perm:
        m = min(_CHUNK, n_perm - done)
        kp = rng.multivariate_hypergeometric(counts, n_cold, size=m).astype(float)
        hits += int((_rise_scan(n, kp, min_buckets)[0] >= z - 1e-9).sum())
        done += m
        if hits >= _HITS:
            return hits / done
    return (1 + hits) / (1 + done)


def _rise_scan(n: np.ndarray, k: np.ndarray, min_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Largest two-proportion z (inside − outside) of each row of cold counts ``k`` over windows of buckets
    ``[a, a + L)`` with ``min_len`` ≤ L ≤ buckets − ``min_len`` (``n``: invocations per bucket): (z, a, end)."""
    nb = len(n)
    if nb < 2 * min_len + 1:
        return None
    cn = np.r_[0.0, np.cumsum(n)]
    ck = np.concatenate([np.zeros((k.shape[0], 1)), np.cumsum(k, axis=1)], axis=1)
    N, K = cn[-1], ck[:, -1:]
    best = np.full(k.shape[0], -np.inf)
    best_a = np.zeros(k.shape[0], dtype=np.int64)
    best_e = np.zeros(k.shape[0], dtype=np.int64)
    for length in range(min_len, nb - min_len + 1):
        n_in = cn[length:] - cn[:-length]
        k_in = ck[:, length:] - ck[:, :-length]
        n_out = N - n_in
        p = K / N
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(p * (1 - p) * (1 / n_in + 1 / n_out))
            z = (k_in / n_in - (K - k_in) / n_out) / se
        z = np.where((n_in > 0) & (n_out > 0) & (se > 0), z, -np.inf)
        arg = z.argmax(axis=1)
        zmax = z[np.arange(z.shape[0]), arg]
        better = zmax > best + 1e-9
        best = np.where(better, zmax, best)
        best_a = np.where(better, arg, best_a)
        best_e = np.where(better, arg + length, best_e)
    return best, best_a, best_e
