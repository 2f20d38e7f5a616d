"""Clock skew: estimate per service (or per host) clock offsets from many client→server pairs.

A server span should sit inside the client span that called it. Like Jaeger and Zipkin (which
do it per trace), we assume the network latency splits evenly between request and response,
so a pair's offset is the server span's midpoint minus the client span's midpoint. Unlike
them, we pool every pair a clock takes part in and take a **robust** estimate (median, spread
= 1.4826 × MAD), so one slow network hop does not move the estimate.

Clocks ("nodes") are hosts when the resource names one (``host.name``, ``aws.ec2.instance_id``,
``faas.instance``, ``k8s.pod.name``, ``container.id``), else services (``by="auto"``); force one
with ``by="service"`` or ``by="host"``. Each node's estimate is solved jointly: a pair says
``offset(server) − offset(client) ≈ midpoint difference``; starting from the least-squares fit of
each pair of nodes' median offset (weighted by its pairs), we take, for every node, the median over
its pairs of what each pair implies given the other side's current estimate, each trace weighing 1
however many of the node's pairs it holds (a pair weighs 1 / the node's pairs in its trace: one
request's 50 calls, 40 ms late at one moment, outvoted 5 traces that read 0), and repeat until
nothing moves (a few rounds). (Started from zero, a node tied by most of its pairs to one neighbour
could only move with it: a catalog 25 ms behind read -1.8 ms, and the inventory it calls +23 ms.) The solution is then re-anchored so
that the clock of the median span (clocks weighted by how many spans they stamped) has offset
0: the majority of the data is taken as correct.

>>> import tracekit as tk
>>> ms = 1_000_000
>>> spans = tk.spans_from_columns({
...     "trace_id": [f"{t:032x}" for t in (1, 1, 2, 2, 3, 3)],
...     "span_id": [f"{i:016x}" for i in range(1, 7)],
...     "parent_id": [None, f"{1:016x}", None, f"{3:016x}", None, f"{5:016x}"],
...     "service": ["web", "db"] * 3, "name": ["call", "query"] * 3, "kind": ["client", "server"] * 3,
...     "start": [0, 52 * ms, 0, 51 * ms, 0, 53 * ms], "end": [10 * ms, 60 * ms, 10 * ms, 59 * ms, 10 * ms, 60 * ms]})
>>> skew = tk.detect_clock_skew(spans, min_pairs=3)
>>> skew[["service", "estimate_ms", "n_pairs", "skewed"]].to_dict("records")[0]
{'service': 'db', 'estimate_ms': 51.0, 'n_pairs': 3, 'skewed': True}
>>> fixed = tk.adjust_clock_skew(spans, skew)
>>> fixed.loc[1, "start"] == spans.loc[1, "start"] - pd.Timedelta(51, "ms"), fixed.attrs["clock_shifts"][0]["shift_ms"]
(True, -51.0)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..core import (
    HOST_KEYS,
    balanced_median_of,
    balanced_medians_grouped,
    bool_column,
    count_arg,
    hosts,
    is_async_handoff,
    ns,
    number_arg,
    percentile,
    require_columns,
    result_table,
    span_tree,
)
from ..errors import ArgumentError
from ..schema import known_service_column

__all__ = ["detect_clock_skew", "adjust_clock_skew", "HOST_KEYS", "SKEW_COLUMNS"]

SKEW_TABLE = result_table("detect_clock_skew", "one row per clock (service, or host of a service)", [
    ("service", "string", "", "service of the clock"),
    ("host", "string", "", "host (resource host key, see HOST_KEYS); <NA> when clocks are services"),
    ("estimate_ms", "float64", "ms", "estimated offset of the clock against the others (positive: ahead)"),
    ("spread_ms", "float64", "ms", "spread of the pair offsets behind the estimate"),
    ("n_pairs", "int64", "pairs", "synchronous client → server pairs across clocks that inform the estimate"),
    ("n_traces", "int64", "traces", "traces holding those pairs"),
    ("first_seen", "datetime64[ns, UTC]", "", "start of the earliest client span of those pairs"),
    ("last_seen", "datetime64[ns, UTC]", "", "end of the latest client span of those pairs"),
    ("n_violations", "int64", "pairs", "pairs whose server span lies outside its client span"),
    ("violation_share", "float64", "", "n_violations / n_pairs"),
    ("skewed", "bool", "", "the offset is larger than the spread and the tolerance, on at least min_pairs pairs in at least "
     "min_traces traces"),
    ("change_ms", "float64", "ms", "estimate on the later pairs minus on the earlier, at the split of the "
     "pairs by time (at a half, a sixth or five sixths of them: CHANGE_SPLITS) where it changed most against its "
     "standard error"),
    ("change_after", "datetime64[ns, UTC]", "", "the step lies after this: the earliest client start of the last "
     "trace before it (the clock's traces split where its per-trace offsets differ least within each part; NaT when "
     "change_ms is NaN)"),
    ("change_at", "datetime64[ns, UTC]", "", "and at or before this: the earliest client start of the first trace "
     "after it (NaT when change_ms is NaN)"),
    ("steady", "bool", "", "the offset held over the window: change_ms within the tolerance or 3 standard errors, or "
     "fewer than min_pairs pairs or min_traces traces to tell (each side of the split: min_pairs pairs)"),
    ("stepped", "bool", "", "not steady, and the clock itself moved: against most of the clocks it shares pairs with "
     "(neighbours holding more than half the pairs' weight moved with it, and at least half among its callers and among "
     "its callees each), by at least the tolerance and 3 standard "
     "errors (the weighted median of the moves of its pairs' median offset per neighbour across the same split): a "
     "clock stepped or drifting. Not steady and not stepped: its estimate moved with a neighbour's, or with the mix of "
     "pairs that disagree by neighbour (a delay in answering moves its callers' pairs alone), not with its clock"),
])
SKEW_COLUMNS = tuple(SKEW_TABLE.column_names)


def _hosts(spans: pd.DataFrame) -> np.ndarray:
    """Host of each span (:func:`tracekit.core.hosts`), None when the resource names none."""
    return hosts(spans)


def _nodes(spans: pd.DataFrame, by: str, func: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Node code per span and a table (service, host) per code."""
    if by not in ("auto", "service", "host"):
        raise ArgumentError(f"{func}: by must be 'auto', 'service' or 'host', got {by!r}")
    # a missing service is unknown_service, as every analysis names it (its NA code wrapped round to the last
    # service's name: a clock reported as "b" twice)
    svc = known_service_column(spans["service"]).to_numpy(dtype=object)
    if by == "service" or "resource" not in spans.columns:
        if by == "host":
            raise ArgumentError("by='host' needs a resource column naming hosts (host.name, aws.ec2.instance_id, …)")
        host = np.full(len(spans), None, dtype=object)
    else:
        host = _hosts(spans)
        if by == "host" and all(h is None for h in host):
            raise ArgumentError("by='host' but no span's resource names a host (host.name, aws.ec2.instance_id, …)")
    sc, su = pd.factorize(svc, sort=True)
    hc, hu = pd.factorize(host, sort=True, use_na_sentinel=True)
    key = np.asarray(sc, dtype=np.int64) * (len(hu) + 1) + (np.asarray(hc, dtype=np.int64) + 1)
    codes, ukeys = pd.factorize(key, sort=True)
    hu_na = np.concatenate([[None], np.asarray(hu, dtype=object)])
    table = pd.DataFrame({"service": np.asarray(su, dtype=object)[ukeys // (len(hu) + 1)],
                          "host": hu_na[ukeys % (len(hu) + 1)]})
    return np.asarray(codes, dtype=np.int64), table


def _pairs(spans: pd.DataFrame, node: np.ndarray):
    tree = span_tree(spans)
    child = np.flatnonzero(tree.parent >= 0)
    p = tree.parent[child]
    kind = spans["kind"].to_numpy(dtype=object, na_value="unspecified")  # (NA: a bare "boolean value of NA" TypeError)
    ended = spans["end"].notna().to_numpy()
    # an X-Ray inferred segment repeats its caller's times (AWS made it up from the subsegment): it is
    # no clock of its own, and a pair with it says nothing
    inferred = bool_column(spans, "inferred")
    # a span id given twice with other times (a trace exported twice, shifted): which copy called which is
    # unknown, and pairing across the copies measures the shift, not a clock (30 min "skews" before)
    ok = ((kind[child] == "server") & (kind[p] == "client") & (node[child] != node[p]) & ended[child] & ended[p]
          & ~inferred[child] & ~inferred[p] & ~tree.duplicated[child] & ~tree.duplicated[p])
    c, p = child[ok], p[ok]
    sync = ~is_async_handoff(spans, p)  # a queue hand-off says nothing about clocks
    c, p = c[sync], p[sync]
    start, end = ns(spans["start"]), ns(spans["end"])
    # a server span longer than its client span is no synchronous call, whatever the clocks (durations do not depend
    # on them): the client did not wait for it (a 202 Accepted, a fire-and-forget call), and its midpoint measures how
    # long the work ran on, not a clock (a worker on a right clock, running 200-400 ms after a 5 ms call, read 155 ms
    # ahead, flagged, and its spans moved before their trace's root)
    waited = (end[c] - start[c]) <= (end[p] - start[p])
    c, p = c[waited], p[waited]
    # midpoint difference in ms without overflowing int64 (differences first)
    off = ((start[c] - start[p]) + (end[c] - end[p])) / 2e6
    trace = pd.factorize(spans["trace_id"].iloc[p].to_numpy(dtype=object))[0].astype(np.int64)  # of the pairs only
    keep = ~_unwaited(node[p], node[c], trace, start[c] >= end[p], off, (end[c] - end[p]) / 1e6)
    c, p, off, trace = c[keep], p[keep], off[keep], trace[keep]
    inside = (start[c] >= start[p]) & (end[c] <= end[p])
    return c, p, off, ~inside, trace


def _unwaited(cn: np.ndarray, sn: np.ndarray, trace: np.ndarray, late: np.ndarray, off: np.ndarray,
              lo: np.ndarray) -> np.ndarray:
    """Pairs read as calls nobody waited for: a server span starting after its client span ended (``late``) is a
    fire-and-forget call or a clock ahead by more than the call. Where the other pairs between the same two clocks
    (client ``cn`` → server ``sn``; at least 3, and a tenth of them) in the same trace say the offset, a late pair whose
    server span, set back by their median offset, still ends after its client span (``lo``: server end − client end,
    ms) was not waited for and says nothing about the clocks. A real offset moves every pair between two clocks alike,
    so the other pairs read it too and the late ones fit it; within one trace, so that a clock stepped or drifting
    over the window is not read as async calls (pairs 60 ms ahead before an NTP step, right after it, were all
    dropped). (A right host with one short async child per trace beside a synchronous call read +1.5 ms, skewed:
    half its pairs were the async ones.)"""
    out = np.zeros(len(late), dtype=bool)
    if not late.any() or late.all():
        return out
    edge = pd.factorize(cn * (int(max(cn.max(), sn.max())) + 1) + sn)[0]
    n_edge = np.bincount(edge)
    n_other = np.bincount(edge, weights=~late).astype(np.int64)
    said = (n_other >= 3) & (n_other * 10 >= n_edge)
    within = pd.factorize(edge.astype(np.int64) * (int(trace.max()) + 1) + trace)[0]
    ref = pd.Series(off[~late]).groupby(within[~late]).median()
    m = np.full(int(within.max()) + 1, np.nan)
    m[ref.index.to_numpy()] = ref.to_numpy()
    return late & said[edge] & (lo > m[within])


def detect_clock_skew(
    spans: pd.DataFrame,
    *,
    by: Literal["auto", "service", "host"] = "auto",
    min_pairs: int = 10,
    min_traces: int = 3,
    threshold_ms: float = 1.0,
    min_violation_share: float = 0.1,
    max_rounds: int = 50,
) -> pd.DataFrame:
    """Estimate each clock's offset from client→server pairs; one row per service/host.

    Pairs are a ``server`` span whose parent is a ``client`` span of another node, both
    finished, the client not being a queue hand-off (messaging span, SQS ``SendMessage``, …) and
    lasting at least as long as the server span (a longer server span was not waited for: async); a server span that starts
    after its client span ended is left out too where the other pairs between the same two clocks in its trace
    (at least 3, and a tenth, of them over all traces) say an offset that leaves it ending after its client span (a
    fire-and-forget call, not a clock). Columns: ``service``, ``host`` (``<NA>`` when clocks are services),
    ``estimate_ms`` (how far ahead the clock runs; subtract it to correct), ``spread_ms``
    (1.4826 × median absolute deviation of the pairs around the estimate), ``n_pairs``, ``n_traces``
    (the traces those pairs lie in) and ``first_seen`` / ``last_seen`` (their window: the earliest client span's
    start, the latest one's end),
    ``n_violations`` / ``violation_share`` (pairs whose server span is not inside its client
    span, as they were recorded), ``skewed``: at least ``min_pairs`` pairs in at least ``min_traces`` traces (the
    pairs of one trace are one request at one moment, not independent readings: a right host called 10 times in one
    trace of 200, its spans 40 ms late in it, was flagged +40 ms and its spans moved),
    ``|estimate_ms| ≥ threshold_ms``, larger than 3 standard errors of the median, and at
    least ``min_violation_share`` of the pairs violating (a server span that fits inside its
    client span is no evidence of skew, however off-centre it sits: a client that spends time
    before sending or after receiving moves the midpoint without any clock being wrong);
    ``change_ms``: the same estimate on the pairs from ``change_at`` on minus on those before, split (by their
    client span's start) at a half, a sixth or five sixths of all pairs, where it changed most against its standard
    error (two halves alone missed a step in the first or last quarter of the window), ``NaN`` when the clock has
    pairs on one side of every split; ``change_after`` / ``change_at``: where the change lies, between two of the
    clock's traces (their earliest client starts), at the split of its traces in time order that leaves the least
    squared deviation of their offsets within each part (a step at 14:16:40 read "from 14:30:00 UTC on": the split of
    the pairs compared), and ``steady``: not (at least ``min_pairs``
    pairs in at least ``min_traces`` traces and ``|change_ms|`` at least ``threshold_ms`` and larger than 3
    standard errors; each side of the split holding ``min_pairs`` of its pairs): its estimate did not keep one value,
    and :func:`adjust_clock_skew` leaves it alone; ``stepped``: not steady, and it moved against **most** clocks it
    shares pairs with (per neighbour, the median offset of their pairs after the split less before; the weighted
    median of those moves, where neighbours holding more than half the weight moved with it, and at least half among
    its callers and among its callees each; at least ``threshold_ms`` and 3 standard errors; a pod stepped with the node it shares a
    clock with still steps, a pod whose answers are delayed does not): a clock stepped (NTP) or drifting
    over the window has no one offset. An estimate moves without its clock too: with the one neighbour it was solved
    against, or with the mix of pairs that disagree by neighbour (a pod whose answers are delayed reads the delay
    behind its callers and on time with its callees); such a row is not steady and not stepped (fault lab
    network_delay seed 7, incident alone: eleven clocks moved 2.1 to 12.7 ms, none stepped; each stepped before).
    The data only gives offsets between clocks; the reference (0) is the clock of the median
    span, so with two clocks the one that stamped more spans is taken as right (on a tie, the
    one whose offset comes out lower).
    Nodes that take part in no pair are not listed. Sorted by ``|estimate_ms|``, largest first.
    The input is not modified.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    by : Literal['auto', 'service', 'host'], default 'auto'
        Whose clock a span has: ``"service"``, ``"host"`` (resource keys) or ``"auto"`` (host when known).
    min_pairs : int, default 10
        Client→server pairs a clock needs before it can be flagged.
    min_traces : int, default 3
        Traces those pairs must lie in before the clock can be flagged (skewed, or not steady).
    threshold_ms : float, default 1.0
        Smallest offset flagged, in ms.
    min_violation_share : float, default 0.1
        Share of a clock's pairs whose server span is outside its client span needed to flag it.
    max_rounds : int, default 50
        Rounds of the iterative estimate (offsets between clocks refined until stable).

    Returns
    -------
    pandas.DataFrame
        Estimate each clock's offset from client→server pairs; one row per service/host.

    Examples
    --------
    >>> import tracekit as tk
    >>> list(tk.detect_clock_skew(tk.empty_spans()).columns)[:4]
    ['service', 'host', 'estimate_ms', 'spread_ms']
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "detect_clock_skew")
    min_pairs = count_arg(min_pairs, "min_pairs", "detect_clock_skew", minimum=1)
    min_traces = count_arg(min_traces, "min_traces", "detect_clock_skew", minimum=1)
    min_violation_share = number_arg(min_violation_share, "min_violation_share", "detect_clock_skew", low=0, high=1)
    threshold_ms = number_arg(threshold_ms, "threshold_ms", "detect_clock_skew", low=0)
    max_rounds = count_arg(max_rounds, "max_rounds", "detect_clock_skew", minimum=0)
    node, table = _nodes(spans, by, "detect_clock_skew")
    # whose clocks the rows are: a row without a host is then the service's spans that name no host
    # (adjust_clock_skew), or every span of the service
    clocks = "service" if by == "service" or "resource" not in spans.columns else "host"
    c, p, off, viol, trace = _pairs(spans, node)
    k = len(table)
    if not len(c):
        out = _frame(table.iloc[:0], np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), min_pairs, threshold_ms, min_violation_share,
                     min_traces=min_traces)
        out.attrs["clocks"] = clocks
        return out
    sn, cn = node[c], node[p]
    weights = np.bincount(node, minlength=k)  # spans stamped by each clock
    est, who, other, sign, o2 = _solve(sn, cn, off, k, weights, max_rounds, trace)
    n_pairs = np.bincount(who, minlength=k)
    implied = est[other] + sign * o2
    resid = np.abs(implied - est[who])
    spread = pd.Series(resid).groupby(who).median() * 1.4826
    n_viol = np.bincount(who, weights=np.concatenate([viol, viol]).astype(float), minlength=k).astype(np.int64)
    spread_a = np.full(k, np.nan)
    spread_a[spread.index.to_numpy()] = spread.to_numpy()
    t_pair = np.concatenate([ns(spans["start"])[p]] * 2)  # each sample's client start
    change, change_at, n_half = _change(ns(spans["start"])[p], sn, cn, off, k, weights, max_rounds, spread_a, trace,
                                        min_pairs)
    own = _own_step(who, other, implied - est[who], t_pair, np.concatenate([trace, trace]), k, change_at)
    # where the change lies, at the resolution of the data: between two of the clock's traces (the split compared
    # above is a share of all pairs, said as the step's time: a step at 14:16:40 read "from 14:30:00 UTC on")
    change_after, change_at = _locate(who, implied - est[who], t_pair, np.concatenate([trace, trace]), k, change_at)
    used = np.flatnonzero(n_pairs)
    # the population and window behind each estimate: the traces its pairs lie in, from the earliest client span's
    # start to the latest one's end (a skew said without them read as holding for every trace, all the time)
    tcode = np.concatenate([trace, trace])
    n_tr = pd.Series(tcode).groupby(who).nunique()
    n_traces = np.zeros(k, np.int64)
    n_traces[n_tr.index.to_numpy()] = n_tr.to_numpy()
    cstart, cend = ns(spans["start"])[p], ns(spans["end"])[p]
    first = np.full(k, np.iinfo(np.int64).max)
    last = np.full(k, np.iinfo(np.int64).min)
    np.minimum.at(first, who, np.concatenate([cstart, cstart]))
    np.maximum.at(last, who, np.concatenate([cend, cend]))
    out = _frame(table.iloc[used], est[used], spread_a[used], n_pairs[used], n_viol[used], min_pairs, threshold_ms,
                 min_violation_share, n_traces[used], first[used], last[used], change[used], n_half[:, used],
                 min_traces=min_traces, change_at=change_at[used], change_after=change_after[used], own=own[used])
    out.attrs["clocks"] = clocks
    return out


def _locate(who: np.ndarray, resid: np.ndarray, t: np.ndarray, trace: np.ndarray, k: int,
            fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per clock, where its offset changed: each trace's median residual (the clock's pairs in it, ``resid`` ms
    around its estimate), its traces ordered by their earliest client start ``t`` (int64 ns), split at the boundary
    that leaves the least squared deviation within the two parts (prefix sums: linear after sorting). Returns the
    earliest client start of the last trace before and of the first trace after the split (int64 ns; ``fallback``
    and min int64 for a clock seen in one trace). A step between traces 299 and 300 of 360 is said between them,
    not at the split of the pairs compared (a step at 14:16:40 read "from 14:30:00 UTC on")."""
    after = np.full(k, np.iinfo(np.int64).min)
    at = np.asarray(fallback, dtype=np.int64).copy()
    if not len(who):
        return after, at
    cell, first = pd.factorize(who.astype(np.int64) * (int(trace.max()) + 1) + trace)
    g = pd.DataFrame({"cell": cell, "r": resid, "t": t}).groupby("cell", sort=True)
    r = g["r"].median().to_numpy()
    tt = g["t"].min().to_numpy()
    node = (np.asarray(first) // (int(trace.max()) + 1)).astype(np.int64)
    o = np.lexsort((tt, node))
    r, tt, node = r[o], tt[o], node[o]
    n_node = np.bincount(node, minlength=k)
    start = np.r_[0, np.cumsum(n_node)][:-1]
    pos = np.arange(len(node)) - start[node]  # index of the trace within its clock, in time order
    r = r - (np.bincount(node, weights=r, minlength=k) / np.maximum(n_node, 1))[node]  # centred: no cancellation
    c1, c2 = np.cumsum(r), np.cumsum(r * r)
    base1 = np.r_[0.0, c1][start][node]
    base2 = np.r_[0.0, c2][start][node]
    s1, s2 = c1 - base1, c2 - base2  # the left part: traces 0..pos of its clock
    tot1 = np.bincount(node, weights=r, minlength=k)[node]
    tot2 = np.bincount(node, weights=r * r, minlength=k)[node]
    nl = pos + 1.0
    nr = n_node[node] - nl
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = (s2 - s1 * s1 / nl) + ((tot2 - s2) - (tot1 - s1) ** 2 / nr)
    cost = np.where(nr > 0, cost, np.inf)
    best = pd.Series(cost).groupby(node).idxmin()  # the first of equal costs: the earlier split
    ok = np.isfinite(cost[best.to_numpy()])
    i, nodes = best.to_numpy()[ok], best.index.to_numpy()[ok]
    after[nodes], at[nodes] = tt[i], tt[i + 1]
    return after, at


#: where the pairs (by their client span's start) are split to compare the estimates before and after: the half,
#: then a sixth from either end (two halves alone missed a step in the first or last quarter of the pairs: a clock
#: 60 ms ahead until trace 300 of 360 read 60 on both halves, steady, and its last 60 traces' spans were moved 60 ms
#: wrong; a median reads a side's majority, so a split at q sees a step between q/2 and (1+q)/2 of the pairs)
CHANGE_SPLITS = (1 / 2, 1 / 6, 5 / 6)


def _change(t: np.ndarray, sn: np.ndarray, cn: np.ndarray, off: np.ndarray, k: int, weights: np.ndarray,
            max_rounds: int, spread: np.ndarray, trace: np.ndarray, min_pairs: int):
    """Per clock, the change of its estimate across the split of the pairs (client start ``t``) where it changed
    most against its standard error (:data:`CHANGE_SPLITS`; on a tie the earlier listed), the first later pair's
    ``t`` (int64 ns; min int64 when none) and the pairs each side (2 × k). A clock stepped (NTP) or drifting over
    the window has no one offset (a clock 60 ms ahead for 200 of 360 traces and right after read "60 ms ahead,
    spread 0.00 ms", and every span of it was moved by -60 ms). A side needs ``min_pairs`` of the clock's pairs (as an
    offset does): 2 late pairs 14 ms off read as a step (fault lab network_delay seed 4, rate-service, 11 pairs before
    and 2 after)."""
    change = np.full(k, np.nan)
    at = np.full(k, np.iinfo(np.int64).min)
    n_half = np.zeros((2, k), np.int64)
    best = np.full(k, -np.inf)
    ordered = np.sort(t)
    for q in CHANGE_SPLITS:
        # by count, in int64 ns: the ⌈q·n⌉-th earliest pair and those tied with it stay before the split
        late = t > ordered[max(int(np.ceil(q * len(t))) - 1, 0)]
        if not late.any() or late.all():
            continue
        est, n = [], np.zeros((2, k), np.int64)
        for h, m in enumerate((~late, late)):
            e_h, who_h = _solve(sn[m], cn[m], off[m], k, weights, max_rounds, trace[m])[:2]
            n[h] = np.bincount(who_h, minlength=k)
            est.append(e_h)
        ch = np.round(est[1] - est[0], 6)
        se = 1.2533 * np.nan_to_num(spread) * np.sqrt(1 / np.maximum(n[0], 1) + 1 / np.maximum(n[1], 1))
        score = np.abs(ch) / np.maximum(se, 1e-9)
        better = (n >= min_pairs).all(axis=0) & (score > best)
        change[better], at[better], n_half[:, better], best[better] = ch[better], t[late].min(), n[:, better], score[better]
    return change, at, n_half


def _own_step(who: np.ndarray, other: np.ndarray, resid: np.ndarray, t: np.ndarray, trace: np.ndarray, k: int,
              at: np.ndarray) -> np.ndarray:
    """Per clock, how far it moved against **most** of the clocks it shares pairs with across its split (``at``, int64
    ns; min int64: none): per neighbour (``other``), the median of the pairs' offsets from ``at`` on less before
    (``resid``: what a pair implies for ``who`` less its estimate; a clock's pairs in one trace weigh one together);
    the weighted median of those moves (each neighbour weighing ``n_before·n_after / (n_before + n_after)`` of its
    pairs) where neighbours holding more than half that weight moved with it (the same sign, at least half as far),
    and at least half among its callers and among its callees each — else 0; NaN without a split or a neighbour seen
    on both sides.

    A stepped clock moves against its neighbours — all but those that stepped with it (two pods of one Kubernetes node
    share its clock), as the server of its callers and the client of its callees. A delay in answering moves only
    its callers' pairs (fault lab network_delay seed 4, baseline and incident: the delayed pod's callers moved, its
    callees did not). An estimate also moves when the clock's pairs disagree by
    neighbour and their mix changes (a pod called by one whose requests are delayed reads the delay behind that caller
    and on time with the others), or with the one neighbour it was solved against: fault lab network_delay seed 7 read
    eleven clocks as stepped 2.1 to 12.7 ms within the incident (the injected pod's callees following its estimate, a
    pod its delayed requests reached half the time), none did, and no neighbour's pairs moved; a web server calling a
    stepped clock and a steady one moved +60 against the first and 0 against the second: not its step (half the
    weight is no majority)."""
    out = np.full(k, np.nan)
    has = at != np.iinfo(np.int64).min
    if not len(who) or not has.any():
        return out
    # a neighbour per role: the samples are each pair twice, first as the server's (who = server), then the client's
    role = (np.arange(len(who)) < len(who) // 2).astype(np.int64)
    edge, uniq = pd.factorize((who.astype(np.int64) * k + other.astype(np.int64)) * 2 + role)
    n_e = len(uniq)
    clock = (np.asarray(uniq, dtype=np.int64) // 2 // k).astype(np.int64)
    e_role = (np.asarray(uniq, dtype=np.int64) % 2).astype(np.int64)
    late = t >= at[who]
    med, n_side = np.full((2, n_e), np.nan), np.zeros((2, n_e))
    for h, m in enumerate((~late, late)):
        med[h], n_side[h] = balanced_medians_grouped(edge[m], resid[m], _trace_weights(edge[m], trace[m]), n_e)
    both = ~np.isnan(med).any(axis=0) & has[clock]
    d, c_b = np.round(med[1] - med[0], 6)[both], clock[both]
    w = (n_side[0] * n_side[1] / (n_side[0] + n_side[1]))[both]  # an edge seen little on a side weighs little
    m_c, _ = balanced_medians_grouped(c_b, d, w, k)
    m_e = m_c[c_b]
    along = (np.sign(d) == np.sign(m_e)) & (np.abs(d) >= np.abs(m_e) / 2)  # the edge moved with the clock's median
    # as a server and as a client alike: a clock moves both; a delay in answering moves its callers' pairs alone
    cr = c_b * 2 + e_role[both]
    total = np.bincount(cr, weights=w, minlength=2 * k).reshape(k, 2)
    moved = np.bincount(cr, weights=w * along, minlength=2 * k).reshape(k, 2)
    most = (moved >= total / 2).all(axis=1) & (moved.sum(axis=1) > total.sum(axis=1) / 2)
    seen = ~np.isnan(m_c)
    out[seen] = np.where(most, m_c, 0.0)[seen]
    return out


def _trace_weights(group: np.ndarray, trace: np.ndarray) -> np.ndarray:
    """Per sample: 1 / the samples of its group in its trace (the pairs of one trace are one request, one moment)."""
    if not len(group):
        return np.zeros(0)
    t = trace.astype(np.int64)
    cell = pd.factorize(group.astype(np.int64) * (int(t.max()) + 1) + t)[0]
    return 1.0 / np.bincount(cell)[cell]


def _solve(sn: np.ndarray, cn: np.ndarray, off: np.ndarray, k: int, weights: np.ndarray, max_rounds: int,
           trace: np.ndarray):
    """Offsets of ``k`` clocks from pairs (server clock ``sn``, client clock ``cn``, midpoint offset ``off`` ms,
    ``trace`` code of each pair): the least-squares start, then median rounds, re-anchored on the clock of the median
    span (``weights``: spans per clock). Each round's median weighs traces, not pairs: a pair of a clock weighs 1 / the
    clock's pairs in its trace (the pairs of one trace are one request at one moment: a right host called once in
    each of 5 traces and 50 times in a sixth whose spans sat 40 ms late read +40 ms). Returns the offsets and, per sample (each pair twice, once per side), its clock, the other side's
    clock, the sign and the offset."""
    # each pair gives a sample for both nodes: server = client + off, client = server - off
    who = np.concatenate([sn, cn])
    other = np.concatenate([cn, sn])
    sign = np.concatenate([np.ones(len(sn)), -np.ones(len(sn))])
    o2 = np.concatenate([off, off])
    # each trace a clock takes part in weighs 1 in its median, however many of its pairs lie in that trace
    w2 = _trace_weights(who, np.concatenate([trace, trace]))
    # start from the least-squares fit of the clock pairs' median offsets (exact when the pairs agree), then refine
    est = _edge_fit(sn, cn, off, k)
    # Gauss-Seidel: visit clocks with most pairs first, each takes the median its pairs imply
    order = np.argsort(who, kind="stable")
    bounds = np.searchsorted(who[order], np.arange(k + 1))
    n_pairs = np.bincount(who, minlength=k)
    used = np.flatnonzero(n_pairs)
    visit = used[np.argsort(-n_pairs[used], kind="stable")]
    # each clock's samples gathered once (the other side's clock, the signed offset, the weight): a round reads them,
    # it does not gather them again, and takes their median with the kernel (checks done once: ~40k medians a
    # postmortem; detect_clock_skew on 5 frames 0.89 -> 0.61 s CPU)
    parts = [(node_, other[idx], sign[idx] * o2[idx], w2[idx])
             for node_ in visit.tolist() for idx in [order[bounds[node_]:bounds[node_ + 1]]]]
    for _ in range(max_rounds):
        before = est.copy()
        for node_, oth, d, w in parts:
            est[node_] = balanced_median_of(est[oth] + d, w)
        # re-anchor: the clock of the median span is the reference
        est[used] -= percentile(est[used], 0.5, weights=weights[used]) if len(used) else 0.0
        if np.max(np.abs(est - before)) < 1e-6:
            break
    return est, who, other, sign, o2


def _edge_fit(sn: np.ndarray, cn: np.ndarray, off: np.ndarray, k: int) -> np.ndarray:
    """Offsets of ``k`` clocks fitted to the median offset of each pair of clocks (server − client), by least
    squares weighted by the pairs behind each median (one clock of each connected group of clocks held at 0).

    The start of the median rounds: started from 0, a clock's median is decided by whichever neighbour it shares the
    most pairs with, so two clocks tied by many pairs (catalog and the inventory it calls N times) moved only
    together or not at all; a catalog 25 ms behind read -1.8 ms and the inventory it calls +23 ms."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import spsolve

    lo, hi = np.minimum(sn, cn), np.maximum(sn, cn)
    val = np.where(sn == hi, off, -off)  # offset(hi) − offset(lo) each pair implies
    key = lo * k + hi
    order = np.lexsort((val, key))
    key, val = key[order], val[order]
    ukey, first, cnt = np.unique(key, return_index=True, return_counts=True)
    med = (val[first + (cnt - 1) // 2] + val[first + cnt // 2]) / 2.0  # per pair of clocks: the median
    a, b, w = ukey // k, ukey % k, cnt.astype(np.float64)
    # normal equations: the weighted graph Laplacian L x = B, L singular per connected group: one clock held at 0
    lap = coo_matrix((np.r_[w, w, -w, -w], (np.r_[a, b, a, b], np.r_[a, b, b, a])), shape=(k, k)).tocsr()
    rhs = np.bincount(b, weights=w * med, minlength=k) - np.bincount(a, weights=w * med, minlength=k)
    n_comp, label = connected_components(coo_matrix((w, (a, b)), shape=(k, k)), directed=False)
    pairs = np.bincount(np.r_[a, b], weights=np.r_[w, w], minlength=k)
    held = np.zeros(k, dtype=bool)
    for c in range(n_comp):  # the clock with most pairs of each group (a clock without pairs: held too)
        members = np.flatnonzero(label == c)
        held[members[np.argmax(pairs[members])]] = True
    free = np.flatnonzero(~held)
    est = np.zeros(k)
    if len(free):
        sub = lap[free][:, free].tocsc()
        est[free] = np.atleast_1d(spsolve(sub, rhs[free]))
    return est


def _frame(table, est, spread, n_pairs, n_viol, min_pairs, threshold_ms, min_violation_share,
           n_traces=None, first=None, last=None, change=None, n_half=None, min_traces=1,
           change_at=None, change_after=None, own=None) -> pd.DataFrame:
    k = len(table)
    change = np.full(k, np.nan) if change is None else np.round(np.asarray(change, dtype=float), 6) + 0.0
    n_half = np.ones((2, k)) if n_half is None else np.maximum(np.asarray(n_half, dtype=float), 1)
    n_traces = np.zeros(k, np.int64) if n_traces is None else np.asarray(n_traces, dtype=np.int64)
    first = np.zeros(k, np.int64) if first is None else np.asarray(first, dtype=np.int64)
    last = np.zeros(k, np.int64) if last is None else np.asarray(last, dtype=np.int64)
    at = np.full(k, np.iinfo(np.int64).min) if change_at is None else np.asarray(change_at, dtype=np.int64)
    change_at = pd.to_datetime(np.where(np.isnan(change), np.iinfo(np.int64).min, at), unit="ns", utc=True).as_unit("ns")
    before = np.full(k, np.iinfo(np.int64).min) if change_after is None else np.asarray(change_after, dtype=np.int64)
    change_after = pd.to_datetime(np.where(np.isnan(change), np.iinfo(np.int64).min, before), unit="ns",
                                  utc=True).as_unit("ns")
    est = np.round(np.asarray(est, dtype=float), 6) + 0.0
    spread = np.round(np.asarray(spread, dtype=float), 6)
    n_pairs = np.asarray(n_pairs, dtype=np.int64)
    se = 1.2533 * spread / np.sqrt(np.maximum(n_pairs, 1))
    vshare = np.where(n_pairs > 0, np.asarray(n_viol) / np.maximum(n_pairs, 1), np.nan)
    enough = (n_pairs >= min_pairs) & (n_traces >= min_traces)  # the pairs of one trace are one request, one moment
    skewed = enough & (np.abs(est) >= threshold_ms) & (np.abs(est) > 3 * se) & (vshare >= min_violation_share)
    # a change across the split larger than the tolerance and 3 standard errors of a difference of two medians
    se_change = 1.2533 * spread * np.sqrt(1 / n_half[0] + 1 / n_half[1])
    steady = ~(enough & (np.abs(change) >= max(threshold_ms, 1e-9)) & (np.abs(change) > 3 * se_change))
    own = np.full(k, np.nan) if own is None else np.asarray(own, dtype=float)
    stepped = ~steady & (np.abs(own) >= max(threshold_ms, 1e-9)) & (np.abs(own) > 3 * se_change)
    out = pd.DataFrame(
        {
            "service": pd.array(table["service"].to_numpy(dtype=object), dtype="string[pyarrow]"),
            "host": pd.array(table["host"].to_numpy(dtype=object), dtype="string[pyarrow]"),
            "estimate_ms": est,
            "spread_ms": spread,
            "n_pairs": n_pairs,
            "n_traces": n_traces,
            "first_seen": pd.to_datetime(first, unit="ns", utc=True).as_unit("ns"),
            "last_seen": pd.to_datetime(last, unit="ns", utc=True).as_unit("ns"),
            "n_violations": np.asarray(n_viol, dtype=np.int64),
            "violation_share": vshare,
            "skewed": skewed.astype(bool),
            "change_ms": change,
            "change_after": change_after,
            "change_at": change_at,
            "steady": steady.astype(bool),
            "stepped": stepped.astype(bool),
        }
    )
    order = np.lexsort((out["service"].astype(str).to_numpy(), -np.abs(est)))
    return out.iloc[order].reset_index(drop=True)


def adjust_clock_skew(spans: pd.DataFrame, skew: pd.DataFrame | None = None, *, only_skewed: bool = True) -> pd.DataFrame:
    """Return a copy of ``spans`` with every span of a skewed clock shifted back by its estimate.

    ``skew`` is the result of :func:`detect_clock_skew` (computed with defaults when omitted);
    rows with ``host`` set shift the spans of that host of the service; a row without a host shifts the
    service's spans that name no host when the clocks are hosts (``skew.attrs["clocks"] == "host"``, as
    :func:`detect_clock_skew` with ``by="auto"`` or ``"host"`` sets it; without that attribute: when some row of
    ``skew`` names a host), else every span of the service (its descendants in the same service/host are on the
    same clock, so they move too; spans on other clocks stay). With ``only_skewed`` (default) only
    rows flagged ``skewed`` (and ``steady``, when the table says it: a clock that stepped or drifted over the
    window has no one offset) are applied. ``duration_ms`` is unchanged. The copy has a column
    ``clock_shift_ms`` (the shift applied to each span, 0.0 for most) and lists every shift in
    ``attrs["clock_shifts"]``: dicts ``{service, host, shift_ms, n_spans}``. The input is not
    modified.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    skew : pandas.DataFrame | None, default None
        Offsets as :func:`detect_clock_skew` returns them (``None``: estimated here).
    only_skewed : bool, default True
        Correct only the clocks flagged ``skewed`` (``False``: every estimated offset).

    Returns
    -------
    pandas.DataFrame
        Return a copy of ``spans`` with every span of a skewed clock shifted back by its estimate.

    Examples
    --------
    >>> import tracekit as tk
    >>> tk.adjust_clock_skew(tk.empty_spans()).attrs["clock_shifts"]
    []
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "adjust_clock_skew")
    if skew is None:
        skew = detect_clock_skew(spans)
    missing = [c for c in ("service", "host", "estimate_ms") if c not in skew.columns]
    if missing:
        raise ArgumentError(f"skew table is missing columns {', '.join(missing)} (pass the result of detect_clock_skew)")
    # clocks by host (detect_clock_skew's attrs["clocks"]; else: some row names a host): a row without a host is the
    # clock of the service's spans that name no host, not of its hosts' too (a hostless db 5 s ahead shifted the spans
    # of its host d1, estimated 0, by -5 s as well)
    by_host = (skew.attrs["clocks"] == "host") if "clocks" in skew.attrs else bool(skew["host"].notna().any())
    rows = skew[skew["skewed"].astype(bool)] if only_skewed and "skewed" in skew.columns else skew
    if only_skewed and "steady" in rows.columns:  # a clock stepped or drifting has no one offset to take off
        rows = rows[rows["steady"].astype(bool)]
    out = spans.copy()
    shift_ns = np.zeros(len(out), dtype=np.int64)
    shifts: list[dict] = []
    if len(rows):
        svc = known_service_column(out["service"]).to_numpy(dtype=object)
        host = _hosts(out) if by_host or rows["host"].notna().any() else None
        for r in rows.itertuples(index=False):
            if not np.isfinite(pd.to_numeric(r.estimate_ms, errors="coerce")):
                raise ArgumentError(f"adjust_clock_skew: the skew row of service {r.service!r}"
                                    + ("" if pd.isna(r.host) else f" host {r.host!r}")
                                    + f" has estimate_ms {r.estimate_ms!r}, not a finite number of ms to shift by")
            m = svc == r.service
            if pd.notna(r.host):
                m &= host == r.host
            elif by_host:
                m &= np.fromiter((h is None for h in host), dtype=bool, count=len(host))
            s = -int(round(float(r.estimate_ms) * 1e6))
            shift_ns[m] = s
            shifts.append({"service": str(r.service), "host": None if pd.isna(r.host) else str(r.host),
                           "shift_ms": s / 1e6, "n_spans": int(m.sum())})
        delta = pd.to_timedelta(shift_ns, unit="ns")
        out["start"] = out["start"] + delta
        out["end"] = out["end"] + delta
    out["clock_shift_ms"] = shift_ns / 1e6
    out.attrs = {**spans.attrs, "clock_shifts": shifts}
    return out


def change_waits(spans: pd.DataFrame, rows: pd.DataFrame, clocks: str = "host") -> dict:
    """Per row of ``rows`` (rows of :func:`detect_clock_skew`, by position) whose clock did not keep one offset: the
    median wait outside the server span (the client span's duration minus its server span's, ms) of the clock's
    client→server pairs before its ``change_at`` and from it on, and the pairs on each side.

    Durations do not depend on clocks: a clock that stepped leaves the waits as they were, a delay in the network or
    in answering lengthens them by the delay (and moves the pairs' midpoints by half of it).

    Parameters
    ----------
    spans : pandas.DataFrame
        The spans ``rows`` were found in.
    rows : pandas.DataFrame
        Rows of :func:`detect_clock_skew` of ``spans``.
    clocks : {"host", "service"}
        What the rows' clocks are (``detect_clock_skew(...).attrs["clocks"]``).

    Returns
    -------
    dict
        Position in ``rows`` -> (median wait before ms, median wait after ms, pairs before, pairs after), for the
        rows not steady with pairs on both sides.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", 60, seed=1).spans
    >>> change_waits(spans, detect_clock_skew(spans))
    {}
    """
    node, table = _nodes(spans, "service" if clocks == "service" else "host", "change_waits")
    c, p = _pairs(spans, node)[:2]
    st, en = ns(spans["start"]), ns(spans["end"])
    gap = ((en[p] - st[p]) - (en[c] - st[c])) / 1e6
    t = st[p]
    svc, host = table["service"].to_numpy(dtype=object), table["host"].to_numpy(dtype=object)
    out = {}
    for i, r in enumerate(rows.itertuples()):
        if r.steady or pd.isna(r.change_at):
            continue
        k = np.flatnonzero((svc == r.service) & (host == (r.host if isinstance(r.host, str) else None)))
        if not len(k):
            continue
        mine = (node[c] == k[0]) | (node[p] == k[0])
        before, after = gap[mine & (t < r.change_at.value)], gap[mine & (t >= r.change_at.value)]
        if len(before) and len(after):
            out[i] = (float(percentile(before, 0.5)), float(percentile(after, 0.5)), len(before), len(after))
    return out
