"""Metric evidence for root-cause ranking: which hosts' and services' metrics moved in the incident, which did not.

:func:`metric_evidence` compares, per key (``service`` or ``host``, the keys metrics share with spans)
and metric name, the points of the incident window with the points of the baseline window — windows
given as times or as the spans frames :func:`~tracekit.rank_causes` compares (first start to last
end of each). A point is in the window that holds the middle of the interval its value describes
(:func:`~tracekit.analysis.metric_series.described_times`: the scrape interval before a gauge's stamp, the
period after a CloudWatch stamp, a delta point's own interval), not its stamp: a scraped CPU gauge shows a
rise a minute after it began. A series with fewer than :data:`MIN_BASELINE_POINTS` (10) points in the baseline
window — a baseline of traces a few scrape intervals long — is made up to 10 with its latest points before it
(never the incident's; not when the windows overlap), said in ``baseline_widened``. The rule (``benchmarks/bench_rank_causes.py`` scores it):

- the baseline's **reach** is its range [min, max] widened to :data:`Z_OUTSIDE` (3.5) robust standard
  deviations around its median (1.4826 × MAD: Iglewicz and Hoaglin's modified z-score outlier
  threshold); an incident point is **outside** when it is beyond that reach. With ``n`` baseline
  points an exchangeable new point is outside the range, and so outside the reach, with probability
  at most ``c = 2 / (n + 1)`` (order statistics, as ``rank_causes``' ``slower`` evidence). The median (and the
  MAD's) is ``np.median``'s, the mean of the two middle points of an even count — not the observed value
  (inverted_cdf, :func:`~tracekit.core.percentile`) DESIGN asks of percentiles: those describe requests, a value one
  of them waited; this is the middle of a series of readings, the centre of a two-sided reach. The lower middle
  reading makes the reach lean down: a gauge flipping between 10 and 20 (10 readings) had median 10 and its mirror
  image −20, so a reading of 21 weighed 0.091 and its mirror −21 only 0.05 (``tests/test_s41_metrics2.py``);
  Iglewicz and Hoaglin's 1.4826 is for this median too;
- each point outside weighs the **size** of its move: the share of its distance from the median
  that lies beyond the reach, ``1 − reach / distance``, and at most the distance relative to the
  median's level, ``distance / |median|`` (capped at 1: a doubling, a drop to 0 or a rise from 0 is a
  full move). A 1 % step past a flat or constant range weighs at most 0.01, a 10× jump nearly 1; a
  series that stays constant (a broken counter at 0) is never outside;
- a metric's ``evidence`` is the weighed share of incident points outside, **shrunk** with ``prior``
  pseudo-points at the chance rate (``rank_causes``' ``prior``, 10 by default, as each trace share
  is) and counted beyond chance, scaled to [0, 1]:
  ``max(0, (Σ size + c · prior) / (k + prior) − c) / (1 − c)`` for ``k`` incident points. A
  2-minute incident with one point a minute holds 2 points: each metric weighs at most 2 / 12 ≈ 0.17,
  not as much as a share measured on hundreds of spans. ``moved`` is evidence > 0. A metric that did
  not move is kept as a row (``moved`` False, ``steady`` True): it speaks against a cause there.

**Histograms** (``histogram`` / ``exponential_histogram`` points with delta temporality) are read by the
observations they count (requests, for ``http.server.request.duration``), not by one mean per point — a point
holding 1 request would weigh as much as one holding 1,000. Per series the baseline's bucket counts are
pooled; the **edge** is the bucket's upper bound at or above the baseline's ``q``-quantile (0.95, the
observation ranked ⌈q·N⌉ of N, inverted_cdf as :func:`~tracekit.core.percentile`); the incident's
observations above it are counted against the chance of exceeding it, (N − K + 1) / (N + 1) for the K
baseline observations at or below it (:func:`~tracekit.core.exceed_chance`, about 1 − q), and
shrunk with ``prior`` pseudo-observations at that chance (:func:`~tracekit.core.share_beyond_chance`) —
``rank_causes``' ``slower`` evidence for spans, on bucket counts — then scaled as above:
``max(0, (x + c · prior) / (n + prior) − c) / (1 − c)`` for ``x`` of ``n`` incident observations above the
edge. Only a rise counts (as ``slower``). Points whose bucket bounds differ within a series are re-binned
exactly to the edges none of them straddles with observations: an edge is kept when every point has it or
holds nothing in the bucket around it (an exponential histogram's buckets beyond its offsets hold nothing;
points of different scales meet at the coarser scale's edges, compared to 12 significant digits). Points
without usable buckets (missing, counts not one more than bounds, negative counts, bounds not increasing)
are left out of the pooled counts; a series falls back to its point means (``basis`` ``points``) when
either window has no counted observation, when no edge is left, when the baseline's ``q``-quantile lies
in the open top bucket, or when it holds cumulative histograms or summaries. A bucket bounds what can be seen:
``edge_below`` is the lower bound of the bucket holding the baseline's ``q``-quantile and ``same_bucket`` says
whether the incident's lies in it too — then a move within it (a p95 142 → 210 ms inside 0.1–0.25 s) counts nothing,
and the words say so rather than let a small share read as "not moved".

Each metric belongs to a **family** read from its name: ``cpu``, ``memory``, ``network``,
``latency`` (the component's own: server, request duration), ``caller latency`` (what it waits for
as a client: a symptom of its callees, not counted in its score), ``errors``, ``node`` (names
starting with ``Node``/``node.``: the machine under the pod, shared by its neighbours, not counted)
and ``other``. :func:`metric_scores` gives one score per key: the sum over the counted families of
each family's mean evidence — each family is one kind of evidence, added as ``rank_causes`` adds
its trace evidences, and a family with many metrics (P90, P95, P99) counts once. In
:func:`join_metric_evidence` (``rank_causes(metrics=)``) the ``cpu`` and ``latency`` families of a component
together count at most as much as the traces' ``slower`` of the component — its own time beyond chance —
where the traces measured that: a request duration is its own time plus its waits on its callees (the rest
of its rise is its callees'), and a CPU rise its spans' own time did not show (a noisy neighbour's batch
job) did not slow the requests. On the fault lab (``benchmarks/bench_fault_lab.py --seeds 40``, 200 faults),
traces + metrics AC@1 went from 50 % to 60 % with this (traces only: 60 %); the noisy neighbour topped 44 of
the 100 noisy fault windows, now 12 (traces only: 3).

On the Nezha fault days (``python benchmarks/bench_rank_causes.py --no-speed``; docs/guide.md, "With
metrics"), service level, AC@1 / AC@3 / AC@5 traces only → traces + metrics (2026-11-24, with the cap of CPU and
latency at the traces' own time): OnlineBoutique (20 faults) 100 / 100 / 100 % both ways, TrainTicket (28)
17.9 / 21.4 / 32.1 % → 17.9 / 25.0 / 32.1 % (Nezha's metrics are gauges: the histogram rule above leaves these
unchanged); with points placed by the interval they describe and short baselines made up to 10 points
(2026-11-25), 17.9 / 21.4 / 35.7 %, and TrainTicket's four CPU faults lead the runner-up by 0.22–0.70 instead of
0.05–0.52 (they had no metric evidence: the stressor's minute was stamped after the incident's last span).

>>> import tracekit as tk
>>> t = pd.date_range("2024-01-01", periods=14, freq="1min", tz="UTC")
>>> cpu = [5.0, 6, 5, 7, 6, 5, 6, 5, 7, 6, 5, 6, 90, 92]
>>> m = tk.metrics_from_columns({"time": t, "name": "CpuUsageRate", "value": cpu, "service": "cart"})
>>> ev = metric_evidence(m, window=(t[11], t[13]), baseline_window=(t[0], t[11]))  # t[12]: the minute before 00:12
>>> ev[["service", "name", "family"]].iloc[0].tolist(), ev["moved"].tolist(), round(float(ev["evidence"].iloc[0]), 3)
(['cart', 'CpuUsageRate', 'cpu'], [True], 0.154)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..core import exceed_chance, number_arg, result_table, share_beyond_chance
from ..core.streams import stream_codes
from ..core.words import percent
from ..errors import ArgumentError
from ..metrics_schema import validate_metrics
from ..schema import shared_attr
from .metric_series import METRIC_KEYS, described_times, known_names, point_values, require_one_measure, series_codes

__all__ = ["metric_evidence", "metric_scores", "metric_family", "join_metric_evidence", "METRIC_EVIDENCE",
           "METRIC_SCORES", "FAMILIES", "COUNTED_FAMILIES", "Z_OUTSIDE", "HISTOGRAM_KINDS", "NEGLIGIBLE_EVIDENCE", "MIN_BASELINE_POINTS", "unit_words",
           "metric_chance_score"]

#: robust standard deviations (1.4826 × MAD) around the baseline's median an incident point must pass, beyond the
#: baseline's range, to be outside: Iglewicz and Hoaglin's outlier threshold for the modified z-score (1993)
Z_OUTSIDE = 3.5

#: evidence under which a metric's move is said to be negligible, not a move: less than every incident point stepping
#: 1 % past a flat baseline weighs (the module docstring's rule). It still enters the score as it is (``moved`` is
#: evidence > 0); only the words leave it out of what "moved"
NEGLIGIBLE_EVIDENCE = 0.01

#: fewest points of a series its baseline holds: a baseline window with fewer (a baseline of traces shorter than that
#: many scrape intervals: Nezha's TrainTicket traces fill 1–2 minutes of a 10-minute window) takes the series' latest
#: points before it — never the incident's — to make this many. With n points a new one falls outside their range by
#: chance 2/(n + 1): 0.67 for 2 points, 0.18 for 10
MIN_BASELINE_POINTS = 10

#: metric kinds read by the observations their buckets count (delta temporality)
HISTOGRAM_KINDS = ("histogram", "exponential_histogram")

FAMILIES = ("cpu", "memory", "network", "latency", "caller latency", "errors", "node", "other")
#: families whose movement counts towards a key's score (node metrics describe the machine under it, caller
#: latency what it waits for — both are there as evidence, not as its own saturation)
COUNTED_FAMILIES = ("cpu", "memory", "network", "latency", "errors", "other")

_FAMILY_RULES = (
    ("node", re.compile(r"^(node[._ ]|node(?=[A-Z]))", re.I)),
    ("caller latency", re.compile(r"client.*(latency|duration)|(latency|duration).*client", re.I)),
    ("cpu", re.compile(r"cpu|processor|throttl", re.I)),
    ("memory", re.compile(r"mem|heap|rss|oom|gc", re.I)),
    ("network", re.compile(r"net|bytes|packet|receive|transmit|tcp|socket", re.I)),
    ("latency", re.compile(r"latency|duration|response.?time|elapsed", re.I)),
    ("errors", re.compile(r"error|fail|fault|success|5xx|4xx|status", re.I)),
)

METRIC_EVIDENCE = result_table("metric_evidence", "one row per (key, metric name) with points in the baseline window", [
    ("name", "string", "", "metric name"),
    ("family", "string", "", "cpu / memory / network / latency / caller latency / errors / node / other (from the name)"),
    ("baseline_points", "int64", "points", "points in the baseline window, or MIN_BASELINE_POINTS when it held fewer and "
                                           "the latest earlier points were taken (baseline_widened)"),
    ("baseline_widened", "bool", "", "the baseline window held fewer than MIN_BASELINE_POINTS points of the series: its "
                                     "latest points before the window (outside the incident's) were added to make that many"),
    ("incident_points", "int64", "points", "points in the incident window"),
    ("hosts", "int64", "hosts", "distinct hosts whose points the series pools (0 by host, or when no point names one): "
                                "its means and points are over all of them"),
    ("baseline_median", "float64", "metric unit", "median of the baseline points (np.median: the mean of the two "
                                                  "middle points of an even count, the centre of the reach)"),
    ("incident_mean", "float64", "metric unit", "mean of the incident points"),
    ("baseline_mean", "float64", "metric unit", "mean of the baseline points (like with like for the change: a skewed "
                                                "series' mean stands well above its median on both sides)"),
    ("change", "float64", "", "(incident_mean − baseline_mean) / |baseline_mean| (NaN when that mean is 0)"),
    ("baseline_spread", "float64", "metric unit", "robust standard deviation of the baseline points: 1.4826 × MAD"),
    ("reach_low", "float64", "metric unit", "lower end of the baseline's reach: min(smallest point, median − Z_OUTSIDE × spread); "
                                            "NaN on the observations basis"),
    ("reach_high", "float64", "metric unit", "upper end of the baseline's reach: max(largest point, median + Z_OUTSIDE × spread); "
                                             "NaN on the observations basis"),
    ("outside_share", "float64", "", "share of incident points outside the baseline's reach (observations basis: share of the "
                                     "incident's observations above edge)"),
    ("size", "float64", "", "mean over incident points of the share of each one's distance from the median beyond the reach, "
                            "at most distance / |median| and 1 (0 inside); observations basis: each observation above edge "
                            "weighs 1, so outside_share"),
    ("evidence", "float64", "", "the points' sizes shrunk with prior pseudo-points at the chance 2/(n+1) of n baseline "
                                "points, beyond that chance, scaled to [0, 1] (observations basis: the observations above "
                                "edge shrunk with prior pseudo-observations at the chance of exceeding it)"),
    ("moved", "bool", "", "evidence > 0"),
    ("steady", "bool", "", "no move either way: evidence 0 and, on the observations basis (which counts a rise only), "
                           "the point means inside the baseline's reach as on the points basis; a histogram whose "
                           "observations fell is neither moved nor steady"),
    ("direction", "string", "", "up / down (incident mean against the baseline mean), <NA> when equal"),
    ("basis", "string", "", "what evidence counts: points (gauges, rates, summaries, histograms falling back to point "
                            "means) or observations (histogram bucket counts)"),
    ("baseline_count", "float64", "observations", "observations the baseline's histogram points count in usable buckets "
                                                  "(NaN on the points basis)"),
    ("incident_count", "float64", "observations", "observations the incident's histogram points count in usable buckets "
                                                  "(NaN on the points basis)"),
    ("edge", "float64", "metric unit", "bucket bound at or above the baseline observations' q-quantile (NaN on the points basis)"),
    ("baseline_outside_share", "float64", "", "share of the baseline's observations above edge, what outside_share is "
                                              "held against (NaN on the points basis)"),
    ("edge_below", "float64", "metric unit", "lower bound of the bucket (edge_below, edge] holding the baseline "
                                             "observations' q-quantile (0 below the first bound when it is positive, "
                                             "-inf when not; NaN on the points basis)"),
    ("same_bucket", "boolean", "", "the incident observations' q-quantile lies in that bucket too: a move within it "
                                   "cannot be seen (<NA> on the points basis)"),
])

METRIC_SCORES = result_table("metric_scores", "one row per key with metric evidence", [
    ("metric_score", "float64", "", "sum over the counted families (COUNTED_FAMILIES) of each family's mean evidence"),
    ("top_metric", "string", "", "the counted metric with the most evidence, with its baseline median and incident mean"),
    ("top_metric_name", "string", "", "that metric's name alone"),
    ("moved", "int64", "metrics", "metrics that moved (every family)"),
    ("steady", "int64", "metrics", "metrics that did not move either way (every family; the steady column: a "
                                   "histogram that fell is neither moved nor steady)"),
])


def metric_family(name: str) -> str:
    """The family of a metric, read from its name (see the module docstring).

    Parameters
    ----------
    name : str
        A metric name.

    Returns
    -------
    str
        One of :data:`FAMILIES`.

    Examples
    --------
    >>> [metric_family(n) for n in ("CpuUsageRate", "PodClientLatencyP90", "PodServerLatencyP90", "NodeCpuUsageRate",
    ...                             "http.server.request.duration", "PodWorkload")]
    ['cpu', 'caller latency', 'latency', 'node', 'latency', 'other']
    """
    for fam, rx in _FAMILY_RULES:
        if rx.search(name):
            return fam
    return "other"


def _window(w: Any, what: str) -> tuple[int, int]:
    if isinstance(w, pd.DataFrame):
        if w.empty or "start" not in w.columns:
            raise ArgumentError(f"metric_evidence: {what} spans frame is empty or has no start column")
        end = w["end"] if "end" in w.columns else w["start"]
        return int(w["start"].min().value), int(end.max().value)
    try:
        a, b = (pd.Timestamp(x) for x in w)
    except (TypeError, ValueError, OverflowError) as e:
        raise ArgumentError(f"metric_evidence: {what} must be (start, end) or a spans frame, got {w!r:.200}") from e
    if pd.isna(a) or pd.isna(b):  # (None, t) was NaT: the int64 minimum as a bound, and silently no rows
        raise ArgumentError(f"metric_evidence: {what} must be two times (start, end), got {w!r:.200}")
    a, b = (t if t.tzinfo is not None else t.tz_localize("UTC") for t in (a, b))
    if b < a:
        raise ArgumentError(f"metric_evidence: {what} ends before it starts ({a}, {b})")
    return a.value, b.value


def _point_evidence(b: np.ndarray, x: np.ndarray, prior: float) -> dict[str, float]:
    """The module docstring's rule for one series: baseline points ``b`` (≥ 2), incident points ``x`` (≥ 1)."""
    n, k = len(b), len(x)
    med = float(np.median(b))
    spread = 1.4826 * float(np.median(np.abs(b - med)))
    lo, hi = min(float(b.min()), med - Z_OUTSIDE * spread), max(float(b.max()), med + Z_OUTSIDE * spread)
    up, down = x > hi, x < lo
    dist = np.abs(x - med)  # > 0 wherever a point is outside (the reach holds the median)
    size = np.zeros(k)
    size[up] = 1.0 - (hi - med) / dist[up]
    size[down] = 1.0 - (med - lo) / dist[down]
    if med != 0:  # and no more than the move relative to the level (a rise from 0 is a full move)
        size = np.minimum(size, np.minimum(dist / abs(med), 1.0))
    c = 2.0 / (n + 1)
    ev = max(0.0, share_beyond_chance(float(size.sum()), k, c, prior)) / (1.0 - c)
    return {"baseline_median": med, "baseline_spread": spread, "reach_low": lo, "reach_high": hi,
            "outside_share": float((up | down).mean()), "size": float(size.mean()), "evidence": ev}


def _bounds(key: tuple) -> np.ndarray | None:
    """A histogram's bucket bounds when usable (finite, increasing), to 12 significant digits: an exponential
    histogram's edge base^i of one scale is the edge base'^(2i) of the next up to rounding ((2^(1/2))^2 =
    2.0000000000000004), and must meet it."""
    try:
        bounds = np.asarray(key, dtype=float)
    except (TypeError, ValueError):
        return None
    if bounds.ndim != 1 or not np.isfinite(bounds).all():
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # subnormal bounds: left out below
        step = 10.0 ** (11 - np.floor(np.log10(np.abs(np.where(bounds == 0, 1.0, bounds)))))
        bounds = np.round(bounds * step) / step
    return bounds if np.isfinite(bounds).all() and (np.diff(bounds) > 0).all() else None


def _counts(rows: list[Any], n: int) -> np.ndarray:
    """Points' bucket counts as an array (points × n); a point whose counts are not n finite numbers ≥ 0 is a row of NaN."""
    try:
        c = np.array(rows, dtype=float)
        if c.shape != (len(rows), n):
            raise ValueError
    except (TypeError, ValueError):  # ragged or not numbers: one point at a time
        c = np.full((len(rows), n), np.nan)
        for r, x in enumerate(rows):
            try:
                a = np.asarray(x, dtype=float)
            except (TypeError, ValueError):
                continue
            if a.shape == (n,):
                c[r] = a
    c[~(np.isfinite(c) & (c >= 0)).all(axis=1)] = np.nan
    return c


def _bucket_groups(points: list[tuple[int, Any]]) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], int]:
    """Usable histogram points grouped by their bounds: (bounds, counts pooled per side (2 × buckets), buckets holding
    any observation), and how many points were left out (missing buckets, counts not one more than the bounds,
    negative counts...)."""
    by_key: dict[tuple, tuple[list[int], list[Any]]] = {}
    for side, bk in points:
        if not isinstance(bk, dict):
            continue
        try:
            sides, rows = by_key.setdefault(tuple(bk.get("bounds")), ([], []))
        except TypeError:  # no bounds, or bounds that are not a list of numbers
            continue
        sides.append(side)
        rows.append(bk.get("counts"))
    out = []
    used = 0
    for key, (sides, rows) in by_key.items():
        bounds = _bounds(key)
        if bounds is None:
            continue
        c = _counts(rows, len(bounds) + 1)
        ok = ~np.isnan(c[:, 0])
        s = np.asarray(sides)[ok]
        c = c[ok]
        used += len(c)
        if len(c):
            out.append((bounds, np.stack([c[s == 0].sum(axis=0), c[s == 1].sum(axis=0)]), (c > 0).any(axis=0)))
    return out, len(points) - used


def _common_edges(groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """The edges no point's observations straddle: of all the points' edges, those that are an edge of every point or
    lie inside a bucket of it that holds nothing (an exponential histogram's buckets beyond its offsets hold nothing)."""
    union = np.unique(np.concatenate([b for b, _, _ in groups]))
    keep = np.ones(len(union), dtype=bool)
    for bounds, _, held in groups:
        i = np.searchsorted(bounds, union, side="left")  # the point's bucket (bounds[i-1], bounds[i]] holding each edge
        keep &= (bounds[np.minimum(i, len(bounds) - 1)] == union) | ~held[i]
    return union[keep]


def _observation_evidence(points: list[tuple[int, Any]], q: float, prior: float) -> tuple[dict[str, Any] | None, int]:
    """The module docstring's histogram rule for one series: ``points`` are (side, buckets) pairs (0 baseline,
    1 incident); None when the series must fall back to its point means. And the points left out."""
    groups, left_out = _bucket_groups(points)
    if not groups:
        return None, left_out
    # re-binned to the edges no point's observations straddle: each bucket that holds any lies inside one common bucket
    common = groups[0][0] if len(groups) == 1 else _common_edges(groups)
    pooled = np.zeros((2, len(common) + 1))
    for bounds, counts, _ in groups:
        # bucket j of the point, (bounds[j-1], bounds[j]], lies in the common bucket holding its upper end
        at = np.searchsorted(common, np.r_[bounds, np.inf], side="left")
        pooled += np.stack([np.bincount(at, weights=c, minlength=len(common) + 1) for c in counts])
    n_b, n_i = float(pooled[0].sum()), float(pooled[1].sum())
    if n_b <= 0 or n_i <= 0:
        return None, left_out
    cum = np.cumsum(pooled[0])
    j = int(np.argmax(cum >= max(np.ceil(q * n_b), 1.0)))  # the bucket of the observation ranked ⌈q·N⌉
    if j >= len(common):  # in the open top bucket: nothing can be counted above it
        return None, left_out
    c = float(exceed_chance(n_b, q, k=cum[j]))
    x = float(pooled[1][j + 1:].sum())
    ev = max(0.0, share_beyond_chance(x, n_i, c, prior)) / (1.0 - c)
    # the incident's own q-quantile in the same bucket: the histogram cannot tell whether it moved within it (a p95
    # 142 -> 210 ms inside 0.1-0.25 s read "1.7 % above 0.25 s" as if nothing had moved)
    cum_i = np.cumsum(pooled[1])
    same = int(np.argmax(cum_i >= max(np.ceil(q * n_i), 1.0))) == j
    return ({"reach_low": np.nan, "reach_high": np.nan, "outside_share": x / n_i, "size": x / n_i, "evidence": ev,
             "basis": "observations", "baseline_count": n_b, "incident_count": n_i, "edge": float(common[j]),
             "baseline_outside_share": (n_b - float(cum[j])) / n_b,
             "edge_below": float(common[j - 1]) if j > 0 else 0.0 if common[0] > 0 else -np.inf,
             "same_bucket": same}, left_out)


def _repeated_points(m: pd.DataFrame, among: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows of ``among`` that repeat an earlier row's point: the same stream (:func:`~tracekit.core.streams.stream_codes`),
    stamp, start, kind, value and — for a histogram or summary — count, sum, min, max, buckets and quantiles. The stream
    and the rest are read only where (name, service, host, stamp, value) already repeats."""
    out = np.zeros(len(m), dtype=bool)
    rows = np.flatnonzero(among)
    if len(rows) < 2:
        return out
    stamp = m["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)[rows]
    val = v[rows]
    # a sort by series (name, service, host), stamp and value; the stream (resource, attributes: the costly part) is
    # read only where those repeat
    sc = series_codes(m, ("service", "host", "name"))[rows]
    o = np.lexsort((val, stamp, sc))
    ss, ts, vs = sc[o], stamp[o], val[o]
    tie = (ss[1:] == ss[:-1]) & (ts[1:] == ts[:-1]) & (vs[1:] == vs[:-1])
    if not tie.any():
        return out
    cand = rows[o[np.unique(np.r_[np.flatnonzero(tie), np.flatnonzero(tie) + 1])]]
    sub = m.iloc[cand]
    point = {"s": stream_codes(sub), "t": stamp[np.searchsorted(rows, cand)], "v": v[cand]}
    for c in ("start_time", "kind", "temporality", "count", "sum", "min", "max"):
        point[c] = sub[c].astype(object).to_numpy()
    for c in ("buckets", "quantiles"):  # (lazy columns: these cells only) as text
        point[c] = [orjson.dumps(x, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str)
                    for x in sub[c].to_numpy(dtype=object)]
    same = pd.DataFrame(point).duplicated().to_numpy()
    out[cand[same]] = True
    return out


def unit_words(unit: Any) -> str:
    """A metric's unit as said after a number: UCUM's dimensionless ``1`` and a bare annotation (``{operation}``)
    say nothing a reader can use ("0.42 1"), so they are left out; any other unit as given.

    >>> unit_words("s"), unit_words("1"), unit_words("{operation}"), unit_words(None)
    ('s', '', '', '')
    """
    if not isinstance(unit, str):
        return ""
    u = unit.strip()
    return "" if u in ("1", "") or (u.startswith("{") and u.endswith("}")) else u


def metric_evidence(metrics: pd.DataFrame, window: Any, baseline_window: Any, *, by: str = "service",
                    names: str | Sequence[str] | None = None, prior: float = 10.0, q: float = 0.95) -> pd.DataFrame:
    """Per key and metric: did it move in the incident window, against the baseline window?

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame (cumulative sums: :func:`tracekit.metric_rates` first).
    window, baseline_window : (start, end) or pandas.DataFrame
        The incident window and the baseline's, as times (naive: UTC; both ends included) or as spans frames (first start to
        last end).
    by : {"service", "host"}
        The key.
    names : str or list of str, optional
        Metric names to use (default: all).
    prior : float, default 10
        Pseudo-points at the chance rate each metric's share of points outside is shrunk with
        (:func:`~tracekit.rank_causes` passes its own ``prior``); for histograms, pseudo-observations.
    q : float, default 0.95
        Quantile of the baseline's histogram observations whose bucket edge the incident's observations are
        counted above (:func:`~tracekit.rank_causes` passes its own ``q``).

    Returns
    -------
    pandas.DataFrame
        The key column then :data:`METRIC_EVIDENCE`'s columns, one row per (key, name) with at least two
        baseline points and one incident point (a point without a finite value — NaN, ±Inf — counts in neither
        window); most evidence first. ``attrs["params"]``: ``by``, ``names``,
        ``prior``, ``q``; ``attrs["windows"]``: the windows compared;
        ``attrs["repeated_points"]``: points left out as copies of another (one stream, stamp and value: counted
        once); ``attrs["histogram_points_without_buckets"]``: histogram points of these rows whose buckets could not be
        counted (missing, counts not one more than bounds, negative counts): in the point means only.

    Raises
    ------
    ArgumentError
        Bad ``by``, windows, ``prior`` or ``q``; a cumulative sum; a series with points in more than one unit.

    Examples
    --------
    >>> import tracekit as tk
    >>> t = pd.date_range("2024-01-01", periods=12, freq="1min", tz="UTC")
    >>> m = tk.metrics_from_columns({"time": t, "name": "mem", "value": [1.0, 2.0] * 6, "host": "pod-1"})
    >>> metric_evidence(m, (t[10], t[11]), (t[0], t[9]), by="host")["moved"].tolist()
    [False]
    """
    validate_metrics(metrics)
    if not isinstance(by, str) or by not in METRIC_KEYS:
        raise ArgumentError(f"metric_evidence: by must be one of {METRIC_KEYS}, got {by!r}")
    prior = number_arg(prior, "prior", "metric_evidence", low=0)
    q = number_arg(q, "q", "metric_evidence", low=0, high=1, low_open=True, high_open=True)
    ia, ib = _window(window, "window")
    ba, bb = _window(baseline_window, "baseline_window")
    m = metrics
    if names is not None:
        m = m[m["name"].isin(known_names(m, names, "metric_evidence")).to_numpy(dtype=bool)]
    cum = ((m["kind"] == "sum") & (m["temporality"] == "cumulative")).to_numpy(dtype=bool, na_value=False)
    if cum.any():
        raise ArgumentError(f"metric_evidence: {m['name'][cum].iloc[0]!r} is a cumulative sum; turn it into a rate "
                            "first (tk.metric_rates(metrics))")
    require_one_measure(m, [by, "name"], "metric_evidence")  # (a mean of 100 ms and 0.1 s is no quantity)
    # a point is in the window that holds the middle of the interval its value describes (metric_series'
    # described_times: a scrape's minute before its stamp, a CloudWatch period after), not its stamp
    t = described_times(m)
    v = point_values(m)
    in_inc = (t >= ia) & (t <= ib)
    # 2: before the baseline window (and after the incident's when the baseline follows it): taken, latest first, by a
    # series whose baseline window holds fewer than MIN_BASELINE_POINTS points — only when the two windows do not
    # overlap (a baseline inside the incident's window has no period of its own to widen)
    apart = bb < ia or ba > ib
    earlier = (t < ba) & ~in_inc & ((t > ib) if ba > ib else True) & apart
    side = np.where(in_inc, 1, np.where((t >= ba) & (t <= bb), 0, np.where(earlier, 2, -1)))
    # a point with no finite value (NaN, an OTLP double's ±Inf) is in neither window, as metric_series leaves it out of
    # its buckets: one +Inf baseline reading made the reach infinite and a tenfold rise 'not moved' (evidence 0)
    valid = np.isfinite(v) & m[by].notna().to_numpy()
    # a point given twice (one stream, one stamp, one value: a file read twice, an export retried) is one reading; each
    # copy counted as a point of its own, and a doubled frame weighed a rise 0.145 -> 0.252
    dup = _repeated_points(m, (side >= 0) & valid, v)
    valid &= ~dup
    keep = (side >= 0) & (side <= 1) & valid
    if (earlier & valid).any():
        # series (key, name) with an incident point and fewer than MIN_BASELINE_POINTS baseline points take their
        # latest earlier points, as many as they lack (a sort of those candidates only, not a pass per series)
        sc = series_codes(m, (by, "name"))
        n_sc = int(sc.max()) + 1
        n_inc = np.bincount(sc[keep & (side == 1)], minlength=n_sc)
        short = np.maximum(MIN_BASELINE_POINTS - np.bincount(sc[keep & (side == 0)], minlength=n_sc), 0)
        cand = np.flatnonzero(earlier & valid & ((n_inc > 0) & (short > 0))[sc])
        if len(cand):
            cand = cand[np.lexsort((-t[cand], sc[cand]))]  # per series, latest first
            first = np.r_[True, sc[cand][1:] != sc[cand][:-1]]
            pos = np.arange(len(cand)) - np.maximum.accumulate(np.where(first, np.arange(len(cand)), 0))
            took = cand[pos < short[sc[cand]]]
            side[took] = 0
            keep[took] = True
            widened_series = set(zip(m[by].to_numpy(dtype=object)[took], m["name"].to_numpy(dtype=object)[took], strict=True))
        else:
            widened_series = set()
    else:
        widened_series = set()
    hist = (m["kind"].isin(HISTOGRAM_KINDS) & (m["temporality"] != "cumulative")).to_numpy(dtype=bool, na_value=False)
    f = pd.DataFrame({by: m[by].to_numpy(dtype=object)[keep], "name": m["name"].to_numpy(dtype=object)[keep],
                      "side": side[keep], "v": v[keep], "hist": hist[keep], "row": np.flatnonzero(keep)})
    # the hosts each series pools (a service's utilization averaged over a saturated pod and an idle one read 0.456
    # beside the pod's own 0.892: the words say the population)
    host_code = (pd.factorize(m["host"].astype(object).where(m["host"].notna(), None))[0][keep]
                 if "host" in m.columns and by != "host" else np.full(int(keep.sum()), -1))
    f["_host_code"] = host_code
    buckets = m["buckets"].to_numpy(dtype=object)
    rows = []
    left_out = 0
    for (key, name), g in f.groupby([by, "name"], sort=True):
        sides = g["side"].to_numpy()
        widened = (key, name) in widened_series
        b = g["v"].to_numpy()[sides == 0]
        i = g["v"].to_numpy()[sides == 1]
        if len(b) < 2 or len(i) < 1:
            continue
        pe: dict[str, Any] = {"basis": "points", "baseline_count": np.nan, "incident_count": np.nan, "edge": np.nan,
                              "baseline_outside_share": np.nan, "edge_below": np.nan, "same_bucket": pd.NA}
        pe.update(_point_evidence(b, i, float(prior)))
        # a move either way on the points' rule: what 'steady' denies. A histogram's evidence below counts a rise of its
        # observations only, so one whose requests all got 70x faster (failing fast) had evidence 0 and was counted
        # among the metrics that did not move
        still = pe["evidence"] <= 0
        if g["hist"].all():
            oe, lost = _observation_evidence(list(zip(sides.tolist(), buckets[g["row"].to_numpy()], strict=True)), q,
                                             float(prior))
            pe.update(oe or {})
            left_out += lost
        # the change in words is mean against mean: the incident's mean against the baseline's median called a
        # series of two routes' durations (median 1.3 ms, mean 5.1 ms on both sides) "rose 404 %" with nothing moved
        base, mean = float(b.mean()), float(i.mean())
        hosts = g["_host_code"].to_numpy()
        rows.append({by: key, "name": name, "family": metric_family(str(name)), "baseline_points": len(b),
                     "hosts": int(len(np.unique(hosts[hosts >= 0]))),
                     "baseline_widened": widened,
                     "incident_points": len(i), "incident_mean": mean, "baseline_mean": base,
                     "change": (mean - base) / abs(base) if base != 0 else np.nan, **pe,
                     "moved": pe["evidence"] > 0, "steady": bool(still and pe["evidence"] <= 0),
                     "direction": "up" if mean > base else "down" if mean < base else None})
    cols = [by, *METRIC_EVIDENCE.column_names]
    out = pd.DataFrame(rows, columns=cols)
    for c in (by, "name", "family", "direction", "basis"):
        out[c] = out[c].astype(object).where(out[c].notna(), None).astype("string")
    for c in METRIC_EVIDENCE.columns:
        if c.dtype in ("int64", "float64", "bool", "boolean"):
            out[c.name] = out[c.name].astype(c.dtype)
    order = np.lexsort((out["name"].astype(str).to_numpy(), out[by].astype(str).to_numpy(),
                        -out["evidence"].to_numpy(dtype=float)))
    out = out.iloc[order].reset_index(drop=True)
    out.attrs["params"] = shared_attr(dict(by=by, names=names, prior=prior, q=q))
    out.attrs["windows"] = dict(incident=(pd.Timestamp(ia, tz="UTC"), pd.Timestamp(ib, tz="UTC")),
                                baseline=(pd.Timestamp(ba, tz="UTC"), pd.Timestamp(bb, tz="UTC")))
    # histogram points of the rows above whose buckets could not be counted (missing, broken): in the means only
    out.attrs["histogram_points_without_buckets"] = left_out
    out.attrs["repeated_points"] = int(dup.sum())
    return out


def _down2(x: float) -> str:
    """``x`` > 0 to two significant digits, rounded down: a value under a bar is never said as the bar (0.00997 under
    NEGLIGIBLE_EVIDENCE was said "0.010" with three decimals, "0.01" with two significant digits rounded)."""
    exp = math.floor(math.log10(x)) - 1
    digits = math.floor(x / 10.0 ** exp + 1e-9)
    return f"{digits * 10.0 ** exp:.{max(0, -exp)}f}"


def value_text(x: float) -> str:
    """A metric value as the words say it: three significant digits, whole numbers from 1,000 up.

    >>> value_text(0.020228), value_text(12345.6)
    ('0.0202', '12,346')
    """
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


_fmt = value_text


def _move_words(r: Any, unit: Any = None, q: float = 0.95) -> str:
    """What a row's evidence counted, each value with its ``unit`` (:func:`unit_words`): on the points basis the
    points beyond the reach, said as "mean" baseline mean → incident mean; on the observations basis the share of
    observations above the edge against the baseline's share (only a rise counts), with the means only when they
    fell — a mean that fell did not make the evidence, and a mean that barely rose says nothing of the tail. ``q`` is the quantile whose bucket edge that is (:func:`metric_evidence`'s ``attrs["params"]``)."""
    u = unit_words(unit)
    u = f" {u}" if u else ""
    basis = r.get("basis") if hasattr(r, "get") else None
    before = float(r["baseline_mean"]) if "baseline_mean" in r and pd.notna(r["baseline_mean"]) else \
        float(r["baseline_median"])  # (a table of rank_causes' words from before baseline_mean)
    if basis == "observations" and pd.notna(r.get("edge")):
        # what the evidence counted: the share above the edge against the baseline's own; the means are said only
        # where they fell (a mean 0.0139 → 0.0139 s beside a rise of the tail read as no change at all)
        base = r.get("baseline_outside_share")
        against = (f", against {percent(float(base), 1, unit=' %')} of the baseline's "
                   f"{float(r['baseline_count']):,.0f}" if base is not None and pd.notna(base) else "")
        fell = (f"; its mean fell {_fmt(before)} → {_fmt(float(r['incident_mean']))}{u}"
                if r.get("direction") == "down" else "")
        blind = ""
        low, same = r.get("edge_below"), r.get("same_bucket")
        if same is not None and pd.notna(same) and bool(same) and low is not None and pd.notna(low):
            # the evidence cannot see a move inside the bucket: said, so that a small share does not read as "unmoved"
            inside = (f"{_fmt(float(low))}–{_fmt(float(r['edge']))}{u}" if np.isfinite(float(low)) else
                      f"at or below {_fmt(float(r['edge']))}{u}")
            blind = f"; both sides' p{100 * q:g} lie in its bucket, {inside}: a move within it is not seen"
        return (f"{percent(float(r['outside_share']), 1, unit=' %')} of its {float(r['incident_count']):,.0f} observations "
                f"above {_fmt(float(r['edge']))}{u}{against} (the baseline's p{100 * q:g} bucket edge{fell}{blind})")
    # (the statistic said: not a median, a max; and its population: one host's or several pooled)
    return f"{_mean_word(r)} {_fmt(before)} → {_fmt(float(r['incident_mean']))}{u}"


def _mean_word(r: Any) -> str:
    """"mean", or "mean over its 2 hosts" where the row's series pools several hosts' points (``hosts``)."""
    k = r.get("hosts") if hasattr(r, "get") else None
    return f"mean over its {int(k)} hosts" if k is not None and pd.notna(k) and int(k) > 1 else "mean"


def _metric_units(metrics: pd.DataFrame) -> dict[str, str]:
    """``{name: unit}``: each metric name's unit as the frame gives it (the first given for the name), for the words."""
    if "unit" not in metrics.columns or not len(metrics):
        return {}
    first = metrics[["name", "unit"]].dropna().drop_duplicates("name")
    return {str(n): str(u) for n, u in zip(first["name"], first["unit"], strict=True)}


def _family_sum(ev: pd.DataFrame, key: str) -> pd.Series:
    """Per key, the sum over its families of each family's mean evidence (a family with many metrics counts once):
    :func:`metric_scores`' score, and the total :func:`_own_time_cap` limits."""
    return ev.groupby([ev[key].astype(object), "family"], sort=False)["evidence"].mean().groupby(level=0, sort=False).sum()


def metric_scores(evidence: pd.DataFrame, units: dict[str, str] | None = None) -> pd.DataFrame:
    """One metric score per key from :func:`metric_evidence`'s rows.

    Parameters
    ----------
    evidence : pandas.DataFrame
        :func:`metric_evidence`'s table (its first column is the key).
    units : dict of str to str, optional
        Each metric name's unit (``{name: unit}``): ``top_metric`` says its values with it.

    Returns
    -------
    pandas.DataFrame
        The key column then :data:`METRIC_SCORES`'s columns, best first.

    Examples
    --------
    >>> ev = pd.DataFrame({"service": ["a", "a", "b"], "name": ["cpu", "NodeCpu", "cpu"],
    ...     "family": ["cpu", "node", "cpu"], "evidence": [0.5, 1.0, 0.0], "moved": [True, True, False],
    ...     "baseline_median": [5.0, 1.0, 5.0], "baseline_mean": [5.0, 1.0, 5.0], "incident_mean": [50.0, 9.0, 5.0]})
    >>> metric_scores(ev)[["service", "metric_score", "moved", "steady"]].values.tolist()
    [['a', 0.5, 2, 0], ['b', 0.0, 0, 1]]
    """
    key = evidence.columns[0]
    q = float((evidence.attrs.get("params") or {}).get("q", 0.95))  # the quantile the histogram edges are of
    ev = evidence.reset_index(drop=True)
    ev.attrs = {}  # (metric_evidence's attrs would be deep-copied by every pandas step below)
    is_counted = ev["family"].isin(COUNTED_FAMILIES).to_numpy(dtype=bool)
    scores = _family_sum(ev[is_counted], key)
    k_obj = ev[key].astype(object)
    moved = ev["moved"].astype(bool).to_numpy()
    steady = ev["steady"].astype(bool).to_numpy() if "steady" in ev.columns else ~moved  # (a table from before it)
    per = pd.DataFrame({"k": k_obj, "moved": moved, "steady": steady}).groupby("k", sort=True)[["moved", "steady"]].sum()
    keys = per.index.to_numpy(dtype=object)
    # the top metric: a key's counted row of most evidence (the first such row), when that evidence is above 0
    counted = ev[is_counted].assign(_k=k_obj[is_counted].to_numpy(), _e=ev.loc[is_counted, "evidence"].astype(float))
    best = counted.sort_values(["_k", "_e"], ascending=[True, False], kind="stable", na_position="last") \
        .drop_duplicates("_k")
    best = best[best["_e"] > 0]
    top_name = dict(zip(best["_k"], best["name"].astype(str), strict=True))
    units = units or {}
    top = {k: f"{r['name']} {_move_words(r, units.get(str(r['name'])), q)}"
           for k, r in zip(best["_k"], best.to_dict("records"), strict=True)}
    out = pd.DataFrame({key: keys, "metric_score": [float(scores.get(k, 0.0)) for k in keys],
                        "top_metric": [top.get(k) for k in keys], "top_metric_name": [top_name.get(k) for k in keys],
                        "moved": per["moved"].to_numpy(), "steady": per["steady"].to_numpy()},
                       columns=[key, *METRIC_SCORES.column_names])
    out[key] = out[key].astype("string")
    for c in ("top_metric", "top_metric_name"):
        out[c] = out[c].astype(object).where(out[c].notna(), None).astype("string")
    out["metric_score"] = out["metric_score"].astype(float)
    for c in ("moved", "steady"):
        out[c] = out[c].astype("int64")
    return out.sort_values(["metric_score", key], ascending=[False, True], kind="stable").reset_index(drop=True)


#: families a key's own time shows in its spans: a CPU-starved or CPU-hungry process and a request duration both
#: show as the key's own work getting slower, so where the traces measured that, they count together at most as
#: much as it (:func:`join_metric_evidence`)
OWN_TIME_FAMILIES = ("cpu", "latency")


#: the share of a key's incident spans its new operations (no baseline span: own time not measurable) must hold for
#: its CPU and latency metrics to count uncapped (:func:`_own_time_cap`)
NEW_OPERATION_SHARE = 0.1


def _own_time_cap(ev: pd.DataFrame, table: pd.DataFrame, by: str) -> pd.DataFrame:
    """CPU and latency families' evidence kept to the extent the traces put a move in the key's own time.

    A server's request duration is its self time plus the time it waits on its callees (and theirs); a process's CPU
    use that rose without its spans' own time rising (a noisy neighbour's batch job, a GC between requests) did not
    slow the requests the incident is about. Where the traces hold the key's spans, the key's
    :data:`OWN_TIME_FAMILIES` together — the sum of each family's mean evidence, as :func:`metric_scores` adds
    them — count at most rank_causes' ``slower`` of the key (the share of its spans whose own time rose above the
    baseline's q-quantile, beyond chance; the best row of the key): each of their rows' evidence is scaled by
    ``slower / sum`` when the sum is above it. The metrics then corroborate, up to as much again, the slowdown the
    traces measured, and a metric that moved with no slowdown in the key's spans adds nothing. Keys without spans in
    the incident, whose rows rank_causes could measure no own time on (``slower`` counted on no span: only client
    spans, a proxy), or with a new operation (no baseline span) it could not measure, keep theirs: the metric is the
    only view of that time. A row that only calls out beside measured ones (a service's client spans) does not lift
    the cap: its time is its callees'. Other families are unchanged; a table without these columns changes nothing.
    """
    need = {by, "slower", "spans"}
    if not len(ev) or not need <= set(table.columns):
        return ev
    # the spans rank_causes measured ``slower`` on (its _n_slower count)
    measured = table["_n_slower"] if "_n_slower" in table.columns else table["spans"]
    new_op = table["baseline_spans"].to_numpy(dtype=float) == 0 if "baseline_spans" in table.columns else \
        np.zeros(len(table), dtype=bool)
    m_ = measured.to_numpy(dtype=float)
    n_ = table["spans"].to_numpy(dtype=float)
    t = table[[by, "slower"]].astype({by: object}).assign(_m=m_, _new=np.where((m_ <= 0) & new_op, n_, 0.0), _n=n_)
    t = t[n_ > 0]
    g = t.groupby(by, sort=False)
    # no cap on a key with no row measured (a proxy: only client spans) or whose new operations, whose own time the
    # traces cannot measure, hold a material share of its spans: there the metric is the only view. A row that only
    # calls out (a client span) beside measured ones does not lift the cap: its time is its callees'. One new span
    # among a service's 95 lifted it for all of them (fault lab network_delay 205: a caller of the delayed pod,
    # its own time unchanged, scored 0.78 on its request-duration metric beside the cause's 0.91; capped 0.17)
    keep = (g["_m"].max() > 0) & ~(g["_new"].sum() >= NEW_OPERATION_SHARE * g["_n"].sum())
    own = g["slower"].max().astype(float)[keep]
    keyv = ev[by].astype(object)
    capped = ev["family"].isin(OWN_TIME_FAMILIES).to_numpy(dtype=bool) & keyv.isin(own.index).to_numpy(dtype=bool)
    if not capped.any():
        return ev
    sub = ev.loc[capped, [by, "family", "evidence"]].astype({by: object})
    total = _family_sum(sub, by)
    limit = np.nan_to_num(own.reindex(total.index).to_numpy(dtype=float))
    factor = pd.Series(np.where(total.to_numpy() > limit, limit / np.maximum(total.to_numpy(), 1e-300), 1.0),
                       index=total.index)
    out = ev.copy()
    out.loc[capped, "evidence"] = sub["evidence"].to_numpy(dtype=float) * sub[by].map(factor).to_numpy(dtype=float)
    out.attrs = dict(ev.attrs)
    return out


def join_metric_evidence(table: pd.DataFrame, metrics: pd.DataFrame, incident: pd.DataFrame,
                         baseline: pd.DataFrame, *, level: str, keys: list[str], prior: float = 10.0,
                         q: float = 0.95) -> pd.DataFrame:
    """Rank-causes rows with their metric evidence: ``metrics`` (score), ``metric_top`` (and its ``metric_top_name``), ``metrics_moved``,
    ``metrics_steady`` (a new table; rows without metrics get 0 and <NA>), and, for rank_causes' words, the score and
    top metric before the own-time cap (private ``_metrics_uncapped``, ``_metric_top_uncapped``: rank_causes drops
    them). At levels with several rows per service
    (host), the service's (host's) metric evidence is one row's: the row with the highest ``score`` so far.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`~tracekit.rank_causes`' rows (key columns first).
    metrics : pandas.DataFrame
        A metrics frame.
    incident, baseline : pandas.DataFrame
        The spans compared (their time ranges are the windows).
    level : str
        rank_causes' level: ``host`` joins on host, every other level on service.
    keys : list of str
        The table's key columns.
    prior : float, default 10
        rank_causes' ``prior``: pseudo-points each metric's evidence is shrunk with.
    q : float, default 0.95
        rank_causes' ``q``: the baseline quantile histogram observations are counted above.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import tracekit as tk
    >>> tab = pd.DataFrame({"service": pd.array(["cart"], dtype="string"), "score": [0.0]})
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["b" * 16], "service": ["cart"],
    ...     "name": ["x"], "start": [0], "end": [10**9]})
    >>> m = tk.metrics_from_columns({"time": [0], "name": "cpu", "value": [1.0], "service": "cart"})
    >>> join_metric_evidence(tab, m, spans, spans, level="service", keys=["service"])["metrics"].tolist()
    [0.0]
    """
    by = "host" if level == "host" else "service"
    if by == "host" and "host" not in table.columns:
        raise ArgumentError("rank_causes: level='host' rows have no host column to join metrics on")
    raw = metric_evidence(metrics, incident, baseline, by=by, prior=prior, q=q)
    ev = _own_time_cap(raw, table, by)
    units = _metric_units(metrics)
    sc = metric_scores(ev, units) if len(ev) else pd.DataFrame(columns=[by, *METRIC_SCORES.column_names])
    if len(ev):  # before the cap, for the words (rank_causes' hypothesis says what the cap left out)
        unc = metric_scores(raw, units).set_index(by)
        sc["_metrics_uncapped"] = sc[by].map(unc["metric_score"]).astype(float).to_numpy()
        sc["_metric_top_uncapped"] = sc[by].map(unc["top_metric"]).astype(object).to_numpy()
    else:
        sc["_metrics_uncapped"], sc["_metric_top_uncapped"] = np.zeros(0), np.zeros(0, dtype=object)
    sc = sc.rename(columns={"metric_score": "metrics", "top_metric": "metric_top", "top_metric_name": "metric_top_name",
                            "moved": "metrics_moved", "steady": "metrics_steady"})
    sc[by] = sc[by].astype(table[by].dtype if by in table.columns else "string")
    out = table.merge(sc, how="left", on=by)
    out["metrics"] = out["metrics"].astype(float).fillna(0.0)
    out["_metrics_uncapped"] = out["_metrics_uncapped"].astype(float).fillna(0.0)
    for c in ("metrics_moved", "metrics_steady"):
        out[c] = out[c].astype("Int64")
    out["metric_top"] = out["metric_top"].astype("string")
    out["metric_top_name"] = out["metric_top_name"].astype("string")
    if list(keys) != [by] and len(out):
        # a metric keyed by service (host) is one piece of evidence about it: it goes to one row of the key, the one
        # with most evidence so far (first in table order on a tie). Added to each of its operations it was counted
        # once per operation, and siblings with no evidence of their own rose with it
        order = np.lexsort((np.arange(len(out)), -out["score"].to_numpy(dtype=float)))
        holder = np.zeros(len(out), dtype=bool)
        holder[order[~out[by].iloc[order].astype(object).fillna("\x00<NA>").duplicated().to_numpy()]] = True
        out.loc[~holder, "metrics"] = 0.0
        out.loc[~holder, "_metrics_uncapped"] = 0.0
        for c in ("metric_top", "metric_top_name", "metrics_moved", "metrics_steady", "_metric_top_uncapped"):
            out.loc[~holder, c] = pd.NA
    out.attrs = dict(table.attrs)
    out.attrs["metric_evidence"] = ev
    keyed = metrics[by].notna().to_numpy()
    moved = ev[ev["moved"].to_numpy(dtype=bool)] if len(ev) else ev
    # the words name as moved only what weighs: a move under NEGLIGIBLE_EVIDENCE is said apart, with its direction
    slight = (moved["evidence"].to_numpy(dtype=float) < NEGLIGIBLE_EVIDENCE) if len(moved) else np.zeros(0, dtype=bool)

    def said(r: pd.Series) -> str:
        return f"{r[by]} {r['name']} {_move_words(r, units.get(str(r['name'])), q)}"

    def slightly(r: pd.Series) -> str:
        # what was negligible is how far the points went past the baseline's reach, not the change of the mean: a
        # series that jumps all day (Nezha's PodClientLatencyP90: 0.004 s to 156 s) can rise 4,000-fold in its mean
        # within a baseline that reaches as high, so a rise of 100 % or more is said with that reach
        change, u = r["change"], unit_words(units.get(str(r["name"])))
        u = f" {u}" if u else ""
        if pd.isna(r["direction"]):
            how = "unchanged"
        elif r["direction"] == "up" and pd.notna(change) and change >= 1 and pd.notna(r["reach_high"]):
            how = (f"{_mean_word(r)} {_fmt(float(r['baseline_mean']))} → {_fmt(float(r['incident_mean']))}{u}, yet the baseline "
                   f"itself reaches {_fmt(float(r['reach_high']))}{u}")
        elif pd.notna(change):
            how = f"{'rose' if r['direction'] == 'up' else 'fell'} {abs(100 * change):,.1f} %"
        else:
            how = "rose" if r["direction"] == "up" else "fell"
        e = float(r["evidence"])
        return f"{r[by]} {r['name']} ({how}, evidence {_down2(e) if e >= 0.001 else 'under 0.001'})"

    # the moves said first are of keys the ranking holds: those of a key no span names weigh on no component and are
    # said after them (Nezha TrainTicket 13:31:54 led with an idle service's latency percentiles, 0.0214 -> 28.4 s,
    # while the injected pod's CPU 5.79 -> 500 m, of evidence 0.089 against their 0.091, went unnamed)
    ranked = set(table[by].dropna().astype(str)) if by in table.columns else set()
    said_first = moved[~slight]
    if len(said_first):
        off = ~said_first[by].astype(object).astype(str).isin(ranked).to_numpy(dtype=bool)
        said_first = said_first.iloc[np.argsort(off, kind="stable")]
    top = [said(r) for _, r in said_first.head(3).iterrows()]
    # of those, the moves made small only by the own-time cap (_own_time_cap): the points went well past the baseline
    # but the key's own spans did not slow — its callees' time. Said as "negligible margin" they contradicted their
    # own numbers (deploy-regression's checkout request duration: rose 165.7 %, 9.7 % of its points outside)
    raw_ev = raw["evidence"].reindex(moved.index).to_numpy(dtype=float) if len(moved) else np.zeros(0)
    capped = slight & (raw_ev >= NEGLIGIBLE_EVIDENCE)
    # series of keys with no row in the table (a service no span of either period names: an uninstrumented database,
    # a metrics frame of another system) were compared but weigh on no component: said, not silently dropped
    unranked = ~ev[by].astype(object).astype(str).isin(ranked).to_numpy(dtype=bool) if len(ev) else np.zeros(0, bool)
    out.attrs["metric_coverage"] = dict(
        unranked=int(unranked.sum()), unranked_keys=[str(k) for k in pd.unique(ev[by].astype(object)[unranked])][:3],
        unranked_key_count=int(pd.unique(ev[by].astype(object)[unranked]).size) if len(ev) else 0,
        by=by, series=int(metrics[keyed].groupby([by, "name"], sort=False, observed=True).ngroups) if keyed.any() else 0,
        compared=len(ev), moved=len(moved), top_moved=top, negligible=int(slight.sum()), capped=int(capped.sum()),
        widened=int(ev["baseline_widened"].sum()) if len(ev) else 0,
        negligible_moved=[slightly(r) for _, r in moved[slight & ~capped].head(3).iterrows()],
        capped_moved=[slightly(r).rsplit(", evidence", 1)[0] + ")" for _, r in moved[capped].head(3).iterrows()],
        **ev.attrs.get("windows", {}))
    return out



def metric_chance_score(metrics: pd.DataFrame, window: Any, baseline_window: Any, *, by: str = "service",
                        prior: float = 10.0, q: float = 0.95) -> pd.DataFrame:
    """How high the metric score goes with nothing injected, on the metrics' own time axis: :func:`metric_scores` between
    a stretch as long as the incident's ``window`` that ends where the ``baseline_window`` ends, and a stretch as long as
    the baseline's just before it (made up to :data:`MIN_BASELINE_POINTS` as :func:`metric_evidence` does).

    :func:`tracekit.chance_score` splits a baseline's traces and compares the metrics of the two parts' windows; a
    baseline shorter than a few scrape intervals (Nezha's TrainTicket: 80 s of traces, a point a minute) leaves the
    parts no metric point to compare, and the chance it measures is the traces' alone. This is the metrics' chance
    then: the same metrics, the same windows' lengths, earlier. The scores are not capped by the spans' own time
    (:func:`join_metric_evidence`): no spans are compared here, so they are at least as high as capped ones.

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame.
    window, baseline_window : (start, end) or pandas.DataFrame
        The incident's and the baseline's windows, as :func:`metric_evidence` takes them.
    by : {"service", "host"}
        The key.
    prior, q : float
        As :func:`metric_evidence`.

    Returns
    -------
    pandas.DataFrame
        :func:`metric_scores`' table, best first (empty when no series has points in both stretches);
        ``attrs["windows"]``: the two stretches compared.

    Raises
    ------
    ArgumentError
        As :func:`metric_evidence`.

    Examples
    --------
    >>> import tracekit as tk
    >>> t = pd.date_range("2024-01-01", periods=40, freq="1min", tz="UTC")
    >>> cpu = [5.0, 6, 5, 7, 6] * 7 + [90.0, 92, 91, 90, 93]  # steady, then a jump in the last 5 minutes
    >>> m = tk.metrics_from_columns({"time": t, "name": "CpuUsageRate", "value": cpu, "service": "cart"})
    >>> null = metric_chance_score(m, (t[35], t[39]), (t[30], t[34]))
    >>> float(null["metric_score"].iloc[0])  # the minutes before the incident moved nothing
    0.0
    """
    ia, ib = _window(window, "window")
    ba, bb = _window(baseline_window, "baseline_window")
    inc = (bb - (ib - ia), bb)
    base_end = inc[0] - 1
    base = (base_end - (bb - ba), base_end)
    stamp = [tuple(pd.Timestamp(x, tz="UTC") for x in w) for w in (inc, base)]
    ev = metric_evidence(metrics, stamp[0], stamp[1], by=by, prior=prior, q=q)
    sc = metric_scores(ev) if len(ev) else pd.DataFrame(columns=[by, *METRIC_SCORES.column_names])
    sc.attrs["windows"] = dict(incident=stamp[0], baseline=stamp[1])
    return sc
