"""Log records beside spans: message templates, and log records put on their spans as events.

:func:`log_templates` masks the variable parts of each message (UUIDs, hex ids, IP addresses,
times, ``key=value`` values, words holding digits) with RE2 regexes run column-wise by Arrow
(linear time in the text: RE2 never backtracks, so a 200 KB message costs what its length costs),
and names each template by a stable id: the first 16 hex digits of the BLAKE2b hash of its text,
so the same template has the same id in every run, file and process. Own masking code rather than
drain3: drain3 clusters messages one by one in Python (a stateful tree whose ids depend on the
order records arrive in and on its similarity threshold), which gives neither stable ids nor
column-wise speed; masking alone is what the analyses here need (which statements a span emits).

:func:`attach_logs` joins log records to spans on ``(trace_id, span_id)`` (a merge on ids, no
per-span loop); a record with a trace id and no span id is trace-level: it goes to the span of its
own ``service`` in its trace (the service's entry span — its parent in another service — of the call
the record was written in: the last started by the record's time), else to its trace's request root
(:func:`tracekit.core.span_tree`). An AWS Lambda Powertools record names its trace and service and no
span: on the root it made the API gateway in front of the function the one that logged (error
origins, rank_causes). A record that matches no span is counted and returned in
:attr:`AttachedLogs.unmatched` with the reason, never dropped.

>>> import tracekit as tk
>>> tk.log_templates(tk.logs_from_columns({"time": [0, 1], "body": ["took 35 ms", "took 120 ms"]}))["template"].tolist()
['took <*> ms', 'took <*> ms']
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.cache import frame_cached
from ..core.frame import require_columns, text_column
from ..core.outcomes import logged_error
from ..core.templates import MASKS, mask_variable_parts  # MASKS: the masking rule (one for log messages and span names)
from ..core.tree import service_entries, span_rows, span_tree
from ..errors import ArgumentError
from ..io.containers import LazyColumn
from ..io.otlp import gc_paused
from ..logs_schema import LOG_COLUMN_NAMES
from ..schema import STRING, repeated_column

__all__ = ["log_templates", "attach_logs", "AttachedLogs", "require_logs_frame", "LOG_EVENT_NAME", "MASKS", "log_span_rows",
           "is_log_event", "log_error_mask", "log_dimensions", "ERROR_SEVERITIES", "trace_logs"]

#: name of the span events made from log records (their attribute ``log.record`` is True)
LOG_EVENT_NAME = "log"


def _hash_ids(templates: np.ndarray) -> np.ndarray:
    return np.array([hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
                     for t in templates], dtype=object)


def log_templates(logs: pd.DataFrame, *, column: str = "body") -> pd.DataFrame:
    """The message template of every log record, with variable parts masked, and its stable id.

    Parameters
    ----------
    logs : DataFrame
        A logs frame (:func:`tracekit.read_logs`, :func:`tracekit.logs_from_columns`), or any
        frame with a text ``column``.
    column : str, default "body"
        The text column to mask.

    Returns
    -------
    DataFrame
        Indexed like ``logs``: ``template`` (the text with each variable part replaced by
        ``<*>``; ``<NA>`` for a missing message) and ``template_id`` (16 hex digits of the
        template's BLAKE2b hash: equal templates have equal ids in every run). Linear time in the
        total text length (RE2 regexes, :data:`MASKS`, run by Arrow), hashing once per distinct
        template. Computed once per logs frame and column (:mod:`tracekit.core.cache`: later calls,
        and frames of rows cut from it such as a time window, take it from there).

    Raises
    ------
    ArgumentError
        ``logs`` has no such column.

    Examples
    --------
    >>> import tracekit as tk
    >>> logs = tk.logs_from_columns({"time": [0, 1, 2], "body": [
    ...     "user 42 logged in from 10.0.0.7", "user 7 logged in from 10.0.0.9", "cache miss key=a1b2"]})
    >>> t = log_templates(logs)
    >>> t["template"].tolist()
    ['user <*> logged in from <*>', 'user <*> logged in from <*>', 'cache miss key=<*>']
    >>> t["template_id"].nunique()
    2
    """
    if not isinstance(logs, pd.DataFrame) or column not in logs.columns:
        raise ArgumentError(f"log_templates needs a frame with a {column!r} column (a logs frame)")
    twice = repeated_column(logs.columns, [column])
    if twice:
        raise ArgumentError(f"log_templates: the logs frame's {twice}")
    col = logs[column]
    if col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty") \
            and col.map(lambda x: isinstance(x, (dict, list))).any():
        # a structured body (legal in OTLP; read_logs and logs_from_columns write it as JSON text): templated from
        # its compact JSON text, uncached (the cache's fingerprint hashes the cells, and a dict has no hash)
        return _templates(logs.assign(**{column: col.map(_body_text)}), column).set_axis(logs.index)
    out = frame_cached(logs, "log_templates", column, (column,), lambda: _templates(logs, column), by_rows=_rows_of)
    out.index = logs.index  # (a copy: the cache keeps its own) the rows are the frame's; its labels may have been set since
    return out


def _rows_of(templates: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The templates of some rows of a logs frame, from the templates of the whole frame."""
    return templates.iloc[positions]


def _body_text(x: Any) -> Any:
    """A map or array body as the compact JSON text ``logs_from_columns`` and ``read_logs`` write for it."""
    if isinstance(x, (dict, list)):
        return orjson.dumps(x, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    return x


def _copied(value: Any) -> Any:
    """A copy of the dicts and lists in ``value`` (an event: its dict, its attributes and what they hold)."""
    if isinstance(value, dict):
        return {k: _copied(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _templates(logs: pd.DataFrame, column: str) -> pd.DataFrame:
    text = pa.array(text_column(logs[column], "log_templates", f"column {column!r}").array, pa.large_string())
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    # mask each distinct message once (repeated messages are the rule in logs), hash each distinct
    # template once; per record only Arrow takes (no Python string per record)
    msgs = pc.dictionary_encode(text)
    tmpls = pc.dictionary_encode(mask_variable_parts(msgs.dictionary))
    ids = pa.array(_hash_ids(np.asarray(tmpls.dictionary.to_pylist(), dtype=object)).tolist(), pa.large_string())
    per_record = tmpls.indices.take(msgs.indices)  # a missing message: a missing template
    return pd.DataFrame({"template_id": pd.arrays.ArrowStringArray(ids.take(per_record)),
                         "template": pd.arrays.ArrowStringArray(tmpls.dictionary.take(per_record))}, index=logs.index)


@dataclass(frozen=True)
class AttachedLogs:
    """Spans with their log records as events, and the records that matched no span.

    Attributes
    ----------
    spans : DataFrame
        A new spans frame: ``events`` holds each span's own events then its log records (name
        ``"log"``, attribute ``log.record`` True, with ``log.severity``, ``log.severity_number``,
        ``log.body``, ``log.template_id``, ``log.template``, ``log.trace_level``), in time order; extra columns
        ``log_records`` and ``log_errors`` (ERROR or FATAL records) count them per span.
    unmatched : DataFrame
        The log records put on no span (logs columns plus ``reason``: ``no trace id``,
        ``trace not in spans``, ``span not in trace``, ``trace has no root``).
    n_records, n_on_span, n_trace_level, n_unmatched : int
        Records given; put on their span; trace-level (trace id, no span id: put on their service's
        span of the trace, else on the trace's request root); matched no span. ``n_on_span + n_trace_level + n_unmatched == n_records``.
    params : dict
        The arguments used: ``{"templates": "given"}`` when ``templates`` was passed, else ``"log_templates(logs)"``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> r = attach_logs(spans, tk.empty_logs())
    >>> r.n_records, r.n_unmatched
    (0, 0)
    """

    spans: pd.DataFrame
    unmatched: pd.DataFrame
    n_records: int
    n_on_span: int
    n_trace_level: int
    n_unmatched: int
    params: dict = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """Counts of log records by where they went (records, share of all records: NaN when no record was given,
        as 0 of 0 is no share)."""
        n = self.n_records if self.n_records else np.nan
        where = ["on their span", "trace-level: on their service's span of the trace, else its request root",
                 "matched no span"]
        counts = [self.n_on_span, self.n_trace_level, self.n_unmatched]
        return pd.DataFrame({"records": counts, "share_of_records": [c / n for c in counts]}, index=pd.Index(where, name="where"))


#: severities that make a log record evidence of an error
ERROR_SEVERITIES = ("ERROR", "FATAL")


def require_logs_frame(logs: Any, who: str) -> None:
    """Raise an :class:`~tracekit.errors.ArgumentError` naming ``who`` unless ``logs`` is a logs frame (a
    metrics or spans frame given as ``logs=`` is said to be one).

    >>> require_logs_frame(pd.DataFrame({"name": ["cpu"], "value": [1.0], "exemplars": [[]]}), "f")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: f: logs is not a logs frame (missing time, observed_time, trace_id, span_id, service, host, severity_text, …); it is a metrics frame: pass it as metrics=
    """
    missing = [c for c in LOG_COLUMN_NAMES if c not in logs.columns] if isinstance(logs, pd.DataFrame) else ["(not a DataFrame)"]
    if missing:
        cols = set(logs.columns) if isinstance(logs, pd.DataFrame) else set()
        hint = ("it is a metrics frame: pass it as metrics=" if {"name", "value", "exemplars"} <= cols else
                "it is a spans frame" if {"parent_id", "duration_ms"} <= cols else
                "read it with tk.read_logs or tk.logs_from_columns")
        shown = ", ".join(missing[:7]) + (", …" if len(missing) > 7 else "")
        raise ArgumentError(f"{who}: logs is not a logs frame (missing {shown}); {hint}")


def attach_logs(spans: pd.DataFrame, logs: pd.DataFrame, *, templates: pd.DataFrame | None = None) -> AttachedLogs:
    """Put each log record on its span as an event: a new spans frame, and what matched nothing.

    Parameters
    ----------
    spans : DataFrame
        A spans frame.
    logs : DataFrame
        A logs frame (:func:`tracekit.read_logs`, :func:`tracekit.logs_from_columns`).
    templates : DataFrame, optional
        :func:`log_templates` of ``logs`` (computed when not given).

    Returns
    -------
    AttachedLogs
        ``.spans`` (new frame; the input is not modified), ``.unmatched`` and the counts. Records an
        earlier ``attach_logs`` put on ``spans`` are replaced by ``logs``' (attaching twice does not
        count a record twice: the events hold what ``log_records`` counts).
        Records are joined on ``(trace_id, span_id)``; a span read twice gets them on the copy that is
        the span (the span tree's rule, :func:`tracekit.core.span_rows`: the longer copy, whatever the row order); a record with a trace id but no span id goes to the span of its
        ``service`` in the trace (that service's entry span of the call it was written in; a Lambda log
        group ``/aws/lambda/<function>`` names the function), else to the trace's request root, marked
        trace-level. A 64-bit trace id (upper half zeros: Datadog's ``dd.trace_id`` logged by a tracer whose traces
        are 128-bit) names the one trace whose lower half it is, when no trace has its own id. A store's lazy ``events`` column
        (:func:`tracekit.read_parquet`) stays lazy: only the cells of spans given records are built.

    Raises
    ------
    ArgumentError
        ``logs`` lacks a logs column, or ``templates`` is not :func:`log_templates` of ``logs`` (its columns, indexed
        like ``logs``).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16],
    ...     "parent_id": [None, "1" * 16], "service": ["web", "db"], "name": ["GET /", "SELECT"],
    ...     "start": [0, 10], "end": [100, 90]})
    >>> logs = tk.logs_from_columns({"time": [20, 30, 40], "body": ["slow query 31 ms", "done", "x"],
    ...     "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["2" * 16, None, None],
    ...     "severity": ["WARN", "INFO", "ERROR"]})
    >>> r = attach_logs(spans, logs)
    >>> r.spans["log_records"].tolist(), r.n_trace_level, r.unmatched["reason"].tolist()
    ([1, 1], 1, ['trace not in spans'])
    >>> r.spans.loc[1, "events"][0]["attributes"]["log.body"]
    'slow query 31 ms'
    """
    require_columns(spans, ["trace_id", "span_id", "events", "start"], "attach_logs")
    require_logs_frame(logs, "attach_logs")
    params = {"templates": "given" if templates is not None else "log_templates(logs)"}
    if templates is None:
        templates = log_templates(logs)
    elif not isinstance(templates, pd.DataFrame) or not {"template_id", "template"} <= set(templates.columns) \
            or not templates.index.equals(logs.index):
        raise ArgumentError("attach_logs: templates must be log_templates(logs) (columns template_id and template, "
                            "indexed like logs)")
    n_spans, n_logs = len(spans), len(logs)
    row, trace_level, reason = log_span_rows(spans, logs)
    unmatched = row < 0
    trace_level &= row >= 0
    matched = np.flatnonzero(row >= 0)
    tns = logs["time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    # events, built for the matched records only, grouped by span row in time order
    order = matched[np.lexsort((tns[matched], row[matched]))]
    counts = np.bincount(row[matched], minlength=n_spans).astype(np.int64)
    is_err = logs["severity_text"].astype(STRING).isin(ERROR_SEVERITIES).to_numpy(dtype=bool)
    errors = np.bincount(row[matched], weights=is_err[matched].astype(np.float64), minlength=n_spans).astype(np.int64)
    events_in = spans["events"].array
    # a store's lazy events column stays lazy: only the cells of spans that get records are built
    lazy = isinstance(events_in, LazyColumn) and events_in.is_lazy
    events_out = None if lazy else spans["events"].to_numpy(dtype=object).copy()
    span_rows, cells = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    if len(order):
        rows_sorted = row[order]
        starts = np.flatnonzero(np.r_[True, rows_sorted[1:] != rows_sorted[:-1]])
        ends = np.r_[starts[1:], len(order)]
        span_rows = rows_sorted[starts]

        sev, body = _text_cells(logs["severity_text"], order), _text_cells(logs["body"], order)
        num = logs["severity_number"].astype("Int64").to_numpy(dtype=object, na_value=None)[order].tolist()
        tid, ttext = _text_cells(templates["template_id"], order), _text_cells(templates["template"], order)
        nat = np.iinfo(np.int64).min
        # one dict pair per record and one list per span: hundreds of thousands of small containers
        # and no cycles, which the cyclic GC would scan over and over (measured: 0.7 s of 1.6 s on
        # 174k records) -- paused, as the readers pause it
        with gc_paused():
            new = [{"time": (t if t != nat else None), "name": LOG_EVENT_NAME,
                    "attributes": {"log.record": True, "log.severity": s, "log.severity_number": n, "log.body": b,
                                   "log.template_id": k, "log.template": tt, "log.trace_level": tl}}
                   for t, s, n, b, k, tt, tl in zip(tns[order].tolist(), sev, num, body, tid, ttext,
                                                     trace_level[order].tolist(), strict=True)]
            old = (events_in[span_rows].to_numpy() if lazy else events_out[span_rows]).tolist()  # type: ignore[index]
            # the span's own events copied (the input frame's dicts are not the result's), then its records
            # (a tuple or an array of events, which validate_spans and pandas' read_parquet give, kept as well as a list)
            cells = np.fromiter((_own_events(o) + new[a:b_] for o, a, b_ in zip(old, starts.tolist(), ends.tolist(),
                                                                                 strict=True)),
                                dtype=object, count=len(old))
    if "log_records" in spans.columns:  # records an earlier attach_logs put on spans that get none now: taken off
        stale = np.setdiff1d(np.flatnonzero(spans["log_records"].fillna(0).to_numpy(dtype=np.int64) > 0), span_rows)
        if len(stale):
            old = (events_in[stale].to_numpy() if lazy else events_out[stale]).tolist()  # type: ignore[index]
            span_rows = np.concatenate([span_rows, stale])
            cells = np.concatenate([cells, np.fromiter(map(_own_events, old), dtype=object, count=len(old))])
    out = spans.copy(deep=False)
    if lazy:
        out["events"] = pd.Series(events_in.with_cells(span_rows, cells), index=spans.index)
    else:
        events_out[span_rows] = cells  # type: ignore[index]
        out["events"] = pd.Series(events_out, index=spans.index, dtype=object)
    out["log_records"] = pd.Series(counts, index=spans.index)
    out["log_errors"] = pd.Series(errors, index=spans.index)
    un = logs.iloc[np.flatnonzero(unmatched)].copy()
    un["reason"] = pd.array(reason[unmatched], dtype=STRING)
    n_tl = int(trace_level.sum())
    return AttachedLogs(spans=out, unmatched=un, n_records=n_logs, n_on_span=int(len(matched) - n_tl),
                        n_trace_level=n_tl, n_unmatched=int(unmatched.sum()), params=params)


def _own_events(events: Any) -> list:
    """A copy of a span's events (a list, tuple or array of them; anything else is none) without the log records an
    earlier :func:`attach_logs` put there: attaching replaces them, so a frame's events hold its ``log_records``."""
    if not isinstance(events, (list, tuple, np.ndarray)) or not len(events):
        return []
    return [_copied(e) for e in events if not is_log_event(e)]


def _text_cells(values: pd.Series, rows: np.ndarray) -> list:
    """The cells of a text column at positions ``rows`` as Python strings (None when missing), each
    distinct string made once (Arrow dictionary-encodes them: severities and templates repeat)."""
    arr = pa.array(values.astype(STRING).array, pa.large_string()).take(pa.array(rows, pa.int64()))
    enc = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    words = np.asarray([*enc.dictionary.to_pylist(), None], dtype=object)
    return words[enc.indices.fill_null(len(words) - 1).to_numpy(zero_copy_only=False)].tolist()


def log_span_rows(spans: pd.DataFrame, logs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The span row each log record belongs to: the join :func:`attach_logs` makes, without events.

    Parameters
    ----------
    spans : DataFrame
        A spans frame.
    logs : DataFrame
        A logs frame.

    Returns
    -------
    (ndarray of int64, ndarray of bool, ndarray of object)
        Per record: the position of its span in ``spans`` (of a span read twice, the copy that is the span:
        :func:`tracekit.core.span_rows`; for a record with a trace id and no span id: its service's entry span in the trace, the last started by the record's time, else the
        trace's request root; -1 for none), whether it went there as trace-level,
        and why it matched nothing (None when it matched).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "service": ["web"],
    ...     "name": ["GET /"], "start": [0], "end": [9]})
    >>> logs = tk.logs_from_columns({"time": [1, 2], "body": ["x", "y"], "trace_id": ["a" * 32, None]})
    >>> row, trace_level, reason = log_span_rows(spans, logs)
    >>> row.tolist(), trace_level.tolist(), reason.tolist()
    ([0, -1], [True, False], [None, 'no trace id'])
    """
    n_logs = len(logs)
    tree = span_tree(spans)
    ltrace = _widened(logs["trace_id"].astype(STRING), tree.trace_ids)
    lspan = logs["span_id"].astype(STRING)
    has_trace = ltrace.notna().to_numpy()
    has_span = lspan.notna().to_numpy()
    row = np.full(n_logs, -1, dtype=np.int64)
    on_span = has_trace & has_span
    if on_span.any():
        # the copy that is the span (core.tree.span_rows), not the first row: a record on a span read twice went to
        # whichever copy was read first, the one the analyses leave out when it was the shorter
        row[on_span] = span_rows(spans, ltrace[on_span], lspan[on_span], tree)
    # the trace of a record put on its span is that span's; only the others are looked up by id
    tcode = np.full(n_logs, -1, dtype=np.int64)
    hit = row >= 0
    tcode[hit] = tree.trace[row[hit]]
    rest = has_trace & ~hit
    if rest.any():
        tcode[rest] = pd.Index(np.asarray(tree.trace_ids, dtype=object)).get_indexer(
            ltrace[rest].to_numpy(dtype=object, na_value=None))
    trace_level = has_trace & ~has_span & (tcode >= 0)
    if trace_level.any():
        row[trace_level] = tree.request_root[tcode[trace_level]]
        if "service" in spans.columns and "service" in logs.columns:  # the span of the service that wrote it
            at = np.flatnonzero(trace_level)
            own = _service_entries(spans, tree, logs, at, tcode[at])
            row[at[own >= 0]] = own[own >= 0]
    reason = np.full(n_logs, None, dtype=object)
    unmatched = row < 0
    reason[unmatched & ~has_trace] = "no trace id"
    reason[unmatched & has_trace & (tcode < 0)] = "trace not in spans"
    reason[unmatched & has_trace & (tcode >= 0) & has_span] = "span not in trace"
    reason[unmatched & has_trace & (tcode >= 0) & ~has_span] = "trace has no root"
    trace_level &= row >= 0
    return row, trace_level, reason


_UPPER_ZERO = "0" * 16


def _widened(ltrace: pd.Series, trace_ids: Any) -> pd.Series:
    """The records' trace ids, a 64-bit one (its upper half zeros: Datadog's ``dd.trace_id`` of a tracer that logs
    the lower half of a 128-bit trace id, its default before dd-trace 1.x's 128-bit logging) replaced by the spans'
    128-bit trace whose lower half it is — where the spans hold no trace of the record's own id and exactly one such
    trace (two 128-bit traces sharing a lower half: the record names neither). A new Series; the same one when no
    record's id is widened.

    >>> ids = ["5759e988bd862e3fe1be46a994272793", "0000000000000000aaaaaaaaaaaaaaaa"]
    >>> _widened(pd.Series(["0000000000000000e1be46a994272793", "0000000000000000aaaaaaaaaaaaaaaa", None],
    ...                    dtype="string"), ids).tolist()
    ['5759e988bd862e3fe1be46a994272793', '0000000000000000aaaaaaaaaaaaaaaa', <NA>]
    """
    short = ltrace.str.startswith(_UPPER_ZERO).fillna(False).to_numpy(dtype=bool)
    if not short.any():
        return ltrace
    tids = pd.Series(np.asarray(trace_ids, dtype=object), dtype=object)
    if not len(tids):
        return ltrace
    wide = tids[~tids.str.startswith(_UPPER_ZERO).fillna(True)]
    known = pd.Index(tids.dropna())
    ask = short & ~np.asarray(pd.Index(ltrace.to_numpy(dtype=object, na_value=None)).isin(known))
    if not ask.any() or wide.empty:
        return ltrace
    lower = wide.str[16:]
    once = ~lower.duplicated(keep=False)
    full_of = pd.Series(wide[once].to_numpy(), index=lower[once].to_numpy())
    got = full_of.reindex(ltrace[ask].str[16:].to_numpy(dtype=object, na_value=None)).to_numpy(dtype=object)
    hit = pd.notna(got)
    if not hit.any():
        return ltrace
    out = ltrace.copy()
    at = np.flatnonzero(ask)[hit]
    out.iloc[at] = got[hit]
    return out


#: the log group AWS Lambda writes a function's records to: ``/aws/lambda/<function>``, the name X-Ray gives the
#: function's segment (the record's ``service`` when the record names none, as read_logs and fetch_logs read it)
_LAMBDA_GROUP = "/aws/lambda/"


def _service_entries(spans: pd.DataFrame, tree: Any, logs: pd.DataFrame, at: np.ndarray, tcode: np.ndarray) -> np.ndarray:
    """For the trace-level records at positions ``at`` (trace codes ``tcode``): the row of their service's span in
    their trace, -1 for none (the request root then) — the service's entry spans (its spans whose parent is in
    another service or missing: one per call into the service), the last started by the record's time (the first
    when none had started). A record of the request root's service, or naming none, keeps the root (-1)."""
    lsvc = logs["service"].astype(STRING).iloc[at].reset_index(drop=True)
    lambda_fn = lsvc.str.startswith(_LAMBDA_GROUP).fillna(False).to_numpy(dtype=bool)
    lsvc = lsvc.to_numpy(dtype=object, na_value=None)
    if lambda_fn.any():
        lsvc[lambda_fn] = [s[len(_LAMBDA_GROUP):] for s in lsvc[lambda_fn]]
    ssvc = spans["service"].astype(STRING).to_numpy(dtype=object, na_value=None)
    code, _ = pd.factorize(np.concatenate([ssvc, lsvc]))  # None: -1
    scode, lcode = code[:len(ssvc)], code[len(ssvc):]
    out = np.full(len(at), -1, dtype=np.int64)
    root = tree.request_root[tcode]
    ask = (lcode >= 0) & ~((root >= 0) & (scode[np.maximum(root, 0)] == lcode))
    # (core.tree.service_entries: the one definition of a span entering its service)
    entry = service_entries(spans, tree) & (scode >= 0) & ~tree.duplicate & ~tree.cycle
    if not ask.any() or not entry.any():
        return out
    from ..core.frame import ns

    e = np.flatnonzero(entry)
    n_svc = int(code.max()) + 1
    ekey = tree.trace[e].astype(np.int64) * n_svc + scode[e]
    estart = ns(spans["start"])[e]
    q = np.flatnonzero(ask)
    qkey = tcode[q].astype(np.int64) * n_svc + lcode[q]
    qtime = logs["time"].to_numpy(dtype="datetime64[ns]").view(np.int64)[at[q]]  # NaT: the smallest int64, before all
    # entries starting at the same ns: the smallest span id wins (core.tree span_code), whatever the row order —
    # merge_asof takes the last of a tie, so ties are ordered by span id descending for it, ascending for ``first``
    sc = tree.span_code[e]
    entries = pd.DataFrame({"key": ekey, "t": estart, "row": e})
    right = entries.iloc[np.lexsort((-sc, ekey, estart))]
    left = pd.DataFrame({"key": qkey, "t": qtime, "q": q}).sort_values("t", kind="stable")
    got = pd.merge_asof(left, right, on="t", by="key", direction="backward")
    rows = got["row"].to_numpy(dtype=np.float64, na_value=np.nan).copy()
    # the service's first entry in the trace (by start, then span id)
    first = entries.iloc[np.lexsort((sc, estart, ekey))].drop_duplicates("key").set_index("key")["row"]
    miss = np.isnan(rows)
    rows[miss] = first.reindex(got["key"].to_numpy()[miss]).to_numpy(dtype=np.float64, na_value=np.nan)
    ok = ~np.isnan(rows)
    out[got["q"].to_numpy()[ok]] = rows[ok].astype(np.int64)
    return out


def is_log_event(event: Any) -> bool:
    """Whether a span event is a log record put there by :func:`attach_logs`.

    Parameters
    ----------
    event : Any
        One item of a span's ``events`` list.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_log_event({"name": "log", "attributes": {"log.record": True}}), is_log_event({"name": "exception"})
    (True, False)
    """
    return isinstance(event, dict) and event.get("name") == LOG_EVENT_NAME and \
        bool((event.get("attributes") or {}).get("log.record"))


def log_error_mask(spans: pd.DataFrame) -> np.ndarray:
    """Per span: it carries an ERROR or FATAL log record (``log_errors`` > 0 after :func:`attach_logs`).

    Parameters
    ----------
    spans : DataFrame
        A spans frame; without a ``log_errors`` column (no logs attached) every value is False.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import tracekit as tk
    >>> log_error_mask(tk.examples.load("checkout-small")).any()
    np.False_
    """
    return logged_error(spans)  # the kernel's one definition (core.outcomes: evidence, not the span's outcome)


def log_dimensions(spans: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Derived dimensions of the log records attached to spans, for attribution: per span, each
    distinct ``log_template`` it emitted and each ``log_severity``.

    Parameters
    ----------
    spans : DataFrame
        A spans frame (log records attached by :func:`attach_logs`; without them, nothing).

    Returns
    -------
    dict
        ``{"log_template": (rows, values), "log_severity": (rows, values)}``: positional span rows
        and the value of each (one per distinct value per span).

    Examples
    --------
    >>> import tracekit as tk
    >>> log_dimensions(tk.examples.load("checkout-small"))["log_template"][0].size
    0
    """
    out: dict[str, tuple[list, list]] = {"log_template": ([], []), "log_severity": ([], [])}
    if "events" in spans.columns:
        ev = spans["events"].to_numpy(dtype=object)
        cand = np.flatnonzero(spans["log_records"].fillna(0).to_numpy(dtype=np.int64) > 0) if "log_records" in spans.columns \
            else np.arange(len(ev))
        for r in cand.tolist():
            evs = ev[r]
            if not isinstance(evs, (list, tuple)):
                continue
            seen_t: set = set()
            seen_s: set = set()
            for e in evs:
                if is_log_event(e):
                    a = e["attributes"]
                    t, sv = a.get("log.template"), a.get("log.severity")
                    if t is not None and t not in seen_t:
                        seen_t.add(t)
                        out["log_template"][0].append(r)
                        out["log_template"][1].append(t)
                    if sv is not None and sv not in seen_s:
                        seen_s.add(sv)
                        out["log_severity"][0].append(r)
                        out["log_severity"][1].append(sv)
    return {k: (np.asarray(r, dtype=np.int64), np.asarray(v, dtype=object)) for k, (r, v) in out.items()}


def trace_logs(spans: pd.DataFrame, trace_id: str, *, errors_first: bool = False) -> pd.DataFrame:
    """The log records attached to one trace's spans (:func:`attach_logs`), in time order.

    Parameters
    ----------
    spans : DataFrame
        A spans frame with log records attached.
    trace_id : str
        The trace (32-hex or X-Ray form, or an id as the frame holds it).
    errors_first : bool, default False
        The ERROR and FATAL records (:data:`ERROR_SEVERITIES`) first, each part in time order: what a reader of a
        long trace's first rows needs (TrainTicket 09:25's example trace: 111 records, its two ERROR records 60th and
        61st in time order).

    Returns
    -------
    DataFrame
        One row per record: ``time_ms`` (from the trace's first start), ``service``, ``name`` (the
        span's operation), ``severity``, ``body``, ``template_id``, ``trace_level``. Empty without logs.
        ``attrs["errors"]``: how many are ERROR or FATAL records.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "service": ["web"],
    ...     "name": ["GET /"], "start": [0], "end": [9_000_000]})
    >>> logs = tk.logs_from_columns({"time": [2_000_000], "body": ["<b>hi</b>"], "trace_id": ["a" * 32],
    ...     "span_id": ["1" * 16], "severity": ["WARN"]})
    >>> trace_logs(attach_logs(spans, logs).spans, "a" * 32)[["time_ms", "severity", "body"]].values.tolist()
    [[2.0, 'WARN', '<b>hi</b>']]
    """
    from ..core import trace_id_of

    tid = trace_id_of(spans, trace_id)
    sub = spans[spans["trace_id"].astype(object) == tid]
    cols: dict[str, list] = {k: [] for k in ("time_ms", "service", "name", "severity", "body", "template_id", "trace_level")}
    if len(sub) and "events" in sub.columns:
        t0 = int(sub["start"].min().value)
        for svc, name, evs in zip(sub["service"].astype(object), sub["name"].astype(object), sub["events"], strict=True):
            for e in evs if isinstance(evs, (list, tuple)) else ():
                if is_log_event(e):
                    a = e["attributes"]
                    t = e.get("time")
                    for k, v in (("time_ms", (int(t) - t0) / 1e6 if t is not None else np.nan), ("service", svc),
                                 ("name", name), ("severity", a.get("log.severity")), ("body", a.get("log.body")),
                                 ("template_id", a.get("log.template_id")), ("trace_level", bool(a.get("log.trace_level")))):
                        cols[k].append(v)
    out = pd.DataFrame({"time_ms": np.asarray(cols["time_ms"], dtype=np.float64),
                        **{k: pd.array(cols[k], dtype=STRING) for k in ("service", "name", "severity", "body", "template_id")},
                        "trace_level": np.asarray(cols["trace_level"], dtype=bool)})
    is_err = out["severity"].isin(ERROR_SEVERITIES).to_numpy(dtype=bool, na_value=False)
    keys = ["_later", "time_ms"] if errors_first else ["time_ms"]
    out = out.assign(_later=~is_err).sort_values(keys, kind="stable").drop(columns="_later").reset_index(drop=True)
    out.attrs["errors"] = int(is_err.sum())
    return out
