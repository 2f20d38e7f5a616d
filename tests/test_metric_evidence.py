"""Metric evidence (tracekit.analysis.metric_evidence) and rank_causes(metrics=): ground truth by construction."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.metric_evidence import metric_evidence, metric_family, metric_scores
from tracekit.errors import ArgumentError

from .conftest import lab_window

T = pd.Timestamp("2024-01-01 10:00", tz="UTC")
REPO = Path(__file__).resolve().parents[1]
T_DEPLOY = pd.Timestamp(json.loads((REPO / "datasets" / "truth" / "deploy-regression.json").read_text())["deploy_time"])


def _series(values, name="CpuUsageRate", service="cart", host="cart-1", step="1min") -> pd.DataFrame:
    t = pd.date_range(T, periods=len(values), freq=step, tz="UTC")
    return tk.metrics_from_columns({"time": t, "name": name, "value": list(map(float, values)), "service": service,
                                    "host": host})


def _expected(sizes, n, prior=10.0):
    """The module's rule by hand: sizes of the k incident points, n baseline points."""
    c = 2 / (n + 1)
    return max(0.0, (sum(sizes) + c * prior) / (len(sizes) + prior) - c) / (1 - c)


#: a point is in the window holding the middle of the interval it describes (metric_series.described_times): a
#: once-a-minute gauge stamped t describes the minute before, so the windows of the points stamped 9–10 and 0–8 min
#: are those minutes less 30 s
HALF = pd.Timedelta("30s")
INC, BAS = (T + pd.Timedelta("9min") - HALF, T + pd.Timedelta("10min") - HALF), (T - HALF, T + pd.Timedelta("8min") - HALF)


def test_outside_the_reach_weighed_by_size_and_shrunk():
    base = [5, 6, 7, 5, 6, 7, 5, 6, 7]  # 9 points: median 6, MAD 1, reach [6 - 3.5 * 1.4826, 6 + 3.5 * 1.4826]
    m = pd.concat([_series(base + [50, 6]), _series(base + [50, 60], name="MemoryUsage"),
                   _series(base + [6, 6], name="PodWorkload")], ignore_index=True)
    ev = metric_evidence(m, INC, BAS).set_index("name")
    hi = 6 + 3.5 * 1.4826
    assert ev.loc["MemoryUsage", "reach_high"] == pytest.approx(hi)
    assert ev.loc["MemoryUsage", "baseline_spread"] == pytest.approx(1.4826)
    sizes = [1 - (hi - 6) / 44, 1 - (hi - 6) / 54]
    assert ev.loc["MemoryUsage", "outside_share"] == 1.0
    assert ev.loc["MemoryUsage", "size"] == pytest.approx(np.mean(sizes))
    assert ev.loc["MemoryUsage", "evidence"] == pytest.approx(_expected(sizes, 9))
    assert ev.loc["CpuUsageRate", "outside_share"] == 0.5
    assert ev.loc["CpuUsageRate", "evidence"] == pytest.approx(_expected([sizes[0], 0.0], 9))
    assert not ev.loc["PodWorkload", "moved"] and ev.loc["PodWorkload", "evidence"] == 0.0
    assert ev.loc["MemoryUsage", "direction"] == "up" and ev.loc["MemoryUsage", "baseline_points"] == 9
    assert ev.loc["MemoryUsage", "incident_mean"] == 55.0 and ev.loc["MemoryUsage", "baseline_median"] == 6.0
    # without pseudo-points the weighed share beyond chance is the evidence
    ev0 = metric_evidence(m, INC, BAS, prior=0).set_index("name")
    assert ev0.loc["MemoryUsage", "evidence"] == pytest.approx((np.mean(sizes) - 0.2) / 0.8)
    sc = metric_scores(ev.reset_index()[["service", *[c for c in ev.columns if c != "service"]]].assign(
        name=ev.index.to_numpy()))
    # families: cpu, memory, other (0) -> the sum of the family means
    assert sc["metric_score"].tolist() == [pytest.approx(ev.loc["MemoryUsage", "evidence"] + ev.loc["CpuUsageRate", "evidence"])]
    assert sc["moved"].tolist() == [2] and sc["steady"].tolist() == [1]
    assert sc["top_metric"].iloc[0] == "MemoryUsage mean 6 → 55"


def test_noisy_points_just_past_the_range_are_no_evidence():
    """Two incident points above the baseline's largest point but within 3.5 robust deviations of its median."""
    base = [100, 104, 96, 103, 97, 101, 99, 102, 98]  # median 100, MAD 2: reach [89.6, 110.4]
    ev = metric_evidence(_series(base + [105, 108]), INC, BAS)
    assert ev["outside_share"].iloc[0] == 0.0 and ev["evidence"].iloc[0] == 0.0 and not ev["moved"].iloc[0]
    assert ev["reach_high"].iloc[0] == pytest.approx(100 + 3.5 * 1.4826 * 2)


def test_a_tenfold_jump_outweighs_a_small_step_past_a_flat_range():
    flat = [50.0, 50.2, 49.9, 50.1, 50.0, 49.8, 50.0, 50.1, 50.0]  # median 50, MAD 0.1: reach 50 ± 0.519
    step = metric_evidence(_series(flat + [50.6, 50.6], name="MemoryUsage"), INC, BAS)  # +1 %
    jump = metric_evidence(_series(flat + [500, 500], name="MemoryUsage"), INC, BAS)  # 10x
    r = 3.5 * 1.4826 * 0.1
    assert step["outside_share"].iloc[0] == jump["outside_share"].iloc[0] == 1.0
    assert step["size"].iloc[0] == pytest.approx(0.6 / 50)  # 1 - r / 0.6 beyond the reach, but a 1.2 % move
    assert jump["size"].iloc[0] == pytest.approx(1 - r / 450)
    assert jump["evidence"].iloc[0] == pytest.approx(_expected([1 - r / 450] * 2, 9))
    # the step's small size does not lift its share above the chance 2/10 once shrunk: no evidence
    assert step["evidence"].iloc[0] == 0.0 and not step["moved"].iloc[0] and jump["evidence"].iloc[0] > 0.1


def test_a_step_of_a_few_hundred_kb_is_no_move():
    """8 of 9 baseline points equal (MAD 0, so the reach is the range): a step of 43 KB past it on 461 MiB is
    outside, but its size is its move relative to the level (1e-4), so no evidence; a 100 MiB rise weighs 100 / 461."""
    mem = [461.1797] + [461.0586] * 8
    small = metric_evidence(_series(mem + [461.0156, 461.0156], name="MemoryUsage"), INC, BAS).iloc[0]
    assert small["baseline_spread"] == 0.0 and small["outside_share"] == 1.0
    assert small["size"] == pytest.approx(0.043 / 461.0586, rel=1e-3) and small["evidence"] == 0.0 and not small["moved"]
    big = metric_evidence(_series(mem + [561.0586, 561.0586], name="MemoryUsage"), INC, BAS).iloc[0]
    assert big["size"] == pytest.approx(100 / 461.0586) and big["evidence"] == pytest.approx(_expected([100 / 461.0586] * 2, 9))
    assert big["moved"]


def test_constant_series_broken_or_jumping():
    zeros = [0.0] * 9
    m = pd.concat([_series(zeros + [0, 0], name="PodSuccessRate"),  # broken at the source: 0 everywhere
                   _series(zeros + [30, 40], name="ErrorCount")], ignore_index=True)
    ev = metric_evidence(m, INC, BAS).set_index("name")
    assert ev.loc["PodSuccessRate", "evidence"] == 0.0 and not ev.loc["PodSuccessRate", "moved"]
    # a rise from a constant 0 is a full move, so the evidence is k / (k + prior)
    assert ev.loc["ErrorCount", "size"] == 1.0
    assert ev.loc["ErrorCount", "evidence"] == pytest.approx(2 / 12)
    assert metric_evidence(m, INC, BAS, prior=0).set_index("name").loc["ErrorCount", "evidence"] == pytest.approx(1.0)
    # a constant non-zero baseline: the size is the move relative to its level
    c = pd.concat([_series([200.0] * 9 + [200.2, 200.2], name="MemoryUsage"),
                   _series([0.004] * 9 + [0.006, 0.006], name="PodServerLatencyP90")], ignore_index=True)
    evc = metric_evidence(c, INC, BAS).set_index("name")
    assert evc.loc["MemoryUsage", "size"] == pytest.approx(0.001) and evc.loc["MemoryUsage", "evidence"] == 0.0
    assert evc.loc["PodServerLatencyP90", "size"] == pytest.approx(0.5)
    assert evc.loc["PodServerLatencyP90", "evidence"] == pytest.approx(_expected([0.5, 0.5], 9))


def test_few_baseline_points_weigh_little():
    """Two baseline points leave a chance of 2/3 that a new point falls outside their range."""
    m = _series([10, 12, 0, 0, 0, 0, 0, 0, 0, 500])
    ev = metric_evidence(m, (T + pd.Timedelta("9min") - HALF, T + pd.Timedelta("9min") - HALF), (T - HALF, T + pd.Timedelta("1min") - HALF))
    assert ev["baseline_points"].iloc[0] == 2 and ev["incident_points"].iloc[0] == 1
    size = 1 - (11 + 3.5 * 1.4826 - 11) / (500 - 11)
    assert ev["evidence"].iloc[0] == pytest.approx(_expected([size], 2)) and ev["evidence"].iloc[0] < 1 / 11
    with pytest.raises(ArgumentError, match="prior"):
        metric_evidence(m, INC, BAS, prior=-1)


def test_families_not_counted_node_and_caller_latency():
    assert metric_family("NodeCpuUsageRate") == "node" and metric_family("node.cpu.utilization") == "node"
    assert metric_family("PodClientLatencyP99") == "caller latency"
    base = [1, 2, 1, 2, 1, 2, 1, 2, 1]
    m = pd.concat([_series(base + [99, 99], name="NodeCpuUsageRate"),
                   _series(base + [99, 99], name="PodClientLatencyP99")], ignore_index=True)
    ev = metric_evidence(m, INC, BAS)
    assert ev["moved"].all()
    assert metric_scores(ev)["metric_score"].tolist() == [0.0]


def test_windows_from_spans_and_bad_arguments():
    m = _series([1, 2, 3])
    with pytest.raises(ArgumentError, match="by must be"):
        metric_evidence(m, (T, T), (T, T), by="name")
    with pytest.raises(ArgumentError, match="ends before"):
        metric_evidence(m, (T, T - pd.Timedelta("1s")), (T, T))
    c = tk.metrics_from_columns({"time": [T], "name": "n", "kind": "sum", "temporality": "cumulative", "value": [1.0]})
    with pytest.raises(ArgumentError, match="metric_rates"):
        metric_evidence(c, (T, T), (T, T))
    assert metric_evidence(m, (T, T), (T, T)).empty  # one baseline point: no row


def _shop(seed: int, n: int = 150) -> pd.DataFrame:
    return tk.simulate.simulate("baseline", n, seed=seed).spans


def test_rank_causes_with_metrics_adds_the_metric_evidence_to_the_score():
    base, inc = _shop(1), _shop(2)
    inc = inc.assign(start=inc["start"] + pd.Timedelta("2h"), end=inc["end"] + pd.Timedelta("2h"))  # a later hour
    services = sorted(set(base["service"]) | set(inc["service"]))
    ta, tb = inc["start"].min(), base["start"].min()
    parts = []
    for svc in services:
        # one point per minute over both periods; only "cart"'s memory saturates in the incident (memory: not capped
        # at the traces' own time as CPU is, see the test below)
        for start, side in ((tb, "base"), (ta, "inc")):
            end = (base if side == "base" else inc)["end"].max()
            t = pd.date_range(start.floor("1min"), end.ceil("1min"), freq="1min", tz="UTC")
            t = t[(t >= start) & (t <= end)]
            mem = 10 + np.arange(len(t)) % 3
            if side == "inc" and svc == "cart":
                mem = mem + 80
            parts.append(tk.metrics_from_columns({"time": t, "name": "mem", "value": mem.astype(float), "service": svc}))
            parts.append(tk.metrics_from_columns({"time": t, "name": "cpu", "value": 100.0 + np.arange(len(t)) % 2,
                                                  "service": svc}))
    metrics = pd.concat(parts, ignore_index=True)
    plain = tk.rank_causes(inc, base, n_boot=20, lift_rows=0)
    with_m = tk.rank_causes(inc, base, n_boot=20, lift_rows=0, metrics=metrics)
    # cart's memory: +80 on a baseline of 10-12 (median 11, MAD 1): each point's size 1 - 3.5 * 1.4826 / 80, shrunk
    k, n = metric_evidence(metrics, inc, base).query("service == 'cart' and name == 'mem'")[
        ["incident_points", "baseline_points"]].iloc[0]
    assert with_m.iloc[0]["service"] == "cart"
    assert with_m.iloc[0]["metrics"] == pytest.approx(_expected([1 - 3.5 * 1.4826 / 80] * k, n), rel=0.02)
    assert "metrics" in with_m.iloc[0]["signals"] and "mem" in with_m.iloc[0]["metric_top"]
    assert "Metrics: mem" in with_m.iloc[0]["hypothesis"]
    merged = plain.set_index("service")["score"] + with_m.set_index("service")["metrics"]
    np.testing.assert_allclose(with_m.set_index("service")["score"].sort_index(), merged.sort_index())
    others = with_m[with_m["service"] != "cart"]
    assert (others["metrics"] == 0).all() and (others["metrics_steady"] == 2).all()
    assert (with_m["rank"] == np.arange(1, len(with_m) + 1)).all()
    assert list(plain.columns) == list(with_m.columns[:len(plain.columns)])


    # the same move in cart's CPU, its spans' own time as ever: CPU and request durations count at most its slower
    cpu = metrics.assign(name=metrics["name"].map({"mem": "cpu", "cpu": "mem"}).astype("string"))
    with_cpu = tk.rank_causes(inc, base, n_boot=20, lift_rows=0, metrics=cpu).set_index("service")
    assert metric_evidence(cpu, inc, base).query("service == 'cart' and name == 'cpu'")["evidence"].iloc[0] > 0.1
    assert with_cpu.loc["cart", "metrics"] == pytest.approx(min(with_cpu.loc["cart", "slower"],
                                                                with_m.set_index("service").loc["cart", "metrics"]))


def test_rank_causes_host_level_joins_metrics_by_host():
    """Two pods of one service: only pod cart-2's memory saturates; at level='host' only its row gets the evidence."""
    spans = _shop(3, 120)
    later = spans.assign(start=spans["start"] + pd.Timedelta("2h"), end=spans["end"] + pd.Timedelta("2h"))

    def pods(df: pd.DataFrame) -> pd.DataFrame:
        res = [dict(r, **{"k8s.pod.name": f"{s}-{i % 2 + 1}"}) for i, (r, s) in enumerate(zip(df["resource"], df["service"],
                                                                                               strict=True))]
        return df.assign(resource=res)

    base, inc = pods(spans), pods(later)
    parts = []
    for frame in (base, inc):
        t = pd.date_range(frame["start"].min().ceil("1min"), frame["end"].max().floor("1min"), freq="1min", tz="UTC")
        for pod in ("cart-1", "cart-2"):
            mem = 100.0 + np.arange(len(t)) % 2 + (500.0 if frame is inc and pod == "cart-2" else 0.0)
            parts.append(tk.metrics_from_columns({"time": t, "name": "MemoryUsage", "value": mem, "service": "cart",
                                                  "host": pod}))
    rc = tk.rank_causes(inc, base, level="host", n_boot=20, lift_rows=0, metrics=pd.concat(parts, ignore_index=True))
    cart = rc[rc["service"] == "cart"].set_index("host")
    k = metric_evidence(pd.concat(parts, ignore_index=True), inc, base, by="host").set_index("host").loc[
        "cart-2", "incident_points"]
    assert cart.loc["cart-2", "metrics"] > 0.05 and cart.loc["cart-1", "metrics"] == 0.0
    assert cart.loc["cart-2", "metrics"] <= k / (k + 10)  # at most every point a full move
    assert cart.loc["cart-1", "metrics_steady"] == 1 and "metrics" in cart.loc["cart-2", "signals"]
    assert rc.iloc[0]["host"] == "cart-2"


def _noisy_metrics(services, t, incident_from, rng, target=None, factor=3.0):
    """cpu and memory per service and minute: lognormal noise around a per-service level, the same law on both sides;
    with a ``target``, its cpu is ``factor`` times higher from ``incident_from`` on."""
    rows = []
    for s in services:
        level = {"cpu": rng.uniform(5, 40), "memory": rng.uniform(100, 900)}
        for name, lv in level.items():
            v = lv * rng.lognormal(0.0, 0.1, len(t))
            if s == target and name == "cpu":
                v = np.where(t >= incident_from, v * factor, v)
            rows.append(pd.DataFrame({"time": t, "name": name, "value": v, "service": s}))
    m = pd.concat(rows, ignore_index=True)
    return tk.metrics_from_columns({c: m[c] for c in m.columns})


@pytest.mark.parametrize("seed", range(6))
def test_metric_evidence_across_seeds_finds_the_saturation_and_invents_none(seed):
    """Generated scenarios (ground truth by construction): per-minute cpu and memory with 10 % lognormal noise, alike
    on both sides — no service's metric score reaches 0.05; one service's cpu tripled in the incident hour — it gets
    the largest metric score, moved; its spans did not slow, so rank_causes counts it only up to their ``slower``
    and says so."""
    from tracekit.analysis.metric_evidence import metric_evidence, metric_scores

    hour = pd.Timedelta("1h")
    inc = tk.simulate.simulate("baseline", 200, seed=300 + seed).spans
    base = tk.simulate.simulate("baseline", 200, seed=400 + seed).spans
    base = base.assign(start=base["start"] - hour, end=base["end"] - hour)
    rng = np.random.default_rng(seed)
    services = sorted(set(inc["service"].astype(str)))
    t = pd.date_range(base["start"].min().floor("1min"), inc["end"].max().ceil("1min"), freq="1min")
    start = inc["start"].min()
    null = metric_scores(metric_evidence(_noisy_metrics(services, t, start, rng), inc, base))
    assert null["metric_score"].max() < 0.05
    target = services[int(rng.integers(len(services)))]
    m = _noisy_metrics(services, t, start, rng, target=target)
    sc = metric_scores(metric_evidence(m, inc, base))
    assert sc.iloc[0]["service"] == target and sc.iloc[0]["metric_score"] > 0.5
    assert (sc.iloc[1:]["metric_score"] < 0.05).all()
    rc = tk.rank_causes(inc, base, n_boot=20, lift_rows=0, metrics=m, window=None).set_index("service")
    # the spans are alike on both sides: the CPU rise counts only as far as the target's own time rose, and the
    # hypothesis says what moved and what counted
    r = rc.loc[target]
    assert r["metrics"] <= r["slower"] + 1e-9 and r["metrics_moved"] >= 1
    assert "Metrics: cpu " in r["hypothesis"] and f"metric score {sc.iloc[0]['metric_score']:.2f}, counted " \
        f"{r['metrics']:.2f}" in r["hypothesis"]


def _cpu(spans_list, services, seed=0):
    """10-second cpu points per service over the periods of the spans frames given."""
    parts = []
    for sp in spans_list:
        t = pd.date_range(sp["start"].min().floor("min"), sp["end"].max().ceil("min"), freq="10s")
        parts.append(pd.DataFrame({"time": np.repeat(t, len(services)), "service": np.tile(services, len(t))}))
    f = pd.concat(parts, ignore_index=True)
    f["value"] = np.random.default_rng(seed).normal(50, 1, len(f))
    return tk.metrics_from_columns({"time": f["time"], "name": "cpu", "value": f["value"], "service": f["service"]})


def test_the_postmortem_says_how_many_metric_series_were_compared_and_when_none_could_be():
    inc = tk.simulate.simulate("db-lock", n_traces=300, seed=1).spans
    base = tk.simulate.simulate("baseline", n_traces=300, seed=2).spans
    services = sorted(set(inc["service"]))
    # a baseline inside the incident's hour: no metric point is the baseline's alone
    t0 = base["start"].min()
    first = base.groupby("trace_id")["start"].transform("min")
    inner = base[((first > t0 + pd.Timedelta("10min")) & (first < t0 + pd.Timedelta("40min"))).to_numpy()]
    rc = tk.rank_causes(inc, inner, level="service", metrics=_cpu([inc], services), window=None, n_boot=20)
    cov = rc.attrs["metric_coverage"]
    assert (cov["series"], cov["compared"], cov["moved"]) == (len(services), 0, 0)
    assert (rc["metrics"] == 0).all()
    assert len(pd.concat([rc, rc])) == 2 * len(rc)  # plain values in attrs: concat compares them
    story = tk.postmortem(inc, base, metrics=_cpu([inc], services), n_boot=20)
    sure = [f for f in story.findings if f.topic == "sure"]
    # the postmortem's incident is the change window inside the hour: the rest of the hour is the metrics' baseline
    assert sure[-1].evidence["metric_series_compared"] == len(services)
    assert sure[-1].text.startswith(f"Metrics: {len(services)} of {len(services)} series per service")
    # the baseline a day earlier with metrics of its own: every series compared, dates said
    early = base.copy()
    for c in ("start", "end"):
        early[c] = early[c] - pd.Timedelta("1D")
    story = tk.postmortem(inc, early, metrics=_cpu([inc, early], services), n_boot=20)
    cov = next(f for f in story.findings if f.text.startswith("Metrics"))
    assert cov.evidence["metric_series_compared"] == len(services)
    assert f"{early['start'].min():%Y-%m-%d}" in cov.text and f"{inc['start'].min():%Y-%m-%d}" in cov.text
    # metrics of the incident's day only, the baseline a day earlier: nothing to compare, said first in "how sure"
    story = tk.postmortem(inc, early, metrics=_cpu([inc], services), n_boot=20)
    sure = [f for f in story.findings if f.topic == "sure"]
    assert sure[0].text.startswith("Baseline: ")  # what was compared with what, then that metrics could not weigh
    assert sure[1].text.startswith("Metrics did not weigh in the ranking: none of the")
    assert sure[1].evidence["metric_series_compared"] == 0


def test_a_metric_name_not_in_the_frame_is_an_error_wherever_names_are_given():
    """metric_series said 'no metric named …'; metric_evidence and metric_exemplars returned an empty table for a
    misspelt name: 'no metric moved' when no metric was looked at."""
    m = _series([1, 2, 3])
    have = m["name"].iloc[0]
    for call in (lambda n: metric_evidence(m, (T, T), (T, T), names=n), lambda n: tk.metric_exemplars(m, names=n),
                 lambda n: tk.metric_series(m, n)):
        with pytest.raises(ArgumentError, match=r"no metric named 'cpu_typo' \(have e\.g\. \["):
            call([have, "cpu_typo"])
        call(have)  # a name the frame has is fine
    with pytest.raises(ArgumentError, match=r"metric_evidence: window ends before it starts \("):
        metric_evidence(m, (T, T - pd.Timedelta("1s")), (T, T))


# --- histograms: evidence from the requests their buckets count (issue 31) -------------------------------------

#: OpenTelemetry's default bounds of http.server.request.duration (s)
BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
COARSE = [0.01, 0.05, 0.1, 0.25, 1.0, 5.0]  # a subset of BOUNDS: every COARSE bucket is a union of BOUNDS buckets
#: the 10-second points' windows: the point stamped t describes (t − 10 s, t], so each window is 5 s earlier
H_INC = (T + pd.Timedelta("30min") - pd.Timedelta("5s"), T + pd.Timedelta("40min") - pd.Timedelta("5s"))
H_BAS = (T - pd.Timedelta("5s"), T + pd.Timedelta("29min54s"))


def _latencies(rng, per_point, slow=1.0, minutes_base=30, minutes_inc=10):
    """One array of request latencies (s) per 10-second point: a lognormal body around 100 ms (σ 0.3) with 3 % of
    requests 6× slower (retries: a heavy tail), at least one request a point; the incident's points ``slow``× slower."""
    out = []
    for j in range((minutes_base + minutes_inc) * 6):
        n = max(1, int(rng.poisson(per_point)))
        s = rng.lognormal(np.log(0.1), 0.3, n)
        s = np.where(rng.random(n) < 0.03, 6 * s, s)
        out.append(s * (slow if j >= minutes_base * 6 else 1.0))
    return out


def _histograms(lat, bounds=lambda j: BOUNDS, service="payments", temporality="delta"):
    """Delta histogram points of http.server.request.duration, one per 10 s, bucketed by ``bounds(j)``."""
    t = pd.date_range(T, periods=len(lat), freq="10s")
    bks = []
    for j, s in enumerate(lat):
        b = bounds(j)
        bks.append({"bounds": list(b), "counts": np.bincount(np.searchsorted(b, s, side="left"),
                                                             minlength=len(b) + 1).tolist()})
    return tk.metrics_from_columns({"time": t, "name": "http.server.request.duration", "unit": "s", "kind": "histogram",
                                    "temporality": temporality, "count": [float(len(s)) for s in lat],
                                    "sum": [float(s.sum()) for s in lat], "buckets": bks, "service": service})


def _hist_expected(lat, bounds, q=0.95, prior=10.0):
    """The histogram rule by hand: pooled counts, the edge of the observation ranked ⌈q·N⌉, the chance of passing it."""
    base, inc = np.concatenate(lat[:180]), np.concatenate(lat[180:])
    nb = np.bincount(np.searchsorted(bounds, base, side="left"), minlength=len(bounds) + 1)
    j = int(np.argmax(np.cumsum(nb) >= np.ceil(q * len(base))))
    K, N = np.cumsum(nb)[j], len(base)
    c = (N - K + 1) / (N + 1)
    x = int((inc > bounds[j]).sum())
    return bounds[j], max(0.0, (x + c * prior) / (len(inc) + prior) - c) / (1 - c)


@pytest.mark.parametrize("seed", range(6))
def test_few_requests_per_point_three_times_slower_count_by_their_requests(seed):
    """About one request per 10-second point, the incident's requests 3× slower: the pooled bucket counts put most of
    them above the baseline's p95 edge (0.25 s) — evidence > 0.4, by the rule computed by hand. Read as one mean per
    point (the previous rule, what a series without buckets still gets) the heavy-tailed baseline's single-request
    points reach past 0.5 s and the evidence stays below the 0.05 that counts."""
    lat = _latencies(np.random.default_rng(seed), 1, slow=3.0)
    ev = metric_evidence(_histograms(lat), H_INC, H_BAS).iloc[0]
    edge, want = _hist_expected(lat, BOUNDS)
    assert ev["basis"] == "observations" and ev["edge"] == edge == 0.25
    assert ev["baseline_count"] == sum(len(s) for s in lat[:180]) and ev["incident_count"] == sum(len(s) for s in lat[180:])
    assert ev["evidence"] == pytest.approx(want) and ev["evidence"] > 0.4 and ev["moved"]
    means = metric_evidence(_histograms(lat).assign(buckets=None), H_INC, H_BAS).iloc[0]
    assert means["basis"] == "points" and means["evidence"] < 0.05


@pytest.mark.parametrize("seed", range(6))
def test_many_request_histograms_alike_on_both_sides_give_no_evidence(seed):
    """50 requests a point from one distribution on both sides: about 3 % of the incident's requests pass the
    baseline's p95 edge, below the chance of passing it; evidence ~0 (below 0.01, the 0.05 that counts far off)."""
    lat = _latencies(np.random.default_rng(100 + seed), 50)
    ev = metric_evidence(_histograms(lat), H_INC, H_BAS).iloc[0]
    assert ev["basis"] == "observations" and ev["incident_count"] > 2500
    assert ev["evidence"] < 0.01 and ev["evidence"] == pytest.approx(_hist_expected(lat, BOUNDS)[1])


def test_empty_points_and_missing_or_broken_buckets_are_left_out_of_the_counts():
    lat = _latencies(np.random.default_rng(7), 1, slow=3.0)
    m = _histograms(lat)
    ref = metric_evidence(m, H_INC, H_BAS).iloc[0]
    t = T + pd.Timedelta("5min 5s")
    broken = [{"bounds": BOUNDS, "counts": [0] * 15},  # count 0: mean NaN, nothing to pool
              None,  # no buckets: its mean counts as a point, its requests cannot be placed
              {"bounds": BOUNDS, "counts": [2]},  # one count for 14 bounds
              {"bounds": BOUNDS, "counts": [0, 0, 0, 0, 0, 0, -2, 4, 0, 0, 0, 0, 0, 0, 0]},  # a negative count
              {"bounds": BOUNDS, "counts": ["a"] * 15},  # counts that are not numbers
              {"bounds": [0.2, 0.1], "counts": [0, 2, 0]},  # bounds not increasing
              {"bounds": None, "counts": [2]}, {"bounds": [[0.1]], "counts": [0, 2]}, {"counts": [2]},
              {"bounds": [1e-320, 2e-320], "counts": [0, 2, 0]}]  # bounds too small to compare
    n = len(broken)
    odd = tk.metrics_from_columns({
        "time": [t] * n, "name": "http.server.request.duration", "unit": "s", "kind": "histogram", "temporality": "delta",
        "count": [0.0] + [2.0] * (n - 1), "sum": [0.0] + [0.2] * (n - 1), "service": "payments", "buckets": broken},
        check=False)  # (metrics_from_columns refuses such buckets: a frame made by hand)
    ev = metric_evidence(pd.concat([m, odd], ignore_index=True), H_INC, H_BAS).iloc[0]
    out = metric_evidence(pd.concat([m, odd], ignore_index=True), H_INC, H_BAS)
    assert out.attrs["histogram_points_without_buckets"] == n - 1  # the count-0 point has no mean: not a point here
    assert metric_evidence(m, H_INC, H_BAS).attrs["histogram_points_without_buckets"] == 0
    assert ev["basis"] == "observations" and ev["baseline_points"] == ref["baseline_points"] + n - 1
    assert ev["baseline_count"] == ref["baseline_count"] and ev["evidence"] == pytest.approx(ref["evidence"])
    # no usable buckets in the incident window: the series falls back to its point means
    inc = (m["time"] >= H_INC[0]).to_numpy()
    m2 = m.copy()
    m2.loc[inc, "buckets"] = None
    assert metric_evidence(m2, H_INC, H_BAS).iloc[0]["basis"] == "points"
    # cumulative histograms are read by their point means, as before
    assert metric_evidence(_histograms(lat, temporality="cumulative"), H_INC, H_BAS).iloc[0]["basis"] == "points"


def test_points_with_other_bucket_bounds_are_rebinned_to_the_common_edges():
    """Every other point bucketed by a subset of the bounds: re-binned to that subset, the evidence is exactly the
    rule on the coarse bounds everywhere; bounds with no edge in common fall back to the point means."""
    lat = _latencies(np.random.default_rng(3), 1, slow=3.0)
    mixed = metric_evidence(_histograms(lat, bounds=lambda j: BOUNDS if j % 2 else COARSE), H_INC, H_BAS).iloc[0]
    coarse = metric_evidence(_histograms(lat, bounds=lambda j: COARSE), H_INC, H_BAS).iloc[0]
    edge, want = _hist_expected(lat, COARSE)
    assert mixed["basis"] == "observations" and mixed["edge"] == coarse["edge"] == edge
    assert mixed["evidence"] == pytest.approx(coarse["evidence"]) == pytest.approx(want) and want > 0.4
    assert mixed["baseline_count"] == coarse["baseline_count"]
    apart = metric_evidence(_histograms(lat, bounds=lambda j: [0.1, 0.3] if j % 2 else [0.2, 0.4]), H_INC, H_BAS)
    assert apart.iloc[0]["basis"] == "points"


def test_a_baseline_p95_in_the_open_top_bucket_falls_back_to_the_point_means():
    lat = _latencies(np.random.default_rng(4), 1, slow=3.0)
    ev = metric_evidence(_histograms(lat, bounds=lambda j: [0.01]), H_INC, H_BAS).iloc[0]
    assert ev["basis"] == "points" and np.isnan(ev["edge"]) and np.isnan(ev["baseline_count"])
    with pytest.raises(ArgumentError, match="q must be"):
        metric_evidence(_histograms(lat), H_INC, H_BAS, q=1.0)


@pytest.mark.slow  # reads the bundled incident and ranks it with its metrics (~6 s)
def test_bundled_deploy_regression_signals_give_payments_metric_evidence():
    """payments' server spans went from ~100 to ~290 ms after the 14:30 deploy, about one request per 10-second point:
    its request-duration histograms now weigh (0.0008 by point means before), and rank_causes names metrics for it."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "datasets"
    if not (data / "deploy-regression-signals").is_dir():
        pytest.skip("datasets/deploy-regression-signals is absent")
    spans = tk.read(data / "deploy-regression")
    m = tk.read_metrics(data / "deploy-regression-signals" / "metrics.jsonl.gz")
    rc = tk.rank_causes(spans, level="service", metrics=m, n_boot=20)
    cov = rc.attrs["metric_coverage"]  # the windows rank_causes compared
    ev = metric_evidence(m, cov["incident"], cov["baseline"]).set_index(["service", "name"])
    rc = rc.set_index("service")
    pay = ev.loc[("payments", "http.server.request.duration")]
    assert pay["basis"] == "observations" and pay["evidence"] > 0.05
    assert rc.loc["payments", "metrics"] > 0.05 and "metrics" in str(rc.loc["payments", "signals"])
    assert rc.index[0] == "payments"


def _exp_doc(lat, scale):
    """OTLP JSON: one delta exponentialHistogram point (ms) per 10 s, at ``scale(j)``, offset where its requests start."""
    pts = []
    for j, s in enumerate(lat):
        sc = scale(j)
        idx = np.ceil(np.log2(s * 1000) * 2.0 ** sc).astype(int) - 1  # bucket i holds (base^i, base^(i+1)]
        off = int(idx.min())
        t = int((T + pd.Timedelta(seconds=10 * j)).value)
        pts.append({"startTimeUnixNano": str(t - 10**10), "timeUnixNano": str(t), "count": str(len(s)),
                    "sum": float(s.sum() * 1000), "scale": sc, "zeroCount": "0",
                    "positive": {"offset": off, "bucketCounts": [str(c) for c in np.bincount(idx - off)]}})
    return {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
                                 "scopeMetrics": [{"scope": {"name": "t"}, "metrics": [
                                     {"name": "http.server.request.duration", "unit": "ms",
                                      "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": pts}}]}]}]}


def test_exponential_histograms_of_other_offsets_and_scales_are_counted_by_their_requests():
    """Exponential histograms read from OTLP JSON: each point's buckets start at its own offset (no two points share
    their bounds), every other one at a finer scale (3, about one request) than the rest (2, about 20): re-binned
    exactly, every request is counted once and the evidence equals that of the same requests all at scale 2."""
    rng = np.random.default_rng(11)
    lat = [s for j, s in enumerate(_latencies(rng, 20, slow=3.0)) if j % 2 == 0]
    lat = [x for pair in zip(lat, _latencies(rng, 1, slow=3.0)[1::2], strict=False) for x in pair]
    mixed = tk.read_metrics(_exp_doc(lat, lambda j: 2 if j % 2 == 0 else 3))
    coarse = tk.read_metrics(_exp_doc(lat, lambda j: 2))
    assert len({tuple(b["bounds"]) for b in mixed["buckets"]}) > 100
    ev_m = metric_evidence(mixed, H_INC, H_BAS).iloc[0]
    ev_c = metric_evidence(coarse, H_INC, H_BAS).iloc[0]
    assert ev_m["basis"] == ev_c["basis"] == "observations"
    assert ev_m["baseline_count"] == sum(len(s) for s in lat[:180]) and ev_m["incident_count"] == sum(len(s) for s in lat[180:])
    assert ev_m["edge"] == pytest.approx(ev_c["edge"]) and ev_m["evidence"] == pytest.approx(ev_c["evidence"])
    assert ev_m["evidence"] > 0.4


def test_a_services_metric_evidence_counts_once_at_operation_level():
    """A metric keyed by service is one piece of evidence about the service: at the operation level it went to each
    of the service's operations (the bundled deploy: payments' fraud-check and POST /v1/charges, no trace or log
    evidence of their own, ranked 3rd and 4th on payments' request duration alone). Now one row of the service holds
    it — the one with most evidence from traces and logs — and decided_by names the metric where it weighed most.
    frontend's and checkout's request durations (their client spans wait on payments) count only as far as their
    own spans slowed: before, a client span beside them lifted the own-time cap, and frontend GET /cart ranked third
    (0.31) on the request duration alone."""
    deploy = tk.read(REPO / "datasets" / "deploy-regression")
    logs = tk.read_logs(REPO / "datasets" / "deploy-regression-signals" / "logs.jsonl.gz")
    metrics = tk.read_metrics(REPO / "datasets" / "deploy-regression-signals" / "metrics.jsonl.gz")
    incident, baseline = deploy[deploy["start"] >= T_DEPLOY], deploy[deploy["start"] < T_DEPLOY]
    by_op = tk.rank_causes(incident, baseline, logs=logs, metrics=metrics, window=None, n_boot=20, lift_rows=0,
                           level="operation")
    by_svc = tk.rank_causes(incident, baseline, logs=logs, metrics=metrics, window=None, n_boot=20, lift_rows=0,
                            level="service").set_index("service")
    for svc, rows in by_op.groupby("service"):
        held = rows[rows["metrics"] > 0]
        assert len(held) <= 1, (svc, held[["name", "metrics"]])
        if by_svc.loc[svc, "metrics"] > 0:
            assert len(held) == 1 and held["metrics"].iat[0] == pytest.approx(by_svc.loc[svc, "metrics"])
            # the holder had the most evidence of the service before the metric was added
            before = rows["score"] - rows["metrics"]
            assert before.loc[held.index[0]] == before.max()
    pay = by_op[by_op["service"] == "payments"]
    assert (pay["metrics"] > 0).sum() == 1 and pay.iloc[0]["name"] == "POST /api/charge"  # its new log statement
    quiet = by_op[(by_op["metrics"] > 0.05) & (by_op[["slower", "waiting", "extra", "vanished", "shape", "errors",
                                                      "log_templates", "log_errors"]].max(axis=1) < 0.05)]
    assert quiet["decided_by"].str.startswith("metrics: http.server.request.duration").all()
    # frontend and checkout: their request durations rose by payments' new call (their client spans wait on it, their
    # own spans did not slow): counted no further than their slower, and the words say what moved
    for svc in ("frontend", "checkout"):
        rows = by_op[by_op["service"] == svc]
        held = rows[rows["metric_top"].notna() | rows["hypothesis"].str.contains("Metrics:")]
        assert rows["metrics"].max() <= rows["slower"].max() + 1e-9
        assert held["hypothesis"].str.contains(r"metric score \d\.\d\d, counted \d\.\d\d").any()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [109, 3, 7])
def test_a_request_duration_counts_on_a_service_only_as_far_as_its_own_time_moved(seed):
    """Fault-lab windows (truth by construction). network_delay: the delayed pod's callers' request durations rise by
    its delay alone, their own time does not: every traced service's latency-family evidence is at most its ``slower``
    (0 where that is 0), the callers gain nothing on the delayed service, which ranks no lower than on traces alone.
    cpu_contention: the pod's own time rises, its CPU and request-duration evidence is kept as metric_evidence gives it,
    up to its ``slower`` together."""
    w = lab_window("network_delay", seed, status=False)
    plain = tk.rank_causes(w.incident, w.baseline, level="service", n_boot=1, lift_rows=0)
    rc = tk.rank_causes(w.incident, w.baseline, level="service", n_boot=1, lift_rows=0, metrics=w.metrics)
    raw = metric_evidence(w.metrics, w.incident, w.baseline)
    lat_raw = raw[raw["family"] == "latency"].groupby("service")["evidence"].mean()
    assert lat_raw.max() > 0.2  # the callers' request durations did move
    r = rc.set_index(rc["service"].astype(str))
    for svc in lat_raw.index:
        # the service's metric score is its latency family's mean (capped) plus its other families' (the cpu gauge)
        others = metric_scores(raw[(raw["service"] == svc) & (raw["family"] != "latency")])
        other = float(others["metric_score"].sum()) if len(others) else 0.0
        assert r.loc[svc, "metrics"] <= other + r.loc[svc, "slower"] + 1e-9
    callers = set(w.incident.loc[w.incident["span_id"].isin(
        w.incident.loc[w.incident["service"] == w.truth.service, "parent_id"]), "service"].astype(str))
    callers.discard(w.truth.service)
    for svc in callers & set(lat_raw.index):
        if r.loc[svc, "slower"] == 0:
            assert r.loc[svc, "metrics"] <= float(metric_scores(raw[(raw["service"] == svc) & (
                raw["family"] != "latency")])["metric_score"].sum()) + 1e-9
    rank = lambda t: int(t.index[t["service"].astype(str) == w.truth.service][0])  # noqa: E731
    assert rank(rc) <= rank(plain)

    c = lab_window("cpu_contention", seed, status=False)
    rc = tk.rank_causes(c.incident, c.baseline, level="service", n_boot=1, lift_rows=0, metrics=c.metrics)
    r = rc.set_index(rc["service"].astype(str)).loc[c.truth.service]
    assert r["slower"] > 0.3 and rc.iloc[0]["service"] == c.truth.service
    raw = metric_evidence(c.metrics, c.incident, c.baseline)
    mine = raw[(raw["service"] == c.truth.service) & (raw["family"] == "latency")]
    assert mine["evidence"].max() > 0  # its request durations rose
    mine = raw[raw["service"] == c.truth.service]
    own = mine[mine["family"].isin(["cpu", "latency"])].groupby("family")["evidence"].mean().sum()
    rest = metric_scores(mine[~mine["family"].isin(["cpu", "latency"])])["metric_score"].sum() if (
        ~mine["family"].isin(["cpu", "latency"])).any() else 0.0
    assert r["metrics"] == pytest.approx(min(own, r["slower"]) + rest)  # cpu + latency together up to its slower
    assert r["metrics"] >= 0.5 * float(metric_scores(raw[raw["service"] == c.truth.service])["metric_score"].iloc[0])


@pytest.mark.slow
def test_a_noisy_neighbours_cpu_counts_only_as_far_as_its_own_time_moved():
    """Fault-lab network_delay, seed 2 (noisy: a neighbour burning 0.5 vCPU beside the delayed pod's callers, truth by
    construction). The neighbour's CPU rose ~13x, its spans' own time hardly: its CPU and request-duration metrics
    together count at most its ``slower``, and the delayed service stays first, as on traces alone (before, the
    neighbour's CPU put it first with metrics)."""
    from tracekit.simulate_faults import fault_window, random_system
    w = fault_window("network_delay", 2, system=random_system(2), status=True, background_errors=0.01, drift=0.3,
                     noisy_neighbour=0.5)
    neighbour = w.truth.neighbour_pod.rsplit("-", 2)[0]
    raw = metric_evidence(w.metrics, w.incident, w.baseline)
    cpu = raw[(raw["service"] == neighbour) & (raw["family"] == "cpu")]["evidence"].mean()
    plain = tk.rank_causes(w.incident, w.baseline, level="service", n_boot=1, lift_rows=0, window=None)
    rc = tk.rank_causes(w.incident, w.baseline, level="service", n_boot=1, lift_rows=0, window=None, metrics=w.metrics)
    r = rc.set_index(rc["service"].astype(str))
    assert cpu > 2 * r.loc[neighbour, "slower"] > 0  # the CPU moved far more than its own time
    others = raw[(raw["service"] == neighbour) & ~raw["family"].isin(["cpu", "latency"])]
    rest = metric_scores(others)["metric_score"].sum() if len(others) else 0.0
    assert r.loc[neighbour, "metrics"] <= r.loc[neighbour, "slower"] + rest + 1e-9
    assert str(plain.iloc[0]["service"]) == w.truth.service == str(rc.iloc[0]["service"])


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_coverage_words_leave_out_dimensionless_units(seed):
    """A CPU utilisation (UCUM unit ``1``) that moved is said as "0.02 → 0.42", not "0.02 → 0.42 1"; a unit that
    means something (``s``) stays. Fault lab: the stressor's pod's CPU moves by construction."""

    w = lab_window("cpu_contention", seed=seed)
    rc = tk.rank_causes(w.incident, w.baseline, level="service", window=None, metrics=w.metrics)
    top = rc.attrs["metric_coverage"]["top_moved"]
    cpu = [t for t in top if "process.cpu.utilization" in t]
    assert cpu, top
    assert not any(t.endswith(" 1") for t in top), top
    # (a histogram is said by its share above a bucket edge in seconds: "above 0.025 s, against ...")
    assert all(re.search(r"\d s(,|\)|$)", t) for t in top if "http.server.request.duration" in t), top


def test_the_metrics_sentence_does_not_call_a_negligible_fall_a_move():
    """Fault-lab null window 109: payment-service's request duration fell 2.2 % (mean → mean); its evidence (a few more
    observations above the baseline's p95 edge than chance, after the own-time cap next to nothing: 0.006) is
    negligible. The sentence said such a series "moved beyond the baseline's reach" (null window 102 before the points
    were placed by the interval they describe); it now says it apart, as a fall not said to have moved, and names as
    moved only what weighs at least NEGLIGIBLE_EVIDENCE."""

    w = lab_window("null", seed=109)
    pm = tk.postmortem(w.incident, w.baseline, level="service", metrics=w.metrics)
    text = next(s for s in pm.sentences("sure") if s.startswith("Metrics:"))
    moved, _, negligible = text.partition("more went past it by a negligible margin, not said to have moved")
    assert "payment-service" not in moved, text
    assert "payment-service http.server.request.duration (fell 2.2 %" in negligible, text  # mean → mean
    ev = next(f.evidence for f in pm.findings if f.text == text)
    assert ev["metric_series_negligible"] >= 1
    assert f"{ev['metric_series_moved']:,} moved beyond the baseline's reach" in moved

    # whatever the window, a metric named as moved weighs at least NEGLIGIBLE_EVIDENCE, and a histogram whose mean
    # fell is not said as "median → mean" (its evidence counts only observations above the edge: a rise)
    for seed in (102, 104, 109):
        w = lab_window("null", seed=seed)
        rc = tk.rank_causes(w.incident, w.baseline, level="service", window=None, metrics=w.metrics, n_boot=20)
        cov = rc.attrs["metric_coverage"]
        raw = metric_evidence(w.metrics, cov["incident"], cov["baseline"]).set_index(["service", "name"])
        assert len(cov["top_moved"]) + min(cov["negligible"], 3) <= cov["moved"]
        for item in cov["top_moved"]:
            svc, name = item.split(" ")[:2]
            r = raw.loc[(svc, name)]
            if r["basis"] == "observations":  # the share above the edge against the baseline's, what was counted
                assert "observations above" in item and ", against " in item, item
                assert ("mean fell" in item) == (r["direction"] == "down"), item
        named = {tuple(t.split(" ")[:2]) for t in cov["top_moved"]}
        assert not named & {tuple(t.split(" ")[:2]) for t in cov["negligible_moved"]}


# ---- which window a point is in: the interval it describes (metric_series.described_times) ----------------------
def test_described_times_by_source_and_temporality():
    """A scraped gauge describes the step before its stamp, a CloudWatch datapoint the period after it, a delta point
    its own [start_time, time]; a series of one point keeps its stamp."""
    from tracekit.analysis.metric_series import described_times

    gauge = _series([1, 2, 3, 4])  # once a minute from T
    assert (pd.to_datetime(described_times(gauge), utc=True) == pd.date_range(T, periods=4, freq="1min") - HALF).all()
    doc = {"MetricDataResults": [{"Id": "m1", "Label": "CPUUtilization", "Values": [10.0, 12.0, 11.0],
                                  "Timestamps": ["2024-01-01T10:10:00Z", "2024-01-01T10:05:00Z", "2024-01-01T10:00:00Z"],
                                  "StatusCode": "Complete"}]}
    cw = tk.read_metrics(doc)
    got = pd.to_datetime(described_times(cw), utc=True)
    assert sorted(got - pd.DatetimeIndex(cw["time"])) == [pd.Timedelta("150s")] * 3  # 5-minute periods: their middles
    s0, t1 = int(T.value), int((T + pd.Timedelta("20s")).value)
    delta = tk.read_metrics({"resourceMetrics": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "cart"}}]}, "scopeMetrics": [{"metrics": [
            {"name": "requests", "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [
                {"startTimeUnixNano": str(s0), "timeUnixNano": str(t1), "asInt": "5"}]}}]}]}]})
    assert described_times(delta).tolist() == [s0 + (t1 - s0) // 2]
    assert described_times(_series([7])).tolist() == [T.value]  # no step to read: the stamp


def test_a_scraped_rise_stamped_after_the_last_span_counts_in_the_incident():
    """Nezha TrainTicket 13:31 (cpu_contention of ts-contacts-service), by construction: once-a-minute CPU points at
    :09, the stressor's minute reported in the point stamped 13:33:09, the incident's last span ending 13:33:07. By
    its stamp the point lay after the incident; it describes 13:32:09–13:33:09, whose middle lies inside."""
    t = pd.date_range("2023-01-29 13:20:09", "2023-01-29 13:36:09", freq="1min", tz="UTC")
    cpu = [4.0 + (i % 3) for i in range(len(t))]
    cpu[t.get_loc(pd.Timestamp("2023-01-29 13:33:09", tz="UTC"))] = 499.7
    m = tk.metrics_from_columns({"time": t, "name": "CpuUsage", "value": cpu, "service": "contacts"})
    inc = (pd.Timestamp("2023-01-29 13:31:54", tz="UTC"), pd.Timestamp("2023-01-29 13:33:07", tz="UTC"))
    base = (pd.Timestamp("2023-01-29 13:21:54", tz="UTC"), pd.Timestamp("2023-01-29 13:31:53", tz="UTC"))
    ev = metric_evidence(m, inc, base).iloc[0]
    assert ev["incident_points"] == 1 and ev["incident_mean"] == 499.7 and ev["moved"]
    assert ev["baseline_points"] == 10 and not ev["baseline_widened"]
    # read by the stamps (the windows moved back by the half step the rule moves the points back), it is not there
    stamps = metric_evidence(m, (inc[0] - HALF, inc[1] - HALF), (base[0] - HALF, base[1] - HALF)).iloc[0]
    assert stamps["incident_mean"] < 10 and not stamps["moved"]


def test_a_short_baseline_takes_the_latest_earlier_points_never_the_incidents():
    """A baseline of traces covering 90 s (Nezha's sparse TrainTicket windows) holds 1–2 minute points, which the
    incident passes by chance 2 in 3: it takes the series' latest points before it, to MIN_BASELINE_POINTS — not the
    incident's, not later ones — and says so; windows that overlap are not widened."""
    from tracekit.analysis.metric_evidence import MIN_BASELINE_POINTS

    assert MIN_BASELINE_POINTS == 10
    values = [5.0, 6, 7] * 5 + [400.0, 410.0] + [900.0] * 3  # 15 normal minutes, 2 incident minutes, then later ones
    m = _series(values)
    stamp = pd.date_range(T, periods=len(values), freq="1min", tz="UTC")
    inc = (stamp[15] - HALF, stamp[16] - HALF)
    base = (stamp[13] - HALF, stamp[14] - HALF)  # 2 points of its own
    ev = metric_evidence(m, inc, base).iloc[0]
    assert ev["baseline_widened"] and ev["baseline_points"] == MIN_BASELINE_POINTS
    assert ev["reach_high"] < 400 and ev["incident_points"] == 2 and ev["evidence"] > 0.1
    narrow = metric_evidence(m.iloc[13:17].reset_index(drop=True), inc, base).iloc[0]  # nothing earlier to take
    assert not narrow["baseline_widened"] and narrow["baseline_points"] == 2 and narrow["evidence"] < ev["evidence"]
    # a baseline after the incident widens back towards it, never into it
    after = (stamp[17] - HALF, stamp[17] - HALF)
    assert metric_evidence(m, inc, after).empty  # its one point: none between, the incident's not taken
    # overlapping windows: no period of its own to widen
    over = metric_evidence(m, (stamp[10] - HALF, stamp[16] - HALF), (stamp[14] - HALF, stamp[18] - HALF))
    assert over.empty or not over["baseline_widened"].any()
    # rank_causes' coverage counts the widened series and the postmortem says it
    spans = tk.simulate.simulate("baseline", 600, seed=5).spans
    first = spans.groupby("trace_id")["start"].transform("min")
    spans = spans[(first < first.min() + pd.Timedelta("3min")).to_numpy()].reset_index(drop=True)  # 3 minutes of traces
    services = sorted(set(spans["service"].astype(str)))
    t0 = spans["start"].min().floor("1min")
    late = spans.assign(start=spans["start"] + pd.Timedelta("30min"), end=spans["end"] + pd.Timedelta("30min"))
    t = pd.date_range(t0 - pd.Timedelta("20min"), late["end"].max().ceil("1min") + pd.Timedelta("1min"), freq="1min")
    mm = tk.metrics_from_columns({"time": np.repeat(t, len(services)), "name": "cpu", "service": np.tile(services, len(t)),
                                  "value": np.random.default_rng(0).normal(50, 1, len(t) * len(services))})
    rc = tk.rank_causes(late, spans, metrics=mm, window=None, n_boot=1, lift_rows=0)
    cov = rc.attrs["metric_coverage"]
    assert cov["widened"] == cov["compared"] == len(services)
    pm = tk.postmortem(late, spans, metrics=mm, n_boot=1)
    said = next(f.text for f in pm.findings if f.text.startswith("Metrics"))
    assert (f"({len(services)} of them had fewer than {MIN_BASELINE_POINTS} points in the baseline's period and were made "
            f"up to {MIN_BASELINE_POINTS} with their latest points before it)") in said


def test_a_metric_s_change_in_words_compares_mean_with_mean():
    """Fault-lab null window 105: catalog-service's request duration mixes two routes (median of its 10 s means
    1.3 ms, mean 5.1 ms in both windows); the incident's mean against the baseline's median read "rose 404.2 %" beside
    "a negligible margin". The change is mean against mean, as the words say it."""
    w = lab_window("null", seed=105)
    rc = tk.rank_causes(w.incident, w.baseline, level="service", window=None, metrics=w.metrics, n_boot=20)
    cov = rc.attrs["metric_coverage"]
    ev = metric_evidence(w.metrics, cov["incident"], cov["baseline"]).set_index(["service", "name"])
    r = ev.loc[("catalog-service", "http.server.request.duration")]
    assert r["baseline_mean"] > 2 * r["baseline_median"]  # the skew the old words mistook for a rise
    assert r["change"] == pytest.approx(r["incident_mean"] / r["baseline_mean"] - 1) and abs(r["change"]) < 0.1
    said = [x for x in cov["negligible_moved"] + cov["capped_moved"] + cov["top_moved"]
            if x.startswith("catalog-service http.server.request.duration")]
    assert said and f"{abs(100 * r['change']):,.1f} %" in said[0] and "404" not in said[0], said
