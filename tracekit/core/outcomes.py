"""What a span and a request came to: failed, client error, throttled; request latency vs trace extent.

One definition each, used by every analysis, figure, report line and Dask path:

- a span **failed** when it is a server fault (``fault``: X-Ray's flag, or HTTP 5xx) — unless its status is an
  explicit ``ok`` and the fault is its HTTP 5xx code —, or its status is ``error`` without being a client error or a
  throttle; a **client error** is a 4xx (``error``) that is not a fault; **throttled** is a 429 / X-Ray ``throttle``.
  The three are separate, never merged: an X-Ray 404 (``error`` set, status ``error``) is a client error, not a failure.
  An explicit status ``ok`` is final over the HTTP code (OpenTelemetry's rule: the application or operator validated
  the operation as a success, and instrumentation never sets ``ok`` on its own; analysis tools suppress the errors
  they would otherwise report, "such as 404s"), so a span with status ``ok`` and HTTP 500 did not fail, one with
  status ``ok`` and HTTP 404 (429) is no client error (was not throttled); status ``unset`` with a 5xx did fail
  (OTel's HTTP conventions make a server 5xx an error). A fault, error or throttle flag given without an HTTP code (X-Ray's, or a hand-built frame's) is an outcome of its own and stays a failure. The
  X-Ray reader never writes ``ok`` beside a flag (its status is ``error`` whenever a flag is set), so the rule
  only decides OTLP and hand-built spans. An HTTP status outside 100–599 (999, -5, 10**9: no HTTP answer,
  :data:`tracekit.schema.HTTP_STATUS_RANGE`) is loaded as given and implies no failure, client error or throttle: the
  readers derive no flag from it and an explicit ``ok`` does not pass over a fault flag because of it; the span's
  status and the source's own flags decide (the code still counts as a status recorded, :func:`status_recorded`:
  something answered), and ``health_report`` flags it (``bad_http_status``). DESIGN.md's "status error or
  5xx fault" is read with this rule (docs/guide.md, "One vocabulary").
- a **request** is the trace's request root (:mod:`tracekit.core.tree`) when someone waited for
  it: a root that is not a ``consumer`` span and carries no span link. A trace rooted in a consumer
  span, or in a span linked to another trace's span (SQS → Lambda, a Kafka consumer, a batch job
  continuing another trace), is **asynchronous work**, counted apart, never as a request.
  A trace whose root started where a caller dropped the trace context (a proxy stripped
  ``traceparent``: the caller's client span went unanswered and the callee's server span began a new
  trace, :mod:`tracekit.core.dropped_context`) is the callee's half of the caller's request, not a
  request of its own: ``continues`` names the caller's trace and the request is counted there, once.
  ``request_ms`` is the request root's duration, what the caller waited for. ``extent_ms`` is the trace's first start to last end,
  which includes asynchronous work that ran after the response (queue consumers, Lambda cold
  starts). Never one unnamed "latency". While a span of the trace is still in progress (``in_progress``) the
  extent is the last end so far: a lower bound, said as such wherever it is shown.
- a start the reader flagged as unset (OTLP's ``startTimeUnixNano`` 0 or absent, loaded at 1970-01-01 as given) is
  missing data, not 1970 (:func:`tracekit.core.start_unknown`): the request's ``start`` is then NaT, and its
  ``request_ms`` and the trace's ``extent_ms`` are NaN, as for a span with no start.
- a request **failed** / was a **client error** / was **throttled** when its root span was; a trace
  with no root (only fragments) has no request: ``request_ms`` is NaN and the flags are those of
  its earliest fragment. A root still **in progress** (an X-Ray in-progress segment, a span with no end) that
  records no status yet (status ``unset``, no HTTP code, no X-Ray flag) has an **unknown** outcome: ``failed``,
  ``client_error`` and ``throttled`` are <NA> on its row, not False — the request had not answered.
- the **failed share** (:func:`failed_share`) is failed requests over the requests whose outcome is known: one
  population (the ``request`` rows: rootless traces and asynchronous work are not in it; requests in progress
  are left out and counted by :func:`unknown_outcomes`) for every module.
- **status is the span's own outcome; an ERROR log record is evidence.** A span carrying an ERROR or FATAL log
  record (:func:`logged_error`, after :func:`tracekit.attach_logs`) whose status says nothing is not failed: every
  count of failures — failed spans and requests, error rates and failed shares (trace_summary, format_summary,
  health_report, compare, timeline, detect_changes, service_graph, bubble_up, rank_causes' ``errors``,
  peer_outliers, postmortem, the report) — reads :func:`failed` alone. Where an analysis locates errors with the
  logs' evidence too (:func:`tracekit.error_origins`: :func:`errored`; :func:`tracekit.top_exceptions` groups the
  records; rank_causes' and the postmortem's ``log_errors``), it says which signal decided.

>>> import tracekit as tk
>>> ms = 1_000_000
>>> spans = tk.spans_from_columns({
...     "trace_id": ["1" * 32, "2" * 32, "3" * 32, "4" * 32],
...     "span_id": ["a" * 16] * 4, "parent_id": [None] * 4, "service": ["web"] * 4, "name": ["GET /"] * 4,
...     "start": [0] * 4, "end": [10 * ms] * 4, "status": ["ok", "error", "unset", "error"],
...     "http_status": [200, 404, 503, None], "error": [False, True, False, False],
...     "fault": [False, False, True, False]})
>>> failed(spans).tolist(), client_error(spans).tolist()
([False, False, True, True], [False, True, False, False])
>>> float(trace_outcomes(spans)["failed"].mean())
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..schema import HTTP_STATUS_RANGE, known_name_column, known_service_column
from .cache import frame_cached
from .dropped_context import dropped_context_pairs
from .frame import NAT_NS, bool_column, ns, require_columns, start_unknown, to_timestamps
from .tree import span_tree

__all__ = ["FAILED_WORDS", "failed", "client_error", "throttled", "trace_outcomes", "trace_extent_ns", "trace_in_progress", "running_ns", "TRACE_OUTCOME_COLUMNS", "is_async_root",
           "failed_share", "any_failed_share", "unknown_outcomes", "outcome_unknown", "status_recorded", "logged_error", "errored"]


#: What "failed" means, in the words every sentence and table definition that defines it for a user says (the CLI
#: summary, health's findings, the report's and the widgets' tables): :func:`failed`'s rule, OpenTelemetry's exception
#: (an explicit status ``ok`` is final over an HTTP 5xx) included.
FAILED_WORDS = ("a 5xx fault or status error; not a 4xx client error, a throttle, or an HTTP 5xx under an explicit "
                "status ok")


def _status_error(spans: pd.DataFrame) -> np.ndarray:
    if "status" not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans["status"].to_numpy(dtype=object, na_value="") == "error"


def _status_ok(spans: pd.DataFrame) -> np.ndarray:
    if "status" not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans["status"].to_numpy(dtype=object, na_value="") == "ok"


def _http_5xx(spans: pd.DataFrame) -> np.ndarray:
    """Per span: its HTTP status code is a 5xx (500–599: a code beyond, 999, is no HTTP answer, HTTP_STATUS_RANGE)."""
    return _http_in(spans, 500, HTTP_STATUS_RANGE[1])


def failed(spans: pd.DataFrame) -> np.ndarray:
    """Per span: failed (a fault — X-Ray's flag or HTTP 5xx — that is not an HTTP 5xx under an explicit status ``ok``,
    or status ``error`` that is not a 4xx client error or a throttle).

    An explicit status ``ok`` is final over the HTTP code, as OpenTelemetry says: a span with status ``ok`` and
    HTTP 500 was validated as a success by its application, so it did not fail; status ``unset`` (or ``error``) with a
    5xx did. A ``fault`` flag without an HTTP 5xx code (X-Ray's own flag, a hand-built frame's) is failed whatever the
    status says: it is not the code the status was set over.

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans (``status``, ``fault``, ``error``, ``throttle`` are read when present).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> import tracekit as tk
    >>> failed(tk.empty_spans()).tolist()
    []
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["web"] * 3, "name": ["GET /"] * 3, "start": [0] * 3, "end": [10 * ms] * 3,
    ...     "status": ["ok", "unset", "error"], "http_status": [500, 500, 500]})
    >>> failed(spans).tolist()   # an explicit ok is final (OpenTelemetry); unset or error with a 5xx failed
    [False, True, True]
    """
    return _per_span(spans, "failed", _STATUS_COLUMNS, _failed)


#: the columns a span's recorded status is read from (:func:`failed`, :func:`_records_status`)
_STATUS_COLUMNS = ("status", "http_status", "fault", "error", "throttle")


def _per_span(spans: pd.DataFrame, name: str, columns: tuple[str, ...], compute: Any) -> np.ndarray:
    """``compute(spans)`` (one bool per span) computed once per frame (:func:`~tracekit.core.cache.frame_cached`, keyed
    on ``columns``' contents: a frame edited there is computed again), a copy each call (the caller may edit it).
    rank_causes read the status of every span of its two frames 15 times (status to objects, compared: 2–3 % of it)."""
    if not len(spans):
        return np.zeros(0, dtype=bool)
    return frame_cached(spans, name, None, columns, lambda: compute(spans)).copy()


def _failed(spans: pd.DataFrame) -> np.ndarray:
    fault = bool_column(spans, "fault") & ~(_status_ok(spans) & _http_5xx(spans))
    return fault | (_status_error(spans) & ~bool_column(spans, "error") & ~bool_column(spans, "throttle"))


def _http_in(spans: pd.DataFrame, lo: int, hi: int) -> np.ndarray:
    """Per span: its HTTP status code is in [lo, hi)."""
    if "http_status" not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    h = spans["http_status"].to_numpy(dtype=np.float64, na_value=np.nan)
    return (h >= lo) & (h < hi)


def client_error(spans: pd.DataFrame) -> np.ndarray:
    """Per span: a client error (4xx, X-Ray ``error``) that is not also a fault — unless its status is an explicit
    ``ok`` and the ``error`` flag is its HTTP 4xx code.

    :func:`failed`'s rule: an explicit status ``ok`` is final over the HTTP code (OpenTelemetry: analysis tools
    respond to an ``ok`` status by suppressing the errors they would otherwise report, 404s its example), so a span
    with status ``ok`` and HTTP 404 is no client error. An ``error`` flag without an HTTP 4xx code (X-Ray's own flag,
    a hand-built frame's) stays one whatever the status says.

    Examples
    --------
    >>> import tracekit as tk
    >>> client_error(tk.empty_spans()).tolist()
    []
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "service": ["web"] * 2, "name": ["GET /"] * 2, "start": [0] * 2, "end": [10 * ms] * 2,
    ...     "status": ["ok", "unset"], "http_status": [404, 404]})
    >>> client_error(spans).tolist()   # an explicit ok is final (OpenTelemetry); unset with a 404 is a client error
    [False, True]
    """
    return bool_column(spans, "error") & ~bool_column(spans, "fault") & ~(_status_ok(spans) & _http_in(spans, 400, 500))


def throttled(spans: pd.DataFrame) -> np.ndarray:
    """Per span: throttled (HTTP 429, X-Ray ``throttle``) — unless its status is an explicit ``ok`` and the flag is
    its HTTP 429 code (:func:`client_error`'s rule: an explicit ``ok`` is final over the HTTP code).

    Examples
    --------
    >>> import tracekit as tk
    >>> throttled(tk.empty_spans()).tolist()
    []
    """
    return bool_column(spans, "throttle") & ~(_status_ok(spans) & _http_in(spans, 429, 430))


def logged_error(spans: pd.DataFrame) -> np.ndarray:
    """Per span: it carries an ERROR or FATAL log record (``log_errors`` > 0 after :func:`tracekit.attach_logs`):
    evidence of an error, not the span's outcome (:func:`failed` does not read it).

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans; without a ``log_errors`` column (no logs attached) every value is False.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> import tracekit as tk
    >>> logged_error(tk.empty_spans()).tolist()
    []
    """
    if "log_errors" not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans["log_errors"].to_numpy(dtype=np.float64, na_value=0.0) > 0


def errored(spans: pd.DataFrame) -> np.ndarray:
    """Per span: an error is shown — it :func:`failed` (its status) or it carries an ERROR or FATAL log record
    (:func:`logged_error`, the logs' evidence). What :func:`tracekit.error_origins` locates; never a count of
    failures (those read :func:`failed` alone).

    Examples
    --------
    >>> import tracekit as tk
    >>> errored(tk.empty_spans()).tolist()
    []
    """
    return failed(spans) | logged_error(spans)


def _records_status(spans: pd.DataFrame) -> np.ndarray:
    """Per span: it records a status (a status other than ``unset``, an HTTP status, or an X-Ray ``fault`` /
    ``error`` / ``throttle`` flag) — the span-level test of :func:`status_recorded`."""
    return _per_span(spans, "records_status", _STATUS_COLUMNS, _records_status_of)


def _records_status_of(spans: pd.DataFrame) -> np.ndarray:
    out = np.zeros(len(spans), dtype=bool)
    if "status" in spans.columns:
        out |= spans["status"].to_numpy(dtype=object, na_value="unset") != "unset"
    if "http_status" in spans.columns:
        out |= spans["http_status"].notna().to_numpy(dtype=bool)
    for c in ("fault", "error", "throttle"):
        out |= bool_column(spans, c)
    return out


def outcome_unknown(spans: pd.DataFrame) -> np.ndarray:
    """Per span: its outcome is unknown — it is still in progress (X-Ray ``in_progress``, or no ``end``) and records
    no status yet (status ``unset``, no HTTP status, no X-Ray ``fault`` / ``error`` / ``throttle`` flag): it had not
    answered, so it is neither failed nor ok. The one test behind :func:`trace_outcomes`' <NA> rows (applied to the
    request root) and every per-span rate that leaves such spans out (timeline by a span key, compare).

    Parameters
    ----------
    spans : pandas.DataFrame
        Spans (``in_progress``, ``end``, ``status``, ``http_status`` and the X-Ray flags are read when present).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["web"] * 3, "name": ["GET /"] * 3,
    ...     "start": [0] * 3, "end": [None, None, 5], "status": ["unset", "error", "unset"]})
    >>> outcome_unknown(spans).tolist()   # in progress and nothing recorded / in progress but failed / finished
    [True, False, False]
    """
    if not len(spans):
        return np.zeros(0, dtype=bool)
    pending = bool_column(spans, "in_progress")
    if "end" in spans.columns:
        pending = pending | (ns(spans["end"]) == NAT_NS)
    return pending & ~_records_status(spans)


def status_recorded(spans: pd.DataFrame) -> bool:
    """Whether the spans can say that anything failed: some span carries a status other than ``unset``, an HTTP
    status, or an X-Ray ``fault`` / ``error`` / ``throttle`` flag. When none does (TrainTicket-like exports, a
    collector that drops status), :func:`failed` is False everywhere because nothing was recorded, not because
    nothing failed: a failed share of 0 there is unknown, not zero.

    Examples
    --------
    >>> import tracekit as tk
    >>> status_recorded(tk.empty_spans())
    False
    """
    return bool(len(spans)) and bool(_records_status(spans).any())


#: columns of :func:`trace_outcomes`, with unit and meaning
TRACE_OUTCOME_COLUMNS = (
    ("trace_id", "string", "", "32-hex trace id"),
    ("root_span_id", "string", "", "span id of the request root (<NA> when the trace has no root)"),
    ("root_service", "string", "", "service of the request root (else of the earliest fragment); unknown_service when it names none"),
    ("root_name", "string", "", "operation of the request root (else of the earliest fragment); (unnamed) when it has no name"),
    ("start", "datetime64[ns, UTC]", "ns, UTC", "request start: the request root's start (else the earliest span's); NaT when that start is unknown (core.start_unknown: none, or OTLP's unset start read as 1970)"),
    ("request_ms", "float64", "ms", "request latency: the request root's duration; NaN with no root, an in-progress root, a root that ends before it starts (flagged by the readers), a root whose start is unknown (core.start_unknown: none, or OTLP's unset start read as 1970), or asynchronous work (not a request)"),
    ("extent_ms", "float64", "ms", "trace extent: first start to last end over all spans, async work included; NaN when nothing ended, a span's start is unknown (core.start_unknown: none, or OTLP's unset start read as 1970: the first start is unknown) or the last end is before the first start; another copy of a span exported twice is left out"),
    ("in_progress", "bool", "", "some span of the trace has not ended (X-Ray in_progress, or no end; another copy of a "
                                "span exported twice left out): extent_ms is then a lower bound, the last end so far"),
    ("failed", "boolean", "", f"the request failed: its root span failed ({FAILED_WORDS}); <NA> (unknown, not False) on every row when no span of the frame records a status "
                              "(core.status_recorded), and on a trace whose root is still in progress and records no "
                              "status yet (unset, no HTTP code, no X-Ray flag)"),
    ("client_error", "boolean", "", "the request was a client error (root span 4xx, not a fault); <NA> on every row "
                                    "when no span of the frame records a status, and for a root in progress, as "
                                    "``failed``"),
    ("throttled", "boolean", "", "the request was throttled (root span 429 / X-Ray throttle); <NA> on every row when "
                                 "no span of the frame records a status, and for a root in progress, as ``failed``"),
    ("failed_spans", "int64", "spans", "spans of the trace recorded as failed (anywhere, retried or not; a span exported twice "
                                       "once); 0 when no span "
                                       "of the frame records a status, where ``failed`` says <NA>: read it, not this"),
    ("any_failed", "boolean", "", "some span of the trace failed (failed_spans > 0); <NA> (unknown, not False) when "
                                  "none failed but some span is still in progress with no status yet "
                                  "(core.outcome_unknown: it had not answered), and on every row when no span of the "
                                  "frame records a status; any_failed_share is over the known rows"),
    ("has_root", "bool", "", "the trace has a request root"),
    ("continues", "string", "", "the caller's trace id when this trace's root started where that caller dropped the "
                                "trace context (core.dropped_context): the callee's half of that request, not a "
                                "request of its own; <NA> otherwise"),
    ("request", "bool", "", "the trace is a request: it has a root that is not a consumer span, carries no span link "
                            "and does not continue another trace's request (else asynchronous work, the callee's half "
                            "of a request whose context was dropped, or no root)"),
)


def is_async_root(spans: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Per row of ``rows`` (root spans): asynchronous work rather than a request — a ``consumer``
    span, or a span with a link to another span (it continues another trace's work).

    Examples
    --------
    >>> import numpy as np, tracekit as tk
    >>> is_async_root(tk.empty_spans(), np.zeros(0, np.int64)).tolist()
    []
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return out
    if "kind" in spans.columns:
        out |= spans["kind"].to_numpy(dtype=object, na_value="")[rows] == "consumer"
    if "links" in spans.columns:
        links = spans["links"].to_numpy(dtype=object)[rows]
        out |= np.fromiter((isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 for x in links), bool, len(rows))
    return out


def failed_share(outcomes: pd.DataFrame, weights: np.ndarray | None = None) -> tuple[float, int]:
    """The failed share: failed requests over the requests whose outcome is known, and the number of requests.

    One definition for every module (timeline, health, postmortem, weighted_summary, the CLI
    summary, the report): the population is the ``request`` rows of :func:`trace_outcomes` —
    traces without their root and asynchronous work are not requests — whose ``failed`` is known: a request
    whose root is still in progress (``failed`` <NA>) is left out of the share, neither failed nor ok; say how
    many with :func:`unknown_outcomes`. The number returned counts every request, those left out too.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        :func:`trace_outcomes` rows.
    weights : numpy.ndarray, optional
        A weight per row (sampling: Horvitz–Thompson); None counts each request once.

    Returns
    -------
    (float, int)
        The share (NaN with no request, and NaN when every request's ``failed`` is <NA>: no span of the frame
        records a status, :func:`status_recorded`, or every request is in progress, so the share is unknown, not 0)
        and the number of requests (unweighted; those of unknown outcome included).

    Examples
    --------
    >>> import tracekit as tk
    >>> failed_share(trace_outcomes(tk.empty_spans()))
    (nan, 0)
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({   # a failed request, an ok one, and one still in progress
    ...     "trace_id": ["1" * 32, "2" * 32, "3" * 32], "span_id": ["a" * 16] * 3, "parent_id": [None] * 3,
    ...     "service": ["web"] * 3, "name": ["GET /"] * 3, "start": [0] * 3, "end": [10 * ms, 10 * ms, None],
    ...     "status": ["error", "ok", "unset"]})
    >>> failed_share(trace_outcomes(spans)), unknown_outcomes(trace_outcomes(spans))
    ((0.5, 3), 1)
    """
    req = outcomes["request"].to_numpy(dtype=bool)
    n = int(req.sum())
    if not n:
        return float("nan"), 0
    fl = outcomes["failed"].to_numpy(dtype=np.float64, na_value=np.nan)[req]  # <NA>: unknown, left out
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)[req]
    known = ~np.isnan(fl)
    if not known.any():
        return float("nan"), n
    return float((w[known] * fl[known]).sum() / w[known].sum()), n


def any_failed_share(outcomes: pd.DataFrame) -> tuple[float, int]:
    """The share of traces with a failed span anywhere (the request's root or any call, an error a retry absorbed
    included) over the traces where that is known, and the number of those traces.

    One definition for every module (the CLI summary, the report's headline): the population is every trace of
    :func:`trace_outcomes` (asynchronous work and rootless traces included) whose ``any_failed`` is known — a trace
    none of whose spans failed while one is still in progress with no status yet (:func:`outcome_unknown`) is left
    out, as :func:`failed_share` leaves out a request in progress: it is neither "failed somewhere" nor "failed
    nowhere" yet.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        :func:`trace_outcomes` rows.

    Returns
    -------
    (float, int)
        The share (NaN with no trace of known ``any_failed``: none, or no span of the frame records a status) and
        the number of traces it is over (those of known ``any_failed``).

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({   # a retried failure under an ok root, an ok trace, one still in progress
    ...     "trace_id": ["1" * 32] * 2 + ["2" * 32, "3" * 32], "span_id": ["a" * 16, "b" * 16, "a" * 16, "a" * 16],
    ...     "parent_id": [None, "a" * 16, None, None], "service": ["web"] * 4, "name": ["GET /"] * 4,
    ...     "start": [0] * 4, "end": [10 * ms, 5 * ms, 10 * ms, None], "status": ["ok", "error", "ok", "unset"]})
    >>> any_failed_share(trace_outcomes(spans))   # 1 of the 2 known; the trace in progress is left out
    (0.5, 2)
    """
    anyf = outcomes["any_failed"]
    known = anyf.notna().to_numpy(dtype=bool)
    n = int(known.sum())
    if not n:
        return float("nan"), 0
    return float(anyf.to_numpy(dtype=bool, na_value=False)[known].mean()), n


def unknown_outcomes(outcomes: pd.DataFrame) -> int:
    """The requests whose outcome is unknown (``failed`` <NA>), which :func:`failed_share` leaves out: those whose
    root is still in progress, or every request when no span of the frame records a status.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        :func:`trace_outcomes` rows.

    Returns
    -------
    int

    Examples
    --------
    >>> import tracekit as tk
    >>> unknown_outcomes(trace_outcomes(tk.empty_spans()))
    0
    """
    return int((outcomes["request"].to_numpy(dtype=bool) & outcomes["failed"].isna().to_numpy(dtype=bool)).sum())


def trace_extent_ns(spans: pd.DataFrame, tree: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per trace (code of :func:`tracekit.core.tree.span_tree`): its first start and its extent, first start to last
    end over all spans, in int64 nanoseconds; :data:`~tracekit.core.frame.NAT_NS` where unknown. The one definition of
    the trace extent (``trace_outcomes``' ``extent_ms``, TraceQL's ``traceDuration``).

    A span whose start is unknown (:func:`tracekit.core.start_unknown`: none, or OTLP's unset start read as 1970)
    leaves its trace's first start, and so the extent, unknown; the extent is unknown too when nothing ended or the
    last end is before the first start. Another copy of a span exported twice is left out (its times, when they
    differ, are not a later end of the trace: a trace exported again 30 min later had an extent of 30 min beside a
    100 ms request). A span in progress adds no end: the extent is then the last end so far, a lower bound.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    tree : SpanTree, optional
        ``span_tree(spans)``, when the caller has it.

    Returns
    -------
    (ndarray of int64, ndarray of int64)
        First start and extent per trace code.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api"] * 2, "name": ["GET /", "q"], "start": [0, 5],
    ...     "end": [10, 30]})
    >>> first, extent = trace_extent_ns(spans)
    >>> first.tolist(), extent.tolist()
    ([0], [30])
    """
    tree = span_tree(spans) if tree is None else tree
    t, nt = tree.trace, tree.n_traces
    start, end = ns(spans["start"]), ns(spans["end"])
    start_na = start_unknown(spans)
    copy = tree.duplicate
    first_start = np.full(nt, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_start, t, np.where(start_na | copy, np.iinfo(np.int64).max, start))
    no_start = np.bincount(t[start_na & ~copy], minlength=nt) > 0 if nt else np.zeros(0, bool)
    first_start[no_start] = NAT_NS
    last_end = _last_end_ns(tree, end)
    unknown = (last_end == NAT_NS) | no_start | (last_end < first_start)
    return first_start, np.where(unknown, NAT_NS, last_end - np.where(unknown, 0, first_start))


def _last_end_ns(tree: Any, end: np.ndarray) -> np.ndarray:
    """Per trace code: the last end of its spans (another copy of a span exported twice left out), NAT_NS when none
    ended."""
    last_end = np.full(tree.n_traces, NAT_NS, dtype=np.int64)
    np.maximum.at(last_end, tree.trace, np.where((end == NAT_NS) | tree.duplicate, NAT_NS, end))
    return last_end


def running_ns(spans: pd.DataFrame, tree: Any = None) -> np.ndarray:
    """Per span not ended (no ``end``, or X-Ray ``in_progress``): the least it has run, its trace's last end so far
    less its start (0 when nothing in its trace ended after it started); :data:`~tracekit.core.frame.NAT_NS` for a
    span that ended or whose start is unknown (:func:`tracekit.core.start_unknown`). The span was still running
    when the trace was captured, after every end the trace records: its duration is more than this. TraceQL's
    ``duration`` of a running span, a lower bound (as :func:`trace_extent_ns` is of a running trace's extent).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    tree : SpanTree, optional
        ``span_tree(spans)``, when the caller has it.

    Returns
    -------
    numpy.ndarray of int64
        One entry per row.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["api"] * 3, "name": ["GET /", "q", "r"],
    ...     "start": [0, 5, 40], "end": [None, 30, None]})
    >>> running_ns(spans).tolist()[0], running_ns(spans).tolist()[2]
    (30, 0)
    """
    tree = span_tree(spans) if tree is None else tree
    n = len(spans)
    if "start" not in spans.columns or "end" not in spans.columns or not n:
        return np.full(n, NAT_NS, dtype=np.int64)
    start, end = ns(spans["start"]), ns(spans["end"])
    running = bool_column(spans, "in_progress") | (end == NAT_NS)
    last = _last_end_ns(tree, np.where(running, NAT_NS, end))[tree.trace]
    ok = running & ~start_unknown(spans)
    return np.where(ok, np.where(last == NAT_NS, 0, np.maximum(last - np.where(ok, start, 0), 0)), NAT_NS)


def trace_in_progress(spans: pd.DataFrame, tree: Any = None) -> np.ndarray:
    """Per trace (code of :func:`tracekit.core.tree.span_tree`): some span of it has not ended (X-Ray
    ``in_progress``, or no ``end``; another copy of a span exported twice left out). Its extent
    (:func:`trace_extent_ns`) is then the last end so far: a lower bound. The one definition behind
    ``trace_outcomes``' ``in_progress`` and TraceQL's ``traceDuration`` of a running trace.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    tree : SpanTree, optional
        ``span_tree(spans)``, when the caller has it.

    Returns
    -------
    numpy.ndarray of bool
        One entry per trace code.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32, "1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16,
    ...     "c" * 16], "parent_id": [None, "a" * 16, None], "service": ["api"] * 3, "name": ["GET /", "q", "GET /"],
    ...     "start": [0, 5, 0], "end": [None, 30, 10]})
    >>> trace_in_progress(spans).tolist()
    [True, False]
    """
    tree = span_tree(spans) if tree is None else tree
    pending = bool_column(spans, "in_progress")
    if "end" in spans.columns:
        pending = pending | (ns(spans["end"]) == NAT_NS)
    else:
        pending = np.ones(len(spans), dtype=bool)
    return tree.per_trace(pending & ~tree.duplicate) > 0


def trace_outcomes(spans: pd.DataFrame) -> pd.DataFrame:
    """One row per trace: the request (root span), its latency and outcome, and the trace extent.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACE_OUTCOME_COLUMNS`, one row per trace in order of its first span.
        Computed once per frame (:mod:`tracekit.core.cache`); later calls return a copy.
        ``failed`` is a nullable boolean: True / False where the frame records a status, ``<NA>`` on
        every row when no span of ``spans`` does (:func:`status_recorded`): nothing could be recorded as
        failed there, so whether a request failed is unknown, not False (``failed_share`` is then NaN;
        ``fillna(False)`` would read it as "known not to have failed"); ``client_error`` and ``throttled`` the
        same. ``<NA>`` too on the row of a trace whose root is in progress and records no status yet (unset,
        no HTTP code, no X-Ray flag): the request had not answered (``failed_share`` leaves it out).
        ``failed_spans`` stays a count (0 there: read ``failed``).

    Raises
    ------
    SpansSchemaError
        A needed column is missing.

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({   # a 92 ms request whose async consumer ends at 1,150 ms
    ...     "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
    ...     "service": ["web", "worker"], "name": ["GET /", "process"], "kind": ["server", "consumer"],
    ...     "start": [0, 50 * ms], "end": [92 * ms, 1150 * ms]})
    >>> trace_outcomes(spans)[["request_ms", "extent_ms"]].to_dict("records")
    [{'request_ms': 92.0, 'extent_ms': 1150.0}]
    >>> trace_outcomes(spans)["failed"].tolist()   # no span records a status: unknown, not False
    [<NA>]
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"), "trace_outcomes")
    return _finish(frame_cached(spans, "trace_outcomes", None, _OUTCOME_INPUTS, lambda: _outcomes(spans), _outcomes_of))


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    """The public outcomes from the cached ones: ``failed``, ``client_error``, ``throttled`` nullable, <NA> when no
    trace records a status. A new frame built from the columns' arrays in one go (every call, cache hits too: the
    column-by-column pops and sets took 3.4 ms on 1,200 traces)."""
    # the frame's traces are whole (computed, or cut from a cached frame by whole traces), so some span of the
    # frame records a status exactly when some trace has one: status_recorded(spans) without another pass
    unknown = not out[_RECORDED].to_numpy(dtype=bool).any()
    # a root in progress without an outcome yet: that request's outcome is unknown (the others' are known)
    unknown_rows = np.full(len(out), True) if unknown else out[_PENDING].to_numpy(dtype=bool)
    # a request: a root someone waited for, whose trace does not continue another trace's request
    request = out[_OWN_REQUEST].to_numpy(dtype=bool) & out["continues"].isna().to_numpy(dtype=bool)
    data: dict[str, Any] = {}
    for c in out.columns:
        if c in (_RECORDED, _OWN_REQUEST, _ROOT_MS, _PENDING, _ANY_PENDING):
            continue
        if c == "request_ms":
            data[c] = np.where(request, out[_ROOT_MS].to_numpy(dtype=np.float64), np.nan)
        elif c == "request":
            data[c] = request
        elif c in ("failed", "client_error", "throttled"):  # what only a recorded status can say
            data[c] = pd.arrays.BooleanArray(out[c].to_numpy(dtype=bool), unknown_rows.copy())
        else:
            data[c] = out[c].array
        if c == "failed_spans":  # a failed span anywhere: unknown where none failed and some had not answered
            anyf = out[c].to_numpy(dtype=np.int64) > 0
            mask = np.full(len(out), True) if unknown else ~anyf & out[_ANY_PENDING].to_numpy(dtype=bool)
            data["any_failed"] = pd.arrays.BooleanArray(anyf, mask)
    return pd.DataFrame(data, index=out.index)


def _trace_outcomes(spans: pd.DataFrame) -> pd.DataFrame:
    """:func:`trace_outcomes` computed directly, without the per-frame cache."""
    return _finish(_outcomes(spans))


def _outcomes_of(outcomes: pd.DataFrame, trace_ids: pd.Index) -> pd.DataFrame:
    """The outcomes of some (whole) traces, from the outcomes of a frame holding them: a trace continues another
    only when that one is among them too (as computed on those traces alone)."""
    out = outcomes[outcomes["trace_id"].isin(trace_ids)].reset_index(drop=True)
    cont = out["continues"]
    gone = cont.notna().to_numpy(dtype=bool) & ~cont.isin(trace_ids).to_numpy(dtype=bool)
    if gone.any():
        out["continues"] = cont.mask(gone)
    return out


#: the columns trace_outcomes reads (fingerprinted by the per-frame cache)
_OUTCOME_INPUTS = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status",
                   "http_status", "error", "fault", "throttle", "in_progress", "links", "attributes")


#: private columns of the cached outcomes (not returned): some span of the trace records a status; the root is one
#: someone waited for (not asynchronous work); its duration (ms) — ``request`` and ``request_ms`` follow from these
#: and ``continues`` in :func:`_finish`, so a part of a cached frame keeps one rule
_RECORDED = "_status_recorded"
_OWN_REQUEST = "_own_request"
_ROOT_MS = "_root_ms"
#: private column: the trace's head (its request root, else its earliest fragment) is in progress (flagged, or no
#: end) and records no status yet (status unset, no HTTP code, no X-Ray flag): its outcome is unknown
_PENDING = "_outcome_pending"
#: private column: some span of the trace (a span exported twice once) is in progress with no status yet
_ANY_PENDING = "_any_pending"


def _outcomes(spans: pd.DataFrame) -> pd.DataFrame:
    """What the per-frame cache holds: the outcomes with ``failed`` as recorded (plain bool) and a private column
    saying which traces record a status (so a frame of some of the traces can say whether it records one)."""
    tree = span_tree(spans)
    n, nt = len(spans), tree.n_traces
    t = tree.trace
    start = ns(spans["start"])
    end = ns(spans["end"])
    end_na = end == NAT_NS
    # head row per trace: the request root, else the earliest orphan (fragment head), else the earliest span (later
    # copies of a span read twice are no head)
    head = tree.request_root.copy()
    missing = head < 0
    if missing.any():
        rank = np.where(tree.orphan, 0, 1)
        # of a fragment head read twice, the copy the tree keeps (core.tree): the row order chose between copies that
        # start together (a rootless trace's root_name and failed were its 10..30 ms copy's or its 10..90 ms one's)
        o = np.lexsort((np.arange(n), start, rank, tree.duplicate, t))
        tt = t[o]
        first = o[np.r_[True, tt[1:] != tt[:-1]]] if n else np.zeros(0, np.int64)
        head[missing] = first[missing]
    has_root = tree.request_root >= 0
    request = has_root.copy()
    if nt and has_root.any():
        request[has_root] = ~is_async_root(spans, tree.request_root[has_root])
    fl, ce, th = failed(spans), client_error(spans), throttled(spans)
    pending = outcome_unknown(spans)
    # extent: per-trace min start / max end (trace_extent_ns, the one definition)
    # a span without a start (schema-invalid: a frame edited by hand), or whose start the reader flagged as unset
    # (OTLP's start 0 or absent, loaded at 1970: core.start_unknown), leaves its trace's first start unknown: the
    # extent and, for the root, the request are NaN (its NaT read as -2**63 ns made them -9.2e12 ms; an unset start
    # read as 1970 made a 100 ms request 1.7e12 ms, "p95 1,700,000,000 s")
    start_na = start_unknown(spans)
    first_start, extent_ns = trace_extent_ns(spans, tree)
    extent = np.where(extent_ns == NAT_NS, np.nan, extent_ns / 1e6)
    h_end_na = end_na[head] if nt else np.zeros(0, bool)
    # a root that ends before it starts (a clock step; the readers flag it, critical_path refuses it) has no latency:
    # NaN, not a negative time in every percentile and mean; nor has a root without a start
    root_ms = (np.where(request & ~h_end_na & ~start_na[head] & (end[head] >= start[head]), (end[head] - start[head]) / 1e6,
                        np.nan) if nt else np.zeros(0))
    continues = np.full(nt, None, dtype=object)
    c, r, _ = dropped_context_pairs(spans, tree)
    if len(c):
        continues[tree.trace[r]] = tree.trace_ids[tree.trace[c]]
    req_start = np.where(has_root, np.where(start_na[head], NAT_NS, start[head]), first_start) if nt else np.zeros(0, np.int64)
    root_sid = spans["span_id"].to_numpy(dtype=object)[head] if nt else np.zeros(0, object)
    root_sid = np.where(has_root, root_sid, None)
    return pd.DataFrame({
        "trace_id": pd.array(tree.trace_ids, dtype=spans["trace_id"].dtype),
        "root_span_id": pd.array(root_sid, dtype=spans["span_id"].dtype),
        # a root with no service / name says unknown_service / (unnamed), the readers' and every analysis' words
        "root_service": known_service_column(spans["service"].iloc[head]).array,
        "root_name": known_name_column(spans["name"].iloc[head]).array,
        "start": to_timestamps(req_start).array,
        "request_ms": np.full(nt, np.nan),  # from _ROOT_MS where a request (_finish)
        "extent_ms": extent.astype(np.float64),
        # a span not ended: the extent is the last end so far, a lower bound (said by every reader of extent_ms)
        "in_progress": trace_in_progress(spans, tree),
        "failed": fl[head] if nt else np.zeros(0, bool),
        "client_error": ce[head] if nt else np.zeros(0, bool),
        "throttled": th[head] if nt else np.zeros(0, bool),
        "failed_spans": tree.per_trace(fl & ~tree.duplicate),  # a span exported twice failed once (kernel tree)
        "has_root": has_root,
        "continues": pd.array(continues, dtype=spans["trace_id"].dtype),
        "request": request,  # from _OWN_REQUEST and continues (_finish)
        _OWN_REQUEST: request,
        _ROOT_MS: root_ms.astype(np.float64),
        _RECORDED: tree.per_trace(_records_status(spans)) > 0,
        _PENDING: pending[head] if nt else np.zeros(0, bool),
        _ANY_PENDING: tree.per_trace(pending & ~tree.duplicate) > 0,
    })
