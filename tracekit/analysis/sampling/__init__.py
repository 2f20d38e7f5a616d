"""Sampling: inclusion probabilities, corrected estimates, bias checks and sampler simulation.

Traces are sampled (head sampling at a few percent, X-Ray's reservoir of N requests a second
plus a fixed rate, tail sampling that keeps errors). Numbers quoted from sampled traces are
biased unless each trace is weighted by 1 / its inclusion probability. This module

* works out each trace's inclusion probability from what the data carries
  (:func:`sampling_weights`): OTel ``ot=th:`` thresholds, a SampleRate-style attribute, a
  user-given rate, or X-Ray sampling rules matched to the trace's root combined with the
  per-window statistics (which capture reservoir saturation). Unknown probabilities stay NaN
  with ``weight_source == 'unknown'`` and a note saying why; they are never guessed;
* estimates request counts, error rates and root-latency percentiles with intervals
  (:func:`weighted_summary`: Horvitz–Thompson / Hájek estimators, weighted quantiles, a seeded
  Poisson bootstrap over traces);
* checks whether a sample is representative of a population reference (:func:`sampling_bias`:
  G-test or chi-square per dimension, Cramér's V, Kolmogorov–Smirnov on latency, reservoir
  saturation windows, collection gaps, missing services) and says so in plain language;
* applies X-Ray rules, a consistent probability sampler or a tail rule to a full population
  (:func:`simulate_sampling`) and reports what is kept, the resulting bias and the cost.

Definitions are the kernel's (:mod:`tracekit.core`): a trace's request is its request root
(:func:`tracekit.core.span_tree`); its latency is ``request_ms`` and it *failed* as
:func:`tracekit.core.trace_outcomes` says (the root's :data:`tracekit.core.FAILED_WORDS`);
``any_failed`` marks traces with a failed span anywhere. Percentiles are
:func:`tracekit.core.percentile`; strata ``route`` is :func:`tracekit.core.routes`.

Why a Poisson bootstrap rather than resampling a fixed number of traces: under threshold or
fixed-rate sampling the number of sampled traces is itself random, so a fixed-size resample
gives a zero-width interval for the estimated request count whenever all weights are equal.
Giving every trace an independent Poisson(1) multiplicity (one integer matrix per stratum,
resamples × traces) keeps that variance, and reduces to the ordinary bootstrap for ratios and
quantiles.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["%032x" % i for i in (1, 2)], "span_id": ["a" * 16, "b" * 16],
...     "service": ["api", "api"], "name": ["GET /", "GET /"], "start": [0, 0],
...     "end": [10_000_000, 30_000_000], "trace_state": ["ot=th:c", "ot=th:0"]})
>>> tk.sampling_weights(spans)[["probability", "weight", "weight_source"]].values.tolist()
[[0.25, 4.0, 'otel_threshold'], [1.0, 1.0, 'otel_threshold']]
"""

from .bias import SamplingBias, chi2_test, g_test, sampling_bias
from .estimates import kish_n_eff, weighted_quantile, weighted_summary
from .simulation import DEFAULT_PRICES, SimulatedSampling, TailRule, simulate_sampling
from .thresholds import (
    MAX_THRESHOLD,
    parse_ot_threshold,
    probability_to_threshold,
    threshold_adjusted_count,
    threshold_probability,
    trace_randomness,
)
from .weights import SAMPLE_RATE_KEYS, WEIGHT_SOURCES, sampling_weights
from .xray_rules import match_xray_rule, xray_rules_frame, xray_stats_frame

__all__ = [
    "sampling_weights",
    "weighted_summary",
    "sampling_bias",
    "simulate_sampling",
    "SamplingBias",
    "SimulatedSampling",
    "TailRule",
    "parse_ot_threshold",
    "threshold_probability",
    "threshold_adjusted_count",
    "probability_to_threshold",
    "trace_randomness",
    "xray_rules_frame",
    "xray_stats_frame",
    "match_xray_rule",
    "weighted_quantile",
    "g_test",
    "chi2_test",
    "MAX_THRESHOLD",
    "WEIGHT_SOURCES",
    "DEFAULT_PRICES",
    "SAMPLE_RATE_KEYS",
    "kish_n_eff",
]
