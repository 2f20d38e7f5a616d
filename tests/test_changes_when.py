"""When (issue 29): a change at an edge of the data is reported as itself, memory linear in buckets,
and a deploy's onset is not after its first new-version span.

Ground truth by construction: the simulator's db-lock window is put at the end or the start of the
hour; the deploy time is the simulator's own."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.changes import MAX_BUCKETS, epidemic_test
from tracekit.core import trace_outcomes

from .conftest import read_dataset

MIN = pd.Timedelta("1min")
T0, T_END = pd.Timestamp("2026-03-02T14:00Z"), pd.Timestamp("2026-03-02T15:00Z")


def _lock(seed: int, ws: str, we: str):
    return tk.simulate.simulate("db-lock", 1200, seed=seed, window_start=ws, window_end=we)


# seeds 2 and 16 gave the complement on the old code (onset 14:00, recovery at the real onset, delta < 0)
@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 16])
def test_a_change_running_to_the_end_is_reported_as_itself(seed):
    sim = _lock(seed, "2026-03-02T14:40Z", "2026-03-02T15:00Z")
    ch = tk.detect_changes(sim.spans, by="service")
    first = ch.iloc[0]
    assert abs(first["onset"] - sim.truth.window_start) <= MIN, first
    assert pd.isna(first["recovery"]) and first["delta"] > 0 and first["delta_lo"] > 0
    split = tk.split_by_change(sim.spans, ch)
    starts = trace_outcomes(sim.spans).set_index("trace_id")["start"]
    in_window = int((starts >= sim.truth.window_start).sum())
    assert split.before["trace_id"].nunique() > 0 and split.after.empty
    assert abs(split.incident["trace_id"].nunique() - in_window) <= 25  # within one bucket's requests (~20)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 5])
def test_a_change_at_the_start_is_reported_as_itself(seed):
    sim = _lock(seed, "2026-03-02T14:00Z", "2026-03-02T14:20Z")
    ch = tk.detect_changes(sim.spans, by="service")
    first = ch.iloc[0]
    assert first["onset"] == T0 and abs(first["recovery"] - sim.truth.window_end) <= MIN, first
    assert first["delta"] > 0 and first["delta_lo"] > 0
    split = tk.split_by_change(sim.spans, ch)
    assert split.before.empty and split.after["trace_id"].nunique() > 500


def test_epidemic_test_one_sided_finds_the_higher_window_at_either_edge():
    rng = np.random.default_rng(3)
    low, high = rng.normal(0, 1, 40), rng.normal(5, 1, 20)
    # higher at the end: [40, 60), not its complement [0, 40) nor a window from position 1 to 40
    # (the edge may take in one neighbour whose rank is high among the low values)
    a, b, _z, p = epidemic_test(np.r_[low, high], direction="up", n_perm=199)
    assert abs(a - 40) <= 1 and b == 60 and p < 0.05
    a, b, _z, p = epidemic_test(np.r_[high, low], direction="up", n_perm=199)
    assert a == 0 and abs(b - 20) <= 1 and p < 0.05
    # two-sided: the shorter side of an edge split is the change
    a, b, _z, _p = epidemic_test(np.r_[high, low], direction="both", n_perm=99)
    assert a == 0 and abs(b - 20) <= 1
    with pytest.raises(tk.ArgumentError, match="direction"):
        epidemic_test(low, direction="sideways")
    with pytest.raises(tk.ArgumentError, match="direction"):
        tk.detect_changes(tk.simulate.simulate("baseline", 50, seed=1).spans, direction="sideways")


@pytest.mark.parametrize("direction", ["up", "down", "both"])
def test_the_permutations_maximum_is_the_scans_maximum(direction):
    """The permutations take the statistic's maximum alone (_scan_stat_max), the observed series its window too
    (_scan_max): the two agree to rounding on tied ranks, series at and near the shortest length, and a change."""
    from scipy.stats import rankdata

    from tracekit.analysis.changes import _scan_max, _scan_stat_max

    rng = np.random.default_rng(11)
    for n in (5, 6, 31, 97):
        for x in (rng.integers(0, 4, n).astype(float), np.r_[rng.normal(0, 1, n - n // 3), rng.normal(3, 1, n // 3)]):
            r = rankdata(x) - (n + 1) / 2
            perm = rng.permuted(np.broadcast_to(r, (64, n)), axis=1)
            cp = np.concatenate([np.zeros((64, 1)), np.cumsum(perm, axis=1)], axis=1)
            full, fast = _scan_max(cp, n, 2, direction)[0], _scan_stat_max(cp, n, 2, direction)
            assert np.all(np.isfinite(fast)) and np.all(fast >= full) and np.max(fast - full) < 1e-12
    # shorter than two windows of min_len: no window, -inf as _scan_max says
    assert _scan_stat_max(np.zeros((2, 4)), 3, 2, direction).tolist() == [-np.inf, -np.inf]


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_window_scan_memory_is_linear_in_buckets():
    rng = np.random.default_rng(0)
    x1, x4 = rng.normal(size=600), rng.normal(size=2400)
    epidemic_test(x1, n_perm=9)  # imports done before measuring
    p1 = _peak(lambda: epidemic_test(x1, n_perm=9))
    p4 = _peak(lambda: epidemic_test(x4, n_perm=9))
    # 4x the buckets: linear memory gives ~4x, all windows at once gave ~16x (2400 values: ~200 MB)
    assert p4 < 6 * p1, (p1, p4)
    assert p4 < 20e6, p4


def test_a_straggler_span_far_from_the_rest_takes_a_coarser_bucket_and_says_so():
    spans = tk.simulate.simulate("baseline", 100, seed=1).spans.copy()
    one = spans["trace_id"] == spans["trace_id"].iloc[0]
    for c in ("start", "end"):
        spans.loc[one, c] = spans.loc[one, c] - pd.Timedelta(days=2)
    size = int(spans.memory_usage(deep=True).sum())
    with pytest.warns(UserWarning, match="no series could be tested"):  # imports done before measuring
        tk.detect_changes(spans.iloc[:200], by="service", metric="p95_ms")
    out = {}
    peak = _peak(lambda: out.setdefault("ch", tk.detect_changes(spans, by="service", freq="1min")))
    params = out["ch"].attrs["params"]
    # 2 days and an hour of 1-min buckets (2,940) > MAX_BUCKETS: a round bucket that fits, said in the result
    assert params["freq_asked"] == "1min" and params["freq"] == "10min"
    assert pd.Timedelta(params["freq"]) * MAX_BUCKETS >= pd.Timedelta(days=2, hours=1)
    assert "2,940 buckets of 1 min" in params["freq_note"] and "10 min" in params["freq_note"]
    # the old code built every window of the 2,940-bucket request series at once (~300 MB)
    assert peak < 15 * size, (peak, size)
    # within MAX_BUCKETS the bucket asked is kept and nothing is said
    ch = tk.detect_changes(spans[~one], by="service", freq="1min", metric="p95_ms")
    assert ch.attrs["params"]["freq"] == "1min" and ch.attrs["params"]["freq_note"] is None


@pytest.mark.slow
@pytest.mark.parametrize("case", ["dataset", "14:20:40"])
def test_a_deploy_onset_is_not_after_its_first_new_version_span(case):
    from tracekit.analysis.changes import incident_periods

    if case == "dataset":  # payments 1.5.0 first seen 14:30:38; the old code said 14:31
        spans = read_dataset("deploy-regression")
    else:
        spans = tk.simulate.simulate("slow-deploy", 1200, seed=3, deploy_time=f"2026-03-02T{case}Z").spans
    d = tk.deployments(spans)
    first = d[(d["service"] == "payments") & (d["version"] == "1.5.0")]["first_seen"].iloc[0]
    p = incident_periods(spans)
    onset, recovery = p.window
    assert onset <= first < onset + MIN and pd.isna(recovery)
    assert p.change["deployment"] == "payments 1.5.0"
    # the automatic baseline holds no trace that started after the deploy
    assert trace_outcomes(p.baseline)["start"].max() < first


def _one_by_one(series, directions, seed, n_perm):
    """The reference: each series alone, its own permutations (of its ranks in sorted order, seeded by seed)."""
    from tracekit.analysis.changes import _perm_maxima, _scan_max
    from tracekit.core.stats import average_ranks

    out = []
    for x, d in zip(series, directions, strict=True):
        x = np.asarray(x, dtype=float)
        n = len(x)
        if n < 5 or np.ptp(x) == 0:
            out.append((-1, -1, float("nan"), 1.0))
            continue
        r = average_ranks(x) - (n + 1) / 2
        z, a, length = _scan_max(np.r_[0.0, np.cumsum(r)][None, :], n, 2, d)
        done = exceed = 0
        p = None
        for zmax in _perm_maxima(np.sort(r), 2, d, n_perm, np.random.default_rng(seed)):
            for v in zmax:  # one permutation at a time: stop at the 10th that reaches the observed maximum
                done += 1
                exceed += v >= z[0] - 1e-9
                if exceed == 10:
                    p = 10 / done
                    break
            if p is not None:
                break
        out.append((int(a[0]), int(a[0] + length[0]), float(z[0]), (1 + exceed) / (1 + done) if p is None else p))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_many_series_share_permutations_and_get_each_its_own_answer(seed):
    """epidemic_tests groups series whose ranks are one multiset (every series of n values without ties) and runs
    one stream of permutations per group, each series stopping at its own 10th exceedance: the answers are those
    of each series tested alone (a plain loop, one permutation at a time), ties and edges included."""
    from tracekit.analysis.changes import epidemic_tests

    rng = np.random.default_rng(seed)
    series, dirs = [], []
    for _ in range(25):
        n = int(rng.choice([4, 12, 30]))
        kind = rng.integers(0, 4)
        x = (rng.normal(0, 1, n) if kind == 0 else rng.integers(0, 3, n).astype(float) if kind == 1
             else np.r_[rng.normal(0, 1, n - n // 3), rng.normal(4, 1, n // 3)] if kind == 2 else np.ones(n))
        series.append(x)
        dirs.append(str(rng.choice(["up", "down", "both"])))
    got = epidemic_tests(series, min_len=2, n_perm=1999, seed=seed, direction=dirs)
    want = _one_by_one(series, dirs, seed, 1999)
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2] and (g[2] == w[2] or (np.isnan(g[2]) and np.isnan(w[2]))) and g[3] == pytest.approx(w[3])
    alone = [epidemic_test(x, min_len=2, n_perm=1999, seed=seed, direction=d) for x, d in zip(series, dirs, strict=True)]
    assert repr(alone) == repr(got)  # (nan: repr)


def test_changed_keys_share_one_stream_of_permutations(monkeypatch):
    """40 endpoints that all changed, no ties: a changed series needs every permutation (as many as the Holm family
    of 40 asks: 16,000), and 40 of them each generating their own was quadratic in the keys (40 / 80 / 160 changed
    endpoints: 4.5 / 14.4 / 55.2 s). One stream now serves them all: the permutations generated are those of one
    series. Every changed endpoint is found, at its window."""
    import tracekit.analysis.changes as changes

    made = []
    real = changes._perm_orders  # where every permutation is drawn (each chunk: one order per row)

    def counting(*args, **kwargs):
        for chunk in real(*args, **kwargs):
            made.append(len(chunk))
            yield chunk

    monkeypatch.setattr(changes, "_perm_orders", counting)
    rng = np.random.default_rng(0)
    k, per = 40, 600
    t0 = T0.value
    start = t0 + rng.integers(0, 3600 * 10**9, k * per)
    lat = rng.lognormal(np.log(50), 0.3, k * per) * np.where((start - t0 >= 1800 * 10**9) & (start - t0 < 2400 * 10**9), 3, 1)
    spans = tk.spans_from_columns({"trace_id": [f"{i:032x}" for i in range(1, k * per + 1)],
                                   "span_id": [f"{i:016x}" for i in range(1, k * per + 1)], "service": "svc",
                                   "name": [f"GET /e{j}" for j in np.repeat(np.arange(k), per)], "kind": "server",
                                   "start": start, "end": start + (lat * 1e6).astype(np.int64)})
    ch = tk.detect_changes(spans, by="name", metric="p95_ms", freq="1min")
    assert len(ch) == k and set(ch["name"]) == {f"GET /e{j}" for j in range(k)}
    # ten requests a minute per endpoint: a noisy p95 bucket next to the window may join it (seen: one of 40)
    assert ((ch["onset"] - (T0 + 30 * MIN)).abs() <= 5 * MIN).all() and (ch["onset"] == T0 + 30 * MIN).sum() >= 35
    assert ((ch["recovery"] - (T0 + 40 * MIN)).abs() <= 5 * MIN).all()
    n_perm = ch.attrs["params"]["n_perm"]
    # one series' worth, not 40; plus the second look outside each window (session 43: other windows set aside from
    # the baseline), one stream for all 40, stopped early. Session 44: holm_permutations 20 / (alpha / n), was 4 (16,000)
    assert n_perm == 80_000 and n_perm <= sum(made) <= n_perm + 10_000
