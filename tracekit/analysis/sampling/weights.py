"""Per-trace inclusion probabilities and weights (:func:`sampling_weights`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...core import result_table
from ...core.cache import frame_cached
from ...errors import ArgumentError
from ...schema import STRING
from .thresholds import threshold_probabilities
from .traces import as_list, dict_get, trace_table
from .xray_rules import (
    match_rules,
    needed_fields,
    request_fields,
    window_length,
    xray_rules_frame,
    xray_stats_frame,
)

#: public names; the other module-level names are helpers shared within the package
__all__ = ["sampling_weights", "WEIGHT_SOURCES", "SAMPLE_RATE_KEYS", "SAMPLING_WEIGHTS"]

#: the columns of :func:`sampling_weights` (``by`` keys that are not already columns follow ``start``)
SAMPLING_WEIGHTS = result_table("sampling_weights", "one row per trace: its inclusion probability and weight", [
    ("trace_id", "string", "", "32-hex trace id"),
    ("service", "string", "", "service of the request root"),
    ("name", "string", "", "operation of the request root"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "request start"),
    ("probability", "float64", "", "inclusion probability of the trace; NaN when unknown"),
    ("weight", "float64", "traces", "1 / probability: requests this trace stands for; NaN when unknown"),
    ("weight_source", "string", "", "otel_threshold, attribute, user, xray_rule or unknown"),
    ("rule", "string", "", "X-Ray sampling rule matched to the root (xray_rule), else <NA>"),
    ("note", "string", "", "why the probability is what it is, or unknown"),
])

#: where a weight came from (``weight_source``), in the order they are tried
WEIGHT_SOURCES = ("otel_threshold", "attribute", "user", "xray_rule", "unknown")
#: root-span attributes read as a SampleRate (1-in-N) or adjusted count; each also as an X-Ray
#: annotation (``annotation.SampleRate``, as the X-Ray reader stores it).
SAMPLE_RATE_KEYS = ("SampleRate", "sample_rate", "sampling.sample_rate", "sampling.adjusted_count",
                    "sampler.adjusted_count")



def sampling_weights(spans: pd.DataFrame, *, rules: Any = None, stats: Any = None, rate: Any = None,
                     by: str | Sequence[str] | None = None, stats_window: str | pd.Timedelta = "10s") -> pd.DataFrame:
    """Per-trace inclusion probability and weight (1 / probability), with where each came from.

    Sources, first that applies wins (``weight_source``):

    1. ``otel_threshold``: the root span's tracestate ``ot=th:`` (else another span's);
    2. ``attribute``: a SampleRate-style root attribute (``SampleRate`` = 1-in-N, ``sampling.adjusted_count``),
       bare (OTLP) or as an X-Ray annotation (``annotation.SampleRate``);
    3. ``user``: ``rate`` — a probability for every trace, a mapping ``{stratum: probability}``
       over the ``by`` key, or a DataFrame with the ``by`` columns and ``probability``;
    4. ``xray_rule``: the X-Ray rule matched to the trace's root (``rules``); the probability is
       SampledCount / RequestCount of that rule in the window of ``stats`` holding the root's start
       (this is what catches reservoir saturation), or FixedRate for a rule without reservoir;
    5. ``unknown``: probability and weight NaN, ``note`` says why (e.g. a root ``SampleRate`` that is not a
       number ≥ 1 is named with its value).

    A ``rate`` that is not a probability in (0, 1] — 0, above 1, NaN, text, also as a mapping's value —
    raises :class:`~tracekit.errors.ArgumentError`; a stratum the mapping leaves out is unknown.

    Returns one row per trace: trace_id, service, name, start (root), probability, weight,
    weight_source, rule, note.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    rules : Any, default None
        X-Ray sampling rules (anything :func:`xray_rules_frame` accepts).
    stats : Any, default None
        X-Ray sampling statistics per rule and window (SampledCount / RequestCount).
    rate : Any, default None
        A probability for every trace, a mapping ``{stratum: probability}`` over ``by``, or a frame with the ``by`` columns and ``probability``.
    by : str | Sequence[str] | None, default None
        The stratum columns of a per-stratum ``rate``.
    stats_window : str | pd.Timedelta, default '10s'
        Length of one window of ``stats``.

    Returns
    -------
    pandas.DataFrame
        Per-trace inclusion probability and weight (1 / probability), with where each came from.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["%032x" % i for i in (1, 2)],
    ...     "span_id": ["a" * 16, "b" * 16], "service": ["api", "web"], "name": ["GET /"] * 2,
    ...     "start": [0, 0], "end": [1, 1]})
    >>> w = sampling_weights(spans, rate={"api": 0.1}, by="service")
    >>> w[["service", "weight", "weight_source"]].values.tolist()
    [['api', 10.0, 'user'], ['web', nan, 'unknown']]
    """
    keys = as_list(by)
    if rules is None and stats is None and rate is None and not keys:
        # what the data itself carries (thresholds, SampleRate attributes): asked by the report, the postmortem and
        # health on one frame (3 computations -> 1), so computed once per frame (core.cache)
        return frame_cached(spans, "sampling_weights", None, _WEIGHT_INPUTS,
                            lambda: _sampling_weights(spans, None, None, None, [], stats_window),
                            lambda w, ids: w[w["trace_id"].isin(ids).to_numpy(dtype=bool)].reset_index(drop=True))
    return _sampling_weights(spans, rules, stats, rate, keys, stats_window)


#: the columns :func:`sampling_weights` reads without rules, stats or rates (trace_table's, core.trace_outcomes')
_WEIGHT_INPUTS = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status",
                  "http_status", "error", "fault", "throttle", "in_progress", "links", "attributes", "resource",
                  "trace_state")


def _sampling_weights(spans: pd.DataFrame, rules: Any, stats: Any, rate: Any, keys: list,
                      stats_window: str | pd.Timedelta) -> pd.DataFrame:
    tt = trace_table(spans, keys, what="sampling_weights")
    n = len(tt)
    prob = np.full(n, np.nan)
    source = np.full(n, "unknown", dtype=object)
    note = np.full(n, None, dtype=object)
    rule_col = np.full(n, None, dtype=object)

    # 1. OTel thresholds, root first, then any span of the trace
    if "trace_state" in spans.columns and n:
        p_root, note_root = threshold_probabilities(tt["trace_state"]) if "trace_state" in tt.columns else (prob.copy(), note.copy())
        missing_root = np.isnan(p_root) & (note_root == None)  # noqa: E711
        if missing_root.any():
            has = spans["trace_state"].notna()
            if has.any():
                sub = spans.loc[has, ["trace_id", "trace_state"]]
                p_any, _ = threshold_probabilities(sub["trace_state"])
                lowest = pd.Series(p_any, index=sub.index).groupby(sub["trace_id"].astype(STRING)).min()
                fill = tt["trace_id"].map(lowest).to_numpy(dtype=float)
                use = missing_root & ~np.isnan(fill)
                p_root = np.where(use, fill, p_root)
                note_root[use] = "threshold from a non-root span"
        from_root = ~np.isnan(p_root) & ~missing_root
        if from_root.any() and "trace_state" in tt.columns:
            _other_thresholds(spans, tt, p_root, from_root, note_root)
        got = ~np.isnan(p_root)
        prob[got] = p_root[got]
        source[got] = "otel_threshold"
        note[got] = note_root[got]
        # no weight, and why (a malformed th, a legacy p:63 or a malformed p), said before a later source's reason
        bad = (note_root != None) & ~got  # noqa: E711
        note[bad] = note_root[bad]

    # 2. SampleRate-style attributes
    todo = np.isnan(prob)
    if todo.any() and "attributes" in tt.columns:
        # each key bare (OTLP attribute) or as the X-Ray reader stores an annotation (annotation.<key>)
        for key in (k for base in SAMPLE_RATE_KEYS for k in (base, "annotation." + base)):
            raw = dict_get(tt["attributes"], (key,))
            # a boolean is no rate (to_numeric read SampleRate = true as 1-in-1, weight 1)
            nums = [None if isinstance(v, (bool, np.bool_)) else v for v in raw]
            vals = pd.to_numeric(pd.Series(nums, dtype=object), errors="coerce").to_numpy(dtype=float)
            ok = todo & np.isfinite(vals) & (vals >= 1)
            prob[ok] = 1.0 / vals[ok]
            source[ok] = "attribute"
            note[ok] = f"root attribute {key}"
            todo &= ~ok
            unread = todo & np.array([v is not None for v in raw], dtype=bool) & (note == None)  # noqa: E711
            for i in np.flatnonzero(unread):  # said, not 'no SampleRate': a later source may still give the weight
                note[i] = f"root attribute {key} = {raw[i]!r} is not a 1-in-N rate (a number ≥ 1)"

    # 3. user-given rates
    todo = np.isnan(prob)
    if rate is not None and todo.any():
        p_user = _user_rates(tt, rate, keys)
        ok = todo & ~np.isnan(p_user)
        prob[ok] = p_user[ok]
        source[ok] = "user"
        note[ok] = None
        if keys:  # a per-stratum rate that leaves a stratum out was said 'no … user rate' given
            left = np.flatnonzero(todo & ~ok & (note == None))  # noqa: E711
            strata = tt[keys].iloc[left].astype(object).to_numpy()
            for i, vals in zip(left, strata, strict=True):
                said = ", ".join(f"{k}={v!r}" for k, v in zip(keys, vals, strict=True))
                note[i] = f"the user rate gives no probability for this trace's stratum ({said})"

    # 4. X-Ray rules (+ statistics)
    todo = np.isnan(prob)
    if rules is not None and todo.any():
        rf = xray_rules_frame(rules)
        sub = tt.loc[todo].reset_index(drop=True)
        idx = match_rules(rf, request_fields(sub, needed_fields(rf)))
        p_x = np.full(len(sub), np.nan)
        n_x = np.full(len(sub), None, dtype=object)
        names = np.where(idx >= 0, rf["rule_name"].to_numpy(dtype=object)[np.maximum(idx, 0)], None)
        n_x[idx < 0] = "no X-Ray rule matches the root"
        fixed = rf["fixed_rate"].to_numpy()[np.maximum(idx, 0)]
        reservoir = rf["reservoir_size"].to_numpy()[np.maximum(idx, 0)]
        pure = (idx >= 0) & (reservoir == 0)
        p_x[pure] = fixed[pure]
        n_x[pure & (fixed == 0)] = "matched rule has FixedRate 0 and no reservoir (trace should not exist)"
        p_x[pure & (fixed == 0)] = np.nan
        need = (idx >= 0) & ~pure
        if need.any():
            if stats is None:
                n_x[need] = "matched rule has a reservoir; its inclusion probability depends on traffic (pass stats=)"
            else:
                st = xray_stats_frame(stats)
                p_w, n_w = _window_ratio(sub.loc[need, "start"], names[need], st, pd.Timedelta(stats_window))
                p_x[need] = p_w
                n_x[need] = n_w
        pos = np.flatnonzero(todo)
        ok = ~np.isnan(p_x)
        prob[pos[ok]] = p_x[ok]
        source[pos[ok]] = "xray_rule"
        # keep an earlier, more specific reason (a malformed ot=th, an unreadable SampleRate, a stratum the user
        # rate left out) and add the X-Ray one after it
        earlier = note[pos]
        both = ~ok & (earlier != None) & (n_x != None)  # noqa: E711
        merged = np.where(ok, None, np.where(earlier == None, n_x, earlier))  # noqa: E711
        if both.any():
            merged[both] = [f"{a}; {b}" for a, b in zip(earlier[both], n_x[both], strict=True)]
        note[pos] = merged
        rule_col[pos] = names
    still = np.isnan(prob)
    note[still & (note == None)] = "no sampling information (no ot=th, SampleRate, user rate or X-Ray rule)"  # noqa: E711
    out = pd.DataFrame({
        "trace_id": tt["trace_id"].astype(STRING), "service": tt["service"].astype(STRING),
        "name": tt["name"].astype(STRING), "start": tt["start"]})
    for k in keys:
        if k not in out.columns:
            out[k] = tt[k].to_numpy()
    out["probability"] = prob
    out["weight"] = 1.0 / prob
    out["weight_source"] = pd.Series(source, dtype=STRING)
    out["rule"] = pd.Series(rule_col, dtype=STRING)
    out["note"] = pd.Series(note, dtype=STRING)
    return out


def _other_thresholds(spans: pd.DataFrame, tt: pd.DataFrame, p_root: np.ndarray, from_root: np.ndarray,
                      note: np.ndarray) -> None:
    """Say (in ``note``, in place) where other spans of a trace carry a threshold other than its root's, which is the
    one read (the root's decision is the request's): a child at th:c under a root at th:8 was silent. Only the spans
    whose tracestate differs from their root's are parsed."""
    ids = tt["trace_id"].astype(STRING).to_numpy(dtype=object)
    root_ts = pd.Series(tt["trace_state"].astype(STRING).to_numpy(dtype=object), index=ids)
    if not root_ts.index.is_unique:
        return
    has = spans["trace_state"].notna().to_numpy(dtype=bool)
    sid = spans["trace_id"].astype(STRING).to_numpy(dtype=object)[has]
    sts = spans["trace_state"].astype(STRING).to_numpy(dtype=object)[has]
    rts = root_ts.reindex(sid).to_numpy(dtype=object)
    differs = np.array([r is pd.NA or r is None or a != r for a, r in zip(sts, rts, strict=True)], dtype=bool)
    if not differs.any():
        return
    p_other, _ = threshold_probabilities(pd.Series(sts[differs], dtype=object))
    pos = pd.Index(ids).get_indexer(sid[differs])
    ok = ~np.isnan(p_other) & (pos >= 0)
    pos, p_other = pos[ok], p_other[ok]
    ok = from_root[pos] & (p_other != p_root[pos])
    if not ok.any():
        return
    g = pd.Series(p_other[ok]).groupby(pos[ok])
    lo, hi, cnt = g.min(), g.max(), g.size()
    for i in lo.index.tolist():
        rng = f"{lo[i]:.6g}" if lo[i] == hi[i] else f"{lo[i]:.6g} to {hi[i]:.6g}"
        said = (f"{cnt[i]} other span{'' if cnt[i] == 1 else 's'} of the trace carr{'ies' if cnt[i] == 1 else 'y'} "
                f"another threshold (probability {rng}): the root's ({p_root[i]:.6g}) is read")
        note[i] = said if note[i] is None else f"{note[i]}; {said}"


def _user_rates(tt: pd.DataFrame, rate: Any, keys: list[str]) -> np.ndarray:
    n = len(tt)

    def check(p: np.ndarray, what: str) -> np.ndarray:
        bad = ~np.isnan(p) & ((p <= 0) | (p > 1))
        if bad.any():
            raise ArgumentError(f"sampling_weights: user sampling rate {p[bad][0]:g} ({what}) is not a probability in (0, 1]")
        return p

    if isinstance(rate, (int, float, np.floating, np.integer)) and not isinstance(rate, bool):
        if np.isnan(rate):  # NaN would leave every trace 'unknown' with a note saying no user rate was given
            raise ArgumentError(f"sampling_weights: user sampling rate {rate!r} (rate) is not a probability in (0, 1]")
        return check(np.full(n, float(rate)), "rate")
    if not isinstance(rate, (pd.DataFrame, Mapping)):  # before by=: 'x' was told it needs by=
        raise ArgumentError(f"sampling_weights: rate must be a probability, a mapping or a DataFrame, got {type(rate).__name__}")
    if not keys:
        raise ArgumentError("sampling_weights: a per-stratum rate needs by= naming the stratum column(s)")
    if isinstance(rate, pd.DataFrame):
        if "probability" not in rate.columns or any(k not in rate.columns for k in keys):
            raise ArgumentError(f"sampling_weights: rate DataFrame needs columns {keys + ['probability']}")
        per = rate[keys + ["probability"]].drop_duplicates()
        clash = per[per.duplicated(keys, keep=False)]
        if len(clash):  # one stratum, two probabilities: the first was taken silently
            first = clash.iloc[0]
            both = clash[(clash[keys] == first[keys]).all(axis=1)]["probability"].tolist()
            raise ArgumentError(f"sampling_weights: rate DataFrame gives the stratum {tuple(first[keys].tolist())} {len(both)} different "
                                f"probabilities ({', '.join(f'{float(v):g}' for v in both)}); give each stratum one")
        m = tt[keys].merge(per.drop_duplicates(keys), on=keys, how="left")
        return check(m["probability"].to_numpy(dtype=float), "rate DataFrame")
    if isinstance(rate, Mapping):
        if len(keys) == 1:
            lookup = tt[keys[0]].astype(object)
        else:
            lookup = pd.Series(list(zip(*(tt[k].astype(object) for k in keys), strict=True)), dtype=object)
        for k, v in rate.items():  # a stratum left out of the mapping is unknown; one given NaN or text is a mistake
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or np.isnan(v):
                raise ArgumentError(f"sampling_weights: user sampling rate {v!r} (rate mapping, stratum {k!r}) is not a probability "
                                    "in (0, 1]")
        p = lookup.map(lambda v: rate.get(v, np.nan)).to_numpy(dtype=float)
        return check(p, "rate mapping")
    raise ArgumentError(f"sampling_weights: rate must be a probability, a mapping or a DataFrame, got {type(rate).__name__}")


def _window_ratio(starts: pd.Series, rule_names: np.ndarray, st: pd.DataFrame,
                  default_len: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    n = len(starts)
    p = np.full(n, np.nan)
    note = np.full(n, "no sampling statistics window of the matched rule covers the trace's start", dtype=object)
    q = pd.DataFrame({"start": starts.to_numpy(), "rule_name": pd.Series(rule_names, dtype=STRING).to_numpy(),
                      "_i": np.arange(n)})
    for rule, grp in q.groupby("rule_name", sort=False):
        srule = st[st["rule_name"] == rule]
        if srule.empty:
            note[grp["_i"].to_numpy()] = f"no sampling statistics for rule {rule!r}"
            continue
        length = window_length(srule["timestamp"], default_len)
        t = srule["timestamp"].to_numpy(dtype="datetime64[ns]")
        s = grp["start"].to_numpy(dtype="datetime64[ns]")
        pos = np.searchsorted(t, s, side="right") - 1
        inside = (pos >= 0) & (s < t[np.maximum(pos, 0)] + length.to_timedelta64())
        req = srule["request_count"].to_numpy(dtype=float)[np.maximum(pos, 0)]
        smp = srule["sampled_count"].to_numpy(dtype=float)[np.maximum(pos, 0)]
        ok = inside & (req > 0) & (smp > 0)
        ii = grp["_i"].to_numpy()
        p[ii[ok]] = smp[ok] / req[ok]
        note[ii[ok]] = None
        zero = inside & ~ok
        note[ii[zero]] = "the rule's statistics window says nothing was sampled there"
    return p, note
