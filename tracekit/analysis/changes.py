"""When it started and when it stopped: change windows on the timeline, and the baseline they imply.

:func:`detect_changes` looks, for each key and metric of a :func:`~tracekit.timeline`
(``p95_ms``, ``error_rate``, ``requests`` per bucket), for the window where the metric differs
most from the rest of the series, and keeps it when a permutation test says it is not chance.

The method — an **epidemic change-point test on ranks** (Levin & Kline 1985; rank form as in
Gombay 1994): the bucket values (a bucket without one left out: a percentile or error rate of no request, and
every metric of a bucket with no data — no span at all collected there, :func:`~tracekit.analysis.timeline.no_data_buckets`,
said in ``attrs["no_data"]``: a collector outage is no drop of the request rate) are replaced by their ranks ``r`` and
centred; for every window ``[a, b)`` with at least ``min_buckets`` buckets inside and outside,
``Z(a, b) = Σ_{a≤i<b} r_i / √(L(n−L)/n)`` (L = b − a) is the standardised rank-sum of the window
against the rest. The statistic is the largest ``Z`` and the window is the change: ``onset`` its
first bucket, ``recovery`` the bucket after it (NaT when it runs to the end of the data: still
ongoing, or a step change such as a deployment).

Which side is the change: a window at an edge of the data ``[a, n)`` has the same ``|Z|`` as its
complement ``[0, a)`` — one change point, two readings ("started at a, ongoing" or "was going on from
the start, recovered at a"). The rule: an incident makes things **worse**, so for latency and the
error rate the statistic is one-sided (``Z`` as is: the window must be higher than the rest) and the
abnormal side is the worse one whatever its length; for the request rate (a surge or a drop may be
the incident) it is two-sided (``|Z|``) and of an edge window and its complement the shorter is the
change, the longer side being the normal regime. (``direction`` overrides this.) Earlier versions
took ``|Z|`` and left out windows starting at the first bucket: a change running to the end was then
found, in 3–6 of 30 seeds, as the window from bucket 1 to its onset — its complement with a negative
delta. Windows are scanned one length at a time, so memory is linear in buckets; above
:data:`MAX_BUCKETS` buckets a coarser round bucket is used and said in ``attrs["params"]``.
Ranks make a few extreme buckets (a p95 of 4 requests) count
no more than any other bucket.

**Edges.** A window at an edge of the data (from its first bucket, or to its last: an export that ends minutes after
the alert, or begins in the incident) is one change point, ``n`` candidates; a window inside it is two, about
``n² / 2``. The permuted maxima of the inside windows reach higher than those of the edge windows alone, so with one
unweighted maximum an edge change had to clear the inside's bar: four of 60 values 2.5σ higher, 60 seeds, p < 0.02,
found in 4 (at the end) and 4 (at the start) against 13 inside. An edge window's ``Z`` is now weighted by
:func:`_edge_weight` (1.05 at 60 buckets), about the ratio of the two kinds' null maxima, and the permutations take the
same weighted statistic, so the level holds (400 iid series each of 30 / 60 / 240 values: p < 0.01 in 7 / 5 / 5, were 7
/ 5 / 4). The same seeds: 10 / 13 at the edges, 11 inside. An hour of one-minute buckets, 10 requests a minute, the last
(first) 5 three times slower, p95 by route at alpha 0.01: found in 6 (3) of 12 seeds, now 12 (11), each onset in its
bucket; five slower minutes in the middle 15 of 30 → 14, a one-minute spike nine times slower 1 of 30 → 1.

**Resolution: the shortest change it can see.** Windows of ``min_buckets`` (2) buckets and more are scanned, but on
ranks a bucket weighs at most its rank, however far it moved: a window of ``L`` of ``n`` buckets holding the ``L``
highest ranks reaches ``Z/σ ≈ √(3L)`` at most (σ the ranks' spread), while the permutation maxima of ``n`` buckets
without a change reach 3.5–4σ. A change must hold about :data:`SHORTEST_CHANGE` (6) buckets to be found reliably,
whatever its size. Measured on an hour of one-minute buckets, 20 requests a minute, every request of the window 5×
slower and failing at 50 % (2 % outside), 10 seeds each: p95 found in 0 / 0 / 0 / 0 / 3 / 10 of 10 for windows of
1 / 2 / 3 / 4 / 5 / 6 buckets, error rate in 0 / 1 / 2 / 3 / 9 / 10; over 30 buckets, 3 buckets 10× slower and
failing at 50 %: found in 2 of 10 seeds, at ``10s`` (18 buckets) in 10 of 10, and 6 buckets at ``1min`` in 10 of 10.
(A series whose ``L`` top ranks sit in one window, all else shuffled, at α 0.01 alone: ``L`` = 4 passed in 1 of 3 at 60 buckets; 5 in 2 of 3 at 240, 6 in all.) A single
outlying bucket cannot be told from noise by any test that treats buckets as exchangeable; a spike of a few buckets
is seen at a finer ``freq`` (3 minutes are 18 buckets of ``10s``). ``attrs["resolution"]`` says it with the bucket
used; :func:`~tracekit.postmortem` says it when nothing is found.

The ranks say *whether* a series changed (the p-value); *where* is then placed on the requests
(:func:`scan_window`, as :func:`~tracekit.detect_metric_changes` places its windows on bucket values):
for a request count, the window whose bucket counts' mean differs most from the rest's; for the error
rate, the window whose requests fail most unlike the rest's (each bucket weighing its requests); for a
latency percentile, the same on two readings of each request — whether it exceeds the normal percentile
(outside the rank window), and its latency's rank among all requests — taking the window of the reading that
separates it most (a two-proportion-style z, comparable between readings). A grown tail shows in the first, a whole
distribution that moved in the second: every request 80 ms slower from a deploy on, 5 requests a minute, 40 seeds:
the exceedances alone put the onset within a minute in 13 of the 29 found and said "still going" in 17; with the
ranks, 29 and 28. Ranks placed windows badly on levels: a step's neighbours above the median joined it, and at
an edge of the data a run of the other regime's lowest ranks outweighed it — 30 buckets of Poisson(20)
requests with a 3× surge in six: exact in 21 / 17 / 24 of 40 seeds (surge at the start / middle / end),
not on the surge at all in 12 / 0 / 10; error rate 2 % → 30 % in the middle: exact in 20 of 40; latency
3×: 40 / 35 / 37. Now 40 / 39 / 40, 35 and 40 / 40 / 40. (A percentile of a timeline given without its
requests stays on the rank window: bucket percentiles are not robust to a bucket of 4 requests.)
For latency metrics the two edges are then refined on the
requests themselves: each may move by up to two buckets to where the requests inside and outside
the window differ most (standardised sum of either reading above, the one that differs more), and the onset is the bucket of the first request inside — a lone slow request just
before the onset (one routine cold start in a bucket of seven) no longer opens the window early.
A latency window is said to have ended only when the requests after it are faster than those inside beyond chance
(:data:`RECOVERY_ALPHA` over the key's buckets after the onset, either reading: the end is chosen among them);
else it runs to the end of the data. A quarter of the requests
1 s slower from a deploy to the end, 5 a minute: "over by" was said in 5 of 28 seeds found, now 2; a window of 10
minutes every request 180 ms slower still ends within a minute of the truth in 40 of 40. An error-rate window
follows the same rule (:func:`_recovered`, the requests after it must fail less than those inside beyond chance):
a raised error rate running to the end of the data, from a random minute of 20–40, one request in 100 failing
before, 30 seeds: "over by" said in 5 / 10 / 11 / 4 / 3 of the 6 / 25 / 28 / 30 / 30 found (5 % at 10 a minute;
10 % at 10; 30 % at 3 / 5 / 10), now 0 / 3 / 5 / 0 / 1; windows of 5–10 minutes that did end keep their recovery
(five such scenarios, 30 seeds each: the same recoveries, 86 of 150 found within a minute of the truth). The end is
the one of the key's buckets after the onset that differs most, so a fixed end's threshold (2.33) was passed by chance
more often than 1 %: it is now taken over those buckets (:data:`RECOVERY_ALPHA`, Bonferroni; 3.4 for 30). 30 seeds:
30 % failing to the end at 3 / 10 / 30 a minute, "over by" said in 5 / 1 / 0 of 28 / 30 / 30 found → 1 / 0 / 0; 10 %
at 10 a minute 3 of 25 → 1; a quarter of the requests 1 s slower, 5 a minute, 4 of 28 → 0. Windows of 10 minutes
that did end: 30 % failing at 3 a minute, said to end in 20 → 18 of the 20 found (12 → 11 within a minute), at 10 / 30
a minute 30 of 30 still; every request 180 ms slower, 5 a minute, 30 of 30 within a minute still. A timeline given
without its requests gets the same check on its buckets (:func:`_timeline_recovered`: each bucket's failed requests
of known outcome, or its percentile's value): without it, "over by" was said there in 11 of 28 (error rate, 30 % at 3
a minute) and 10 of 28 (the quarter 1 s slower) where the spans said 5 and 4; now 1 and 1, as the spans.

The p-value is a **permutation test** (bucket values are exchangeable when nothing changes):
the same maximum over permuted series, with Besag & Clifford's sequential stopping (stop after
10 permuted maxima reach the observed one: p = 10 / permutations done; else
(1 + hits) / (1 + permutations), at most ``n_perm`` permutations — enough to resolve the Holm
threshold). Series whose ranks are one multiset (every series of ``n`` buckets without ties) have one null
distribution and are tested against one stream of permutations, each stopping at its own exceedances
(:func:`epidemic_tests`): a call with many changed keys costs one changed series' permutations, not one per key —
for series without ties (latency percentiles). Request counts and error rates usually have ties (counts of 10–30 a
bucket, many buckets without a failure): each such series is a group of its own, and a changed one runs every
permutation, as many as the Holm family is large (``20 · series / alpha``, :func:`holm_permutations`). So a change of the request rate of every
key (a surge of traffic) costs keys × series: quadratic in keys. Two things make each (series, permutation) pair
cheap, with the same answers to the bit: a permutation whose maximum cannot reach any live series' statistic (bounded
by the range of its cumulative rank sums and the sums of the largest ranks) is not scanned over its O(n²) windows, and
the groups of one length share each chunk of permutation orders (drawn once; a series alone meets the same ones),
their bounds taken in one walk over the buckets that keeps every group's running rank sums in cache
(:class:`_GroupBounds`). The pairs themselves remain: each significant tied series needs its count of exceedances over
every permutation. Measured side by side in one process (an hour at ``1min``, every service's requests 10 → 30 a
minute for 20 minutes, ``metric="requests"``, median of 3 on two loaded cores): 10 / 40 services, 2.4 / 28.8 s before,
1.2 / 7.3 s after the bound; CPU s, with the one walk: 20 / 40 / 80 services 0.32 / 0.83 / 2.63 → 0.22 / 0.44 / 1.08,
and the same surge with every service's error rate 1 % → 20 % (all three metrics, 160 changes at 80) 0.85 / 2.70 /
9.65 → 0.42 / 0.98 / 2.27 (×2.3 a doubling, was ×3.6). What stays quadratic is that walk: changed tied series ×
permutations (as many as the Holm family is large: ∝ series) × buckets, 7.5 of 15 s of a profiled surge on 160
services (320 changes). Its running sums are int16 up to 255 buckets (doubled sums stay below n² / 2), half the
memory traffic of int32: 160 tied series of 60 buckets, each surging, ``epidemic_tests`` at the Holm family's
permutations 3.19 → 1.92 s CPU (median of 3, side by side), answers identical. Each changed series' requests are found
from one sort of the requests by key (an ``isin`` over every request per changed series was keys × requests).
(Breaking ties at random would give every series of ``n`` buckets one null distribution, at a loss of power on
heavily tied series: not done.)
P-values of all (key, metric) series are adjusted with **Holm's** step-down
procedure, so the chance of reporting any change on data with none — the family-wise error rate
of one call — is at most ``alpha``. Measured (``benchmarks/bench_timeline.py --fpr``): on 100
simulated stationary hours (``simulate("baseline", 1200, seed)``, ``by="service"``, all three
metrics, ``freq="1min"``) at ``alpha=0.01``: 0 of 100 hours with a change (false-positive rate
0.00, 95 % upper bound 0.03); on 2000 synthetic stationary series the single-series rejection
rate at α = 0.05 was 0.049. (Both measured with the two-sided statistic used before issue 29;
the permutation test holds its level for the one-sided one by construction, and the tests'
stationary series (400 synthetic, two-sided; 6 simulated hours, as detect_changes runs) still pass.)
Measured again by route with the one-sided statistic (session 41; default ``alpha=0.01``, ``seed=0``; about 7
series a call: p95, error rate and requests of 3 routes, 600 requests an hour): hours with any change reported were
14 of 800 simulated hours (``simulate("baseline", 600, seed)``, seeds 0–799: 1.75 %, 95 % interval 0.96–2.9 %),
11 of 800 of the same hours with whole traces' start times shuffled among them (1.4 %), and 10 of 800 hours of
iid requests built without the simulator (1.25 %): 35 of 2,400, 1.46 % (1.02–2.02 %), a little above ``alpha``.
A permutation seed per hour (``seed=s``) gave 8 of the first 400 simulated hours against 10 with ``seed=0``. One
series alone holds its level: /products p95 p ≤ 0.0011 in 2 of seeds 400–1,599 (1.3 expected), 6 of 1,200 at
p ≤ 0.005 (6.0). The first 40 seeds held 4 of the 14 hours (the "4 of 40" of session 40).
Why (session 43): every call met seed 0's one stream of permutations, and about 4 permuted maxima set the Holm
threshold (:func:`holm_permutations`), so each length of series without ties had that stream's level, not ``alpha``:
0.48–2.16 × nominal over 52–60 buckets (2.16 at 59, 1.06 at 60; /products p95 has 59 or 60). Each call's
permutations are now seeded by ``seed`` and its sorted values (:func:`permutation_seed`): over 30 null calls of 59
buckets the mean level went 2.16 → 0.89 × nominal. That is not the whole excess: simulated hours 0–299 (by route,
alpha 0.01) still gave 8 of 300 hours with a change (2.7 %; 10 of the first 400 before), 5 of them /products, two
p95 windows from 14:00 for 34–37 minutes: something in the simulator's fault-free hours is open. Session 44: it is the data, not the test. The same 500 hours (0–499) with each series' bucket values shuffled (the same permutation streams: the seed reads sorted values only) gave 3 hours with a change against 15 as simulated; /products p95 reached its first Holm step in 7 of 500 as simulated (0.75 expected), 1 shuffled. Seven iid series a call (three p95-like, two Poisson counts, two rare-failure rates, 60 buckets) through :func:`epidemic_tests` and Holm: 10 of 1,500 calls (0.67 %). No edge bucket is partial (first request at 14:00:00–14:00:13, last at 14:59:35–59: 60 whole minutes), the Holm family is the series tested, and Holm holds under any dependence between a route's series. Pooled over hours, /products latency has no trend (mean 47.1–47.4 ms in each 10 minutes of 60 hours) nor lag-1 rank correlation beyond chance: what makes a few hours' bucket percentiles drift (seed 340: ranks rising over the hour) is not found. The false windows "running to the end" are the recovery rule's,
not edge windows: the rank windows of 6 false p95 alarms all ended before the data did (at 14:33–14:59), 5 were said
ongoing because the requests after a window with no change are not faster beyond chance; on iid series the rank
windows of p ≤ 0.0143 ran to the end in 7 of 138 (3,000 series each of p95, error rate and requests, 3 a minute).

``before`` / ``during`` / ``delta`` are computed from the requests themselves, not the buckets:
the metric over the requests of the key outside the window (before it and after recovery)
and inside it — outside leaving out the series' other windows that are themselves beyond chance (:func:`_other_windows`:
a second look outside the window, only after it passed, at ``alpha`` over the series tested; no rows of their own).
Two 3× slow windows in an hour (minutes 10–18 and 40–48, 10 requests a minute), 30 seeds: the reported one's "before"
p95 was the slow mode's (off the true normal by more than 15 % in 27 of the 27 found, 327–356 ms for a normal of
160–169 ms in seeds 0–5), now in none; ``delta`` = during − before with a bootstrap interval (exact bootstrap of each
quantile, :func:`tracekit.core.quantile_draws`; Jeffreys draws for the error rate; Poisson for the
rate of requests per bucket). Weighted with sampling weights when ``weights`` is given.

:func:`split_by_change` cuts the spans at a change (whole traces, by request start): the
incident window, the normal period before it and after it — a baseline found automatically for
:func:`~tracekit.compare` and :func:`~tracekit.bubble_up`.

>>> import tracekit as tk
>>> spans = tk.simulate.simulate("db-lock", 1200, seed=11).spans
>>> ch = tk.detect_changes(spans, by="route", metric="p95_ms")
>>> row = ch[ch["route"] == "/checkout"].iloc[0]
>>> str(row["onset"].time()), str(row["recovery"].time())
('14:27:00', '14:36:00')
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    QUANTILES,
    count_arg,
    duration_arg,
    holm,
    interval_ends,
    ns,
    percentile,
    quantile_draws,
    require_columns,
    result_table,
    share_arg,
)
from ..core.keys import by_keys
from ..core.stats import average_ranks, normal_slices
from ..core.words import clock_text, freq_text, p_value_text, plural, utc_time, window_text
from ..errors import ArgumentError, TraceKitError
from ..schema import shared_attr
from .timeline import (
    deployments,
    no_data_text,
    no_data_windows,
    request_rows,
    timeline_from_requests,
    timeline_keys,
)

__all__ = ["period_text", "detect_changes", "split_by_change", "ChangeSplit", "DETECT_CHANGES", "METRICS", "MAX_BUCKETS",
           "epidemic_test", "epidemic_tests", "incident_periods", "SHORTEST_CHANGE", "IncidentPeriods", "auto_freq", "window_text", "clock_text",
           "fitting_freq", "scan_window", "scan_windows", "permutation_seed", "fast_failure_mirrors", "headline_order", "untested_text", "UNTESTED_WARNING"]

#: metrics detect_changes can watch
METRICS = ("requests", "error_rate", *(f"p{int(q * 100)}_ms" for q in QUANTILES))

DETECT_CHANGES = result_table("detect_changes", "one row per detected change (key columns first)", [
    ("metric", "string", "", "timeline metric that changed: p50_ms / p95_ms / p99_ms, error_rate or requests"),
    ("onset", "datetime64[ns, UTC]", "ns, UTC", "first bucket of the change window (placed on the requests: scan_window)"),
    ("recovery", "datetime64[ns, UTC]", "ns, UTC", "first bucket after the window (with data: after buckets where no span at all was collected, where spans came back); NaT while ongoing (to the end of the data)"),
    ("before", "float64", "metric", "metric over the key's requests outside the window (before onset and after recovery), leaving out other windows of the series that themselves differ beyond chance (a second look at alpha / series, after this one passed)"),
    ("during", "float64", "metric", "metric over the key's requests inside the window"),
    ("delta", "float64", "metric", "during − before"),
    ("delta_lo", "float64", "metric", "lower bound of ``delta`` (bootstrap, level ``ci``)"),
    ("delta_hi", "float64", "metric", "upper bound of ``delta``"),
    ("requests_affected", "float64", "requests", "requests of the key in the window (Horvitz–Thompson with weights)"),
    ("p_value", "float64", "", "Holm-adjusted permutation p-value of the rank test that the series has a change window (over all keys and metrics)"),
    ("deployment", "string", "", "``service version`` first seen within one bucket of the onset (resource service.version): of the key's own service when ``by`` has service (a caller's row does not name its callee's deploy: that row's onset says when), of any service otherwise; else <NA>"),
])


#: buckets a change must hold for detect_changes to find it whatever its size (module docstring, "Resolution"):
#: ranks cap a bucket's weight, so windows of 1–4 buckets seldom pass at alpha 0.01 (measured), 6 do
SHORTEST_CHANGE = 6

#: most buckets a series may span at the ``freq`` asked; beyond it detect_changes takes the smallest round
#: bucket that fits and says so (``attrs["params"]["freq"]`` / ``["freq_note"]``): the permutation test costs
#: ~ buckets² per permutation, so this bounds its time; its memory is linear in buckets whatever the length
MAX_BUCKETS = 480

_DIRECTIONS = ("up", "down", "both")


def _edge_weight(n: int) -> float:
    """The weight of a window at an edge of ``n`` buckets (from the first, or to the last) in the epidemic statistic:
    ``1 + 0.03 · ln(n / 10)`` (at least 1), 1.05 at 60 buckets, 1.12 at 480.

    A change at an edge of the data is one change point (``n`` candidate windows), one inside it two (``n² / 2``): the
    permuted maxima of the windows inside the data reach higher than those of the edge windows alone (99.9th
    percentiles, ranks without ties, measured: 1.06 × at 30 buckets, 1.07–1.12 × at 60, 1.15 × at 120, 1.1–1.2 × at
    240–480), so an unweighted maximum made an edge change clear the bar of the interior's many windows. The
    permutations take the same weighted statistic, so the test keeps its level whatever the weight; the weight
    only moves power between edges and inside. 0.03 is where a change is found about as often at either edge as
    inside: four of 60 values 2.5σ higher, 100 seeds, p < 0.02, found at the end / start / inside in 10 / 10 / 24
    unweighted, 24 / 22 / 22 at 0.03, 34 / 28 / 20 at 0.04 (module docstring, "Edges").

    >>> _edge_weight(10), round(_edge_weight(60), 3)
    (1.0, 1.054)
    """
    return max(1.0, 1.0 + 0.03 * float(np.log(max(int(n), 1) / 10)))


def _signed(d: np.ndarray, direction: str) -> np.ndarray:
    return d if direction == "up" else (-d if direction == "down" else np.abs(d))


def _edges_weighted(d: np.ndarray, edge: float) -> np.ndarray:
    """Window sums of one length (columns: the windows' starts) with the first and the last window (at the edges of
    the data) times ``edge`` (:func:`_edge_weight`), in place."""
    d[:, 0] *= edge
    if d.shape[1] > 1:
        d[:, -1] *= edge
    return d


def _scan_max(cp: np.ndarray, n: int, min_len: int, direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest standardised window sum of each row of ``cp`` (cumulative sums, shape (m, n + 1)) over
    every window ``[a, a + L)`` with ``min_len ≤ L ≤ n − min_len``: (max, a, L) per row. One pass per
    length, so memory is O(m · n) (all windows at once would be O(m · n²)); ties keep the shortest
    window, then the latest (of a change at the middle of the data, "from there on")."""
    m = cp.shape[0]
    best = np.full(m, -np.inf)
    best_a = np.full(m, -1, dtype=np.int64)
    best_len = np.full(m, -1, dtype=np.int64)
    edge = _edge_weight(n)
    for length in range(min_len, n - min_len + 1):
        z = _signed(_edges_weighted(cp[:, length:] - cp[:, :-length], edge), direction) / np.sqrt(length * (n - length) / n)
        arg = z.shape[1] - 1 - z[:, ::-1].argmax(axis=1)  # the latest of equal windows
        zmax = z[np.arange(m), arg]
        better = zmax > best + 1e-9
        best = np.where(better, zmax, best)
        best_a = np.where(better, arg, best_a)
        best_len = np.where(better, length, best_len)
    return best, best_a, best_len


def epidemic_test(values: Any, *, min_len: int = 2, n_perm: int = 9999, seed: int = 0,
                  hits: int = 10, direction: str = "both") -> tuple[int, int, float, float]:
    """The most changed window of a series and its permutation p-value (rank epidemic test).

    Every window ``[a, b)`` with at least ``min_len`` values inside and outside is a candidate,
    including those that start at the first value or run to the last (a change at the start or the
    end of the data). ``direction="up"`` looks for the window whose values are highest against the
    rest (a one-sided statistic: a window of low values is never the answer, so a change that runs to
    the end of the data is found as itself, not as its complement at the start); ``"down"`` the
    lowest; ``"both"`` either, and of two windows with the same statistic — a window at an edge and
    its complement — the shorter is the change (the longer side is the normal regime; at equal
    lengths the later, so a step half-way is "from there on").

    Parameters
    ----------
    values : array-like of float
        The series (NaN values must be removed first).
    min_len : int
        Fewest values inside and outside a window.
    n_perm : int
        Most permutations (the smallest p-value is 1 / (n_perm + 1)).
    seed : int
        Seed of the permutations.
    hits : int
        Besag–Clifford stopping: stop once this many permuted maxima reach the observed one.
    direction : {"both", "up", "down"}
        Which windows count as changed: higher, lower, or either.

    Returns
    -------
    (int, int, float, float)
        Window ``[a, b)`` (positions in ``values``), statistic, p-value; ``(-1, -1, nan, 1.0)``
        when the series is too short (fewer than ``2 * min_len + 1`` values) or constant.

    Raises
    ------
    ArgumentError
        ``direction`` is not one of the three.

    Examples
    --------
    >>> a, b, z, p = epidemic_test([3, 1, 4, 1, 5, 2, 3, 19, 18, 19, 17, 13, 2, 4, 1, 2, 5, 3, 1, 2], seed=1)
    >>> (a, b), p < 0.05
    ((7, 12), True)
    >>> epidemic_test([1, 2, 1, 3, 2, 1, 2, 9, 8, 9, 9, 8], direction="up", n_perm=999)[:2]
    (7, 12)
    """
    if direction not in _DIRECTIONS:
        raise ArgumentError(f"epidemic_test: direction must be one of {', '.join(_DIRECTIONS)}; got {direction!r}")
    return epidemic_tests([values], min_len=min_len, n_perm=n_perm, seed=seed, hits=hits, direction=[direction])[0]


def epidemic_tests(series: Sequence[Any], *, min_len: int = 2, n_perm: int = 9999, seed: int = 0, hits: int = 10,
                   direction: str | Sequence[str] = "both") -> list[tuple[int, int, float, float]]:
    """:func:`epidemic_test` of many series, sharing the permutations of series whose ranks are the same multiset.

    The statistic's null distribution depends only on the multiset of a series' centred ranks (and ``min_len``,
    ``direction``): every series of ``n`` values without ties has the same one. Such series are tested against one
    stream of permutations (seeded by ``seed``), each stopping at its own ``hits``-th exceedance, so the cost is
    that of the longest-running series of the group, not their sum: a call with many changed series (each needing
    every permutation, as many as the Holm family is large) was quadratic in their number. Series with ties of
    different multisets (request counts, error rates) are groups of their own and still cost one stream each (module
    docstring of :mod:`tracekit.analysis.changes`: quadratic in keys when every key's request rate changed), though the
    groups of one length share each chunk of permutation orders, bounded together in one walk (:class:`_GroupBounds`),
    and a permutation that cannot reach any live series' statistic is not scanned over its windows. Each p-value is the one
    :func:`epidemic_test` gives the series alone with this ``seed``; p-values of one group share permutations
    (Holm's adjustment holds under any dependence).

    Parameters
    ----------
    series : sequence of array-like of float
        The series (NaN values removed).
    min_len, n_perm, seed, hits
        As :func:`epidemic_test`.
    direction : str or sequence of str
        One for all series, or one per series.

    Returns
    -------
    list of (int, int, float, float)
        :func:`epidemic_test`'s answer for each series, in order.

    Raises
    ------
    ArgumentError
        A ``direction`` is not one of the three, or there are not as many as series.

    Examples
    --------
    >>> x = [3, 1, 4, 1, 5, 2, 3, 19, 18, 19, 17, 13, 2, 4, 1, 2, 5, 3, 1, 2]
    >>> y = [v * 10 + 1 for v in x[::-1]]  # other values, the same ranks (reversed)
    >>> a, b = epidemic_tests([x, y], seed=1)
    >>> a == epidemic_test(x, seed=1), b == epidemic_test(y, seed=1), a[3] == b[3]
    (True, True, True)
    """
    dirs = [direction] * len(series) if isinstance(direction, str) else list(direction)
    if len(dirs) != len(series):
        raise ArgumentError(f"epidemic_tests: {len(dirs)} directions for {len(series)} series")
    for d in dirs:
        if d not in _DIRECTIONS:
            raise ArgumentError(f"epidemic_test: direction must be one of {', '.join(_DIRECTIONS)}; got {d!r}")
    out: list[tuple[int, int, float, float]] = [(-1, -1, float("nan"), 1.0)] * len(series)
    groups: dict[tuple, list[tuple[int, np.ndarray, float]]] = {}
    for i, (values, d) in enumerate(zip(series, dirs, strict=True)):
        x = np.asarray(values, dtype=float)
        n = len(x)
        if n < 2 * min_len + 1 or np.ptp(x) == 0:
            continue
        r = average_ranks(x) - (n + 1) / 2
        z, a, length = _scan_max(np.r_[0.0, np.cumsum(r)][None, :], n, min_len, d)
        if a[0] < 0:
            continue
        out[i] = (int(a[0]), int(a[0] + length[0]), float(z[0]), float("nan"))
        groups.setdefault((np.sort(r).tobytes(), d), []).append((i, r, float(z[0])))
    # groups of one length meet the same permutations (a fresh generator seeded by ``seed`` each, as a series alone):
    # each chunk of permutation orders is drawn once and every live group of that length takes its values in it
    by_len: dict[int, list[dict]] = {}
    for (_key, d), members in groups.items():
        base = np.sort(members[0][1])  # the group's multiset in one order: a series alone meets the same permutations
        by_len.setdefault(len(base), []).append(dict(
            rows=[i for i, _r, _z in members], obs=np.array([z for _i, _r, z in members]), d=d, base=base,
            bound=_MaxBound(base, min_len, d), exceed=np.zeros(len(members), dtype=np.int64),
            p=np.full(len(members), np.nan)))
    for n, gs in by_len.items():
        # every member of the groups of this length in flat arrays (gid: its group), so a chunk costs a few array
        # operations, not a few per group
        sizes = [len(g["obs"]) for g in gs]
        starts = np.r_[0, np.cumsum(sizes)]
        gid = np.repeat(np.arange(len(gs)), sizes)
        obs = np.concatenate([g["obs"] for g in gs])
        p = np.full(len(obs), np.nan)
        exceed = np.zeros(len(obs), dtype=np.int64)
        batch = _GroupBounds(gs, n)
        done = 0
        for order in _perm_orders(n, n_perm, np.random.default_rng(seed)):
            live = np.isnan(p)
            if not live.any():
                break
            # a permutation whose maximum cannot reach any live series' statistic of its group is not scanned
            floors = np.full(len(gs), np.inf)
            np.minimum.at(floors, gid[live], obs[live] - 1e-9)
            for j, zmax in batch.maxima(order, min_len, floors):
                lv = starts[j] + np.flatnonzero(live[starts[j]:starts[j + 1]])
                ge = zmax[None, :] >= obs[lv, None] - 1e-9
                reach = np.cumsum(ge, axis=1) + exceed[lv, None] >= hits  # Besag–Clifford: the hits-th exceedance
                stop = reach.any(axis=1)
                k = reach.argmax(axis=1) + 1
                p[lv[stop]] = hits / (done + k[stop])
                exceed[lv] += ge.sum(axis=1)
            done += len(order)
        p = np.where(np.isnan(p), (1 + exceed) / (1 + done), p)
        for j, g in enumerate(gs):
            for pj, i in zip(p[starts[j]:starts[j + 1]], g["rows"], strict=True):
                a0, b0, z0, _ = out[i]
                out[i] = (a0, b0, z0, float(pj))
    return out


def _scan_stat_max(cp: np.ndarray, n: int, min_len: int, direction: str) -> np.ndarray:
    """:func:`_scan_max`'s maximum alone, without its window: what each permutation needs, at a third of the time
    (no argmax, no gather; the largest sum divided by the length's positive scale is the largest divided sum, as
    rounding is monotone). :func:`_scan_max` keeps an earlier length unless a later one beats it by 1e-9, so its
    maximum can be lower by rounding (at most 4e-15 on rank sums); permutations are compared with that tolerance."""
    best = np.full(cp.shape[0], -np.inf)
    edge = _edge_weight(n)
    for length in range(min_len, n - min_len + 1):
        d = _edges_weighted(cp[:, length:] - cp[:, :-length], edge)  # the scale is positive: as _scan_max, to the bit
        if direction == "up":
            top = d.max(axis=1)
        elif direction == "down":
            top = -d.min(axis=1)
        else:
            top = np.maximum(d.max(axis=1), -d.min(axis=1))
        np.maximum(best, top / np.sqrt(length * (n - length) / n), out=best)
    return best


def scan_window(values: Any, *, min_len: int = 2, direction: str = "both", weights: Any = None) -> tuple[int, int]:
    """The window ``[a, b)`` whose mean differs most from the rest's: :func:`epidemic_test`'s scan on the values
    themselves (centred, scaled by their range), not on their ranks.

    Where a series is a level (a metric's bucket means, a bucket's request count or error rate), ranks place a
    window badly: a step's neighbours above the median join it (it rises with their ranks), and a run of the lower
    regime's lowest ranks can outweigh a short step at an edge — on 30 one-minute buckets of 10 ± 1 with six at 90
    the rank scan put the window elsewhere in 13 of 40 seeds of a step at the end. The values' scan finds the step
    itself. Ties as :func:`epidemic_test`: the shortest window, then the latest.

    With ``weights`` each value is the mean of that many observations (a bucket's error rate over its requests):
    the statistic is the standardised sum of the observations in the window, ``Σ w (x − x̄) / √(W_in (W − W_in) / W)``
    (x̄ the weighted mean, W the total weight), so a bucket of 2 requests counts as 2, not as a bucket of 200.
    Without weights every value weighs 1 and this is the scan above.

    Parameters
    ----------
    values : array-like of float
        The series (no NaN).
    min_len : int
        Fewest values inside and outside the window.
    direction : {"both", "up", "down"}
        Which windows count: higher than the rest, lower, or either.
    weights : array-like of float, optional
        Positive weight of each value (default 1 each).

    Returns
    -------
    (int, int)
        ``(a, b)``; ``(-1, -1)`` when the series is too short (fewer than ``2 * min_len + 1`` values) or constant.

    Raises
    ------
    ArgumentError
        ``direction`` is not one of the three, or ``weights`` is not one positive weight per value.

    Examples
    --------
    >>> scan_window([10.0] * 24 + [90.0] * 6)
    (24, 30)
    >>> scan_window([1.0, 2.0, 1.0, 9.0, 9.0, 1.0, 2.0])
    (3, 5)
    >>> rate = [0.0, 0.0, 0.3, 0.3, 0.0, 0.0, 1.0, 1.0, 0.0]  # two buckets of one failed request each
    >>> scan_window(rate), scan_window(rate, weights=[20, 20, 20, 20, 20, 20, 1, 1, 20])
    ((6, 8), (2, 4))
    """
    if direction not in _DIRECTIONS:
        raise ArgumentError(f"scan_window: direction must be one of {', '.join(_DIRECTIONS)}; got {direction!r}")
    x = np.asarray(values, dtype=float)
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != x.shape or not (w > 0).all():
        raise ArgumentError(f"scan_window: weights must be one positive number per value ({n} values)")
    if n < 2 * min_len + 1 or not np.ptp(x) > 0:
        return -1, -1
    total = float(w.sum())
    d = w * (x - float(w @ x) / total) / np.ptp(x)  # scale-free: the tie tolerance (1e-9) is on the statistic
    cd, cw = np.r_[0.0, np.cumsum(d)], np.r_[0.0, np.cumsum(w)]
    best, best_a, best_len = -np.inf, -1, -1
    for length in range(min_len, n - min_len + 1):  # as _scan_max: one pass per length, ties the shortest, the latest
        inside = cw[length:] - cw[:-length]
        z = _signed(cd[length:] - cd[:-length], direction) / np.sqrt(inside * np.maximum(total - inside, 0.0) / total)
        arg = len(z) - 1 - int(z[::-1].argmax())
        if z[arg] > best + 1e-9:
            best, best_a, best_len = float(z[arg]), arg, length
    return (best_a, best_a + best_len) if best_a >= 0 else (-1, -1)


def scan_windows(series: Sequence[Any], *, min_len: int = 2) -> list[tuple[int, int]]:
    """:func:`scan_window` (unweighted, both directions) of each of ``series``, the series of one length scanned
    together: one pass per window length over all of them, the same windows to the bit (ties, the 1e-9 tolerance and
    all). A call with many series (metric changes prewhiten every one: :func:`~tracekit.analysis.metric_changes.
    prewhitened`) paid one Python loop per series.

    >>> scan_windows([[10.0] * 24 + [90.0] * 6, [1.0, 2.0, 1.0, 9.0, 9.0, 1.0, 2.0], [3.0] * 9])
    [(24, 30), (3, 5), (-1, -1)]
    """
    xs = [np.asarray(v, dtype=float) for v in series]
    out: list[tuple[int, int]] = [(-1, -1)] * len(xs)
    by_len: dict[int, list[int]] = {}
    for i, x in enumerate(xs):
        if len(x) >= 2 * min_len + 1 and np.ptp(x) > 0:
            by_len.setdefault(len(x), []).append(i)
    for n, rows in by_len.items():
        x = np.vstack([xs[i] for i in rows])
        ones = np.ones(n)
        mean = np.array([float(ones @ xs[i]) / float(n) for i in rows])[:, None]  # scan_window's sum, to the bit
        d = (x - mean) / np.ptp(x, axis=1, keepdims=True)
        cd = np.hstack([np.zeros((len(rows), 1)), np.cumsum(d, axis=1)])
        best = np.full(len(rows), -np.inf)
        best_a = np.full(len(rows), -1)
        best_len = np.full(len(rows), -1)
        for length in range(min_len, n - min_len + 1):
            z = np.abs(cd[:, length:] - cd[:, :-length]) / np.sqrt(length * (n - length) / n)
            arg = z.shape[1] - 1 - z[:, ::-1].argmax(axis=1)  # the latest of a tie
            top = z[np.arange(len(rows)), arg]
            better = top > best + 1e-9
            best = np.where(better, top, best)
            best_a = np.where(better, arg, best_a)
            best_len = np.where(better, length, best_len)
        for r, i in enumerate(rows):
            if best_a[r] >= 0:
                out[i] = (int(best_a[r]), int(best_a[r] + best_len[r]))
    return out


def permutation_seed(seed: int, series: Sequence[Any]) -> int:
    """The seed of a call's permutations: ``seed`` mixed with the sorted values of its ``series`` (what a permutation
    cannot change), so the same data and ``seed`` give the same answer, and calls on other data meet other permutations.

    A Monte Carlo test's level is ``alpha`` averaged over its permutations; with one fixed stream for every call it is
    that stream's level, which the few permuted maxima beyond the Holm threshold (:func:`holm_permutations`: about 4)
    set far from ``alpha``: for series without ties (latency percentiles) at ``seed=0`` and the 2,800 permutations of 7
    series at alpha 0.01, 0.48–2.16 × nominal by the series' length (52–60 buckets; 2.16 at 59). The sorted values
    hold nothing of the order the test reads, so each call's p-values stay exact given them.

    >>> permutation_seed(0, [[3.0, 1.0, 2.0]]) == permutation_seed(0, [[1.0, 2.0, 3.0]])  # the order is not read
    True
    >>> permutation_seed(0, [[1.0, 2.0, 3.0]]) == permutation_seed(0, [[1.0, 2.0, 4.0]])
    False
    """
    crc = 0
    for v in series:
        x = np.sort(np.asarray(v, dtype=float))
        crc = zlib.crc32(np.int64(len(x)).tobytes(), zlib.crc32(x.tobytes(), crc))
    return int(np.random.SeedSequence([int(seed), crc]).generate_state(1, dtype=np.uint32)[0])


def holm_permutations(n_tests: int, alpha: float) -> int:
    """Most permutations per series for a Holm family of ``n_tests`` at ``alpha``: 20 / (alpha / n_tests), so a
    series passes the first Holm step with up to 19 permuted maxima reaching it; 999 at least. Besag–Clifford's stop
    keeps series far from a change cheap (10 exceedances end them); only a series near or past the threshold runs
    them all.

    With 4 / (alpha / n_tests) (sessions ≤ 43) a series passed only with at most 3 exceedances: one whose exact
    p-value was half the threshold (2 exceedances expected) failed 1 time in 7 by Monte Carlo chance alone, and a
    9-minute db-lock in 4 hours (exact p 0.00075 against 0.00125: 13,370 permutations to its 10th exceedance) was
    missed at 3,200 (4 exceedances, p 0.0016). The test is exact at any count, so the false-alarm rate does not rise;
    the cost is that of the series that pass (db-lock by service 0.22 → 0.24 s CPU; 40 services' request rates
    surging, 0.64 → 0.80 s).

    >>> holm_permutations(1, 0.01), holm_permutations(15, 0.01)
    (2000, 30000)
    """
    return max(999, int(np.ceil(20 * n_tests / alpha)))


def _perm_orders(n: int, n_perm: int, rng: np.random.Generator):
    """Chunks of ``n_perm`` random orders of ``n`` positions (rows of ``rng.permuted`` of ``0 … n − 1``; memory
    O(chunk · n)). ``values[order]`` is ``rng.permuted`` of the values themselves: the shuffle's draws depend on ``n``
    alone, so every series of ``n`` values meets the same permutations from one seed."""
    chunk = max(1, min(500, 2_000_000 // (n + 1)))
    done = 0
    while done < n_perm:
        m = min(chunk, n_perm - done)
        yield rng.permuted(np.broadcast_to(np.arange(n), (m, n)), axis=1)
        done += m


class _MaxBound:
    """An upper bound of :func:`_scan_stat_max` over any permutation of ``r`` (sorted), from its cumulative sums:
    each window's sum is at most their range and at most the sum of the ``L`` largest values (for ``down``, the ``L``
    smallest, negated), so the maximum is at most ``max over L of min(range, top(L)) / scale(L)``, times
    :func:`_edge_weight` (an edge window's weight). Centred average
    ranks are multiples of 0.5: every sum is exact in floating point and the bound holds to the bit (``exact``; other
    values get no bound). Rounding is monotone, so the bound reaches a floor ``f`` exactly when ``range / s ≥ f``
    for ``s`` the smallest scale among the lengths whose ``top(L) / scale(L)`` reach ``f``: O(1) a permutation once
    its range is known (:class:`_GroupBounds` takes the ranges of many groups in one walk)."""

    def __init__(self, r: np.ndarray, min_len: int, direction: str) -> None:
        n = len(r)
        lengths = np.arange(min_len, n - min_len + 1)
        self.exact = len(lengths) > 0 and n < 2 ** 20 and bool(np.all(2 * r == np.round(2 * r)))
        if self.exact:
            desc, asc = np.cumsum(np.sort(r)[::-1])[lengths - 1], -np.cumsum(np.sort(r))[lengths - 1]
            top = desc if direction == "up" else asc if direction == "down" else np.maximum(desc, asc)
            self.scale = np.sqrt(lengths * (n - lengths) / n)
            self.top_z = _edge_weight(n) * top / self.scale  # an edge window weighs _edge_weight more


def _chunk_maxima(perm: np.ndarray, min_len: int, direction: str) -> np.ndarray:
    """:func:`_scan_stat_max` of each row of ``perm`` (values in permuted order)."""
    m, n = perm.shape
    return _scan_stat_max(np.concatenate([np.zeros((m, 1)), np.cumsum(perm, axis=1)], axis=1), n, min_len, direction)


#: most (permutation, group) cells :class:`_GroupBounds` walks at once
_BATCH_CELLS = 2_000_000


class _GroupBounds:
    """The groups of :func:`epidemic_tests` of one length ``n`` and their :class:`_MaxBound` s, bounded together over
    each chunk of permutation orders (:meth:`maxima`). One walk over the ``n`` positions adds each group's permuted
    value to its running sums (permutations × groups; doubled values as integers, exact) and keeps their highest and
    lowest, in cache: one call per group and chunk gathered, summed and reduced permutations × buckets arrays in
    memory, and a surge of every key's request rate holds a group per key, each running every permutation of the Holm
    family (as many as it has series). Rows whose bound reaches their group's floor are summed and scanned as
    :func:`_chunk_maxima` does: the same bounds and maxima, to the bit (sums of multiples of 0.5 are exact in either
    form)."""

    def __init__(self, gs: list[dict], n: int) -> None:
        self.gs, self.n = gs, n
        self.exact = np.array([g["bound"].exact for g in gs], dtype=bool)
        ex = np.flatnonzero(self.exact)
        self.cols = ex
        if len(ex):
            self.top_z = np.stack([gs[j]["bound"].top_z for j in ex])  # (groups, lengths)
            self.scale = gs[ex[0]]["bound"].scale  # the lengths' scales: of n and min_len alone
            # doubled sums reach n² / 4 (below n² / 2): int16 up to 255 buckets halves the walk's memory traffic
            kind = np.int16 if n <= 255 else np.int32 if n <= 40_000 else np.int64
            self.doubled = np.ascontiguousarray(np.stack([2 * gs[j]["base"] for j in ex]).T.astype(kind))  # (n, G)

    def maxima(self, order: np.ndarray, min_len: int, floors: np.ndarray):
        """(group, maxima of the chunk's permutations) of each group with a permutation that can reach its floor
        (``inf``: the group is done); the others' maxima are all ``-inf`` (not scanned) and left out."""
        gs = self.gs
        for j in np.flatnonzero(~self.exact & np.isfinite(floors)):
            yield int(j), _chunk_maxima(gs[j]["base"][order], min_len, gs[j]["d"])  # no bound: every one scanned
        if not len(self.cols):
            return
        floor = floors[self.cols]
        ok = self.top_z >= floor[:, None]
        use = np.flatnonzero(ok.any(axis=1) & np.isfinite(floor))
        if not len(use):
            return
        smin = np.where(ok[use], self.scale[None, :], np.inf).min(axis=1)
        m, n = order.shape
        steps = np.ascontiguousarray(order.T)
        size = max(1, _BATCH_CELLS // m)
        for lo in range(0, len(use), size):
            part = use[lo:lo + size]
            doubled = self.doubled[:, part]
            run = np.zeros((m, len(part)), dtype=doubled.dtype)
            high, low = np.zeros_like(run), np.zeros_like(run)  # the range of the sums with the empty prefix's 0
            for pos in steps:
                run += doubled[pos]
                np.maximum(high, run, out=high)
                np.minimum(low, run, out=low)
            span = (high - low).astype(float) / 2  # (m, G)
            need = _edge_weight(n) * span / smin[None, lo:lo + size] >= floor[None, part]  # as _MaxBound.top_z
            for c in np.flatnonzero(need.any(axis=0)):
                j = int(self.cols[part[c]])
                rows = np.flatnonzero(need[:, c])
                zmax = np.full(m, -np.inf)
                cs = np.cumsum(gs[j]["base"][order[rows]], axis=1)
                zmax[rows] = _scan_stat_max(np.concatenate([np.zeros((len(rows), 1)), cs], axis=1), n, min_len,
                                            gs[j]["d"])
                yield j, zmax


def _perm_maxima(r: np.ndarray, min_len: int, direction: str, n_perm: int, rng: np.random.Generator):
    """Chunks of the statistic's maximum over permutations of ``r`` (:func:`_perm_orders`), every one scanned: the
    plain form of what :func:`epidemic_tests` does (where a permutation that cannot reach any live series is not
    scanned, :class:`_MaxBound`, and the groups of one length share each chunk of orders)."""
    for order in _perm_orders(len(r), n_perm, rng):
        yield _chunk_maxima(np.asarray(r)[order], min_len, direction)


def _refine_edges(t: np.ndarray, lat: np.ndarray, q: float, onset: pd.Timestamp, recovery: Any,
                  step: pd.Timedelta, reach: int = 2) -> tuple[pd.Timestamp, Any]:
    """Move each edge of a latency window by up to ``reach`` buckets to where the requests inside and
    outside differ most in how often they exceed the normal ``q``-quantile or in their latencies' ranks
    (:func:`_latency_readings`; standardised sum of the reading inside, the larger of the two); then onset = bucket of the first request inside, recovery = the bucket after
    the last one. Ties keep the edge found on buckets."""
    ok = ~np.isnan(lat)
    t, x = t[ok], lat[ok]
    n = len(x)
    if n < 3:
        return onset, recovery

    def inside_of(on: pd.Timestamp, rec: Any) -> np.ndarray:
        return (t >= on.value) & ((t < rec.value) if rec is not pd.NaT else True)

    normal = ~inside_of(onset, recovery)
    if not normal.any():
        return onset, recovery
    ks = sorted(range(-reach, reach + 1), key=abs)
    recs = [recovery + k * step for k in ks] if recovery is not pd.NaT else [pd.NaT]
    best, best_z, best_in = (onset, recovery), -1.0, None
    for y in _latency_readings(x, percentile(x[normal], q)):  # exceedances and ranks, as _place_window
        y = y - y.mean()
        var = float((y ** 2).mean())
        if var == 0:
            continue
        for on in [onset + k * step for k in ks]:
            for rec in recs:
                if rec is not pd.NaT and rec <= on:
                    continue
                inside = inside_of(on, rec)
                m = int(inside.sum())
                if m == 0 or m == n:
                    continue
                z = abs(float(y[inside].sum())) / np.sqrt(m * (n - m) / (n - 1) * var)
                if z > best_z + 1e-9:
                    best, best_z, best_in = (on, rec), z, inside
    if best_in is None:
        return onset, recovery
    s = step.value
    on = pd.Timestamp(int(t[best_in].min()) // s * s, tz="UTC")
    rec = best[1] if best[1] is pd.NaT else pd.Timestamp(int(t[best_in].max()) // s * s + s, tz="UTC")
    return on, rec


#: chance, one-sided, of a latency or error-rate window said to have ended where the change went on, over all the
#: recoveries that could have been said: the requests after the window must sit below those inside it by
#: ``normal_ppf(1 - RECOVERY_ALPHA / k)`` standard errors, ``k`` the key's buckets after the onset (each a recovery the
#: scan could have placed; Bonferroni over them): 2.33 for one, 3.4 for 30
RECOVERY_ALPHA = 0.01

def _recovery_z(candidates: int) -> float:
    """Standard errors the requests after a window must sit below those inside it: :data:`RECOVERY_ALPHA` over the
    ``candidates`` recoveries the window's end was chosen among (Bonferroni)."""
    from ..core.distributions import normal_ppf

    return float(normal_ppf(1 - RECOVERY_ALPHA / max(int(candidates), 1)))


def _recovered(t: np.ndarray, values: np.ndarray, onset: pd.Timestamp, recovery: pd.Timestamp,
               readings: Any, candidates: int = 1, counts: np.ndarray | None = None) -> bool:
    """Whether the requests after a window (from ``recovery``) are better than those inside it beyond chance
    (:func:`_recovery_z` of the ``candidates`` recoveries the end was chosen among, one-sided, in any reading; each
    request an observation of weight one, or of ``counts`` — a bucket value standing for that many requests): ``values``
    one per request (NaN: unknown, left out) and ``readings(values, values_before)`` the arrays compared — for a latency
    window :func:`_latency_readings` (exceedances of the normal percentile, of the requests before the window, and
    ranks), for an error rate whether each request failed. A change running to the end of the data whose last
    minutes held few slow (or failed) requests by chance was said to be over: every request 15 % likely to be 1 s
    slower from a deploy on, 5 requests a minute, 40 seeds: "over by" said in 15 of the 26 found; 30 % of requests
    failing from a random minute to the end, 3 a minute, 30 seeds: 11 of the 28 found with no check, 5 of 28 at one
    threshold of 2.33 (the end is the one of ~30 that differs most: chosen, so it differs by chance more often than
    one fixed end would), 1 of 28 with the threshold over the candidates. With no request before the window (under
    way from the data's start) the recovery is what the window is measured against: kept."""
    ok = ~np.isnan(values)
    t, x = t[ok], values[ok]
    c = np.ones(len(x)) if counts is None else np.asarray(counts, dtype=float)[ok]
    before, inside, after = t < onset.value, (t >= onset.value) & (t < recovery.value), t >= recovery.value
    if not before.any() or not inside.any() or not after.any():
        return True
    need = _recovery_z(candidates)
    for y in readings(x, x[before]):
        yi, ya, ci_, ca = y[inside], y[after], c[inside], c[after]
        both, w = np.concatenate([yi, ya]), np.concatenate([ci_, ca])
        n_in = len(yi)  # the window is the first n_in observations, each weighing its count
        if yi @ ci_ / ci_.sum() > ya @ ca / ca.sum() and _window_z(both, w, both, w, 0, n_in) >= need:
            return True
    return False


def _latency_recovered(t: np.ndarray, lat: np.ndarray, q: float, onset: pd.Timestamp, recovery: pd.Timestamp,
                       candidates: int = 1) -> bool:
    """:func:`_recovered` of a latency window: its requests read as :func:`_latency_readings` of the normal
    ``q``-quantile (of the requests before the window)."""
    return _recovered(t, lat, onset, recovery, lambda x, xb: _latency_readings(x, percentile(xb, q)), candidates)


def _errors_recovered(t: np.ndarray, failed: np.ndarray, onset: pd.Timestamp, recovery: pd.Timestamp,
                      candidates: int = 1) -> bool:
    """:func:`_recovered` of an error-rate window: whether each request failed (1 / 0; NaN unknown, left out)."""
    return _recovered(t, failed, onset, recovery, lambda x, _xb: (x,), candidates)


def _timeline_recovered(metric: str, part: pd.DataFrame, onset: pd.Timestamp, recovery: pd.Timestamp,
                        candidates: int) -> bool:
    """:func:`_recovered` of a window found on a timeline given without its requests: an error rate on its buckets'
    failed requests of known outcome (``failed``, ``requests`` − ``unknown``: each bucket ``known`` requests of which
    ``failed`` failed, the requests' own z; ``error_rate`` × ``requests`` when the counts are not there), a latency
    percentile on its bucket values (each bucket one observation, read as :func:`_latency_readings` of the median
    bucket before the window). A request count has no such check (either path)."""
    t = ns(part["time"])
    if metric == "error_rate":
        req = part["requests"].to_numpy(dtype=float)
        if "failed" in part.columns:
            fail = part["failed"].to_numpy(dtype=float)
            known = req - (part["unknown"].to_numpy(dtype=float) if "unknown" in part.columns else 0.0)
        else:
            known = req
            fail = part["error_rate"].to_numpy(dtype=float) * req
        ok = (known > 0) & ~np.isnan(fail) & ~np.isnan(known)
        # each bucket as two observations: its failed requests (1) and the others (0), weighing their counts
        tt, y = np.r_[t[ok], t[ok]], np.r_[np.ones(int(ok.sum())), np.zeros(int(ok.sum()))]
        cnt = np.r_[fail[ok], known[ok] - fail[ok]]
        keep = cnt > 0
        return _recovered(tt[keep], y[keep], onset, recovery, lambda x, _xb: (x,), candidates, cnt[keep])
    v = part[metric].to_numpy(dtype=float)
    return _recovered(t, v, onset, recovery, lambda x, xb: _latency_readings(x, percentile(xb, 0.5)), candidates)


def _place_window(metric: str, values: np.ndarray, times: np.ndarray, requests: np.ndarray, rows: pd.DataFrame | None,
                  a: int, b: int, min_len: int, direction: str, step: pd.Timedelta) -> tuple[int, int]:
    """Where the change is, once the rank test has said there is one: :func:`scan_window` over the series' buckets
    (positions in ``values`` / ``times``). A request count is a level: its bucket values. An error rate: the
    requests' failures, each bucket weighing its requests of known status. A latency percentile: how often the
    requests exceed the normal percentile (of the requests outside the rank window), or their latencies' ranks,
    whichever places a window that differs more (:func:`_window_z`), each bucket weighing its requests — an exceedance counts 1 however slow, so one extreme bucket of 4 requests does not draw the window
    (why the ranks are kept for a percentile of a timeline given without its requests). Ranks placed the window
    badly on levels: neighbours above the median joined a step, and at an edge of the data a run of the other
    regime's lowest ranks outweighed it; where nothing can be scanned the rank window stays."""
    if metric == "requests":
        w = None
        x = values
    elif rows is None:
        if metric != "error_rate":
            return a, b
        w, x = (requests if (requests > 0).all() else None), values
    else:
        s = step.value
        tb = ns(rows["time"]) // s * s
        pos = np.minimum(np.searchsorted(times, tb), len(times) - 1)
        keep = times[pos] == tb
        wt = rows["weight"].to_numpy(dtype=float)
        if metric == "error_rate":
            y = rows["failed"].to_numpy(dtype=float, na_value=np.nan)
        else:
            q = {f"p{int(qq * 100)}_ms": qq for qq in QUANTILES}[metric]
            lat = rows["latency_ms"].to_numpy(dtype=float)
            normal = keep & ((pos < a) | (pos >= b)) & ~np.isnan(lat)
            if not normal.any():
                return a, b
            # two readings of each request: whether it exceeds the normal percentile, and its latency's rank. A tail
            # that grew shows in the first; a whole distribution that moved (every request 180 ms slower) more
            # sharply in the second. The window is the one whose requests differ most from the rest's (_window_z), of
            # the two
            best, best_z = (a, b), -np.inf
            for y in _latency_readings(lat, percentile(lat[normal], q)):
                k = keep & ~np.isnan(y)
                w = np.bincount(pos[k], weights=wt[k], minlength=len(times))
                if not (w > 0).all():
                    continue
                x = np.bincount(pos[k], weights=(wt * y)[k], minlength=len(times)) / w
                a2, b2 = scan_window(x, min_len=min_len, direction=direction, weights=w)
                if a2 < 0:
                    continue
                z = _window_z(x, w, y[k], wt[k], a2, b2)
                if z > best_z + 1e-9:
                    best, best_z = (a2, b2), z
            return best
        keep &= ~np.isnan(y)
        w = np.bincount(pos[keep], weights=wt[keep], minlength=len(times))
        if not (w > 0).all():
            return a, b
        x = np.bincount(pos[keep], weights=(wt * y)[keep], minlength=len(times)) / w
    a2, b2 = scan_window(x, min_len=min_len, direction=direction, weights=w)
    return (a2, b2) if a2 >= 0 else (a, b)


def _latency_readings(lat: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Each request's latency read two ways (NaN stays NaN): 1 where it exceeds ``threshold`` (the normal
    percentile) else 0, and its rank among the requests over their count (ties share their mean rank)."""
    nan = np.isnan(lat)
    over = np.where(nan, np.nan, (lat > threshold).astype(float))
    rank = np.full(len(lat), np.nan)
    if (~nan).any():
        rank[~nan] = average_ranks(lat[~nan]) / float((~nan).sum())
    return over, rank


def _window_z(x: np.ndarray, w: np.ndarray, y: np.ndarray, wy: np.ndarray, a: int, b: int) -> float:
    """How far the observations inside buckets ``[a, b)`` differ from the rest's, in standard errors: ``x`` the
    buckets' weighted means of observations ``y`` (weights ``wy``; ``w`` each bucket's total weight). Scale-free,
    so readings of one request (:func:`_latency_readings`) compare, where :func:`scan_window`'s statistic is scaled
    by each series' range."""
    total = float(w.sum())
    mean = float(w @ x) / total
    var = float(wy @ (y - mean) ** 2) / float(wy.sum())
    inside = float(w[a:b].sum())
    se2 = var * inside * (total - inside) / total
    return abs(float(w[a:b] @ (x[a:b] - mean))) / np.sqrt(se2) if se2 > 0 else -np.inf


#: most other windows of a series set aside from a change's baseline (:func:`_other_windows`)
_MAX_OTHER_WINDOWS = 3


def _other_windows(looks: list[tuple], *, min_len: int, n_perm: int, seed: int, level: float,
                   step: pd.Timedelta) -> list[np.ndarray]:
    """Other change windows of each series whose window passed: per look ``(values, times, onset, recovery,
    direction, metric, requests, rows)`` (its buckets' values, times in ns and requests; its key's requests or None),
    a mask over ``values`` of the buckets of its other windows.

    A second look, only after the first window passed: the same rank test on the buckets outside it (and outside the
    windows found so far, up to :data:`_MAX_OTHER_WINDOWS`), a window kept when its p-value is at most ``level`` —
    ``alpha`` over the Holm family's size, the first Holm step's bound, so a normal stretch is seldom set aside — and
    placed on the requests as the first (:func:`_place_window`): the rank window of an error rate took in normal
    minutes with one failure among many without (a baseline of 0.26 % failing where the normal was 0.8 %). All
    series are tested in one :func:`epidemic_tests` call a round (series without ties share one stream of
    permutations: the cost of one series, not one per changed key). The windows found are no rows of their own: they
    are left out of the reported window's ``before``. Without this, two slow windows in one series (3× slower in
    minutes 10–18 and 40–48, 10 requests a minute) gave the reported one a "before" p95 of 327–356 ms where the normal
    was 160–169 ms (seeds 0–5), the other window counted as normal, and a delta of 122–216 ms (true about 300).
    """
    asides = [np.zeros(len(v), dtype=bool) for v, *_ in looks]
    firsts = [(t >= on.value) & ((t < rec.value) if rec is not pd.NaT else True) for _v, t, on, rec, *_ in looks]
    live = list(range(len(looks)))
    for _ in range(_MAX_OTHER_WINDOWS):
        rests = {i: np.flatnonzero(~firsts[i] & ~asides[i]) for i in live}
        live = [i for i in live if len(rests[i]) >= 2 * min_len + 1 and np.ptp(looks[i][0][rests[i]]) > 0]
        if not live:
            break
        vals = [looks[i][0][rests[i]] for i in live]
        res = epidemic_tests(vals, min_len=min_len, n_perm=n_perm, seed=permutation_seed(seed, vals),
                             direction=[looks[i][4] for i in live])
        kept = []
        for i, (a, b, _z, p) in zip(live, res, strict=True):
            if a >= 0 and p <= level:
                v, t, _on, _rec, side, m, req, rows = looks[i]
                r = rests[i]
                a, b = _place_window(m, v[r], t[r], req[r], rows, a, b, min_len, side, step)
                asides[i][r[a:b]] = True
                kept.append(i)
        live = kept
    return asides


def _metrics(metric: str | Sequence[str]) -> list[str]:
    ms = [metric] if isinstance(metric, str) else list(metric)
    bad = [m for m in ms if m not in METRICS]
    if bad or not ms:
        raise ArgumentError(f"detect_changes: metric must be among {', '.join(METRICS)}; got {metric!r}")
    return ms


def _effect(metric: str, rows: pd.DataFrame | None, inside: np.ndarray | None, series: pd.DataFrame,
            win: np.ndarray, ci: float, rng: np.random.Generator, n_boot: int,
            aside: np.ndarray | None = None, aside_rows: np.ndarray | None = None) -> tuple[float, ...]:
    """before, during, delta, lo, hi of one change.

    ``aside`` (buckets of ``series``) and ``aside_rows`` (of ``rows``): other windows of the series, themselves beyond
    chance (:func:`_other_windows`), left out of ``before`` — the normal is neither the window nor another change.
    """
    a = (1 - ci) / 2
    out_b = ~win if aside is None else ~win & ~aside
    nin, nout = int(win.sum()), int(out_b.sum())
    if metric == "requests":
        r = series["requests"].to_numpy(dtype=float)
        known = ~np.isnan(r)  # a bucket with no data (timeline's no_data) is no count, not 0
        rin, rout = r[win & known], r[out_b & known]
        nin, nout = len(rin), len(rout)
        before, during = float(rout.mean()), float(rin.mean())
        var = rin.sum() / nin ** 2 + rout.sum() / nout ** 2  # Poisson counts
        from ..core.distributions import normal_ppf

        zq = float(normal_ppf(1 - a))
        d = during - before
        return before, during, d, d - zq * np.sqrt(var), d + zq * np.sqrt(var)
    if rows is None or inside is None:  # only a timeline: bucket-level means
        vin = series[metric].to_numpy()[win]
        vout = series[metric].to_numpy()[out_b]
        vin, vout = vin[~np.isnan(vin)], vout[~np.isnan(vout)]
        before, during = float(vout.mean()), float(vin.mean())
        bi = rng.choice(vin, (n_boot, len(vin))).mean(axis=1) - rng.choice(vout, (n_boot, len(vout))).mean(axis=1)
        return before, during, during - before, *interval_ends(bi, ci)
    out_r = ~inside if aside_rows is None else ~inside & ~aside_rows
    w = rows["weight"].to_numpy(dtype=float)
    weighted = not bool((w == 1).all())
    if metric == "error_rate":
        # <NA>: a request in progress with no outcome yet, or no span records a status: left out (core.failed_share)
        fl = rows["failed"].to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(fl)
        draws, vals = [], []
        for sel in (out_r, inside):
            ws, fs = w[sel & known], fl[sel & known]
            tot = ws.sum()
            p = float(ws @ fs / tot) if tot > 0 else float("nan")
            n_eff = tot ** 2 / float((ws ** 2).sum()) if tot > 0 else 0.0
            x = p * n_eff if tot > 0 else 0.0
            vals.append(p)
            draws.append(rng.beta(x + 0.5, n_eff - x + 0.5, n_boot) if n_eff > 0 else np.full(n_boot, np.nan))
        d = draws[1] - draws[0]
        return vals[0], vals[1], vals[1] - vals[0], *interval_ends(d, ci)
    q = {f"p{int(qq * 100)}_ms": qq for qq in QUANTILES}[metric]
    lat = rows["latency_ms"].to_numpy(dtype=float)
    vals, draws = [], []
    for sel in (out_r, inside):
        v, ws = lat[sel], w[sel]
        ok = ~np.isnan(v)
        v, ws = v[ok], ws[ok]
        if not weighted:
            point, dr = quantile_draws(np.sort(v), q, rng.random(n_boot))
        else:
            point = float(percentile(v, q, weights=ws))
            dr = np.array([percentile(v, q, weights=ws * rng.poisson(1.0, len(v))) for _ in range(min(n_boot, 200))])
            dr = np.resize(dr, n_boot)
        vals.append(point)
        draws.append(dr)
    d = draws[1] - draws[0]
    return vals[0], vals[1], vals[1] - vals[0], *interval_ends(d, ci)


def detect_changes(spans: pd.DataFrame, by: str | Sequence[str] | None = "service", *,
                   metric: str | Sequence[str] = ("p95_ms", "error_rate", "requests"), freq: str = "1min",
                   alpha: float = 0.01, weights: Any = None, ci: float = 0.95, min_buckets: int = 2,
                   n_perm: int | None = None, seed: int = 0, direction: str = "worse") -> pd.DataFrame:
    """Change windows (onset, recovery) per key and metric, with effect sizes and Holm-adjusted p-values.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame, or a :func:`~tracekit.timeline` (then ``by``, ``freq`` and ``weights`` are
        those it was made with — its ``attrs["params"]``; a table that lost them is read at the spacing of its
        times — and ``before`` / ``during`` are means of bucket values).
    by : str or list of str, optional
        Key(s) as in :func:`~tracekit.timeline` (default ``"service"``: each service's entry spans).
    metric : str or sequence of str
        Metrics to watch, among ``p50_ms``, ``p95_ms``, ``p99_ms``, ``error_rate``, ``requests``.
    freq : str
        Bucket length. When the data span more than :data:`MAX_BUCKETS` buckets of it (a week at one
        minute, or one straggler span months away from the rest), the smallest round bucket that fits
        is used instead and ``attrs["params"]`` says so (``freq``, ``freq_asked``, ``freq_note``).
    alpha : float
        Family-wise error rate over all keys and metrics (Holm).
    weights : DataFrame, Series or float, optional
        Sampling weights per trace, as for :func:`~tracekit.timeline`.
    ci : float
        Level of the ``delta`` interval.
    min_buckets : int
        Fewest non-empty buckets inside a window and outside it (the shortest window scanned; a change must hold
        about :data:`SHORTEST_CHANGE` buckets to pass: see Notes).
    n_perm : int, optional
        Most permutations per series (default: enough for the Holm threshold, ≥ 999).
    seed : int
        Seed of permutations and bootstraps.
    direction : {"worse", "up", "down", "both"}
        Which windows are changes. ``"worse"`` (default): a higher p50/p95/p99 or error rate (an
        incident makes things worse), a higher or lower request rate. ``"up"`` / ``"down"`` / ``"both"``:
        higher, lower, either, for every metric. With ``"worse"`` a change that runs to the end of the
        data (or starts at its beginning) is reported as itself — onset at the real change point,
        positive ``delta``, recovery NaT when it runs to the end — never as its complement, the normal
        side being the better one. For a request rate (either way), of a window at an edge and its
        complement the shorter is the change: the longer side is the normal regime.

    Returns
    -------
    pandas.DataFrame
        Key columns, then :data:`DETECT_CHANGES`, one row per change (at most one per key and
        metric), most significant first. ``attrs["params"]`` records the arguments and the number
        of series tested; ``attrs["no_data"]`` says in words the buckets left out because no span at all was
        collected in them (:func:`~tracekit.analysis.timeline.no_data_buckets`; "" when none), and
        ``attrs["no_data_windows"]`` lists them as (start, end) pairs; ``attrs["resolution"]`` says the shortest
        change it can see at the bucket used (``attrs["params"]["shortest_change"]``, in buckets);
        ``attrs["untested"]`` says how many series had too few buckets with a value to be tested ("" when none:
        a constant series, unchanged whatever the test, is not counted) — no row is then no answer, not "no change".

    Warns
    -----
    UserWarning
        No series could be tested (each has fewer than ``2 * min_buckets + 1`` buckets with a value): the empty
        table says nothing of a change.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        Bad ``metric``, ``alpha``, ``freq``, ``by``, ``direction`` or ``seed``.

    Notes
    -----
    Resolution: a change must hold about :data:`SHORTEST_CHANGE` buckets to be found reliably, however large — a spike
    of 1–4 buckets seldom is (ranks cap each bucket's weight; a single bucket cannot be told from noise by a test that
    treats buckets as exchangeable). Use a finer ``freq`` for short spikes. Measured figures: the module docstring.

    Examples
    --------
    >>> import tracekit as tk
    >>> late = tk.simulate.simulate("db-lock", 1200, seed=2, window_start="2026-03-02T14:40Z",
    ...                             window_end="2026-03-02T15:00Z").spans
    >>> r = tk.detect_changes(late, by="service", metric="p95_ms").iloc[0]
    >>> str(r["onset"].time()), r["recovery"], bool(r["delta"] > 0)
    ('14:40:00', NaT, True)
    >>> spans = tk.simulate.simulate("baseline", 600, seed=5).spans
    >>> len(tk.detect_changes(spans, by="route"))
    0
    """
    metrics = _metrics(metric)
    alpha = share_arg(alpha, "alpha", "detect_changes")
    ci = share_arg(ci, "ci", "detect_changes")
    min_buckets = count_arg(min_buckets, "min_buckets", "detect_changes", minimum=1)
    n_perm = count_arg(n_perm, "n_perm", "detect_changes", minimum=1, allow_none=True)
    seed = count_arg(seed, "seed", "detect_changes")
    if direction not in ("worse", *_DIRECTIONS):
        raise ArgumentError(f"detect_changes: direction must be one of worse, {', '.join(_DIRECTIONS)}; "
                            f"got {direction!r}")
    rows = None
    freq_asked, freq_note = freq, None
    if "time" in spans.columns and "p95_ms" in spans.columns and "trace_id" not in spans.columns:
        tl = spans
        # the window's requests (requests_affected) and the buckets' weights are read from the timeline too
        require_columns(tl, ("time", "requests", *metrics), "detect_changes (a timeline)")
        params = dict(tl.attrs.get("params", {}))
        keys = timeline_keys(tl)  # (a joined metric.<name> column is no key)
        if "freq" in params:
            freq = params["freq"]
        else:  # (attrs lost: a filtered or rebuilt table) the bucket is the spacing of its times, not the default 1min
            t = np.unique(ns(tl["time"]))
            gap = np.diff(t)
            if len(gap) and gap.min() > 0:
                off = pd.tseries.frequencies.to_offset(pd.Timedelta(int(np.gcd.reduce(gap)))).freqstr
                freq = off if off[:1].isdigit() else f"1{off}"
            else:
                duration_arg(freq, "freq", "detect_changes")
    else:
        keys = by_keys(by, what="detect_changes", allow_none=True)
        step = duration_arg(freq, "freq", "detect_changes")
        freq = freq.strip() if isinstance(freq, str) else step
        rows = request_rows(spans, keys or None, weights=weights, who="detect_changes")
        freq, freq_note = _fitting_freq(rows, freq, step)
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        tl = timeline_from_requests(rows, keys, step, ci, {}, spans=spans)
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    # one series per (key, metric)
    if keys:
        kf = tl[keys].astype(object).where(tl[keys].notna(), None)
        gcodes, guniq = pd.factorize(pd.MultiIndex.from_frame(kf), sort=False)
    else:
        gcodes, guniq = np.zeros(len(tl), dtype=np.int64), [()]
    series = []
    for gi in range(len(guniq)):
        part = tl[gcodes == gi].reset_index(drop=True)
        for m in metrics:
            v = part[m].to_numpy(dtype=float)
            ok = ~np.isnan(v)
            series.append((gi, m, part, ok, v[ok]))
    # a constant or too short series cannot show a change whatever happens: it is not tested (both
    # properties are permutation-invariant, so leaving it out of the Holm family keeps the error rate)
    fewest = 2 * min_buckets + 1  # buckets a series needs to be tested: a window of min_buckets and that many each side
    testable = [len(v) >= fewest and np.ptp(v) > 0 for (_g, _m, _p, _o, v) in series]
    # a short series is not "no change": nothing could be said of it. Said in attrs["untested"], and warned of when no
    # series at all could be tested (an empty table then looked like "no change": only attrs["params"] told them apart)
    short = [len(v) for (_g, _m, _p, _o, v) in series if len(v) < fewest]
    untested = untested_text(short, len(series), str(freq), min_buckets)
    if short and not any(testable):
        warnings.warn(f"{UNTESTED_WARNING} ({untested}): the empty result says nothing of a "
                      "change (attrs['untested'])", UserWarning, stacklevel=2)
    series = [s for s, t in zip(series, testable, strict=True) if t]
    n_tests = len(series)
    n_perm_ = int(n_perm) if n_perm is not None else holm_permutations(n_tests, alpha)
    sides = [direction if direction != "worse" else ("both" if m == "requests" else "up") for (_g, m, _p, _o, _v) in series]
    values = [v for (_g, _m, _p, _o, v) in series]
    results = [(a, b, p) for a, b, _z, p in epidemic_tests(values, min_len=min_buckets, n_perm=n_perm_,
                                                          seed=permutation_seed(seed, values), direction=sides)]
    p_adj = holm(np.array([r[2] for r in results], dtype=float))
    deps = deployments(spans) if rows is not None else None
    out_rows = []
    gaps = no_data_windows(tl, step)  # buckets where no span at all was collected: left out of every series
    rng = np.random.default_rng(seed)
    key_rows = None
    if rows is not None and keys:
        # each key's requests, found once: a comparison of every request's key with each changed series' key was
        # keys x requests (a surge on every key); the requests' distinct keys are compared instead, as == compares
        rk = rows[keys].astype(object).where(rows[keys].notna(), None)
        key_codes = pd.MultiIndex.from_frame(rk)
        rcodes, runiq = pd.factorize(key_codes, sort=False)
        rest = np.flatnonzero(rcodes < 0)  # (factorize's missing code, if any: compared one by one)
        # each distinct key's requests as one run of positions (one sort): a mask of every request per changed series
        # (np.isin) and a comparison of every distinct key per series were keys x requests and keys², 0.4 s of a surge
        # on 160 services
        by_code = np.argsort(rcodes, kind="stable")
        bounds = np.searchsorted(rcodes[by_code], np.arange(len(runiq) + 1))
        code_of: dict[Any, list[int]] = {}
        for c, u in enumerate(runiq):
            code_of.setdefault(tuple(_key_value(v) for v in (u if isinstance(u, tuple) else (u,))), []).append(c)

        def key_rows(key: Any) -> np.ndarray:
            mask = np.zeros(len(rcodes), dtype=bool)
            for c in code_of.get(tuple(_key_value(v) for v in (key if isinstance(key, tuple) else (key,))), ()):
                mask[by_code[bounds[c]:bounds[c + 1]]] = True
            if len(rest):
                mask[rest] = np.asarray(key_codes[rest] == key, dtype=bool)
            return mask
    found = []  # the windows that passed, their effects taken once the other windows of each series are known
    for (gi, m, part, ok, v), (a, b, _p), pa, side in zip(series, results, p_adj, sides, strict=True):
        if a < 0 or pa > alpha:
            continue
        times = part["time"][ok].reset_index(drop=True)
        krows = None
        if rows is not None:
            krows = rows[np.ones(len(rows), dtype=bool) if key_rows is None else key_rows(guniq[gi])]
        # the ranks say whether; the requests (or the bucket values) say where
        a, b = _place_window(m, v, ns(times), part["requests"].to_numpy(dtype=float)[ok], krows, a, b, min_buckets,
                             side, step)
        onset = times.iloc[a]
        recovery = times.iloc[b] if b < len(times) else pd.NaT

        def shown(rec: Any, times: pd.Series = times) -> Any:
            # a recovery needs min_buckets buckets of the key after it: one bucket, often cut short by the end of
            # the data, called a fault still on "over by 14:06:50" ten seconds before the data ended
            return rec if rec is pd.NaT or int((times >= rec).sum()) >= min_buckets else pd.NaT

        recovery = shown(recovery)

        def candidates(on: Any, times: pd.Series = times) -> int:
            # the recoveries the window's end was chosen among: the key's buckets after its onset (_recovery_z)
            return int((times > on).sum())

        if rows is None and recovery is not pd.NaT and m != "requests" and not _timeline_recovered(
                m, part[ok].reset_index(drop=True), onset, recovery, candidates(onset)):
            # a timeline without its requests: the same rule on its buckets (the error rate's counts, the latency's
            # bucket values); a window said over on a timeline was said ongoing on the spans it was made from
            recovery = pd.NaT
        t_all = part["time"]
        win = (t_all >= onset).to_numpy() & ((t_all < recovery).to_numpy() if recovery is not pd.NaT else True)
        inside = None
        if krows is not None:
            t = ns(krows["time"])
            if m.startswith("p"):
                q = {f"p{int(qq * 100)}_ms": qq for qq in QUANTILES}[m]
                onset, recovery = _refine_edges(t, krows["latency_ms"].to_numpy(dtype=float), q, onset, recovery,
                                                step)
                # the bucket after the last request inside may be one where no span at all was collected: when it
                # ended there is not in the data, so the recovery is where spans came back (the buckets' rule)
                recovery = next((b for a, b in gaps if recovery is not pd.NaT and a <= recovery < b), recovery)
                if recovery is not pd.NaT and (shown(recovery) is pd.NaT or not _latency_recovered(
                        t, krows["latency_ms"].to_numpy(dtype=float), q, onset, recovery, candidates(onset))):
                    recovery = pd.NaT
            elif m == "error_rate" and recovery is not pd.NaT and not _errors_recovered(
                    t, krows["failed"].to_numpy(dtype=float, na_value=np.nan), onset, recovery, candidates(onset)):
                # the same rule as a latency window's: the requests after it must fail less than those inside
                recovery = pd.NaT
            dep, first = _deployment_at(deps, onset, step, keys, guniq[gi])
            if first is not None and first < onset:
                # the deploy explains the change: the change cannot start after its first new-version span
                onset = pd.Timestamp(first.value // step.value * step.value, tz="UTC")
            on = onset.value
            inside = (t >= on) & ((t < recovery.value) if recovery is not pd.NaT else True)
            affected = float(krows["weight"].to_numpy()[inside].sum())
            # the buckets of the window as it is said (the edges moved by the requests or by a deploy): a request
            # count's before / during are bucket means, and were taken over the window before it moved
            win = (t_all >= onset).to_numpy() & ((t_all < recovery).to_numpy() if recovery is not pd.NaT else True)
        else:
            affected = float(np.nansum(part["requests"].to_numpy(dtype=float)[win]))
            dep = None
        found.append((gi, m, part, krows, inside, win, onset, recovery, affected, pa, dep,
                      (v, ns(times), onset, recovery, side, m, part["requests"].to_numpy(dtype=float)[ok], krows)))
    # other windows of each series, themselves beyond chance, are no part of its normal: left out of "before"
    others = _other_windows([f[-1] for f in found], min_len=min_buckets, n_perm=n_perm_, seed=seed,
                            level=alpha / max(n_tests, 1), step=step)
    for (gi, m, part, krows, inside, win, onset, recovery, affected, pa, dep, look), other in zip(
            found, others, strict=True):
        tn = look[1]
        aside = aside_rows = None
        if other.any():
            away = np.unique(tn[other] // step.value)
            aside = np.isin(ns(part["time"]) // step.value, away) & ~win
            if krows is not None:
                aside_rows = np.isin(ns(krows["time"]) // step.value, away) & ~inside
        before, during, d, lo, hi = _effect(m, krows, inside, part, win, ci, rng, 1000, aside, aside_rows)
        key_vals = dict(zip(keys, guniq[gi], strict=True)) if keys else {}
        out_rows.append({**key_vals, "metric": m, "onset": onset, "recovery": recovery, "before": before,
                         "during": during, "delta": d, "delta_lo": lo, "delta_hi": hi,
                         "requests_affected": affected, "p_value": float(pa), "deployment": dep})
    cols = [*keys, *DETECT_CHANGES.column_names]
    out = pd.DataFrame(out_rows, columns=cols)
    for k in keys:
        out[k] = out[k].astype("string")
    out["metric"] = out["metric"].astype("string")
    out["deployment"] = out["deployment"].astype("string")
    for c in ("onset", "recovery"):
        out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[ns, UTC]")
    for c in ("before", "during", "delta", "delta_lo", "delta_hi", "requests_affected", "p_value"):
        out[c] = out[c].astype("float64")
    out = out.sort_values(["p_value", "onset"], kind="stable").reset_index(drop=True)
    # buckets where no span at all was collected (timeline's no_data): left out of every series above, said here
    out.attrs["no_data"] = no_data_text(gaps, str(freq))
    out.attrs["no_data_windows"] = gaps  # a short list of (start, end) pairs users compare with lists
    out.attrs["untested"] = untested
    shortest = max(SHORTEST_CHANGE, min_buckets)
    out.attrs["resolution"] = (f"A change shorter than about {shortest} buckets of {freq_text(freq)} "
                               f"({freq_text(shortest * step)}) is seldom found, "
                               "however large (ranks cap each bucket's weight); a finer freq sees shorter ones.")
    out.attrs["params"] = shared_attr(dict(by=by, metric=metrics, freq=freq, alpha=alpha, weighted=weights is not None, ci=ci,
                               min_buckets=min_buckets, fewest_buckets=fewest, shortest_change=shortest, n_perm=n_perm_, n_series=n_tests, seed=seed,
                               direction=direction, freq_asked=freq_asked, freq_note=freq_note,
                               method="rank epidemic change-point, permutation test (Besag–Clifford), Holm"))
    return out


def untested_text(buckets: Sequence[int], series: int, freq: str, min_buckets: int) -> str:
    """What a change search says of its series too short to be tested ("" when none): ``buckets`` the buckets with a
    value of each such series, of ``series`` in all. A series needs ``2 * min_buckets + 1`` buckets (a window of
    ``min_buckets`` and as many each side); a shorter one is no answer, not "no change" — :func:`detect_changes` and
    :func:`~tracekit.detect_metric_changes` say it in ``attrs["untested"]``.

    >>> untested_text([3, 2], 5, "1min", 2)
    '2 series of 5 not tested: at most 3 buckets of 1 min with a value, and a change is looked for over at least 5 (2 inside a window and as many each side); a finer freq looks closer'
    >>> untested_text([], 5, "1min", 2)
    ''
    """
    if not len(buckets):
        return ""
    return (f"{plural(len(buckets), 'series', 'series')} of {series} not tested: at most {plural(max(buckets), 'bucket')} of {freq_text(freq)} "
            f"with a value, and a change is looked for over at least {2 * min_buckets + 1} ({min_buckets} inside a "
            "window and as many each side); a finer freq looks closer")


def _fitting_freq(rows: pd.DataFrame, freq: str, step: pd.Timedelta) -> tuple[str, str | None]:
    """``freq``, or the smallest round bucket giving at most :data:`MAX_BUCKETS` buckets over the
    requests' time range, with a sentence saying why."""
    if rows.empty:
        return freq, None
    return fitting_freq(rows["time"], freq, what="the requests")


def fitting_freq(times: pd.Series, freq: str, *, what: str = "the data") -> tuple[str, str | None]:
    """``freq``, or the smallest round bucket giving at most :data:`MAX_BUCKETS` buckets over the times' range, and
    a sentence saying why (None when ``freq`` fits): every scan over windows of buckets costs ~ buckets².

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Series(pd.to_datetime(["2026-03-02 00:00", "2026-03-02 23:59"], utc=True))
    >>> fitting_freq(t, "1min")[0], fitting_freq(t[:1], "1min")
    ('5min', ('1min', None))
    """
    step = pd.Timedelta(freq)
    t = ns(times)
    if not len(t):
        return freq, None
    lo, hi = int(t.min()), int(t.max())
    nb = (hi // step.value - lo // step.value) + 1
    if nb <= MAX_BUCKETS:
        return freq, None
    need = (hi - lo) / (MAX_BUCKETS - 1)
    new = next((f for f in _NICE_STEPS if pd.Timedelta(f).value >= need), None)
    if new is None:
        new = f"{int(np.ceil(need / pd.Timedelta('1D').value))}D"
    note = (f"{what} span {pd.Timedelta(hi - lo)} ({nb:,} buckets of {freq_text(freq)}, more than {MAX_BUCKETS:,}): "
            f"buckets of {freq_text(new)} used instead")
    return new, note


def _deployment_at(deps: pd.DataFrame | None, onset: pd.Timestamp, step: pd.Timedelta, keys: list[str],
                   key: Any) -> tuple[str | None, pd.Timestamp | None]:
    """``service version`` of the deploys first seen within one bucket of ``onset`` (of the key's service
    when the key is by service), and the earliest first-seen time; (None, None) when none."""
    if deps is None or not len(deps):
        return None, None
    near = deps[deps["previous"].notna() & ((deps["first_seen"] - onset).abs() <= step)]
    if keys and "service" in keys:
        near = near[near["service"] == key[keys.index("service")]]
    if not len(near):
        return None, None
    dep = "; ".join(f"{s} {v}" for s, v in zip(near["service"], near["version"], strict=True))
    return dep, pd.Timestamp(near["first_seen"].min())


@dataclass(frozen=True)
class ChangeSplit:
    """Spans cut at a change (whole traces, by request start).

    Attributes
    ----------
    incident : pandas.DataFrame
        Traces whose request started in ``[onset, recovery)``.
    before : pandas.DataFrame
        Traces that started before ``onset``: the baseline.
    after : pandas.DataFrame
        Traces that started at or after ``recovery`` (empty while the change is ongoing).
    onset, recovery : pandas.Timestamp
        The window (``recovery`` NaT while ongoing).
    """

    incident: pd.DataFrame
    before: pd.DataFrame
    after: pd.DataFrame
    onset: pd.Timestamp
    recovery: pd.Timestamp

    @property
    def normal(self) -> pd.DataFrame:
        """Before and after together: every trace outside the window."""
        return pd.concat([self.before, self.after], ignore_index=True)


def split_by_change(spans: pd.DataFrame, change: Any) -> ChangeSplit:
    """Cut spans at a change: the incident window, the normal period before it and after it.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    change : DataFrame row, DataFrame or (onset, recovery)
        A row of :func:`detect_changes` (a DataFrame: its first row, the most significant), or a
        pair of anything ``pd.Timestamp`` accepts (``recovery`` None while ongoing).

    Returns
    -------
    ChangeSplit
        Whole traces, by the start of their request (the earliest span for rootless traces).

    Raises
    ------
    ArgumentError
        ``change`` is empty or not a change: no onset, a time that does not parse, or a recovery before the onset.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("db-lock", 300, seed=11).spans
    >>> s = split_by_change(spans, ("2026-03-02T14:27Z", "2026-03-02T14:36Z"))
    >>> s.incident["trace_id"].nunique() + s.before["trace_id"].nunique() + s.after["trace_id"].nunique()
    300
    """
    if isinstance(change, pd.DataFrame):
        if change.empty:
            raise ArgumentError("split_by_change: no change to split at (the detect_changes result is empty)")
        change = change.iloc[0]
    if isinstance(change, pd.Series):
        if "onset" not in change.index:
            raise ArgumentError("split_by_change: change must be a row of detect_changes (with onset, recovery)")
        onset, recovery = change["onset"], change.get("recovery", pd.NaT)
    elif isinstance(change, (tuple, list)) and len(change) == 2:
        onset, recovery = change
    else:
        raise ArgumentError("split_by_change: change must be a detect_changes row or frame, or (onset, recovery); "
                            f"got {type(change).__name__}")
    try:
        onset = pd.NaT if onset is None or pd.isna(onset) else pd.Timestamp(onset)
        recovery = pd.NaT if recovery is None or pd.isna(recovery) else pd.Timestamp(recovery)
    except (ValueError, TypeError) as e:
        raise ArgumentError(f"split_by_change: onset and recovery must be times, got {onset!r}, {recovery!r} ({e})") from e
    if onset is pd.NaT:  # NaT compared as the earliest time: every trace was "in the incident"
        raise ArgumentError("split_by_change: the change has no onset")
    if onset.tzinfo is None:
        onset = onset.tz_localize("UTC")
    if recovery is not pd.NaT and recovery.tzinfo is None:
        recovery = recovery.tz_localize("UTC")
    if recovery is not pd.NaT and recovery < onset:  # a trace between the two was both before and after
        raise ArgumentError(f"split_by_change: recovery {recovery} is before onset {onset}")
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), "split_by_change")
    from ..core import span_tree, trace_outcomes

    start = ns(trace_outcomes(spans)["start"])
    t = span_tree(spans).trace
    ts = start[t]
    inc = ts >= onset.value
    if recovery is not pd.NaT:
        aft = ts >= recovery.value
        inc &= ~aft
    else:
        aft = np.zeros(len(spans), dtype=bool)
    bef = ts < onset.value
    return ChangeSplit(spans[inc], spans[bef], spans[aft], onset, recovery)


# ---- the incident and its baseline, found in one input ---------------------------------------------------
_NICE_STEPS = ("1s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min", "15min", "30min", "1h", "3h", "6h", "1D")


def auto_freq(spans: pd.DataFrame, buckets: int = 60) -> str:
    """A round bucket length giving about ``buckets`` buckets over the span of the data (``"1min"`` for an hour).

    >>> import tracekit as tk
    >>> auto_freq(tk.simulate.simulate("baseline", 100, seed=1).spans)
    '1min'
    """
    if len(spans) == 0:
        return "1min"
    width = (spans["start"].max() - spans["start"].min()) / max(int(buckets), 1)
    for step in _NICE_STEPS:
        if pd.Timedelta(step) >= width:
            return step
    return _NICE_STEPS[-1]


def _auto_freqs(spans: pd.DataFrame) -> list[str]:
    """The buckets :func:`incident_periods` tries when none is given: :func:`auto_freq`'s, and when that is longer
    than a minute the finest round bucket of at least a minute giving at most :data:`MAX_BUCKETS` over the data.

    >>> import tracekit as tk
    >>> _auto_freqs(tk.simulate.simulate("baseline", 100, seed=1).spans)
    ['1min']
    """
    coarse = auto_freq(spans)
    if len(spans) == 0 or pd.Timedelta(coarse) <= pd.Timedelta("1min"):
        return [coarse]
    width = (spans["start"].max() - spans["start"].min()) / (MAX_BUCKETS - 1)
    fine = next((f for f in _NICE_STEPS if pd.Timedelta(f) >= max(width, pd.Timedelta("1min"))), coarse)
    return [coarse] if fine == coarse else [fine, coarse]


def period_text(t0: Any, t1: Any) -> str:
    """``2026-03-02 14:00–14:59 UTC`` within a day (:func:`window_text` after the date), else both ends dated.

    >>> period_text("2026-03-02T14:00Z", "2026-03-02T14:59Z")
    '2026-03-02 14:00–14:59 UTC'
    >>> period_text("2026-03-02T23:00Z", "2026-03-03T01:00Z")
    '2026-03-02 23:00 – 2026-03-03 01:00 UTC'
    """
    t0, t1 = utc_time(t0), utc_time(t1)  # the date of UTC's clock, as the times
    if t0.date() == t1.date():
        return f"{t0:%Y-%m-%d} {window_text(t0, t1)}"
    return f"{t0:%Y-%m-%d %H:%M} – {t1:%Y-%m-%d %H:%M} UTC"


def fast_failure_mirrors(changes: pd.DataFrame, step: Any, spans: pd.DataFrame | None = None) -> np.ndarray:
    """Which rows of :func:`detect_changes`' table are the mirror of an error change, not changes of their own: a
    latency window on a route that ends where an error-rate rise of the same route begins, or begins where it ends
    (within one bucket), and is slower inside than out. Requests that fail fast (an exception thrown at once) make
    the failing window's latency low, so the normal traffic beside it reads as a latency change: fault lab
    exception seed 3, baseline and incident in one frame, had /api/v1/rate/query p95 16.5 → 32.5 ms in 14:00–14:05
    (the normal period) beside its error rate 1.6 % → 100 % from 14:05:10, both at p ≤ 0.0025, and the latency
    window, on more requests, was named the incident.

    With ``spans`` (the requests the table was computed from) a latency window is a mirror only where the failures
    explain it: the p95 of the key's requests that did not fail, outside the window, is at least the geometric mean
    of the p95 of all its requests outside and of the p95 inside (fast failures account for half the rise or more),
    or fewer than :data:`MIRROR_MIN_OK` such requests exist to tell. Without them an error window followed by a real
    slowdown (errors 14:20–14:30 at normal latency, then every request 4 × slower 14:30–14:40) was a "mirror" in 10
    of 10 seeds, and the postmortem said "Not a change of its own … where its requests failed and returned fast".

    >>> t = pd.Timestamp("2026-03-02 14:00", tz="UTC")
    >>> ch = pd.DataFrame({"route": ["/a", "/a"], "metric": ["p95_ms", "error_rate"],
    ...     "onset": [t, t + pd.Timedelta("5min")], "recovery": [t + pd.Timedelta("5min"), pd.NaT],
    ...     "before": [16.5, 0.016], "during": [32.5, 1.0]})
    >>> fast_failure_mirrors(ch, "1min").tolist()
    [True, False]
    """
    out = np.zeros(len(changes), dtype=bool)
    if not len(changes) or "metric" not in changes.columns:
        return out
    tol = pd.Timedelta(step)
    keys = [c for c in changes.columns if c not in DETECT_CHANGES.column_names]
    metric = changes["metric"].astype(str).to_numpy()
    rose = (changes["during"].astype(float) > changes["before"].astype(float)).to_numpy()
    # the error rows of each key, found by the key: every latency row met every error row (.iloc each), 1.5 s at 160
    # routes with both changed
    kv = [tuple(_key_value(v) for v in row) for row in changes[keys].itertuples(index=False, name=None)]
    onset, recovery = changes["onset"].tolist(), changes["recovery"].tolist()
    errs: dict[tuple, list[int]] = {}
    rows = None  # the requests by key, read once and only when a latency row meets an error row
    for i in range(len(changes)):
        if metric[i] == "error_rate" and rose[i]:
            errs.setdefault(kv[i], []).append(i)
    for i in range(len(changes)):
        if not (metric[i].startswith("p") and rose[i]):
            continue
        for j in errs.get(kv[i], ()):
            before = not pd.isna(recovery[i]) and abs(recovery[i] - onset[j]) <= tol
            after = not pd.isna(recovery[j]) and abs(onset[i] - recovery[j]) <= tol
            if before or after:
                if spans is not None:
                    if rows is None:
                        rows = _mirror_rows(spans, keys)
                    if not _failures_explain(rows, kv[i], onset[i], recovery[i]):
                        continue
                out[i] = True
                break
    return out


#: fewest requests that did not fail, outside a latency window, to tell a mirror of fast failures from a slowdown
MIRROR_MIN_OK = 10


def _mirror_rows(spans: pd.DataFrame, keys: list[str]) -> dict:
    """Each key's requests (:func:`~tracekit.analysis.timeline.request_rows` by ``keys``): times (ns), latencies and
    whether each is known not to have failed, for :func:`_failures_explain`."""
    rows = request_rows(spans, keys or None)
    t = rows["time"].to_numpy(dtype="datetime64[ns]").view(np.int64) if len(rows) else np.zeros(0, np.int64)
    lat = rows["latency_ms"].to_numpy(dtype=float, na_value=np.nan)
    ok = (rows["failed"] == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712 - <NA> (unknown) is not ok
    kv = [tuple(_key_value(v) for v in r) for r in rows[keys].itertuples(index=False, name=None)] if keys else \
        [()] * len(rows)
    at: dict[tuple, list[int]] = {}
    for n, k in enumerate(kv):
        at.setdefault(k, []).append(n)
    return {k: (t[ix], lat[ix], ok[ix]) for k, ix in ((k, np.asarray(v)) for k, v in at.items())}


def _failures_explain(rows: dict, key: tuple, onset: Any, recovery: Any) -> bool:
    """Whether the requests of ``key`` that did not fail, outside the latency window ``[onset, recovery)``, are slow
    enough that fast failures explain half its rise or more (:func:`fast_failure_mirrors`); True when too few of them
    (:data:`MIRROR_MIN_OK`) exist to tell."""
    if key not in rows:
        return True
    t, lat, ok = rows[key]
    inside = t >= pd.Timestamp(onset).value
    if not pd.isna(recovery):
        inside &= t < pd.Timestamp(recovery).value
    known = ~np.isnan(lat)
    out_all, out_ok, ins = lat[~inside & known], lat[~inside & known & ok], lat[inside & known]
    if len(out_ok) < MIRROR_MIN_OK or not len(ins):
        return True
    p_all, p_ok, p_in = (percentile(x, 0.95) for x in (out_all, out_ok, ins))
    if not (p_all > 0 and p_in > p_all):
        return True
    return bool(p_ok >= np.sqrt(p_all * p_in))


class _Missing:
    """One key value for every missing one (None, NaN, <NA>, NaT): a missing key is the same as a missing key."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _key_value(v: Any) -> Any:
    return _MISSING if pd.api.types.is_scalar(v) and pd.isna(v) else v


def headline_order(changes: pd.DataFrame, step: Any, spans: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`detect_changes`' rows in the order a story names them: mirrors of an error change
    (:func:`fast_failure_mirrors`, judged on the requests of ``spans`` when given) last, then the smallest p-value,
    then the most requests affected."""
    return changes.assign(_m=fast_failure_mirrors(changes, step, spans), _n=-changes["requests_affected"].astype(float)
                          ).sort_values(["_m", "p_value", "_n"], kind="stable").drop(columns=["_m", "_n"])


@dataclass(frozen=True)
class IncidentPeriods:
    """The incident window and the baseline it is compared with, as :func:`incident_periods` found them.

    Attributes
    ----------
    incident : pandas.DataFrame
        Traces whose request started in the change window (all of the input when no change was found).
    baseline : pandas.DataFrame or None
        The baseline given, else the normal period before the change (before and after it when the period
        before is not acceptable alone) less the bucket either side of the change (the onset and recovery are
        known to a bucket), less the traces of any other change window and abnormal bucket found in it; None
        when there is neither, or none acceptable (:func:`incident_periods`, ``rejected``).
    source : str
        Where the baseline comes from, in words (shown in reports).
    change : pandas.Series or None
        The headline change (a :func:`detect_changes` row): the most significant, then the one with the
        most requests affected.
    changes : pandas.DataFrame
        Every change found (``detect_changes`` by route, p95 and error rate).
    freq : str
        The bucket used.
    rejected : str
        Why the baseline found was not acceptable (:func:`incident_periods`, "acceptable"), in words, when
        ``baseline`` is None for that reason; else ``""``.
    given_changed : str
        A baseline given that holds a change of its own, in words: the traces in its time buckets where a route's
        requests were slower or failed more often than in its other buckets beyond chance (the rule that leaves
        them out of a found baseline); ``""`` when none, or no baseline was given. The baseline given is kept whole.
    rising_from : pandas.Timestamp or None
        When the headline route's requests before the onset were already worse than its earlier ones beyond chance
        (a change that grew into its onset, not a step): the time they start from; they are left out of the found
        baseline and said in ``source``. None otherwise, and with a baseline given.
    metric_change : pandas.Series or None
        Where the requests showed no change and no baseline was given, the headline change of the metrics given
        (:func:`~tracekit.analysis.metric_changes.metric_incident_periods`: a :func:`~tracekit.detect_metric_changes`
        row, keyed by service and host): the window the incident and the found baseline are cut at. None otherwise (``change`` then says the window, or nothing does).
    metric_changes : pandas.DataFrame or None
        Every metric series that changed in that search (:func:`~tracekit.detect_metric_changes` over the metrics in
        the spans' time, at the requests' bucket); None when it did not run.
    """

    incident: pd.DataFrame
    baseline: pd.DataFrame | None
    source: str
    change: pd.Series | None
    changes: pd.DataFrame
    freq: str
    rejected: str = ""
    given_changed: str = ""
    rising_from: pd.Timestamp | None = None
    metric_change: pd.Series | None = None
    metric_changes: pd.DataFrame | None = None

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """(onset, recovery) of the headline change (recovery NaT while ongoing) — the requests', else the metrics'
        (``metric_change``) — or None."""
        head = self.change if self.change is not None else self.metric_change
        if head is None:
            return None
        rec = head.get("recovery", pd.NaT)
        return pd.Timestamp(head["onset"]), (pd.NaT if pd.isna(rec) else pd.Timestamp(rec))


def incident_periods(spans: pd.DataFrame, baseline: pd.DataFrame | None = None, *, freq: str | None = None,
                     alpha: float = 0.01, weights: Any = None, min_baseline: int = 30) -> IncidentPeriods:
    """Find the incident window in ``spans`` and the baseline to compare it with — the one rule the
    report, :func:`~tracekit.postmortem` and :func:`~tracekit.rank_causes` share.

    The headline change is the most significant change of a route's p95 request latency or error
    rate (:func:`detect_changes`, then the most requests affected). The incident is the traces that
    started in its window (:func:`split_by_change`). The baseline is ``baseline`` if given, else the
    traces that started before the onset — joined by those after the recovery when the period before is not
    acceptable alone — less those of the bucket before the onset and the bucket from the recovery (the change's
    first and last requests may be in them: its window is known to a bucket), less the traces of any other
    change window found in that period the same way (a second incident is not "normal"), less its buckets in which a route's requests were slower or failed more
    often than in its other buckets beyond chance (:func:`~tracekit.core.stats.normal_slices`: a previous fault
    shorter than :func:`detect_changes` can see); ``source`` says what was left out. With no change, the
    incident is the whole input (:func:`~tracekit.analysis.metric_changes.metric_incident_periods` then searches the
    metrics beside the spans, when given).

    **A found baseline is acceptable** when, after those cuts, it holds

    - enough requests: ``min_baseline`` traces or more;
    - enough time: requests in at least as many buckets as :func:`detect_changes` needs to test a series
      (``attrs["params"]["fewest_buckets"]``, 5 at its default), else whether it was itself normal cannot be
      tested (Nezha OnlineBoutique 05:18: 66 traces over the 14 s before the onset, a fault already running,
      p95 33 s against 0.7 s ten minutes earlier);
    - not itself changed: no change window and no abnormal bucket left in it (the cuts above; what they cannot
      see — a period most of whose buckets are abnormal — stays, since nothing in it is normal to measure
      against).

    When neither the period before nor the periods before and after together are acceptable, ``baseline`` is
    None, ``source`` starts ``"none acceptable ("`` and ``rejected`` says why: nothing is compared with a period
    that may itself be abnormal. A baseline given is not judged here (:mod:`~tracekit.analysis.baseline_check`).

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans of the incident period (not modified).
    baseline : pandas.DataFrame, optional
        Spans of a normal period, if the user has one.
    freq : str, optional
        Bucket of the change detection (default :func:`auto_freq`).
    alpha : float
        Family-wise false-positive rate of the change detection.
    weights : DataFrame, Series or float, optional
        Sampling weights for the change detection.
    min_baseline : int
        Fewest traces of an acceptable found baseline (the period before alone, else with the period after).

    Returns
    -------
    IncidentPeriods

    Raises
    ------
    SpansSchemaError
        ``spans`` or ``baseline`` is not a spans frame.
    ArgumentError
        ``freq``, ``alpha`` or ``min_baseline`` is not one (a bad argument is not "no change found").

    Examples
    --------
    >>> import tracekit as tk
    >>> p = incident_periods(tk.simulate.simulate("db-lock", 600, seed=11).spans)
    >>> p.source  # doctest: +ELLIPSIS
    'the normal period before the change (14:00–14:2... UTC, ... traces; not the ... of the 1 min before the change, ...)'
    >>> p.rejected
    ''
    """
    # checked here: detect_changes' errors below are read as "too little data", and a typo in freq or an alpha of 5
    # said "no change over time found"
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), "incident_periods")
    if baseline is not None:
        require_columns(baseline, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"),
                        "incident_periods (baseline)")
    alpha = share_arg(alpha, "alpha", "incident_periods")
    min_baseline = count_arg(min_baseline, "min_baseline", "incident_periods")
    if freq is not None:
        duration_arg(freq, "freq", "incident_periods")
    # the bucket: the one given, else auto_freq's (about 60 over the data) and, over more than an hour of data, also
    # the finest round bucket of at least a minute within MAX_BUCKETS (a 9-minute incident in 4 hours is under two
    # 5-minute buckets: found at 1 minute, p 0.001, missed at 5). Each try gets alpha / tries (Bonferroni over them)
    freqs = [freq] if freq else _auto_freqs(spans)
    head, changes, freq = None, None, freqs[0]
    for f in freqs:
        try:
            found = _quiet_changes(spans, freq=f, alpha=alpha / len(freqs), weights=weights)
        except TraceKitError:  # too little data to bucket: no change found, the story goes on without one
            found = pd.DataFrame(columns=["route", "metric", "onset", "recovery", "p_value", "requests_affected"])
        top = headline_order(found, f, spans).iloc[0] if len(found) else None
        if changes is None or top is not None and (head is None or (top["p_value"], -float(top["requests_affected"]))
                                                   < (head["p_value"], -float(head["requests_affected"]))):
            head, changes, freq = top, found, f
    # a baseline given is the user's: kept whole, but a change of its own is said (db-lock hours given as baselines:
    # 12 of 12 flagged, stationary hours 0 of 12, checkout-baseline none)
    given_changed = _without_abnormal_buckets(baseline, pd.Timedelta(freq))[1] if baseline is not None else ""
    if head is None:
        # no series tested (detect_changes' n_series 0, or too little data to bucket): no change was looked for, so
        # "no change over time found" was untrue of a one-trace file, beside postmortem's "Too few requests (1) to look
        # for an onset"
        searched = bool((changes.attrs.get("params") or {}).get("n_series", 0)) if changes is not None else False
        source = ("the baseline given" if baseline is not None else
                  # (in the requests: a change found in cold starts, beside it in "When", read as contradicted)
                  "none (no baseline given and no change over time found in the requests' latency or errors)"
                  if searched else
                  "none (no baseline given, and too little data to look for a change over time)")
        return IncidentPeriods(spans, baseline, source, None, changes, freq, given_changed=given_changed)
    split = split_by_change(spans, head)
    if baseline is not None:
        base, source, rejected = baseline, "the baseline given", ""
    else:
        base, source, rejected, rising_from = found_baseline(spans, split, changes, freq, alpha, weights, min_baseline,
                                                              head)
    return IncidentPeriods(split.incident, base, source, head, changes, freq, rejected, given_changed,
                           rising_from if baseline is None else None)


def found_baseline(spans: pd.DataFrame, split: ChangeSplit, changes: pd.DataFrame, freq: str, alpha: float,
                    weights: Any, min_baseline: int, head: pd.Series | None = None
                    ) -> tuple[pd.DataFrame | None, str, str, pd.Timestamp | None]:
    """The baseline :func:`incident_periods` finds around the headline change (its docstring, "acceptable"), the
    words of ``source``, and why none was acceptable ("" when one was; the baseline is then None). The period before
    the change also loses the requests that were already rising into it (:func:`_rising_into`, the ``head`` change's
    route and metric), after the other change windows and abnormal buckets; the last item is the time they start from
    (None when none were)."""
    fewest = int((changes.attrs.get("params") or {}).get("fewest_buckets", 5))
    step = pd.Timedelta((changes.attrs.get("params") or {}).get("freq", freq))
    # the onset and recovery are known to a bucket: the bucket before the onset may hold the change's first requests
    # and the one from the recovery its last, so neither is "normal" (fault lab, 10 s buckets, faults at 14:05:00: an
    # onset found at 14:05:10 or 14:05:20 in 5 of 30 windows put 5-15 of the fault's traces in a baseline of ~305)
    change, split = split, split_by_change(spans, (split.onset - step, pd.NaT if split.recovery is pd.NaT else
                                                   split.recovery + step))
    either_side = f" and the {_step_text(step)} either side"
    # the period before alone, else before and after together (a change going at the data's start has no before)
    tries = [True] if split.after.empty else [False] if split.before.empty else [True, False]
    why = ""
    for alone in tries:
        base, left_out, cuts = _without_other_changes(split.before if alone else split.normal, freq, alpha, weights)
        base, abnormal = _without_abnormal_buckets(base, step)
        # what is left before the onset may still be rising into it: the last of it left out too
        base, rising, rising_from = _rising_into(base, head, alpha) if head is not None else (base, "", None)
        # a change of the headline's route found in the period before and running to its end ran into the onset: the
        # change began there (a ramp whose first minutes stood out on their own: 2 of 10 seeds of the one above)
        adjoining = [c[2] for c in cuts if alone and head is not None and c[0] == head.get("route") and c[3] is pd.NaT]
        rising_from = min([*adjoining, *([rising_from] if rising_from is not None else [])], default=None)
        left_out = "; ".join(x for x in (left_out.removeprefix("left out: "), abnormal, rising) if x)
        why = _unacceptable(base, step, fewest, min_baseline)
        if not why:
            break
    n_base = base["trace_id"].nunique()
    n_before = split.before["trace_id"].nunique()
    n_before_onset = change.before["trace_id"].nunique()
    # a period's text ends at its last instant, as a window of requests does ("14:30–14:59 UTC" of requests started up
    # to 14:59:41): its bound, said, read "14:00–14:29 UTC" for a period that holds nothing of 14:29 (the minute before
    # the change, left out and said so), beside the metrics' "14:00–14:28 UTC" of the same spans
    what = (f"the period before the change ({window_text(spans['start'].min(), _before(split.onset))})" if alone else
            f"the {'periods before and after' if n_before else 'period after'} the change (outside "
            f"{window_text(change.onset, change.recovery)}{either_side})")
    if why:  # said first by postmortem: nothing is ranked against a period that may not be normal
        rejected = f"{what}: {why}" + (f"; left out: {left_out}" if left_out else "")
        return None, f"none acceptable ({rejected})", rejected, None
    # a period ending in buckets where no span at all was collected, up to the onset, ends where spans stopped and
    # says the gap (Nezha OnlineBoutique 04:27: "04:19:19–04:27:15 UTC, 533 traces" of traces that started
    # 04:19:19–04:20:30, none in the 6¾ minutes before the change)
    gap = next((g for g in changes.attrs.get("no_data_windows", []) if g[1] == change.onset), None)
    if alone and gap is not None:
        source = (f"the normal period before the change ({window_text(spans['start'].min(), _before(gap[0]))}, "
                  f"{plural(n_base, 'trace')}; no span collected in {window_text(*gap)}, up to the change")
    elif alone:
        source = f"the normal period before the change ({window_text(spans['start'].min(), _before(split.onset))}, {plural(n_base, 'trace')}"
        # the gap the window's end leaves before the onset, said (it read "14:00–14:29 UTC" beside "started at 14:30")
        n_guard = n_before_onset - split.before["trace_id"].nunique()
        if n_guard:
            source += (f"; not the {plural(n_guard, 'trace')} of the {_step_text(step)} before the change, which may "
                       "hold its first requests")
    else:
        # "before and after" only when both hold traces: a change already going at the data's start has no before
        sides = "periods before and after" if n_before else "period after"
        source = (f"the normal {sides} the change (outside "
                  f"{window_text(change.onset, change.recovery)}{either_side}, {plural(n_base, 'trace')}")
    return base, source + (f"; left out: {left_out})" if left_out else ")"), "", rising_from


def _before(bound: Any) -> pd.Timestamp:
    """The last instant before ``bound`` (an exclusive end: a bucket's start), the end a period's text says."""
    return pd.Timestamp(bound) - pd.Timedelta(1, "ns")


def _bucket_of(times: pd.Series, step: pd.Timedelta) -> np.ndarray:
    """Each time's bucket of ``step`` (epoch-aligned, as :func:`~tracekit.timeline` floors times)."""
    return ns(times) // step.value


def _without_abnormal_buckets(base: pd.DataFrame, step: pd.Timedelta) -> tuple[pd.DataFrame, str]:
    """The baseline less its buckets in which a route's requests were slower or failed more than in its other
    buckets beyond chance (:func:`~tracekit.core.stats.normal_slices`, the rule ``rank_causes`` uses to leave a
    previous incident's minutes out of a baseline's limits: a bucket holding more requests above the median bucket's
    p95, or more failures, than chance allows, while such buckets hold fewer than half the requests), and words
    ("" when none). :func:`detect_changes` finds a change of about :data:`SHORTEST_CHANGE` buckets or more: a
    previous fault's last 2 minutes at the start of the period (4 buckets of 30 s, 300 ms against 10 ms, one route at 1
    request a second) stayed "normal" in 33 of 40 seeds, the baseline's p95 320 ms; now in 0 of 40, p95 12 ms."""
    if base.empty:
        return base, ""
    rows = request_rows(base, "route")
    if not len(rows):
        return base, ""
    b = _bucket_of(rows["time"], step)
    sl = b - b.min()
    code, _ = pd.factorize(rows["route"].astype(object), use_na_sentinel=False)  # a missing route is one route
    n_g = int(code.max()) + 1
    lat = rows["latency_ms"].to_numpy(dtype=float, na_value=np.nan)
    failed = rows["failed"].to_numpy(dtype=float, na_value=np.nan)
    keep = normal_slices(np.r_[code, code + n_g], np.r_[lat, failed], np.r_[sl, sl], 2 * n_g, 0.95)
    bad_rows = ~(keep[:len(rows)] & keep[len(rows):])
    if not bad_rows.any():
        return base, ""
    bad_buckets = np.unique(b[bad_rows])
    out_ids = set(rows["trace_id"].astype(object)[np.isin(b, bad_buckets)])
    tid = base["trace_id"].astype(object)
    gone = tid.isin(out_ids).to_numpy(dtype=bool)
    t0 = pd.Timestamp(int(bad_buckets.min()) * step.value, tz="UTC")
    t1 = pd.Timestamp(int(bad_buckets.max() + 1) * step.value, tz="UTC")
    words = (f"{plural(len(out_ids), 'trace')} in {plural(len(bad_buckets), 'bucket')} of {_step_text(step)} in "
             f"{window_text(t0, t1)} where a route's requests were slower or failed more often than in the period's "
             "other buckets beyond chance")
    return base[~gone], words


def _step_text(step: pd.Timedelta) -> str:
    s = step.total_seconds()
    return f"{s:g} s" if s < 60 else f"{s / 60:g} min" if s < 3600 else f"{s / 3600:g} h"


def _unacceptable(base: pd.DataFrame, step: pd.Timedelta, fewest: int, min_baseline: int) -> str:
    """Why a found baseline is not acceptable ("" when it is): fewer than ``min_baseline`` traces, or requests in
    fewer than ``fewest`` buckets (the fewest :func:`detect_changes` tests a series on: a shorter period cannot be
    checked for a change of its own — Nezha OnlineBoutique 05:18, 66 traces over 14 s of a fault already running)."""
    n = int(base["trace_id"].nunique())
    if n < min_baseline:
        return f"{plural(n, 'trace')}, fewer than {min_baseline}"
    rows = request_rows(base, None)
    k = int(len(np.unique(_bucket_of(rows["time"], step)))) if len(rows) else 0
    if k < fewest:
        return (f"{plural(n, 'trace')} whose requests started in {plural(k, 'bucket')} of {_step_text(step)}, fewer "
                f"than the {fewest} a change needs to be tested on, so it cannot be known to be normal")
    return ""


#: how :func:`detect_changes`' UserWarning that no series could be tested begins (callers that say it in their own
#: words filter it by this)
UNTESTED_WARNING = "detect_changes: no series could be tested"


def _quiet_changes(spans: pd.DataFrame, *, freq: str, alpha: float, weights: Any) -> pd.DataFrame:
    """:func:`detect_changes` by route, p95 and error rate, as the incident search runs it: without its warning that
    no series could be tested (the search says so itself: postmortem's "too few time buckets", from ``attrs``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=UNTESTED_WARNING, category=UserWarning)
        return detect_changes(spans, by="route", metric=("p95_ms", "error_rate"), freq=freq, alpha=alpha,
                              weights=weights)


#: most further change windows :func:`incident_periods` takes out of a baseline it found
_MAX_OTHER_CHANGES = 3
#: permutations of :func:`_rising_into`'s test, and the fewest requests on either side of its split
_RISING_PERMS = 999
_RISING_MIN = 5


def _rising_into(before: pd.DataFrame, head: pd.Series, alpha: float) -> tuple[pd.DataFrame, str, pd.Timestamp | None]:
    """A found baseline less the last of its requests before the headline change's onset when they were already worse
    than its earlier ones beyond chance — a change that grew into its onset (a ramp) rather than stepping — and words ("" when not).

    The headline route's requests before the onset, in time order, are ranked by the headline metric's reading (the
    latency for a percentile, failed or not for the error rate); the statistic is the largest standardised rank sum of
    the last ``L`` requests against the earlier ones (``L`` and ``n − L`` at least :data:`_RISING_MIN`, ``L`` at most half
    of them: the normal regime is the majority of the period), one-sided
    (worse), its p-value from :data:`_RISING_PERMS` permutations of the ranks. At ``p ≤ alpha`` the traces from the
    first of those ``L`` requests up to the onset are not normal: they are left out. It runs after the other change
    windows and the abnormal buckets are taken out (a period before the onset all of it abnormal goes whole, not its
    last seconds only: Nezha OnlineBoutique 05:18, 66 traces in the 15 s bucket before the onset). :func:`detect_changes` sees a window of about
    :data:`SHORTEST_CHANGE` buckets at bucket level over every route and metric; a lock growing 50 ms every 5 minutes
    from 14:20, found from 14:30, left 14:20–14:30 in "the normal period before the change" in 6 of 10 seeds (its
    baseline split in two then scored like the incident, and the cause was said to be chance in 2). Returns the
    frame, the words and the time the worse requests start from (None when nothing is left out)."""
    route, metric = head.get("route"), str(head.get("metric", ""))
    if not isinstance(route, str) or not (metric == "error_rate" or metric.startswith("p")):
        return before, "", None
    onset = pd.Timestamp(head["onset"])
    rows = request_rows(before, "route")
    rows = rows[((rows["route"].astype(object) == route) & (rows["time"] < onset)).to_numpy(dtype=bool)]
    x = (rows["failed"].to_numpy(dtype=float, na_value=np.nan) if metric == "error_rate"
         else rows["latency_ms"].to_numpy(dtype=float, na_value=np.nan))
    t = ns(rows["time"])
    ok = ~np.isnan(x)
    x, t = x[ok], t[ok]
    order = np.argsort(t, kind="stable")
    x, t = x[order], t[order]
    n = len(x)
    if n < 2 * _RISING_MIN or np.ptp(x) == 0:
        return before, "", None
    r = average_ranks(x)
    r = r - r.mean()
    # at most half of them: the normal regime is the majority of the period before (the complement reading — its first
    # few requests faster than the rest — is no ramp into the change: slow-deploy seed 1 of benchmarks/acceptance.py,
    # "the last 195 of its 214 requests before it, p = 0.009" left 35 traces, no baseline, no cause ranked)
    L = np.arange(_RISING_MIN, min(n - _RISING_MIN, n // 2) + 1)
    scale = np.sqrt(L * (n - L) / n)

    def stat(m: np.ndarray) -> np.ndarray:  # rows of rank orders -> each row's largest Z over the last-L sums
        tails = np.cumsum(m[:, ::-1], axis=1)[:, L - 1]
        return (tails / scale).max(axis=1)

    z = stat(r[None, :])[0]
    rng = np.random.default_rng(0)
    hits = 0
    for a in range(0, _RISING_PERMS, 100):  # chunks of permutations: memory linear in requests
        k = min(100, _RISING_PERMS - a)
        hits += int((stat(rng.permuted(np.tile(r, (k, 1)), axis=1)) >= z - 1e-9).sum())
    p = (1 + hits) / (1 + _RISING_PERMS)
    if p > alpha:
        return before, "", None
    best = int(L[np.argmax(np.cumsum(r[::-1])[L - 1] / scale)])
    t0 = pd.Timestamp(int(t[n - best]), tz="UTC")
    first = before.groupby(before["trace_id"].astype(object), sort=False)["start"].transform("min")
    late = ((first >= t0) & (first < onset)).to_numpy(dtype=bool)
    n_out = int(before["trace_id"][late].nunique())
    worse = "failing more often" if metric == "error_rate" else "slower"
    words = (f"{window_text(t0, head['onset'])}, {plural(n_out, 'trace')} where {route} requests were already {worse} "
             f"than earlier, rising into the change (the last {best:,} of its {n:,} requests before it, {p_value_text(p, dict(n_perm=_RISING_PERMS, n_series=1))})")
    return before[~late], words, t0


#: the least rise of a route's latency percentile, as a share of its value before, that a change window found in a
#: baseline must show (its interval's lower end) to be left out of it as "another change"
MATERIAL_RISE = 0.10


def _material(found: pd.DataFrame) -> np.ndarray:
    """Which :func:`detect_changes` rows are changes a found baseline leaves out: every error-rate change, and a
    latency change whose interval's lower end is at least :data:`MATERIAL_RISE` of its value before. The bundled
    deploy-regression hour (no change but the deploy at 14:30, by construction) had its /products p95 "changed"
    67.3 → 73.7 ms from 14:18 (p 0.009 at alpha 0.01; interval +0.4 to +23.4 ms), and "the normal period before the
    change" lost 204 of its 570 traces with words that sent a reader to /products."""
    lat = found["metric"].astype(str).str.match(r"p\d").to_numpy(dtype=bool)
    lo = found["delta_lo"].to_numpy(dtype=float, na_value=np.nan)
    before = found["before"].to_numpy(dtype=float, na_value=np.nan)
    return ~lat | np.isnan(lo) | np.isnan(before) | (lo >= MATERIAL_RISE * before)  # no interval: as before


def _without_other_changes(base: pd.DataFrame, freq: str, alpha: float, weights: Any) -> tuple[pd.DataFrame, str, list]:
    """The period outside the headline change less any other change window in it, and words saying what was left
    out ("" when nothing). :func:`detect_changes` finds one window per route and metric, so a second incident of
    the headline's route (or a smaller one of another route) stayed in "the normal period": 100 traces three times
    slower among 800 made the baseline's p95 that of the incident. Each further window is found as the first one
    (route p95 and error rate, the same bucket and alpha), at most :data:`_MAX_OTHER_CHANGES` of them; the last item
    lists each window left out as (route, metric, onset, recovery), recovery NaT when it ran to the period's end."""
    parts: list[str] = []
    cuts: list[tuple] = []
    for _ in range(_MAX_OTHER_CHANGES):
        if base["trace_id"].nunique() < 2:
            break
        try:
            found = _quiet_changes(base, freq=freq, alpha=alpha, weights=weights)
        except TraceKitError:
            break
        found = found[_material(found)]
        if not len(found):
            break
        top = headline_order(found, freq, base).iloc[0]
        cut = split_by_change(base, top)
        n_out = cut.incident["trace_id"].nunique()
        if not n_out:
            break
        base = cut.normal
        cuts.append((top["route"], top["metric"], cut.onset, cut.recovery))
        end = cut.recovery if cut.recovery is not pd.NaT else cut.incident["start"].max()
        parts.append(f"{window_text(cut.onset, end)}, {plural(n_out, 'trace')} of another change ({top['route']} "
                     f"{top['metric']})")
    return base, ("left out: " + "; ".join(parts)) if parts else "", cuts
