"""Where errors start, and which exceptions are thrown: error origins and exception groups.

:func:`error_origins` finds, in every trace, the **origin** of its errors: a span that failed
(:func:`tracekit.core.failed` — :data:`tracekit.core.FAILED_WORDS`)
and none of whose children failed (:func:`is_origin`). An error that travelled up (the database
call fails, then the service, then the front door) is counted once, where it started; its
**propagation path** is the unbroken chain of failed ancestors above the origin — it stops at the
first ancestor that succeeded (a retry or a fallback that absorbed the error) — and
``reached_root`` says whether that chain reaches the request root. A span that failed although
every child succeeded is an origin of its own (a request that fails after a retried call
succeeded is counted, not hidden behind the absorbed error below it). Failed ancestors are found
level by level over the kernel span tree (no per-trace loop). A span on or under a parent cycle has no ancestry
(:mod:`tracekit.core.tree`): it can be an origin, but its chain is not walked (0 hops, not reaching the root).
A span exported twice (its span id repeated in the trace) is one origin: the other copies are left out.

With log records attached (:func:`tracekit.attach_logs`), a span carrying an ERROR or FATAL log
record shows an error for :func:`error_origins` (:func:`tracekit.core.errored`: status-less exports log the
exception they do not record), and :func:`top_exceptions` groups those records too, as exception type
``log record (ERROR)`` with the record's body as the message. Such a span is not a failed span (its status is its
outcome; the record is evidence, :mod:`tracekit.core.outcomes`): every count of failures leaves it out, and
error_origins says which signal decided each origin (``decided_by`` ``status`` or ``logs``; ``logged_origins``).

:func:`top_exceptions` groups ``exception`` events (OTLP span events; the X-Ray reader turns a
segment's ``cause`` into such events) by type and **message template**: numbers, hex ids, UUIDs
and quoted values in the message are masked (``<num>``, ``<id>``, ``<uuid>``, ``'<str>'``), so
``order 1234 not found`` and ``order 99 not found`` are one group. The events of a span exported twice (its span id repeated in
the trace) are counted once.

>>> import tracekit as tk
>>> spans = tk.simulate.simulate("baseline", 300, seed=3).spans
>>> eo = tk.error_origins(spans)
>>> bool((eo["origins"] > 0).all()), list(eo.columns[:2])
(True, ['service', 'origins'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    call_paths,
    errored,
    failed,
    ns,
    outcome_unknown,
    require_columns,
    result_table,
    span_tree,
    status_recorded,
    to_timestamps,
)
from ..core.keys import key_frame
from ..errors import ArgumentError
from ..schema import SpansSchemaError
from .logs import ERROR_SEVERITIES, is_log_event

__all__ = ["error_origins", "top_exceptions", "is_origin", "message_template",
           "ERROR_ORIGINS", "ERROR_ORIGIN_SPANS", "TOP_EXCEPTIONS"]

ERROR_ORIGIN_SPANS = result_table("error_origin_spans", "one row per origin of an error: a span showing an error (failed, or with logs attached an ERROR record: core.errored) none of whose children shows one; in order of start, then trace and span id", [
    ("trace_id", "string", "", "32-hex trace id"),
    ("span_id", "string", "", "the origin span"),
    ("service", "string", "", "service of the origin span"),
    ("name", "string", "", "operation of the origin span"),
    ("call_path", "string", "", "``service:name > …`` from the root down to the origin"),
    ("decided_by", "string", "", "which signal shows the origin's error: ``status`` (the span failed, core.failed) or ``logs`` (an ERROR or FATAL log record on a span whose status did not fail: evidence, not a failed span)"),
    ("propagated_to", "string", "", "the unbroken chain of ancestors showing an error, nearest first (``service:name < …``), up to the first that showed none; empty when the error stopped at the origin"),
    ("hops", "int64", "spans", "ancestors in that chain (how far the error travelled up)"),
    ("reached_root", "boolean", "", "the chain reaches the trace's request root (the origin is the root, or every span between them shows an error); <NA> (unknown, not False) when the chain stops below a span still in progress with no status yet (core.outcome_unknown): the root had not answered; or at a span whose parent is missing from the data (an orphan, core.tree)"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "start of the origin span"),
])

ERROR_ORIGINS = result_table("error_origins", "one row per key (by columns first): where errors originate, most origins "
                             "first; no row where no span records a status and no ERROR log record is attached (unknown, "
                             "not 0: attrs status_recorded False)", [
    ("origins", "int64", "spans", "origin spans of the key (showing an error — failed, or an ERROR log record — no child showing one)"),
    ("logged_origins", "int64", "spans", "of these, the origins only an ERROR log record shows (decided_by ``logs``: status not failed); 0 without logs attached"),
    ("traces", "int64", "traces", "traces with an origin at the key"),
    ("share", "float64", "", "share of all origins that are at the key"),
    ("reached_root", "float64", "", "share of the key's origins whose error reached the request root, over those whose reach is known (a chain stopping below a span still in progress, core.outcome_unknown, or at a span whose parent is missing, is left out); NaN when none is"),
    ("mean_hops", "float64", "spans", "mean ancestors showing an error above the key's origins"),
    ("top_path", "string", "", "most frequent propagation path of the key's origins (origin < … < root)"),
    ("example_trace_ids", "object", "", "up to three traces with an origin at the key, the earliest origins' (by start, then trace id; tuple of 32-hex ids)"),
])

TOP_EXCEPTIONS = result_table("top_exceptions", "one row per (by columns, exception type, message template), most frequent first", [
    ("exception_type", "string", "", "``exception.type`` of the events (<NA> when not given); ``log record (ERROR)`` / ``log record (FATAL)`` for the log records tk.attach_logs put on the spans"),
    ("template", "string", "", "the message with numbers, ids, UUIDs and quoted values masked"),
    ("count", "int64", "events", "exception events in the group (log records, for a ``log record (…)`` type)"),
    ("spans", "int64", "spans", "spans carrying them"),
    ("traces", "int64", "traces", "traces carrying them"),
    ("first_seen", "datetime64[ns, UTC]", "ns, UTC", "earliest event (the span's start when the event has no time)"),
    ("last_seen", "datetime64[ns, UTC]", "ns, UTC", "latest event"),
    ("example_message", "string", "", "the message of the group's earliest event (then the first trace id), unmasked"),
    ("example_trace_ids", "object", "", "up to three traces with the exception, the earliest events' (by time, then trace id; tuple of 32-hex ids)"),
])


def is_origin(spans: pd.DataFrame, mask: np.ndarray | None = None) -> np.ndarray:
    """Per span: an error origin — it failed (``mask``, default :func:`tracekit.core.failed`) and none of
    its children did. The one rule of :func:`error_origins`, :func:`~tracekit.rank_causes` and
    :func:`~tracekit.peer_outliers`: a failed child below a successful span (a retry that absorbed
    the error) does not take a later failure of an ancestor away from it. Of a span exported twice only the copy
    the kernel tree keeps (:mod:`tracekit.core.tree`) counts, as origin and as failed child.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["web", "api", "db"], "name": ["x"] * 3,
    ...     "start": [0, 1, 2], "end": [9, 8, 7], "status": ["error", "ok", "error"]})
    >>> is_origin(spans).tolist()
    [True, False, True]
    """
    tree = span_tree(spans)
    flag = failed(spans) if mask is None else np.asarray(mask, dtype=bool)
    child_failed = np.zeros(len(spans), dtype=bool)
    par = tree.parent
    # a span exported twice is one span, the copy the kernel tree keeps: another copy is no origin, and a failed
    # other copy of a child does not take its parent's origin away (the kept copy succeeded)
    rows = np.flatnonzero(flag & (par >= 0) & ~tree.duplicate)
    child_failed[par[rows]] = True
    return flag & ~child_failed & ~tree.duplicate


def _origins(spans: pd.DataFrame) -> pd.DataFrame:
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), "error_origins")
    tree = span_tree(spans)
    fl = errored(spans)  # failed, or with logs attached an ERROR record: the logs' evidence (core.outcomes)
    by_status = failed(spans)
    rows = np.flatnonzero(is_origin(spans, fl) & ~tree.duplicate)  # a span exported twice is one origin (kernel tree)
    svc = spans["service"].to_numpy(dtype=object)
    name = spans["name"].to_numpy(dtype=object)
    par = tree.parent
    # walk up the unbroken chain of failed ancestors, all origins at once (one step per level); a chain
    # stops at the first ancestor that succeeded: the error was absorbed there (a retry, a fallback).
    # Rows on or under a parent cycle have no ancestry (kernel tree): a chain never steps onto one (it went
    # round the loop for ever when every span on it had failed)
    hops = np.zeros(len(rows), dtype=np.int64)
    prop: list[list[str]] = [[] for _ in rows]
    cur = rows.copy()
    alive = ~tree.cycle[rows]
    while alive.any():
        p = np.where(alive, par[cur], -1)
        alive = (p >= 0) & fl[np.maximum(p, 0)] & ~tree.cycle[np.maximum(p, 0)]
        idx = np.flatnonzero(alive)
        cur = np.where(alive, p, cur)
        for j, r in zip(idx, cur[idx], strict=True):
            prop[j].append(f"{svc[r]}:{name[r]}")
        hops[idx] += 1
    # cur is now the top of each chain: the error reached the request when that top is the request root
    root_of_trace = tree.request_root
    rr = root_of_trace[tree.trace[rows]] if len(rows) else np.zeros(0, np.int64)
    reached = (rr >= 0) & (cur == rr) if len(rows) else np.zeros(0, bool)
    # a chain that stops below a span still in progress with no status yet (core.outcome_unknown: the request root
    # had not answered) may yet reach it: whether it did is unknown (<NA>), not False
    above = np.where(tree.cycle[cur], -1, par[cur]) if len(rows) else np.zeros(0, np.int64)
    # and so is a chain that stops at a span whose parent is missing from the data (an orphan, core.tree): what the
    # missing span did with the error is not known (it read False, "absorbed", under a parent never received)
    unknown_reach = ~reached & (((above >= 0) & outcome_unknown(spans)[np.maximum(above, 0)]) | tree.orphan[cur]) \
        if len(rows) else np.zeros(0, bool)
    paths = call_paths(spans, tree, rows) if len(rows) else np.zeros(0, dtype=object)
    out = pd.DataFrame({
        "trace_id": pd.array(spans["trace_id"].to_numpy(dtype=object)[rows], dtype="string"),
        "span_id": pd.array(spans["span_id"].to_numpy(dtype=object)[rows], dtype="string"),
        "service": pd.array(svc[rows], dtype="string"),
        "name": pd.array(name[rows], dtype="string"),
        "call_path": pd.array(paths, dtype="string"),
        "decided_by": pd.array(np.where(by_status[rows], "status", "logs"), dtype="string"),
        "propagated_to": pd.array([" < ".join(p) for p in prop], dtype="string"),
        "hops": hops,
        "reached_root": pd.arrays.BooleanArray(np.asarray(reached, dtype=bool), np.asarray(unknown_reach, dtype=bool)),
        "start": to_timestamps(ns(spans["start"])[rows]).array,
    })
    out.attrs["rows"] = rows
    return out


def _most_frequent(s: pd.Series) -> str:
    """The most frequent value of ``s``; of values seen equally often, the first in text order (not in row order)."""
    vc = s.value_counts(sort=False)
    return str(min(vc.index[vc.to_numpy() == vc.max()], key=str))


def error_origins(spans: pd.DataFrame, by: str | Sequence[str] = "service", *, per_span: bool = False) -> pd.DataFrame:
    """Where errors start: per trace, the failed span(s) none of whose children failed; aggregated by key.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (not modified).
    by : str or list of str
        Key of the aggregation: ``"service"``, ``"operation"`` (service and name) or span columns.
    per_span : bool
        Return one row per origin span (:data:`ERROR_ORIGIN_SPANS`) instead of the aggregation.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns then :data:`ERROR_ORIGINS`, most origins first; or :data:`ERROR_ORIGIN_SPANS`.
        ``attrs["status_recorded"]`` is :func:`tracekit.core.status_recorded` of ``spans``. Where it is False
        (no span records a status, an HTTP code or a fault flag) no span could be recorded as failed, so the
        table is empty — unless ERROR log records are attached, which are then the only evidence and the
        shares are theirs: an empty table there means "unknown", not "no errors"; read the attribute, never
        a share of 0 (there is no row to carry one).

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        ``by`` names a column that is not in ``spans``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["web", "api", "db"], "name": ["GET /", "get", "q"],
    ...     "start": [0, 1, 2], "end": [9, 8, 7], "status": ["error", "error", "error"]})
    >>> error_origins(spans, per_span=True)[["service", "propagated_to", "hops", "reached_root"]].values.tolist()
    [['db', 'api:get < web:GET /', 2, True]]
    """
    spans, keys = key_frame(spans, by, what="error_origins")  # the named keys of core.BY_KEYS, or columns
    bad = [k for k in keys if k not in spans.columns]
    if bad:
        raise ArgumentError(f"error_origins: by column(s) {bad} not in the spans frame")
    o = _origins(spans)
    known = status_recorded(spans)  # else failed() is False everywhere: only ERROR log records can show an origin
    if per_span:
        ERROR_ORIGIN_SPANS.check(o)
        # in time order (start, then trace and span id), not the frame's row order: the same spans listed otherwise
        # gave the rows in another order
        o = o.sort_values(["start", "trace_id", "span_id"], kind="stable").reset_index(drop=True)
        o.attrs["status_recorded"] = known
        return o
    rows = o.attrs["rows"]
    kf = pd.DataFrame({k: spans[k].to_numpy(dtype=object)[rows] for k in keys})
    kf = kf.astype(object).where(kf.notna(), "<NA>")
    d = pd.concat([kf, o[["trace_id", "hops"]].reset_index(drop=True)], axis=1)
    # <NA> (the chain stops below a span still in progress): left out of the key's share, NaN when none is known
    d["reached_root"] = o["reached_root"].to_numpy(dtype=np.float64, na_value=np.nan)
    d["logged"] = (o["decided_by"] == "logs").to_numpy(dtype=bool)
    d["path"] = (o["service"].astype(object) + ":" + o["name"].astype(object)).to_numpy(dtype=object)
    prop = o["propagated_to"].to_numpy(dtype=object)
    d["path"] = np.where(prop != "", d["path"] + " < " + prop, d["path"])
    total = len(d)
    if not total:
        out = pd.DataFrame({k: pd.Series([], dtype="string") for k in keys})
        for c in ERROR_ORIGINS.columns:
            out[c.name] = pd.Series([], dtype="object" if c.dtype == "object" else c.dtype)
        out.attrs["status_recorded"] = known
        return out
    # the origins in time order (start, then trace and span id), not the frame's: the example traces are the earliest
    # origins' and a tie of top paths goes to the first path in text order, whatever the row order (before: the first
    # rows' traces, and of two paths seen equally often the one read first)
    d["_t"] = ns(o["start"]).astype(np.int64) if len(o) else np.zeros(0, np.int64)
    d["_span"] = o["span_id"].to_numpy(dtype=object)
    d = d.sort_values(["_t", "trace_id", "_span"], kind="stable").reset_index(drop=True)
    g = d.groupby(keys, sort=False)
    out = g.agg(origins=("hops", "size"), logged_origins=("logged", "sum"), traces=("trace_id", "nunique"),
                reached_root=("reached_root", "mean"), mean_hops=("hops", "mean"))
    out["share"] = out["origins"] / total
    out["top_path"] = g["path"].agg(_most_frequent)
    ex = g["trace_id"].apply(lambda s: tuple(dict.fromkeys(s.astype(str)))[:3])
    out["example_trace_ids"] = pd.Series(list(ex.to_numpy(dtype=object)), index=ex.index, dtype=object)
    out = out.reset_index()
    for k in keys:
        out[k] = out[k].replace("<NA>", None).astype("string")
    out = out[[*keys, *ERROR_ORIGINS.column_names]]
    out = out.astype({"origins": "int64", "logged_origins": "int64", "traces": "int64", "share": "float64", "reached_root": "float64",
                      "mean_hops": "float64", "top_path": "string"})
    out = out.sort_values(["origins", *keys], ascending=[False] + [True] * len(keys), kind="stable").reset_index(drop=True)
    out.attrs["status_recorded"] = known
    return out


_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# a hex word (optionally 0x-prefixed), taken whole and never given back (possessive): one pass over the text;
# whether it is an id (letters and digits mixed) is decided on the match, not by backtracking
_HEX_WORD = re.compile(r"\b(0x)?+([0-9a-fA-F]++)\b")
_NUM = re.compile(r"[-+]?+\d++(?:\.\d++)?+")
_QUOTE = re.compile(r"['\"]")
_HAS_DIGIT = re.compile(r"[0-9]")
_HAS_HEX_LETTER = re.compile(r"[a-fA-F]")


def _hex_id(m: re.Match) -> str:
    body = m.group(2)
    return "<id>" if _HAS_DIGIT.search(body) and _HAS_HEX_LETTER.search(body) else m.group(0)


def _mask_quoted(s: str) -> str:
    """Quoted values replaced by ``'<str>'``, in one pass.

    A quote opens a value only where no letter or digit precedes it and closes one only where none
    follows it, so the apostrophe of ``Can't`` or ``it's`` neither opens nor closes a value. Each
    opener is paired with the nearest closer of the same quote character after it (found by one
    right-to-left pass over the quote marks), so the cost is linear in the text whatever its quotes.
    """
    marks = [m.start() for m in _QUOTE.finditer(s)]
    if len(marks) < 2:
        return s
    n = len(s)
    opener = [p == 0 or not (s[p - 1].isalnum() or s[p - 1] == "_") for p in marks]
    closer = [p == n - 1 or not (s[p + 1].isalnum() or s[p + 1] == "_") for p in marks]
    nxt = [-1] * len(marks)
    last = {"'": -1, '"': -1}
    for k in range(len(marks) - 1, -1, -1):
        c = s[marks[k]]
        nxt[k] = last[c]
        if closer[k]:
            last[c] = k
    out, pos = [], 0
    for k, p in enumerate(marks):
        if p < pos or not opener[k] or nxt[k] < 0:
            continue
        out.append(s[pos:p])
        out.append("'<str>'")
        pos = marks[nxt[k]] + 1
    out.append(s[pos:])
    return "".join(out)


def message_template(message: Any) -> str | None:
    """The message with quoted values, UUIDs, hex ids (letters and digits mixed) and numbers masked.

    Linear in the message: quotes are paired in one pass (an apostrophe inside a word, as in
    ``Can't``, is not a quote) and every regex takes each run of characters whole, without
    backtracking.

    Examples
    --------
    >>> message_template("order 1234 not found for user 'bob' (req 9f8e7d6c5b4a)")
    "order <num> not found for user '<str>' (req <id>)"
    >>> message_template("Can't reach 'db-7': retry 3")
    "Can't reach '<str>': retry <num>"
    """
    if message is None or (isinstance(message, float) and np.isnan(message)):
        return None
    s = _mask_quoted(str(message))
    s = _UUID.sub("<uuid>", s)
    s = _HEX_WORD.sub(_hex_id, s)
    return _NUM.sub("<num>", s)


def _event_ns(t: Any, fallback: int, spans: pd.DataFrame, row: int) -> int:
    """An event's time as ns since the epoch: an int (the schema's), a float, or a pandas/numpy/datetime timestamp
    (naive read as UTC); ``fallback`` (the span's start) when it has none (None, NaN, NaT). Anything else is a
    :class:`~tracekit.SpansSchemaError` naming the span, not a bare TypeError."""
    if t is None or t is pd.NaT or (isinstance(t, (float, np.floating)) and np.isnan(t)):
        return fallback
    if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
        return int(t)
    if isinstance(t, (float, np.floating)):
        return int(t)
    try:
        ts = pd.Timestamp(t) if isinstance(t, (pd.Timestamp, np.datetime64, datetime)) else None
    except (TypeError, ValueError):
        ts = None
    if ts is None:
        raise SpansSchemaError(f"top_exceptions: an event of span {spans['span_id'].iloc[row]!r} (trace "
                               f"{spans['trace_id'].iloc[row]!r}) has time {t!r}; expected ns since the epoch or None")
    if ts is pd.NaT:
        return fallback
    return int((ts.tz_localize("UTC") if ts.tzinfo is None else ts).value)


def top_exceptions(spans: pd.DataFrame, by: str | Sequence[str] | None = "service") -> pd.DataFrame:
    """Exception events grouped by type and message template, with counts, first/last seen and examples.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame with an ``events`` column (lists of ``{time, name, attributes}``).
    by : str, list of str or None
        Key columns the groups are split by (``"operation"`` = service and name; None: no split).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns then :data:`TOP_EXCEPTIONS`, most events first.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    ArgumentError
        ``by`` names a column that is not in ``spans``.

    Examples
    --------
    >>> import tracekit as tk
    >>> ev = lambda m: [{"time": None, "name": "exception",
    ...                  "attributes": {"exception.type": "KeyError", "exception.message": m}}]
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32, "2" * 32], "span_id": ["a" * 16] * 2,
    ...     "service": ["api"] * 2, "name": ["get"] * 2, "start": [0, 5], "end": [1, 6],
    ...     "events": [ev("item 12 missing"), ev("item 7 missing")]})
    >>> top_exceptions(spans)[["service", "template", "count"]].values.tolist()
    [['api', 'item <num> missing', 2]]
    """
    require_columns(spans, ("trace_id", "span_id", "service", "name", "start", "events"), "top_exceptions")
    spans, keys = key_frame(spans, by, what="top_exceptions", allow_none=True)
    bad = [k for k in keys if k not in spans.columns]
    if bad:
        raise ArgumentError(f"top_exceptions: by column(s) {bad} not in the spans frame")
    ev = spans["events"].to_numpy(dtype=object)
    has = np.fromiter((isinstance(e, (list, tuple)) and len(e) > 0 for e in ev), dtype=bool, count=len(ev))
    # a span exported twice threw its exceptions once: the copy core.tree counts (complete, then longest), whatever
    # the row order; without parent_id (not needed here) every span is a root of that tree (it was the first row)
    has &= ~(span_tree(spans) if "parent_id" in spans.columns  # the frame's tree, cached
             else span_tree(spans.assign(parent_id=None))).duplicate
    rows, types, msgs, times = [], [], [], []
    start = ns(spans["start"])
    for r in np.flatnonzero(has):
        for e in ev[r]:
            if not isinstance(e, dict) or e.get("name") != "exception":
                if is_log_event(e) and e["attributes"].get("log.severity") in ERROR_SEVERITIES:  # attach_logs
                    a = e["attributes"]
                    rows.append(r)
                    types.append(f"log record ({a['log.severity']})")
                    msgs.append(a.get("log.body"))
                    times.append(_event_ns(e.get("time"), int(start[r]), spans, r))
                continue
            a = e.get("attributes") or {}
            rows.append(r)
            types.append(a.get("exception.type"))
            msgs.append(a.get("exception.message"))
            times.append(_event_ns(e.get("time"), int(start[r]), spans, r))
    cols = [*keys, *TOP_EXCEPTIONS.column_names]
    if not rows:
        out = pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
        for c in TOP_EXCEPTIONS.columns:
            out[c.name] = out[c.name].astype("object" if c.dtype == "object" else c.dtype)
        for k in keys:
            out[k] = out[k].astype("string")
        return out
    r = np.asarray(rows, dtype=np.int64)
    d = pd.DataFrame({k: spans[k].to_numpy(dtype=object)[r] for k in keys})
    d = d.astype(object).where(d.notna(), "<NA>")
    d["exception_type"] = pd.Series(types, dtype=object).fillna("<NA>").to_numpy()
    d["template"] = pd.Series([message_template(m) for m in msgs], dtype=object).fillna("<NA>").to_numpy()
    d["message"] = msgs
    d["t"] = times
    d["span"] = r
    d["trace_id"] = spans["trace_id"].to_numpy(dtype=object)[r]
    gk = [*keys, "exception_type", "template"]
    # the events in time order (then trace id, then message): the example message is the group's earliest and the
    # example traces the earliest events', whatever the frame's row order (before: the first rows read)
    d["_m"] = d["message"].map(lambda m: "" if m is None else str(m))
    d = d.sort_values(["t", "trace_id", "_m"], kind="stable").reset_index(drop=True)
    g = d.groupby(gk, sort=False)
    out = g.agg(count=("t", "size"), spans=("span", "nunique"), traces=("trace_id", "nunique"),
                first_seen=("t", "min"), last_seen=("t", "max"), example_message=("message", "first"))
    out["example_trace_ids"] = g["trace_id"].agg(lambda s: tuple(dict.fromkeys(s.astype(str)))[:3])
    out = out.reset_index()
    for c in gk:
        out[c] = out[c].replace("<NA>", None).astype("string")
    out["first_seen"] = to_timestamps(out["first_seen"].to_numpy(np.int64)).array
    out["last_seen"] = to_timestamps(out["last_seen"].to_numpy(np.int64)).array
    out["example_message"] = out["example_message"].astype("string")
    out = out.astype({"count": "int64", "spans": "int64", "traces": "int64"})
    out = out[cols].sort_values(["count", *gk], ascending=[False] + [True] * len(gk), kind="stable").reset_index(drop=True)
    return out
