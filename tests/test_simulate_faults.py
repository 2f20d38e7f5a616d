"""The fault lab (tracekit.simulate_faults): each injection checked against its null window.

Every random number of a window is a hash of (seed, call path, request, purpose), so the null window of a
seed and a fault window of the same seed have the same requests, spans and durations except where the
fault acts. Each test compares the two, span by span (joined by span id): what must change changes by
the amount injected, and nothing else changes.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import hosts, ns, self_ns, span_tree
from tracekit.errors import ArgumentError
from tracekit.simulate_faults import FAULT_KINDS, KINDS, fault_window, random_system

from .conftest import lab_window

#: small windows: 120 s of baseline and 60 s of incident at one request a second
KW = dict(rate=1.0, baseline_s=120.0, incident_s=60.0, min_calls=10.0)


def _pair(kind: str, seed: int, **kw):
    """A fault window of a 12-service system and its null twin (conftest.lab_window: each made once per process, the
    null twin of seed 3 serves both CPU kinds; each call's frames are copies of its own)."""
    return (lab_window(kind, seed, n_services=12, **KW, **kw), lab_window("null", seed, n_services=12, **KW, **kw))


def _by_id(spans: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"service": spans["service"].astype(object).to_numpy(),
                        "name": spans["name"].astype(object).to_numpy(),
                        "kind": spans["kind"].astype(object).to_numpy(),
                        "host": hosts(spans), "parent_id": spans["parent_id"].astype(object).to_numpy(),
                        "dur": ns(spans["end"]) - ns(spans["start"]), "self": self_ns(spans),
                        "status": spans["status"].astype(object).to_numpy()},
                       index=spans["span_id"].astype(str).to_numpy())
    assert out.index.is_unique
    return out


def _cpu(metrics: pd.DataFrame, pod: str, t0: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    m = metrics[(metrics["name"] == "process.cpu.utilization") & (metrics["host"] == pod)]
    t = ns(m["time"])
    v = m["value"].to_numpy(dtype=float)
    return v[t <= t0.value], v[t > t0.value + 10_000_000_000]


# ---- the system -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(8))
def test_random_system_shape(seed):
    s = random_system(seed)
    assert 8 <= len(s.services) <= 40 and 2 <= s.depth <= 6 and 2 <= len(s.routes) <= 8
    assert all(1 <= len(p) <= 3 for p in s.pods) and abs(sum(s.route_mix) - 1) < 1e-9
    calls = s.calls()
    usual = calls[calls["branch"] == "usual"]
    level = dict(zip(s.services, s.level, strict=True))
    # calls go down the levels only (a DAG), every service below the entry level is called on a usual branch
    assert (calls["caller"].map(level) < calls["callee"].map(level)).all()
    assert set(usual["callee"]) == {x for x, lv in level.items() if lv > 0}
    assert (s.expected_calls() > 0).all()


def test_random_system_arguments():
    assert len(random_system(1, n_services=8, depth=6).services) == 8
    for bad in (dict(n_services=7), dict(n_services=41), dict(depth=1), dict(depth=7)):
        with pytest.raises(ArgumentError):
            random_system(1, **bad)


# ---- determinism ------------------------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_frames_and_other_seeds_differ():
    a = fault_window("exception", 4, **KW)
    b = fault_window("exception", 4, **KW)
    for f in ("baseline", "incident", "logs", "metrics"):
        pd.testing.assert_frame_equal(getattr(a, f), getattr(b, f))
    assert a.truth == b.truth
    c = fault_window("exception", 5, **KW)
    assert not set(a.incident["trace_id"]) & set(c.incident["trace_id"])
    assert a.system.services != c.system.services


def test_the_place_is_the_seeds_not_the_kinds():
    system = random_system(6, n_services=12)
    places = {(w.truth.service, w.truth.pod) for k in FAULT_KINDS
              for w in [fault_window(k, 6, system=system, **KW)]}
    assert len(places) == 1
    null = fault_window("null", 6, system=system, **KW)
    assert null.truth.service is None and null.truth.pod is None


# ---- injections, each against its null window ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["cpu_contention", "cpu_consumed"])
def test_cpu_faults_slow_the_pods_own_work_by_the_factor(kind):
    w, n = _pair(kind, 3)
    pd.testing.assert_frame_equal(w.baseline, n.baseline)
    f, b = _by_id(w.incident), _by_id(n.incident)
    assert f.index.sort_values().equals(b.index.sort_values())
    b = b.loc[f.index]
    on = ((f["host"] == w.truth.pod) & (f["kind"] == "server")).to_numpy()
    if kind == "cpu_consumed":  # one operation's code (a method) burns CPU, the pod's other operations as ever
        on = on & (f["name"] == w.truth.operation).to_numpy()
        assert on.sum() == w.truth.affected_calls and (f["host"] == w.truth.pod).sum() > on.sum()
    else:
        assert w.truth.operation is None
    assert on.sum() >= 10
    fac = w.truth.factor
    # each of an operation's (at most 5) self-time segments is rounded to 1 µs after scaling
    assert np.all(np.abs(f["self"].to_numpy()[on] - fac * b["self"].to_numpy()[on]) <= 5 * (1 + fac) * 1000)
    assert np.all(f["self"].to_numpy()[~on] == b["self"].to_numpy()[~on])  # nobody else's own work changed
    assert np.all(f["dur"].to_numpy() >= b["dur"].to_numpy())
    before, during = _cpu(w.metrics, w.truth.pod, w.truth.time)
    nb, nd = _cpu(n.metrics, w.truth.pod, w.truth.time)
    assert during.mean() > nd.mean() and np.array_equal(before, nb)
    if kind == "cpu_contention":  # the stressor's load on top of the longer busy time
        assert during.mean() - nd.mean() > 0.9 * w.truth.load
    else:
        assert w.truth.load == 0 and during.mean() - nd.mean() < 0.5


def test_network_delay_lengthens_only_the_calls_into_the_pod():
    w, n = _pair("network_delay", 2)
    f, b = _by_id(w.incident), _by_id(n.incident)
    b = b.loc[f.index]
    srv = f[f["kind"] == "server"]
    srv = srv[srv["parent_id"].notna()]
    gap_f = f.loc[srv["parent_id"], "dur"].to_numpy() - srv["dur"].to_numpy()
    gap_b = b.loc[srv["parent_id"], "dur"].to_numpy() - b.loc[srv.index, "dur"].to_numpy()
    into = (srv["host"] == w.truth.pod).to_numpy()
    assert into.sum() >= 10
    assert np.all(gap_f[into] > gap_b[into]) and np.all(gap_f[~into] == gap_b[~into])
    assert np.median(gap_f[into] - gap_b[into]) / 1e6 == pytest.approx(w.truth.delay_ms, rel=0.3)
    pod = (f["host"] == w.truth.pod).to_numpy()
    assert np.array_equal(f["dur"].to_numpy()[pod], b["dur"].to_numpy()[pod])  # the pod's own spans unchanged
    pd.testing.assert_frame_equal(w.baseline, n.baseline)


@functools.cache
def _exception_seed() -> int:
    """A seed whose throwing operation has calls after its throw point (so something vanishes): searched once, its
    window (status=True, fault_window's default) the one ``_pair`` gives with ``status=True``."""
    for seed in range(40):
        w = lab_window("exception", seed, n_services=12, share=1.0, status=True, **KW)
        op = next(o for o in w.system.operations if o.name == w.truth.operation
                  and w.system.services[o.service] == w.truth.service)
        if op.throw_at < len(op.steps) and w.truth.affected_calls >= 5:
            return seed
    raise AssertionError("no seed with calls after the throw point")


@pytest.mark.parametrize("status", [True, False])
def test_exceptions_log_errors_on_their_spans_and_the_calls_after_vanish(status):
    seed = _exception_seed()
    w, n = _pair("exception", seed, share=1.0, status=status)
    inc = w.incident
    f, b = _by_id(inc), _by_id(n.incident)
    thrown = f[(f["host"] == w.truth.pod) & (f["name"] == w.truth.operation) & (f["kind"] == "server")]
    assert len(thrown) == w.truth.affected_calls >= 5
    op = next(o for o in w.system.operations if o.name == w.truth.operation
              and w.system.services[o.service] == w.truth.service)
    # an ERROR record naming the exception on every throwing span, with its ids
    err = w.logs[w.logs["severity_text"] == "ERROR"]
    keyed = set(zip(err["span_id"].astype(str), err["body"].astype(str).str.split(":").str[0], strict=True))
    assert all((sid, op.exception) in keyed for sid in thrown.index)
    assert set(err["span_id"].astype(str)) <= set(inc["span_id"].astype(str)) | set(w.baseline["span_id"].astype(str))
    # the calls after the throw point vanish: each throwing span's children are some of its null twin's
    kids_f = f.groupby("parent_id").groups
    kids_b = b.groupby("parent_id").groups
    fewer = 0
    for sid in thrown.index:
        a_, b_ = set(kids_f.get(sid, [])), set(kids_b.get(sid, []))
        assert a_ <= b_
        fewer += len(a_) < len(b_)
    assert fewer == len(thrown)
    if status:
        assert (thrown["status"] == "error").all()
        ev = inc.set_index(inc["span_id"].astype(str))["events"]
        assert all(any(e["name"] == "exception" and e["attributes"]["exception.type"] == op.exception for e in ev[s])
                   for s in thrown.index)
    else:  # TrainTicket-like: no status anywhere, no exception events, no HTTP status
        for frame in (inc, w.baseline):
            assert set(frame["status"]) == {"unset"} and frame["http_status"].isna().all()
            assert not any(frame["events"].map(len)) and not frame["fault"].any()
            assert not any("http.response.status_code" in a for a in frame["attributes"])
    # no log event is left on the spans handed out
    assert not any(e["name"] == "log" for ev in inc["events"] for e in ev)


def test_return_changes_nothing_at_the_pod_and_the_callers_branch():
    w, n = _pair("return", 1, share=1.0)
    f, b = _by_id(w.incident), _by_id(n.incident)
    at_pod = f.index[(f["host"] == w.truth.pod).to_numpy()]
    assert len(at_pod) >= 5
    pd.testing.assert_frame_equal(f.loc[at_pod], b.loc[at_pod])  # the pod's spans as they were
    assert not (f.loc[at_pod, "status"] == "error").any()
    target = f[(f["host"] == w.truth.pod) & (f["name"] == w.truth.operation) & (f["kind"] == "server")]
    callers = f.loc[target["parent_id"], "parent_id"].unique()  # the callers' server spans
    # the callers take another branch: other calls or other log statements (or an error of their own)
    kids_f, kids_b = f.groupby("parent_id").groups, b.groupby("parent_id").groups
    logs_f = w.logs.groupby(w.logs["span_id"].astype(str))["body"].apply(lambda s: sorted(s.str.replace(r"\d", "", regex=True)))
    logs_b = n.logs.groupby(n.logs["span_id"].astype(str))["body"].apply(lambda s: sorted(s.str.replace(r"\d", "", regex=True)))
    changed = [c for c in callers if set(kids_f.get(c, [])) != set(kids_b.get(c, [])) or logs_f.get(c) != logs_b.get(c)]
    assert len(changed) >= len(callers) / 2
    # nothing changes in the traces that never reach the pod
    reach = set(w.incident.loc[w.incident["span_id"].astype(str).isin(at_pod), "trace_id"])
    other = ~w.incident["trace_id"].isin(reach)
    pd.testing.assert_frame_equal(w.incident[other].reset_index(drop=True),
                                  n.incident[~n.incident["trace_id"].isin(reach)].reset_index(drop=True))


# ---- a previous fault in the baseline, against the clean window ----------------------------------------------------
@pytest.mark.parametrize("prev", FAULT_KINDS)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_previous_fault_acts_in_the_baselines_first_part_only(prev, seed):
    """``baseline_fault``: another service's pod has a fault in the baseline's first ``baseline_fault_s`` seconds.
    Against the same window without it: the incident and the fault's truth are the same, the baseline's traces
    that started after the previous fault are the same, and the traces that differ all reach its pod."""
    system = random_system(seed, n_services=12)
    kw = dict(KW, system=system, share=1.0)
    w = fault_window("cpu_contention", seed, baseline_fault=prev, baseline_fault_s=40.0, **kw)
    c = lab_window("cpu_contention", seed, n_services=12, **KW, share=1.0)  # the clean window: one per seed
    assert c.system.services == system.services
    p = w.truth.previous
    assert c.truth.previous is None and p.kind == prev and p.service != w.truth.service
    assert w.truth == dataclasses.replace(c.truth, previous=p)
    assert p.time == w.truth.time - pd.Timedelta(seconds=KW["baseline_s"]) and p.end - p.time == pd.Timedelta(seconds=40)
    assert (p.operation is None) == (prev in ("cpu_contention", "network_delay"))
    pd.testing.assert_frame_equal(w.incident, c.incident)
    f, b = _by_id(w.baseline), _by_id(c.baseline)
    assert f.index.sort_values().equals(b.index.sort_values()) or prev in ("exception", "return")
    tid = w.baseline.groupby("trace_id")["start"].min()
    later = set(tid.index[tid >= p.end])
    pd.testing.assert_frame_equal(w.baseline[w.baseline["trace_id"].isin(later)].reset_index(drop=True),
                                  c.baseline[c.baseline["trace_id"].isin(later)].reset_index(drop=True))
    reach = set(w.baseline.loc[(f["host"] == p.pod).to_numpy(), "trace_id"])
    same = ~w.baseline["trace_id"].isin(reach)
    pd.testing.assert_frame_equal(w.baseline[same].reset_index(drop=True),
                                  c.baseline[~c.baseline["trace_id"].isin(reach)].reset_index(drop=True))
    early = w.baseline["trace_id"].map(tid).to_numpy() < p.end  # the requests that arrived while it acted
    on = ((f["host"] == p.pod) & (f["kind"] == "server")).to_numpy() & early
    if p.operation is not None:
        on &= (f["name"] == p.operation).to_numpy()
    assert on.sum() == p.affected_calls >= 3
    if prev in ("cpu_contention", "cpu_consumed"):
        b = b.loc[f.index]
        assert np.all(np.abs(f["self"].to_numpy()[on] - p.factor * b["self"].to_numpy()[on]) <= 5 * (1 + p.factor) * 1000)
        assert np.all(f["self"].to_numpy()[~on] == b["self"].to_numpy()[~on])
        cpu_w, cpu_c = (m[(m["name"] == "process.cpu.utilization") & (m["host"] == p.pod)] for m in (w.metrics, c.metrics))
        tw = ns(cpu_w["time"])
        during = (tw > p.time.value + 10_000_000_000) & (tw <= p.end.value)
        lift = cpu_w["value"].to_numpy()[during] - cpu_c["value"].to_numpy()[during]
        assert (lift > 0.9 * p.load).all() if prev == "cpu_contention" else (lift >= 0).all() and p.load == 0
    elif prev == "network_delay":
        srv = f[(f["kind"] == "server") & (f["host"] == p.pod) & f["parent_id"].notna()]
        srv = srv[early[f.index.get_indexer(srv.index)]]
        b = b.loc[f.index]
        gap = (f.loc[srv["parent_id"], "dur"].to_numpy() - srv["dur"].to_numpy()) - \
              (b.loc[srv["parent_id"], "dur"].to_numpy() - b.loc[srv.index, "dur"].to_numpy())
        assert len(gap) >= 3 and (gap > 0).all()
        assert np.median(gap) / 1e6 == pytest.approx(p.delay_ms, rel=0.3)
    elif prev == "exception":  # an ERROR record on about its share of its operation's spans there, new ones only there
        err = set(w.logs.loc[w.logs["severity_text"] == "ERROR", "span_id"].astype(str))
        new = err - set(c.logs.loc[c.logs["severity_text"] == "ERROR", "span_id"].astype(str))
        thrown = len(set(f.index[on]) & new)
        assert thrown >= max(1, 0.2 * p.share * on.sum())
        assert set(w.baseline.loc[w.baseline["span_id"].astype(str).isin(new), "trace_id"]) <= reach
    else:  # a wrong value: its pod's spans as they were, a caller's branch or error above
        pd.testing.assert_frame_equal(f.loc[f.index[on]], _by_id(c.baseline).loc[f.index[on]])


@pytest.mark.parametrize("prev", ["cpu_contention", "exception"])
def test_a_previous_fault_on_the_same_service(prev):
    """``baseline_fault_on="same"``: the previous fault is on the injected service (a pod and operation of it drawn
    as for another one); the incident is still the clean window's and the later baseline traces too."""
    system = random_system(4, n_services=12)
    kw = dict(KW, system=system)
    w = fault_window("network_delay", 4, baseline_fault=prev, baseline_fault_on="same", baseline_fault_s=40.0, **kw)
    c = lab_window("network_delay", 4, n_services=12, **KW)  # the clean window: one for both
    p = w.truth.previous
    assert p.service == w.truth.service and p.kind == prev and p.affected_calls >= 3
    pd.testing.assert_frame_equal(w.incident, c.incident)
    tid = w.baseline.groupby("trace_id")["start"].min()
    later = set(tid.index[tid >= p.end])
    pd.testing.assert_frame_equal(w.baseline[w.baseline["trace_id"].isin(later)].reset_index(drop=True),
                                  c.baseline[c.baseline["trace_id"].isin(later)].reset_index(drop=True))
    assert not w.baseline.equals(c.baseline)


def test_baseline_fault_arguments_are_named():
    with pytest.raises(ArgumentError, match="baseline_fault"):
        fault_window("exception", 1, baseline_fault="null")
    with pytest.raises(ArgumentError, match="baseline_fault_s"):
        fault_window("exception", 1, baseline_fault="exception", baseline_fault_s=1e6)
    with pytest.raises(ArgumentError, match="baseline_fault_on"):
        fault_window("exception", 1, baseline_fault="exception", baseline_fault_on="another")


def test_signals_agree_with_the_spans():
    w = fault_window("exception", 8, **KW)
    spans = pd.concat([w.baseline, w.incident], ignore_index=True)
    att = tk.attach_logs(spans, w.logs)
    assert att.n_unmatched == 0 and att.n_on_span == len(w.logs)
    info = w.logs[w.logs["body"].astype(str).str.startswith("handled ")]
    assert len(info) == int((spans["kind"] == "server").sum())  # an INFO per request at each service
    cpu = w.metrics[w.metrics["name"] == "process.cpu.utilization"]
    assert set(cpu["host"]) == set(hosts(spans)) and set(w.metrics["service"]) == set(spans["service"])
    tree = span_tree(spans)
    assert tree.n_traces == spans["trace_id"].nunique()
    assert int((tree.parent < 0).sum()) == tree.n_traces  # one root per request, no orphans


@pytest.mark.parametrize("status", [True, False])
def test_the_signals_pass_the_checks_they_are_built_without(monkeypatch, status):
    """The simulator builds its logs and metrics with check=False (a third to half of their build time): the same
    columns checked give the same frames (every bucket, exemplar and point rule, the schemas validated)."""
    import tracekit.simulate_signals as ss

    built: dict[str, list] = {"logs_from_columns": [], "metrics_from_columns": []}
    for name in built:
        real = getattr(ss, name)

        def spy(cols, real=real, name=name, **kw):
            out = real(cols, **kw)
            built[name].append((real, cols, kw, out))
            return out
        monkeypatch.setattr(ss, name, spy)
    w = fault_window("exception", 9, status=status, noisy_neighbour=0.5)
    assert len(w.logs) and len(w.metrics)
    for name, calls in built.items():
        assert calls, name
        for real, cols, kw, out in calls:
            assert kw.get("check") is False
            pd.testing.assert_frame_equal(real(cols, **{**kw, "check": True}), out)


def test_bad_arguments_are_named():
    with pytest.raises(ArgumentError, match="kind"):
        fault_window("disk_full", 1)
    with pytest.raises(ArgumentError, match="share"):
        fault_window("exception", 1, share=1.5)
    with pytest.raises(ArgumentError, match="drift"):
        fault_window("cpu_consumed", 1, drift=-0.1)
    with pytest.raises(ArgumentError, match="system"):
        fault_window("null", 1, system="shop")
    assert set(KINDS) == {*FAULT_KINDS, "null"}


# ---- rank_causes on the lab (slow) ----------------------------------------------------------------------------------
#: seeds of the accuracy checks: not the benchmark's (0-39), clean windows, status on even seeds only
LAB_SEEDS = range(200, 206)


@pytest.fixture(scope="module")
def lab():
    out = {}
    for seed in LAB_SEEDS:
        system = random_system(seed)
        for kind in KINDS:
            w = fault_window(kind, seed, system=system, status=seed % 2 == 0)
            kw = dict(window=None, n_boot=1, lift_rows=0)  # scores use no resample (test_postmortem_weak pins it)
            rc = tk.rank_causes(w.incident, w.baseline, logs=w.logs, metrics=w.metrics, **kw)
            traces = tk.rank_causes(w.incident, w.baseline, **kw) if kind == "network_delay" else None
            out[(seed, kind)] = (w, rc, traces)
    return out


def _rank(rc: pd.DataFrame, service: str) -> int:
    names = rc["service"].astype(str).tolist()
    return names.index(service) + 1 if service in names else len(names) + 1


@pytest.mark.slow
def test_rank_causes_finds_the_injected_service_with_all_three_signals(lab):
    """Floors from the rates the benchmark measures on its 50 clean seeds (bench_fault_lab.py --seeds 100, 50 faults
    per kind; all three signals unless said): AC@1 cpu_contention 100 %, cpu_consumed 78 % (AC@3 92 %), exception
    84 %, network_delay 36 % (AC@3 82 %; traces only AC@1 84 %: the metrics' request durations of its callers
    outrank it); return 0 % before the answers rule (45 % with it on seeds 0-19), and the injected service or a direct caller of it is first in 46 of 50. Each floor is
    the largest count of the six seeds that the measured rate misses with probability under 5 % (binomial), so it
    holds against chance and breaks when a kind's mark is lost (a rate halved), not at today's figure."""
    def ranks(kind: str, which: int = 1) -> list[int]:
        return [_rank(lab[(s, kind)][which], lab[(s, kind)][0].truth.service) for s in LAB_SEEDS]

    def count(r: list[int], k: int) -> int:
        return sum(x <= k for x in r)

    got = {k: ranks(k) for k in FAULT_KINDS}
    assert count(got["cpu_contention"], 1) >= 5, got
    assert count(got["cpu_consumed"], 1) >= 3 and count(got["cpu_consumed"], 3) >= 4, got
    assert count(got["exception"], 1) >= 3, got
    assert count(got["network_delay"], 3) >= 3 and count(ranks("network_delay", 2), 1) >= 3, got
    # a delay on one pod of several: the service takes that host's waiting (rank_causes' host_waiting; the benchmark's
    # seeds 0-19 and 1000-1019: 90 and 100 % first with all three signals, 6 of these six)
    assert count(got["network_delay"], 1) >= 4, got
    # a wrong return value leaves no mark at the pod: the evidence is at the caller that branched — counted at the
    # injected service where the caller's changed course followed one of its pods (rank_causes' answers: 45 % of the
    # benchmark's seeds 0-19 first; 3 of these six), else at the caller
    assert count(got["return"], 1) >= 1, got
    near = 0
    for s in LAB_SEEDS:
        w, rc, _ = lab[(s, "return")]
        calls = w.system.calls()
        near += str(rc["service"].iloc[0]) in {w.truth.service, *calls.loc[calls["callee"] == w.truth.service, "caller"]}
    assert near >= 4, near


@pytest.mark.slow
def test_null_windows_rank_nothing_high(lab):
    """With nothing injected the top score stays low (the benchmark's 50 clean null windows, all three signals:
    median 0.13, largest 0.34; the faults' median top scores 0.41-0.75), and below the top score of the same
    seed's CPU fault (as in 99 of the benchmark's 100 seeds)."""
    for s in LAB_SEEDS:
        null = float(lab[(s, "null")][1]["score"].iloc[0])
        assert null < 0.4, (s, null)
        assert float(lab[(s, "cpu_contention")][1]["score"].iloc[0]) > null, s
        assert lab[(s, "null")][0].truth.service is None


def test_a_windows_logs_and_metrics_are_the_same_whenever_they_are_made():
    # made on first read (FaultWindow): the frames must not depend on when, or on what was made in between
    first = fault_window("exception", 31, incident_s=20, baseline_s=40)
    logs, metrics = first.logs, first.metrics
    assert first.logs is logs and first.metrics is metrics  # made once
    fault_window("cpu_contention", 32, incident_s=20, baseline_s=40).metrics  # noqa: B018 - another window between
    later = fault_window("exception", 31, incident_s=20, baseline_s=40)
    pd.testing.assert_frame_equal(later.metrics, metrics)
    pd.testing.assert_frame_equal(later.logs, logs)
    assert len(logs) > len(first.incident) // 2 and (logs["severity_text"] == "ERROR").any()
