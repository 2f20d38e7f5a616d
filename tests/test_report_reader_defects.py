"""What a fresh reader of the postmortem found wrong on data the authors did not tune on (session 30): each test
builds the case by construction and checks the words against it."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk


def _findings(pm, topic: str) -> list[str]:
    return [f.text for f in pm.findings if f.topic == topic]


@pytest.mark.slow  # two postmortems of 300–600 traces
def test_a_trace_exported_twice_with_other_times_is_no_clock_skew():
    """The same 300 traces again, 30 minutes later (same trace and span ids): pairing a server span of one copy with
    the client span of the other measured the shift, and the report said ten hosts' clocks ran up to 30 min off
    ("corrected before comparing") and put the window outside the data. Spans whose id is given twice are no pair."""
    a = tk.simulate.simulate("baseline", n_traces=300, seed=41).spans
    b = a.assign(start=a["start"] + pd.Timedelta("30min"), end=a["end"] + pd.Timedelta("30min"))
    spans = pd.concat([a, b], ignore_index=True)
    skew = tk.detect_clock_skew(spans)
    assert not skew["skewed"].any() and skew["n_pairs"].sum() == 0
    pm = tk.postmortem(spans)
    assert not any("clock runs" in t for t in _findings(pm, "where"))
    what = _findings(pm, "what")[0]
    assert what.startswith("300 requests in 14:00–15:29 UTC")
    # one root span given twice (same span id) is one root: a record repeated, not "600 roots in them" (s39)
    assert "more than one root span" not in what
    assert "the root span of 300 traces of 300 is in the data more than once: 600 records of 300 spans" in what


@pytest.mark.slow
def test_trace_ids_reused_by_two_runs_are_said_beside_the_request_count():
    """Two runs reusing the same 300 trace ids (distinct span ids): 600 roots, counted as 300 requests (one per
    trace, its earliest root) — now said where the count is, not only in trace health."""
    a = tk.simulate.simulate("baseline", n_traces=300, seed=41).spans
    b = tk.simulate.simulate("baseline", n_traces=300, seed=42).spans
    ids = dict(zip(sorted(b["trace_id"].unique()), sorted(a["trace_id"].unique()), strict=True))
    b = b.assign(trace_id=b["trace_id"].map(ids).astype(a["trace_id"].dtype), start=b["start"] + pd.Timedelta("30min"),
                 end=b["end"] + pd.Timedelta("30min"))
    pm = tk.postmortem(pd.concat([a, b], ignore_index=True))
    f = next(f for f in pm.findings if f.topic == "what")
    assert f.evidence["requests"] == 300 and f.evidence["traces_with_several_roots"] == 300
    assert f.evidence["roots_in_them"] == 600
    assert "each trace counts as one request, by its earliest root" in f.text
    one = tk.postmortem(a)  # one run: nothing said
    assert "traces_with_several_roots" not in next(f for f in one.findings if f.topic == "what").evidence


@pytest.mark.slow
@pytest.mark.parametrize("seed", [
    # seed 7 was an xfail until session 44 (p 0.0025 in the postmortem's Holm family at 4 / threshold permutations):
    # found since holm_permutations allows 19 exceedances below the first Holm step, not 3
    7, 8])
def test_a_change_already_going_when_the_data_begins_is_not_said_to_start_then(seed):
    """db-lock from 14:00 to 14:08, the data's first request at 14:00:03: the report said "It started at 14:00"
    (the data cannot show when it started) and took "the normal periods before and after the change" as the
    baseline, where there is no before."""
    sim = tk.simulate.simulate("db-lock", n_traces=800, seed=seed, window_start="2026-03-02T14:00:00Z",
                               window_end="2026-03-02T14:08:00Z")
    pm = tk.postmortem(sim.spans)
    when = _findings(pm, "when")[0]
    # session 47: the caveat is a sentence of its own (it was the subject of "was over by" before)
    assert when.startswith("It was under way from the data's start (14:00 UTC) and was over by 14:08 UTC (at least 8 min)")
    assert when.endswith(" Whether it began before the data or within its first 1 min is not in the data.")
    assert pm.baseline_source.startswith("the normal period after the change (outside 14:00:00–14:08:00 UTC")
    later = tk.simulate.simulate("db-lock", n_traces=800, seed=seed, window_start="2026-03-02T14:20:00Z",
                                 window_end="2026-03-02T14:28:00Z")
    assert _findings(tk.postmortem(later.spans), "when")[0].startswith("It started at 14:2")


@pytest.mark.slow
def test_a_baseline_of_another_traffic_mix_is_said_and_a_like_baseline_is_not():
    """A baseline where /checkout is 4 % of requests against the incident's 29 %: the headline's p95 224 ms against
    75.6 ms compared mixes (per route, checkout was faster in the incident), and nothing said so. Baselines of the
    same system (simulated, other seeds) are not flagged."""
    from tracekit.simulate import AppConfig

    inc = tk.simulate.simulate("bad-host", n_traces=800, seed=71).spans
    other = tk.simulate.simulate("baseline", n_traces=800, seed=72, config=AppConfig(
        route_mix=(("products", 0.65), ("cart", 0.30), ("checkout", 0.05)))).spans
    pm = tk.postmortem(inc, baseline=other)
    mix = [f for f in pm.findings if f.topic == "sure" and f.text.startswith("Traffic mix")]
    assert len(mix) == 1 and mix[0].evidence["route_mix_tvd"] == pytest.approx(0.25, abs=0.02)
    assert "/checkout is 29% of the incident's requests and 4% of the baseline's" in mix[0].text
    what = next(f for f in pm.findings if f.topic == "what")
    assert what.evidence["baseline_other_mix"] and "another mix of routes" in what.text
    for seed in (1, 2, 3):
        like = tk.simulate.simulate("baseline", n_traces=800, seed=100 + seed).spans
        pm = tk.postmortem(tk.simulate.simulate("db-lock", n_traces=800, seed=seed).spans, baseline=like)
        assert not any(f.text.startswith("Traffic mix") for f in pm.findings)
        assert not next(f for f in pm.findings if f.topic == "what").evidence.get("baseline_other_mix", False)


def test_a_baseline_partly_in_the_datas_period_is_not_said_to_be_the_same_period():
    """5 traces against 5 baseline traces, 3 of which started within the data's period: "the same period as the
    data: 3 of its 5 traces …" said more than the count."""
    inc = tk.simulate.simulate("db-lock", n_traces=5, seed=3).spans
    base = tk.simulate.simulate("baseline", n_traces=5, seed=4).spans
    sure = tk.postmortem(inc, base, level="service").sentences("sure")[0]
    assert "(mostly the data's own period: 3 of its 5 traces started between the data's first and last request)" in sure
    assert "same period" not in sure


def test_cold_starts_with_no_baseline_are_not_said_to_be_at_their_usual_share(real_traces):
    """The X-Ray developer guide's one trace: "Cold starts at their usual share (no baseline …): 1 cold start in 1
    invocation (100%)" — with no baseline nothing says what is usual."""
    pm = tk.postmortem(tk.read(real_traces / "aws-xray-developer-guide" / "xray-api-gettingdata.md.BatchGetTraces-output.json"))
    cold = [t for t in _findings(pm, "where") if t.startswith("Cold starts")]
    assert cold and cold[0].startswith("Cold starts whose share did not move within the data beyond chance (no "
                                       "baseline to say what their usual share is)")
    assert not any("usual share (" in t for t in cold)


@pytest.mark.slow  # 150 pairs of small frames
def test_the_traffic_mix_check_holds_its_level_on_a_long_tail_of_rare_routes():
    """A fresh reader: 3 common routes and 12 rare ones (20 % together), 20 incident requests against 300 of the
    same mix: Pearson's test on tiny expected counts fired on 4.5 % of like baselines. Rare routes (expected count
    under 5) are pooled now: at most 1 % here (seeded: 150 draws)."""
    import numpy as np

    from tracekit.investigate.postmortem import _route_mix

    rng = np.random.default_rng(1)
    probs = np.array([0.4, 0.3, 0.1] + [0.2 / 12] * 12)
    routes = [f"/r{k}" for k in range(len(probs))]

    def frame(n: int, t0: str, tag: str) -> pd.DataFrame:
        r = list(rng.choice(routes, n, p=probs))
        start = pd.Timestamp(t0) + pd.to_timedelta(np.sort(rng.uniform(0, 3600, n)), unit="s")
        return tk.spans_from_columns({"trace_id": [f"{tag}{i + 1:031x}" for i in range(n)],
                                      "span_id": [f"{i + 1:016x}" for i in range(n)], "name": [f"GET {x}" for x in r],
                                      "service": "gw", "kind": "server", "start": start,
                                      "end": start + pd.to_timedelta(rng.uniform(10, 50, n), unit="ms"),
                                      "attributes": [{"http.route": x} for x in r]})

    fired = sum(_route_mix(frame(20, "2026-01-01T02:00Z", "a"), frame(300, "2026-01-01T00:00Z", "b")) is not None
                for _ in range(150))
    assert fired <= 2, fired
