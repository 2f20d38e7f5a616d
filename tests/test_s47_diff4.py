"""Sampling, reviewed (s47, diff4): the weight readers on legacy and disagreeing OTel tracestate values, and
sampling_bias's findings on few sampled traces (tracekit.analysis.sampling).

Truth is by construction: tracestate values whose probability is known from the spec (th: thresholds, the legacy
OTEP 168 p-value 2**-p), and samples whose stratum counts give an exact binomial p-value computed here by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.sampling import sampling_bias, sampling_weights

MS = 10**6
T0 = 1_767_225_600 * 10**9


def _traces(states, *, child_states=None, services=None):
    """One root span per trace (and a child when ``child_states``), tracestates as given."""
    n = len(states)
    tid = ["%032x" % (i + 1) for i in range(n)]
    rows = {"trace_id": tid, "span_id": ["%016x" % (i + 1) for i in range(n)], "parent_id": [None] * n,
            "service": services or ["api"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
            "start": [T0 + i * 10**9 for i in range(n)], "end": [T0 + i * 10**9 + 10 * MS for i in range(n)],
            "status": ["ok"] * n, "trace_state": list(states)}
    if child_states is not None:
        rows = {k: v + v for k, v in rows.items()}
        rows["span_id"] = ["%016x" % (i + 1) for i in range(2 * n)]
        rows["parent_id"] = [None] * n + ["%016x" % (i + 1) for i in range(n)]
        rows["service"] = rows["service"][:n] + ["db"] * n
        rows["trace_state"] = list(states) + list(child_states)
    return tk.spans_from_columns(rows)


# ----------------------------------------------------------------------------------------- 1. interval coverage

def test_weighted_summary_intervals_cover_the_population_in_200_samples():
    """Control (passes before and after): 200 samples of 600-request populations, two routes kept with probability
    1/2 and 1/8 (the slow, failing one the rarer); the 95 % intervals of the request count, the failed share, the
    p50 and the p95 hold the population's own figure in at least 90 % of samples (the full measurement, with more
    samplers: benchmarks/coverage_sampling.py)."""
    from tracekit.analysis.sampling import weighted_summary
    from tracekit.core import percentile

    held = dict.fromkeys(("est_requests", "error_rate", "p50_ms", "p95_ms"), 0)
    n_pop, samples = 600, 200
    for seed in range(samples):
        rng = np.random.default_rng(seed)
        slow = rng.random(n_pop) < 0.25
        err = rng.random(n_pop) < np.where(slow, 0.12, 0.02)
        dur = rng.lognormal(np.log(np.where(slow, 200.0, 50.0)), 0.5)
        p = np.where(slow, 1 / 8, 1 / 2)
        keep = rng.random(n_pop) < p
        truth = {"est_requests": float(n_pop), "error_rate": float(err.mean()),
                 "p50_ms": float(percentile(dur, 0.5)), "p95_ms": float(percentile(dur, 0.95))}
        k = np.flatnonzero(keep)
        tid = ["%032x" % (seed * 10_000 + i + 1) for i in k]
        spans = tk.spans_from_columns({
            "trace_id": tid, "span_id": ["%016x" % (i + 1) for i in k], "service": ["api"] * len(k),
            "name": ["GET /"] * len(k), "kind": ["server"] * len(k), "start": [T0] * len(k),
            "end": (T0 + np.round(dur[k] * MS)).astype(np.int64), "status": np.where(err[k], "error", "ok")})
        w = pd.Series(1 / p[k], index=tid)
        r = weighted_summary(spans, w, n_boot=100, seed=seed).iloc[0]
        for q in held:
            held[q] += bool(r[f"{q}_lo"] <= truth[q] <= r[f"{q}_hi"])
    assert all(v >= 0.90 * samples for v in held.values()), held


# ------------------------------------------------------------------------------------------ 2. the weight readers

def test_legacy_p_value_is_read_as_its_probability():
    # OTEP 168's p-value (ot=p:N, before th:): probability 2**-N, adjusted count 2**N; p:63 is adjusted count 0
    # (not sampled by probability: no weight). It read 'no sampling information (no ot=th, ...)': a trace carrying
    # its sampling probability counted as one of unknown weight, and the note denied what the tracestate said
    w = sampling_weights(_traces(["ot=p:3;r:10", "ot=p:0", "vendor=x,ot=r:5;p:10", "ot=p:63", "ot=p:x7"]))
    assert w["weight"].tolist()[:3] == [8.0, 1.0, 1024.0]
    assert w["weight_source"].tolist()[:3] == ["otel_threshold"] * 3
    assert all("p:" in str(x) for x in w["note"].tolist()[:3])  # flagged as the legacy value it is
    assert np.isnan(w["weight"].iloc[3]) and np.isnan(w["weight"].iloc[4])
    assert "63" in w["note"].iloc[3] and "no sampling information" not in w["note"].iloc[3]
    assert "p:" in w["note"].iloc[4] and "no sampling information" not in w["note"].iloc[4]


def test_th_wins_over_a_legacy_p_value_and_a_disagreement_is_said():
    # th is the current spec's value: read, and the legacy p that says otherwise is named in the note
    w = sampling_weights(_traces(["ot=th:8;p:3", "ot=p:1;th:8"]))
    assert w["weight"].tolist() == [2.0, 2.0]
    assert "p:3" in w["note"].iloc[0]  # 0.5 vs 0.125: disagree
    assert pd.isna(w["note"].iloc[1])  # p:1 = 0.5 = th:8: nothing to say


def test_a_trace_whose_spans_disagree_on_th_says_so():
    # the root's threshold is read (its decision is the request's); a child carrying another one was silent
    w = sampling_weights(_traces(["ot=th:8", "ot=th:8"], child_states=["ot=th:c", "ot=th:8"]))
    assert w["weight"].tolist() == [2.0, 2.0]
    assert "th:c" in w["note"].iloc[0] or "0.25" in w["note"].iloc[0] or "25" in w["note"].iloc[0]
    assert pd.isna(w["note"].iloc[1])  # control: they agree


def test_a_tracestate_with_two_ot_members_says_which_is_read():
    # 'ot=th:8,ot=th:c' (two ot members, invalid W3C tracestate): weight 2 from the first, silently
    w = sampling_weights(_traces(["ot=th:8,ot=th:c", "vendor=x,ot=th:8"]))
    assert w["weight"].tolist() == [2.0, 2.0]
    assert "2 ot members" in w["note"].iloc[0] and pd.isna(w["note"].iloc[1])


def test_threshold_readers_controls():
    """Controls (pass before and after): malformed th, th:0, rv: beside th, a threshold on a child only."""
    w = sampling_weights(_traces(["ot=th:", "ot=th:C", "ot=th:0", "ot=rv:ffffffffffffff;th:c"]))
    assert np.isnan(w["weight"].iloc[0]) and np.isnan(w["weight"].iloc[1])
    assert w["note"].iloc[0] == w["note"].iloc[1] == "malformed ot=th value in tracestate"
    assert w["weight"].tolist()[2:] == [1.0, 4.0]
    c = sampling_weights(_traces([None], child_states=["ot=th:c"]))
    assert c["weight"].tolist() == [4.0] and c["note"].iloc[0] == "threshold from a non-root span"


# ---------------------------------------------------------------------------------- 3. sampling_bias on few traces

def _sample(services):
    n = len(services)
    return tk.spans_from_columns({"trace_id": ["%032x" % (i + 1) for i in range(n)],
                                  "span_id": ["%016x" % (i + 1) for i in range(n)], "service": list(services),
                                  "name": ["GET /"] * n, "start": [T0] * n, "end": [T0 + MS] * n})


def _binom_two_sided(k, n, p):
    """Exact two-sided binomial p-value, central (twice the smaller tail, at most 1), by hand."""
    pmf = [math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, 2 * min(sum(pmf[:k + 1]), sum(pmf[k:])))


def test_three_sampled_traces_do_not_make_a_confident_representation_finding():
    # 3 sampled traces, 2 of 'web' (1 in 15 requests: 0.2 expected). The normal z-test said p=3.1e-05 and two
    # 'high' findings (web over-, api under-represented) on 3 traces; the exact binomial p is 0.025 > alpha 0.01
    pop = pd.DataFrame({"service": ["api", "web"], "requests": [1400, 100]})
    b = sampling_bias(_sample(["web", "web", "api"]), pop, by="service")
    st = b.strata.set_index("stratum")
    assert abs(st.loc["web", "p_value"] - _binom_two_sided(2, 3, 100 / 1500)) < 1e-12
    assert abs(st.loc["api", "p_value"] - _binom_two_sided(1, 3, 1400 / 1500)) < 1e-12
    assert not set(b.findings["kind"]) & {"over_represented", "under_represented"}
    assert not b.biased


def test_representation_on_many_traces_still_found():
    """Control: 3,000 sampled traces with web at 2/3 against 1/15 of requests are over-represented, p exact."""
    pop = pd.DataFrame({"service": ["api", "web"], "requests": [1400, 100]})
    b = sampling_bias(_sample(["web", "web", "api"] * 1000), pop, by="service")
    kinds = dict(zip(b.findings["subject"], b.findings["kind"], strict=False))
    assert kinds["web"] == "over_represented" and kinds["api"] == "under_represented"
    assert b.biased


def test_a_missing_service_expected_in_less_than_one_trace_is_not_high():
    # 'db' handles 10 of 1,010 requests; 40 sampled traces are expected to hold about 0.4 of its: missing it is
    # what chance gives 67 % of the time (exp(-0.4)), said 'high' as if the sample had lost a service
    pop = pd.DataFrame({"service": ["api", "web", "db"], "requests": [500, 500, 10]})
    b = sampling_bias(_sample(["api"] * 20 + ["web"] * 20), pop, by="service")
    f = b.findings[b.findings["kind"] == "missing_service"].iloc[0]
    assert f["severity"] != "high"
    assert "0.4" in f["message"]  # the expected count said
    # control: 400 requests of 'db' of 1,400 (about 11 expected in 40): missing them is not chance (exp(-11))
    pop2 = pd.DataFrame({"service": ["api", "web", "db"], "requests": [500, 500, 400]})
    f2 = sampling_bias(_sample(["api"] * 20 + ["web"] * 20), pop2, by="service").findings
    assert f2.loc[f2["kind"] == "missing_service", "severity"].tolist() == ["high"]


def test_each_number_of_a_finding_says_its_population():
    # '75% of sampled traces vs 49.5% of requests': of how many? '12.5% of sampled requests ... vs 5% of requests',
    # 'p95 98 ms vs 187 ms': of which latencies? Each now says its counts
    pop = pd.DataFrame({"service": ["api", "web"], "requests": [600, 600], "errors": [60, 60]})
    n = 300
    svc = ["api"] * 240 + ["web"] * 60
    rows = {"trace_id": ["%032x" % (i + 1) for i in range(n)], "span_id": ["%016x" % (i + 1) for i in range(n)],
            "service": svc, "name": ["GET /"] * n, "kind": ["server"] * n, "start": [T0] * n,
            "end": [T0 + MS] * n, "status": ["error"] * 90 + ["ok"] * (n - 90)}
    b = sampling_bias(tk.spans_from_columns(rows), pop, by="service")
    msg = dict(zip(b.findings["kind"], b.findings["message"], strict=False))
    assert "(240 of 300)" in msg["over_represented"] and "(600 of 1,200)" in msg["over_represented"]
    assert "of 300 sampled requests" in msg["errors_over_sampled"] and "1,200 requests" in msg["errors_over_sampled"]
    # latency against a spans population: 40 sampled latencies of 50 ms vs 1,000 of 10 ms
    def frame(k, ms, off):
        return tk.spans_from_columns({
            "trace_id": ["%032x" % (off + i + 1) for i in range(k)], "span_id": ["%016x" % (off + i + 1) for i in range(k)],
            "service": ["api"] * k, "name": ["GET /"] * k, "kind": ["server"] * k, "start": [T0] * k,
            "end": [T0 + ms * MS] * k, "status": ["ok"] * k})
    lat = sampling_bias(frame(40, 50, 0), frame(1000, 10, 1000), by="service").findings
    m = lat.loc[lat["kind"] == "latency_shift", "message"].iloc[0]
    assert "40 sampled request latencies" in m and "1,000" in m


def test_goodness_of_fit_on_few_expected_traces_is_not_read_off_the_chi_square_law():
    # 3 sampled traces, 2 of 'web' (1 in 15 requests): G = 7.15 read against chi-square(1) is p 0.0075, the tests
    # table said 'biased' at 0.01 on 3 traces. The exact chance of a G at least that large, summed by hand over the
    # 4 possible samples (0-3 web traces), is 0.013
    share = 100 / 1500
    pop = pd.DataFrame({"service": ["api", "web"], "requests": [1400, 100]})
    row = sampling_bias(_sample(["web", "web", "api"]), pop, by="service").tests.iloc[0]

    def g(x):
        o, e = np.array([3 - x, x], float), 3 * np.array([1 - share, share])
        return 2 * sum(oo * math.log(oo / ee) for oo, ee in zip(o, e, strict=True) if oo > 0)

    exact = sum(math.comb(3, x) * share ** x * (1 - share) ** (3 - x) for x in range(4) if g(x) >= g(2) - 1e-12)
    assert abs(row["statistic"] - g(2)) < 1e-9
    assert abs(row["p_value"] - exact) < 0.004  # 10,000 seeded draws
    assert not row["biased"] and "Monte Carlo" in row["test"]
    # control: on 3,000 traces the chi-square law holds and is read as before
    big = sampling_bias(_sample(["web", "web", "api"] * 1000), pop, by="service").tests.iloc[0]
    assert big["test"] == "G-test" and big["biased"]


def test_a_latency_finding_with_weights_says_whether_weighting_restores_the_distribution():
    # population: 500 requests of 10 ms and 500 of 100 ms; the sample keeps 10 of the fast (weight 50) and 40 of the
    # slow (weight 12.5). Unweighted, KS D = 0.8 - 0.5 = 0.3 (80 % slow vs 50 %); weighted, 500 + 500: D = 0
    def frame(ms, off):
        k = len(ms)
        return tk.spans_from_columns({
            "trace_id": ["%032x" % (off + i + 1) for i in range(k)], "span_id": ["%016x" % (off + i + 1) for i in range(k)],
            "service": ["api"] * k, "name": ["GET /"] * k, "kind": ["server"] * k, "start": [T0] * k,
            "end": [T0 + m * MS for m in ms], "status": ["ok"] * k})
    sample = frame([10] * 10 + [100] * 40, 0)
    w = pd.Series([50.0] * 10 + [12.5] * 40, index=sample["trace_id"].to_numpy())
    f = sampling_bias(sample, frame([10] * 500 + [100] * 500, 1000), by="service", weights=w).findings
    m = f.loc[f["kind"] == "latency_shift", "message"].iloc[0]
    assert "KS D=0.300" in m and "weighted KS D=0.000" in m
