"""The cost of detect_changes' permutation tests (tracekit.analysis.changes) and of rank_causes' fixed steps: what a
speed change must keep (the answers, to the bit) and what it must no longer do (work whose result cannot matter).
Counts of work done, never times."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit.analysis.changes as changes
from tracekit.core.stats import average_ranks


def _surge(rng: np.random.Generator, n: int, at: int, length: int) -> np.ndarray:
    """Request counts a bucket: Poisson(10), Poisson(30) in ``[at, at + length)`` — tied values, a clear change."""
    x = rng.poisson(10, n).astype(float)
    x[at:at + length] = rng.poisson(30, length)
    return x


def _reference(series, dirs, n_perm, seed, scan):
    """Each series alone, every permutation scanned in full (``scan``: the whole-window maximum), Besag–Clifford's
    stop at the 10th permutation that reaches the observed maximum: the documented p-value, computed plainly."""
    out = []
    for x, d in zip(series, dirs, strict=True):
        n = len(x)
        r = average_ranks(x) - (n + 1) / 2
        z, a, length = changes._scan_max(np.r_[0.0, np.cumsum(r)][None, :], n, 2, d)
        rng = np.random.default_rng(seed)
        chunk = max(1, min(500, 2_000_000 // (n + 1)))
        done = exceed = 0
        p = None
        while done < n_perm and p is None:
            m = min(chunk, n_perm - done)
            perm = rng.permuted(np.broadcast_to(np.sort(r), (m, n)), axis=1)
            for v in scan(np.concatenate([np.zeros((m, 1)), np.cumsum(perm, axis=1)], axis=1), n, 2, d):
                done += 1
                exceed += int(v >= z[0] - 1e-9)
                if exceed == 10:
                    p = 10 / done
                    break
        out.append((int(a[0]), int(a[0] + length[0]), float(z[0]), float((1 + exceed) / (1 + done) if p is None else p)))
    return out


def test_a_surge_on_every_key_scans_only_the_permutations_that_could_reach_it(monkeypatch):
    """Twelve keys whose request rate tripled for 12 of 40 buckets (tied counts: a group of their own each) need
    every one of the Holm family's permutations, each drawn for its own group and scanned over every window (O(n²)):
    a surge on every key was quadratic in keys (80 services: 28 s). The groups of one length now share each chunk
    of permutation orders, and a permutation whose maximum cannot reach the observed one (the range of its
    cumulative rank sums and the sum of the largest ranks bound every window) is not scanned; the answers are
    those of every permutation scanned, and p is 1 / (permutations + 1): no permutation of 40 buckets puts the 12
    largest counts together (chance below 1e-9 each)."""
    scan, orders = changes._scan_stat_max, getattr(changes, "_perm_orders", None)
    rows, drawn = [], []

    def counting(cp, *args):
        rows.append(len(cp))
        return scan(cp, *args)

    def drawing(*args):
        for chunk in orders(*args):
            drawn.append(len(chunk))
            yield chunk

    rng = np.random.default_rng(7)
    series = [_surge(rng, 40, int(rng.integers(2, 26)), 12) for _ in range(12)]
    dirs = ["both"] * 6 + ["up"] * 6
    n_perm = 2999
    want = _reference(series, dirs, n_perm, 3, scan)
    monkeypatch.setattr(changes, "_scan_stat_max", counting)
    monkeypatch.setattr(changes, "_perm_orders", drawing, raising=False)
    got = changes.epidemic_tests(series, min_len=2, n_perm=n_perm, seed=3, direction=dirs)
    assert got == want
    assert all(p == 1 / (n_perm + 1) for *_, p in got)  # by construction: the surge is the best arrangement
    # (series are tested first, one row each, then permutations: 12 × 2,999 rows scanned before)
    permuted_rows = sum(rows) - len(series)
    assert permuted_rows < 0.05 * len(series) * n_perm, permuted_rows
    # the twelve groups (one length) share each chunk of permutation orders: one stream drawn, not twelve
    assert sum(drawn) == n_perm


@pytest.mark.parametrize("seed", range(3))
def test_skipping_unreachable_permutations_changes_no_answer(seed):
    """Series of every kind (ties, none, a change, none, a lone spike, constant), directions and lengths: the answer
    of epidemic_tests is that of every permutation scanned, to the bit — the skipped ones cannot reach the bar."""
    rng = np.random.default_rng(100 + seed)
    series, dirs = [], []
    for _ in range(14):
        n = int(rng.choice([5, 9, 24, 41]))
        kind = int(rng.integers(0, 5))
        x = (rng.poisson(rng.uniform(0.3, 15), n).astype(float) if kind == 0 else rng.normal(size=n) if kind == 1
             else _surge(rng, n, int(rng.integers(0, n - 2)), int(rng.integers(2, max(3, n // 2)))) if kind == 2
             else (rng.random(n) < 0.1).astype(float) if kind == 3 else np.r_[np.zeros(n - 1), 5.0])
        series.append(x)
        dirs.append(str(rng.choice(["up", "down", "both"])))
    keep = [i for i, x in enumerate(series) if np.ptp(x) > 0]
    got = changes.epidemic_tests([series[i] for i in keep], min_len=2, n_perm=999, seed=seed,
                                 direction=[dirs[i] for i in keep])
    want = _reference([series[i] for i in keep], [dirs[i] for i in keep], 999, seed, changes._scan_stat_max)
    assert repr(got) == repr(want)
