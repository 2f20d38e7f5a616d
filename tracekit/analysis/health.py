"""Trace health: is the data whole and honest? One row per finding, across all traces.

:func:`health_report` runs every check in :data:`CHECKS` and returns one row per finding with
the columns of :data:`FINDING_COLUMNS`:

``check`` (a stable identifier: notebooks and the report key on it), ``severity`` (``error``,
``warning``, ``info``), ``subject`` (what the row is about: ``"gateway → inventory"``, an
attribute key, a service; ``""`` for the whole data set), ``traces_affected``,
``spans_affected``, ``share`` (traces affected / traces analysed), ``value`` (the number a
metric row reports, else NaN), ``example_trace_ids`` (up to 3), ``explanation``, ``what_to_do``.

Checks (ids are stable): ``duplicate_span_ids``, ``parent_cycles``, ``orphan_spans``,
``no_root``, ``multiple_roots``, ``in_progress_spans``, ``bad_span_times``, ``bad_http_status`` (one row per problem:
an HTTP status outside 100-599, or one that is not a whole number), ``truncated_traces``, ``dropped_data``,
``uninstrumented_hop`` (one row per caller → callee: the callee reports no spans, or the calls failed before any
response), ``dropped_context`` (one row per caller → callee: the callee is instrumented and its answers start
traces of their own — the trace context was dropped on that hop, the case :func:`tracekit.reconnect` pairs),
``missing_span_on_hop`` (one row per caller → callee: the callee is instrumented and answers inside the callers' own
traces, but as orphans — the context got through, a span between the caller's client span and the callee's answer
was not exported or not sampled; ``orphan_spans`` counts those orphans, without the hop or the caller's calls),
``child_outside_parent`` (one row per parent service → child service: a child that starts before its parent, or
ends after it — except what may outlive its parent: a consumer, a child of an asynchronous hand-off such as a producer
or SQS SendMessage, the answer to a caller that failed, a client timeout; :func:`tracekit.detect_clock_skew` counts
every pair of a client and its server, these too), ``inferred_segments``,
``callee_only_services`` (one row per service), ``high_cardinality_attribute`` (one row per key),
``high_cardinality_span_name`` (one row per service whose span names carry ids: ``GET /users/81723``, masked with
:func:`tracekit.log_templates`' rule, :mod:`tracekit.core.templates`).
``dropped_context`` and ``missing_span_on_hop`` were split from ``uninstrumented_hop``, which still runs them when
selected alone (:data:`SPLIT_CHECKS`). Seed metrics (severity ``info``, always present when there are spans):
``trace_completeness``, ``failed_request_ratio``, ``span_error_rate`` (one row per service),
``p95_request_latency_ms``, ``top_call_path`` (one row per service-level path, most frequent first). Where no span records a status
(:func:`tracekit.core.status_recorded` False: TrainTicket-like exports) the ``failed_request_ratio`` and
``span_error_rate`` rows say the rate is unknown: ``value`` and ``share`` NaN, not 0. ``span_error_rate`` is failed spans
over the service's spans of known outcome: a span still in progress with no status yet
(:func:`tracekit.core.outcome_unknown`) is neither failed nor ok, left out and counted in the words (NaN when every span
of the service is in progress).

Each check is a small function ``check(ctx: HealthContext) -> DataFrame`` of finding rows
(:data:`CHECKS` maps ids to them), so a partitioned engine can run :func:`health_report` per
partition (traces kept whole) and add the results up with :func:`combine_findings` (counts
summed, ``share`` recomputed over the total trace count; the per-service error rate, the p95 and the span names
that carry ids (:data:`NOT_ADDITIVE`) are left out there and must be computed on the whole data).

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["0" * 31 + "1"] * 2, "span_id": ["a" * 16, "b" * 16],
...     "parent_id": ["f" * 16, "a" * 16], "service": ["api", "db"], "name": ["GET /", "q"],
...     "start": [0, 1_000_000], "end": [5_000_000, 4_000_000]})
>>> r = tk.health_report(spans)
>>> r.loc[r["check"] == "orphan_spans", ["traces_affected", "spans_affected", "share"]].to_dict("records")
[{'traces_affected': 1, 'spans_affected': 1, 'share': 1.0}]
"""

from __future__ import annotations

import fnmatch
import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..core import (
    FAILED_WORDS,
    TIME_PROBLEM,
    PathInterner,
    SpanTree,
    bool_column,
    callee,
    failed,
    failed_share,
    is_async_handoff,
    ns,
    outcome_unknown,
    percentile,
    require_columns,
    result_table,
    safe_repr,
    safe_str,
    span_count,
    span_tree,
    status_recorded,
    unanswered_calls,
    unknown_outcomes,
)
from ..core.dropped_context import TOLERANCE_NS
from ..core.templates import text_templates
from ..core.words import ms_text, percent, plural, unknown_outcome_words
from ..errors import TraceKitError
from ..schema import HTTP_STATUS_KEYS, HTTP_STATUS_RANGE, http_status_code
from .structure import trace_summary

__all__ = [
    "health_report",
    "HealthContext",
    "health_context",
    "CHECKS",
    "FINDING_COLUMNS",
    "SEVERITIES",
    "combine_findings",
    "select_checks",
    "warn_split_checks",
    "SPLIT_CHECKS",
]

FINDING_TABLE = result_table("health_report", "one row per finding (a check and the subject it found something in)", [
    ("check", "string", "", "name of the check (CHECKS)"),
    ("severity", "string", "", "error / warning / info"),
    ("subject", "string", "", "what the finding is about: a service, caller → callee, an attribute, or empty"),
    ("traces_affected", "int64", "traces", "traces with at least one affected span (or counted by the metric)"),
    ("spans_affected", "int64", "spans", "spans the finding is about"),
    ("share", "float64", "", "traces_affected / traces"),
    ("value", "float64", "", "the metric's value (failed_request_ratio: share; p95_request_latency_ms: ms; …); NaN for checks, "
                             "and for failed_request_ratio and span_error_rate when no span records a status "
                             "(core.status_recorded: unknown, not 0)"),
    ("example_trace_ids", "object", "", "up to N_EXAMPLES trace ids to look at: the smallest ids of the finding's "
                                        "traces, whatever the rows' order (p95_request_latency_ms: the slowest requests, "
                                        "ties by id)"),
    ("explanation", "string", "", "what was found, in words"),
    ("what_to_do", "string", "", "what to do about it"),
])
FINDING_COLUMNS = tuple(FINDING_TABLE.column_names)
SEVERITIES = ("error", "warning", "info")
N_EXAMPLES = 3


def example_ids(ids: Iterable, n: int = N_EXAMPLES) -> list[str]:
    """The example trace ids of a finding: the ``n`` smallest distinct of ``ids`` (as text), smallest first.

    One rule, whatever the rows' order: the same spans sorted, shuffled, concatenated from files in another order or
    split into partitions give the same examples, and the examples of partitions put together are the examples of
    the whole (the ``n`` smallest of the partitions' own ``n`` smallest). The smallest ids, not the earliest traces,
    because a finding row carries ids only (:func:`combine_findings` and tk.dask rebuild the whole's examples from
    them); an X-Ray id begins with its trace's start second in hex, so there the smallest ids are the traces that
    started first. Linear in ``len(ids)``.

    >>> example_ids(["c", "a", "b", "a", "d"])
    ['a', 'b', 'c']
    """
    return heapq.nsmallest(n, {str(i) for i in ids})
#: fewest finished requests whose p95 is not simply the slowest one (inverted_cdf: the value at rank ceil(0.95 n))
SMALLEST_P95 = 20

#: attribute keys that say whether (and where) a trace was cut short
TRUNCATION_KEYS = (
    "xray.trace.LimitExceeded",
    "aws.xray.limit_exceeded",
    "xray.limit_exceeded",
    "limit_exceeded",
    "LimitExceeded",
    "aws.xray.trace.limit_exceeded",
)
DB_KEYS = ("db.system", "db.system.name", "sql.url", "sql.database_type", "sql.connection_string")


@dataclass(frozen=True)
class HealthContext:
    """Everything the checks share, computed once: the spans, their tree and trace summary."""

    spans: pd.DataFrame
    tree: SpanTree
    summary: pd.DataFrame
    options: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_traces(self) -> int:
        return self.tree.n_traces

    def opt(self, name: str, default):
        return self.options.get(name, default)

    @property
    def status_recorded(self) -> bool:
        """Whether some span records a status (:func:`tracekit.core.status_recorded`): else error rates are unknown."""
        if "status_recorded" not in self.cache:
            self.cache["status_recorded"] = bool(status_recorded(self.spans))
        return self.cache["status_recorded"]


def health_context(spans: pd.DataFrame, **options) -> HealthContext:
    """Build the shared :class:`HealthContext` (parent links, trace summary) for the checks.

    >>> import tracekit as tk
    >>> ctx = health_context(tk.empty_spans())
    >>> ctx.n_traces
    0
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"), "health_report")
    tree = span_tree(spans)
    return HealthContext(spans, tree, trace_summary(spans), dict(options))


# ------------------------------------------------------------------------------------ helpers


def _rows(ctx: HealthContext, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def _finding(
    ctx: HealthContext,
    check: str,
    severity: str,
    span_mask: np.ndarray,
    explanation: str,
    what_to_do: str,
    *,
    subject: str = "",
    trace_codes: np.ndarray | None = None,
    value: float = np.nan,
    always: bool = False,
    ranked: bool = False,
) -> dict | None:
    """One finding row from a boolean mask over spans, or the positions of the spans (and optionally the traces it
    affects). Positions let a check with one row per caller → callee or per name build each row in the size of its
    spans: a mask of every span per row made 16,000 callees × 32,000 spans quadratic. The examples are
    :func:`example_ids` of the traces, or with ``ranked`` the first of ``trace_codes`` in the caller's order (a total
    order, ties broken by trace id: the slowest requests)."""
    span_mask = np.asarray(span_mask)
    rows = np.flatnonzero(span_mask) if span_mask.dtype == bool else np.sort(span_mask.astype(np.int64))
    if check != "duplicate_span_ids":  # a span exported twice is one span (core.tree: duplicate marks the copies)
        rows = rows[~ctx.tree.duplicate[rows]]
    if trace_codes is None:
        trace_codes = ctx.tree.trace[rows]
    traces = pd.unique(np.asarray(trace_codes))
    if not len(rows) and not len(traces) and not always:
        return None
    return {
        "check": check,
        "severity": severity,
        "subject": subject,
        "traces_affected": int(len(traces)),
        "spans_affected": int(len(rows)),
        "share": len(traces) / ctx.n_traces if ctx.n_traces else np.nan,
        "value": value,
        "example_trace_ids": ([str(ctx.tree.trace_ids[t]) for t in traces[:N_EXAMPLES]] if ranked
                              else example_ids(ctx.tree.trace_ids[traces])),
        "explanation": explanation,
        "what_to_do": what_to_do,
    }


def _top(values: Iterable, k: int = 3) -> str:
    vc = pd.Series(list(values), dtype=object).value_counts().rename("n").reset_index()
    vc["text"] = vc.iloc[:, 0].astype(str)  # a tie to the smallest name, not to the value met first in row order
    vc = vc.sort_values(["n", "text"], ascending=[False, True], kind="stable")
    return ", ".join(f"{i} ({c})" for i, c in zip(vc["text"].head(k), vc["n"].head(k), strict=True))


# ------------------------------------------------------------------------------------- checks


def duplicate_span_ids_words(n_rows: int) -> str:
    """The explanation of a ``duplicate_span_ids`` row: ``n_rows`` rows (every copy) share their span id with another
    row of their trace (one text for one frame and for :func:`combine_findings`).

    >>> duplicate_span_ids_words(3)[:52]
    '3 rows share their span id with another row of their'
    """
    return (f"{n_rows:,} rows share their span id with another row of their trace (every copy counted); parent links "
            "and self time use the first copy.")


def check_duplicate_span_ids(ctx: HealthContext) -> pd.DataFrame:
    mask = ctx.tree.duplicated  # every copy of a duplicated (trace, span id) is affected
    row = _finding(
        ctx, "duplicate_span_ids", "error", mask, duplicate_span_ids_words(int(mask.sum())),
        "Check for spans exported twice (retries, two exporters, merged files) or an id generator that repeats; de-duplicate before analysing.",
    )
    return _rows(ctx, [row] if row else [])


def check_parent_cycles(ctx: HealthContext) -> pd.DataFrame:
    mask = ctx.tree.depth < 0
    row = _finding(
        ctx, "parent_cycles", "error", mask,
        "Spans whose parent chain loops back on itself never reach a root; depth and critical path are undefined for them.",
        "Look for corrupted or re-used span ids in these traces.",
    )
    return _rows(ctx, [row] if row else [])


def orphan_spans_words(top: str | None) -> str:
    """The explanation of the ``orphan_spans`` row; ``top``: the services with most orphans and their counts
    (None where they are not known: partitions added up by :func:`combine_findings`)."""
    return ("Spans name a parent that is not in their trace (missing parents)" + (f", most in: {top}" if top else "")
            + ". The trace falls apart into fragments; durations and critical paths of these traces are incomplete.")


def check_orphan_spans(ctx: HealthContext) -> pd.DataFrame:
    """Spans that name a parent not in their trace; another copy of a span exported twice is that span (the kernel
    tree's rule), counted once."""
    mask = ctx.tree.orphan & ~ctx.tree.duplicate
    svc = ctx.spans["service"].to_numpy(dtype=object)[mask]
    row = _finding(
        ctx, "orphan_spans", "warning", mask, orphan_spans_words(_top(svc)),
        "Load all files of the time window; check that every service exports to the same backend and that sampling "
        "decisions are propagated (parent-based sampling). tk.reconnect(spans) lists each missing parent with the span "
        "that most likely made the lost call.",
    )
    return _rows(ctx, [row] if row else [])


def check_no_root(ctx: HealthContext) -> pd.DataFrame:
    s = ctx.summary
    codes = np.flatnonzero(s["n_roots"].to_numpy() == 0)
    mask = np.isin(ctx.tree.trace, codes)
    row = _finding(
        ctx, "no_root", "warning", mask,
        "Traces with no root span (every span has a parent id): the entry point of the request is missing.",
        "The root was not exported or not sampled (e.g. a load balancer or client that starts the trace is not instrumented).",
        trace_codes=codes,
    )
    return _rows(ctx, [row] if row else [])


def check_multiple_roots(ctx: HealthContext) -> pd.DataFrame:
    s = ctx.summary
    codes = np.flatnonzero(s["n_roots"].to_numpy() > 1)
    mask = np.isin(ctx.tree.trace, codes) & ~ctx.tree.has_parent_id & ~ctx.tree.duplicate  # (a copy: that root)
    row = _finding(
        ctx, "multiple_roots", "warning", mask,
        "Traces with more than one root span: a service started a new root instead of continuing the incoming context.",
        "Find the service whose spans are the extra roots and check that it extracts the incoming trace context.",
        trace_codes=codes,
    )
    return _rows(ctx, [row] if row else [])


def check_in_progress_spans(ctx: HealthContext) -> pd.DataFrame:
    # another copy is that span (kernel tree; the copy kept is a complete one when there is one)
    mask = (bool_column(ctx.spans, "in_progress") | ctx.spans["end"].isna().to_numpy()) & ~ctx.tree.duplicate
    row = _finding(
        ctx, "in_progress_spans", "warning", mask,
        "Spans still in progress (no end time; X-Ray in_progress segments): the request had not finished when the data was read, or the process died before closing the span.",
        "Fetch the traces again later; if they stay in progress, look for crashes or timeouts in those services.",
    )
    return _rows(ctx, [row] if row else [])


def check_bad_span_times(ctx: HealthContext) -> pd.DataFrame:
    """Spans whose times are wrong, one row per problem: those the readers flagged (``attributes[TIME_PROBLEM]``:
    an OTLP start time of 0 or absent, kept at 1970; an OTLP end time of 0, loaded as in progress; an end before the start, kept as given), and any other span that
    ends before it starts (a frame built with :func:`tracekit.spans_from_columns`, or edited), as ``end_before_start``."""
    spans = ctx.spans
    n = len(spans)
    vals = spans["attributes"].to_numpy(dtype=object) if "attributes" in spans.columns else np.full(n, None, dtype=object)
    flag = np.fromiter((type(d) is dict and TIME_PROBLEM in d for d in vals), dtype=bool, count=n)
    # an end before the start, whoever built the frame (a missing end is in progress, not this)
    backwards = ~spans["end"].isna().to_numpy() & ~spans["start"].isna().to_numpy() & (ns(spans["end"]) < ns(spans["start"]))
    kind = np.full(n, None, dtype=object)
    kind[flag] = [vals[i][TIME_PROBLEM] for i in np.flatnonzero(flag)]
    kind[backwards & ~flag] = "end_before_start"
    flag |= backwards
    if not flag.any():
        return _rows(ctx, [])
    text = {
        "start_time_zero": ("Spans whose start time is 0 or absent (OTLP's unset start): loaded at 1970-01-01 as given, so "
                            "their durations, and any time window or timeline that includes them, are wrong.",
                            "Exclude these spans from time windows and latency figures; the exporter left the start "
                            "unset: check its version."),
        "end_time_zero": ("Spans whose end time is 0 (OTLP's unset end): loaded as in progress, with no end and no duration.",
                          "The exporter sent the span before it ended, or an SDK left the end unset: check its version."),
        "end_before_start": ("Spans that end before they start (a negative duration, kept as given): a clock stepped "
                             "back during the span, or the writer swapped the times.",
                             "Exclude these spans from latency figures; check the host's clock (NTP) and the exporter."),
    }
    rows = []
    for k in sorted({str(x) for x in kind[flag]}):
        expl, todo = text.get(k, (f"Spans whose times the reader flagged as {k}.", "Check the exporter that wrote them."))
        row = _finding(ctx, "bad_span_times", "warning", kind == k, expl, todo, subject=k)
        if row:
            rows.append(row)
    return _rows(ctx, rows)


_HTTP_KEYS = frozenset(HTTP_STATUS_KEYS)
#: ``bad_http_status`` rows by subject: (explanation, what to do)
BAD_HTTP_STATUS_WORDS = {
    "out_of_range": ("Spans whose HTTP status is outside 100-599 (999, -5, 0: no HTTP status code), loaded as given: "
                     "no client error, server fault or throttle is derived from it, so their outcome is their span "
                     "status and the source's own flags only.",
                     "Look at what set the code (a proxy's or load balancer's private code, a counter written to the "
                     "status attribute); count these spans by hand if they were failures."),
    "not_a_number": ("Spans whose HTTP status attribute is not a whole number (\"abc\", 503.5, true): http_status is "
                     "missing, the value kept in the attributes; no outcome is derived from it.",
                     "Fix the instrumentation that writes the attribute; read the value in attributes to classify "
                     "these spans."),
}


def check_bad_http_status(ctx: HealthContext) -> pd.DataFrame:
    """Spans whose HTTP status is no HTTP status code, one row per problem (subject): ``out_of_range``, an
    ``http_status`` outside :data:`tracekit.schema.HTTP_STATUS_RANGE` (100-599); ``not_a_number``, no
    ``http_status`` but an HTTP status attribute (:data:`tracekit.schema.HTTP_STATUS_KEYS`) the readers cannot read
    as a whole number. Both are loaded, never dropped; neither decides an outcome (:mod:`tracekit.core.outcomes`)."""
    spans = ctx.spans
    n = len(spans)
    if "http_status" in spans.columns:
        h = spans["http_status"].to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(h)
        lo, hi = HTTP_STATUS_RANGE
        masks = {"out_of_range": ~missing & ((h < lo) | (h >= hi))}
    else:
        missing = np.ones(n, dtype=bool)
        masks = {"out_of_range": np.zeros(n, dtype=bool)}
    unread = np.zeros(n, dtype=bool)
    if "attributes" in spans.columns and missing.any():
        rows = np.flatnonzero(missing)
        vals = spans["attributes"].to_numpy(dtype=object)[rows]
        for r, d in zip(rows.tolist(), vals, strict=True):
            if type(d) is dict and not _HTTP_KEYS.isdisjoint(d):
                v = next(d[k] for k in HTTP_STATUS_KEYS if k in d)  # (the key the readers read: first present)
                unread[r] = v is not None and http_status_code(v) is None
    masks["not_a_number"] = unread
    rows_out = []
    for subject, mask in masks.items():
        expl, todo = BAD_HTTP_STATUS_WORDS[subject]
        row = _finding(ctx, "bad_http_status", "warning", mask, expl, todo, subject=subject)
        if row:
            rows_out.append(row)
    return _rows(ctx, rows_out)


def _truncated_trace_codes(ctx: HealthContext) -> np.ndarray:
    if "truncated" in ctx.cache:
        return ctx.cache["truncated"]
    keys = ctx.opt("truncation_keys", TRUNCATION_KEYS)
    keyset = frozenset(keys)
    flags = np.zeros(len(ctx.spans), dtype=bool)
    for col in ("attributes", "resource"):
        if col not in ctx.spans.columns:
            continue
        memo: dict[int, bool] = {}
        vals = ctx.spans[col].to_numpy(dtype=object)
        # fast path: one C-level set test per span; only spans with a truncation key go further
        cand = np.fromiter((bool(d) and not keyset.isdisjoint(d) for d in vals), dtype=bool, count=len(vals))
        for i in np.flatnonzero(cand):
            d = vals[i]
            k = id(d)
            hit = memo.get(k)
            if hit is None:
                hit = memo[k] = any(d.get(x) is True or d.get(x) in ("true", "True") for x in keys)
            flags[i] |= hit
    codes = pd.unique(ctx.tree.trace[flags])
    ctx.cache["truncated"] = codes
    return codes


def check_truncated_traces(ctx: HealthContext) -> pd.DataFrame:
    codes = _truncated_trace_codes(ctx)
    mask = np.isin(ctx.tree.trace, codes)
    row = _finding(
        ctx, "truncated_traces", "warning", mask,
        "Traces cut short by the backend (X-Ray LimitExceeded: the trace document exceeded its size limit); spans are missing.",
        "Treat durations and call counts of these traces as lower bounds; reduce subsegments per trace (e.g. fewer SDK-level subsegments).",
        trace_codes=codes,
    )
    return _rows(ctx, [row] if row else [])


DROPPED_KEYS = ("otel.dropped_attributes_count", "otel.dropped_events_count", "otel.dropped_links_count")


def dropped_data_words(spans_by_kind: dict) -> str:
    """The explanation of the ``dropped_data`` row: spans that dropped each kind of data (attributes, events,
    links).

    >>> dropped_data_words({"events": 2, "attributes": 1})[-67:]
    '(attributes: 1 spans, events: 2 spans); what is left is incomplete.'
    """
    return ("The SDK dropped data from these spans because it hit its limits ("
            + ", ".join(f"{k}: {n:,} spans" for k, n in sorted(spans_by_kind.items())) + "); what is left is incomplete.")


_DROPPED_WORDS = re.compile(r"(\w+): ([\d,]+) spans")


def check_dropped_data(ctx: HealthContext) -> pd.DataFrame:
    """Spans whose SDK dropped attributes, events or links (it hit its limits)."""
    if "attributes" not in ctx.spans.columns:
        return _rows(ctx, [])
    keyset = frozenset(DROPPED_KEYS)
    vals = ctx.spans["attributes"].to_numpy(dtype=object)
    mask = np.zeros(len(vals), dtype=bool)
    what: Counter = Counter()
    for i, d in enumerate(vals):
        if not d or keyset.isdisjoint(d):
            continue
        for k in DROPPED_KEYS:
            v = d.get(k)
            try:
                if v is not None and int(v) > 0:
                    mask[i] = True
                    what[k.split("_")[1]] += 1
            except (TypeError, ValueError):
                continue
    row = _finding(
        ctx, "dropped_data", "info", mask, dropped_data_words(what),
        "Raise the SDK's span limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT) if the dropped data matters.",
    )
    return _rows(ctx, [row] if row else [])


def check_uninstrumented_hop(ctx: HealthContext) -> pd.DataFrame:
    """Client calls nothing answers because nothing could: a callee that reports no spans (``info``: not
    instrumented, a third party, or its spans are in data not loaded), and calls that failed before any response
    (``info``). An instrumented callee is another finding: its answers start traces of their own
    (:func:`check_dropped_context`), or they are orphans in the callers' own traces (:func:`check_missing_span_on_hop`)."""
    return _rows(ctx, [r for r in _unanswered_calls(ctx) if r["check"] == "uninstrumented_hop"])


def check_dropped_context(ctx: HealthContext) -> pd.DataFrame:
    """Client calls to an *instrumented* service that nothing answers below them, where the callee's answers start
    traces of their own (or are not in the data): the trace context was dropped on that hop (``warning``, one row
    per caller → callee). :func:`tracekit.reconnect` tells the same case apart the same way (its
    ``dropped_context`` pairs: an unanswered client span and a new root of the callee)."""
    return _rows(ctx, [r for r in _unanswered_calls(ctx) if r["check"] == "dropped_context"])


def check_missing_span_on_hop(ctx: HealthContext) -> pd.DataFrame:
    """Client calls to an *instrumented* service that nothing answers below them, where the callee's answers are in
    the callers' own traces as orphans (``warning``, one row per caller → callee): the trace context got through,
    but the span they name as parent — between the caller's client span and the callee's answer (a proxy's, or a
    second client span of the caller's) — was not exported or not sampled. The rows count the caller's unanswered
    client spans and name the hop; :func:`check_orphan_spans` counts the callee's orphans, every service's together.
    :func:`tracekit.reconnect` lists the missing parent each orphan names (case ``missing_parent``)."""
    return _rows(ctx, [r for r in _unanswered_calls(ctx) if r["check"] == "missing_span_on_hop"])


def _unanswered_calls(ctx: HealthContext) -> list[dict]:
    """The finding rows of every client span nothing answers, each named by what was found (uninstrumented_hop,
    dropped_context or missing_span_on_hop); computed once per context, the three checks read it."""
    if "unanswered_calls" not in ctx.cache:
        ctx.cache["unanswered_calls"] = _unanswered_call_rows(ctx)
    return ctx.cache["unanswered_calls"]


def _unanswered_call_rows(ctx: HealthContext) -> list[dict]:
    spans = ctx.spans
    tree = ctx.tree
    svc = spans["service"].to_numpy(dtype=object)
    # the client calls nothing answers: the kernel's one definition (core.calls), shared with the service graph and
    # the dropped-context pairs (one call instrumented twice, requests over urllib3, is one call: the outermost)
    cand = unanswered_calls(spans, tree, ("client",))
    if not len(cand):
        return []
    attrs = spans["attributes"].to_numpy(dtype=object) if "attributes" in spans else np.full(len(spans), None)
    names = spans["name"].to_numpy(dtype=object)
    include_db = ctx.opt("include_databases", False)
    cattrs = [a if isinstance(a, dict) else {} for a in attrs[cand]]
    if include_db:
        keep = cand.tolist()
        kept_attrs = cattrs
    else:
        dbset = frozenset(DB_KEYS)
        skip = [
            not dbset.isdisjoint(a) or a.get("namespace") == "aws" or a.get("rpc.system") == "aws-api" for a in cattrs
        ]
        keep = [i for i, sk in zip(cand.tolist(), skip, strict=True) if not sk]
        kept_attrs = [a for a, sk in zip(cattrs, skip, strict=True) if not sk]
    # the callee as the service map names it (one resolver, tracekit.core.callee); unnamed: "?"
    names_c = [callee(a, names[i]) for i, a in zip(keep, kept_attrs, strict=True)]
    callee_names = [c if c is not None else "?" for c in names_c]
    # a call that failed before any response (connection refused, UNAVAILABLE, a timeout with no
    # HTTP status) could not have been answered: nothing was dropped on that hop
    fl = failed(spans) | (spans["status"].to_numpy(dtype=object, na_value="") == "error") if "status" in spans else failed(spans)
    no_status = spans["http_status"].isna().to_numpy() if "http_status" in spans else np.ones(len(spans), dtype=bool)
    unanswered_failure = fl & no_status
    # where the callee's spans are: roots (each starts a trace of its own) and orphans (in a trace,
    # naming a parent that is not there), by service, as trace codes
    tops = np.flatnonzero(tree.is_root | tree.orphan)
    tops_by_svc = pd.DataFrame({"svc": svc[tops], "t": tree.trace[tops], "orphan": tree.orphan[tops],
                                "row": tops}).groupby("svc", sort=False)
    tops_of = {k: (v["t"].to_numpy(), v["orphan"].to_numpy(), v["row"].to_numpy()) for k, v in tops_by_svc}
    start_ns = ns(spans["start"])
    end_ns = ns(spans["end"])
    end_ns = np.where(spans["end"].isna().to_numpy(), start_ns, end_ns)  # in progress: its start, as the pairs take it
    rows = []
    if keep:
        known = set(pd.unique(svc))
        keep_a = np.asarray(keep)
        nofail = ~unanswered_failure[keep_a]
        df = pd.DataFrame({"caller": svc[keep_a], "callee": callee_names})
        # positions per (caller, callee), one pass; a DataFrame per group cost ~1.5 ms each (16,000 callees: 26 s)
        groups = df.groupby(["caller", "callee"], sort=True).indices
        for caller, cal in sorted(groups, key=lambda k: (str(k[0]), str(k[1]))):
            idx = groups[(caller, cal)]
            g_rows = keep_a[idx]
            answerable = g_rows[nofail[idx]]
            if not len(answerable):
                rows.append(_finding(
                    ctx, "uninstrumented_hop", "info", g_rows, unanswered_failure_words(str(caller), str(cal), len(g_rows)),
                    f"Look at why {cal} was unreachable from {caller} at the time (exception events of these spans).",
                    subject=f"{caller} → {cal}"))
                continue
            check = "uninstrumented_hop"
            if cal in known:
                # the callee is instrumented (it reports spans elsewhere): here the context was lost, or a span
                # between them (its orphans name it as their parent)
                sev = "warning"
                why, todo, dropped = _unanswered_why(caller, cal, len(answerable), tree.trace[answerable], tops_of.get(cal),
                                                     (start_ns, end_ns, answerable))
                check = "dropped_context" if dropped else "missing_span_on_hop"
            else:
                sev = "info"
                why = uninstrumented_words(str(caller), str(cal), len(answerable))
                todo = f"Instrument {cal} if it is yours; otherwise its time is a black box inside {caller}'s client spans."
            rows.append(_finding(ctx, check, sev, answerable, why, todo, subject=f"{caller} → {cal}"))
    return rows


def unanswered_failure_words(caller: str, callee: str, n_calls: int) -> str:
    """The explanation of an ``uninstrumented_hop`` row whose calls all failed before any response.

    >>> unanswered_failure_words("web", "db", 2)[:37]
    "web's 2 calls to db failed before any"
    """
    return (f"{caller}'s {plural(n_calls, 'call')} to {callee} failed before any response (no status: connection refused, "
            f"unavailable or timed out): nothing could answer {'it' if n_calls == 1 else 'them'}, so no trace context was lost "
            "here.")


def uninstrumented_words(caller: str, callee: str, n_calls: int) -> str:
    """The explanation of an ``uninstrumented_hop`` row: a callee that reports no spans.

    >>> uninstrumented_words("web", "card-network", 3)[:40]
    'web calls card-network (3 client spans) '
    """
    return (f"{caller} calls {callee} ({plural(n_calls, 'client span')}) and nothing answers below {'it' if n_calls == 1 else 'them'}: {callee} reports no "
            "spans (not instrumented, a third party, or its spans are in data not loaded).")


def _unanswered_head(caller: str, cal: str, n_calls: int) -> str:
    return (f"{caller} calls {cal} ({plural(n_calls, 'client span')}) but no {cal} server span answers below them, although "
            f"{cal} is instrumented")


def _dropped_on_hop(caller: str, cal: str) -> str:
    return f"the trace context was dropped on this hop (by {caller}, a proxy between them, or {cal} not extracting it)."


def unanswered_instrumented_words(caller: str, callee: str, n_calls: int, dropped: bool) -> str:
    """The explanation of a ``dropped_context`` (``dropped``) or ``missing_span_on_hop`` row where the callee's spans
    are not counted: partitions added up by :func:`combine_findings` (each counted the callee's roots and orphans it
    holds, and a partition whose calls are answered in another said the callee had no roots).

    >>> unanswered_instrumented_words("gw", "web", 4, True)[:30]
    'gw calls web (4 client spans) '
    """
    head = _unanswered_head(caller, callee, n_calls)
    if dropped:
        return (f"{head}: {_dropped_on_hop(caller, callee)} Where {callee}'s root spans start traces of their own, "
                "tk.reconnect(spans) proposes which new trace answers each of these calls.")
    return (f"{head}. {callee} spans in these same traces are orphans: they name a parent span that is not in the data "
            "(the trace context got through; a span between them was not exported or not sampled); tk.reconnect(spans) "
            "lists the missing parent each names (case missing_parent).")


def _roots_during_calls(roots: np.ndarray, calls: np.ndarray, start: np.ndarray, end: np.ndarray,
                        tol: int = TOLERANCE_NS) -> int:
    """How many of the spans ``roots`` run inside one of the spans ``calls`` (each end within ``tol`` ns: the
    dropped-context pairs' window, :mod:`tracekit.core.dropped_context`), in O((roots + calls) log calls)."""
    if not len(roots) or not len(calls):
        return 0
    o = np.argsort(start[calls], kind="stable")
    cs = start[calls][o]
    ce = np.maximum.accumulate(end[calls][o])  # the latest end among the calls started so far
    k = np.searchsorted(cs, start[roots] + tol, side="right")  # the calls that start by the root's start
    ok = k > 0
    ok[ok] = ce[k[ok] - 1] >= end[roots][ok] - tol
    return int(ok.sum())


def _unanswered_why(caller: str, cal: str, n_calls: int, call_traces: np.ndarray,
                    tops: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                    times: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[str, str, bool]:
    """Explanation, advice and whether the context was dropped, for calls of ``caller`` to an instrumented ``cal``
    that nothing answers.

    Only the callee's root spans start traces of their own; its orphans in the callers' traces got the
    context (same trace id) but name a parent span that is missing, so there the context was not
    dropped: a span between them was not exported or not sampled. Counts are the callee's spans; the roots said to
    start traces of their own are those that run during one of these calls (``times``: start and end ns of every
    span, and the calls' positions) — the callee's own requests at other times are said apart (5 calls read "105
    frontend root spans start traces of their own", 100 of them frontend's own requests).
    """
    empty = np.zeros(0, dtype=np.int64)
    t, orph, rows = tops if tops is not None else (empty, np.zeros(0, dtype=bool), empty)
    same = np.isin(t, call_traces)
    n_new = int((~orph & ~same).sum())  # roots in other traces: traces of their own
    n_orph = int((orph & same).sum())  # orphans in the callers' traces
    n_during = (n_new if times is None else
                _roots_during_calls(rows[~orph & ~same], times[2], times[0], times[1]))
    head = _unanswered_head(caller, cal, n_calls)
    forward = (f"Make {caller} (or the proxy in between) forward the traceparent / X-Amzn-Trace-Id header to {cal}, "
               f"and check that {cal} extracts it.")
    orphans = ((f"{n_orph} {cal} spans in these same traces are orphans: they name a parent span" if n_orph != 1 else
                f"1 {cal} span in these same traces is an orphan: it names a parent span") + " that is not in the data "
               "(the trace context got through; a span between them was not exported or not sampled); "
               "tk.reconnect(spans) lists the missing parent each names (case missing_parent).")
    if n_orph and not n_new:
        why = f"{head}. " + orphans
        todo = (f"Find which service or proxy between {caller} and {cal} reports the missing parent spans and export "
                "(or sample) its spans.")
        return why, todo, False
    dropped = f"{head}: {_dropped_on_hop(caller, cal)} "
    n_other = n_new - n_during
    others = (f" ({n_other:,} more {cal} root {'span starts a trace' if n_other == 1 else 'spans start traces'} at "
              "other times: requests of its own, not answers to these calls.)" if n_other else "")
    if n_during:
        where = ((f"{n_during:,} {cal} root spans start traces of their own during these calls" if n_during != 1 else
                  f"1 {cal} root span starts a trace of its own during one of these calls")
                 + ": tk.reconnect(spans) proposes which new trace answers each of these calls." + others
                 + (" " + orphans if n_orph else ""))
    elif n_new:
        where = ((f"{n_new:,} {cal} root spans start traces of their own, none during these calls" if n_new != 1 else
                  f"1 {cal} root span starts a trace of its own, not during these calls")
                 + ": requests of its own; its answers to these calls are not loaded, or were not sampled."
                 + (" " + orphans if n_orph else ""))
    else:
        where = (f"{cal} has no root spans {'outside these traces' if (~orph).any() else 'in the data'}: its answers to these "
                 "calls are not loaded, or were not sampled.")
    return dropped + where, forward, True


def child_outside_parent_words(n_spans: int, parent_service: str, child_service: str, n_early: int | None = None) -> str:
    """The explanation of a ``child_outside_parent`` row (one text for one frame and :func:`combine_findings`);
    ``n_early``: how many of the ``n_spans`` start before their parent (the others start inside it and end after
    it), said apart where the two have different causes: a clock or work recorded early, against work that ran on
    after its parent (within a service) or a call its caller did not wait for (across services).

    >>> child_outside_parent_words(8, "web", "db")[:46]
    '8 db spans start before or end after their web'
    >>> print(child_outside_parent_words(8, "web", "db", 6).split(": ", 1)[1])
    6 start before it (the two hosts' clocks disagree: clock skew suspects); 2 end after it (a call its caller did not wait for, as fire-and-forget, or the two hosts' clocks disagree).
    >>> w = child_outside_parent_words(3, "fn", "fn", 1)
    >>> "1 starts before it (work recorded before the parent began" in w, "2 end after it (work continues" in w
    (True, True)
    """
    if parent_service != child_service and n_early is None:  # (not known)
        return (f"{n_spans:,} {child_service} spans start before or end after their {parent_service} parent: the two "
                "hosts' clocks disagree (clock skew suspects).")
    if parent_service != child_service:
        # only a child starting before its parent is the clocks' for sure: one that ends after it may be a call its
        # caller did not wait for (a right host answering fire-and-forget calls read "the two hosts' clocks disagree")
        head = f"{n_spans:,} {child_service} spans start before or end after their {parent_service} parent"
        parts = []
        if n_early:
            parts.append(f"{n_early:,} {'starts' if n_early == 1 else 'start'} before it (the two hosts' clocks "
                         "disagree: clock skew suspects)")
        if n_spans - n_early:
            n_late = n_spans - n_early
            parts.append(f"{n_late:,} {'ends' if n_late == 1 else 'end'} after it (a call its caller did not wait for, "
                         "as fire-and-forget, or the two hosts' clocks disagree)")
        return head + ": " + "; ".join(parts) + "."
    head = f"{n_spans:,} {child_service} spans start before or end after their {parent_service} parent within the same service"
    if n_early is None:  # (not known)
        return (head + ": work continues after the parent returned (fire-and-forget), work was recorded before it "
                "began, or clocks of two hosts of the service differ.")
    parts = []
    if n_early:
        parts.append(f"{n_early:,} {'starts' if n_early == 1 else 'start'} before it (work recorded before the parent "
                     "began, as X-Ray's Lambda Initialization subsegment, or clocks of two hosts of the service differ)")
    if n_spans - n_early:
        n_late = n_spans - n_early
        parts.append(f"{n_late:,} {'ends' if n_late == 1 else 'end'} after it (work continues after the parent "
                     "returned: fire-and-forget, or clocks differ)")
    return head + ": " + "; ".join(parts) + "."


#: how many spans of a ``child_outside_parent`` explanation start before their parent (:func:`combine_findings`)
_EARLY_WORDS = re.compile(r": ([\d,]+) starts? before it")


def check_child_outside_parent(ctx: HealthContext) -> pd.DataFrame:
    """Children that start before their parent or end after it, one row per parent service → child service. A later
    copy of a span exported twice is left out (the kernel tree's rule: it is that span, and its parent link is the
    first copy's; a trace exported again 30 min later read "2 db spans … the two hosts' clocks disagree")."""
    spans, tree = ctx.spans, ctx.tree
    tol = int(ctx.opt("skew_tolerance_ms", 0.0) * 1e6)
    child = np.flatnonzero((tree.parent >= 0) & ~tree.duplicate)
    if not len(child):
        return _rows(ctx, [])
    p = tree.parent[child]
    start, end = ns(spans["start"]), ns(spans["end"])
    end_na = spans["end"].isna().to_numpy()
    kind = spans["kind"].to_numpy(dtype=object, na_value="unspecified")
    early = start[child] < start[p] - tol
    late = ~end_na[child] & ~end_na[p] & (end[child] > end[p] + tol)
    # what may outlive its parent — a consumer, a child of an async hand-off (producer spans, messaging spans, SQS
    # SendMessage, …), the answer to a caller that gave up (failed: a client timeout, on agreeing clocks) — cannot
    # start before it: starting early is the clock's, whoever the child
    outlives = late & ~early & (kind[child] != "consumer")
    idx = np.flatnonzero(outlives)
    outlives[idx[is_async_handoff(spans, p[idx])]] = False
    pf = failed(spans) | ((spans["status"].to_numpy(dtype=object, na_value="") == "error") if "status" in spans else False)
    outlives &= ~pf[p]
    bad = early | outlives
    svc = spans["service"].to_numpy(dtype=object)
    rows = []
    if bad.any():
        b = child[bad]
        df = pd.DataFrame({"row": b, "ps": svc[p[bad]], "cs": svc[b], "early": early[bad]})
        for (ps, cs), g in df.groupby(["ps", "cs"], sort=True):
            mask = np.zeros(len(spans), dtype=bool)
            mask[g["row"].to_numpy()] = True
            cross = ps != cs
            rows.append(_finding(
                ctx, "child_outside_parent", "warning" if cross else "info", mask,
                child_outside_parent_words(len(g), str(ps), str(cs), int(g["early"].sum())),
                "Estimate the offset with tk.detect_clock_skew and correct it with tk.adjust_clock_skew before reading waterfalls or critical paths."
                if cross else "Check for asynchronous work started without a producer/consumer span kind.",
                subject=f"{ps} → {cs}",
            ))
    return _rows(ctx, rows)


def inferred_segments_words(top: str | None) -> str:
    """The explanation of the ``inferred_segments`` row; ``top`` as :func:`orphan_spans_words`'."""
    return ("Segments inferred by X-Ray for downstream AWS calls" + (f" ({top})" if top else "")
            + ": they repeat the calling subsegment's interval.")


def check_inferred_segments(ctx: HealthContext) -> pd.DataFrame:
    mask = bool_column(ctx.spans, "inferred")
    svc = ctx.spans["service"].to_numpy(dtype=object)[mask]
    row = _finding(
        ctx, "inferred_segments", "info", mask, inferred_segments_words(_top(svc)),
        "Nothing to fix. Self time and critical path count the interval once (the calling subsegment gets 0 self time).",
    )
    return _rows(ctx, [row] if row else [])


def check_callee_only_services(ctx: HealthContext) -> pd.DataFrame:
    """Services that only ever appear as the callee of another service, never reporting spans of their own."""
    spans = ctx.spans
    svc = spans["service"].to_numpy(dtype=object)
    inferred = bool_column(spans, "inferred")
    own = set(pd.unique(svc[~inferred]))
    kind = spans["kind"].to_numpy(dtype=object, na_value="unspecified")
    attrs = spans["attributes"].to_numpy(dtype=object) if "attributes" in spans else np.full(len(spans), None)
    rows_by: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(inferred):
        if svc[i] not in own:
            rows_by[svc[i]].append(i)
    client = np.flatnonzero(kind == "client")
    peer = [d.get("peer.service") if isinstance(d, dict) else None for d in attrs[client]]
    for i, v in zip(client.tolist(), peer, strict=True):
        if v is None:
            continue
        name = v if type(v) is str else safe_str(v)  # an array or map value (OTLP allows them) by its text, unhashed
        if name and name not in own:
            rows_by[name].append(i)
    rows = []
    for name in sorted(rows_by):
        rows.append(_finding(
            ctx, "callee_only_services", "info", np.unique(np.asarray(rows_by[name], dtype=np.int64)),
            f"{name} is seen only as a callee (peer.service of client spans, or X-Ray inferred segments); it reports no spans of its own, so its internal time is a black box.",
            f"Expected for managed services and databases; otherwise instrument {name}.",
            subject=name,
        ))
    return _rows(ctx, rows)


def _text_containers(vals: np.ndarray) -> np.ndarray:
    """Containers (lists, dicts, numpy arrays, …) are compared by their text; other values as they are."""
    types = pd.Series(np.fromiter(map(type, vals), dtype=object, count=len(vals)), dtype=object)
    cont = types.isin([list, dict, tuple, set]).to_numpy()  # hash lookups, no Python loop
    arr = (types == np.ndarray).to_numpy()  # unhashable; numpy's repr elides long arrays ("[0 1 ... 999]"): as a list
    if cont.any() or arr.any():
        vals = vals.copy()
        vals[cont] = np.fromiter(map(safe_repr, vals[cont]), dtype=object, count=int(cont.sum()))
        vals[arr] = np.fromiter((safe_repr(v.tolist()) for v in vals[arr]), dtype=object, count=int(arr.sum()))
    return vals


def _distinct_per_key(ds: list[dict]) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """(keys, distinct values per key, spans per key), flattening pairs with C-level iteration."""
    lens = np.fromiter(map(len, ds), dtype=np.int64, count=len(ds))
    total = int(lens.sum())
    keys = np.fromiter(chain.from_iterable(map(dict.keys, ds)), dtype=object, count=total)
    vals = _text_containers(np.fromiter(chain.from_iterable(map(dict.values, ds)), dtype=object, count=total))
    kc, ku = pd.factorize(keys)
    vc, vu = pd.factorize(vals)
    kc = np.asarray(kc, dtype=np.int64)
    pairs = np.unique(kc * (len(vu) + 1) + np.asarray(vc, dtype=np.int64) + 1)  # missing values (code -1) count as one value
    return pd.Index(ku), np.bincount(pairs // (len(vu) + 1), minlength=len(ku)), np.bincount(kc, minlength=len(ku))


def _key_positions(ds: list[dict], keys: Iterable) -> dict:
    """Per key of ``keys``: the positions (ascending) of the dicts of ``ds`` that hold it, in one pass over ``ds``."""
    keyset = frozenset(keys)
    out: dict = {k: [] for k in keyset}
    if not keyset:
        return out
    for i, d in enumerate(ds):
        if not keyset.isdisjoint(d):
            for k in keyset.intersection(d):
                out[k].append(i)
    return out


def high_cardinality_words(key, n_distinct: int, n_with_key: int, n_spans: int | None, *, at_least: bool = False) -> str:
    """The explanation of a ``high_cardinality_attribute`` row; ``n_spans`` None: the share of spans is not said;
    ``at_least``: ``n_distinct`` is a lower bound (:func:`combine_findings`: the most any one partition saw).

    >>> high_cardinality_words("user.id", 300, 300, 1200)[:60]
    "Attribute 'user.id' has 300 distinct values over 300 spans ("
    """
    share = f" ({percent(n_with_key / n_spans)} of {n_spans:,} spans)" if n_spans else ""
    return (f"Attribute {key!r} has {'at least ' if at_least else ''}{n_distinct:,} distinct values"
            + (" (the most one partition holds)" if at_least else "") + f" over {n_with_key:,} spans{share}: too many "
            "to group or chart by, and a cost driver if turned into a metric dimension.")


#: the what_to_do of a ``high_cardinality_attribute`` row (one text for one frame and tk.dask)
HIGH_CARDINALITY_ATTRIBUTE_TODO = ("Don't group by it or use it as a metric label; if it holds ids or user data, "
                                   "consider tk.redact before sharing.")


def _key_dicts(spans: pd.DataFrame, duplicate: np.ndarray) -> list[dict]:
    """The attribute dicts ``high_cardinality_attribute`` counts: a span exported twice is one span (kernel tree), its
    other copies carry no key, so a copy neither lowers a key's distinct values per span (every span given twice
    halved it: a key at 0.6 read 0.3) nor counts twice."""
    return [d if isinstance(d, dict) and not copy else {} for d, copy in zip(spans["attributes"], duplicate, strict=True)]


def attribute_cardinality(spans: pd.DataFrame) -> pd.DataFrame:
    """Per attribute key: the spans carrying it and its distinct values, as ``high_cardinality_attribute`` counts them
    (one row per key, columns ``key``, ``spans``, ``distinct``; a missing value is one value, containers compared by
    their text, a span exported twice counted once).

    Over partitions that keep traces whole ``spans`` adds up exactly and ``distinct`` to an upper bound of the
    whole's (a value seen in two partitions counted twice): the screen of tk.dask's exact count
    (:func:`attribute_values`).

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["api"] * 3, "name": ["x"] * 3, "start": [0, 1, 2], "end": [3, 3, 3],
    ...     "attributes": [{"u": 1}, {"u": 2}, {"u": 1, "v": None}]})
    >>> attribute_cardinality(spans).to_dict("records")
    [{'key': 'u', 'spans': 3, 'distinct': 2}, {'key': 'v', 'spans': 1, 'distinct': 1}]
    """
    if "attributes" not in spans or not len(spans):
        return pd.DataFrame({"key": pd.Series([], dtype=object), "spans": pd.Series([], dtype=np.int64),
                             "distinct": pd.Series([], dtype=np.int64)})
    ku, distinct, counts = _distinct_per_key(_key_dicts(spans, span_tree(spans).duplicate))
    return pd.DataFrame({"key": pd.Series(list(ku), dtype=object), "spans": counts.astype(np.int64),
                         "distinct": distinct.astype(np.int64)})


def attribute_values(spans: pd.DataFrame, keys: Iterable) -> dict:
    """Per key of ``keys`` that ``spans`` holds: ``(values, missing, spans, traces, examples)``: its distinct values
    other than missing ones (as ``high_cardinality_attribute`` compares them: containers by their text), whether
    some span holds a missing value (one more value), the spans and traces carrying it (a span exported twice
    counted once) and :func:`example_ids` of those traces (the smallest :data:`N_EXAMPLES` ids).

    Partitions that keep traces whole add spans and traces up; the distinct values of the whole are the distinct
    values of the partitions' ``values`` put together (tk.dask's exact ``high_cardinality_attribute``).

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["api"] * 3, "name": ["x"] * 3, "start": [0, 1, 2], "end": [3, 3, 3],
    ...     "attributes": [{"u": [1]}, {"u": None}, {"u": [1]}]})
    >>> values, missing, n_spans, n_traces, _ = attribute_values(spans, ["u"])["u"]
    >>> values.tolist(), missing, n_spans, n_traces
    (['[1]'], True, 3, 1)
    """
    if "attributes" not in spans or not len(spans):
        return {}
    ds = _key_dicts(spans, span_tree(spans).duplicate)
    tid = spans["trace_id"].to_numpy(dtype=object)
    out = {}
    for k, pos in _key_positions(ds, keys).items():
        if not pos:
            continue
        vals = _text_containers(np.fromiter((ds[i][k] for i in pos), dtype=object, count=len(pos)))
        codes, uniq = pd.factorize(vals)
        traces = pd.unique(tid[np.asarray(pos, dtype=np.int64)])
        out[k] = (np.asarray(uniq, dtype=object), bool((codes < 0).any()), len(pos), len(traces),
                  example_ids(traces))
    return out


def check_high_cardinality_attribute(ctx: HealthContext) -> pd.DataFrame:
    """Attribute keys with many distinct values (at least ``cardinality_min_distinct``, and at
    least ``cardinality_min_ratio`` distinct values per span carrying the key).

    Above ``cardinality_sample`` spans (default 100,000) candidate keys are screened on a fixed
    random sample of that many spans (sub-sampling only raises a key's distinct/spans ratio,
    so the screen keeps every key the full data would flag, unless a key is nearly absent from
    the sample); every reported number is then counted exactly over all spans.
    """
    min_distinct = ctx.opt("cardinality_min_distinct", 100)
    min_ratio = ctx.opt("cardinality_min_ratio", 0.1)
    limit = ctx.opt("cardinality_sample", 100_000)
    spans = ctx.spans
    if "attributes" not in spans or not len(spans):
        return _rows(ctx, [])
    ds = _key_dicts(spans, ctx.tree.duplicate)
    exact: dict[str, tuple[int, int]] = {}
    if len(ds) <= limit:
        ku, distinct, counts = _distinct_per_key(ds)
        for j in np.flatnonzero((distinct >= min_distinct) & (distinct / np.maximum(counts, 1) >= min_ratio)):
            exact[ku[j]] = (int(distinct[j]), int(counts[j]))
        where = _key_positions(ds, exact)
    else:
        pick = np.sort(np.random.default_rng(0).choice(len(ds), size=limit, replace=False))
        ku, distinct, counts = _distinct_per_key([ds[i] for i in pick])
        # a key on fewer spans than min_distinct cannot hold min_distinct values: counted over all spans at C speed
        # first, so keys that carry an id (one span each: "tag.81723") are no candidates; every candidate then read in
        # one pass over the spans (a pass per candidate key: 20,000 spans of a key each, 29 s; quadratic)
        n_with = Counter(chain.from_iterable(map(dict.keys, ds)))
        cand = [ku[j] for j in np.flatnonzero(distinct / np.maximum(counts, 1) >= min_ratio)
                if n_with[ku[j]] >= min_distinct]
        where = _key_positions(ds, cand)
        for k in cand:
            pos = where[k]
            vals = _text_containers(np.fromiter((ds[i][k] for i in pos), dtype=object, count=len(pos)))
            n = len(pd.unique(vals))
            c = len(pos)
            if n >= min_distinct and n / max(c, 1) >= min_ratio:
                exact[k] = (n, c)
    rows = []
    for k in sorted(exact, key=lambda k: (-exact[k][0], str(k))):
        n, c = exact[k]
        rows.append(_finding(
            ctx, "high_cardinality_attribute", "info", np.asarray(where[k], dtype=np.int64),
            high_cardinality_words(k, n, c, span_count(spans)), HIGH_CARDINALITY_ATTRIBUTE_TODO,
            subject=str(k), value=float(n),
        ))
    return _rows(ctx, rows)


#: distinct span names one name pattern (the name with its ids masked: :func:`tracekit.core.templates.text_templates`,
#: log_templates' rule) needs in one service for ``high_cardinality_span_name`` to report it
SPAN_NAME_MIN_DISTINCT = 10
#: name patterns, and names of each, quoted in a ``high_cardinality_span_name`` explanation
_NAME_EXAMPLES = 2


def span_name_counts(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct (service, span name), in the order they first appear: ``service``, ``name``, ``spans``
    (how many), ``pattern`` (the name with its ids masked, :func:`tracekit.core.templates.text_templates`). Rows of
    a missing service or name are left out. Counts of partitions that keep traces whole add up (summed by service and
    name, first appearance kept), so :func:`tracekit.dask.health_report` rebuilds the whole's from them.

    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["api"] * 3, "name": ["GET /u/1", "GET /u/22", "GET /u/1"], "start": [0] * 3, "end": [1] * 3})
    >>> span_name_counts(s).values.tolist()
    [['api', 'GET /u/1', 2, 'GET /u/<*>'], ['api', 'GET /u/22', 1, 'GET /u/<*>']]
    """
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    name = spans["name"].to_numpy(dtype=object, na_value=None)
    keep = np.fromiter((a is not None and b is not None for a, b in zip(svc, name, strict=True)), dtype=bool,
                       count=len(svc))
    df = pd.DataFrame({"service": svc[keep], "name": name[keep]}, dtype=object)
    counts = df.groupby(["service", "name"], sort=False).size().rename("spans").reset_index()
    counts = counts.astype({"service": object, "name": object, "spans": "int64"})
    counts["pattern"] = text_templates(counts["name"].to_numpy(dtype=object))
    return counts


def id_named_spans(counts: pd.DataFrame, min_distinct: int = SPAN_NAME_MIN_DISTINCT) -> pd.DataFrame:
    """The rows of :func:`span_name_counts` whose name differs from at least ``min_distinct - 1`` other names of its
    service only by an id (its pattern holds ``min_distinct`` or more distinct names of the service), with
    ``n_names`` (distinct names of the service) and ``n_pattern`` (distinct names of the pattern).

    >>> import tracekit as tk
    >>> c = pd.DataFrame({"service": ["a"] * 3, "name": ["x1", "x2", "y"], "spans": [1, 1, 1],
    ...                   "pattern": ["<*>", "<*>", "y"]})
    >>> id_named_spans(c, 2)[["name", "n_names", "n_pattern"]].values.tolist()
    [['x1', 3, 2], ['x2', 3, 2]]
    """
    c = counts.copy()
    c["n_names"] = c.groupby("service", sort=False)["name"].transform("size").astype("int64")
    c["n_pattern"] = c.groupby(["service", "pattern"], sort=False)["name"].transform("size").astype("int64")
    return c[c["n_pattern"] >= min_distinct].reset_index(drop=True)


def high_cardinality_span_name_words(service: str, id_named: pd.DataFrame, min_distinct: int) -> str:
    """The explanation of a ``high_cardinality_span_name`` row, from ``service``'s rows of :func:`id_named_spans`
    (one text for one frame and :func:`tracekit.dask.health_report`): the names of the patterns with most names,
    those with most spans first.

    >>> c = pd.DataFrame({"service": ["a"] * 3, "name": ["GET /u/1", "GET /u/2", "ping"], "spans": [4, 1, 9]})
    >>> c["pattern"] = ["GET /u/<*>", "GET /u/<*>", "ping"]
    >>> high_cardinality_span_name_words("a", id_named_spans(c, 2), 2)[:83]
    '3 distinct span names in service a, 2 of which differ only by an id (1 name pattern'
    """
    n_names = int(id_named["n_names"].iloc[0])
    # quoted: the names with most spans (then by text), whatever order the rows came in (partitions added up)
    id_named = id_named.sort_values(["spans", "name"], ascending=[False, True], kind="stable")
    pats = (id_named.groupby("pattern", sort=False)
            .agg(n=("name", "size"), names=("name", lambda x: list(x[:_NAME_EXAMPLES]))).reset_index())
    pats = pats.sort_values(["n", "pattern"], ascending=[False, True], kind="stable")
    eg = "; ".join(f"{', '.join(repr(safe_str(x)) for x in r.names)}, … → {safe_str(r.pattern)!r} ({r.n:,} names)"
                   for r in pats.head(_NAME_EXAMPLES).itertuples())
    k = len(pats)
    return (f"{n_names:,} distinct span names in service {service}, {len(id_named):,} of which differ only by an id "
            f"({k:,} name pattern{'s' if k != 1 else ''} of at least {min_distinct:,} names each); e.g. {eg}. Every "
            "analysis that groups by name or operation sees each of them as an operation of its own.")


HIGH_CARDINALITY_SPAN_NAME_TODO = ("Name spans by their route or template (GET /users/{id}) and put the id in an "
                                   "attribute; meanwhile group by tk.routes(spans) or the masked name.")


def check_high_cardinality_span_name(ctx: HealthContext) -> pd.DataFrame:
    """Services whose span names carry ids (``GET /users/81723``, ``order-3f2a…``): at least
    :data:`SPAN_NAME_MIN_DISTINCT` distinct names that differ only by an id (:func:`id_named_spans`); one row per
    service (``warning``): the spans so named, their traces, ``value`` the number of such names."""
    spans = ctx.spans
    if not len(spans):
        return _rows(ctx, [])
    counts = ctx.cache.get("span_name_counts")
    if counts is None:
        counts = ctx.cache["span_name_counts"] = span_name_counts(spans)
    hits = id_named_spans(counts)
    if not len(hits):
        return _rows(ctx, [])
    pair = pd.MultiIndex.from_arrays([spans["service"].to_numpy(dtype=object, na_value=None),
                                      spans["name"].to_numpy(dtype=object, na_value=None)])
    flagged = pair.isin(pd.MultiIndex.from_arrays([hits["service"].to_numpy(dtype=object),
                                                   hits["name"].to_numpy(dtype=object)]))
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    rows = []
    for service, g in hits.groupby("service", sort=True):
        row = _finding(
            ctx, "high_cardinality_span_name", "warning", flagged & (svc == service),
            high_cardinality_span_name_words(str(service), g, SPAN_NAME_MIN_DISTINCT), HIGH_CARDINALITY_SPAN_NAME_TODO,
            subject=str(service), value=float(len(g)),
        )
        rows.append(row)
    return _rows(ctx, rows)


# ------------------------------------------------------------------------------- seed metrics


def trace_completeness_words(n_incomplete: int, n_traces: int) -> str:
    """The explanation of the ``trace_completeness`` row (one text for one frame and :func:`combine_findings`).

    >>> trace_completeness_words(1, 4)[:45]
    '75.0% of 4 traces are complete (3 of 4): exac'
    """
    n_complete = n_traces - n_incomplete
    return (f"{percent(n_complete / n_traces, 1)} of {plural(n_traces, 'trace')} {'is' if n_traces == 1 else 'are'} "
            f"complete ({n_complete:,} of {n_traces:,}): exactly "
            "one root, no missing parents, no parent cycles, no duplicate ids, nothing in progress or truncated. The "
            "incomplete ones (counted here) are listed by the checks above.")


def metric_trace_completeness(ctx: HealthContext) -> pd.DataFrame:
    if not ctx.n_traces:
        return _rows(ctx, [])
    s = ctx.summary
    bad = s["partial"].to_numpy() | (s["n_duplicate_ids"].to_numpy() > 0)
    bad[_truncated_trace_codes(ctx)] = True
    complete = float((~bad).mean())
    row = _finding(
        ctx, "trace_completeness", "info", np.zeros(len(ctx.spans), bool),
        trace_completeness_words(int(bad.sum()), ctx.n_traces),
        "Read analyses of incomplete traces with care, or filter on tk.trace_summary(spans)['partial'].",
        trace_codes=np.flatnonzero(bad), value=complete, always=True,
    )
    return _rows(ctx, [row])


def failed_request_words(ratio: float, n_requests: int, n_failed: int, n_traces: int, n_unknown: int = 0) -> str:
    """The explanation of the ``failed_request_ratio`` row (one text for one frame and :func:`combine_findings`):
    ``ratio`` NaN with requests: no span records a status (or every request is in progress); with none
    (``n_requests`` 0): no trace is a request. ``n_unknown`` of the ``n_requests`` are in progress with no outcome
    yet (core.unknown_outcomes): the ratio is over the others, and the words say so.

    >>> failed_request_words(0.25, 4, 1, 5)[:26]
    '25.0% of 4 requests failed'
    >>> failed_request_words(0.25, 5, 1, 5, n_unknown=1)[:48]
    '25.0% of 4 requests with a known outcome failed '
    """
    if n_requests and n_unknown >= n_requests and n_unknown and np.isnan(ratio):
        return (f"Failed share of {plural(n_requests, 'request')} unknown: "
                f"{'it is' if n_requests == 1 else 'all are'} still in progress (no outcome yet).")
    if n_requests and np.isnan(ratio):
        return f"Failed share of {plural(n_requests, 'request')} unknown: {NO_STATUS_WORDS}."
    if not n_requests:  # a share of none is no number ("nan% of 0 requests failed" said it was)
        which = "the trace is not" if n_traces == 1 else f"none of the {n_traces:,} traces is"
        return (f"Failed share of requests unknown: {which} a request (no root, asynchronous work, or the callee's half "
                "of a request whose trace context was dropped).")
    n_other = n_traces - n_requests
    n_known = n_requests - n_unknown
    over = f"{plural(n_known, 'request')} with a known outcome" if n_unknown else plural(n_requests, 'request')
    # the failed traces' share of all traces only when it differs from the ratio (other traces or unknown outcomes):
    # ": 0 traces, 0.0% of all 1 trace (share)" repeated the ratio in other words
    of_all = (f": the {plural(n_failed, 'failed trace')} {'is' if n_failed == 1 else 'are'} "
              f"{percent(n_failed / n_traces, 1)} of all {plural(n_traces, 'trace')}" if n_traces != n_known else "")
    return (f"{percent(ratio, 1)} of {over} failed (their root span: {FAILED_WORDS}){of_all}"
            + (f"; {plural(n_unknown, 'request')} still in progress (outcome unknown, neither failed nor ok) "
               f"{'is' if n_unknown == 1 else 'are'} left out" if n_unknown else "")
            + (f"; {plural(n_other, 'trace')} {'is not a request' if n_other == 1 else 'are not requests'} (no root, "
               "asynchronous work, or the callee's half of "
               "a request whose trace context was dropped)" if n_traces > n_requests else "") + ".")


def metric_failed_request_ratio(ctx: HealthContext) -> pd.DataFrame:
    if not ctx.n_traces:
        return _rows(ctx, [])
    s = ctx.summary
    ratio, n_req = failed_share(s)  # one population: requests (core.outcomes), not rootless or async traces
    bad = s["failed"].to_numpy(dtype=bool, na_value=False) & s["request"].to_numpy(dtype=bool)  # known failed
    if not ctx.status_recorded:  # nothing could be recorded as failed: the ratio is unknown, not 0
        row = _finding(
            ctx, "failed_request_ratio", "info", np.zeros(len(ctx.spans), bool),
            failed_request_words(np.nan, n_req, 0, ctx.n_traces),
            "Export span status (or HTTP status codes) to count failures; meanwhile look for errors in the logs.",
            trace_codes=np.zeros(0, np.int64), value=np.nan, always=True,
        )
        row["share"] = np.nan  # the failed traces' share: unknown too
        return _rows(ctx, [row])
    if not n_req:  # no trace is a request: a share of none is no number ("nan% of 0 requests failed" said it was)
        row = _finding(
            ctx, "failed_request_ratio", "info", np.zeros(len(ctx.spans), bool),
            failed_request_words(np.nan, 0, 0, ctx.n_traces),
            "Export the requests' root spans (or read the files that hold them) to count failed requests; "
            "span_error_rate still counts the spans that failed.",
            trace_codes=np.zeros(0, np.int64), value=np.nan, always=True,
        )
        row["share"] = np.nan
        return _rows(ctx, [row])
    row = _finding(
        ctx, "failed_request_ratio", "info", np.zeros(len(ctx.spans), bool),
        failed_request_words(ratio, n_req, int(bad.sum()), ctx.n_traces, unknown_outcomes(s)),
        "Break it down with span_error_rate: the service whose own spans fail most is where to start.",
        trace_codes=np.flatnonzero(bad), value=ratio, always=True,
    )
    return _rows(ctx, [row])


def metric_span_error_rate(ctx: HealthContext) -> pd.DataFrame:
    spans = ctx.spans
    if not len(spans):
        return _rows(ctx, [])
    err = failed(spans)
    # a span still in progress with no outcome yet is neither failed nor ok: left out of the rate, said in the words
    # (core.outcome_unknown; 2 failed, 5 ok and 3 in progress read 20 %, not 2 of 7)
    unknown = outcome_unknown(spans)
    svc = spans["service"].to_numpy(dtype=object)
    # another copy of a span exported twice is that span: counted once, as trace_outcomes' failed_spans counts it
    # (an orphan exported twice read "db's 2 spans")
    one = np.flatnonzero(~ctx.tree.duplicate)
    df = pd.DataFrame({"svc": svc[one], "err": err[one], "unknown": unknown[one], "row": one})
    known = ctx.status_recorded
    rows = []
    for name, g in df.groupby("svc", sort=True):
        e = g["err"].to_numpy()
        n_unknown = int(g["unknown"].sum())
        n_known = len(g) - n_unknown
        # no span records a status, or every span of the service is in progress: unknown, not 0
        rate = float(e.sum() / n_known) if known and n_known else np.nan
        mask = np.zeros(len(spans), dtype=bool)
        mask[g["row"].to_numpy()[e]] = True
        row = _finding(
            ctx, "span_error_rate", "info", mask,
            span_error_rate_words(str(name), len(g), rate, n_unknown if known else 0),
            "Start with the service whose own spans fail most (not the root that reports its failure).",
            subject=str(name), value=rate, always=True,
        )
        if not known:
            row["share"] = np.nan  # the share of traces with a failed span of it: unknown too
        rows.append(row)
    return _rows(ctx, rows)


#: why an error rate is unknown (core.status_recorded False)
NO_STATUS_WORDS = ("no span records a status or an HTTP code, so failures cannot be counted (unknown, not 0)")


def span_error_rate_words(service: str, n_spans: int, rate: float, n_unknown: int = 0) -> str:
    """The explanation of a ``span_error_rate`` row (one text for pandas and Dask); NaN ``rate``: unknown.
    ``n_unknown`` of the ``n_spans`` are still in progress with no outcome yet (core.outcome_unknown): the rate is
    over the others, and the words say how many were left out.

    >>> span_error_rate_words("db", 10, float("nan"))[:27]
    "db's 10 spans: error rate u"
    >>> span_error_rate_words("db", 10, 2 / 7, 3)[:50]
    "28.6% of db's 7 spans with a known outcome failed "
    """
    if np.isnan(rate) and n_unknown and n_unknown >= n_spans:
        return (f"{service}'s {plural(n_spans, 'span')}: error rate unknown — "
                f"{'it is' if n_spans == 1 else 'all are'} still in progress (no outcome yet).")
    if np.isnan(rate):
        return f"{service}'s {plural(n_spans, 'span')}: error rate unknown — {NO_STATUS_WORDS}."
    over = (f"{service}'s {plural(n_spans - n_unknown, 'span')} with a known outcome" if n_unknown
            else f"{service}'s {plural(n_spans, 'span')}")
    return (f"{percent(rate, 1)} of {over} failed ({FAILED_WORDS})"
            + (f"; {unknown_outcome_words(n_unknown)}" if n_unknown else "") + ".")


def p95_request_latency_words(p95: float, n_requests: int, unweighted: bool = False,
                              weighted_p95: float | None = None) -> str:
    """The explanation of the ``p95_request_latency_ms`` row (one text for pandas and Dask).

    Below 20 requests the p95 (an observed value, core.stats.percentile) is the slowest request itself, and the
    words say that instead of "95% of requests" (one request's "95% of requests take at most 232 ms" said it).
    ``unweighted``: the traces carry sampling weights (:func:`request_weights`), so ``p95`` is of the sampled
    requests as sampled; ``weighted_p95`` (when every request's weight is known: :func:`weighted_p95_of`) is said
    beside it, as the
    estimate for all requests.

    >>> p95_request_latency_words(12.5, 40)[:36]
    '95% of requests take at most 12.5 ms'
    >>> p95_request_latency_words(232.0, 1)
    "The one finished request took 232 ms (request latency: the root span's duration; a p95 needs at least 20)."
    >>> p95_request_latency_words(232.0, 3)[:46]
    'The slowest of 3 finished requests took 232 ms'
    >>> p95_request_latency_words(91.3, 1075, unweighted=True)[:66]  # a weighted sample: said as sampled
    '95% of the sampled requests, as sampled (unweighted), take at most'
    >>> p95_request_latency_words(91.3, 1075, unweighted=True, weighted_p95=196.0).split("; ")[1][:80]
    'weighted by their sampling, an estimated 95% of all requests take at most 196 ms'
    """
    if n_requests < SMALLEST_P95:
        head = ("The one finished request took" if n_requests == 1
                else f"The slowest of {n_requests:,} finished requests took")
        return (f"{head} {ms_text(p95)} (request latency: the root span's duration; a p95 needs at least "
                f"{SMALLEST_P95}).")
    if unweighted:  # sampled-errors: 91.3 ms as sampled, 196 ms weighted; said as what it is, not of all requests
        if weighted_p95 is not None and np.isfinite(weighted_p95):
            return (f"95% of the sampled requests, as sampled (unweighted), take at most {ms_text(p95)} (request "
                    f"latency: the root span's duration, {plural(n_requests, 'finished sampled request')}); weighted "
                    f"by their sampling, an estimated 95% of all requests take at most {ms_text(weighted_p95)} "
                    "(each request counted 1 / its sampling probability, tk.sampling_weights); examples are the "
                    "slowest 5% as sampled.")
        return (f"95% of the sampled requests, as sampled (unweighted), take at most {ms_text(p95)} (request latency: "
                f"the root span's duration, {plural(n_requests, 'finished sampled request')}; the traces carry "
                "sampling weights: tk.weighted_summary corrects for them); examples are the slowest 5%.")
    return (f"95% of requests take at most {ms_text(p95)} (request latency: the root span's duration, "
            f"{plural(n_requests, 'finished request')}); examples are the slowest 5%.")


def trace_weights(spans: pd.DataFrame, trace_ids: Any) -> np.ndarray:
    """The sampling weight of each of ``trace_ids`` (:func:`~tracekit.sampling_weights` of what the data carries,
    computed once per frame), NaN where unknown (or the weights cannot be read)."""
    from .sampling import sampling_weights

    ids = pd.Index(np.asarray(trace_ids, dtype=object))
    try:
        w = sampling_weights(spans)
    except TraceKitError:
        return np.full(len(ids), np.nan)
    by_id = pd.Series(w["weight"].to_numpy(dtype=np.float64), index=w["trace_id"].astype(object))
    return by_id[~by_id.index.duplicated()].reindex(ids).to_numpy(dtype=np.float64)


def request_weights(weights: np.ndarray) -> np.ndarray | None:
    """``weights`` (:func:`trace_weights`) when some known weight differs from 1 (a weighted sample), else None."""
    known = weights[np.isfinite(weights)]
    return weights if len(known) and (known != 1).any() else None


def weighted_p95_of(values: np.ndarray, weights: np.ndarray | None) -> float | None:
    """The p95 of ``values`` weighted by ``weights`` (core.stats.percentile), None when ``weights`` is None or one
    of them is unknown (a weighted estimate from part of the requests would be biased again)."""
    if weights is None or not len(values) or not np.isfinite(weights).all():
        return None
    return float(percentile(values, 0.95, weights=weights))


def metric_p95_trace_latency(ctx: HealthContext) -> pd.DataFrame:
    req = ctx.summary["request_ms"].to_numpy(dtype=np.float64)
    got = ~np.isnan(req)
    d = req[got]
    if not len(d):
        return _rows(ctx, [])
    p95 = float(percentile(d, 0.95))
    codes = np.flatnonzero(req >= p95)
    w = request_weights(trace_weights(ctx.spans, ctx.summary["trace_id"].to_numpy(dtype=object)[got]))
    row = _finding(
        ctx, "p95_request_latency_ms", "info", np.zeros(len(ctx.spans), bool),
        p95_request_latency_words(p95, len(d), w is not None, weighted_p95_of(d, w)),
        "Look at the critical path of the example traces.",
        # slowest first, ties by trace id (not by row order)
        trace_codes=codes[np.lexsort((ctx.tree.trace_ids[codes].astype(str), -req[codes]))], value=p95, ranked=True,
    )
    return _rows(ctx, [row])


def top_call_path_words(n_traces_on_path: int, n_traces: int, path: str) -> str:
    """The explanation of a ``top_call_path`` row (one text for one frame and :func:`combine_findings`).

    >>> top_call_path_words(3, 4, "web → db")
    '3 of 4 traces (75%) follow the service path web → db.'
    """
    return (f"{n_traces_on_path:,} of {n_traces:,} traces ({percent(n_traces_on_path / n_traces)}) follow the service "
            f"path {path}.")


def metric_top_call_path(ctx: HealthContext) -> pd.DataFrame:
    """Most frequent service-level call paths (root service → … → a service that calls no other).

    A path counts once per trace that contains it; ties are ordered by the path's text.
    """
    spans, tree = ctx.spans, ctx.tree
    n = len(spans)
    if not n:
        return _rows(ctx, [])
    top_n = ctx.opt("top_call_paths", 5)
    svc_code, svc_names = pd.factorize(spans["service"], sort=False)
    svc_code = np.asarray(svc_code, dtype=np.int64)
    depth = tree.depth
    parent = tree.parent
    path = np.full(n, -1, dtype=np.int64)
    # service paths interned as (parent path, service) pairs, rendered only when shown: memory stays
    # linear in spans for any depth (a path deeper than MAX_PATH_OPS services is elided in the middle)
    interner = PathInterner(np.array([*map(str, svc_names), "…"], dtype=object), sep=" → ")
    missing = interner.add(np.array([-1]), np.array([len(svc_names)]))[0]  # "…": a missing parent
    order = np.argsort(depth, kind="stable")
    ds = depth[order]
    bounds = np.flatnonzero(np.r_[True, ds[1:] != ds[:-1], True])
    hop_all = np.zeros(n, dtype=bool)
    parent_path = np.full(n, -2, dtype=np.int64)
    for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True):
        if ds[b0] < 0:
            continue  # cycles
        rows = order[b0:b1]
        par = parent[rows]
        has = par >= 0
        pp = np.where(has, path[np.where(has, par, 0)], np.where(tree.orphan[rows], missing, -1))
        hop = ~has | (svc_code[rows] != svc_code[np.where(has, par, 0)])
        r_hop = rows[hop]
        path[r_hop] = interner.add(pp[hop], svc_code[r_hop])
        path[rows[~hop]] = pp[~hop]
        hop_all[r_hop] = True
        parent_path[r_hop] = pp[hop]
    hop_rows = np.flatnonzero(hop_all)
    t = tree.trace[hop_rows]
    pairs = pd.DataFrame({"t": t, "path": path[hop_rows]}).drop_duplicates()
    extended = pd.DataFrame({"t": t, "path": parent_path[hop_rows]}).drop_duplicates()
    m = pairs.merge(extended, on=["t", "path"], how="left", indicator=True)
    terminal = m[m["_merge"] == "left_only"]
    counts = terminal.groupby("path")["t"].agg(["size", list])
    counts["label"] = interner.render(counts.index.to_numpy(dtype=np.int64))
    counts = counts.sort_values(["size", "label"], ascending=[False, True], kind="stable")
    rows = []
    for code, rec in counts.head(top_n).iterrows():
        codes_t = np.asarray(rec["list"])
        mask = np.isin(tree.trace, codes_t) & (path == code)
        row = _finding(
            ctx, "top_call_path", "info", mask,
            top_call_path_words(int(rec["size"]), ctx.n_traces, counts.at[code, "label"]),
            "Compare the most frequent paths with the architecture you expect; rare paths are worth a look.",
            subject=counts.at[code, 'label'], trace_codes=codes_t, value=float(rec["size"]),
        )
        rows.append(row)
    return _rows(ctx, rows)


#: every check, in report order: check id → function(ctx) → finding rows
CHECKS: dict[str, Callable[[HealthContext], pd.DataFrame]] = {
    "duplicate_span_ids": check_duplicate_span_ids,
    "parent_cycles": check_parent_cycles,
    "orphan_spans": check_orphan_spans,
    "no_root": check_no_root,
    "multiple_roots": check_multiple_roots,
    "in_progress_spans": check_in_progress_spans,
    "bad_span_times": check_bad_span_times,
    "bad_http_status": check_bad_http_status,
    "truncated_traces": check_truncated_traces,
    "dropped_data": check_dropped_data,
    "uninstrumented_hop": check_uninstrumented_hop,
    "dropped_context": check_dropped_context,
    "missing_span_on_hop": check_missing_span_on_hop,
    "child_outside_parent": check_child_outside_parent,
    "inferred_segments": check_inferred_segments,
    "callee_only_services": check_callee_only_services,
    "high_cardinality_attribute": check_high_cardinality_attribute,
    "high_cardinality_span_name": check_high_cardinality_span_name,
    "trace_completeness": metric_trace_completeness,
    "failed_request_ratio": metric_failed_request_ratio,
    "span_error_rate": metric_span_error_rate,
    "p95_request_latency_ms": metric_p95_trace_latency,
    "top_call_path": metric_top_call_path,
}


def health_report(
    spans: pd.DataFrame,
    *,
    checks: Iterable[str] | None = None,
    skew_tolerance_ms: float = 0.0,
    include_databases: bool = False,
    cardinality_min_distinct: int = 100,
    cardinality_min_ratio: float = 0.1,
    cardinality_sample: int = 100_000,
    top_call_paths: int = 5,
) -> pd.DataFrame:
    """Run the health checks over all traces; one row per finding (columns :data:`FINDING_COLUMNS`).

    ``checks`` selects check ids (glob patterns allowed, e.g. ``["orphan_*"]``); default all of
    :data:`CHECKS`. A check with nothing to report returns no row; seed metric rows are always
    present when there are spans. Rows are ordered by severity (error, warning, info), then in
    :data:`CHECKS` order. Options: ``skew_tolerance_ms`` (slack before a child counts as
    outside its parent), ``include_databases`` (also flag database and AWS SDK client spans
    with no server span below; those are never instrumented, so off by default),
    ``cardinality_min_distinct`` and ``cardinality_min_ratio`` (distinct values / spans with
    the key) and ``cardinality_sample`` (screening sample size, see
    :func:`check_high_cardinality_attribute`) for ``high_cardinality_attribute``, ``top_call_paths`` (rows of ``top_call_path``).
    The input is not modified.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    checks : Iterable[str] | None, default None
        Check ids to run (glob patterns allowed, e.g. ``["orphan_*"]``; ``None``: every check of :data:`CHECKS`).
    skew_tolerance_ms : float, default 0.0
        Slack before a child counts as outside its parent, in ms.
    include_databases : bool, default False
        Also flag database and AWS SDK client spans with no server span below (never instrumented: off by default).
    cardinality_min_distinct : int, default 100
        Distinct values a key needs to be flagged as high-cardinality.
    cardinality_min_ratio : float, default 0.1
        Distinct values / spans with the key needed to be flagged as high-cardinality.
    cardinality_sample : int, default 100000
        Spans sampled to screen keys for cardinality.
    top_call_paths : int, default 5
        Rows of the ``top_call_path`` finding.

    Returns
    -------
    pandas.DataFrame
        Run the health checks over all traces; one row per finding (columns :data:`FINDING_COLUMNS`).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1"] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "web"], "name": ["GET /", "call"],
    ...     "kind": ["server", "client"], "attributes": [{}, {"peer.service": "inventory"}],
    ...     "start": [0, 1_000_000], "end": [5_000_000, 4_000_000]})
    >>> r = tk.health_report(spans, checks=["uninstrumented_hop"])
    >>> r[["check", "subject", "spans_affected"]].values.tolist()
    [['uninstrumented_hop', 'web → inventory', 1]]
    """
    names, implied = select_checks(checks)
    ctx = health_context(spans, **health_options(
        skew_tolerance_ms=skew_tolerance_ms,
        include_databases=include_databases,
        cardinality_min_distinct=cardinality_min_distinct,
        cardinality_min_ratio=cardinality_min_ratio,
        cardinality_sample=cardinality_sample,
        top_call_paths=top_call_paths,
    ))
    parts = [CHECKS[n](ctx) for n in names]
    parts = [p for p in parts if len(p)]
    if not parts:  # no finding: the columns' types all the same (they were all object, the numbers too)
        return _rows(ctx, []).astype({"check": "str", "severity": "str", "subject": "str", "traces_affected": "int64",
                                      "spans_affected": "int64", "share": "float64", "value": "float64",
                                      "explanation": "str", "what_to_do": "str"})
    out = pd.concat(parts, ignore_index=True)
    warn_split_checks(out, implied, stacklevel=3)
    sev = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    out = out.iloc[np.argsort(sev.to_numpy(), kind="stable")].reset_index(drop=True)
    out["traces_affected"] = out["traces_affected"].astype("int64")
    out["spans_affected"] = out["spans_affected"].astype("int64")
    out["share"] = out["share"].astype("float64")
    out["value"] = out["value"].astype("float64")
    return out


def health_options(func: str = "health_report", **options) -> dict:
    """:func:`health_report`'s options checked (core.args): an :class:`~tracekit.errors.ArgumentError` naming the
    option and the value, where a bad one raised a bare TypeError / ValueError deep inside a check or was quietly
    taken (a negative tolerance flagged children inside their parents, ``top_call_paths=-1`` dropped the last path,
    ``cardinality_sample=0`` screened no key). Options not given are left out.

    >>> health_options(skew_tolerance_ms=1, top_call_paths=3.0)
    {'skew_tolerance_ms': 1.0, 'top_call_paths': 3}
    """
    from ..core.args import count_arg, number_arg
    from ..errors import ArgumentError

    out = dict(options)
    if "skew_tolerance_ms" in out:
        out["skew_tolerance_ms"] = number_arg(out["skew_tolerance_ms"], "skew_tolerance_ms", func, low=0)
    if "include_databases" in out and not isinstance(out["include_databases"], (bool, np.bool_)):
        raise ArgumentError(f"{func}: include_databases must be True or False, got {out['include_databases']!r}")
    if "cardinality_min_distinct" in out:
        out["cardinality_min_distinct"] = count_arg(out["cardinality_min_distinct"], "cardinality_min_distinct", func,
                                                    minimum=1)
    if "cardinality_min_ratio" in out:
        out["cardinality_min_ratio"] = number_arg(out["cardinality_min_ratio"], "cardinality_min_ratio", func,
                                                  low=0, high=1)
    if "cardinality_sample" in out:
        out["cardinality_sample"] = count_arg(out["cardinality_sample"], "cardinality_sample", func, minimum=1)
    if "top_call_paths" in out:
        out["top_call_paths"] = count_arg(out["top_call_paths"], "top_call_paths", func, minimum=0)
    return out


#: checks split from an older one: new id → the id whose rows these were. ``checks=`` naming the old id (or a
#: pattern matching it) and not the new one still runs the new one, so an old selection keeps finding what it found,
#: now under its right name, with a DeprecationWarning when it found something (:func:`select_checks`)
SPLIT_CHECKS = {"dropped_context": "uninstrumented_hop", "missing_span_on_hop": "uninstrumented_hop"}


def select_checks(checks: Iterable[str] | str | None = None) -> tuple[list[str], list[str]]:
    """The check ids ``checks`` selects (ids or glob patterns; ``None``: all of :data:`CHECKS`), in CHECKS order.

    Returns ``(names, implied)``: ``implied`` are the ids of :data:`SPLIT_CHECKS` run only because the id they were
    split from was selected (``checks=["uninstrumented_hop"]`` still reports a dropped trace context, as
    ``dropped_context``, and a span missing between caller and callee, as ``missing_span_on_hop``);
    :func:`warn_split_checks` says so when they found something.

    Parameters
    ----------
    checks : Iterable[str] | str | None
        Check ids or glob patterns.

    Returns
    -------
    tuple[list[str], list[str]]
        The ids to run, and those of them implied by an older id.

    Raises
    ------
    ArgumentError
        A pattern matches no check.

    Examples
    --------
    >>> select_checks(["uninstrumented_hop"])
    (['uninstrumented_hop', 'dropped_context', 'missing_span_on_hop'], ['dropped_context', 'missing_span_on_hop'])
    >>> select_checks(["dropped_*"])
    (['dropped_data', 'dropped_context'], [])
    """
    names = list(CHECKS)
    if checks is None:
        return names, []
    from ..errors import ArgumentError

    try:
        pats = [checks] if isinstance(checks, str) else list(checks)
    except TypeError:
        pats = [checks]
    if not all(isinstance(p, str) for p in pats):
        raise ArgumentError(f"checks must be check ids or glob patterns (strings), got {checks!r}")
    unknown = [p for p in pats if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if unknown:
        raise ArgumentError(f"unknown health check(s) {unknown}; known: {', '.join(names)}")
    chosen = {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in pats)}
    implied = [new for new, old in SPLIT_CHECKS.items() if old in chosen and new not in chosen]
    chosen |= set(implied)
    return [n for n in names if n in chosen], implied


def warn_split_checks(findings: pd.DataFrame, implied: list[str], stacklevel: int = 3) -> None:
    """DeprecationWarning when ``findings`` hold rows of checks run only because their old id was selected
    (``stacklevel`` as :func:`warnings.warn`'s, counted from this function's caller)."""
    import warnings

    found = [c for c in implied if (findings["check"] == c).any()]
    for c in found:
        warnings.warn(f"health_report: check {c!r} was split from {SPLIT_CHECKS[c]!r}, which reported these findings "
                      f"before; selecting {SPLIT_CHECKS[c]!r} still runs {c!r} for now — name {c!r} in checks=",
                      DeprecationWarning, stacklevel=stacklevel)


def _combined_words(check: str, subject: str, g: pd.DataFrame, traces: int, n_spans: int, value: float,
                    n_traces: int, n_requests: int, status_known: bool, n_unknown: int = 0) -> str:
    """The explanation of a row :func:`combine_findings` added up, from the summed counts, where its numbers are
    the row's own (each partition's text counted that partition only: '3 db spans …' on a row of 8); other rows
    keep the first partition's text."""
    if check == "duplicate_span_ids":
        return duplicate_span_ids_words(n_spans)
    if check in ("orphan_spans", "inferred_segments") and len(g) > 1:  # each partition named its own top services
        return (orphan_spans_words if check == "orphan_spans" else inferred_segments_words)(None)
    if check == "dropped_data":
        by_kind: Counter = Counter()
        for text in g["explanation"]:
            for kind, n in _DROPPED_WORDS.findall(str(text)):
                by_kind[kind] += int(n.replace(",", ""))
        return dropped_data_words(by_kind)
    if check == "child_outside_parent":
        ps, _, cs = subject.partition(" → ")
        early = [_EARLY_WORDS.search(str(t)) for t in g["explanation"]]
        n_early = sum(int(m.group(1).replace(",", "")) for m in early if m)
        return child_outside_parent_words(n_spans, ps, cs, n_early)
    if check == "trace_completeness" and n_traces:
        return trace_completeness_words(traces, n_traces)
    if check == "failed_request_ratio" and n_traces:
        if not status_known or not n_requests:
            return failed_request_words(np.nan, n_requests, 0, n_traces)
        return failed_request_words(value, n_requests, traces, n_traces, n_unknown)
    if check == "top_call_path" and n_traces:
        return top_call_path_words(traces, n_traces, subject)
    if check in ("dropped_context", "missing_span_on_hop"):
        caller, _, cal = subject.partition(" → ")  # a partition saw the callee's spans it holds only
        return unanswered_instrumented_words(caller, cal, n_spans, check == "dropped_context")
    if check == "uninstrumented_hop":
        caller, _, cal = subject.partition(" → ")
        failed_first = g["explanation"].str.contains("failed before any response", regex=False).all()
        return (unanswered_failure_words if failed_first else uninstrumented_words)(caller, cal, n_spans)
    if check == "high_cardinality_attribute":  # the spans of the whole are not known here: no share of them
        return high_cardinality_words(subject, int(value), n_spans, None, at_least=len(g) > 1)
    return str(g["explanation"].iloc[0])


#: rows whose numbers cannot be rebuilt from per-partition findings (recompute them on the whole): a rate and a
#: percentile, and span names that differ only by an id (a name pattern may hold few names in each partition and
#: many in all; :func:`tracekit.dask.health_report` adds up :func:`span_name_counts` instead)
NOT_ADDITIVE = ("span_error_rate", "p95_request_latency_ms", "high_cardinality_span_name")


def combine_findings(parts: Iterable[pd.DataFrame], n_traces: int, n_requests: int | None = None, *,
                     status_known: bool = True, n_unknown: int = 0) -> pd.DataFrame:
    """Add up :func:`health_report` results of partitions that keep traces whole.

    Rows with the same (check, severity, subject) are summed (``traces_affected``,
    ``spans_affected``; examples: :func:`example_ids` of the partitions' examples, those of the whole) and ``share`` is recomputed over
    ``n_traces``. ``trace_completeness`` and ``failed_request_ratio`` values are rebuilt from the
    counts, ``top_call_path`` values summed, ``high_cardinality_attribute`` takes the largest
    partition's distinct count (a lower bound of the whole, and no row where no one partition holds
    ``cardinality_min_distinct`` values: count it exactly with :func:`attribute_cardinality` and
    :func:`attribute_values`, as tk.dask.health_report does); :data:`NOT_ADDITIVE` rows
    (``span_error_rate``, ``p95_request_latency_ms``, ``high_cardinality_span_name``) are left out: compute them on
    the whole data. A severity can differ between partitions only for ``uninstrumented_hop``, whose rows
    then stay separate (and a callee reporting spans in one partition only is ``dropped_context`` there). ``n_requests``: the requests of all partitions (core.failed_share's population;
    default ``n_traces``), over which ``failed_request_ratio``'s value is rebuilt. ``status_known``: whether some
    span of any partition records a status (:func:`tracekit.core.status_recorded`); False keeps
    ``failed_request_ratio``'s value NaN (unknown, not 0). When it is True, the explanation is that of the first
    partition that could count failures. ``n_unknown``: the requests among them whose outcome is unknown (in
    progress, :func:`tracekit.core.unknown_outcomes` of each partition that records a status), left out of the
    ratio as :func:`tracekit.core.failed_share` leaves them out.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["0" * 31 + "1", "0" * 31 + "2"], "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": ["f" * 16, None], "service": ["api", "api"], "name": ["x", "y"],
    ...     "start": [0, 0], "end": [1, 1]})
    >>> parts = [tk.health_report(spans.iloc[[0]]), tk.health_report(spans.iloc[[1]])]
    >>> c = combine_findings(parts, n_traces=2)
    >>> c.loc[c["check"] == "trace_completeness", ["traces_affected", "share", "value"]].to_dict("records")
    [{'traces_affected': 1, 'share': 0.5, 'value': 0.5}]
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    df = pd.concat(frames, ignore_index=True)
    df = df[~df["check"].isin(NOT_ADDITIVE)]
    order = {c: i for i, c in enumerate(CHECKS)}
    rows = []
    for (check, sev, subject), g in df.groupby(["check", "severity", "subject"], sort=False):
        traces = int(g["traces_affected"].sum())
        examples = example_ids(chain.from_iterable(g["example_trace_ids"]))
        value = np.nan
        if check == "trace_completeness":
            value = 1.0 - traces / n_traces if n_traces else np.nan
        elif check == "failed_request_ratio":
            n_req = (n_traces if n_requests is None else n_requests) - n_unknown
            value = traces / n_req if n_req > 0 and status_known else np.nan
            counted = g[g["value"].notna()]  # a partition without status said "unknown"
            if status_known and len(counted):
                g = counted
        elif check in ("top_call_path", "high_cardinality_attribute"):
            value = float(g["value"].sum()) if check == "top_call_path" else float(g["value"].max())
        share = traces / n_traces if n_traces else np.nan
        if check == "failed_request_ratio" and not status_known:
            share = np.nan
        n_spans = int(g["spans_affected"].sum())
        rows.append({
            "check": check, "severity": sev, "subject": subject, "traces_affected": traces,
            "spans_affected": n_spans, "share": share,
            "value": value, "example_trace_ids": examples,
            "explanation": _combined_words(check, str(subject), g, traces, n_spans, value, n_traces,
                                           n_traces if n_requests is None else n_requests, status_known,
                                           n_unknown),
            "what_to_do": g["what_to_do"].iloc[0],
        })
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    key = np.lexsort((out["check"].map(order).to_numpy(), out["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).to_numpy()))
    out = out.iloc[key].reset_index(drop=True)
    tp = out["check"] == "top_call_path"
    if tp.any():  # most frequent first again
        idx = out.index[tp]
        out.loc[idx] = out.loc[idx].sort_values(["value", "subject"], ascending=[False, True]).to_numpy()
    return out.astype({"traces_affected": "int64", "spans_affected": "int64", "share": "float64", "value": "float64"})
