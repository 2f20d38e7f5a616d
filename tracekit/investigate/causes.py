"""Rank the root cause: which component did this, with the evidence for each candidate.

:func:`rank_causes` compares the incident's spans with a baseline's (given, else the normal period
before the change :func:`~tracekit.detect_changes` finds, cut with :func:`~tracekit.split_by_change`)
and ranks the components at one ``level`` — ``service``, ``operation`` (service and span name),
``host`` (pod, instance: :func:`tracekit.core.hosts`) or ``version`` (:func:`tracekit.core.versions`).

The score
---------
Each kind of evidence is the **share of the component's incident spans that look abnormal**
against the baseline, shrunk towards what the baseline itself shows (``prior`` pseudo-spans at the
expected rate, so three odd spans of a rare operation do not outrank three hundred), and the
score is their weighted sum (``evidence_weights``, all 1 by default):

- ``slower`` — own work grew (CPU contention, a slow query in a leaf call): the share of spans
  whose exclusive time (:func:`~tracekit.self_time`) exceeds the baseline's ``q``-quantile of the
  same operation, minus the share expected by chance: a new span exceeds the k-th smallest of n
  baseline spans (k = ⌈q·n⌉) with probability (n − k + 1)/(n + 1) — 1 − q only for large n
  (0.17 for n = 5, 0.095 for n = 20), so a rarely called operation is not made to look slower by
  its small baseline. A baseline minute in which the operation's own time sat far above its other
  minutes' (an earlier fault on it: :func:`tracekit.core.normal_slices`, binomial at 1 % family-wise,
  only while such minutes hold under half its spans) is left out of its quantile and of n, and the
  words say how many spans were: Nezha's faults come in triples on one service, so the second and third
  are ranked against a baseline holding the first. On the fault lab with the previous fault on the same
  service (``bench_fault_lab --baseline-fault mixed --baseline-fault-on same``, seeds 0–19) AC@1 from
  traces went 50 → 54 %, all three signals 61 → 65 %, clean baselines unchanged (55 / 68 %);
- ``waiting`` — the network or a queue between caller and callee grew (a delay on the component's
  interface): for each call from one service into another, the caller's span minus the callee's
  span (the time the caller waited outside the callee), above the normal limit of the same caller →
  callee operation pair in the baseline — its ``q``-quantile, or its median plus 3 robust standard
  deviations when that is lower (:func:`tracekit.core.upper_limits`) — beyond the chance of that (the
  share of the pair's baseline gaps above the limit, by order statistics), counted at the end of the call
  its neighbouring hops corroborate (:func:`tracekit.analysis.hop_blame.shared_end_weights`: the callee
  when its other callers wait too, the caller when its calls into other callees do; both ends when neither
  or both are — a delay on one link; at operation level the ends are judged by service, as a pod's network
  and a service's CPU are shared by its operations). A delay on one **host** of a component (a pod's network)
  makes only that host's calls wait, diluted by its other hosts' when pooled: a component with several hosts takes
  its most abnormal host's share where that exceeds the pooled one by more than the allowance the operations get
  below (2 binomial standard errors at the chance rate), and the words name the host. Fault lab network delays
  (one pod of 1–3 injected), all three signals, AC@1: 70 → 90 % (seeds 0–19), 75 → 100 % (held out, 1000–1019). Counted whole at both ends, the three callers of a callee with a
  delayed interface scored 0.46 each beside its 0.93 (generated, ``tests/test_cause_shapes.py``); now at
  most 0.04; on Nezha's frontend CPU fault (03:53) the runner-up fell from 0.99 (adservice, 0.02 behind
  frontend's 1.01) to 0.48. The cap: a
  baseline that holds minutes of an earlier incident on the same hop has its p95 at that incident's
  level once more than 5 % of its calls come from it, and no new delay can exceed it (Nezha 2022-08-22
  05:27, currencyservice's network delay 9 minutes after its CPU fault: every call waited ~590 ms against
  a baseline median of 87 ms and p95 of 4,393 ms, and currencyservice ranked 9th; with the cap 1st). The
  median and its absolute deviation hold until half the baseline is abnormal. ``slower`` keeps the
  plain quantile: a span's own work varies with the request, and capping its limit lifted normal tails
  over the frontend's CPU faults on the same day (2 of them fell to 2nd and 3rd);
- ``extra`` — calls beyond what the baseline's rate per request predicts (a deploy's new call, retries,
  cold starts), over the calls seen;
- ``vanished`` — calls the baseline's rate predicts but the incident lacks (an exception that
  skips work): the calls missing below the expected count, over the expected count. For both, the
  expected count is per context: a request's root span by its route (the baseline's calls per
  request of the route times the incident's requests of it), every other span by its parent's
  operation (the baseline's calls per span of that operation times the incident's spans of it),
  so calls that vanished because their caller stopped calling are expected to vanish and a vanished
  or new subtree counts where it begins, not again at every level below it. A parent span with a failed span
  below it (:func:`tracekit.core.failed`) is left out on both sides, and its child count is no ``shape``
  evidence: an error raised below ends or reroutes each caller it propagates through (the calls after the
  failed one skipped, a fallback's made), and it counts where it originates (``errors``). Fault lab, exception
  in admin-service (seed 19): its caller's caller ranked first at 1.21 on the calls it skipped and its stop after
  the failed call, above admin-service's 0.82 of error origins; now every other service scores under 0.07. A difference within
  two standard errors is chance: each request or parent span is one draw of its call count (a
  request type that brings ten calls brings them together), with the per-unit variance pooled over
  both sides (what no change would give) and the standard error of a difference of two means; a
  route the baseline never served, an operation it never ran, are left out (they say nothing about
  a component's rate). On the TrainTicket fault day, whose requests all enter
  through one gateway route (``/*``), a Poisson allowance in calls took the load generator's mix of
  request types for new and vanished calls (the top wrong component's score fell from 0.83 to 0.36
  on the 08:43 window);
- ``shape`` — spans whose number of direct children the baseline never showed for the operation
  (a changed call pattern: a retry loop, an early return), beyond the chance of a count not seen
  yet: the Good–Turing missing mass of the operation's baseline (its counts seen once over its
  spans), so three baseline spans with three different counts do not make a fourth count news.
  Children of an operation the baseline never saw under the parent's operation (a deploy's new call)
  are left out of the count when that makes it a seen one: they are the new child's ``extra``
  evidence, so the parent does not outrank the call that carries the added time. Or, when larger, the
  share of the component's steps from one *state* — its operation and the call it made last — that ended
  there where the baseline's spans never did, at the stop's origin (no stop below the call it stopped
  after), beyond the state's missing mass ((seen once + 1) / (steps + 1)), its most abnormal state's
  (:func:`tracekit.analysis.early_stops.early_stop_evidence`): an exception or early return skips the
  rest of one request type's work, and an entry operation serving every page dilutes it (Nezha
  OnlineBoutique 04:18, frontend's exception after PlaceOrder: 26 of its 533 ``Recv.`` spans, but 26
  of the 26 steps after PlaceOrder; frontend ranked 2nd–3rd at 0.05, now 1st at 0.70);
- ``errors`` — failed spans (:func:`tracekit.core.failed`) where the error **originates**
  (:func:`~tracekit.error_origins`: no failed child), beyond the baseline's share;
- ``answers`` — a wrong or unexpected answer leaves no mark on the spans of the component that gave it: its caller
  takes another branch, skips calls or raises an error of its own, so the evidence lands on the caller. Where the
  caller's course changed after the answers of **one host** of its callee far more often than after the callee's
  other hosts' (:func:`tracekit.analysis.course_changes.host_answers`: one-sided Fisher, Bonferroni over the
  callee's hosts, p ≤ ``alpha``), its own code did not change — a change in it would not follow one pod of its
  callee — so its evidence of a changed course (``extra``, ``vanished``, ``shape``, ``errors`` and its log evidence,
  weighted), times the share of its steps to a changed step that followed that host beyond the other hosts' rate, is
  counted at the key of the spans that answered, as an error counts where it originates: ``answers`` is what moved
  in, negative at the caller it moved from, and the column sums to 0. The caller is its key, or at operation level
  its service (the calls a changed course makes or skips are its client spans' evidence; where a frame records no
  client spans they are the callees' and stay there). With one host per service (Nezha's pods) nothing moves and
  the postmortem says "or what … answered it" instead. Fault lab, service level, all three signals, seeds 0–19:
  ``return`` AC@1 0 → 45 %; in 240 windows of every kind (seeds 0–39) every host it found was the injected pod.

At ``service``, ``host`` and ``version`` level each evidence is also measured per operation of the
component, and the component takes its most abnormal operation's (``evidence_operation``) when that
operation's score exceeds the component's pooled score by more than two binomial standard errors of a
share at the chance rate 1 − q over the operation's spans (plus the prior): a fault in one operation
is not diluted by the component's other, normal operations, and the largest of many small noisy
operations does not win by chance. ``waiting`` stays pooled per component (a delayed component is
at one end of every slow hop; per operation, its caller's client operation would tie with it), and
a span with a child in another service is left out of ``slower`` (its self time is that wait). A time difference
within four steps of the data's time resolution (:func:`tracekit.core.time_resolution_ns`: 1 µs for
X-Ray) is rounding, not evidence; caller-minus-callee gaps are taken in exact nanoseconds. With a
``baseline`` given, the incident window is found as without one and compared with the baseline's
same minutes (``window``). A span id repeated in its trace is one span (the other copies are left out, as
:func:`tracekit.core.span_tree` says): a fifth of the incident's rows given twice (overlapping exports put
together) made the parents of copied spans "a call pattern the baseline never showed", a "Likely cause" in 8 of
12 fault lab windows. The words (``hypothesis``) give the counts behind each score — "47 of its
47 spans" — and call the score a score.

Ranking by shares rather than milliseconds lets a 2 ms service whose every call got 40 % slower
outrank a 300 ms one that varies; the milliseconds are reported beside it as evidence:
``delta_cp_ms`` (exclusive critical-path ms per trace, with a bootstrap interval, from
:func:`~tracekit.compare`), ``delta_self_ms`` (exclusive time per request), ``delta_wait_ms``
(what callers wait outside the component per request), ``delta_calls`` / ``delta_fanout`` /
``delta_error_rate`` (from :func:`~tracekit.compare`), ``error_origin_share``, the most lifted
attribute of the component's incident spans (:func:`~tracekit.bubble_up`), one incident and one
baseline example trace, and a one-line ``hypothesis``. ``note`` says when a row is tied with the
next or rests on little evidence.

How the defaults were chosen and what they reach (``benchmarks/bench_rank_causes.py``, traces only,
service level, incident = 2 min after the injection, baseline = 10 min before): on the two Nezha fault
days (48 faults with traces in both windows) only the ``vanished`` weight was tried at 0.5 / 1 / 2;
``q`` 0.95, ``prior`` 10, equal weights and the route-conditioned counts were set before looking. The
chance rates (order statistics for ``slower`` / ``waiting``, Good–Turing for ``shape``) and
``min_spans`` 1 follow from the statistics, not from the scores; tried on the same days and not kept:
a binomial allowance on the shares (z = 2: one more OnlineBoutique fault first, one fewer TrainTicket),
routes through a forwarding root (a gateway's ``/*``: worse on both), Spring's error-dispatch spans
(``BasicErrorController.error``) read as failures (no change at AC@1). Expected calls conditioned on the
parent's operation (a vanished subtree counts once, at the call that broke) were tried with Poisson counts
(OnlineBoutique AC@1 75 → 80, AC@5 100 → 95: not kept) and kept once calls were counted per request or parent
span: against per-request counts by route alone, OnlineBoutique 80 / 95 / 95 → 90 / 95 / 95 % (frontend's
return and CPU-consumed faults first: every service below frontend's early return had lost calls) and
TrainTicket 14 / 14 / 21 → 18 / 21 / 29 %.
OnlineBoutique: AC@1 100 %, AC@3 100 %, AC@5 100 % (20 faults; the paper's trace-only MicroRank 41 / 48 /
63; 90 / 95 / 95 before issue 31's robust cap on the waiting limit, shared-end blame of slow hops and early
stops, 95 / 100 / 100 with the first two; the cap's
3 robust SDs were tried on this day against 5, and on slower too, which scored AC@1 80 and 85: not kept).
TrainTicket: 14 / 18 / 39 % (28 faults, with the abnormal-minutes rule of ``slower``; 18 / 21 / 32 before it, 18 / 21 / 29 before issue 31, and with metrics 14 / 21 / 36 against
18 / 25 / 32: two exception and return faults whose injected service scored within 0.02 of others near 0.1
moved down (1 → 2, 3 → 5); MicroRank 16 / 24 / 36; with calls counted as Poisson, by route,
75 / 100 / 100 and 14 / 14 / 25; before the per-operation evidence of issue 29, 75 / 90 / 100 and
18 / 21 / 25): its CPU faults are all found
first, its exception and return-value faults are not — they leave no mark that sets the injected
service apart in these status-less spans (``benchmarks/study_nezha_marks.py``: by the smallest
p-value of its call count, span time, exclusive time and callers' waiting, the injected service
ranks 13.9th of 27.5 services on the 13 exception faults and 15.7th on the 11 return faults, where
chance is 14.2 / 14.3; it is first in none).

>>> import tracekit as tk
>>> inc = tk.read(tk.examples.path("checkout-small"))
>>> rc = tk.rank_causes(inc, inc)            # a set against itself: nothing stands out
>>> float(rc["score"].max()) < 0.1
True
"""

from __future__ import annotations

import hashlib
import inspect
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    DEFAULT_N_BOOT,
    NAT_NS,
    boot_args,
    callees,
    count_arg,
    exceed_chance,
    failed,
    hosts,
    joint_codes,
    normal_slices,
    ns,
    number_arg,
    outcome_unknown,
    request_routes,
    require_columns,
    result_table,
    share_arg,
    share_beyond_chance,
    span_tree,
    time_resolution_ns,
    trace_weights,
    upper_limits,
    versions,
)
from ..core.deprecation import renamed
from ..core.words import ms_text, percent, plural
from ..errors import ArgumentError, TraceKitError
from ..schema import STRING, known_service_column

__all__ = ["rank_causes", "RANK_CAUSES", "RANK_CAUSES_SIGNALS", "LEVELS", "EVIDENCE", "level_frame", "chance_score", "CHANCE_SCORE",
           "CHANCE_MIN_TRACES", "SCORE_COLUMNS", "SAID_EVIDENCE"]

#: what ``level`` may be
LEVELS = ("service", "operation", "host", "version")
#: the kinds of evidence, in the order of the columns
EVIDENCE = ("slower", "waiting", "extra", "vanished", "shape", "errors", "answers")
#: an evidence share the words name (a row's hypothesis) and a signal supports a row with (``signals``): what the
#: row's score stands on
SAID_EVIDENCE = 0.05
#: the columns whose sum is a row's score: the traces' evidence, the logs' (with logs=) and the metrics' (with metrics=)
SCORE_COLUMNS = (*EVIDENCE, "log_templates", "log_errors", "metrics")
#: the evidence of a changed course (and the log evidence beside it) that moves from a caller to the one host of its
#: callee after whose answers the caller's course changed (``answers``)
_COURSE_EVIDENCE = ("extra", "vanished", "shape", "errors")

RANK_CAUSES = result_table("rank_causes", "one row per component at the level asked (key columns first), most likely cause first", [
    ("rank", "int64", "", "1 = the most likely cause"),
    ("score", "float64", "", "weighted sum of the evidence shares below (module docstring), and of log_templates, "
                             "log_errors and metrics (RANK_CAUSES_SIGNALS) when logs= or metrics= are given"),
    ("slower", "float64", "", "share of spans whose exclusive time exceeds the baseline's q-quantile of the operation (its baseline minutes far above its others left out: core.normal_slices), beyond the chance of that (order statistics: (n − k + 1)/(n + 1) for the k-th of n baseline spans kept; shrunk)"),
    ("waiting", "float64", "", "share of cross-service calls at the component (either end) whose caller-outside-callee time exceeds the call pair's normal limit in the baseline (its q-quantile, or median + 3 robust SDs when lower: core.upper_limits), each slow call counted at the end its neighbouring calls corroborate (analysis.hop_blame), beyond the chance of that (the baseline's share above it; shrunk); a component with several hosts takes its most abnormal host's share where that stands out beyond chance (the words name the host)"),
    ("extra", "float64", "", "calls beyond the count the baseline's rate predicts (per request of the route for root spans, per span of the parent's operation for the others), less two standard errors of the count (per-unit variance pooled over both sides), over the calls seen (shrunk): new operations, retries, cold starts"),
    ("vanished", "float64", "", "calls missing below the count the baseline's rate predicts, less the same two standard errors, over that count (shrunk)"),
    ("shape", "float64", "", "share of spans with a number of children the baseline never showed for the operation, beyond the chance of an unseen count (Good–Turing: counts seen once / baseline spans; shrunk); or, when larger, share of the steps from one (operation, last call) state that ended there where the baseline never did, at the stop's origin (analysis.early_stops)"),
    ("errors", "float64", "", "share of spans where an error originates, beyond the baseline's share (shrunk)"),
    ("answers", "float64", "", "evidence of a changed course moved here from callers whose course changed after this component's answers from one of its hosts far more often than after its other hosts' (analysis.course_changes.host_answers, p ≤ alpha): a caller's extra, vanished, shape, errors and log evidence times the share of its steps to a changed step that followed that host (beyond its other hosts' rate); negative at the caller it moved from"),
    ("evidence_operation", "string", "", "the operation (span name) of the component whose spans the shares above (but waiting) are measured on: at service, host and version level its most abnormal operation when that stands out beyond the component's pooled spans by more than chance (so a fault in one operation is not diluted by the others), else <NA> (all its spans); at operation level its own"),
    ("spans", "int64", "spans", "spans of the component in the incident"),
    ("baseline_spans", "int64", "spans", "spans of the component in the baseline"),
    ("delta_cp_ms", "float64", "ms", "exclusive critical-path ms per trace (compare's cp_ms: over the traces whose critical "
                                     "path was walked), incident − baseline"),
    ("delta_cp_ms_lo", "float64", "ms", "lower bound of delta_cp_ms (bootstrap, level ci)"),
    ("delta_cp_ms_hi", "float64", "ms", "upper bound of delta_cp_ms"),
    ("delta_self_ms", "float64", "ms", "exclusive (self) time of the component per request, incident − baseline"),
    ("delta_wait_ms", "float64", "ms", "time callers wait outside the component per request (caller span − component span), incident − baseline"),
    ("delta_calls", "float64", "calls", "calls per request, incident − baseline (compare; entry spans at service level)"),
    ("delta_fanout", "float64", "spans", "direct children per span, incident − baseline (compare)"),
    ("delta_error_rate", "float64", "", "failed calls / calls, incident − baseline (compare)"),
    ("error_origin_share", "float64", "", "share of the incident's error origins that are at the component"),
    ("callee", "string", "", "what the component's leaf calls reach most often (core.callees: a database, a peer), <NA> when none"),
    ("lift", "string", "", "the attribute value most over-represented in the component's incident spans against its baseline spans (bubble_up), with both shares; top rows only"),
    ("example_trace_id", "string", "", "an incident trace where the component looks most abnormal"),
    ("baseline_trace_id", "string", "", "a baseline trace with the component at its typical time"),
    ("hypothesis", "string", "", "the row's evidence as one sentence"),
    ("note", "string", "", "'baseline too small: …' (analysis.baseline_check.baseline_too_small), 'tied with rank k', 'low evidence' or empty"),
])

#: the columns rank_causes adds after RANK_CAUSES when given logs= (the first four) and metrics= (the next five);
#: ``signals`` with either
RANK_CAUSES_SIGNALS = result_table("rank_causes_signals", "rank_causes' columns after those above when given logs= "
                                   "or metrics=, in this order (each group only with its signal)", [
    ("log_templates", "float64", "", "largest |evidence| over the component's log templates: the change of the share "
                                     "of its spans that emit a template, beyond chance (analysis.log_evidence)"),
    ("log_errors", "float64", "", "rise of the share of the component's spans where an ERROR record originates, "
                                  "beyond the baseline's rate by chance; 0 when it fell (analysis.log_evidence)"),
    ("log_template", "string", "", "the template with the most evidence (masked message), <NA> when none"),
    ("decided_by", "string", "", "the evidence that weighed most in the score, as 'traces: <evidence>', "
                                 "'logs: <evidence>' or 'metrics: <metric>' (with logs= or metrics=)"),
    ("metrics", "float64", "", "metric evidence score: per counted family, the mean evidence of its metrics at the "
                               "component's service or host (analysis.metric_evidence, capped by its own time)"),
    ("metric_top", "string", "", "the metric with the most evidence, with its baseline and incident values"),
    ("metric_top_name", "string", "", "that metric's name alone"),
    ("metrics_moved", "Int64", "metrics", "metric series of the component that moved; <NA> without metrics there"),
    ("metrics_steady", "Int64", "metrics", "metric series of the component that did not move either way (evidence "
                                       "too; a latency histogram that fell is not among them, nor among the moved)"),
    ("signals", "string", "", "which signals support the row (an evidence share above 0.05): traces, logs, metrics"),
])
_LOG_COLUMNS = RANK_CAUSES_SIGNALS.column_names[:4]
_METRIC_COLUMNS = RANK_CAUSES_SIGNALS.column_names[4:9]

_DEFAULT_WEIGHTS = {e: 1.0 for e in EVIDENCE}
#: rules that can be switched off for side-by-side figures (benchmarks): ``abnormal_minutes`` — slower's limit
#: leaves out an operation's baseline minutes far above its others (core.normal_slices); ``answers`` — a caller's
#: changed course that followed one host of its callee is counted at that host (analysis.course_changes.host_answers);
#: ``host_waiting`` — a component's waiting is its most abnormal host's where that stands out beyond chance
_RULES = {"abnormal_minutes": True, "answers": True, "host_waiting": True}
#: calls within this many Poisson standard deviations of the expected count are not extra / vanished
_Z_COUNT = 2.0


def _share(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``x / n``, 0 where ``n`` is 0 (no observation and no prior: no share)."""
    return np.divide(x, n, out=np.zeros(len(x)), where=n > 0)


# ---- keys ----------------------------------------------------------------------------------------------
def _level_columns(spans: pd.DataFrame, level: str) -> tuple[list[str], dict[str, np.ndarray]]:
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    if level == "service":
        return ["service"], {"service": svc}
    if level == "operation":
        return ["service", "name"], {"service": svc, "name": spans["name"].to_numpy(dtype=object, na_value=None)}
    if level == "host":
        return ["service", "host"], {"service": svc, "host": hosts(spans)}
    return ["service", "version"], {"service": svc, "version": versions(spans)}


def _codes(*arrays: np.ndarray) -> tuple[np.ndarray, pd.MultiIndex | pd.Index]:
    """Joint codes of aligned object arrays (None kept as a value)."""
    if len(arrays) == 1:
        codes, uniq = pd.factorize(pd.Series(arrays[0], dtype=object).fillna("\x00<NA>"), sort=False)
        return codes.astype(np.int64), uniq
    codes, values = joint_codes(*[pd.Series(a, dtype=object).fillna("\x00<NA>").to_numpy() for a in arrays])
    return codes, pd.MultiIndex.from_arrays(values)


class _Side:
    """Per-span arrays of one side (incident or baseline)."""

    def __init__(self, spans: pd.DataFrame, level: str, weights: Any = None) -> None:
        from ..analysis.structure import self_time

        tree = span_tree(spans)
        self.n = len(spans)
        self.tree = tree
        self.n_req = int(max(tree.n_traces, 1))
        self.keys, self.kcols = _level_columns(spans, level)
        self.svc = spans["service"].to_numpy(dtype=object, na_value=None)
        self.name = spans["name"].to_numpy(dtype=object, na_value=None)
        self.self_ms = self_time(spans)["self_ms"].to_numpy(dtype=np.float64)
        st, en = ns(spans["start"]), ns(spans["end"])
        known = st != NAT_NS
        t0 = st[known].min() if known.any() else 0
        # each span's minute from the side's first start: the slices a baseline's limits are robust over
        self.minute = np.where(known, (st - t0) // 60_000_000_000, 0).astype(np.int64)
        dur_ns = np.where((st == NAT_NS) | (en == NAT_NS), np.nan, (en - st).astype(np.float64))
        par = tree.parent
        hp = par >= 0
        pp = np.maximum(par, 0)
        self.parent = par
        self.children = np.bincount(par[hp], minlength=self.n) if self.n else np.zeros(0, np.int64)
        self.cross = hp & (self.svc[pp] != self.svc) if self.n else np.zeros(0, bool)
        # a span with a child in another service (a client span and the server span answering it): its self
        # time is the time outside the callee — waiting (counted at both ends), not own work
        self.calls_out = np.zeros(self.n, dtype=bool)
        self.calls_out[par[self.cross]] = True
        # caller span − callee span in exact integer nanoseconds, then ms (durations in float ms would
        # make equal gaps differ by rounding noise, 1e-13 ms, and count them as waiting longer)
        self.gap = np.where(self.cross, (dur_ns[pp] - dur_ns) / 1e6, np.nan) if self.n else np.zeros(0)
        fl = failed(spans)
        self.origin = fl
        # a span still in progress with no outcome yet is neither failed nor ok: out of the errors' population
        self.known = ~outcome_unknown(spans)
        if fl.any():
            from ..analysis.error_origins import is_origin

            self.origin = is_origin(spans, fl)
        # spans with a failed span below them: an error raised below ends or reroutes their course (later calls
        # skipped, a fallback's calls made); that course is the failure's, counted where it originates (errors)
        self.fail_below = tree.below(fl) if fl.any() else np.zeros(self.n, dtype=bool)
        self.trace = tree.trace
        # the route of each span's request (core.request_routes): expected call counts per route
        route_of_trace = request_routes(spans, tree)
        self.route = route_of_trace[tree.trace] if self.n else np.zeros(0, dtype=object)
        self.trace_route = route_of_trace
        # the context a request's root span is expected in: its route and its own operation. A route (an http.route
        # path) can hold several entry operations (PUT and POST of one path): which one a request is, is the traffic
        # mix, not a component's doing — by route alone a mix moving between them read as extra / vanished roots
        rr = tree.request_root
        entry = np.full(len(rr), "", dtype=object)
        if len(rr) and (rr >= 0).any():
            r_ok = rr[rr >= 0]
            entry[rr >= 0] = [f"{s}\x00{n}" for s, n in zip(self.svc[r_ok], self.name[r_ok], strict=True)]
        self.trace_context = np.array([None if r is None else f"{r}\x01{e}" for r, e in zip(route_of_trace, entry,
                                                                                             strict=True)], dtype=object)
        tw = trace_weights(np.asarray(tree.trace_ids, dtype=object), weights, "rank_causes")
        tw = np.where(np.isnan(tw), 1.0, tw)  # traces the weights do not name count once
        self.trace_w = tw
        self.w = tw[tree.trace] if self.n else np.zeros(0)
        self.n_req = float(tw.sum()) if len(tw) else 1.0
        self.requests_per_route = pd.Series(tw, index=pd.Index(route_of_trace, dtype=object).fillna("\x00<NA>")).groupby(level=0).sum()
        self.trace_ids = np.asarray(tree.trace_ids, dtype=object)


# ---- the analysis ----------------------------------------------------------------------------------------
@renamed(incident="spans")
def rank_causes(
    spans: pd.DataFrame,
    baseline: pd.DataFrame | None = None,
    *,
    level: str = "service",
    weights: Any = None,
    evidence_weights: dict[str, float] | None = None,
    q: float = 0.95,
    prior: float = 10.0,
    min_spans: int = 1,
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = 0.95,
    lift_rows: int = 3,
    freq: str | None = None,
    alpha: float = 0.01,
    seed: int = 0,
    comparison: Any = None,
    metrics: pd.DataFrame | None = None,
    logs: pd.DataFrame | None = None,
    window: Any = "auto",
) -> pd.DataFrame:
    """Rank the components that may have caused the incident, each with its evidence.

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans of the incident (not modified). With ``baseline=None``, the whole period: the change
        window is found in it.
    baseline : pandas.DataFrame, optional
        Spans of a normal period. ``None``: the baseline :func:`~tracekit.incident_periods` finds, the
        traces before the most significant change of a route's p95 request latency or error rate
        (before and after the window when the period before is not acceptable alone: fewer than 30
        traces, or too short to be tested for a change of its own), less other changes and abnormal
        buckets in it; where the requests show no change, the window of the ``metrics``' headline change
        (:func:`~tracekit.analysis.metric_changes.metric_incident_periods`).
    level : {"service", "operation", "host", "version"}
        What a cause is named as (host and version rows are per service).
    weights : DataFrame, Series or float, optional
        Sampling weights of the incident's and the baseline's traces (:func:`~tracekit.sampling_weights`,
        a Series by trace id; :func:`tracekit.core.trace_weights`): each span counts for its trace's
        weight in every share, count and millisecond (Horvitz–Thompson), so a sampler that keeps slow or
        failed requests does not make their components look abnormal; traces the weights do not name
        count once. Also used by the change detection when ``baseline`` is None.
    evidence_weights : dict, optional
        Weight of each evidence in the score (keys among :data:`EVIDENCE`; missing ones are 1).
    q : float
        Quantile of the baseline a span must exceed to count as slower / waiting longer.
    prior : float
        Pseudo-spans at the expected rate each share is shrunk with.
    min_spans : int
        Fewest baseline spans of an operation (or call pair) for its quantile and child counts to be
        used. 1 by default: the chance rates above follow the baseline's size (a single baseline span
        is exceeded half the time, and all its counts are 'seen once'), so a rarely called operation
        is compared with what little baseline it has instead of being left out.
    n_boot : int
        Bootstrap draws of ``delta_cp_ms``'s interval.
    ci : float
        Level of that interval.
    lift_rows : int
        Rows (from the top) that get a :func:`~tracekit.bubble_up` lift.
    freq, alpha : optional
        Bucket and family-wise error rate of the change detection (``baseline=None``); ``alpha`` is also the
        largest p-value of a callee host whose answers a caller's changed course followed (``answers``).
    seed : int
        Seed of the bootstrap.
    comparison : Comparison, optional
        :func:`~tracekit.compare` of the same incident and baseline at the same level (keys as
        :func:`level_frame` gives), when the caller has one: reused for the millisecond evidence
        instead of computed again.
    window : "auto", None or (onset, recovery)
        With a ``baseline`` given, which part of each side is compared. ``"auto"`` (default): the
        incident window is found in ``incident`` as with ``baseline=None``
        (:func:`~tracekit.incident_periods`) and compared with the baseline's traces that started in
        the same minutes (like with like, as the README example does; the whole baseline when fewer
        than 30 of its traces started in them, said in ``baseline_source``); with no change found,
        both sides whole. ``None``: both sides whole (the incident is the window already). A pair:
        that window cut from both sides.
    metrics : pandas.DataFrame, optional
        A metrics frame covering both periods: each row's metric evidence
        (:mod:`tracekit.analysis.metric_evidence`, per service, or per host at ``level="host"``) is
        added to its score — at levels with several rows per service, to one row of the service: the
        one with most evidence from traces and logs (a service's metric counts once) — and the columns ``metrics``, ``metric_top`` (with ``metric_top_name``), ``metrics_moved``,
        ``metrics_steady`` and ``signals`` (which signals support the row) follow the others.
    logs : DataFrame, optional
        A logs frame holding the records of both periods (:func:`~tracekit.read_logs`). Adds the
        log evidence of :func:`tracekit.analysis.log_evidence.log_evidence` — ``log_templates``
        (largest change, beyond chance, in the share of spans emitting a log template, or in the
        share that logged it fewer times than the templates every baseline span logged as often) and
        ``log_errors`` (rise in the share of spans where an ERROR record originates), per component the largest over its operations,
        weight 1 each — to the score, and the columns ``log_templates``, ``log_errors``,
        ``log_template`` (the template of the largest change) and ``decided_by`` (the evidence that
        weighed most in the row's score, e.g. ``"logs: log_templates"``; with metrics too,
        ``"metrics: <name>"`` where the metric evidence weighed most).

    Returns
    -------
    pandas.DataFrame
        Key columns then :data:`RANK_CAUSES`, best first. ``attrs``: ``baseline_source`` (in
        words), ``window`` (onset, recovery or None), ``n_traces`` (incident, baseline), ``params``; with
        ``metrics``, ``metric_coverage`` (series compared, moved); with ``logs``, ``log_records``: records
        given, joined to the incident's and the baseline's spans, without a time (and of those, placed at their
        trace's start) — log columns of 0 from records that joined no span are no evidence either way;
        ``baseline_too_small``: the sentence of :func:`~tracekit.analysis.baseline_check.baseline_too_small` when the
        baseline holds too few traces for the incident's (then also a ``UserWarning``, and every row's ``note``
        starts with "baseline too small"), else ``""``.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        Bad ``level``, ``q``, ``prior`` (< 0) or evidence weight (unknown key, < 0, not a number); no baseline
        given and no change found, or none acceptable found around it (the reason said); or an empty side.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("db-lock", 600, seed=11).spans
    >>> rc = tk.rank_causes(spans, level="operation")
    >>> rc[["service", "name"]].iloc[0].tolist() in (["checkout", "SELECT orders"], ["checkout", "INSERT orders"])
    True
    """
    return _ranking(spans, baseline, level=level, weights=weights, evidence_weights=evidence_weights, q=q, prior=prior,
                    min_spans=min_spans, n_boot=n_boot, ci=ci, lift_rows=lift_rows, freq=freq, alpha=alpha, seed=seed,
                    comparison=comparison, metrics=metrics, logs=logs, window=window, details=True)


def _ranking(incident: pd.DataFrame, baseline: pd.DataFrame | None, *, level: str, weights: Any,
             evidence_weights: dict[str, float] | None, q: float, prior: float, min_spans: int, n_boot: int, ci: float,
             lift_rows: int, freq: str | None, alpha: float, seed: int, comparison: Any, metrics: pd.DataFrame | None,
             logs: pd.DataFrame | None, window: Any, details: bool) -> pd.DataFrame:
    """:func:`rank_causes`' work. ``details=False``: the scores and evidence only, ranked by score then key — no
    millisecond evidence (:func:`~tracekit.compare`, NaN), callee, example traces, lift, note or words (NA), which
    are most of its time on the bundled data; :func:`chance_score` reads only the top score."""
    need = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "duration_ms")
    require_columns(incident, need, "rank_causes (incident)")
    if baseline is not None:
        require_columns(baseline, need, "rank_causes (baseline)")
    if level not in LEVELS:
        raise ArgumentError(f"rank_causes: level must be one of {', '.join(LEVELS)}; got {level!r}")
    if logs is not None:  # a swapped logs= / metrics= is named here, not deep inside an analysis
        from ..analysis.logs import require_logs_frame

        require_logs_frame(logs, "rank_causes")
    if metrics is not None:
        from ..analysis.metric_series import require_metrics_frame

        require_metrics_frame(metrics, "rank_causes")
    q = share_arg(q, "q", "rank_causes")
    n_boot, ci = boot_args(n_boot, ci, "rank_causes", min_boot=1)
    alpha = share_arg(alpha, "alpha", "rank_causes")
    min_spans = count_arg(min_spans, "min_spans", "rank_causes", minimum=1)
    prior = number_arg(prior, "prior", "rank_causes", low=0)
    w = dict(_DEFAULT_WEIGHTS)
    for k, v in (evidence_weights or {}).items():
        if k not in w:
            raise ArgumentError(f"rank_causes: evidence_weights key {k!r} is not one of {', '.join(EVIDENCE)}")
        w[k] = number_arg(v, f"evidence_weights[{k!r}]", "rank_causes", low=0)
    window_arg, window = window, None
    if baseline is None:
        incident, baseline, source, window = _auto_baseline(incident, freq, alpha, weights, metrics)
    elif isinstance(window_arg, str) and window_arg == "auto":
        incident, baseline, source, window = _window_and_same_minutes(incident, baseline, freq, alpha, weights)
    elif window_arg is None:
        source = "the baseline given"
    elif isinstance(window_arg, (tuple, list)) and len(window_arg) == 2:
        from ..analysis.changes import split_by_change

        incident = split_by_change(incident, tuple(window_arg)).incident
        baseline, source = _same_minutes(baseline, split_by_change(baseline, tuple(window_arg)))
        window = (pd.Timestamp(window_arg[0]), pd.Timestamp(window_arg[1]) if window_arg[1] is not None else pd.NaT)
    else:
        raise ArgumentError(f"rank_causes: window must be 'auto', None or (onset, recovery); got {window_arg!r}")
    fa, fb = _formats(incident), _formats(baseline)
    if fa and fb and ("xray" in fa) != ("xray" in fb):  # the simulator's spans are shaped as OTLP's
        warnings.warn(f"rank_causes: the incident was read from {'/'.join(sorted(fa))} and the baseline from "
                      f"{'/'.join(sorted(fb))}; the formats record different spans for the same calls (X-Ray "
                      "subsegments, OTLP client spans), so structural evidence compares unlike things: use a "
                      "baseline in the incident's format", UserWarning, stacklevel=2)
    if incident.empty or baseline.empty:
        raise ArgumentError(f"rank_causes: the {'incident' if incident.empty else 'baseline'} has no spans")
    # a span id repeated in its trace is one span exported twice (core.span_tree's rule): its other copies are left
    # out — counted twice, a parent's copied children read as a call pattern the baseline never showed
    incident, baseline = (_first_copies(f) for f in (incident, baseline))
    # a baseline with too few traces for the incident's (analysis.baseline_check): said, as a baseline in another format
    from ..analysis.baseline_check import baseline_too_small

    too_small = baseline_too_small(incident, baseline)
    if too_small:
        warnings.warn(f"rank_causes: {too_small}", UserWarning, stacklevel=2)

    a, b = _Side(incident, level, weights), _Side(baseline, level, weights)
    keys = a.keys
    # one code space for keys and for operations over both sides
    kcode, kuniq = _codes(*[np.concatenate([a.kcols[k], b.kcols[k]]) for k in keys])
    ka, kb = kcode[:a.n], kcode[a.n:]
    n_k = len(kuniq)
    ocode, ouniq = _codes(np.concatenate([a.svc, b.svc]), np.concatenate([a.name, b.name]))
    oa, ob = ocode[:a.n], ocode[a.n:]
    n_o = int(ocode.max()) + 1 if len(ocode) else 0
    svc_code_a, svc_uniq = pd.factorize(pd.Series(a.svc, dtype=object).fillna("\x00<NA>"), sort=False)
    n_svc = max(len(svc_uniq), 1)
    # the evidence is scored per operation of each component (the component's own spans of that operation)
    # and a component takes the evidence of its most abnormal operation: a fault in one operation of a
    # service or host is not diluted by the service's or host's other, normal operations
    sub_all = np.concatenate([ka, kb]) * max(n_o, 1) + ocode
    sub_code, sub_uniq = pd.factorize(sub_all, sort=False)
    sub_code = sub_code.astype(np.int64)
    sa, sb = sub_code[:a.n], sub_code[a.n:]
    n_s = len(sub_uniq)
    key_of_sub = (np.asarray(sub_uniq, dtype=np.int64) // max(n_o, 1)).astype(np.int64)
    op_of_sub = (np.asarray(sub_uniq, dtype=np.int64) % max(n_o, 1)).astype(np.int64)
    # a time difference below the rounding of the timestamps is not evidence: each of the four
    # timestamps of two durations (or of a caller and a callee span) is within half a step of the
    # true instant, so rounding alone moves a difference of two such values by up to 4 steps
    tol_ms = 4 * max(time_resolution_ns(incident), time_resolution_ns(baseline)) / 1e6

    def per_key(mask: np.ndarray, keycodes: np.ndarray, weights_: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(keycodes[mask], weights=None if weights_ is None else weights_[mask], minlength=n_k).astype(float)

    # slower's baseline: a minute in which an operation's own time was far above its other minutes' (an earlier
    # incident on it) is left out of that operation's limit and of its n (core.normal_slices); once for both grains
    own_b = np.where(b.calls_out, np.nan, b.self_ms)
    keep_b = normal_slices(ob, own_b, b.minute, n_o, q) if _RULES["abnormal_minutes"] else np.ones(b.n, bool)
    # slower's limit per operation (a baseline q-quantile, order statistics of the spans kept): the same for both grains
    thr, cnt, kk = upper_limits(ob, np.where(keep_b, own_b, np.nan), n_o, q, spread=None)
    p_ex = exceed_chance(cnt, q, kk)[oa]  # each incident span's chance of exceeding its operation's limit
    usable = cnt[oa] >= min_spans
    ok = usable & ~np.isnan(a.self_ms) & ~a.calls_out
    ex = ok & (a.self_ms > thr[oa] + tol_ms)

    def _evidence(sa: np.ndarray, sb: np.ndarray, n_s: int, waiting_only: bool = False):
        """Each evidence, its counts and the score per code of ``sa`` / ``sb`` (a key, or a (key, operation));
        ``waiting_only``: ``waiting`` and its counts alone (the score and the rest None)."""
        def per_sub(mask: np.ndarray, codes_: np.ndarray, weights_: np.ndarray | None = None) -> np.ndarray:
            return np.bincount(codes_[mask], weights=None if weights_ is None else weights_[mask], minlength=n_s).astype(float)

        def pa(mask: np.ndarray) -> np.ndarray:  # incident spans per key, each weighing its trace's sampling weight
            return per_sub(mask, sa, a.w)

        def pa_w(mask: np.ndarray, v: np.ndarray) -> np.ndarray:  # sum of v over the incident spans of each key
            return per_sub(mask, sa, a.w * v)

        def pb(mask: np.ndarray) -> np.ndarray:
            return per_sub(mask, sb, b.w)

        # the prior's pseudo-spans are sampled spans: with weights, each stands for the mean weight
        prior_w = prior * (float(a.w.mean()) if a.n else 1.0)

        def shrink(x: np.ndarray, n: np.ndarray, base: np.ndarray | float) -> np.ndarray:
            return share_beyond_chance(x, n, base, prior_w)

        ev: dict[str, np.ndarray] = {}
        # slower: exclusive time above the baseline's q-quantile of the operation (beyond rounding)
        left_out = per_sub(~keep_b, sb)  # per code of sb: the baseline spans those minutes left out (unweighted, as n)
        ev["slower"] = shrink(pa(ex), pa(ok), pa_w(ok, p_ex) / np.maximum(pa(ok), 1e-12))
        # the counts behind each score (what the words say: a count over a count, never the shrunk score)
        counts: dict[str, tuple[np.ndarray, np.ndarray]] = {"slower": (pa(ex), pa(ok))}
        # waiting: caller span − callee span, per caller-op → callee-op pair, both ends (beyond rounding)
        pair_a = np.where(a.cross, oa[np.maximum(a.parent, 0)] * n_o + oa, -1)
        pair_b = np.where(b.cross, ob[np.maximum(b.parent, 0)] * n_o + ob, -1)
        pc, pu = pd.factorize(np.concatenate([pair_a[a.cross], pair_b[b.cross]]), sort=False)
        pca, pcb = pc[:int(a.cross.sum())], pc[int(a.cross.sum()):]
        # against the pair's normal limit: its p95, capped at median + 3 robust SDs (core.upper_limits), so a
        # baseline that holds minutes of an earlier incident on the same hop does not set the bar at that incident
        gthr, gcnt, gk = upper_limits(pcb, b.gap[b.cross], len(pu), q)
        ga = a.gap[a.cross]
        gok = (gcnt[pca] >= min_spans) & ~np.isnan(ga)
        gex = gok & (ga > gthr[pca] + tol_ms)
        callee_k = sa[a.cross]
        caller_k = sa[np.maximum(a.parent, 0)][a.cross]
        gw = a.w[a.cross]
        gp = gw * exceed_chance(gcnt, q, gk)[pca]
        # a slow hop is evidence on the end its neighbouring hops corroborate (analysis.hop_blame): the callee when
        # its other callers wait too, the caller when its calls into other callees do; components by key
        from ..analysis.hop_blame import shared_end_weights

        # judged among services at operation level: a pod's network or a service's CPU is shared by its operations
        # (each caller's client span is an operation of its own; where each of a delayed service's operations has
        # one caller, no hop corroborated another at that grain and every caller kept its slow hops)
        corr, n_corr = (ka, n_k) if level != "operation" else (svc_code_a, n_svc)
        cr_key, ce_key = corr[np.maximum(a.parent, 0)][a.cross], corr[a.cross]
        w_cr, w_ce = shared_end_weights(cr_key, ce_key, gex.astype(float), np.where(gok, gp / np.maximum(gw, 1e-12), 0.0),
                                        n_corr, weights=np.where(gok, gw, 0.0))
        x = per_sub(gex, callee_k, gw * w_ce) + per_sub(gex & (caller_k != callee_k), caller_k, gw * w_cr)
        n = per_sub(gok, callee_k, gw) + per_sub(gok & (caller_k != callee_k), caller_k, gw)
        e0 = per_sub(gok, callee_k, gp) + per_sub(gok & (caller_k != callee_k), caller_k, gp)
        ev["waiting"] = shrink(x, n, e0 / np.maximum(n, 1e-12))
        counts["waiting"] = (x, n)
        if waiting_only:
            return ev, counts, None, None
        allk = np.ones(a.n, dtype=bool)
        # extra and vanished calls: per (key, operation), against the count the baseline's rate per request of
        # each route predicts for the incident's requests of that route (a busier checkout hour is not a cause)
        # each request is one draw of a route's call counts: the calls a request type brings come together (a
        # booking calls the seat service ten times), so the chance variation of a count is that of a sum of
        # per-request counts, not Poisson in calls. Per (sub-component, route): the per-request variance pooled
        # over both sides (what no change would give), and the difference of the incident's count from the
        # baseline's rate within _Z_COUNT standard errors of a difference of two means is no evidence
        rcode, runiq = pd.factorize(pd.Series(np.concatenate([a.trace_context, b.trace_context]), dtype=object)
                                    .fillna("\x00<NA>"), sort=False)
        n_rt = max(len(runiq), 1)
        rta, rtb = rcode[:len(a.trace_context)], rcode[len(a.trace_context):]
        # the context of a call: its route for a request's root span, its parent's operation for every other span
        # (contexts 0..n_rt-1: routes; n_rt + o: parent operation o), and the unit drawn in it: the request, the
        # parent span. A call is expected at the baseline's rate per unit of its context, so calls that vanished
        # because their caller stopped calling (an early return upstream) are expected to vanish: a vanished or new
        # subtree counts at the call where it begins, not again at every level below it
        n_r = n_rt + n_o

        def units(side: _Side, rt: np.ndarray, o_side: np.ndarray):
            """Per context: units weighted, units sampled (requests of each route, spans of each operation)."""
            w_ = np.bincount(rt, weights=side.trace_w, minlength=n_r)
            raw = np.bincount(rt, minlength=n_r).astype(float)
            if side.n:
                own = ~side.fail_below  # a parent span whose course a failure below changed is no draw of its rate
                w_ = w_ + np.bincount(n_rt + o_side[own], weights=side.w[own], minlength=n_r)
                raw = raw + np.bincount(n_rt + o_side[own], minlength=n_r)
            return w_, raw

        req_a, raw_a = units(a, rta, oa)
        req_b, raw_b = units(b, rtb, ob)

        def per_unit(side: _Side, subs: np.ndarray, rt: np.ndarray, o_side: np.ndarray):
            """(sub, context) code, w·calls and w·calls² of each (sub-component, unit) pair with calls."""
            n_t = max(len(side.trace_route), 1)
            unit = np.where(side.parent >= 0, side.parent, side.n + side.trace)  # parent span, else the request
            n_u = side.n + n_t
            own = ~side.fail_below[np.maximum(side.parent, 0)] | (side.parent < 0)  # as in units()
            u, c = np.unique(subs.astype(np.int64)[own] * n_u + unit[own], return_counts=True)
            sub_, un_ = u // n_u, u % n_u
            is_p = un_ < side.n
            pi, ti = np.minimum(un_, max(side.n - 1, 0)), np.maximum(un_ - side.n, 0)
            ctx = np.where(is_p, n_rt + o_side[pi], rt[ti])
            w_ = np.where(is_p, side.w[pi], side.trace_w[ti])
            return sub_ * n_r + ctx, w_ * c, w_ * c.astype(float) ** 2

        sra, s1a, s2a = per_unit(a, sa, rta, oa)
        srb, s1b, s2b = per_unit(b, sb, rtb, ob)
        kour, kinv = np.unique(np.concatenate([sra, srb]), return_inverse=True)
        S1a = np.bincount(kinv[:len(sra)], weights=s1a, minlength=len(kour))
        S2a = np.bincount(kinv[:len(sra)], weights=s2a, minlength=len(kour))
        S1b = np.bincount(kinv[len(sra):], weights=s1b, minlength=len(kour))
        S2b = np.bincount(kinv[len(sra):], weights=s2b, minlength=len(kour))
        r_ = kour % n_r
        na_, nb_ = req_a[r_], req_b[r_]
        # a route the baseline never served, an operation it never ran, say nothing about a rate: left out
        known = raw_b[r_] > 0
        scale = np.where(known, na_ / np.maximum(nb_, 1e-12), 0.0)  # incident units per baseline unit
        xa_r = np.where(known, S1a, 0.0)
        expect_r = S1b * scale
        m = (S1a + S1b) / np.maximum(na_ + nb_, 1e-12)
        s2 = np.maximum((S2a + S2b) / np.maximum(na_ + nb_, 1e-12) - m * m, 0.0)
        var_r = np.where(known, na_ ** 2 * s2 * (1.0 / np.maximum(raw_a[r_], 1.0) + 1.0 / np.maximum(raw_b[r_], 1.0)), 0.0)
        kou, kinv2 = np.unique(kour // n_r, return_inverse=True)
        xa = np.bincount(kinv2, weights=xa_r, minlength=len(kou))
        expect = np.bincount(kinv2, weights=expect_r, minlength=len(kou))
        var = np.bincount(kinv2, weights=var_r, minlength=len(kou))
        kk = kou.astype(np.int64) if len(kou) else np.zeros(0, np.int64)
        noise = _Z_COUNT * np.sqrt(var + 1.0)  # +1: a call seen twice where none was expected is not yet news
        surplus = np.maximum(xa - expect - noise, 0.0)  # new operations, retries, cold starts: beyond the usual rate
        # over the calls seen (expected) plus the prior; with prior 0, a component with none has no share (0/0 was NaN:
        # a new service's score NaN, ranked below every other at prior=0)
        ev["extra"] = _share(np.bincount(kk, weights=surplus, minlength=n_s), np.bincount(kk, weights=xa, minlength=n_s) + prior_w)
        deficit = np.maximum(expect - xa - noise, 0.0)
        ev["vanished"] = _share(np.bincount(kk, weights=deficit, minlength=n_s),
                                np.bincount(kk, weights=expect, minlength=n_s) + prior_w)
        seen_calls = np.bincount(kk, weights=xa, minlength=n_s)
        expected_calls = np.bincount(kk, weights=expect, minlength=n_s)
        counts["extra"] = counts["vanished"] = (seen_calls, expected_calls)
        # shape: a number of children the baseline never showed for the operation
        # against the chance of a count the baseline has not shown yet: its Good–Turing missing mass, the
        # operation's counts seen once over its spans (a baseline of 3 spans with 3 counts leaves room for
        # a fourth; a thousand spans with the same count do not)
        ch_pair_all_b = ob.astype(np.int64) * (1 << 20) + np.minimum(b.children, (1 << 20) - 1)
        ch_pair_b, ch_n = np.unique(ch_pair_all_b, return_counts=True)
        ch_pair_a = oa.astype(np.int64) * (1 << 20) + np.minimum(a.children, (1 << 20) - 1)
        # children of an operation the baseline never saw under this parent's operation (a deploy's new call)
        # are that child's evidence ('extra'), not the parent's: a count that is seen once they are left out
        # is no change in the parent's own call pattern
        hpa, hpb = a.parent >= 0, b.parent >= 0
        edge_a = oa[np.maximum(a.parent, 0)].astype(np.int64) * max(n_o, 1) + oa
        edge_b = (ob[np.maximum(b.parent, 0)].astype(np.int64) * max(n_o, 1) + ob)[hpb]
        new_child = hpa & ~np.isin(edge_a, edge_b)
        n_new = np.bincount(a.parent[new_child], minlength=a.n) if a.n else np.zeros(0, np.int64)
        ch_pair_own = oa.astype(np.int64) * (1 << 20) + np.minimum(a.children - n_new, (1 << 20) - 1)
        seen = np.isin(ch_pair_a, ch_pair_b) | ((n_new > 0) & np.isin(ch_pair_own, ch_pair_b))
        seen |= a.fail_below  # a count a failure below changed: the error's evidence where it originates
        singles = np.bincount((ch_pair_b >> 20)[ch_n == 1], minlength=n_o).astype(float)
        n_ob = np.bincount(ob, minlength=n_o)
        p_unseen = np.minimum(singles / np.maximum(n_ob, 1), 1.0)[oa]
        # the operation's baseline spans, all of them (min_spans): not slower's count, which leaves out the spans with a
        # child in another service — every span of a server operation that calls another service directly (no client
        # span between: X-Ray segments, server-only spans) — and its call pattern was never compared
        sok = n_ob[oa] >= min_spans
        ev["shape"] = shrink(pa(sok & ~seen), pa(sok), pa_w(sok, p_unseen) / np.maximum(pa(sok), 1e-12))
        counts["shape"] = (pa(sok & ~seen), pa(sok))
        # errors originating at the component, beyond the baseline's share
        # over the spans of known outcome on both sides (core.outcome_unknown: a span in progress is left out)
        base_rate = pb(b.origin) / np.maximum(pb(b.known), 1.0)
        ev["errors"] = np.maximum(shrink(pa(a.origin), pa(a.known), base_rate), 0.0)
        counts["errors"] = (pa(a.origin), pa(a.known))
        counts["_unknown"] = (pa(~a.known), pa(allk))  # the spans the errors' share left out, for its words

        # answers: moved from callers once every other evidence is in (_move_answers)
        ev["answers"] = np.zeros(n_s)
        counts["answers"] = (np.zeros(n_s), np.zeros(n_s))
        # a component that looks *more* normal than the baseline is not a cause: each share counts from 0
        ev = {e: np.maximum(v, 0.0) for e, v in ev.items()}
        sub_score = sum(w[e] * ev[e] for e in EVIDENCE)
        return ev, counts, sub_score, left_out

    prior_w = prior * (float(a.w.mean()) if a.n else 1.0)  # as inside _evidence
    allk = np.ones(a.n, dtype=bool)
    ev_op, counts_op, sub_score, left_out = _evidence(sa, sb, n_s)
    ev_pool, counts_pool, pool_score, left_pool = _evidence(ka, kb, n_k)
    # a delay on one host of a component (a pod's network) makes only that host's hops wait: pooled over the
    # component's hosts it is diluted by the others. Its waiting is its most abnormal host's where that stands out
    # beyond the pooled share by more than chance allows (the allowance of the operations below); words name the host
    wait_host = np.full(n_k, None, dtype=object)
    # both host rules need a service answering from two or more hosts; each side's hosts are read once
    hs_a = None
    if _RULES["host_waiting"] or _RULES["answers"]:
        hs_a = pd.Series(hosts(incident), dtype=object).to_numpy(dtype=object)
        hc, _ = pd.factorize(hs_a, use_na_sentinel=True)
        m_h = int(hc.max()) + 2 if len(hc) else 2
        pairs = np.unique(svc_code_a[hc >= 0].astype(np.int64) * m_h + hc[hc >= 0])
        if not len(pairs) or np.bincount(pairs // m_h).max() < 2:
            hs_a = None  # every service of the incident answers from one host (or none is named)
    if hs_a is not None and level != "host" and _RULES["host_waiting"]:
        hs_b = pd.Series(hosts(baseline), dtype=object).to_numpy(dtype=object)
        kh, kh_uniq = _codes(np.concatenate([ka, kb]).astype(object), np.concatenate([hs_a, hs_b]))
        n_kh = len(kh_uniq)
        key_of_kh = np.zeros(n_kh, np.int64)
        key_of_kh[kh] = np.concatenate([ka, kb])
        hosts_of_key = np.bincount(key_of_kh, minlength=n_k)
        ev_h, counts_h, _, _ = _evidence(kh[:a.n], kh[a.n:], n_kh, waiting_only=True)
        n_h = counts_h["waiting"][1]
        with np.errstate(divide="ignore"):  # a host with no call and prior 0: it cannot stand out (-inf)
            gain_h = ev_h["waiting"] - 2.0 * np.sqrt(q * (1 - q) / (n_h + prior_w)) - ev_pool["waiting"][key_of_kh]
        gain_h[(hosts_of_key[key_of_kh] < 2) | (kh_uniq.get_level_values(1) == "\x00<NA>")] = -np.inf
        o_h = np.lexsort((np.arange(n_kh), -gain_h, key_of_kh))
        first_h = o_h[np.r_[True, key_of_kh[o_h][1:] != key_of_kh[o_h][:-1]]] if n_kh else np.zeros(0, np.int64)
        first_h = first_h[gain_h[first_h] > 0]
        kk_ = key_of_kh[first_h]
        pool_score[kk_] += w["waiting"] * (ev_h["waiting"][first_h] - ev_pool["waiting"][kk_])
        ev_pool["waiting"][kk_] = ev_h["waiting"][first_h]
        counts_pool["waiting"][0][kk_] = counts_h["waiting"][0][first_h]
        counts_pool["waiting"][1][kk_] = counts_h["waiting"][1][first_h]
        wait_host[kk_] = np.asarray(kh_uniq.get_level_values(1), dtype=object)[first_h]
    # waiting is the component's interface: a delayed component is at one end of every slow hop, a neighbour
    # only of some (its calls to the delayed one). Scored per operation, the neighbour's client operation that
    # calls it waits on every call too and ties with it (Nezha network-delay faults: AC@1 100 % -> 0 %), so
    # waiting stays pooled per component and the operations compete on the other evidence
    sub_score = sub_score - w["waiting"] * ev_op["waiting"] + w["waiting"] * ev_pool["waiting"][key_of_sub]
    ev_op["waiting"] = ev_pool["waiting"][key_of_sub]
    counts_op["waiting"] = (counts_pool["waiting"][0][key_of_sub], counts_pool["waiting"][1][key_of_sub])
    # a component takes its most abnormal operation's evidence when that operation stands out beyond what the
    # component's pooled spans show by more than chance allows (a fault in one operation is not diluted by the
    # others); else its pooled evidence. The allowance: 2 binomial standard errors of a share at the chance rate
    # 1 − q over the operation's spans plus the prior, so the largest of many small, noisy operations does not
    # outrank a component whose every span changed a little
    n_op = np.bincount(sa, weights=a.w, minlength=n_s) if a.n else np.zeros(n_s)
    with np.errstate(divide="ignore"):  # an operation with no incident span and prior 0: no allowance reached (inf)
        allowance = 2.0 * np.sqrt(q * (1 - q) / (n_op + prior_w))
    gain = sub_score - allowance - pool_score[key_of_sub]
    o_sub = np.lexsort((np.arange(n_s), -gain, key_of_sub))
    first_of_key = o_sub[np.r_[True, key_of_sub[o_sub][1:] != key_of_sub[o_sub][:-1]]] if n_s else np.zeros(0, np.int64)
    best_sub = np.full(n_k, -1, dtype=np.int64)
    best_sub[key_of_sub[first_of_key]] = first_of_key
    use_op = np.zeros(n_k, dtype=bool) if level == "operation" else (best_sub >= 0) & (gain[np.maximum(best_sub, 0)] > 0)
    if level == "operation":
        use_op[:] = True
    bs = np.maximum(best_sub, 0)
    ev = {e: np.where(use_op, ev_op[e][bs], ev_pool[e]) for e in EVIDENCE}
    counts = {e: (np.where(use_op, counts_op[e][0][bs], counts_pool[e][0]),
                  np.where(use_op, counts_op[e][1][bs], counts_pool[e][1])) for e in EVIDENCE}
    score = np.where(use_op, sub_score[bs], pool_score)
    # the spans of unknown outcome the errors' share left out, of the same spans as its counts (operation or pooled)
    unknown_errors = np.where(use_op, counts_op["_unknown"][0][bs], counts_pool["_unknown"][0])
    # shape also holds the spans that stopped where their operation always went on, per state (operation, last
    # call made), at the stop's origin (analysis.early_stops): an exception that skips the rest of one request
    # type's work is not diluted by the other request types of the same entry operation
    from ..analysis.early_stops import early_stop_evidence

    es = early_stop_evidence(incident, baseline, ka, n_k, weights=a.w, prior=prior)
    by_stop = es["score"].to_numpy(float) > ev["shape"]
    score = score + w["shape"] * np.where(by_stop, es["score"].to_numpy(float) - ev["shape"], 0.0)
    ev["shape"] = np.where(by_stop, es["score"].to_numpy(float), ev["shape"])
    counts["shape"] = (np.where(by_stop, es["stops"], counts["shape"][0]), np.where(by_stop, es["steps"], counts["shape"][1]))
    # (the level's values taken once: indexing the MultiIndex key by key cost 12 s of 17 on 160k keys)
    op_names = np.asarray(ouniq.get_level_values(1), dtype=object)[op_of_sub[bs]] if len(bs) else np.zeros(0, object)
    worst_op = [None if not u or o == "\x00<NA>" else str(o) for o, u in zip(op_names, use_op, strict=True)]
    spans_a = per_key(allk, ka).astype(np.int64)
    spans_b = per_key(np.ones(b.n, bool), kb).astype(np.int64)
    present = spans_a > 0

    # ---- evidence in milliseconds and counts ------------------------------------------------------------
    self_a = per_key(~np.isnan(a.self_ms), ka, np.nan_to_num(a.self_ms) * a.w) / a.n_req
    self_b = per_key(~np.isnan(b.self_ms), kb, np.nan_to_num(b.self_ms) * b.w) / b.n_req
    wa = np.bincount(ka[a.cross], weights=np.nan_to_num(a.gap[a.cross]) * a.w[a.cross], minlength=n_k) / a.n_req
    wb = np.bincount(kb[b.cross], weights=np.nan_to_num(b.gap[b.cross]) * b.w[b.cross], minlength=n_k) / b.n_req
    # the same waits at the caller's end (what the component waits outside its callees): the waiting evidence counts
    # a slow hop at either end, so the words give both
    wo_a = np.bincount(ka[np.maximum(a.parent, 0)][a.cross], weights=np.nan_to_num(a.gap[a.cross]) * a.w[a.cross],
                       minlength=n_k) / a.n_req
    wo_b = np.bincount(kb[np.maximum(b.parent, 0)][b.cross], weights=np.nan_to_num(b.gap[b.cross]) * b.w[b.cross],
                       minlength=n_k) / b.n_req
    n_orig = int(a.origin.sum())
    origin_share = per_key(a.origin, ka, a.w) / float(a.w[a.origin].sum()) if n_orig else np.zeros(n_k)

    # the columns built once, then one frame (a column set at a time cost ~25 ms a ranking)
    key_values = [np.asarray(kuniq.get_level_values(i), dtype=object) for i in range(len(keys))] if len(keys) > 1 \
        else [np.asarray(kuniq, dtype=object)]
    cols: dict[str, Any] = {k: pd.array(np.where(v == "\x00<NA>", None, v), dtype="string")
                            for k, v in zip(keys, key_values, strict=True)}
    cols["_k"] = np.arange(n_k)  # the key's code (ka, kb): kept through the joins below
    cols.update({e: ev[e] for e in EVIDENCE})
    cols.update(score=score, spans=spans_a, baseline_spans=spans_b, delta_self_ms=self_a - self_b,
                delta_wait_ms=wa - wb, _wait_out_ms=wo_a - wo_b, error_origin_share=origin_share,
                evidence_operation=pd.array(worst_op, dtype="string"))
    for e, (x_, n_) in counts.items():  # the counts behind the words (dropped from the result below)
        cols[f"_x_{e}"], cols[f"_n_{e}"] = x_, n_
    cols["_wait_host"] = wait_host
    cols["_nb_slower"] = np.where(use_op, cnt[op_of_sub[bs]], np.nan).astype(float) if n_k else np.zeros(0)
    cols["_nb_left_out"] = np.where(use_op, left_out[bs], left_pool).astype(float) if n_k else np.zeros(0)
    cols["_stop_state"] = np.where(by_stop, es["state"].astype(object).fillna(""), "")
    cols["_origins"] = per_key(a.origin, ka, a.w)
    cols["_unknown_errors"] = unknown_errors
    cols["_origins_all"] = np.full(n_k, float(a.w[a.origin].sum()) if n_orig else 0.0)
    table = pd.DataFrame(cols)
    # vanished components (no incident spans) are ranked too: their vanished share says it
    table = table[present | (table["vanished"] > 0)].copy()
    if logs is not None:  # log evidence (analysis.log_evidence): added to the score, decided_by says what weighed most
        from ..analysis.log_evidence import join_log_evidence

        table = join_log_evidence(table, *(level_frame(x, level)[0] for x in (incident, baseline)), logs, keys,
                                  EVIDENCE, w)
        log_records = table.attrs["log_records"]  # kept for the result's attrs (merges below drop attrs)
    if metrics is not None:  # metric evidence beside the traces' and logs' (tracekit.analysis.metric_evidence; after
        # the logs: a service's metric evidence goes to its row with most evidence so far)
        from ..analysis.metric_evidence import join_metric_evidence

        table = join_metric_evidence(table, metrics, incident, baseline, level=level, keys=keys, prior=prior, q=q)
        table["score"] = table["score"] + table["metrics"]
        metric_cov = table.attrs["metric_coverage"]  # kept for the result's attrs (merges below drop attrs)
        if "decided_by" not in table.columns:  # metrics without logs: what the traces decided, then the metrics
            from ..analysis.log_evidence import decided_by

            table["decided_by"] = decided_by(table, list(EVIDENCE), w)
        # the metrics weigh most on a row: decided_by says so (join_log_evidence's word)
        others = np.column_stack([table[e].to_numpy(float) * float(w.get(e, 1.0)) for e in EVIDENCE] +
                                 [table[c].to_numpy(float) for c in ("log_templates", "log_errors")
                                  if c in table.columns])
        by_metrics = table["metrics"].to_numpy(float) > np.maximum(others.max(axis=1) if len(table) else 0.0, 0.0)
        table.loc[by_metrics, "decided_by"] = ("metrics: " + table.loc[by_metrics, "metric_top_name"].astype(object)
                                               .fillna("metrics").astype(str)).astype("string")
    table["_answers_words"] = ""
    if hs_a is not None and _RULES["answers"] and w["answers"] != 0:
        # the caller whose course changed: its key, but at operation level its service — the calls its changed
        # course made or skipped are its client operations' extra and vanished evidence, not the step's operation's
        unit = np.arange(n_k)
        if level == "operation":  # (a key only the baseline has is a unit of its own, after the services)
            unit = unit + n_svc
            unit[ka] = svc_code_a
        table = _move_answers(table, incident, baseline, ka, unit, alpha, w, hs_a)
    if details:
        cmp = _compare(incident, baseline, level, keys, n_boot, ci, seed, comparison)
        table = table.merge(cmp, how="left", on=keys)
    else:
        for c in ("delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi", "delta_calls", "delta_fanout", "delta_error_rate"):
            table[c] = np.nan
    table = table.sort_values(["score", "delta_cp_ms", *keys], ascending=[False, False, *([True] * len(keys))],
                              kind="stable", na_position="last").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1, dtype=np.int64)

    # callee, exemplars, lift, hypothesis, note
    if not details:
        for c in ("callee", "example_trace_id", "baseline_trace_id", "lift", "note", "hypothesis"):
            table[c] = pd.array([pd.NA] * len(table), dtype="string")
        extra = [c for c in (*_LOG_COLUMNS, *_METRIC_COLUMNS) if c in table.columns]
        table = table[[*keys, *RANK_CAUSES.column_names, *extra]]
        table.attrs.update(n_traces=(a.tree.n_traces, b.tree.n_traces), baseline_source=source, window=window,
                           baseline_too_small=too_small)
        if metrics is not None:
            table.attrs["metric_coverage"] = metric_cov
        if logs is not None:
            table.attrs["log_records"] = log_records
        return table
    codes_in_table = kuniq.get_indexer(pd.MultiIndex.from_frame(table[keys].astype(object).fillna("\x00<NA>"))
                                       if len(keys) > 1 else table[keys[0]].astype(object).fillna("\x00<NA>"))
    table["callee"] = pd.array(_callee_per_key(incident, ka, codes_in_table), dtype="string")
    ex_a, ex_b = _exemplars(a, b, ka, kb, oa, ob, thr, codes_in_table)
    if logs is not None:  # a row decided by its logs shows a trace holding them (the traces' example may hold none)
        from ..analysis.log_evidence import log_examples

        by_logs = log_examples(table, level_frame(incident, level)[0], logs, keys)
        ex_a = [t if t is not None else e for t, e in zip(by_logs, ex_a, strict=True)]
    table["example_trace_id"] = pd.array(ex_a, dtype="string")
    table["baseline_trace_id"] = pd.array(ex_b, dtype="string")
    table["lift"] = pd.array(_lifts(incident, baseline, ka, kb, codes_in_table[:max(int(lift_rows), 0)], len(table),
                                    logs=logs), dtype="string")
    notes = _notes(table)
    if too_small:  # every row rests on it: said first in each row's note (analysis.baseline_check)
        first = (f"baseline too small: {plural(b.tree.n_traces, 'trace')} against the incident's {a.tree.n_traces:,} (no "
                 "conclusion)")
        notes = [f"{first}; {x}" if x else first for x in notes]
    table["note"] = pd.array(notes, dtype="string")
    table["hypothesis"] = pd.array([_hypothesis(r, keys, level, q) for r in table.to_dict("records")], dtype="string")
    extra = []
    if logs is not None:
        from ..analysis.log_evidence import log_hypotheses

        table["hypothesis"] = log_hypotheses(table)
        extra += _LOG_COLUMNS
    if metrics is not None:
        table["hypothesis"] = pd.array([_metric_words(h, top, mv, raw, raw_top) for h, top, mv, raw, raw_top in zip(
            table["hypothesis"], table["metric_top"], table["metrics"], table["_metrics_uncapped"],
            table["_metric_top_uncapped"], strict=True)], dtype="string")
        extra += ([] if logs is not None else ["decided_by"]) + _METRIC_COLUMNS
    if metrics is not None or logs is not None:  # which signals support each row (the hypothesis' threshold)
        support = {"traces": (table[list(EVIDENCE)].to_numpy(dtype=float) > SAID_EVIDENCE).any(axis=1)}
        if logs is not None:
            support["logs"] = (table[["log_templates", "log_errors"]].to_numpy(dtype=float) > SAID_EVIDENCE).any(axis=1)
        if metrics is not None:
            support["metrics"] = table["metrics"].to_numpy(dtype=float) > SAID_EVIDENCE
        table["signals"] = pd.array([", ".join(n for n, ok in support.items() if ok[i]) for i in range(len(table))],
                                    dtype="string")
        extra.append("signals")
    table = table[[*keys, *RANK_CAUSES.column_names, *extra]]
    for c in RANK_CAUSES.columns:
        if c.dtype in ("float64", "int64"):
            table[c.name] = table[c.name].astype(c.dtype)
    na_, nb_ = a.tree.n_traces, b.tree.n_traces
    table.attrs.update(baseline_source=source, window=window, n_traces=(na_, nb_), baseline_too_small=too_small,
                       params=dict(level=level, q=q, prior=prior, min_spans=min_spans, n_boot=n_boot, ci=ci,
                                   evidence_weights=w, seed=seed))
    if metrics is not None:  # how many series could be compared, in which windows (plain values: concat compares attrs)
        table.attrs["metric_coverage"] = metric_cov
    if logs is not None:  # how many records the log evidence stands on (joined to each side's spans)
        table.attrs["log_records"] = log_records
    return table


#: fewest traces on each side of the baseline's own split (:func:`chance_score`); fewer and no row is made
CHANCE_MIN_TRACES = 10

CHANCE_SCORE = result_table("chance_score", "one row per block of the baseline ranked against the rest of it: its "
                            "last block, then its first (one row when they are the same block)", [
    ("block", "string", "", "'last' (where an incident follows the baseline) or 'first' (the baseline's drift)"),
    ("score", "float64", "", "the top score of rank_causes between the block and the rest of the baseline (two "
                             "parts of one normal period): how high a score goes on chance, this system's drift and "
                             "noise; with evidence=, the top of the sum of those kinds of evidence alone (what chance "
                             "scores on the evidence an incident's top stands on)"),
    ("top", "string", "", "the component with that score there (service, or service / operation, host, version)"),
    ("top_score", "float64", "", "the top score of the ranking there, every kind of evidence summed (score without "
                                 "evidence=)"),
    ("block_traces", "int64", "traces", "traces in the block (those that started last, or first)"),
    ("rest_traces", "int64", "traces", "the baseline's other traces, the block's baseline"),
    ("metric_series", "int64", "series", "metric series the block's ranking compared (analysis.metric_evidence): 0 "
                                         "without metrics=, or when the block's and the rest's windows hold no points "
                                         "to compare (a baseline a few scrape intervals long) — the score is then the "
                                         "traces' (and logs') alone"),
])


def _first_copies(spans: pd.DataFrame) -> pd.DataFrame:
    """``spans`` without the other copies of a span id repeated in its trace (:func:`tracekit.core.span_tree`'s
    ``duplicate``); the frame itself when there are none."""
    dup = span_tree(spans).duplicate
    return spans[~dup] if dup.any() else spans


def _rank_defaults() -> dict[str, Any]:
    """:func:`rank_causes`' keyword defaults (one definition: its signature)."""
    params = inspect.signature(rank_causes).parameters
    return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty and k != "baseline"}


def chance_score(baseline: pd.DataFrame, n_traces: int, *, level: str = "service", logs: pd.DataFrame | None = None,
                 metrics: pd.DataFrame | None = None, weights: Any = None,
                 evidence: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """How high :func:`rank_causes`' top score goes with nothing injected, at an incident's sample size.

    A score is a shrunk share of abnormal spans, so some component always scores above 0 on chance, an hour's
    drift and the system's own noise. This ranks a block of ``baseline``'s traces — as many as the incident has
    (``n_traces``), at most half the baseline, by start — against the rest of it, with the same level and signals:
    the block that started last (where an incident follows its baseline), then the one that started first. An
    incident's top score near these is no evidence that its component did anything (the postmortem calls a
    component a likely cause only at 1.5 times the higher and 0.1 above it: :data:`tracekit.investigate.postmortem.CLEAR_OVER_NULL`,
    :data:`~tracekit.investigate.postmortem.CLEAR_MARGIN`).
    Scores only: no millisecond evidence, examples or words are computed (on the bundled baseline, operation
    level, 0.4 s a block against 2.0 s for a whole :func:`rank_causes`).

    The kinds of evidence differ in how much chance moves them: a normal period's error origins are few, while a
    few calls of a small operation above their pair's p95 make a ``waiting`` share of 0.25. ``evidence`` scores
    the block on some kinds alone (those an incident's top stands on): the top of their sum over the block's
    components, so an incident's errors are held against what errors score on chance, not against another
    component's waiting. Fault lab, exception in order-service (seed 4): 17 of the 19 error origins in it (errors
    0.30, score 0.35), against a top score of 0.27 between parts of the baseline that was rate-service's waiting
    (9 of 19 calls above the p95 of 22), where errors alone score 0.015.

    Parameters
    ----------
    baseline : pandas.DataFrame
        Spans of a normal period (not modified).
    n_traces : int
        Traces in the incident: the block's size (at most half the baseline's traces).
    level : {"service", "operation", "host", "version"}
        As :func:`rank_causes`.
    logs, metrics : pandas.DataFrame, optional
        The log records and metric points :func:`rank_causes` would use (a logs frame, a metrics frame).
    weights : DataFrame, Series or float, optional
        Sampling weights of the baseline's traces, as :func:`rank_causes`.
    evidence : list of str, optional
        Score columns of :func:`rank_causes` (:data:`EVIDENCE`, and ``log_templates``, ``log_errors``,
        ``metrics`` with logs and metrics) whose sum is the score; default all (the ranking's score). A kind the
        block's ranking lacks (``metrics`` without metrics) adds 0.

    Returns
    -------
    pandas.DataFrame
        :data:`CHANCE_SCORE`: a row per block, none when a side would hold fewer than
        :data:`CHANCE_MIN_TRACES` traces or the ranking has nothing to compare.

    Raises
    ------
    SpansSchemaError
        ``baseline`` lacks a column the ranking needs.
    ArgumentError
        ``level`` is not one of :data:`LEVELS`, or ``evidence`` names no score column.

    Examples
    --------
    >>> import tracekit as tk
    >>> base = tk.simulate.simulate("baseline", 400, seed=3).spans
    >>> cs = tk.chance_score(base, 100)
    >>> cs["block"].tolist(), cs["block_traces"].tolist(), cs["rest_traces"].tolist()
    (['last', 'first'], [100, 100], [300, 300])
    >>> bool(cs["score"].between(0, 1).all()), bool((cs["score"] == cs["top_score"]).all())
    (True, True)
    >>> errors = tk.chance_score(base, 100, evidence=["errors"])  # what error origins alone score on chance
    >>> bool((errors["score"] <= errors["top_score"]).all())
    True
    """
    need = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "duration_ms")
    require_columns(baseline, need, "chance_score (baseline)")
    if level not in LEVELS:
        raise ArgumentError(f"chance_score: level must be one of {', '.join(LEVELS)}; got {level!r}")
    n_traces = count_arg(n_traces, "n_traces", "chance_score", minimum=1)
    if evidence is not None:
        if isinstance(evidence, str) or not all(isinstance(e, str) for e in evidence):
            raise ArgumentError(f"chance_score: evidence must be a list of score column names; got {evidence!r}")
        bad = [e for e in evidence if e not in SCORE_COLUMNS]
        if bad:
            raise ArgumentError(f"chance_score: evidence {', '.join(map(repr, bad))} is not one of "
                                f"{', '.join(SCORE_COLUMNS)}")
    first = baseline.groupby("trace_id", sort=False, observed=True)["start"].min().sort_values(kind="stable")
    n = min(n_traces, len(first) // 2)
    rows = []
    if n >= CHANCE_MIN_TRACES and len(first) - n >= CHANCE_MIN_TRACES:
        for block, at in dict(last=len(first) - n, first=0).items():
            if rows and at == len(first) - n:  # one block: the last is the first
                break
            inside = baseline["trace_id"].isin(first.index[at:at + n]).to_numpy(dtype=bool)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    # rank_causes' own defaults, but for what a score does not read (resamples, lift rows)
                    kw = {**_rank_defaults(), "level": level, "weights": weights, "n_boot": 1, "lift_rows": 0,
                          "metrics": metrics, "logs": logs, "window": None}
                    rr = _ranking(baseline[inside], baseline[~inside], details=False, **kw)
                except TraceKitError:
                    continue
            if len(rr):
                keys = [k for k in rr.columns[:list(rr.columns).index("rank")]]
                i = 0
                score = float(rr["score"].iloc[0])
                if evidence is not None:  # the top of the sum of those kinds (the default weights: all 1)
                    s_ = np.zeros(len(rr))
                    for e in dict.fromkeys(evidence):
                        if e in rr.columns:
                            s_ = s_ + rr[e].fillna(0.0).to_numpy(dtype=float)
                    i = int(np.argmax(s_))
                    score = float(s_[i])
                top = " / ".join(str(rr[k].iloc[i]) for k in keys)
                cov = rr.attrs.get("metric_coverage") or {}
                rows.append(dict(block=block, score=score, top=top, top_score=float(rr["score"].iloc[0]),
                                 block_traces=n, rest_traces=len(first) - n, metric_series=int(cov.get("compared", 0))))
    out = pd.DataFrame(rows, columns=CHANCE_SCORE.column_names)
    return out.astype({c.name: c.dtype for c in CHANCE_SCORE.columns})


def _metric_words(h: str, top: Any, counted: float, uncapped: float, top_uncapped: Any) -> str:
    """The hypothesis with its metrics: the top counted metric; where the own-time cap
    (:func:`tracekit.analysis.metric_evidence.join_metric_evidence`) left out more than the 0.05 bar, what moved and
    how much of it counted."""
    if uncapped - counted > 0.05 and isinstance(top_uncapped, str):
        return (f"{h} Metrics: {top_uncapped} (metric score {uncapped:.2f}, counted {counted:.2f}: its CPU and "
                "request-duration metrics count as far as its spans' own time rose).")
    return f"{h} Metrics: {top}." if isinstance(top, str) and counted > 0.05 else h


def _formats(spans: pd.DataFrame) -> set[str]:
    if "source" not in spans.columns:
        return set()
    return {str(x) for x in pd.unique(spans["source"].astype(object)) if isinstance(x, str)}


def _auto_baseline(spans: pd.DataFrame, freq: str | None, alpha: float, weights: Any,
                   metrics: pd.DataFrame | None = None):
    from ..analysis.metric_changes import metric_incident_periods

    # the metrics given are searched for the window where the requests show none (postmortem's rule)
    p = metric_incident_periods(spans, None, freq=freq, alpha=alpha, weights=weights, metrics=metrics)
    if p.baseline is None and p.rejected:  # a change, but no period around it acceptable as normal
        raise ArgumentError(f"rank_causes: no baseline given and none acceptable found around the change "
                            f"({p.rejected}): pass baseline= a normal period")
    if p.baseline is None:
        raise ArgumentError("rank_causes: no baseline given and no change over time found in the incident "
                            "(detect_changes by route, p95 and error rate"
                            + (", nor in the metrics given" if metrics is not None else "")
                            + "): pass baseline= a normal period")
    return p.incident, p.baseline, p.source, p.window

#: fewest baseline traces in the incident window's minutes for those minutes to be the baseline
_MIN_SAME_MINUTES = 30


def _same_minutes(baseline: pd.DataFrame, cut: Any) -> tuple[pd.DataFrame, str]:
    """The baseline's traces in the window's minutes (``cut``: its split_by_change), or the whole
    baseline when fewer than :data:`_MIN_SAME_MINUTES` traces started in them; and the words."""
    from ..analysis.changes import window_text

    n = int(cut.incident["trace_id"].nunique())
    when = window_text(cut.onset, cut.recovery if cut.recovery is not pd.NaT else baseline["start"].max())
    if n >= _MIN_SAME_MINUTES:
        return cut.incident, f"the baseline given, its same minutes ({when}, {n:,} traces)"
    return baseline, (f"the baseline given, whole ({baseline['trace_id'].nunique():,} traces): only {n:,} of its "
                      f"traces started in the incident window's minutes ({when})")


def _window_and_same_minutes(spans: pd.DataFrame, baseline: pd.DataFrame, freq: str | None, alpha: float,
                             weights: Any):
    """The incident window found in ``spans`` and the baseline's same minutes (like with like)."""
    from ..analysis.changes import incident_periods, split_by_change

    p = incident_periods(spans, baseline, freq=freq, alpha=alpha, weights=weights)
    if p.window is None:
        return spans, baseline, "the baseline given (no change over time found in the incident: both compared whole)", None
    base, source = _same_minutes(baseline, split_by_change(baseline, p.window))
    return p.incident, base, source, p.window


def level_frame(spans: pd.DataFrame, level: str) -> tuple[pd.DataFrame, list[str]]:
    """``spans`` with the column(s) of ``level`` (``host``/``version`` added from the resource) and the key columns.

    >>> import tracekit as tk
    >>> level_frame(tk.simulate.simulate("baseline", 5, seed=1).spans, "version")[1]
    ['service', 'version']
    """
    if level == "operation":
        return spans, ["service", "name"]
    if level in ("service", "call_path"):
        return spans, [level]
    extra = spans.copy()
    if level == "host":
        extra["host"] = pd.array(hosts(spans), dtype="string")
        return extra, ["service", "host"]
    extra["version"] = pd.array(versions(spans), dtype="string")
    return extra, ["service", "version"]


def _compare(incident: pd.DataFrame, baseline: pd.DataFrame, level: str, keys: list[str], n_boot: int, ci: float,
             seed: int, given: Any = None) -> pd.DataFrame:
    from ..analysis.comparison import Comparison, compare_table

    if given is not None:
        if not isinstance(given, Comparison) or list(given.params.get("by", [])) != keys:
            raise ArgumentError(f"rank_causes: comparison must be a compare() result by {keys}")
        t = given.table
    else:  # the columns read below only: compare's numbers, without its other resamples, call paths and latency
        t = compare_table(level_frame(incident, level)[0], level_frame(baseline, level)[0], by=keys,
                          measures=("cp_ms", "calls", "fanout", "error_rate"), intervals=("cp_ms",), n_boot=n_boot,
                          ci=ci, seed=seed)
    out = t[[*keys, "delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi", "delta_calls", "delta_fanout",
             "delta_error_rate"]].copy()
    for k in keys:
        out[k] = out[k].astype("string")
    return out


def _callee_per_key(spans: pd.DataFrame, ka: np.ndarray, codes: np.ndarray) -> list:
    """Most frequent callee of the key's leaf spans."""
    tree = span_tree(spans)
    leaf = np.ones(len(spans), dtype=bool)
    leaf[tree.parent[tree.parent >= 0]] = False
    rows = np.flatnonzero(leaf)
    c = callees(spans, rows)
    d = pd.DataFrame({"k": ka[rows], "c": c}).dropna()
    # per key, its callee of most leaf spans, a tie to the smallest name (not to the one met first: the same spans
    # in another row order named another callee), one pass for all (a lambda per key cost 3.7 s on 10,500 keys)
    g = d.groupby(["k", "c"], sort=False).size().rename("size").reset_index()
    g["name"] = g["c"].astype(str)
    top = g.sort_values(["k", "size", "name"], ascending=[True, False, True], kind="stable") \
        .drop_duplicates("k").set_index("k")["c"] if len(d) else pd.Series(dtype=object)
    return [top.get(k) if k >= 0 else None for k in codes]


def _exemplars(a: _Side, b: _Side, ka, kb, oa, ob, thr, codes) -> tuple[list, list]:
    """Incident: the trace with the key's largest self time over its operation's threshold (else its
    slowest span); baseline: the trace holding the key's span nearest the median self time. Ties go to the smallest
    trace id (not to the row met first: the same spans in another row order named another trace)."""
    ratio = np.where(np.isnan(thr[oa]) | (thr[oa] <= 0), 0.0, np.nan_to_num(a.self_ms) / np.where(thr[oa] > 0, thr[oa], 1))
    da = pd.DataFrame({"k": ka, "r": ratio, "s": np.nan_to_num(a.self_ms), "t": a.trace,
                       "id": a.trace_ids[a.trace].astype(str)})
    best = da.sort_values(["r", "s", "id"], ascending=[False, False, True], kind="stable") \
        .drop_duplicates("k").set_index("k")["t"]
    db = pd.DataFrame({"k": kb, "s": np.nan_to_num(b.self_ms), "t": b.trace, "id": b.trace_ids[b.trace].astype(str)})
    med = db.groupby("k")["s"].transform("median")
    db["d"] = (db["s"] - med).abs()
    typ = db.sort_values(["d", "id"], kind="stable").drop_duplicates("k").set_index("k")["t"]
    ex_a = [str(a.trace_ids[best[k]]) if k in best.index else None for k in codes]
    ex_b = [str(b.trace_ids[typ[k]]) if k in typ.index else None for k in codes]
    return ex_a, ex_b


#: a lifted value is said cut to this many characters, as log_hypotheses cuts a template (TrainTicket 10:04 lifted a
#: 13,000-character template into the postmortem's "where" finding)
LIFT_CHARS = 120
#: bubble_up's dimensions read from the log records on the spans (analysis.logs.log_dimensions)
_LOG_DIMENSIONS = ("log_template", "log_severity")


def _lifted(sa: pd.DataFrame, sb: pd.DataFrame) -> pd.DataFrame | None:
    """bubble_up of incident spans ``sa`` against baseline spans ``sb`` (None when it cannot be computed)."""
    from ..analysis.attribution import bubble_up

    # the two sides told apart by trace id: a baseline sharing spans with the incident (the same hour given as both, or
    # overlapping windows) had its copies taken for the incident's spans read twice (bubble_up counts a span once)
    # and left out, so the lift compared the incident's spans with nothing (8 rank_causes calls of the suite warned)
    shared = np.isin(sb["trace_id"].to_numpy(dtype=object), pd.unique(sa["trace_id"].to_numpy(dtype=object)))
    if shared.any():
        codes, tids = pd.factorize(sb["trace_id"].to_numpy(dtype=object))  # one hash per trace, not per span
        other = np.array([hashlib.blake2b(f"baseline:{t}".encode(), digest_size=16).hexdigest() for t in tids],
                         dtype=object)
        # new ids are no category of a categorical column (cast to it, every baseline id read <NA> and the lift
        # was lost): text then
        dtype = sb["trace_id"].dtype
        sb = sb.assign(trace_id=pd.array(other[codes], dtype=STRING if isinstance(dtype, pd.CategoricalDtype) else dtype))
    both = pd.concat([sa, sb], ignore_index=True)
    sel = pd.Series(np.r_[np.ones(len(sa), bool), np.zeros(len(sb), bool)], index=both.index)
    try:
        return bubble_up(both, sel, ~sel, level="span")
    except Exception:  # noqa: BLE001 - a lift is optional evidence; the ranking stands without it
        return None


def _counted(hits: pd.DataFrame | None) -> pd.DataFrame | None:
    """bubble_up's rows with the spans each side counted over (its attrs) as columns, which survive a concat of two
    calls over different spans (all of a component's, and those of periods the logs cover)."""
    if hits is None:
        return None
    return hits.assign(_n_a=int(hits.attrs.get("n_selection", 0)), _n_b=int(hits.attrs.get("n_baseline", 0)))


def _lifts(incident: pd.DataFrame, baseline: pd.DataFrame, ka, kb, codes, n_rows: int,
           logs: pd.DataFrame | None = None) -> list:
    """The most lifted attribute of each component's incident spans against its baseline spans. With ``logs``, the
    log dimensions compare only the spans of periods the logs cover (:func:`~tracekit.analysis.log_evidence.
    log_coverage`), as log evidence does: TrainTicket 10:04 said a template "100% of incident spans vs 37% of
    baseline" that every covered baseline span logged too — the rest had no record collected."""
    out: list = [None] * n_rows
    dims_skip = {"service", "name", "operation", "route", "kind", "status", "resource.service.name"}
    cov_a = cov_b = None
    if logs is not None and len(codes):
        from ..analysis.log_evidence import log_coverage

        cov_a, cov_b = log_coverage(incident, logs), log_coverage(baseline, logs)
    for i, k in enumerate(codes):
        if k < 0:
            continue
        ra, rb = ka == k, kb == k
        sa, sb = incident[ra], baseline[rb]
        if sa.empty or sb.empty:
            continue
        hits = _counted(_lifted(sa, sb))
        if hits is None:
            continue
        partial = cov_a is not None and not (cov_a[ra].all() and cov_b[rb].all())
        if partial:  # the log dimensions again, on the covered spans only
            hits = hits[~hits["dimension"].isin(_LOG_DIMENSIONS)]
            ca, cb = incident[ra & cov_a], baseline[rb & cov_b]
            logged = _counted(_lifted(ca, cb)) if len(ca) and len(cb) else None
            if logged is not None:
                logged = logged[logged["dimension"].isin(_LOG_DIMENSIONS)].assign(_covered=True)
                hits = pd.concat([hits, logged], ignore_index=True).sort_values(
                    ["score", "q_value"], ascending=[False, True], kind="stable", na_position="last")
        hits = hits[~hits["dimension"].isin(dims_skip) & (hits["share_selection"] > hits["share_baseline"])]
        if "q_value" in hits.columns:
            hits = hits[hits["q_value"] < 0.05]
        if len(hits):
            h = hits.iloc[0]
            covered = h.get("_covered")
            where = " (spans of periods the logs cover)" if partial and pd.notna(covered) and bool(covered) else ""
            value = str(h["value"])
            value = value if len(value) <= LIFT_CHARS else value[:LIFT_CHARS - 1] + "…"
            # counts with their populations (the component's spans on each side): "30% of incident spans vs 1% of
            # baseline" read as all the incident's spans, of 13 of one operation's 43 against 1 of 108
            n_a, n_b = int(h["_n_a"]), int(h["_n_b"])
            out[i] = (f"{h['dimension']}={value}: {int(h['selection_count']):,} of its {n_a:,} incident spans "
                      f"({percent(h['share_selection'])}) vs {int(h['baseline_count']):,} of its {n_b:,} baseline "
                      f"spans ({percent(h['share_baseline'])}){where}")
    return out


def _move_answers(table: pd.DataFrame, incident: pd.DataFrame, baseline: pd.DataFrame, ka: np.ndarray, unit: np.ndarray,
                  alpha: float, w: dict, host: np.ndarray) -> pd.DataFrame:
    """``answers``: a caller whose course changed after one host's answers (and not after the callee's other hosts':
    :func:`~tracekit.analysis.course_changes.host_answers`, p ≤ ``alpha``) did what it does with a wrong or unexpected
    answer; its own code did not change, as a change in it would not follow one pod of its callee. Its evidence of a
    changed course (``_COURSE_EVIDENCE`` weighted, and its log evidence) times the share of its steps to a changed
    step that followed that host, beyond the other hosts' rate, moves to the key of the spans that answered — as an
    error counts where it originates. ``unit``: per key code the caller it belongs to (the key itself, or at
    operation level its service), whose changed steps make the share and whose keys' evidence moves; ``host``: the
    incident's hosts. A new table; ``score`` moves with it (times the ``answers`` weight)."""
    from ..analysis.course_changes import host_answers

    ha = host_answers(incident, baseline, alpha, host=host)
    if not len(ha.rows):
        return table
    n_k, n_u = len(unit), int(unit.max()) + 1
    kc, kj = ka[ha.rows], ka[ha.answer_rows]
    uc = unit[kc]
    ok = uc != unit[kj]
    pair, inv = np.unique(uc[ok] * n_k + kj[ok], return_inverse=True)
    excess = np.maximum(np.bincount(inv, weights=ha.excess[ok], minlength=len(pair)), 0.0)
    changed = np.bincount(unit[ka[ha.changed_rows]], minlength=n_u).astype(float)
    pu, pj = pair // n_k, pair % n_k
    f_pair = excess / np.maximum(changed[pu], 1.0)
    f_u = np.bincount(pu, weights=f_pair, minlength=n_u)
    f_pair = f_pair / np.maximum(f_u[pu], 1.0)  # at most the whole of a caller's evidence moves
    out = table.copy()
    k_of = out["_k"].to_numpy(dtype=np.int64)
    row_of = np.full(n_k, -1, dtype=np.int64)
    row_of[k_of] = np.arange(len(out))
    keep = (row_of[pj] >= 0) & (f_pair > 0)
    pu, pj, f_pair = pu[keep], pj[keep], f_pair[keep]
    if not len(pu):
        return table
    kinds = [*_COURSE_EVIDENCE, *[c for c in ("log_templates", "log_errors") if c in out.columns]]
    course = sum(out[e].to_numpy(float) * float(w.get(e, 1.0)) for e in kinds)
    # each row of a caller gives that share of its evidence; the answering keys take what its rows gave, each in
    # proportion to its part of the share
    row_unit = unit[k_of]
    share = np.bincount(pu, weights=f_pair, minlength=n_u)
    out_moved = course * share[row_unit]
    given = np.bincount(row_unit, weights=out_moved, minlength=n_u)
    answers = np.bincount(row_of[pj], weights=given[pu] * f_pair / share[pu], minlength=len(out)) - out_moved
    out["answers"] = answers
    out["score"] = out["score"].to_numpy(float) + w["answers"] * answers
    # the counts behind the words: per receiving key, its host's steps and those that went to a changed step
    host = host[ha.answer_rows]
    caller = known_service_column(incident["service"]).to_numpy(dtype=object)[ha.rows]
    words, out_words = [""] * len(out), [""] * len(out)
    for r in ha.table.itertuples(index=False):
        mine = (host == r.callee_host) & (caller == r.caller)
        said = (f"after the answers of {r.callee}'s host {r.callee_host}, {r.caller}'s requests went where the "
                f"baseline's seldom did after {r.host_changed:,.0f} of its {r.host_steps:,.0f} calls there, after "
                f"{r.other_hosts_changed:,.0f} of the {r.other_hosts_steps:,.0f} its other hosts answered "
                f"(p = {r.host_p_value:.1g})")
        for i in np.r_[row_of[np.unique(kj[mine])], np.flatnonzero(np.isin(row_unit, uc[mine]))]:
            if i < 0 or answers[i] == 0:
                continue
            into = words if answers[i] > 0 else out_words
            if said not in into[i]:
                into[i] = "; ".join(x for x in (into[i], said) if x)
    out["_answers_words"] = [f"+{x}" if x else (f"-{y}" if y else "") for x, y in zip(words, out_words, strict=True)]
    if "decided_by" in out.columns:  # what weighs most may now be the answers moved in (or what is left)
        ks = [*EVIDENCE, *[c for c in ("log_templates", "log_errors", "metrics") if c in out.columns]]
        contrib = np.column_stack([out[c].to_numpy(float) * float(w.get(c, 1.0)) for c in ks])
        best = contrib.argmax(axis=1)

        def decided(i: int, kind: str) -> str:
            if contrib[i, ks.index(kind)] <= 0:
                return "nothing (no evidence above zero)"
            if kind == "metrics":
                name = out["metric_top_name"].iat[i] if "metric_top_name" in out.columns else None
                return "metrics: " + (str(name) if isinstance(name, str) else "metrics")
            return ("logs: " if kind in ("log_templates", "log_errors") else "traces: ") + kind

        moved_rows = np.flatnonzero(answers != 0)
        out.loc[out.index[moved_rows], "decided_by"] = pd.array([decided(i, ks[best[i]]) for i in moved_rows],
                                                                dtype="string")
    return out


def _notes(table: pd.DataFrame) -> list[str]:
    s = table["score"].to_numpy(dtype=float)
    out = []
    for i in range(len(s)):
        notes = []
        tied = [j + 1 for j in (i - 1, i + 1) if 0 <= j < len(s) and abs(s[j] - s[i]) < 0.02]
        if tied:
            notes.append("tied with rank " + " and ".join(str(t) for t in tied) + " (score within 0.02)")
        n_spans = int(table["spans"].iat[i])
        # vanished calls rest on the calls the baseline's rate predicts, not on the spans left (a component whose 100
        # expected calls all vanished has 0 spans and was noted "low evidence (0 spans)")
        expected = float(table["_n_vanished"].iat[i]) if "_n_vanished" in table.columns and \
            float(table["vanished"].iat[i]) > 0 else 0.0
        if s[i] < 0.1:
            notes.append("low evidence (score < 0.1: little differs from the baseline)")
        elif max(n_spans, expected) < 10:
            notes.append(f"low evidence ({n_spans} spans" + (f", {_n(expected)} calls expected)" if expected else ")"))
        out.append("; ".join(notes))
    return out


def _fmt_ms(x: float) -> str:
    return ms_text(x, signed=True)


def _nb_words(nb: Any, left_out: Any = 0.0, q: float = 0.95) -> str:
    """What a span is compared with: the ``q`` quantile of one operation's baseline spans, or of each span's own
    operation's; and the baseline spans left out of it (in minutes far above the operation's others:
    core.normal_slices). Under ``1 / (1 - q)`` spans the quantile is their largest and is said so ("above the p95 of
    the operation's 1 baseline spans": fault lab 405 against an 8-trace baseline)."""
    nb = float(nb) if nb is not None else np.nan
    lo = float(left_out) if left_out is not None and np.isfinite(float(left_out)) else 0.0
    qq = f"p{100 * q:g}"
    if not np.isfinite(nb):
        more = (f", leaving out {_n(lo)} in minutes when their operation's own time was far above its other minutes'"
                if lo > 0 else "")
        return f"the {qq} of their operation's baseline spans{more}"
    more = f", leaving out {_n(lo)} in minutes when its own time was far above its other minutes'" if lo > 0 else ""
    if round(nb) == 1:
        return f"the operation's one baseline span{more}"
    if nb * (1 - q) < 1:
        return f"the largest of the operation's {_n(nb)} baseline spans (its {qq}, with so few){more}"
    return f"the {qq} of the operation's {_n(nb)} baseline spans{more}"


def _n(x: float) -> str:
    """A (weighted) count as said: whole numbers without decimals."""
    return f"{x:,.0f}" if abs(x - round(x)) < 0.05 else f"{x:,.1f}"


def _unknown_words(x: float) -> str:
    """After the errors' count of spans: how many spans still in progress (core.outcome_unknown) it left out."""
    return f" of known outcome, {_n(x)} still in progress (outcome unknown) left out" if x > 0.05 else ""


#: each kind of evidence in words: the counts behind it (a count over a count) and its score, named as a score
_PHRASES = {
    "slower": "its own work got slower ({x} of its {n} {op}spans above {nb}, score "
              "{v:.2f}; self time {self} per request, all routes)",
    "waiting": "calls to or from it wait longer outside it ({x} of its {n} calls{at} above the call pair's normal limit "
               "in the baseline (its p{qq}, or median + 3 robust SDs when lower){wnote}, score {v:.2f}{waits})",
    "extra": "it makes or serves calls the baseline's rate does not explain ({x} {op}calls where the baseline's rate "
             "per request predicts {n}, score {v:.2f}: a new operation, retries or cold starts)",
    "vanished": "calls it usually makes or serves are missing ({x} {op}calls where the baseline's rate per request "
                "predicts {n}, score {v:.2f})",
    "shape": "its call pattern changed ({x} of its {n} {op}spans with a number of children the baseline never "
             "showed, score {v:.2f})",
    "errors": "errors originate in it ({x} of its {n} {op}spans{unknown}, score {v:.2f}; {o} of the {oall} error origins)",
    "answers": "its callers changed course after one host's answers ({aw}: their evidence of a changed course, score "
               "{v:.2f}, counted here — a wrong or unexpected answer leaves no mark on its own spans: check what that "
               "host returned)",
}
#: "slower" where its self time per request fell: a few slow spans, not slower work ("its own work got slower (2 of its
#: 12 spans ... score 0.06; self time -0.34 ms per request" on Nezha TrainTicket 09:25:39)
_SLOWER_SELF_FELL = ("some of its spans ran slow ({x} of its {n} {op}spans above {nb}, score {v:.2f}), "
                     "though its self time per request fell ({self}, all routes)")
#: shape when decided by spans that stopped early (analysis.early_stops)
_STOP_PHRASE = ("its spans stopped where they always went on ({x} of its {n} steps from {state} ended there, where "
                "the baseline's never did, score {v:.2f}: an exception or early return skipping the rest)")


def _blame_note(x: float) -> str:
    """Why a count of slow calls has decimals: each slow hop counts at this end by its share of the blame
    (:mod:`tracekit.analysis.hop_blame`), so the count is weighted, not a number of calls."""
    return "" if not np.isfinite(x) or abs(x - round(x)) < 0.05 else ", each counted by this end's share of the blame"


def _wait_words(wait: float, wait_out: float) -> str:
    """``; per request of all routes, its callers wait 12.0 ms longer outside it`` — each side said only when it
    moved (``+0.00 ms outside its callees`` said nothing a reader could use), in words that follow its sign: a wait
    that fell reads "less", not "-0.03 ms" beside the sentence's "wait longer".

    >>> _wait_words(12.0, -0.03)
    '; per request of all routes, its callers wait 12.0 ms longer outside it, it waits 0.03 ms less outside its callees'
    >>> _wait_words(0.0, -0.03)
    '; yet per request of all routes, it waits 0.03 ms less outside its callees: the calls past their limit did not raise the mean wait'
    """
    moved = [(x, who, where) for x, who, where in
             ((wait, "its callers wait", "outside it"), (wait_out, "it waits", "outside its callees"))
             if x is not None and np.isfinite(x) and abs(x) >= 0.005]
    said = [f"{who} {ms_text(abs(x))} {'longer' if x > 0 else 'less'} {where}" for x, who, where in moved]
    if said and all(x < 0 for x, _, _ in moved):
        # every mean wait fell beside "wait longer" (the share of calls past their limit): said as the contrast it is
        # (fault lab cpu_contention seed 1: "4 of its 7 calls above …; … it waits 0.03 ms less" read as a slip)
        return (f"; yet per request of all routes, {', '.join(said)}: the calls past their limit did not raise the "
                "mean wait")
    return f"; per request of all routes, {', '.join(said)}" if said else ""


#: a change of direct children per span (``delta_fanout``) at least this large is said in a row with no evidence of its
#: own: a call added to (or dropped from) every span is ranked at the operation called, not at the caller
FANOUT_WORDS = 0.5


def _hypothesis(r: dict, keys: list[str], level: str, q: float = 0.95) -> str:
    label = ": ".join(str(r[k]) for k in keys if r[k] is not None) if level != "service" else str(r["service"])
    if level in ("host", "version"):
        label = f"{r['service']} {level} {r[keys[1]]}"
    parts = sorted(((r[e], e) for e in EVIDENCE if r[e] > SAID_EVIDENCE), reverse=True)
    cp = r.get("delta_cp_ms")
    cp_txt, moved = "", False
    if cp is not None and np.isfinite(cp):
        lo, hi = r["delta_cp_ms_lo"], r["delta_cp_ms_hi"]
        moved = bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))
        chance = ", within chance" if np.isfinite(lo) and np.isfinite(hi) and lo <= 0 <= hi else ""
        wait = r.get("delta_wait_ms")
        if chance and wait is not None and np.isfinite(wait) and r.get("waiting", 0.0) > SAID_EVIDENCE \
                and wait >= max(1.0, 10 * abs(float(cp))):
            # its own spans' critical path did not move, the wait on it did: booked to its callers' client spans
            # (Nezha OnlineBoutique cartservice network delay: "critical path +0.054 ms ..., within chance" read as no
            # cost, while each request waited 205 ms longer on it)
            chance += (f" — the time of its own spans; the {ms_text(float(wait))} per request its callers wait longer "
                       "on it is booked to their client spans")
        cp_txt = f"; critical path {_fmt_ms(cp)} per request of any route [{_fmt_ms(lo)}, {_fmt_ms(hi)}]{chance}"
    if not parts and moved:  # each share small, yet the milliseconds moved beyond chance (every span a little slower)
        return (f"{label}: no share of its spans' timing, calls or errors differs clearly from the baseline (every "
                f"evidence score 0.05 or less), but its critical path moved beyond chance{cp_txt}.")
    fan = r.get("delta_fanout")
    if not parts and fan is not None and np.isfinite(fan) and abs(fan) >= FANOUT_WORDS:
        # its calls changed, and their evidence is counted where they are (a new call: at its own operation, as
        # extra), so "nothing in its calls differs" was wrong (deploy-regression: POST /api/charge, +1.0 children)
        return (f"{label}: nothing in its spans' timing or errors differs clearly from the baseline, but each of its "
                f"spans makes {abs(fan):.1f} {'more' if fan > 0 else 'fewer'} direct calls on average than the baseline's "
                "(their evidence is counted at the operations called).")
    if not parts:
        return f"{label}: nothing in its spans' timing, calls or errors differs clearly from the baseline."
    op = r.get("evidence_operation")
    op_txt = f"{op} " if level != "operation" and isinstance(op, str) and op else ""
    txt = [_STOP_PHRASE.format(v=v, x=_n(float(r.get("_x_shape", np.nan))), n=_n(float(r.get("_n_shape", np.nan))),
                               state=r["_stop_state"].replace(" | ", " after ").replace(" after START", " before any call"))
           if e == "shape" and r.get("_stop_state") else (
               _SLOWER_SELF_FELL if e == "slower" and float(r["delta_self_ms"]) < 0 else _PHRASES[e]).format(v=v, x=_n(float(r.get(f"_x_{e}", np.nan))), n=_n(float(r.get(f"_n_{e}", np.nan))),
                              op=op_txt, nb=_nb_words(r.get("_nb_slower", np.nan), r.get("_nb_left_out", 0.0), q), qq=f"{100 * q:g}", self=_fmt_ms(r["delta_self_ms"]),
                              waits=_wait_words(r["delta_wait_ms"], r.get("_wait_out_ms", np.nan)),
                              o=_n(float(r.get("_origins", 0.0))), wnote=_blame_note(float(r.get(f"_x_{e}", np.nan))),
                              oall=_n(float(r.get("_origins_all", 0.0))),
                              unknown=_unknown_words(float(r.get("_unknown_errors", 0.0))),
                              aw=str(r.get("_answers_words") or "").removeprefix("+"),
                              at=f" to or from its host {r['_wait_host']}" if isinstance(r.get("_wait_host"), str) else "")
           for v, e in parts[:2]]
    callee = r.get("callee")
    via = f" (calls {callee})" if isinstance(callee, str) and callee else ""
    if via and level == "operation":
        # an operation of leaf calls: its time is the wait on a callee that sent no spans (a database, a peer), not
        # its own work (one service's spans, admin-service absent: "user-service: POST /admin/get (calls
        # admin-service): its own work got slower")
        txt = [t.replace("its own work got slower", f"its calls to {callee} got slower — the wait on {callee}, which "
                         "sent no spans of its own", 1) for t in txt]
        # the same for errors: the client span shows the error its callee returned ("cart-service: GET
        # /api/v1/route/list (calls route-service) — errors originate in it" sent the reader to cart-service's code;
        # route-service, which threw, sent no spans: fault lab 416 with route-service uninstrumented)
        txt = [t.replace("errors originate in it (", f"errors originate in its calls to {callee}, returned by "
                         f"{callee}, which sent no spans of its own (", 1) for t in txt]
    return f"{label}{via}: " + "; and ".join(txt) + cp_txt + "." + _moved_words(r)


def _moved_words(r: dict) -> str:
    """Where a caller's evidence of a changed course went (``answers`` < 0: :func:`_move_answers`), else ``""``."""
    aw = str(r.get("_answers_words") or "")
    if not aw.startswith("-") or not r.get("answers", 0.0) < 0:
        return ""
    return (f" Its course changed after one host's answers ({aw[1:]}): {-float(r['answers']):.2f} of its evidence of a "
            "changed course is counted at that host, as a wrong or unexpected answer from it would look the same.")
