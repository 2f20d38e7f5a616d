"""``tracekit query FILE... 'QUERY'``: the traces a TraceQL query matches, printed as text.

For a spanset query, one block per matching trace (most matched spans first, then the slowest
request): the trace id, its request root and request latency, then each matching span with its
offset from the trace's first known start, duration, service, name, kind and status, and the
``select(...)`` / ``by(...)`` / aggregate values (durations in ms; a span whose start is unknown says so). For a
metrics query (``| rate()`` ...), the time series table (``--step`` sets the bucket width).

    $ tracekit query datasets/checkout-incident/ '{ resource.service.name = "payments" } >> { status = error }'
    $ tracekit query spans.jsonl '{ } | rate() by (resource.service.name)' --step 1min
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pandas as pd

from .core.words import extent_words, ms_label, ms_number, terminal_text

__all__ = ["add_parser", "format_matches", "metrics_note"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``query`` subcommand (run by :func:`tracekit.cli.main`).

    >>> p = argparse.ArgumentParser(); s = p.add_subparsers(dest="command")
    >>> add_parser(s)
    >>> p.parse_args(["query", "a.json", "{ }"]).limit
    20
    """
    p = sub.add_parser("query", help="print the traces a TraceQL query matches",
                       description="Load trace files and print the traces (spans) a TraceQL query matches, or the "
                                   "time series of a TraceQL metrics query.")
    p.add_argument("inputs", nargs="+", help="files or directories, then the query (last argument)")
    p.add_argument("--limit", type=int, default=20, help="traces to print (default 20; 0: all)")
    p.add_argument("--step", default="1min",
                   help="bucket width of a metrics query, a duration such as 30s, 1min or 1h (default 1min)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--errors", choices=("raise", "skip"), default="raise",
                   help="bad records: 'raise' stops with an error (default), 'skip' skips them")
    g.add_argument("--lenient", dest="errors", action="store_const", const="skip", help="alias of --errors skip")


def format_matches(spans: pd.DataFrame, matched: pd.DataFrame, limit: int = 20) -> str:
    """The matching spans of ``matched`` (a :func:`tracekit.traceql` result on ``spans``), trace by trace.

    Parameters
    ----------
    spans : DataFrame
        The spans queried (for each trace's request root and first start).
    matched : DataFrame
        The query's result.
    limit : int
        Traces to show (0: all).

    Returns
    -------
    str
        Text, one block per trace (trace data as it is: the command escapes control characters).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small-otlp")
    >>> text = format_matches(spans, tk.traceql(spans, "{ status = error }"), limit=1)
    >>> n = spans.loc[spans["status"] == "error", "trace_id"].nunique()
    >>> text.splitlines()[0].startswith(f"{n} traces, {int((spans['status'] == 'error').sum())} spans matched")
    True
    >>> format_matches(spans, spans.iloc[:1], limit=1).splitlines()[0].startswith("1 trace, 1 span matched")
    True
    """
    from .core import start_unknown, trace_outcomes
    from .core.tree import span_count
    from .core.words import plural

    n_tr = matched["trace_id"].nunique()
    n_spans = span_count(spans)  # spans, not rows, as the query counts them
    head = (f"{plural(n_tr, 'trace')}, {plural(len(matched), 'span')} matched (of "
            f"{plural(spans['trace_id'].nunique(), 'trace')}, {plural(n_spans, 'span')})"
            f"{': showing ' + str(min(limit, n_tr)) if limit and n_tr > limit else ''}")
    if matched.empty:
        return head
    out = [head]
    outcomes = trace_outcomes(spans).set_index("trace_id")
    # offsets from the first known start: a span whose start is unknown (OTLP's unset start, read as 1970:
    # core.start_unknown) put the trace's other spans at "+1772460000000.0 ms"
    first = spans.loc[~start_unknown(spans)].groupby("trace_id", sort=False)["start"].min()
    counts = matched.groupby("trace_id", sort=False).size()
    order = pd.DataFrame({"n": counts, "ms": outcomes["request_ms"].reindex(counts.index)})
    order = order.sort_values(["n", "ms"], ascending=[False, False], kind="stable")
    extra = [c for c in matched.columns if c not in spans.columns]
    shown = order.index[:limit] if limit else order.index
    # one pass over the matched spans (was: the whole matched frame filtered and iterated once per trace shown,
    # 1 ms per span): each trace's rows in order of start (stable, no start last), the columns as arrays
    m = matched.reset_index(drop=True)
    rows_of = m.groupby("trace_id", sort=False).indices
    start = m["start"]
    unknown = start_unknown(m) if len(m) else np.zeros(0, dtype=bool)  # such a span is listed last
    start_key = np.where(start.isna().to_numpy() | unknown, np.iinfo(np.int64).max,
                         start.to_numpy(dtype="datetime64[ns]").view(np.int64))
    off = ((start - m["trace_id"].map(first).astype(start.dtype)) / pd.Timedelta(milliseconds=1)).to_numpy(
        dtype=np.float64, na_value=np.nan)
    dur = m["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    service, name, kind, status = (m[c].to_numpy(dtype=object) for c in ("service", "name", "kind", "status"))
    extra_values = [m[c].array for c in extra]
    as_ms = [_is_duration(c) for c in extra]  # said in ms with the unit, as the line's own columns (were raw ns)
    for tid in shown:
        o = outcomes.loc[tid] if tid in outcomes.index else None
        root = ""
        if o is not None and bool(o["has_root"]):
            # each name escaped with its newlines (core.words.terminal_text): a name with "\n" forged a line
            root = f"; root {terminal_text(o['root_service'])} {terminal_text(o['root_name'])}, {_request_words(o)}"
        out.append("")
        # the id escaped too: a frame keeps an id that is no hex id as given (spans_from_columns, a store written
        # from it), and one holding "\n" forged a line of its own
        out.append(f"trace {terminal_text(tid)}: {plural(int(order.loc[tid, 'n']), 'span')} matched{root}")  # as the head says
        idx = rows_of[tid]
        for p in idx[np.argsort(start_key[idx], kind="stable")]:
            # a table: numbers in core.words.ms_number (µs spans kept their digits: "+0.0 ms  0.0 ms")
            if unknown[p]:  # no start: no offset, no duration (its 1970 start made it 56 years)
                at, d = "start unknown", "unknown"
            else:
                at = f"+{ms_number(off[p]):>9} ms"
                d = "in progress" if np.isnan(dur[p]) else f"{ms_number(dur[p])} ms"
            line = f"  {at}  {d:>12}  {terminal_text(service[p])}  {terminal_text(name[p])}  [{kind[p]}, {status[p]}]"
            if extra:
                line += "  " + " ".join(f"{c}={_value_text(v[p], ms)}"
                                        for c, v, ms in zip(extra, extra_values, as_ms, strict=True))
            out.append(line)
    return "\n".join(out)


#: an aggregate's column name as the query wrote it: ``avg(duration)``
_AGGREGATE = re.compile(r"(?:avg|min|max|sum)\s*\((.*)\)", re.S)


def _is_duration(column: str) -> bool:
    """Whether a column a query added holds durations (in ns): a duration intrinsic as written (``duration``,
    ``trace:duration``, ``event:timeSinceStart``...) selected or grouped by, or an aggregate of one
    (``avg(duration)``).

    >>> _is_duration("avg(duration)"), _is_duration("trace:duration"), _is_duration("span.duration"), _is_duration("count()")
    (True, True, False, False)
    """
    from .analysis.traceql.parse import INTRINSIC_TYPES, Intrinsic, parse
    from .errors import TraceKitError

    m = _AGGREGATE.fullmatch(column.strip())
    try:
        f = parse("{ } | select(" + (m.group(1) if m else column) + ")").body.stages[-1].fields[0]
    except (TraceKitError, AttributeError, IndexError):
        return False
    return isinstance(f, Intrinsic) and INTRINSIC_TYPES.get(f.name) == "duration"


def _value_text(value: object, ms: bool) -> str:
    """A value a query added, on a span's line: a duration (ns) in ms with its unit, anything else as written (a
    numpy number as the plain number: it read ``np.float64(62750000.0)``).

    >>> _value_text(np.float64(62_750_000.0), True), _value_text(np.int64(2), False), _value_text("/", False)
    ('62.8 ms', '2', "'/'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    if ms and isinstance(value, (int, float)) and not isinstance(value, bool) and not pd.isna(value):
        return ms_label(value / 1e6)
    return repr(value)


def _request_words(o: pd.Series) -> str:
    """A trace's request latency (a row of :func:`tracekit.core.trace_outcomes`), or why it has none: it said
    "request nan ms" of a consumer-rooted trace (asynchronous work) and of a root not ended.

    >>> _request_words(pd.Series({"request_ms": 12.34, "request": True, "continues": None, "extent_ms": 20.0}))
    'request 12.3 ms'
    >>> _request_words(pd.Series({"request_ms": 12.34, "request": True, "continues": None, "extent_ms": 20.0,
    ...                           "in_progress": True}))
    'request 12.3 ms, trace extent at least 20.0 ms, a span still in progress'
    >>> _request_words(pd.Series({"request_ms": np.nan, "request": False, "continues": None, "extent_ms": 20.0}))
    'not a request (asynchronous work), trace extent 20.0 ms'
    """
    req, extent = o["request_ms"], o["extent_ms"]
    running = bool(o.get("in_progress", False))
    if pd.notna(req):
        # the request answered while a span of its trace still runs (an async tail): said, with the extent so far
        return f"request {ms_label(req)}" + (
            f", {extent_words(extent, True)}" if running and pd.notna(extent) else
            ", a span still in progress" if running else "")
    if bool(o["request"]) and pd.isna(o.get("start", 0)):  # an unset start (read as 1970: core.start_unknown)
        why = "no request latency: its root's start time is unknown"
    elif bool(o["request"]):
        why = "request in progress (its root has not ended)"
    elif pd.notna(o["continues"]):
        why = "not a request: the callee's half of a request whose trace context was dropped"
    else:
        why = "not a request (asynchronous work)"
    # a trace with a span still running: its extent so far is a lower bound, said so (core.words.extent_words)
    return why + (f", {extent_words(extent, bool(o.get('in_progress', False)))}" if pd.notna(extent) else "")


def metrics_note(query: str, step: str) -> str:
    """What the ``value`` column of a TraceQL metrics query's table is, with its unit and bucket: the table printed
    a p95 of span durations as ``0.172122`` (seconds, as Tempo reports them) beside tracekit's milliseconds
    everywhere else, and a rate without "per second".

    Parameters
    ----------
    query : str
        The metrics query.
    step : str
        The bucket width given (``--step``).

    Returns
    -------
    str
        One line.

    Examples
    --------
    >>> metrics_note("{ } | quantile_over_time(duration, .95) by (resource.service.name)", "10min")
    'value: quantile_over_time of span duration in each 10min bucket, in seconds (as Tempo reports durations: 0.25 is 250 ms)'
    >>> metrics_note("{ status = error } | rate()", "1min")
    'value: matching spans per second, over each 1min bucket'
    """
    from .analysis.traceql import parse
    from .analysis.traceql.metrics import DURATION_INTRINSICS
    from .analysis.traceql.parse import Intrinsic, MetricsPipeline

    body = parse(query).body
    if not isinstance(body, MetricsPipeline):  # series combined with + - * /
        return (f"value: the series combined as written, each over {step} buckets (rates per second, durations in "
                "seconds as Tempo reports them)")
    agg = body.agg
    if agg.fn == "rate":
        return f"value: matching spans per second, over each {step} bucket"
    if agg.fn == "count_over_time":
        return f"value: matching spans in each {step} bucket"
    field = agg.field
    duration = isinstance(field, Intrinsic) and field.name in DURATION_INTRINSICS
    what = "span duration" if duration and field.name == "duration" else getattr(field, "text", str(field))
    unit = "in seconds" if duration else "in the attribute's own unit"
    why = " (as Tempo reports durations: 0.25 is 250 ms)" if duration else ""
    if agg.fn == "histogram_over_time":
        return (f"value: matching spans in each {step} bucket and {what} bucket; bucket: its upper bound, {unit}"
                + why)
    return f"value: {agg.fn} of {what} in each {step} bucket, {unit}{why}"
