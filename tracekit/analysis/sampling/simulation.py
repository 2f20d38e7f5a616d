"""What a sampler would keep from a full population, how biased, at what cost (:func:`simulate_sampling`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ...core import duration_arg, percentile, result_table, share_arg, steps_arg
from ...core.deprecation import renamed
from ...core.results import Result
from ...errors import ArgumentError
from ...schema import STRING
from .bias import SAMPLING_BIAS_FINDINGS, SamplingBias, bias_core, service_reach
from .thresholds import MAX_THRESHOLD, probability_to_threshold, threshold_int, trace_randomness, with_threshold
from .traces import as_list, isin_text, known_requests, trace_table
from .xray_rules import match_rules, needed_fields, request_fields, xray_rules_frame

#: public names; the other module-level names are helpers shared within the package
__all__ = ["simulate_sampling", "SimulatedSampling", "TailRule", "DEFAULT_PRICES", "SIMULATE_SAMPLING_TRACES", "SIMULATE_SAMPLING_COST"]

#: the tables of :class:`SimulatedSampling` (``by`` keys follow ``start`` in ``traces``)
SIMULATE_SAMPLING_TRACES = result_table("simulate_sampling.traces", "one row per population trace", [
    ("trace_id", "string", "", "32-hex trace id"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "request start"),
    ("failed", "boolean", "", "the request failed (core.trace_outcomes); <NA> (unknown, not False) on every row when no "
                              "span of the population records a status (core.status_recorded), and on the row of a "
                              "request still in progress with no status yet (core.outcome_unknown)"),
    ("any_failed", "boolean", "", "some span of the trace failed; <NA> (unknown) on every row when no span of the "
                                  "population records a status, and where none failed while a span is still in "
                                  "progress with no status yet (core.trace_outcomes' any_failed)"),
    ("request_ms", "float64", "ms", "request latency"),
    ("kept", "bool", "", "the sampler keeps the trace"),
    ("probability", "float64", "", "the trace's exact inclusion probability under the sampler"),
    ("reason", "string", "", "reservoir, fixed_rate, probability, error, slow, no rule; <NA> when dropped"),
    ("rule", "string", "", "X-Ray rule matched (xray_rules), else <NA>"),
])
SIMULATE_SAMPLING_COST = result_table("simulate_sampling.cost", "recorded and scanned traces and their price", [
    ("item", "string", "", "recorded, scanned or total"),
    ("traces", "float64", "traces", "traces recorded or scanned"),
    ("usd_per_million", "float64", "USD", "price per million traces"),
    ("usd", "float64", "USD", "cost of the kept traces"),
    ("usd_if_all_kept", "float64", "USD", "cost if every trace were kept"),
])

#: X-Ray prices in USD per million traces (recorded; retrieved or scanned).
DEFAULT_PRICES = {"recorded": 5.00, "scanned": 0.50}


@dataclass(frozen=True)
class TailRule:
    """A simple tail-sampling rule: keep every trace with a failed span (``keep_errors``; a span failed as
    :func:`tracekit.core.failed` says) and every trace whose request (``request_ms``)
    took at least ``slow_ms``; keep the rest with ``probability`` (consistent, by trace-id randomness)."""

    keep_errors: bool = True
    slow_ms: float | None = None
    probability: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ArgumentError(f"TailRule probability must be in [0, 1], got {self.probability!r}")


@dataclass(frozen=True)
class SimulatedSampling(Result):
    """Result of :func:`simulate_sampling`.

    ``traces``: one row per population trace (trace_id, start, the ``by`` keys, failed,
    any_failed, request_ms, kept, probability, reason, rule). ``spans``: the kept spans (for the
    probability and tail samplers with their ``ot=th:`` tracestate set). ``strata``: per stratum
    population and kept counts, kept fraction, ``never_kept_traces`` (population traces the sampler keeps with
    probability 0: a tail rule's probability 0, a rule with FixedRate 0 and no reservoir, no rule), error rates and
    p95 (population, kept, weighted). No weight stands for a trace of probability 0, so where a stratum has one
    its weighted error rate and p95 are NaN (they were those of the traces it can keep: errors kept, the rest
    dropped, gave a weighted error rate of 100 % against 4.85 %) and ``bias`` says so (``never_sampled``).
    Where no span of the population records a status (:func:`tracekit.core.status_recorded`), ``failed``
    and ``any_failed`` are ``<NA>`` and the strata's error rates NaN: unknown, not 0 (a tail sampler
    keeping errors keeps none there: nothing was recorded as failed).
    ``bias``: :func:`sampling_bias` of the kept sample against the population. ``cost``: recorded
    and scanned traces and their price, with what keeping everything would cost.
    """

    TABLE = "traces"  #: the field .table returns

    sampler: str
    traces: pd.DataFrame
    spans: pd.DataFrame
    strata: pd.DataFrame
    cost: pd.DataFrame
    _bias_args: tuple = field(default=(), repr=False, compare=False)
    params: dict = field(default_factory=dict, compare=False)  #: the settings it was computed with

    @cached_property
    def bias(self) -> SamplingBias:
        """:func:`sampling_bias` of the kept traces against the population (computed on first use), with a
        ``never_sampled`` finding when the sampler keeps some population traces with probability 0."""
        b = bias_core(*self._bias_args)
        zero = (self.traces["probability"] == 0).to_numpy(dtype=bool)
        if not zero.any():
            return b
        k, n = int(zero.sum()), len(zero)
        why = self.traces.loc[zero, "rule"].dropna().astype(str).value_counts()
        said = f" (rule {', '.join(f'{r!r}: {c:,}' for r, c in why.items())})" if len(why) else ""
        row = {"kind": "never_sampled", "severity": "high", "dimension": None, "subject": None, "start": pd.NaT,
               "end": pd.NaT, "value": k / n,
               "message": f"{k:,} of {n:,} population traces are kept with probability 0{said}: no weight stands "
                          "for them, so even weighted numbers from this sample describe only the other "
                          f"{n - k:,}"}
        findings = SAMPLING_BIAS_FINDINGS.typed(pd.concat([b.findings, pd.DataFrame([row])], ignore_index=True))
        return SamplingBias(b.tests, b.strata, b.windows, findings, params=b.params)
    params: dict = field(default_factory=dict, compare=False)  #: the settings it was computed with

    @property
    def weights(self) -> pd.DataFrame:
        """trace_id, probability, weight, weight_source of the kept traces (for :func:`weighted_summary`)."""
        k = self.traces[self.traces["kept"]]
        src = "xray_rule" if self.sampler == "xray_rules" else "otel_threshold"
        return pd.DataFrame({"trace_id": k["trace_id"].to_numpy(), "probability": k["probability"].to_numpy(),
                             "weight": 1.0 / k["probability"].to_numpy(),
                             "weight_source": pd.Series([src] * len(k), dtype=STRING)})


@renamed(window="freq")
def simulate_sampling(spans: pd.DataFrame, sampler: Any = None, *, rules: Any = None, probability: float | None = None,
                      tail: TailRule | Mapping[str, Any] | None = None, by: str | Sequence[str] = "service",
                      prices: Mapping[str, float] | None = None, scans_per_trace: float = 1.0, seed: int = 0,
                      alpha: float = 0.01, freq: str | pd.Timedelta = "1min") -> SimulatedSampling:
    """What would a sampler keep from this full population of traces, how biased, at what cost?

    The sampler is one of (positionally or by keyword): X-Ray ``rules`` (anything
    :func:`xray_rules_frame` accepts; per rule a reservoir of ReservoirSize traces per second,
    first come first served, then FixedRate of the rest, rules matched at the root in priority
    order); a ``probability`` (an OTel consistent probability sampler: keep when the trace's 56-bit
    randomness ≥ the threshold); or a ``tail`` rule (:class:`TailRule` or a mapping of its fields).
    Each trace gets its exact inclusion probability (for the reservoir:
    (min(n, R) + FixedRate · max(n − R, 0)) / n with n requests of its rule in its second).
    ``prices``: USD per million traces, default ``{"recorded": 5.00, "scanned": 0.50}``;
    ``scans_per_trace``: how often each recorded trace is scanned by queries.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    sampler : Any, default None
        The sampler, positionally: rules, a probability or a :class:`TailRule`.
    rules : Any, default None
        X-Ray sampling rules (reservoir per second, then FixedRate).
    probability : float | None, default None
        An OTel consistent probability sampler's probability.
    tail : TailRule | Mapping[str, Any] | None, default None
        A tail-sampling rule (:class:`TailRule` or a mapping of its fields).
    by : str | Sequence[str], default 'service'
        Grouping keys: a named key of :data:`tracekit.core.BY_KEYS` (service, operation, route, host, version, call_path) or a column, or a list of them.
    prices : Mapping[str, float] | None, default None
        USD per million traces (``recorded``, ``scanned``); default 5.00 and 0.50.
    scans_per_trace : float, default 1.0
        How often each recorded trace is scanned by queries.
    seed : int, default 0
        Seed of the bootstrap's random generator (results are reproducible).
    alpha : float, default 0.01
        Significance level of the bias tests.
    freq : str | pd.Timedelta, default '1min'
        Width of the time windows of the bias tests' time checks (as :func:`sampling_bias`'s ``freq``; ``window=``,
        its old name, still works with a DeprecationWarning).

    Returns
    -------
    SimulatedSampling
        What would a sampler keep from this full population of traces, how biased, at what cost?

    Examples
    --------
    >>> import tracekit as tk
    >>> ids = ["0" * 18 + "40000000000000", "0" * 18 + "f0000000000000"]  # randomness 0.25, 0.94 of 2**56
    >>> spans = tk.spans_from_columns({"trace_id": ids, "span_id": ["a" * 16, "b" * 16],
    ...     "service": ["api"] * 2, "name": ["GET /"] * 2, "start": [0] * 2, "end": [1] * 2})
    >>> sim = simulate_sampling(spans, 0.25)  # threshold c0000000000000: keep randomness >= 0.75
    >>> sim.traces["kept"].tolist(), sim.spans["trace_state"].tolist()
    ([False, True], ['ot=th:c'])
    >>> round(float(sim.cost.set_index("item").loc["total", "usd"]) * 1e6, 6)  # $5 + $0.50 per million
    5.5
    """
    alpha = share_arg(alpha, "alpha", "simulate_sampling")
    step = duration_arg(freq, "freq", "simulate_sampling")
    if len(spans) and "start" in spans.columns:
        steps_arg(step, spans["start"].min(), spans["start"].max(), "freq", "simulate_sampling")
    given = [x for x in (sampler, rules, probability, tail) if x is not None]
    if len(given) != 1:
        raise ArgumentError("simulate_sampling needs exactly one sampler: X-Ray rules, a probability or a tail rule")
    s = given[0]
    keys = as_list(by)
    tt = trace_table(spans, keys, what="simulate_sampling")
    known_status = bool(tt.attrs["status_recorded"])  # core.status_recorded(spans): else failures are unknown
    n = len(tt)
    rng = np.random.default_rng(seed)
    rule_col = np.full(n, None, dtype=object)
    th_str: np.ndarray | None = None
    # a frame already sampled (its roots' ot=th:): a consistent sampler applied after it keeps a trace when its
    # randomness reaches both thresholds, so the kept trace's th is the larger one (overwriting it with the new one
    # gave a 25 % sample re-sampled at 50 % weight 2, its 999 traces standing for 1998 requests of 4000), and its
    # inclusion probability in the frame given is P(randomness >= the larger | >= the old one)
    t_old = _root_thresholds(tt)
    if isinstance(s, (int, float, np.floating, np.integer)) and not isinstance(s, bool):
        kind = "probability"
        t = threshold_int(probability_to_threshold(float(s)))
        rnd = trace_randomness(tt["trace_id"], tt["trace_state"] if "trace_state" in tt.columns else None)
        kept = rnd >= np.uint64(t)
        t_eff = np.maximum(t_old, t)
        prob = _conditional_probability(t_eff, t_old)
        reason = np.where(kept, "probability", None)
        th_str = _th_text(t_eff)
    elif isinstance(s, (TailRule, Mapping)) and not (isinstance(s, Mapping) and _looks_like_rules(s)):
        kind = "tail"
        rule = s if isinstance(s, TailRule) else TailRule(**dict(s))
        forced_err = tt["any_failed"].to_numpy(dtype=bool) if rule.keep_errors else np.zeros(n, bool)
        dur = tt["request_ms"].to_numpy(dtype=float)
        forced_slow = (dur >= rule.slow_ms) if rule.slow_ms is not None else np.zeros(n, bool)
        forced_slow = np.nan_to_num(forced_slow, nan=0).astype(bool) & ~forced_err
        forced = forced_err | forced_slow
        if rule.probability > 0:
            tb = threshold_int(probability_to_threshold(rule.probability))
            rnd = trace_randomness(tt["trace_id"], tt["trace_state"] if "trace_state" in tt.columns else None)
            base_keep = rnd >= np.uint64(tb)
            t_base = np.maximum(t_old, tb)
            p_base = _conditional_probability(t_base, t_old)
        else:
            t_base, base_keep, p_base = t_old, np.zeros(n, bool), np.zeros(n)
        kept = forced | base_keep
        prob = np.where(forced, 1.0, p_base)
        reason = np.where(forced_err, "error", np.where(forced_slow, "slow", np.where(base_keep, "probability", None)))
        # a forced trace is kept whatever its randomness: its th stays the frame's own (0 when it had none)
        th_str = _th_text(np.where(forced, t_old, t_base))
    else:
        kind = "xray_rules"
        rf = xray_rules_frame(s)
        idx = match_rules(rf, request_fields(tt, needed_fields(rf)))
        rule_col = np.where(idx >= 0, rf["rule_name"].to_numpy(dtype=object)[np.maximum(idx, 0)], None)
        res = rf["reservoir_size"].to_numpy(dtype=float)[np.maximum(idx, 0)]
        fr = rf["fixed_rate"].to_numpy(dtype=float)[np.maximum(idx, 0)]
        sec = tt["start"].dt.floor("1s").astype("int64").to_numpy()
        order = np.lexsort((tt["start"].astype("int64").to_numpy(), sec, idx))
        grp = pd.DataFrame({"r": idx[order], "s": sec[order]})
        rank = np.empty(n, dtype=np.int64)
        rank[order] = grp.groupby(["r", "s"], sort=False).cumcount().to_numpy()
        cnt = np.empty(n, dtype=float)
        cnt[order] = grp.groupby(["r", "s"], sort=False)["r"].transform("size").to_numpy(dtype=float)
        matched = idx >= 0
        in_res = matched & (rank < res)
        u = rng.random(n)
        by_rate = matched & ~in_res & (u < fr)
        kept = in_res | by_rate
        prob = np.where(matched, (np.minimum(cnt, res) + fr * np.maximum(cnt - res, 0)) / cnt, 0.0)
        reason = np.where(in_res, "reservoir", np.where(by_rate, "fixed_rate", np.where(matched, None, "no rule")))
        reason = np.where(kept | ~matched, reason, None)
    traces = pd.DataFrame({"trace_id": tt["trace_id"].astype(STRING), "start": tt["start"]})
    for k in keys:
        traces[k] = tt[k].to_numpy()
    for c in ("failed", "any_failed"):  # <NA> on every row where no span records a status (unknown, not False)
        # <NA> too where the request is in progress with no outcome yet, and where no span of the trace failed while
        # one is still in progress with no status yet (core.trace_outcomes' failed and any_failed)
        known_c = tt["outcome_known" if c == "failed" else "any_failed_known"].to_numpy(dtype=bool)
        traces[c] = pd.arrays.BooleanArray(tt[c].to_numpy(dtype=bool), ~known_c)
        if not known_status:
            traces[c] = pd.array([pd.NA] * n, dtype="boolean")
    traces["request_ms"] = tt["request_ms"].to_numpy(dtype=float)
    traces["kept"] = np.asarray(kept, dtype=bool)
    traces["probability"] = np.asarray(prob, dtype=float)
    traces["reason"] = pd.Series(reason, dtype=STRING)
    traces["rule"] = pd.Series(rule_col, dtype=STRING)
    kept_ids = traces.loc[traces["kept"], "trace_id"]
    mask = isin_text(spans["trace_id"].to_numpy(dtype=object), kept_ids.to_numpy(dtype=object))
    kept_spans = spans.loc[mask].copy()
    if th_str is not None and len(kept_spans):
        pos = pd.Index(tt["trace_id"].to_numpy(dtype=object)).get_indexer(
            kept_spans["trace_id"].to_numpy(dtype=object))
        old = kept_spans["trace_state"] if "trace_state" in kept_spans.columns else [None] * len(kept_spans)
        # the ot member's other sub-keys (rv: the trace's explicit randomness) are kept: dropping them made a later
        # sampler read the randomness off the trace id instead
        kept_spans["trace_state"] = pd.array(with_threshold(old, th_str[pos]), dtype=STRING)
    strata = _sim_strata(traces, keys, known_requests(tt))
    kept_mask = traces["kept"].to_numpy()
    sample = tt.loc[kept_mask].reset_index(drop=True)
    sample.attrs["status_recorded"] = known_status  # the kept traces' spans are the population's
    bias_args = (sample, "spans", tt,
                 set(kept_spans["service"].dropna().astype(str)), service_reach(spans),
                 keys, None, None, None, step, "g", alpha, 1.25, 0.5)
    pr = dict(DEFAULT_PRICES)
    pr.update(prices or {})
    rec = float(traces["kept"].sum())
    scanned = rec * float(scans_per_trace)
    cost = pd.DataFrame({
        "item": ["recorded", "scanned", "total"],
        "traces": [rec, scanned, np.nan],
        "usd_per_million": [pr["recorded"], pr["scanned"], np.nan],
        "usd": [rec * pr["recorded"] / 1e6, scanned * pr["scanned"] / 1e6,
                rec * pr["recorded"] / 1e6 + scanned * pr["scanned"] / 1e6],
        "usd_if_all_kept": [n * pr["recorded"] / 1e6, n * scans_per_trace * pr["scanned"] / 1e6,
                            n * (pr["recorded"] + scans_per_trace * pr["scanned"]) / 1e6]})
    cost = SIMULATE_SAMPLING_COST.typed(cost)  # item: string as declared (was str)
    return SimulatedSampling(kind, traces, kept_spans, strata, cost, bias_args,
                             params={"sampler": kind, "by": by, "prices": prices, "scans_per_trace": scans_per_trace,
                                     "seed": seed, "alpha": alpha, "freq": str(freq)})


def _root_thresholds(tt: pd.DataFrame) -> np.ndarray:
    """Each trace's root ``ot=th:`` threshold as an int (0, keep all, where the root carries none or a malformed one)."""
    out = np.zeros(len(tt), dtype=np.int64)
    if "trace_state" not in tt.columns or not len(tt):
        return out
    ts = tt["trace_state"].astype(STRING)
    th = ts.str.extract(r"(?:^|,)[ \t]*ot=([^,]*)", expand=False).str.extract(r"(?:^|;)th:([0-9a-f]{1,14})(?:;|$)",
                                                                                expand=False)
    has = th.notna().to_numpy()
    if has.any():
        out[has] = [int(v.ljust(14, "0"), 16) for v in th[has].to_numpy(dtype=object)]
    return out


def _conditional_probability(t_eff: np.ndarray, t_old: np.ndarray) -> np.ndarray:
    """P(randomness >= ``t_eff`` | randomness >= ``t_old``) for 56-bit thresholds (``t_eff`` >= ``t_old``)."""
    # integer differences first (exact in int64), as threshold_probability: 0.1's threshold read back as 0.1
    num = (MAX_THRESHOLD - np.asarray(t_eff, dtype=np.int64)).astype(np.float64)
    return num / (MAX_THRESHOLD - np.asarray(t_old, dtype=np.int64)).astype(np.float64)


def _th_text(t: np.ndarray) -> np.ndarray:
    """``th`` hex text of 56-bit thresholds (trailing zeros removed, ``0`` for keep-all)."""
    u, inv = np.unique(np.asarray(t, dtype=np.int64), return_inverse=True)
    text = np.array([format(int(v), "014x").rstrip("0") or "0" for v in u], dtype=object)
    return text[inv.reshape(-1)] if len(u) else np.array([], dtype=object)


def _looks_like_rules(m: Mapping[str, Any]) -> bool:
    return bool({"SamplingRuleRecords", "rules", "default", "RuleName"} & set(m))


def _sim_strata(traces: pd.DataFrame, keys: list[str], known_req: np.ndarray) -> pd.DataFrame:
    """Per stratum: traces kept, never kept (probability 0), error rates and p95s of the population, the kept traces
    and weighted (NaN where a trace is never kept: no weight stands for it). The error
    rates are failed shares (core.failed_share): over the requests of known outcome (``known_req``, per row of
    ``traces``), NaN (unknown) with none, as where no span records a status."""
    rows = []
    traces = traces.assign(_known_req=known_req)
    groups = traces.groupby(keys, sort=True, dropna=False) if keys else [((), traces)]
    for label, g in groups:
        k = g[g["kept"]]
        w = 1.0 / k["probability"].to_numpy(dtype=float)
        kr, gr = k["_known_req"].to_numpy(dtype=bool), g["_known_req"].to_numpy(dtype=bool)
        kf = k["failed"].to_numpy(dtype=float, na_value=np.nan)  # <NA> (no status recorded): NaN error rates
        gf = g["failed"].to_numpy(dtype=float, na_value=np.nan)
        row = dict(zip(keys, label if isinstance(label, tuple) else (label,), strict=True))
        never = int((g["probability"].to_numpy(dtype=float) == 0).sum())
        row.update({
            "population_traces": len(g), "kept_traces": len(k), "kept_fraction": len(k) / len(g) if len(g) else np.nan,
            "never_kept_traces": never,
            "population_error_rate": float(gf[gr].mean()) if gr.any() else np.nan,
            "kept_error_rate": float(kf[kr].mean()) if kr.any() else np.nan,
            # no weight stands for a trace kept with probability 0: the weighted numbers would be of the others only
            "weighted_error_rate": float(w[kr] @ kf[kr] / w[kr].sum()) if kr.any() and not never else np.nan,
            "population_p95_ms": percentile(g["request_ms"], 0.95) if len(g) else np.nan,
            "kept_p95_ms": percentile(k["request_ms"], 0.95) if len(k) else np.nan,
            "weighted_p95_ms": percentile(k["request_ms"], 0.95, weights=w) if len(k) and not never else np.nan,
        })
        rows.append(row)
    return pd.DataFrame(rows)
