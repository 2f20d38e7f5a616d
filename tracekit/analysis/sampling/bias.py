"""Is a sample representative? (:func:`sampling_bias`, :func:`g_test`, :func:`chi2_test`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...core import duration_arg, percentile, result_table, share_arg, steps_arg
from ...core.deprecation import renamed
from ...core.results import Result
from ...core.words import ms_text
from ...errors import ArgumentError, TraceKitError
from ...schema import STRING
from .estimates import weighted_quantile, weights_for
from .traces import as_list, known_requests, trace_table
from .xray_rules import window_length, xray_stats_frame

#: public names; the other module-level names are helpers shared within the package
__all__ = ["sampling_bias", "SamplingBias", "g_test", "chi2_test", "SAMPLING_BIAS_TESTS", "SAMPLING_BIAS_WINDOWS", "SAMPLING_BIAS_FINDINGS"]

#: the tables of :class:`SamplingBias` (``strata`` has optional columns, so it is not declared)
SAMPLING_BIAS_TESTS = result_table("sampling_bias.tests", "one row per statistical test of the sample", [
    ("dimension", "string", "", "what is tested: a by key, errors or latency"),
    ("test", "string", "", "G-test, chi-square, binomial, KS two-sample or KS vs histogram; a G-test or chi-square "
                           "with an expected count below 5 says (Monte Carlo p-value): its p-value is simulated"),
    ("statistic", "float64", "", "the test statistic (for errors: the sample's failed share)"),
    ("dof", "float64", "", "degrees of freedom (NaN when none)"),
    ("p_value", "float64", "", "p-value"),
    ("effect_size", "float64", "", "Cramer's V, ratio of error shares or KS D"),
    ("effect_name", "string", "", "name of the effect size"),
    ("n_sample", "int64", "traces", "sampled traces tested"),
    ("n_population", "float64", "requests", "population size of the reference"),
    ("biased", "bool", "", "p_value < alpha (and, for errors, the ratio outside the tolerance)"),
])
SAMPLING_BIAS_WINDOWS = result_table("sampling_bias.windows", "one row per time window examined", [
    ("source", "string", "", "population, xray_stats or sample"),
    ("rule", "string", "", "X-Ray rule (xray_stats), else <NA>"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "window start"),
    ("end", "datetime64[ns, UTC]", "ns, UTC", "window end"),
    ("requested", "float64", "requests", "requests in the window (NaN when unknown)"),
    ("sampled", "float64", "traces", "sampled traces in the window"),
    ("ratio", "float64", "", "sampled / requested"),
    ("baseline_ratio", "float64", "", "the usual sampled / requested"),
    ("flag", "string", "", "saturation, gap or <NA>"),
])
SAMPLING_BIAS_FINDINGS = result_table("sampling_bias.findings", "one row per plain-language finding", [
    ("kind", "string", "", "e.g. over_represented, errors_under_sampled, reservoir_saturation, collection_gap, "
                           "outside_population"),
    ("severity", "string", "", "high, medium or info"),
    ("dimension", "string", "", "the dimension concerned, if any"),
    ("subject", "string", "", "the stratum, rule or service concerned, if any"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "start of the time window concerned, if any"),
    ("end", "datetime64[ns, UTC]", "ns, UTC", "end of the time window concerned, if any"),
    ("value", "float64", "", "the number behind the finding (a ratio, a share)"),
    ("message", "string", "", "the finding in plain language"),
])


def g_test(observed: Any, expected: Any, ddof: int = 0) -> tuple[float, float]:
    """G-test of goodness of fit: ``G = 2 Σ O ln(O / E)`` and its chi-square p-value (k - 1 - ddof dof).

    >>> g, p = g_test([10, 20, 30], [20, 20, 20])
    >>> round(g, 4), round(p, 4)
    (10.465, 0.0053)
    """
    from scipy import stats

    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(o > 0, o * np.log(o / e), 0.0)
    g = float(2.0 * terms.sum())
    dof = len(o) - 1 - ddof
    return g, float(stats.chi2.sf(g, dof)) if dof > 0 else float("nan")


def chi2_test(observed: Any, expected: Any, ddof: int = 0) -> tuple[float, float]:
    """Pearson chi-square goodness of fit: ``Σ (O - E)² / E`` and its p-value.

    >>> round(chi2_test([10, 20, 30], [20, 20, 20])[0], 4)
    10.0
    """
    from scipy import stats

    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    x = float(((o - e) ** 2 / e).sum())
    dof = len(o) - 1 - ddof
    return x, float(stats.chi2.sf(x, dof)) if dof > 0 else float("nan")


# ============================================================================ sampling_bias

@dataclass(frozen=True)
class SamplingBias(Result):
    """Result of :func:`sampling_bias`.

    ``tests``: one row per test (dimension, test, statistic, dof, p_value, effect_size,
    effect_name, n_sample, n_population, biased). ``strata``: one row per dimension × stratum
    (sample and population counts and shares, ratio of shares, z, p_value, representation, error
    rates). ``windows``: one row per time window examined (source, rule, start, end, requested,
    sampled, ratio, baseline_ratio, flag). ``findings``: plain-language rows (kind, severity,
    dimension, subject, start, end, value, message).
    """

    TABLE = "findings"  #: the field .table returns

    tests: pd.DataFrame
    strata: pd.DataFrame
    windows: pd.DataFrame
    findings: pd.DataFrame
    params: dict = field(default_factory=dict, compare=False)  #: the settings it was computed with

    @property
    def biased(self) -> bool:
        """True when any test finds the sample biased (a ``tests`` row's ``biased``: its p-value under ``alpha``) or
        any finding has severity ``high``: one verdict with the rows it stands on (a G-test at p 0.0026 on the
        services' mix said biased in its row while this said False, no single stratum's ratio being past ×2)."""
        rows = bool(self.tests["biased"].astype(bool).any()) if len(self.tests) and "biased" in self.tests else False
        high = bool((self.findings["severity"] == "high").any()) if len(self.findings) else False
        return rows or high


_FINDING_COLUMNS = ["kind", "severity", "dimension", "subject", "start", "end", "value", "message"]
_TEST_COLUMNS = ["dimension", "test", "statistic", "dof", "p_value", "effect_size", "effect_name",
                 "n_sample", "n_population", "biased"]
_WINDOW_COLUMNS = ["source", "rule", "start", "end", "requested", "sampled", "ratio", "baseline_ratio", "flag"]
_TIME_COLUMNS = ("time", "timestamp", "minute", "window_start", "start")


def _finding(kind: str, severity: str, message: str, *, dimension: Any = None, subject: Any = None,
             start: Any = None, end: Any = None, value: float = float("nan")) -> dict:
    return {"kind": kind, "severity": severity, "dimension": dimension, "subject": subject,
            "start": start, "end": end, "value": value, "message": message}


def _pct(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{100 * x:.3g}%"


def _population_frame(population: Any, keys: list[str]) -> tuple[str, pd.DataFrame | None]:
    """('spans', trace table) or ('metrics', DataFrame with requests[, errors][, time])."""
    if population is None:
        return "none", None
    if not isinstance(population, pd.DataFrame):
        raise ArgumentError(f"population must be a spans DataFrame or a DataFrame of counts, got "
                            f"{type(population).__name__}")
    if {"trace_id", "span_id"} <= set(population.columns):
        return "spans", trace_table(population, [k for k in keys if k in population.columns
                                                  or k in ("status_class", "route")], what="sampling_bias population")
    pop = population.copy()
    if "requests" not in pop.columns:
        for alt in ("count", "request_count", "RequestCount"):
            if alt in pop.columns:
                pop = pop.rename(columns={alt: "requests"})
                break
        else:
            raise TraceKitError("population counts need a 'requests' (or 'count') column; optional "
                                "'errors' and a time column (" + ", ".join(_TIME_COLUMNS) + ")")
    if "errors" not in pop.columns:
        for alt in ("errors_5xx", "5xx", "faults"):
            if alt in pop.columns:
                pop = pop.rename(columns={alt: "errors"})
                break
    vals = pd.to_numeric(pop["requests"], errors="coerce")
    if vals.isna().any() or (vals < 0).any():
        bad = int(np.flatnonzero((vals.isna() | (vals < 0)).to_numpy())[0])
        raise ArgumentError(f"population 'requests' must be non-negative numbers (row {bad}: "
                            f"{pop['requests'].iloc[bad]!r})")
    return "metrics", pop


def _pop_time(pop: pd.DataFrame) -> str | None:
    for c in _TIME_COLUMNS:
        if c in pop.columns:
            return c
    return None


@renamed(window="freq")
def sampling_bias(spans: pd.DataFrame, population: Any = None, *, by: str | Sequence[str] = ("service",),
                  weights: Any = None, latency: Any = None, stats: Any = None,
                  freq: str | pd.Timedelta = "1min", test: str = "g", alpha: float = 0.01,
                  ratio_tolerance: float = 1.25, saturation_drop: float = 0.5) -> SamplingBias:
    """Is this sample of traces representative? Tests, effect sizes and plain-language findings.

    ``population`` is the reference: the full spans DataFrame (e.g. a simulator's population),
    or counts per stratum — a DataFrame with the ``by`` columns, ``requests``, optionally
    ``errors`` (e.g. 5xx) and a time column (``time``/``timestamp``/``minute``) as from
    load-balancer or CloudWatch metrics. Per dimension in ``by`` (read at each trace's root:
    a spans column, ``status_class`` or ``route``): a goodness-of-fit test of the sample's trace
    counts against the population shares (``test="g"`` G-test or ``"chi2"``), Cramér's V, and
    per stratum the ratio of shares with an exact binomial test (twice the smaller tail; ``z`` is the normal score,
    not what ``p_value`` reads: on few traces it overstated the evidence); errors: binomial test of the sample's root
    error share against the population's; latency: Kolmogorov–Smirnov of root durations against
    the population's (two-sample) or against ``latency`` (a histogram DataFrame with ``le`` upper
    bounds in ms and ``count``, tested at the bin edges; or an array of durations). Time:
    windows where sampled/requested fell well below its usual level (reservoir saturation) and
    windows with no traces at all although some were expected (collection gaps), from the
    population's time column or from X-Ray ``stats`` (per rule); without either, gaps are judged
    from the sample's own rate. Services present in the population but absent from the sample are
    reported. ``weights`` (from :func:`sampling_weights`) add corrected shares and error rates.
    Where no span of the sample (or of a spans ``population``) records a status
    (:func:`tracekit.core.status_recorded`) its error share is unknown, not 0: the strata's
    ``sample_error_rate`` (``population_error_rate``) is NaN and errors are not tested (a ``not_tested``
    finding on ``errors`` says why).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    population : Any, default None
        The reference: the full spans frame, or counts per stratum (the ``by`` columns, ``requests``, optionally ``errors`` and a time column).
    by : str | Sequence[str], default ('service',)
        Grouping keys: a named key of :data:`tracekit.core.BY_KEYS` (service, operation, route, host, version, call_path) or a column, or a list of them.
    weights : Any, default None
        Sampling weights: the frame of :func:`tracekit.sampling_weights`, a Series of weights by trace id or one
        number ≥ 1 (:func:`tracekit.core.trace_weights`); ``None``: every trace counts once.
    latency : Any, default None
        Reference request latencies: a histogram frame (``le`` in ms, ``count``) or an array of durations.
    stats : Any, default None
        X-Ray sampling statistics per rule (:func:`tracekit.fetch_xray_sampling`), to find reservoir saturation.
    freq : str | pd.Timedelta, default '1min'
        Width of the time windows of the saturation and gap checks (a pandas offset), the bucket width that
        :func:`tracekit.timeline` calls ``freq`` (``window=``, its old name, still works with a DeprecationWarning:
        ``window`` elsewhere is an incident's (start, end)).
    test : str, default 'g'
        Goodness-of-fit test: ``"g"`` (G-test) or ``"chi2"``.
    alpha : float, default 0.01
        Significance level of every test.
    ratio_tolerance : float, default 1.25
        A stratum's share ratio (sample / population) beyond this factor is reported.
    saturation_drop : float, default 0.5
        A window whose sampled / requested falls below this fraction of its usual level is saturated.

    Returns
    -------
    SamplingBias
        Is this sample of traces representative? Tests, effect sizes and plain-language findings.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["%032x" % i for i in range(1, 41)],
    ...     "span_id": ["%016x" % i for i in range(1, 41)], "service": ["api"] * 30 + ["web"] * 10,
    ...     "name": ["GET /"] * 40, "start": [0] * 40, "end": [1] * 40})
    >>> pop = pd.DataFrame({"service": ["api", "web", "db"], "requests": [500, 500, 10]})
    >>> b = sampling_bias(spans, pop, by="service")
    >>> b.findings["kind"].tolist()
    ['over_represented', 'under_represented', 'missing_service']
    """
    keys = as_list(by)
    if test not in ("g", "chi2"):
        raise ArgumentError(f"sampling_bias: test must be 'g' or 'chi2', got {test!r}")
    alpha = share_arg(alpha, "alpha", "sampling_bias")
    step = duration_arg(freq, "freq", "sampling_bias")
    tt = trace_table(spans, keys, what="sampling_bias")
    if len(spans):
        steps_arg(step, spans["start"].min(), spans["start"].max(), "freq", "sampling_bias")
    kind, pop = _population_frame(population, keys)
    w = weights_for(tt, weights, "sampling_bias") if weights is not None else None
    pop_services: set | dict = set()
    if kind == "spans":
        pop_services = service_reach(population)
    elif kind == "metrics" and "service" in pop.columns:
        req = pd.to_numeric(pop["requests"])
        per = req[req > 0].groupby(pop.loc[req > 0, "service"].dropna().astype(str)).sum()
        pop_services = {sv: (float(c), float(req.sum()), "requests") for sv, c in per.items()}
    return bias_core(tt, kind, pop, set(spans["service"].dropna().astype(str)), pop_services, keys, w,
                      latency, stats, step, test, alpha, ratio_tolerance, saturation_drop)


def service_reach(spans: pd.DataFrame) -> dict[str, tuple[float, float, str]]:
    """Per service of a spans population: (traces holding one of its spans, traces, ``"traces"``), what
    :func:`bias_core` weighs a service missing from the sample against."""
    if not len(spans):
        return {}
    has = spans["service"].notna().to_numpy(dtype=bool)
    svc = spans["service"].astype(object).to_numpy()[has].astype(str)
    tid = spans["trace_id"].astype(object).to_numpy()[has]
    per = pd.DataFrame({"s": svc, "t": tid}).drop_duplicates().groupby("s").size()
    total = float(spans["trace_id"].nunique())
    return {sv: (float(c), total, "traces") for sv, c in per.items()}


def bias_core(tt: pd.DataFrame, kind: str, pop: pd.DataFrame | None, sample_services: set, pop_services: Any,
               keys: list[str], w: np.ndarray | None, latency: Any, stats: Any, window: pd.Timedelta,
               test: str, alpha: float, ratio_tolerance: float, saturation_drop: float) -> SamplingBias:
    tests: list[dict] = []
    strata: list[pd.DataFrame] = []
    findings: list[dict] = []
    windows: list[pd.DataFrame] = []
    n = len(tt)
    # core.status_recorded of the sample's spans and of a spans population (trace_table's attrs): where False,
    # nothing could be recorded as failed, so their error shares are unknown (NaN), not 0
    s_known = bool(tt.attrs.get("status_recorded", True))
    p_known = bool(pop.attrs.get("status_recorded", True)) if kind == "spans" and pop is not None else True

    # ---- strata per dimension
    for dim in keys:
        if pop is None:
            break
        if dim not in pop.columns:
            findings.append(_finding("not_tested", "info", f"population has no {dim!r} column; "
                                     f"{dim} was not tested", dimension=dim))
            continue
        s_counts = tt.groupby(dim, dropna=False).size()
        if kind == "spans":
            p_counts = pop.groupby(dim, dropna=False).size().astype(float)
            # the error rate's population: requests of known outcome (core.failed_share), failed among them
            p_kr = known_requests(pop)
            p_err = pop[p_kr].groupby(dim, dropna=False)["failed"].sum().astype(float)
            p_den = pop[p_kr].groupby(dim, dropna=False).size().astype(float)
        else:
            p_counts = pop.groupby(dim, dropna=False)["requests"].sum().astype(float)
            p_err = pop.groupby(dim, dropna=False)["errors"].sum().astype(float) if "errors" in pop.columns else None
            p_den = p_counts
        s_counts.index = s_counts.index.astype(object)
        p_counts.index = p_counts.index.astype(object)
        allv = pd.Index(p_counts.index).union(pd.Index(s_counts.index), sort=False)
        o = s_counts.reindex(allv, fill_value=0).to_numpy(dtype=float)
        pc = p_counts.reindex(allv, fill_value=0).to_numpy(dtype=float)
        s_kr = known_requests(tt)  # requests of known outcome: the error rate's population (core.failed_share)
        s_err = tt[s_kr].groupby(dim, dropna=False)["failed"].sum()
        s_err.index = s_err.index.astype(object)
        s_err = s_err.reindex(allv, fill_value=0).to_numpy(dtype=float)
        s_den = tt[s_kr].groupby(dim, dropna=False).size()
        s_den.index = s_den.index.astype(object)
        s_den = s_den.reindex(allv, fill_value=0).to_numpy(dtype=float)
        in_pop = pc > 0
        n_in = o[in_pop].sum()
        share_pop = np.where(in_pop, pc / pc[in_pop].sum() if in_pop.any() else np.nan, 0.0)
        e = n_in * share_pop
        with np.errstate(divide="ignore", invalid="ignore"):
            share_s = o / n_in if n_in else np.full(len(o), np.nan)
            ratio = np.where(in_pop, share_s / share_pop, np.inf)
            z = (o - e) / np.sqrt(e * (1 - share_pop))
        from scipy import stats as sst

        # exact binomial (twice the smaller tail, at most 1) of the stratum's sampled traces among n_in at its
        # population share: the normal z-test said p=3.1e-05 and 'high' of 2 of 3 sampled traces at a share of 1/15
        # (0.2 expected; exact p 0.025)
        k_o = np.round(o).astype(np.int64)
        n_t = int(round(n_in))
        p_sh = np.clip(share_pop, 0.0, 1.0)
        pz = np.minimum(1.0, 2 * np.minimum(sst.binom.cdf(k_o, n_t, p_sh), sst.binom.sf(k_o - 1, n_t, p_sh)))
        pz = np.where(in_pop, pz, np.nan)
        rep = np.where(~in_pop, "not_in_population",
                       np.where((pz < alpha) & (ratio > ratio_tolerance), "over",
                                np.where((pz < alpha) & (ratio < 1 / ratio_tolerance), "under", "ok")))
        st = pd.DataFrame({"dimension": dim, "stratum": list(allv), "sample_traces": o.astype(np.int64),
                           "population": pc, "expected": e, "sample_share": share_s, "population_share": share_pop,
                           "ratio": ratio, "z": z, "p_value": pz, "representation": rep,
                           "sample_error_rate": np.where((s_den > 0) & s_known, s_err / np.maximum(s_den, 1), np.nan)})
        if p_err is not None:
            p_err.index = p_err.index.astype(object)
            pe = p_err.reindex(allv, fill_value=0).to_numpy(dtype=float)
            p_den.index = p_den.index.astype(object)
            pd_ = p_den.reindex(allv, fill_value=0).to_numpy(dtype=float)
            st["population_error_rate"] = np.where((pd_ > 0) & p_known, pe / np.maximum(pd_, 1), np.nan)
        if w is not None:
            known = ~np.isnan(w)
            ws = pd.Series(w[known]).groupby(tt.loc[known, dim].reset_index(drop=True), dropna=False).sum()
            ws.index = ws.index.astype(object)
            wv = ws.reindex(allv, fill_value=0).to_numpy(dtype=float)
            st["weighted_share"] = wv / wv[in_pop].sum() if wv[in_pop].sum() > 0 else np.nan
            st["weighted_ratio"] = np.where(in_pop, st["weighted_share"] / share_pop, np.nan)
        strata.append(st)
        k = int(in_pop.sum())
        if k >= 2 and n_in > 0:
            stat, p = (g_test if test == "g" else chi2_test)(o[in_pop], e[in_pop])
            name = "G-test" if test == "g" else "chi-square"
            if e[in_pop].min() < 5:  # the chi-square law of the statistic does not hold on so few expected traces
                p = _simulated_p(stat, int(round(n_in)), share_pop[in_pop], test)
                name += " (Monte Carlo p-value)"
            v = math.sqrt(stat / (n_in * (k - 1)))
            biased = bool(p < alpha)
            tests.append({"dimension": dim, "test": name, "statistic": stat,
                          "dof": k - 1, "p_value": p, "effect_size": v, "effect_name": "Cramér's V",
                          "n_sample": int(n_in), "n_population": float(pc.sum()), "biased": biased})
        for i, val in enumerate(allv):
            if rep[i] in ("over", "under"):
                findings.append(_finding(
                    f"{rep[i]}_represented", "high" if (ratio[i] > 2 or ratio[i] < 0.5) else "medium",
                    f"{dim} {val!r} is {rep[i]}-represented: {_pct(share_s[i])} of sampled traces "
                    f"({o[i]:,.0f} of {n_in:,.0f}) vs {_pct(share_pop[i])} of the population's "
                    f"{'traces' if kind == 'spans' else 'requests'} ({pc[i]:,.0f} of {pc[in_pop].sum():,.0f}) "
                    f"(×{ratio[i]:.2f}, p={pz[i]:.2g})"
                    + (f"; weighting restores ×{st['weighted_ratio'].iloc[i]:.2f}" if w is not None else ""),
                    dimension=dim, subject=val, value=float(ratio[i])))
            elif rep[i] == "not_in_population":
                findings.append(_finding("unexpected_stratum", "medium",
                                         f"{dim} {val!r} has {int(o[i])} sampled traces but no requests in the "
                                         "population reference", dimension=dim, subject=val))
        if dim != "service":
            missing = [(v, c) for v, c, oo in zip(allv, pc, o, strict=True) if c > 0 and oo == 0]
            for v, c in missing:
                findings.append(_finding("missing_stratum", "medium" if c * n_in / max(pc.sum(), 1) < 5 else "high",
                                         f"{dim} {v!r} has {c:g} requests in the population but no sampled traces "
                                         f"(about {c * n_in / max(pc.sum(), 1):.1f} expected)",
                                         dimension=dim, subject=v, value=float(c)))

    # ---- services missing
    # weighed against what chance gives: a service in 10 of 1,010 requests is absent from 40 representative sampled
    # traces 67 % of the time (about 0.4 expected), and was said 'high' as if the sample had lost it. With its reach
    # known (pop_services a mapping: service -> (requests or traces holding it, of how many, which)), 'high' only
    # when none in n sampled traces has a chance below alpha, (1 - share)^n; else 'info', the expected count said
    missing_services = sorted(set(pop_services) - sample_services)
    for sv in missing_services:
        reach = pop_services.get(sv) if isinstance(pop_services, dict) else None
        if reach is None or not reach[1] > 0 or not n:
            findings.append(_finding("missing_service", "high",
                                     f"service {sv!r} appears in the population but in none of the sampled spans",
                                     dimension="service", subject=sv))
            continue
        c, total, what = reach
        share = min(1.0, c / total)
        chance = (1.0 - share) ** n
        findings.append(_finding(
            "missing_service", "high" if chance < alpha else "info",
            f"service {sv!r} appears in the population but in none of the sampled spans: about {n * share:.2g} of "
            f"the {n:,} sampled traces were expected to reach it (it is in {c:,.0f} of {total:,.0f} population "
            f"{what}); none by chance: {chance:.2g}" + ("" if chance < alpha else ", no sign the sample lost it"),
            dimension="service", subject=sv, value=float(n * share)))

    # ---- errors
    # share of requests that failed (core.trace_outcomes), against the population's (spans or errors / requests)
    pop_rate = np.nan
    err_col = "failed"
    s_kr = known_requests(tt)  # the failed share's population (core.failed_share): requests of known outcome
    n_k = int(s_kr.sum())
    has_ref = False  # a population error share to test against
    if kind == "spans" and len(pop):
        has_ref = True
        p_kr = known_requests(pop)
        pop_rate = float(pop["failed"].to_numpy(dtype=float)[p_kr].mean()) if p_kr.any() else np.nan
    elif kind == "metrics" and "errors" in pop.columns and pop["requests"].sum() > 0:
        has_ref = True
        pop_rate = float(pd.to_numeric(pop["errors"]).sum() / pd.to_numeric(pop["requests"]).sum())
    if has_ref and n and not (s_known and p_known):
        which = " and ".join(x for x, k in (("sampled", s_known), ("population", p_known)) if not k)
        findings.append(_finding("not_tested", "info", f"errors were not tested: no {which} span records a status, "
                                 "an HTTP code or a fault flag, so the error share is unknown, not 0",
                                 dimension="errors"))
        pop_rate = np.nan
    if np.isfinite(pop_rate) and n_k:
        from scipy import stats as sst

        k_err = int(tt[err_col].to_numpy(dtype=bool)[s_kr].sum())
        s_rate = k_err / n_k
        if 0 < pop_rate < 1:
            p = float(sst.binomtest(k_err, n_k, pop_rate).pvalue)
        else:
            p = 0.0 if (k_err > 0) != (pop_rate > 0) else 1.0
        ratio = s_rate / pop_rate if pop_rate > 0 else (np.inf if s_rate > 0 else 1.0)
        biased = bool(p < alpha and (ratio > ratio_tolerance or ratio < 1 / ratio_tolerance))
        n_ref = float(known_requests(pop).sum()) if kind == "spans" else float(pd.to_numeric(pop["requests"]).sum())
        tests.append({"dimension": "errors", "test": "binomial", "statistic": s_rate, "dof": np.nan,
                      "p_value": p, "effect_size": ratio, "effect_name": "ratio of error shares",
                      "n_sample": n_k, "n_population": n_ref, "biased": biased})
        if biased:
            corrected = ""
            if w is not None:
                known = ~np.isnan(w) & s_kr
                if known.any():
                    wr = float(w[known] @ tt[err_col].to_numpy(dtype=float)[known] / w[known].sum())
                    # its population: the sampled requests of known weight and the requests they stand for
                    corrected = (f"; weighted by inclusion probability: {_pct(wr)} of an estimated "
                                 f"{float(w[known].sum()):,.0f} requests (from {int(known.sum()):,} sampled)")
            word = "under" if ratio < 1 else "over"
            findings.append(_finding(
                f"errors_{word}_sampled", "high",
                f"errors are {word}-sampled: {_pct(s_rate)} of {n_k:,} sampled requests with a known outcome failed"
                + f" vs {_pct(pop_rate)} of the population's {n_ref:,.0f} requests"
                f" (×{ratio:.2f}, p={p:.2g}); uncorrected error rates from this sample are biased"
                + corrected, dimension="errors", value=float(ratio)))

    # ---- latency
    _latency_test(tt, kind, pop, latency, w, alpha, tests, findings)

    # ---- time windows
    if kind in ("spans", "metrics"):
        tw = _population_windows(tt, kind, pop, window)
        if tw is not None:
            windows.append(_flag_windows(tw, alpha, saturation_drop))
            findings.extend(_outside_population(tt, tw))
    if stats is not None:
        windows.append(_stats_windows(stats, alpha, saturation_drop))
    if not windows or all(x is None for x in windows):
        if n:
            windows.append(_sample_gaps(tt, window, alpha))
    windows = [x for x in windows if x is not None]
    wdf = pd.concat(windows, ignore_index=True) if windows else pd.DataFrame(columns=_WINDOW_COLUMNS)
    findings.extend(_window_findings(wdf))

    # in their declared dtypes (text was str or object, every column object when there were no rows)
    wdf = SAMPLING_BIAS_WINDOWS.typed(wdf)
    tests_df = SAMPLING_BIAS_TESTS.typed(pd.DataFrame(tests, columns=_TEST_COLUMNS))
    strata_df = pd.concat(strata, ignore_index=True) if strata else pd.DataFrame(
        columns=["dimension", "stratum", "sample_traces", "population", "expected", "sample_share",
                 "population_share", "ratio", "z", "p_value", "representation"])
    findings_df = SAMPLING_BIAS_FINDINGS.typed(pd.DataFrame(findings, columns=_FINDING_COLUMNS))
    return SamplingBias(tests_df, strata_df, wdf.reset_index(drop=True), findings_df,
                        params={"by": keys, "test": test, "alpha": alpha, "freq": str(window),
                                "ratio_tolerance": ratio_tolerance, "saturation_drop": saturation_drop})


def _weighted_ks_d(d: np.ndarray, w: np.ndarray, ref: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance between the weighted CDF of ``d`` (weights ``w``) and the CDF of ``ref``: how far
    the weighted sample still is from the population (a latency finding with weights gave the weighted p95 alone, no
    word of whether weighting restores the distribution the test found shifted)."""
    xs = np.unique(np.concatenate([d, ref]))
    o = np.argsort(d, kind="stable")
    cw = np.concatenate([[0.0], np.cumsum(w[o])]) / float(w.sum())
    f_w = cw[np.searchsorted(d[o], xs, side="right")]
    f_r = np.searchsorted(np.sort(ref), xs, side="right") / len(ref)
    return float(np.abs(f_w - f_r).max()) if len(xs) else float("nan")


def _simulated_p(stat: float, n: int, share: np.ndarray, test: str, draws: int = 10_000) -> float:
    """p-value of a goodness-of-fit statistic by simulation: ``draws`` samples of ``n`` traces drawn (multinomial,
    seeded) at the population's ``share``, ``(1 + those at least as far) / (1 + draws)``. Where an expected count
    is below 5 the chi-square law misreads the statistic: 3 sampled traces, 2 of a service of 1 in 15 requests, G 7.2
    read p 0.0075 ('biased' at 0.01) while the exact chance of a G that large is 0.013."""
    rng = np.random.default_rng(0)
    share = np.asarray(share, dtype=float) / float(np.sum(share))
    e = n * share
    k = len(share)
    block = max(1, 2_000_000 // max(k, 1))
    far = 0
    done = 0
    while done < draws:
        b = min(block, draws - done)
        o = rng.multinomial(n, share, size=b).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if test == "g":
                st = 2.0 * np.where(o > 0, o * np.log(o / e), 0.0).sum(axis=1)
            else:
                st = ((o - e) ** 2 / e).sum(axis=1)
        far += int((st >= stat - 1e-9 * max(1.0, abs(stat))).sum())
        done += b
    return (1 + far) / (1 + draws)


def _latency_test(tt: pd.DataFrame, kind: str, pop: Any, latency: Any, w: Any, alpha: float,
                  tests: list, findings: list) -> None:
    from scipy import stats as sst

    d = tt["request_ms"].to_numpy(dtype=float)
    d = d[~np.isnan(d)]
    if not len(d):
        return
    ref: np.ndarray | None = None
    if isinstance(latency, pd.DataFrame):
        if not {"le", "count"} <= set(latency.columns):
            raise TraceKitError("a latency histogram needs columns 'le' (upper bound, ms) and 'count'")
        h = latency.sort_values("le")
        le = h["le"].to_numpy(dtype=float)
        cnt = h["count"].to_numpy(dtype=float)
        f_pop = np.cumsum(cnt) / cnt.sum()
        f_s = np.searchsorted(np.sort(d), le, side="right") / len(d)
        diff = f_s - f_pop
        i = int(np.argmax(np.abs(diff)))
        stat = float(abs(diff[i]))
        p = float(sst.kstwo.sf(stat, len(d)))
        tests.append({"dimension": "latency", "test": "KS vs histogram (at bin edges)", "statistic": stat,
                      "dof": np.nan, "p_value": p, "effect_size": stat, "effect_name": "KS D",
                      "n_sample": len(d), "n_population": float(cnt.sum()), "biased": bool(p < alpha)})
        if p < alpha:
            word = "faster" if diff[i] > 0 else "slower"
            findings.append(_finding("latency_shift", "high",
                                     f"sampled traces are {word} than the population: {_pct(f_s[i])} of the {len(d):,} "
                                     f"sampled request latencies are within {le[i]:g} ms vs {_pct(f_pop[i])} of the "
                                     f"histogram's {cnt.sum():,.0f} requests (KS D={stat:.3f}, p={p:.2g})",
                                     dimension="latency", value=stat))
        return
    if latency is not None:
        ref = np.asarray(latency, dtype=float)
    elif kind == "spans":
        ref = pop["request_ms"].to_numpy(dtype=float)
    if ref is None:
        return
    ref = ref[~np.isnan(ref)]
    if not len(ref):
        return
    r = sst.ks_2samp(d, ref)
    stat, p = float(r.statistic), float(r.pvalue)
    tests.append({"dimension": "latency", "test": "KS two-sample", "statistic": stat, "dof": np.nan,
                  "p_value": p, "effect_size": stat, "effect_name": "KS D", "n_sample": len(d),
                  "n_population": float(len(ref)), "biased": bool(p < alpha)})
    if p < alpha:
        s95, r95 = percentile(d, 0.95), percentile(ref, 0.95)
        word = "slower" if s95 > r95 else "faster"
        extra = ""
        if w is not None:
            dd = tt["request_ms"].to_numpy(dtype=float)
            has = ~np.isnan(dd) & ~np.isnan(w)
            if has.any():  # its population: the sampled latencies of known weight and the requests they stand for
                d_w = _weighted_ks_d(dd[has], w[has], ref)
                extra = (f"; weighted p95 {ms_text(weighted_quantile(dd[has], w[has], 0.95))} (the {int(has.sum()):,} "
                         f"sampled latencies weighted to an estimated {float(w[has].sum()):,.0f} requests), weighted "
                         f"KS D={d_w:.3f} against the population's ({stat:.3f} unweighted)")
        findings.append(_finding("latency_shift", "high",
                                 f"sampled traces are {word} than the population: p95 {ms_text(s95)} of the "
                                 f"{len(d):,} sampled request latencies vs {ms_text(r95)} of the population's "
                                 f"{len(ref):,} (KS D={stat:.3f}, p={p:.2g}){extra}", dimension="latency", value=stat))


def _assign(starts: np.ndarray, window_starts: np.ndarray, length: np.timedelta64) -> np.ndarray:
    pos = np.searchsorted(window_starts, starts, side="right") - 1
    ok = (pos >= 0) & (starts < window_starts[np.maximum(pos, 0)] + length)
    return np.where(ok, pos, -1)


def _population_windows(tt: pd.DataFrame, kind: str, pop: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame | None:
    if kind == "metrics":
        tcol = _pop_time(pop)
        if tcol is None:
            return None
        times = pd.to_datetime(pop[tcol], utc=True)
        req = pd.to_numeric(pop["requests"]).groupby(times.to_numpy()).sum()
        length = window_length(pd.Series(req.index), window)
        wstart = pd.DatetimeIndex(req.index).tz_localize(None).to_numpy(dtype="datetime64[ns]") \
            if pd.DatetimeIndex(req.index).tz is not None else req.index.to_numpy(dtype="datetime64[ns]")
        requested = req.to_numpy(dtype=float)
    else:
        if not len(pop):
            return None
        ps = pop["start"].dt.floor(window)
        req = ps.groupby(ps).size()
        wstart = pd.DatetimeIndex(req.index).tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
        requested = req.to_numpy(dtype=float)
        length = window
        full = np.arange(wstart.min(), wstart.max() + length.to_timedelta64(), length.to_timedelta64())
        requested = pd.Series(requested, index=wstart).reindex(full, fill_value=0).to_numpy(dtype=float)
        wstart = full
    s = tt["start"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    idx = _assign(s, wstart, length.to_timedelta64())
    sampled = np.bincount(idx[idx >= 0], minlength=len(wstart)).astype(float)
    return pd.DataFrame({"source": "population", "rule": None, "start": pd.to_datetime(wstart, utc=True),
                         "end": pd.to_datetime(wstart + length.to_timedelta64(), utc=True),
                         "requested": requested, "sampled": sampled})


def _outside_population(tt: pd.DataFrame, tw: pd.DataFrame) -> list[dict]:
    """A finding when sampled traces start outside the population's time range: the reference is of another period
    (a sample of 00:00-01:00 against a population of 02:00-03:00 gave no finding at all: every population window
    held 0 sampled traces, so the usual sampled share was 0 and nothing could fall below it)."""
    if tw.empty or not len(tt):
        return []
    t0, t1 = pd.Timestamp(tw["start"].min()), pd.Timestamp(tw["end"].max())
    s = tt["start"]
    out = ((s < t0) | (s >= t1)).to_numpy(dtype=bool)
    k, n = int(out.sum()), len(tt)
    if not k:
        return []
    return [_finding("outside_population", "high" if k == n else "medium",
                     f"{k:,} of {n:,} sampled traces start outside the population's time range "
                     f"({t0:%Y-%m-%d %H:%M:%S} to {t1:%Y-%m-%d %H:%M:%S} UTC): "
                     + ("the reference is of another period, so no comparison with it says whether this sample is "
                        "representative" if k == n else "they are left out of the time-window checks"),
                     dimension="time", start=t0, end=t1, value=k / n)]


def _stats_windows(stats: Any, alpha: float, drop: float) -> pd.DataFrame:
    st = xray_stats_frame(stats)
    parts = []
    for rule, g in st.groupby("rule_name", sort=True):
        length = window_length(g["timestamp"], pd.Timedelta("10s"))
        parts.append(_flag_windows(pd.DataFrame({
            "source": "xray_stats", "rule": rule, "start": g["timestamp"].to_numpy(),
            "end": (g["timestamp"] + length).to_numpy(),
            "requested": g["request_count"].to_numpy(dtype=float),
            "sampled": g["sampled_count"].to_numpy(dtype=float)}), alpha, drop))
    if not parts:
        return pd.DataFrame(columns=_WINDOW_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _flag_windows(tw: pd.DataFrame, alpha: float, drop: float) -> pd.DataFrame:
    """Flag saturation (ratio fell below ``drop`` × its median, significantly) and gaps (none sampled
    though some were expected)."""
    from scipy import stats as sst

    tw = tw.copy()
    req = tw["requested"].to_numpy(dtype=float)
    smp = tw["sampled"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(req > 0, smp / req, np.nan)
    base = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")
    base = min(base, 1.0)
    tw["ratio"] = ratio
    tw["baseline_ratio"] = base
    flag = np.full(len(tw), None, dtype=object)
    if np.isfinite(base) and base > 0:
        low_p = sst.binom.cdf(smp, np.maximum(req, 0).astype(np.int64), base)
        low = (req > 0) & (ratio < drop * base) & (low_p < alpha)
        flag[low & (smp > 0)] = "saturation"
        flag[low & (smp == 0)] = "gap"
    tw["flag"] = pd.Series(flag, dtype=STRING).to_numpy()
    tw["flag"] = tw["flag"].astype(STRING)
    tw["rule"] = tw["rule"].astype(STRING)
    tw["source"] = tw["source"].astype(STRING)
    return tw[_WINDOW_COLUMNS]


def _sample_gaps(tt: pd.DataFrame, window: pd.Timedelta, alpha: float) -> pd.DataFrame:
    """Without a population: empty windows between the first and last sampled trace, judged against
    the sample's own mean rate."""
    s = tt["start"].dt.floor(window)
    counts = s.groupby(s).size()
    idx = pd.date_range(counts.index.min(), counts.index.max(), freq=window)
    c = counts.reindex(idx, fill_value=0).to_numpy(dtype=float)
    lam = c.sum() / len(c)
    empty = c == 0
    flag = np.full(len(c), None, dtype=object)
    # a run of k empty windows is a gap when exp(-lam * k) < alpha
    run_id = np.cumsum(~empty)
    for r in np.unique(run_id[empty]):
        members = empty & (run_id == r)
        if math.exp(-lam * members.sum()) < alpha:
            flag[members] = "gap"
    return pd.DataFrame({"source": pd.Series("sample", index=range(len(c)), dtype=STRING),
                         "rule": pd.Series([None] * len(c), dtype=STRING), "start": idx,
                         "end": idx + window, "requested": np.nan, "sampled": c, "ratio": np.nan,
                         "baseline_ratio": np.nan, "flag": pd.Series(flag, dtype=STRING)})


def _window_findings(wdf: pd.DataFrame) -> list[dict]:
    out: list[dict] = []
    if wdf.empty:
        return out
    flagged = wdf["flag"].notna().to_numpy()
    if not flagged.any():
        return out
    # merge consecutive flagged windows with the same source, rule and flag
    key = [f"{a}|{b}|{c}" for a, b, c in zip(wdf["source"].astype(object).fillna(""),
                                               wdf["rule"].astype(object).fillna(""),
                                               wdf["flag"].astype(object).fillna(""), strict=True)]
    starts = wdf["start"].to_numpy()
    ends = wdf["end"].to_numpy()
    i = 0
    m = len(wdf)
    while i < m:
        if not flagged[i]:
            i += 1
            continue
        j = i
        while j + 1 < m and flagged[j + 1] and key[j + 1] == key[i] and starts[j + 1] <= ends[j]:
            j += 1
        seg = wdf.iloc[i:j + 1]
        req, smp = float(seg["requested"].sum()), float(seg["sampled"].sum())
        base = float(seg["baseline_ratio"].iloc[0])
        rule = seg["rule"].iloc[0]
        flag = seg["flag"].iloc[0]
        t0, t1 = seg["start"].iloc[0], seg["end"].iloc[-1]
        span = f"from {pd.Timestamp(t0):%Y-%m-%d %H:%M:%S} to {pd.Timestamp(t1):%H:%M:%S} UTC"
        who = f"rule {rule!r}: " if isinstance(rule, str) else ""
        if flag == "saturation":
            r = smp / req if req else float("nan")
            out.append(_finding(
                "reservoir_saturation", "high",
                f"{who}sampled/requested fell to {_pct(r)} (usually {_pct(base)}) {span} over {req:g} requests — "
                f"the reservoir was saturated; traces from this window are under-represented about "
                f"×{base / r:.1f} in the sample" if r > 0 else f"{who}sampled/requested fell {span}",
                subject=rule if isinstance(rule, str) else None, start=t0, end=t1,
                value=float(r)))
        else:
            if np.isfinite(req) and req > 0:
                msg = (f"{who}no traces {span} although {req:g} requests arrived (about {base * req:.1f} sampled "
                       "traces expected): a collection gap")
            else:
                msg = f"no traces at all {span} although the sample's rate predicts some: a collection gap"
            out.append(_finding("collection_gap", "high", msg, subject=rule if isinstance(rule, str) else None,
                                start=t0, end=t1, value=0.0))
        i = j + 1
    return out
