"""Sampling, reviewed (s42): X-Ray local rules as the SDKs read them, re-sampling a frame that is already sampled,
samplers that keep some traces with probability 0, a population reference of another period, and the intervals
of weighted percentiles when the weights differ (tracekit.analysis.sampling).

Truth is by construction: trace ids whose 56-bit randomness is chosen, populations built here and sampled with
known inclusion probabilities (numpy, seeded), so which traces a consistent sampler keeps, their true weights and
the population's percentiles are known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.sampling import match_xray_rule, xray_rules_frame
from tracekit.errors import TraceFormatError

MS = 10**6

# ---------------------------------------------------------------------------------------------- X-Ray local rules

def _local(version, rule):
    return {"version": version, "default": {"fixed_target": 1, "rate": 0.05},
            "rules": [{"description": "api host", "http_method": "*", "url_path": "*", "fixed_target": 0,
                       "rate": 0.5, **rule}]}


def test_version_1_local_rule_service_name_is_the_host():
    # aws-xray-sdk-python local/sampling_rule.py: version 1 reads the host from 'service_name'
    v1 = _local(1, {"service_name": "api.example.com"})
    assert match_xray_rule(v1, service="checkout", host="api.example.com", method="GET", path="/") == "api host"
    assert match_xray_rule(v1, service="api.example.com", host="web.example.com", method="GET", path="/") == "Default"
    assert xray_rules_frame(v1).loc[0, ["service_name", "host"]].tolist() == ["*", "api.example.com"]


def test_version_2_local_rule_never_matches_the_service_name():
    # the SDKs match a local rule on host, method and path only: a stray 'service_name' narrows nothing
    v2 = _local(2, {"host": "*.example.com", "service_name": "billing"})
    assert match_xray_rule(v2, service="checkout", host="api.example.com", method="GET", path="/") == "api host"
    assert match_xray_rule(v2, service="billing", host="api.example.org", method="GET", path="/") == "Default"


def test_local_rules_of_an_unknown_version_are_refused():
    with pytest.raises(TraceFormatError, match="version 3"):
        xray_rules_frame(_local(3, {"host": "*"}))


# ------------------------------------------------------------------------------- a frame that is already sampled

def _grid(n=400, failed_every=None, trace_state=None):
    """``n`` one-span traces whose randomness is (i + ½) / n of 2**56: a consistent sampler at probability p keeps
    exactly the top p·n of them."""
    r = [int((i + 0.5) / n * 2**56) for i in range(n)]
    ids = [f"{i + 1:018x}{v:014x}" for i, v in enumerate(r)]
    cols = {"trace_id": ids, "span_id": [f"{i + 1:016x}" for i in range(n)], "service": ["api"] * n,
            "name": ["GET /"] * n, "start": [i * MS for i in range(n)], "end": [i * MS + 10 * MS for i in range(n)],
            "status": ["error" if failed_every and i % failed_every == 0 else "ok" for i in range(n)]}
    if trace_state is not None:
        cols["trace_state"] = trace_state
    return tk.spans_from_columns(cols)


@pytest.mark.parametrize("second, kept, weight", [(0.5, 100, 4.0), (0.125, 50, 8.0)])
def test_resampling_a_sample_keeps_the_larger_threshold(second, kept, weight):
    first = tk.simulate_sampling(_grid(), 0.25)  # keeps the 100 traces of randomness >= 3/4: th c, weight 4
    assert int(first.traces["kept"].sum()) == 100
    again = tk.simulate_sampling(first.spans, second)
    assert int(again.traces["kept"].sum()) == kept
    w = tk.sampling_weights(again.spans)
    # each kept trace stands for `weight` requests of the 400 (was 2: th overwritten with the second sampler's 8)
    assert w["weight"].tolist() == [weight] * kept
    assert w["weight"].sum() == 400
    # within the frame given (the 100 of the first sample) the inclusion probability is kept / 100
    assert np.allclose(again.traces["probability"], kept / 100)


def test_tail_rule_on_a_sample_keeps_the_sample_threshold_of_a_forced_trace():
    first = tk.simulate_sampling(_grid(failed_every=8), 0.25)
    tail = tk.simulate_sampling(first.spans, tail={"keep_errors": True, "probability": 0.5})
    w = tk.sampling_weights(tail.spans).set_index("trace_id")["weight"]
    failed = tail.traces.loc[tail.traces["failed"].astype(bool), "trace_id"]
    assert len(failed) and (w[failed.to_numpy()] == 4.0).all()  # was 1 (th:0): kept surely by the tail, 1 in 4 before
    assert w.sum() == 400  # the rest at 1 in 4 too (both samplers keep the same top quarter)


def test_resampling_keeps_the_explicit_randomness_of_the_ot_member():
    n = 400
    rv = [f"{int((n - 1 - i + 0.5) / n * 2**56):014x}" for i in range(n)]  # reversed against the trace ids
    sp = _grid(trace_state=[f"ot=rv:{v},vendor=x" for v in rv])
    first = tk.simulate_sampling(sp, 0.25)
    assert first.traces.loc[first.traces["kept"], "trace_id"].str[-14:].lt("40").all()  # chosen by rv, not id
    states = set(first.spans["trace_state"])
    assert all(s.startswith("ot=th:c;rv:") and s.endswith(",vendor=x") for s in states), sorted(states)[:3]
    again = tk.simulate_sampling(first.spans, 0.5)  # rv kept: the same 100, not a half chosen by trace id
    assert int(again.traces["kept"].sum()) == 100


# ------------------------------------------------------------------------------- traces a sampler can never keep

def test_tail_rule_that_drops_the_rest_has_no_weighted_numbers_and_says_so():
    sim = tk.simulate_sampling(_grid(failed_every=8), tail={"keep_errors": True, "probability": 0.0})
    row = sim.strata.iloc[0]
    assert row["population_error_rate"] == 50 / 400 and row["kept_traces"] == 50
    assert row["never_kept_traces"] == 350
    # the 50 failed traces have weight 1: their weighted error rate was 100 % against 12.5 % (no weight for the 350)
    assert np.isnan(row["weighted_error_rate"]) and np.isnan(row["weighted_p95_ms"])
    f = sim.bias.findings.set_index("kind")
    assert f.loc["never_sampled", "severity"] == "high" and f.loc["never_sampled", "value"] == 350 / 400
    # with a base probability every trace can be kept: the weights stand for all of them
    some = tk.simulate_sampling(_grid(failed_every=8), tail={"keep_errors": True, "probability": 0.25})
    ok_kept = int((some.traces["kept"] & ~some.traces["failed"].astype(bool)).sum())  # the top quarter's ok ones
    row = some.strata.iloc[0]
    assert row["never_kept_traces"] == 0 and row["weighted_error_rate"] == pytest.approx(50 / (50 + 4 * ok_kept))


def test_rule_with_rate_0_and_no_reservoir_is_said_per_stratum():
    sp = _grid(200)
    sp["service"] = pd.array(["api", "web"] * 100, dtype=sp["service"].dtype)
    rules = [{"RuleName": "web-off", "Priority": 1, "FixedRate": 0.0, "ReservoirSize": 0, "ServiceName": "web"},
             {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.5, "ReservoirSize": 0}]
    sim = tk.simulate_sampling(sp, rules=rules)
    st = sim.strata.set_index("service")
    assert st.loc["web", "never_kept_traces"] == 100 and st.loc["api", "never_kept_traces"] == 0
    assert np.isnan(st.loc["web", "weighted_p95_ms"]) and np.isfinite(st.loc["api", "weighted_p95_ms"])
    msg = sim.bias.findings.set_index("kind").loc["never_sampled", "message"]
    assert "100 of 200" in msg and "'web-off': 100" in msg


# ------------------------------------------------------------------------ weighted percentiles, unequal weights

@pytest.fixture(scope="module")
def slow_route_samples():
    """40 independent samples (one service each) of one population of 1000 requests: a slow route (10 %) kept
    1 in 16, the rest 1 in 2; and the population's p95 and p99."""
    rng = np.random.default_rng(123)
    slow = rng.random(1000) < 0.1
    dur = np.round(rng.lognormal(np.log(np.where(slow, 200.0, 50.0)), 0.6), 3)
    p = np.where(slow, 1 / 16, 0.5)
    keep = [np.flatnonzero(np.random.default_rng(s).random(1000) < p) for s in range(40)]
    idx = np.concatenate(keep)
    m = len(idx)
    ids = [f"{i + 1:032x}" for i in range(m)]
    sp = tk.spans_from_columns({
        "trace_id": ids, "span_id": [f"{i + 1:016x}" for i in range(m)],
        "service": np.concatenate([[f"s{s:02d}"] * len(k) for s, k in enumerate(keep)]), "name": ["GET /"] * m,
        "start": [0] * m, "end": (dur[idx] * MS).tolist()})
    truth = {q: float(tk.core.percentile(dur, q)) for q in (0.95, 0.99)}
    return sp, pd.Series(1 / p[idx], index=ids), truth


def test_percentile_intervals_cover_at_their_level_with_unequal_weights(slow_route_samples):
    sp, w, truth = slow_route_samples
    out = tk.weighted_summary(sp, w, by="service", n_boot=0)  # the order-statistic interval alone
    assert len(out) == 40
    for q, name in ((0.95, "p95_ms"), (0.99, "p99_ms")):
        held = int(((out[f"{name}_lo"] <= truth[q]) & (truth[q] <= out[f"{name}_hi"])).sum())
        # a 95 % interval: on Kish's effective size it held the p95 in 27 of 40, the p99 in 32
        assert held >= 35, (name, held)
    # equal weights: the exact order-statistic interval on the n values, as before (no variance estimate needed)
    from scipy import stats

    n, q = 300, 0.95
    d = np.arange(1, n + 1, dtype=float)  # 1..300 ms
    sp = tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(n)],
                                "span_id": [f"{i + 1:016x}" for i in range(n)], "service": ["api"] * n,
                                "name": ["GET /"] * n, "start": [0] * n, "end": (d * MS).tolist()})
    row = tk.weighted_summary(sp, 4.0, n_boot=0).iloc[0]
    r, s = int(stats.binom.ppf(0.025, n, q)), int(stats.binom.ppf(0.975, n, q)) + 1
    assert (row["p95_ms_lo"], row["p95_ms_hi"]) == (d[r - 1], d[s - 1])  # the r-th and s-th smallest values


# ------------------------------------------------------------------------------- a reference of another period

@pytest.mark.parametrize("shift, outside, severity", [("2h", 400, "high"), ("200ms", 200, "medium")])
def test_sample_outside_the_population_time_range_is_said(shift, outside, severity):
    sample = _grid()  # 400 traces, one a millisecond from 00:00
    pop = sample.copy()
    pop["start"] = pop["start"] + pd.Timedelta(shift)
    pop["end"] = pop["end"] + pd.Timedelta(shift)
    f = tk.sampling_bias(sample, pop, freq="100ms").findings.set_index("kind")
    # the whole sample outside gave no finding at all (every population window held 0 sampled traces)
    assert f.loc["outside_population", "severity"] == severity
    assert f.loc["outside_population", "value"] == outside / 400
    assert f"{outside} of 400 sampled traces" in f.loc["outside_population", "message"]
    assert "outside_population" not in set(tk.sampling_bias(sample, sample, freq="100ms").findings["kind"])


def test_url_path_rule_matches_an_http_target_with_a_query_string():
    rules = [{"RuleName": "items", "Priority": 1, "FixedRate": 0.5, "ReservoirSize": 0, "URLPath": "/api/items"},
             {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 0}]
    targets = ["/api/items?id=3", "/api/items#top", "/api/items", "/api/items/3?x=1"]
    n = len(targets)
    sp = tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(n)],
                                "span_id": [f"{i + 1:016x}" for i in range(n)], "service": ["api"] * n,
                                "name": ["GET /api/items"] * n, "start": [0] * n, "end": [MS] * n,
                                "attributes": [{"http.target": t} for t in targets]})
    # the rule matches the path, not its query (url.full's path was already read so); the first was 'Default'
    assert tk.sampling_weights(sp, rules=rules)["rule"].tolist() == ["items", "items", "items", "Default"]


def test_weighted_numbers_in_bias_findings_say_their_population():
    # 400 traces (50 failed, one in 8) at weight 3 against a population of 1200 requests with 600 failed
    sample = _grid(failed_every=8)
    pop = pd.DataFrame({"service": ["api"], "requests": [1200], "errors": [600]})
    f = tk.sampling_bias(sample, pop, weights=3.0).findings.set_index("kind")
    msg = f.loc["errors_under_sampled", "message"]
    assert "weighted by inclusion probability: 12.5% of an estimated 1,200 requests (from 400 sampled)" in msg, msg
    # the sample's latencies are all 10 ms; the reference's 500-899 ms
    slow = tk.sampling_bias(sample, None, latency=500.0 + np.arange(400.0), weights=3.0)
    msg = slow.findings.set_index("kind").loc["latency_shift", "message"]
    assert "(the 400 sampled latencies weighted to an estimated 1,200 requests)" in msg, msg
