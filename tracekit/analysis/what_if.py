"""What if a span were faster or slower: re-time traces along their dependencies.

:func:`what_if` shortens or lengthens chosen spans and re-times what depends on them. Which child holds
up its parent is the critical path's definition (:func:`tracekit.core.blocks_parent`, and the critical path's
default ``nonblocking`` rule), so a span off the critical path never moves the request and one on it does:

- a child depends on the siblings that ended before it started (``end <= start``, adjacent
  counts as sequential): it moves by as much as the last of them to let go now does (a sibling lets go at its end as
  the critical path clamps it: one that outlived its clamped parent, at that end; its time past it holds no one up)
  (a call after two parallel ones waits for both: one made faster than the other saves only up to the other's
  end), or, if none did, on its parent's start, the gap kept;
  so a later sequential call moves with its predecessor and parallel calls stay where they were;
- a span ends its last *blocking* child's end plus its own tail (the time it spent after that
  child); a blocking child is one that overlaps the span as the critical path clamps it
  (:func:`tracekit.core.clamp_to_parents`: Jaeger's clamp in tree order, a grandchild against its
  clamped parent). A child that outlived its parent (or is still running) holds it up to the parent's
  clamped end only: that moment moves with what the child waited on last (a leaf: its start), and
  comes sooner only if the child now ends sooner; its time past that end holds no one up (a child
  inside a span that outlived the root holds the request as the path says). A consumer under its
  producer, and a child that ended when or before its parent started (clock skew: the critical path
  leaves it out too), move with their start but never hold the parent up, nor delay a sibling; a
  consumer that started when or after its producer ended waited on the message: it moves with the
  producer's end instead (the time it waited in the queue kept);
- a consumer with no parent in the data (a trace of its own, or an orphan) that links to its producer
  (:func:`tracekit.stitch`'s ``link`` rule) moves the same way, with all it heads: after the last of the producers
  that ended at or before it started now ends (a batch waits for its last message; the wait kept), else with the one
  that started last before it (its start). The traces it leads to move in turn, so a workflow's end to end follows the change and
  its queue waits stay. A linked consumer under a parent of its own (a ``receive`` loop's ``process``)
  is placed under its parent and starts no sooner than its producer moved it (the same rule): it waits for
  whichever is later; hops by message id or by time (``stitch``'s other rules) move nothing;
- an orphan (its parent not in the data) is placed where its lost parent hung: as a child of
  :func:`tracekit.reconnect`'s proposal (the deepest span of another service holding it), after the
  siblings that ended before it started; as on the critical path, which walks it as a fragment of its
  own, it holds no one up (an orphan made faster leaves its request as it was). With no such span it keeps
  its recorded start;
- a change acts on the span's own time after its last blocking child (for a leaf, its whole
  duration): ``-250`` takes 250 ms off it (never below zero), ``"x0.5"`` halves it.

A span exported twice is one span (:func:`tracekit.core.span_rows`: the copy the span tree keeps): a selector picks the
span by that copy (another copy matching alone selects nothing), and another copy agreeing with it in start and end is
re-timed to the span's new times (one differing from it, a leaf, takes the same change on its own times).

A span whose start is unknown (:func:`tracekit.core.start_unknown`: OTLP's unset start, read as 1970) has no
duration for a change to act on: it is left as recorded (a warning says so), holds up no parent (the critical path
leaves it out) and moves with its parent.

Everything else — clock skew, queueing that a faster call would also remove, retries — is
outside the model. Spans keep their ids; only ``start``, ``end`` and ``duration_ms`` change.

>>> import tracekit as tk
>>> ms = 1_000_000
>>> spans = tk.spans_from_columns({
...     "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["web", "db", "web"],
...     "name": ["GET /", "SELECT orders", "render"], "start": [0, 10 * ms, 270 * ms],
...     "end": [300 * ms, 260 * ms, 290 * ms]})
>>> r = tk.what_if(spans, {"db:SELECT orders": -200})
>>> r.spans["duration_ms"].tolist()        # render moved up with the query, the request is 200 ms shorter
[100.0, 50.0, 20.0]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core import (
    DEFAULT_CI,
    DEFAULT_N_BOOT,
    NAT_NS,
    QUANTILES,
    TIME_MAX_NS,
    TIME_MIN_NS,
    TIME_RANGE,
    blocks_parent,
    boot_args,
    clamp_to_parents,
    interval_ends,
    normalize_trace_ids,
    ns,
    quantile_draws,
    require_columns,
    result_table,
    span_rows,
    span_tree,
    start_unknown,
    to_timestamps,
    trace_outcomes,
)
from ..core.results import Result
from ..errors import ArgumentError
from .critical_path_walk import DEFAULT_NONBLOCKING, nonblocking_children, nonblocking_rules
from .reconnect import reconnect
from .traceql import is_traceql, traceql_mask
from .workflows import stitch

__all__ = ["what_if", "WhatIf", "WHAT_IF_SUMMARY"]

_NEEDED = ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")
_FACTOR = re.compile(r"^\s*[x×*]\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*$")
_SPAN_ID = re.compile(r"^[0-9a-fA-F]{16}$")

WHAT_IF_SUMMARY = result_table("what_if", "one row per request-latency statistic, before and after the change, over "
                                "every request of the frame (changed or not) whose latency is known before and after "
                                "(attrs['requests'] of them)", [
    ("statistic", "object", "", "p50_ms, p95_ms, p99_ms or mean_ms of request latency (request root duration)"),
    ("before_ms", "float64", "ms", "value on the spans as given"),
    ("after_ms", "float64", "ms", "value on the re-timed spans"),
    ("delta_ms", "float64", "ms", "after − before"),
    ("delta_lo", "float64", "ms", "lower end of the bootstrap interval of delta_ms at coverage ci (n_boot resamples "
                                  "of the requests, in pairs; NaN when n_boot is 0)"),
    ("delta_hi", "float64", "ms", "upper end of the interval"),
])


@dataclass(frozen=True)
class WhatIf(Result):
    """Result of :func:`what_if`: ``spans`` (re-timed copy, same ids and rows), ``summary`` (request
    latency before vs after over every request of the frame, changed or not, :data:`WHAT_IF_SUMMARY`;
    ``summary.attrs["requests"]`` counts them), ``changed_spans`` (spans a change applied to: a span
    exported twice counts once, a span in progress, which has no end for a change to act on, not at all: warned)
    and ``changed_traces`` (traces holding them; a trace with a parent cycle or differing copies of a parent's
    span id is left as recorded, with a warning, and counted in neither)."""

    TABLE = "summary"  #: the field .table returns

    spans: pd.DataFrame
    summary: pd.DataFrame
    changed_spans: int
    changed_traces: int
    params: dict = field(default_factory=dict, compare=False)  #: the settings it was computed with


#: the largest change in ms (either way) or factor: past it the re-timed spans leave the time range (TIME_RANGE)
_MAX_CHANGE_MS = (TIME_MAX_NS - TIME_MIN_NS) / 1e6


def _parse_change(value) -> tuple[str, float]:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and np.isfinite(value):
        if abs(float(value)) > _MAX_CHANGE_MS:
            raise ArgumentError(f"what_if: a change of {value!r} ms moves spans outside {TIME_RANGE}; "
                                f"a change is at most {_MAX_CHANGE_MS:.4g} ms either way")
        return "ms", float(value)
    if isinstance(value, str):
        m = _FACTOR.match(value)
        if m:
            f = float(m.group(1))
            if not f <= TIME_MAX_NS:  # a larger factor moves any span of 1 ns or more past the time range
                raise ArgumentError(f"what_if: a factor is a number from 0 to {TIME_MAX_NS:.4g} such as 'x0.5', "
                                    f"got {value!r}")
            return "x", f
    raise ArgumentError(f"what_if: a change is milliseconds (a number, negative shortens) or a factor such as 'x0.5', got {value!r}")


def _select(spans: pd.DataFrame, selector: str, span: np.ndarray) -> np.ndarray:
    """Rows ``selector`` picks among ``span`` (the rows that are spans: not the other copies of a span exported twice,
    core.span_rows' rule: a copy that is not the span matching alone selected nothing, silently)."""
    if is_traceql(selector):
        hit = traceql_mask(spans, selector)[0] & span
        if not hit.any():
            raise ArgumentError(f"what_if: the TraceQL query {selector!r} matches no span")
        return hit
    if not isinstance(selector, str) or not selector:
        raise ArgumentError(f"what_if: a selector is a span id, 'service' or 'service:operation', got {selector!r}")
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    if _SPAN_ID.match(selector):
        hit = (spans["span_id"].to_numpy(dtype=object, na_value=None) == selector.lower()) & span
        if hit.any():
            return hit
    if ":" in selector:
        # 'service:operation' is the two joined by ':', wherever the service's own ':' are: split at the first one,
        # a service 'cache:v2' read 'cache:v2:GET' as service 'cache', operation 'v2:GET' ('matches no span')
        name = spans["name"].to_numpy(dtype=object, na_value=None)
        hit = np.zeros(len(spans), dtype=bool)
        at = selector.find(":")
        while at >= 0:
            hit |= (svc == selector[:at]) & (name == selector[at + 1:])
            at = selector.find(":", at + 1)
        hit &= span
        if hit.any():
            return hit
    hit = (svc == selector) & span
    if not hit.any():
        raise ArgumentError(f"what_if: {selector!r} matches no span (span id, service or service:operation; of a span "
                            "exported twice, the copy the span tree keeps)")
    return hit


def what_if(
    spans: pd.DataFrame,
    changes: Mapping[str, float | str],
    *,
    traces: Iterable[str] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = DEFAULT_CI,
    seed: int = 0,
) -> WhatIf:
    """Shorten or lengthen chosen spans and re-time what depends on them (see the module docstring).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame; it is not modified.
    changes : mapping
        Selector → change. A selector is a span id, ``"service"``, ``"service:operation"`` or a
        TraceQL query (``'{ span.db.system = "postgresql" && duration > 50ms }'``: the spans it matches); a
        change is milliseconds (``-250`` shortens by 250 ms, ``40`` lengthens) or a factor (``"x0.5"``), both
        acting on the span's time after its last blocking child (a leaf: its duration; not the time before or
        between its children). A span two selectors match gets both: its factors multiplied, its
        milliseconds added, the factor applied first.
    traces : iterable of str, optional
        Apply the changes only in these traces (e.g. the incident window); X-Ray ids accepted; or
        a TraceQL query (the traces holding a span it matches).
    n_boot : int, default 1000
        Bootstrap resamples for the intervals of the summary (0: none).
    ci : float, default 0.95
        Interval coverage.
    seed : int, default 0
        Random seed.

    Returns
    -------
    WhatIf
        ``.spans`` (re-timed copy) and ``.summary`` (request latency p50/p95/p99/mean before vs after, over
        every request of the frame whose latency is known before and after, the unchanged ones too:
        ``summary.attrs["requests"]`` of them).

    Raises
    ------
    ArgumentError
        A selector matches nothing (in ``traces`` when given), ``traces`` names no trace of the spans, a change is not ms or ``"xF"`` (or would move spans outside the time range,
        1970 to 2262), or ``n_boot``/``ci`` are out of range (``core.boot_args``: a whole ``n_boot`` >= 0,
        0 < ``ci`` < 1).
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> r = tk.what_if(spans, {"payments": "x0.5"}, n_boot=0)
    >>> bool(r.summary.set_index("statistic").loc["mean_ms", "delta_ms"] <= 0)
    True
    """
    require_columns(spans, _NEEDED, "what_if")
    if not isinstance(changes, Mapping) or not changes:
        raise ArgumentError("what_if: changes must be a non-empty mapping of selector to change")
    n_boot, ci = boot_args(n_boot, ci, "what_if")
    n = len(spans)
    tree = span_tree(spans)
    delta_ms = np.zeros(n)
    factor = np.ones(n)
    touched = np.zeros(n, dtype=bool)
    allowed = np.ones(n, dtype=bool)
    if is_traceql(traces):  # the traces holding a span the query matches
        hit = traceql_mask(spans, traces)[0]
        allowed = spans["trace_id"].isin(set(spans["trace_id"].to_numpy(dtype=object)[hit])).to_numpy()
    elif traces is not None:
        # read once (a generator was spent by the match: params said [] for 3 traces); one id is a list of one
        traces = [traces] if isinstance(traces, str) else list(traces)
        allowed = spans["trace_id"].isin(set(normalize_trace_ids(traces))).to_numpy()
    if traces is not None and n and not allowed.any():  # a mistyped id read as "no effect" (delta 0 everywhere)
        raise ArgumentError(f"what_if: the TraceQL query traces={traces!r} matches no span" if isinstance(traces, str) else
                            f"what_if: none of the {len(traces)} traces given is in the spans "
                            f"(first: {traces[0] if len(traces) else None!r})")
    for sel, ch in changes.items():
        kind, v = _parse_change(ch)
        hit = _select(spans, sel, ~tree.duplicate) & allowed
        if traces is not None and not hit.any():
            raise ArgumentError(f"what_if: {sel!r} matches no span of the traces given "
                                f"({len(np.unique(spans['trace_id'].to_numpy(dtype=object)[allowed]))} traces)")
        if kind == "ms":
            delta_ms[hit] += v
        else:
            factor[hit] *= v
        touched |= hit
    start = ns(spans["start"]).copy()
    end = ns(spans["end"]).copy()
    open_ = end == NAT_NS
    new_start, new_end = start.copy(), end.copy()
    # a trace with a parent cycle, or a parent id held by copies that differ (core.tree's bad_trace), has no order of
    # dependencies to re-time by: it is left as recorded, said in a warning, and not counted as changed (it was:
    # changed_traces 2 and changed_spans 3 when one trace of two was re-timed, one span of it)
    unfit = touched & tree.bad_trace
    if unfit.any():
        n_bad = len(np.unique(tree.trace[unfit]))
        warnings.warn(f"what_if: {n_bad} trace(s) holding {int(unfit.sum())} selected span(s) are left as recorded: a "
                      "parent cycle, or a parent span id held by copies that differ, gives no order of dependencies "
                      f"to re-time by (first: {tree.trace_ids[tree.trace[np.flatnonzero(unfit)[0]]]})",
                      UserWarning, stacklevel=2)
        touched &= ~tree.bad_trace
    # a span in progress has no end, so no time for a change to act on: it stays open and moves nothing (it was
    # counted as changed, changed_spans 1 and changed_traces 1 with no time of the frame moved); said, not counted.
    # Another copy of a span exported twice is never selected itself: it is re-timed as the span is (below)
    idle = touched & open_
    if idle.any():
        warnings.warn(f"what_if: {int(idle.sum())} selected span(s) are in progress (no end): a change has no time "
                      f"to act on, they are left open and not counted as changed (first: "
                      f"{spans['span_id'].iat[int(np.flatnonzero(idle)[0])]})", UserWarning, stacklevel=2)
    # a span whose start is unknown (core.start_unknown: OTLP's unset start, read as 1970) has no duration for a change
    # to act on (halving one made its request 0 ms: 1060 ms "since 1970" halved ended it before its parent started):
    # left as recorded, said, not counted; it holds up no parent (as on the critical path) and moves with its parent
    unknown = start_unknown(spans)
    no_start = touched & unknown & ~open_
    if no_start.any():
        warnings.warn(f"what_if: {int(no_start.sum())} selected span(s) have an unknown start (OTLP's unset start): a "
                      f"change has no duration to act on, they are left as recorded and not counted as changed (first: "
                      f"{spans['span_id'].iat[int(np.flatnonzero(no_start)[0])]})", UserWarning, stacklevel=2)
        delta_ms[no_start] = 0.0
        factor[no_start] = 1.0
    counted = touched & ~open_ & ~unknown & ~tree.duplicate
    # another copy of a span exported twice is the span read again (core.span_rows' rule: the copy the tree keeps is the
    # span, selected or not): it takes the span's change, and a copy agreeing with it in start and end takes its new
    # times below (re-timed as a leaf, a halved parent's copy lost its whole duration's half, not its tail's: the
    # copies disagreed, 10..70 vs 10..50 ms, and the re-timed trace was a bad trace for the critical path)
    dup = np.flatnonzero(tree.duplicate & np.isin(tree.trace, tree.trace[touched]))
    kept = span_rows(spans, spans["trace_id"].iloc[dup], spans["span_id"].iloc[dup], tree) if len(dup) else dup
    dup, kept = dup[kept >= 0], kept[kept >= 0]
    delta_ms[dup] = delta_ms[kept]
    factor[dup] = factor[kept]
    todo = np.unique(tree.trace[touched])
    rows = np.flatnonzero(np.isin(tree.trace, todo) & ~tree.bad_trace)
    if len(rows):
        # which children hold up their parent: the critical path's definition (core.clamp_to_parents: Jaeger's clamp
        # in tree order, core.blocks_parent against the parent as clamped; an open child runs past every end) and its
        # default nonblocking rule (a consumer under its producer). The recorded-time reading of the same rule
        # (blocking_recorded) re-times the recorded end of a span that outlived its clamped parent
        p = np.maximum(tree.parent, 0)
        run_end = np.where(open_, np.iinfo(np.int64).max, end)
        nb = nonblocking_children(spans, tree, nonblocking_rules(DEFAULT_NONBLOCKING))
        may = ~unknown & ~tree.duplicate & ~nb
        depth = np.where(tree.duplicate, -1, tree.depth)
        cs, ce, blocks, _ = clamp_to_parents(tree.parent, depth, start, run_end, may)
        child = (tree.parent >= 0) & ~open_[p]
        blocking = child & blocks
        blocking_recorded = child & may & blocks_parent(start, run_end, start[p], end[p])
        # a consumer that started when or after its producer ended waited on the message: it moves with the producer's
        # end (it stayed put: a send made 5 ms shorter left its consumer 20 ms after the old end, 25 after the new)
        waited = child & nb & ~unknown & ~tree.duplicate & (start >= end[p])
        # a consumer heading a trace of its own (or a fragment: no parent in the data) that links to its producer
        # (stitch's link rule) moves with the producer the same way, with what it heads: the traces it leads to are
        # re-timed again until no such start moves (a chain of hops: one pass per hop). It stayed put: a request whose
        # send ended 4 ms sooner left its consumer's trace where it was, the workflow's end to end unchanged and its
        # queue wait 1 -> 5 ms
        hop_c, hop_p = _linked_heads(spans, tree, unknown | open_)
        # a linked consumer under a parent of its own (a receive loop's process) waits for the later of its place under
        # its parent and its message: it stayed with its parent alone (a send made 50 ms slower left the process it fed
        # starting before the message was sent, the request 200 ms instead of 250)
        lk_c, lk_p = _linked_heads(spans, tree, unknown | open_, parented=True)
        lfloor = np.full(n, _NO_FLOOR, dtype=np.int64)
        # an orphan (its parent not in the data) hung where the lost call hung: under reconnect's proposal for it, the
        # deepest span of another service holding it, as a child that holds no one up (it stayed put: a call before
        # it made 20 ms faster left it 20 ms late, ending past its request's new end)
        linked = np.zeros(n, dtype=bool)
        linked[hop_c] = True
        vpar = tree.parent.copy()
        caller = _orphan_callers(spans, tree, rows, linked)
        vpar[caller >= 0] = caller[caller >= 0]
        shift = np.zeros(n, dtype=np.int64)
        # the other copies of a span exported twice, when a consumer's trace may move: they move with the span
        cdup = np.flatnonzero(tree.duplicate & (tree.parent < 0)) if len(hop_c) else np.zeros(0, dtype=np.int64)
        ckept = span_rows(spans, spans["trace_id"].iloc[cdup], spans["span_id"].iloc[cdup], tree) if len(cdup) else cdup
        cdup, ckept = cdup[ckept >= 0], ckept[ckept >= 0]
        for _ in range(len(hop_c) + len(lk_c) + 1):
            _retime(rows, tree, start, end, open_, delta_ms, factor, new_start, new_end, blocking, unknown,
                    clamped=(cs, ce, blocking_recorded), waited=waited, shift=shift, parent=vpar,
                    floor=lfloor if len(lk_c) else None)
            moved = _head_shifts(hop_c, hop_p, start, end, new_start, new_end, n)
            moved[cdup] = moved[ckept]
            floors = _link_floors(lk_c, lk_p, start, end, new_start, new_end, n)
            # the traces a moved start re-times (again)
            again = np.unique(tree.trace[(moved != shift) | (floors != lfloor)])
            if not len(again):
                break
            shift, lfloor = moved, floors
            rows = np.flatnonzero(np.isin(tree.trace, again) & ~tree.bad_trace)
            todo = np.union1d(todo, again)
        if len(hop_c):  # copies in the traces a hop moved too (a consumer's copy stayed: 9..16 beside the span at 5..12)
            dup = np.flatnonzero(tree.duplicate & np.isin(tree.trace, todo))
            kept = span_rows(spans, spans["trace_id"].iloc[dup], spans["span_id"].iloc[dup], tree) if len(dup) else dup
            dup, kept = dup[kept >= 0], kept[kept >= 0]
        agree = (start[dup] == start[kept]) & (end[dup] == end[kept])
        new_start[dup[agree]] = new_start[kept[agree]]
        new_end[dup[agree]] = new_end[kept[agree]]
    out = spans.copy()
    # the UTC array itself, not .to_numpy() (Timestamps as objects: a column of NaT alone came back tz-naive and
    # the astype below raised TypeError on a trace whose spans are all in progress or start at NaT)
    out["start"] = to_timestamps(new_start).array if n else out["start"]
    out["end"] = to_timestamps(np.where(open_, NAT_NS, new_end)).array if n else out["end"]
    out["duration_ms"] = np.where(open_, np.nan, (new_end - new_start) / 1e6)
    out["start"] = out["start"].astype(spans["start"].dtype)
    out["end"] = out["end"].astype(spans["end"].dtype)
    summary = _summary(spans, out, n_boot, ci, seed)
    return WhatIf(out, summary, int(counted.sum()), int(len(np.unique(tree.trace[counted]))),
                  params={"changes": dict(changes), "traces": traces if traces is None or isinstance(traces, str) else list(traces),
                          "n_boot": n_boot,
                          "ci": ci, "seed": seed})


def _linked_heads(spans: pd.DataFrame, tree, skip: np.ndarray, parented: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The hops of :func:`tracekit.stitch`'s link rule whose consumer has no parent in the data (a trace root or an
    orphan), as rows (consumer, producer); none with a start or end not known (``skip``). ``parented``: the hops whose
    consumer has a parent in the data instead (a ``receive`` loop's ``process``; not another copy)."""
    none = np.zeros(0, dtype=np.int64)
    if "links" not in spans.columns or not any(
            isinstance(x, (list, tuple, np.ndarray)) and len(x) for x in spans["links"].to_numpy(dtype=object).tolist()):
        return none, none
    hops = stitch(spans, via="links").hops
    hops = hops[hops["rule"] == "link"]
    if not len(hops):
        return none, none
    c = span_rows(spans, hops["consumer_trace_id"], hops["consumer_span_id"], tree)
    p = span_rows(spans, hops["producer_trace_id"], hops["producer_span_id"], tree)
    ok = (c >= 0) & (p >= 0)
    c, p = c[ok], p[ok]
    ok = ~skip[c] & ~skip[p] & ~tree.bad_trace[c] & (c != p)
    c, p = c[ok], p[ok]
    if parented:
        ok = (tree.parent[c] >= 0) & ~tree.duplicate[c]
        return c[ok], p[ok]
    head = tree.parent[c] < 0
    return c[head], p[head]


def _orphan_callers(spans: pd.DataFrame, tree, rows: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per row: the span an orphan among ``rows`` (not in ``keep``) is re-timed under, :func:`tracekit.reconnect`'s
    proposal for where its lost parent hung (``caller_span_id``), -1 for every other row and an orphan with none."""
    out = np.full(len(spans), -1, dtype=np.int64)
    orph = rows[tree.orphan[rows] & ~tree.duplicate[rows] & ~keep[rows]]
    if not len(orph):
        return out
    sub = spans.iloc[np.flatnonzero(np.isin(tree.trace, np.unique(tree.trace[orph])))]
    if "kind" not in sub.columns:
        sub = sub.assign(kind="unspecified")
    rc = reconnect(sub)
    rc = rc[(rc["case"] == "missing_parent") & rc["caller_span_id"].notna()]
    if not len(rc):
        return out
    at = span_rows(spans, rc["root_trace_id"], rc["caller_span_id"], tree)
    by_parent = dict(zip(zip(tree.trace[span_rows(spans, rc["root_trace_id"], rc["root_span_id"], tree)].tolist(),
                             rc["client_span_id"].tolist(), strict=True), at.tolist(), strict=True))
    pid = spans["parent_id"].to_numpy(dtype=object, na_value=None)
    for o in orph.tolist():
        out[o] = by_parent.get((int(tree.trace[o]), pid[o]), -1)
    return out


def _link_floors(hop_c, hop_p, start, end, new_start, new_end, n: int) -> np.ndarray:
    """Per row, the earliest new start of a linked consumer under a parent of its own (rows ``hop_c``): its recorded
    start moved as :func:`_head_shifts` moves a consumer heading a trace (after the last of the producers that ended
    at or before it started now ends, the wait kept, else with the one that started last before it); ``_NO_FLOOR``
    for every other row. It waits for the later of that and its place under its parent."""
    floor = np.full(n, _NO_FLOOR, dtype=np.int64)
    if len(hop_c):
        shift = _head_shifts(hop_c, hop_p, start, end, new_start, new_end, n)
        ok = np.zeros(n, dtype=bool)
        ok[hop_c[(end[hop_p] <= start[hop_c]) | (start[hop_p] <= start[hop_c])]] = True
        floor[ok] = start[ok] + shift[ok]
    return floor


#: no floor on a span's new start (:func:`_link_floors`)
_NO_FLOOR = np.iinfo(np.int64).min


def _head_shifts(hop_c, hop_p, start, end, new_start, new_end, n: int) -> np.ndarray:
    """Per row, how far a consumer heading a trace moves with its producers (rows ``hop_p``): as a call moves with the
    siblings before it, after the last of the producers that ended at or before it started now ends (the time the
    last message waited kept), else with the one that started last before it (its start's move); 0 for every other
    row."""
    shift = np.zeros(n, dtype=np.int64)
    best: dict = {}
    ended: dict = {}  # per consumer: (the latest recorded end, the latest new end) of the producers ended by its start
    for c, p in zip(hop_c.tolist(), hop_p.tolist(), strict=True):
        if end[p] <= start[c]:
            e, ne = int(end[p]), int(new_end[p])
            cur = ended.get(c)
            ended[c] = (e, ne) if cur is None else (max(cur[0], e), max(cur[1], ne))
        elif start[p] <= start[c]:
            key, move = (0, int(start[p])), int(new_start[p]) - int(start[p])
            cur = best.get(c)
            if cur is None or (key, move) > cur:
                best[c] = (key, move)
    for c, (_, move) in best.items():
        shift[c] = move
    # a batch from several producers waits for the last message now sent, the wait after the last one kept (it moved
    # with the producer that had ended last alone: that one made 6 ms faster started the consumer before another's
    # message was sent)
    for c, (e, ne) in ended.items():
        shift[c] = ne - e
    return shift


#: siblings of one parent past which placed siblings are kept in a Fenwick tree (O(log n) a step), not a sorted list
#: (an insertion shifts the list: 100,000 children of one span in reverse end order were quadratic)
_MANY_SIBLINGS = 256


class _Placed:
    """The siblings placed so far, each as its key (original end, -start, -row): the predecessor of a child is the
    largest key <= (its start, max, max), and :meth:`latest` the latest release of every sibling placed up to it. A
    sorted list (few siblings) or Fenwick trees over every key the parent's children can add (many): the same
    answers."""

    __slots__ = ("keys", "tree", "top", "top0", "n", "items", "rels", "rels0")

    def __init__(self, future: list | None) -> None:
        self.items: list = []
        self.rels: list = []  # (list mode) the release of each item, in the items' order
        self.rels0: list = []  # (list mode) its release as recorded (no change made)
        self.keys = None if future is None else sorted(future)
        self.tree = None if future is None else [0] * (len(future) + 1)
        self.top = None if future is None else [_NO_FLOOR] * (len(future) + 1)  # prefix maxima of the releases
        self.top0 = None if future is None else [_NO_FLOOR] * (len(future) + 1)  # and of the recorded ones
        self.n = 0 if future is None else len(future)

    def add(self, key: tuple, release: int, recorded: int) -> None:
        from bisect import bisect_left

        if self.keys is None:
            j = bisect_left(self.items, key)
            self.items.insert(j, key)
            self.rels.insert(j, release)
            self.rels0.insert(j, recorded)
            return
        i = bisect_left(self.keys, key) + 1
        while i <= self.n:
            self.tree[i] += 1
            if release > self.top[i]:
                self.top[i] = release
            if recorded > self.top0[i]:
                self.top0[i] = recorded
            i += i & -i

    def latest(self, q: tuple) -> tuple[int, int]:
        """The latest release of the siblings placed whose key is <= ``q`` (every one that ended by then), and the
        latest of their releases as recorded (no change made)."""
        from bisect import bisect_right

        if self.keys is None:
            j = bisect_right(self.items, q)
            return max(self.rels[:j], default=_NO_FLOOR), max(self.rels0[:j], default=_NO_FLOOR)
        out, out0, i = _NO_FLOOR, _NO_FLOOR, bisect_right(self.keys, q)
        while i > 0:
            if self.top[i] > out:
                out = self.top[i]
            if self.top0[i] > out0:
                out0 = self.top0[i]
            i -= i & -i
        return out, out0

    def pred(self, q: tuple) -> tuple | None:
        from bisect import bisect_right

        if self.keys is None:
            j = bisect_right(self.items, q) - 1
            return self.items[j] if j >= 0 else None
        p = bisect_right(self.keys, q)  # keys at positions < p are <= q
        count, i = 0, p
        while i > 0:  # how many placed keys are <= q
            count += self.tree[i]
            i -= i & -i
        if not count:
            return None
        pos, step = 0, 1 << self.n.bit_length()  # the count-th placed key: binary descent
        while step:
            nxt = pos + step
            if nxt <= self.n and self.tree[nxt] < count:
                pos = nxt
                count -= self.tree[nxt]
            step >>= 1
        return self.keys[pos]


def _retime(rows, tree, start, end, open_, delta_ms, factor, new_start, new_end, blocking, unknown=None,
            many: int | None = None, clamped=None, waited=None, shift=None, parent=None, floor=None) -> None:
    """Re-time whole traces (``rows``): an iterative depth-first walk, children in start order.

    A child is placed when its predecessors (the siblings that ended at or before its start) are
    done; siblings placed so far are kept sorted by original end so the predecessor is one bisection, and the latest
    new end of those before it one prefix maximum (:class:`_Placed`: Fenwick trees past ``many`` children of one
    parent).

    Each span has two new ends. Its *release* is when it lets go of its parent, in the critical path's clamped world
    (``clamped = (cs, ce, blocking_recorded)``, :func:`tracekit.core.clamp_to_parents`): its blocking children
    (``blocking``) count up to its clamped end ``ce``, and it holds its parent no later than ``ce`` moved with what it
    waited on last (for a leaf, its start), and no later than ``ce`` moved with its start. Its *recorded* end (the
    re-timed span's ``end``) is the same, except for a span whose clamped interval is not its own (it outlived its
    parent): the recorded end counts its children (``blocking_recorded``) up to its own end. Without ``clamped``
    the recorded times are the clamped ones.
    A child in ``waited`` (a consumer that started when or after its producer ended) is placed after its parent ends,
    the gap from the parent's end kept; it holds up no one. A span without a parent starts ``shift`` ns after its
    recorded start (a consumer heading a trace, moved with its producer in another). ``parent`` (default
    ``tree.parent``) is the parent each span is placed under (an orphan: the span its lost caller hung under). A child
    starts no sooner than its ``floor`` (ns; a linked consumer under a parent: when its message can be there).
    Plain Python lists inside the loop (numpy scalar access costs ~10x more per span).
    """
    many = _MANY_SIBLINGS if many is None else many
    par = tree.parent if parent is None else parent
    kid = np.flatnonzero(np.isin(par, rows) & (par >= 0))
    # children grouped by parent, in start order, then end order (a sibling that ended as another started at the
    # same moment is placed first: it is its predecessor), then row
    kid = kid[np.lexsort((kid, np.where(open_[kid], np.iinfo(np.int64).max, end[kid]), start[kid], par[kid]))]
    kp = par[kid]
    bounds = np.searchsorted(kp, rows)
    bounds_hi = np.searchsorted(kp, rows, side="right")
    kids_of = {r: kid[a:b].tolist() for r, a, b in zip(rows.tolist(), bounds.tolist(), bounds_hi.tolist(), strict=True) if b > a}
    st, en, op, blk = start.tolist(), end.tolist(), open_.tolist(), blocking.tolist()
    if clamped is None:
        own, lim, blk_rec = [True] * len(st), en, blk
    else:
        cs, ce, blk_rec = clamped
        own = ((cs == start) & ((ce == end) | open_)).tolist()  # its clamped interval is its own
        lim, blk_rec = ce.tolist(), blk_rec.tolist()
    fac, dms = factor.tolist(), delta_ms.tolist()
    unk = (np.zeros(len(start), dtype=bool) if unknown is None else unknown).tolist()
    wt = (np.zeros(len(start), dtype=bool) if waited is None else waited).tolist()
    ns_, ne_ = new_start.tolist(), new_end.tolist()
    fl = None if floor is None else floor.tolist()
    rel = list(ne_)  # release of each span (see above)
    ncs = list(ns_)  # new start of each span as clamped to its parent's
    # the same two with no change made (recorded starts, each child's recorded release): a later sibling moves by how
    # much the moment it waited for moved. Measured from its predecessor's recorded end instead, a change of nothing
    # moved the siblings after a span that outlived its clamped parent by the difference (a fresh reader: C 30..60
    # under B 20..90 under A 10..50 releases at 50, and D, 5 ms after C, went from 65 to 55 under {"root": "x1"})
    rel0 = list(en)
    cs0 = list(st)
    big = np.iinfo(np.int64).max
    empty: list[int] = []

    def placed_of(ch: list) -> _Placed:  # the keys the children can add are known: a Fenwick tree over them
        return _Placed([(en[c], -st[c], -c) for c in ch if not op[c]] if len(ch) > many else None)

    def new_end_of(i: int, placed: list, bl: list, limit: int, val: list, floor: int, as_recorded: bool = False) -> int:
        """The new end of span i: its blocking children (``bl``) each held it up to ``limit`` (a child that outlived
        it, or runs on, up to ``limit`` moved with its start; sooner only if it now ends sooner), ``val`` their new
        ends, ``floor`` its new start (as clamped); then its own time after the last of them, changed.
        ``as_recorded``: with the recorded starts and no change made (the end as recorded)."""
        nsx = st if as_recorded else ns_
        f_i, d_i = (1.0, 0.0) if as_recorded else (fac[i], dms[i])
        ei = en[i]
        last_old = last_new = None
        for c in placed:
            if not bl[c]:
                continue
            if op[c] or en[c] > limit:
                old_c = limit
                new_c = nsx[c] + (limit - st[c]) if op[c] else min(val[c], nsx[c] + (limit - st[c]))
            else:
                old_c, new_c = en[c], val[c]
            if last_old is None or old_c > last_old:
                last_old = old_c
            if last_new is None or new_c > last_new:
                last_new = new_c
        if last_old is not None:
            base = max(last_new, floor)  # a child that started before the span holds it from the span's start on
            # integer ns: float64 cannot hold epoch nanoseconds exactly (spacing 256 ns)
            tail = max(int(round((ei - last_old) * f_i + d_i * 1e6)), 0)
            if ei > limit:  # outlived its clamped parent: its time past ``limit`` holds no one up
                tail = min(tail, max(limit - last_old, 0))
            return base + tail
        if f_i == 1.0 and d_i == 0.0:  # unchanged: its recorded duration, even one below zero (skew)
            return nsx[i] + (ei - st[i])
        return nsx[i] + max(int(round((ei - st[i]) * f_i + d_i * 1e6)), 0)

    for h in rows[par[rows] < 0].tolist():
        ns_[h] = ncs[h] = st[h] + (0 if shift is None else int(shift[h]))
        cs0[h] = st[h]
        ch0 = kids_of.get(h, empty)
        # row, children, next child, placed siblings' keys, placed rows, children placed after its end
        stack = [[h, ch0, 0, placed_of(ch0), [], []]]
        while stack:
            fr = stack[-1]
            i, ch, k, ends, placed, later = fr
            if k < len(ch):
                c = ch[k]
                fr[2] = k + 1
                if wt[c] and not op[i]:  # it waited on its parent's end, known once the parent's children are done
                    later.append(c)
                    continue
                got = None if unk[c] else ends.pred((st[c], big, big))
                if unk[c]:  # its start is unknown: it moves with its parent (the start itself stays as recorded)
                    ns_[c] = st[c] + (ns_[i] - st[i])
                elif got is not None:  # the predecessor: the sibling that ended last at or before c started
                    # it waited on every sibling that ended by its start: it starts after the latest of their
                    # releases (the path's clamped ends), the gap after the predecessor kept. Only the predecessor's
                    # (and its twins', ending at that moment) counted: of A 1..11 and B 1..6 in parallel, then C at 13,
                    # A made 8 ms faster put C at 5, before B ended (the request 8 ms shorter for 5)
                    now, then = ends.latest((st[c], big, big))
                    ns_[c] = st[c] + (max(now, ncs[i]) - max(then, cs0[i]))
                else:
                    ns_[c] = ns_[i] + (st[c] - st[i])
                if fl is not None and fl[c] > ns_[c]:  # its message came later than its place under its parent
                    ns_[c] = fl[c]
                ncs[c] = max(ns_[c], ncs[i]) if blk[c] else ns_[c]  # its start as the path clamps it
                cs0[c] = max(st[c], cs0[i]) if blk[c] else st[c]
                placed.append(c)
                chc = kids_of.get(c, empty)
                stack.append([c, chc, 0, placed_of(chc), [], []])
                continue
            stack.pop()
            if op[i]:
                ne_[i] = en[i]
            else:
                rel[i] = new_end_of(i, placed, blk, lim[i], rel, ncs[i])
                rel0[i] = new_end_of(i, placed, blk, lim[i], rel0, cs0[i], as_recorded=True)
                ne_[i] = rel[i] if own[i] else new_end_of(i, placed, blk_rec, en[i], ne_, ns_[i])
            if stack and not op[i] and blk[i]:  # a sibling that holds no one up (asynchronous, ...) delays no sibling
                stack[-1][3].add((en[i], -st[i], -i), rel[i], rel0[i])
            for c in later:  # holds up no one: walked after its parent, outside every sibling list
                ns_[c] = ncs[c] = ne_[i] + (st[c] - en[i])
                chc = kids_of.get(c, empty)
                stack.append([c, chc, 0, placed_of(chc), [], []])
    if max(ne_, default=0) > TIME_MAX_NS or max(ns_, default=0) > TIME_MAX_NS:  # Python ints: no int64 overflow yet
        raise ArgumentError(f"what_if: the changes move spans past the end of {TIME_RANGE}")
    new_start[rows] = np.asarray(ns_, dtype=np.int64)[rows]
    if unknown is not None:
        keep = rows[unknown[rows]]  # an unknown start stays as recorded (moved off 1970 it would read as known)
        new_start[keep] = start[keep]
    new_end[rows] = np.asarray(ne_, dtype=np.int64)[rows]


def _summary(before: pd.DataFrame, after: pd.DataFrame, n_boot: int, ci: float, seed: int) -> pd.DataFrame:
    oc = trace_outcomes(before)
    b = oc["request_ms"].to_numpy(dtype=float)
    # after: the same request root span's duration. Re-timing can change which root of a trace is its request root
    # (the root starting first, then ending last: two roots starting together): the summary then set one span's
    # latency before against another's after (a request made 50 ms faster read -5 ms)
    tree = span_tree(before)
    code = pd.Index(tree.trace_ids).get_indexer(oc["trace_id"].to_numpy(dtype=object))
    root = np.where(code >= 0, tree.request_root[np.maximum(code, 0)], -1)
    dur = after["duration_ms"].to_numpy(dtype=float, na_value=np.nan)
    a = np.where(root >= 0, dur[np.maximum(root, 0)] if len(dur) else np.nan, np.nan)
    ok = ~np.isnan(b) & ~np.isnan(a)
    b, a = b[ok], a[ok]
    m = len(b)
    # the k-th smallest of m values is each quantile (inverted_cdf, as quantile_draws' point estimate)
    ks = [max(int(np.ceil(q * m)), 1) - 1 for q in QUANTILES]
    draws = np.full((len(QUANTILES) + 1, n_boot), np.nan)  # per statistic: after - before of each resample
    if n_boot and m:
        rng = np.random.default_rng(seed)
        # one resample of the requests (in pairs) serves every statistic, drawn a block of resamples at a time: it
        # was four (n_boot x requests) index arrays and their gathers at once (20,000 requests: 800 MB, 7.8 s;
        # 50,000: 1.8 GB, 23 s)
        step = max(1, min(n_boot, _BOOT_CELLS // m))
        kk = sorted(set(ks))
        for r0 in range(0, n_boot, step):
            r1 = min(n_boot, r0 + step)
            idx = rng.integers(0, m, size=(r1 - r0, m))
            pa_, pb_ = np.partition(a[idx], kk, axis=1), np.partition(b[idx], kk, axis=1)
            for i, k in enumerate(ks):
                draws[i, r0:r1] = pa_[:, k] - pb_[:, k]
            draws[-1, r0:r1] = (a - b)[idx].mean(axis=1)
    rows = []
    for i, q in enumerate(QUANTILES):
        pb, _ = quantile_draws(np.sort(b), q, np.zeros(0))
        pa, _ = quantile_draws(np.sort(a), q, np.zeros(0))
        lo, hi = interval_ends(draws[i], ci) if n_boot and m else (np.nan, np.nan)
        rows.append((f"p{round(q * 100)}_ms", pb, pa, pa - pb, lo, hi))
    mb, ma = (float(b.mean()), float(a.mean())) if m else (np.nan, np.nan)
    lo, hi = interval_ends(draws[-1], ci) if n_boot and m else (np.nan, np.nan)
    rows.append(("mean_ms", mb, ma, ma - mb, lo, hi))
    out = pd.DataFrame(rows, columns=WHAT_IF_SUMMARY.column_names)
    out.attrs["requests"] = m  # the population of every row: the summary said no count
    return out


#: resampled request latencies held at once by the summary's bootstrap (one side: 16 MB of float64)
_BOOT_CELLS = 2_000_000
