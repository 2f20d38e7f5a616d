"""The ``tracekit`` command line.

Subcommands: ``summary`` (a quick text summary of trace files), ``report`` (a self-contained HTML postmortem
report), ``query`` (the traces a TraceQL query matches), ``convert`` (trace files to a spans store, Parquet, reopened fast by every command and ``tk.read``), ``fetch-xray`` (fetch traces from AWS X-Ray into a file). User errors print one line on stderr and exit
with a non-zero code, never a traceback.

Example::

    $ tracekit summary datasets/checkout-incident/
    $ tracekit report datasets/checkout-incident/ --baseline datasets/checkout-baseline/ -o report.html
    $ tracekit convert datasets/checkout-incident/ incident.parquet
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .core.words import plural
from .errors import TraceKitError

__all__ = ["main", "build_parser", "format_summary", "printable", "check_output"]

EXIT_USAGE = 2
EXIT_INPUT = 1


def _errors_arguments(p: argparse.ArgumentParser, listed: str) -> None:
    """``--errors raise|skip`` (as ``errors=`` in the Python API) and ``--lenient``, its alias for ``--errors skip``."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--errors", choices=("raise", "skip"), default="raise",
                   help=f"bad records: 'raise' stops with an error (default), 'skip' skips them ({listed})")
    g.add_argument("--lenient", dest="errors", action="store_const", const="skip", help="alias of --errors skip")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tracekit`` command.

    >>> build_parser().parse_args(["summary", "a.json"]).command
    'summary'
    """
    from . import __version__

    parser = argparse.ArgumentParser(prog="tracekit", description="Investigate distributed traces (X-Ray, OTLP).")
    parser.add_argument("--version", action="version", version=f"tracekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("summary", help="quick text summary of trace files",
                       description="Load trace files (X-Ray or OTLP JSON, JSON lines, .gz; files or directories) "
                                   "and print traces, spans, services, error rate and latency percentiles.")
    p.add_argument("inputs", nargs="+", help="files or directories")
    _errors_arguments(p, "and list them")

    p = sub.add_parser("report", help="self-contained HTML postmortem report",
                       description="Analyse trace files and write one self-contained HTML report.")
    p.add_argument("inputs", nargs="+", help="incident trace files or directories")
    p.add_argument("--baseline", action="append", default=None, metavar="PATH",
                   help="baseline trace file or directory to compare against (repeatable; without it the report "
                        "uses the normal period before the detected change)")
    p.add_argument("--compare-by", default="operation", choices=("service", "operation", "call_path", "host", "version"),
                   help="what the comparison table groups by (default: operation)")
    p.add_argument("-o", "--output", default="report.html",
                   help="file to write: .html (the page, with its key findings beside it as .md, which may not be an "
                        "input, nor a .md there without its .html) or .md (the key findings as Markdown only); "
                        "default: report.html")
    p.add_argument("--title", default=None, help="report title (default: 'Trace postmortem report')")
    p.add_argument("--redact", action="append", default=None, metavar="KEY_GLOB",
                   help="attribute key pattern to redact (repeatable), e.g. 'user.email' or 'http.request.header.*'; "
                        "with any given, every built-in PII pattern (e-mail, card, phone, IP, tokens) is also replaced "
                        "in every text (names, messages, log records)")
    p.add_argument("--redact-paths", action="store_true",
                   help="hide the input files' paths in the report: each file named by its sha256 (size and hash kept)")
    p.add_argument("--worst", type=int, default=3,
                   help="number of slowest traces to show as waterfalls (default 3; 0: none)")
    p.add_argument("--logs", action="append", default=None, metavar="PATH",
                   help="log file or directory of the same periods (repeatable; OTLP logs, CloudWatch Logs JSON, "
                        "JSON lines): records on their spans, log evidence in the likely causes")
    p.add_argument("--metrics", action="append", default=None, metavar="PATH",
                   help="metric file or directory of the same periods (repeatable; OTLP metrics, CloudWatch JSON): "
                        "metric evidence in the likely causes, their metrics under their requests")
    _errors_arguments(p, "listed in the report")
    p.add_argument("--no-progress", action="store_true", help="do not print progress")

    from . import cli_query

    cli_query.add_parser(sub)
    p = sub.add_parser("convert", help="save trace files as a spans store (Parquet), to reopen fast",
                       description="Read trace files (X-Ray or OTLP JSON, JSON lines, .gz, or a spans store) and "
                                   "write them as a spans store: one Parquet file, or with --partition-by a directory "
                                   "of one file per hour or day. Reopen it with tk.read(OUT) or any tracekit command.")
    p.add_argument("inputs", nargs="+", help="files or directories")
    p.add_argument("output", help="the store to write, e.g. spans.parquet")
    p.add_argument("--partition-by", choices=("hour", "day"), default=None,
                   help="one file per hour or day of the traces' first start (a directory)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store (never an input)")
    _errors_arguments(p, "and list them in the store")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    try:
        from . import cli_xray
    except ImportError:  # pragma: no cover - module ships with the package
        cli_xray = None
    if cli_xray is not None:
        cli_xray.add_parser(sub)
    return parser


def printable(text: str) -> str:
    r"""``text`` with control characters (from trace data: service names, file content) shown as escapes,
    so nothing a trace carries can move the cursor or recolour the terminal; newlines are kept (a whole output of
    lines, each name in it escaped with its own newlines by :func:`tracekit.core.words.terminal_text`, the one rule).

    >>> print(printable("api\x1b[31m\tok"))
    api\x1b[31m\tok
    """
    from .core.words import terminal_text

    return terminal_text(text, newlines=True)


def _are(n: int) -> str:
    """The verb after a count said by core.words.plural: '1 file … that is', '2 files … that are' (they said
    'file(s) … that are' whatever the count)."""
    return "is" if n == 1 else "are"


def _load_signal(paths: Sequence[str], reader: Any, errors: str, what: str, kind: str,
                 redact: Sequence[str] | None) -> Any:
    """Read the report's logs or metrics: the files of a directory it does not read, the records it skipped
    and those of other signals are said once each, on one line, as :func:`_load` says the traces'."""
    import warnings

    from .errors import SkippedRecord, TraceFormatWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceFormatWarning)
        frame = reader(list(paths), errors=errors)
    files, notes = _ignored_files(frame)
    if files:
        _say("report", f"ignored {plural(len(files), 'file')} of the {what} that {_are(len(files))} not {kind} data: "
                       + ", ".join(files[:5]) + (" …" if len(files) > 5 else "")
                       + " (read: JSON files named .json, .jsonl, .ndjson, .txt or .gz)")
    skipped = frame.attrs.get("skipped", ()) or ()
    if skipped:
        _say("report", f"skipped {plural(len(skipped), 'bad record')} of the {what}; first: {_record(skipped[0], redact)}")
    if frame.attrs.get("truncated"):
        _say("report", f"warning: the {what} are incomplete: " + "; ".join(_truncation_causes(frame))
             + " — what is missing is not in the report")
    if notes:
        first = notes[0] if hasattr(notes[0], "reason") else SkippedRecord(*notes[0])  # read_metrics: (file, record, what)
        _say("report", f"ignored {plural(len(notes), 'record')} of the {what} that {_are(len(notes))} not {kind} data; first: "
                       f"{_record(first, redact)}")
    copies = int(frame.attrs.get("copies_dropped", 0) or 0)
    if copies:
        _say("report", f"dropped {copies:,} exact cop{'y' if copies == 1 else 'ies'} of {kind} records read again from "
                       "another file (equal in every field but the file and record they came from)")
    return frame


def _truncation_causes(frame: Any) -> list[str]:
    """Why a reader set ``attrs["truncated"]``, in words: files cut short (their skipped records say so),
    CloudWatch's ``PartialData`` (``attrs["partial"]``), or one page of a paginated AWS output (the rest)."""
    from .io._sources import TRUNCATED_FILE, TRUNCATED_GZIP

    cut = sorted({str(s.file) for s in frame.attrs.get("skipped", ()) or ()
                  if str(getattr(s, "reason", "")).startswith((TRUNCATED_FILE, TRUNCATED_GZIP))})
    out = []
    if cut:
        out.append(f"{plural(len(cut), 'file')} end{'s' if len(cut) == 1 else ''} early (cut or corrupt; the records before the cut are read): "
                   + ", ".join(cut[:3]) + (" …" if len(cut) > 3 else ""))
    if frame.attrs.get("partial"):
        out.append("CloudWatch returned PartialData for some queries (attrs['partial'])")
    if not out:
        out.append("one page of a paginated AWS output (a NextToken): the pages after it were not read")
    return out


def _ignored_files(frame: Any) -> tuple[list[str], list]:
    """A reader's ``attrs["ignored"]`` split in two: the files of its directories it did not read (the readers
    list them, :func:`tracekit.io._sources.ignored_file_records`) and the records that are not its data."""
    from .io._sources import FILE_NOT_READ

    files, records = [], []
    for n in frame.attrs.get("ignored", ()) or ():
        if hasattr(n, "reason") and str(n.reason).startswith(FILE_NOT_READ):
            files.append(str(n.file))
        else:
            records.append(n)
    return files, records


def _say(command: str, msg: str) -> None:
    print(printable(f"tracekit {command}: {msg}"), file=sys.stderr)


def _hider(redact: Sequence[str] | None):
    """What the command prints about records goes through this: with ``--redact``, the text as
    :func:`tracekit.analysis.pii.redact_text` leaves it (quoted record content and every built-in
    PII pattern replaced, as in the report); without, unchanged."""
    if not redact:
        return lambda text: text
    from .analysis.pii import redact_text

    return lambda text: redact_text(text, keys=list(redact))


def _error_text(exc: BaseException, redact: Sequence[str] | None) -> str:
    """The one-line error, redacted like a skipped record when ``redact`` is given."""
    from .errors import SkippedRecord, TraceFormatError

    if redact and isinstance(exc, TraceFormatError) and getattr(exc, "reason", None):
        return _record(SkippedRecord(exc.file or "", exc.record or "", exc.reason), redact)
    return _hider(redact)(str(exc))


def _record(rec, redact: Sequence[str] | None) -> str:
    """``file, record: reason`` of a skipped or ignored record, redacted as the report redacts its table."""
    if redact:
        from .analysis.pii import redact_skipped

        rec = redact_skipped([rec], keys=list(redact))[0]
    where = ", ".join(x for x in (rec.file, rec.record) if x)
    return f"{where}: {rec.reason}" if where else str(rec.reason)


def _load(inputs: Sequence[str], errors: str, command: str = "summary", what: str = "input",
          redact: Sequence[str] | None = None, progress: bool | None = False):
    """Read ``inputs``; bad records skipped with ``errors="skip"`` and files that are not trace data are said
    once each, on one line, instead of Python warnings (redacted when ``redact`` is given)."""
    import warnings

    from .errors import TraceFormatWarning
    from .io.sniff import read

    _check_paths([(inputs, f" ({what})" if what != "input" else "")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraceFormatWarning)
        spans = read(list(inputs), errors=errors, progress=progress)
    ignored, notes = _ignored_files(spans)
    if ignored:
        _say(command, f"ignored {plural(len(ignored), 'file')} of the {what} that {_are(len(ignored))} not trace data: "
                      + ", ".join(ignored[:5]) + (" …" if len(ignored) > 5 else ""))
    skipped = spans.attrs.get("skipped", ()) or ()
    if skipped:
        _say(command, f"skipped {plural(len(skipped), 'bad record')} of the {what}; first: {_record(skipped[0], redact)}")
    if notes:
        _say(command, f"ignored {plural(len(notes), 'record')} of the {what} that {_are(len(notes))} not trace data (metrics/logs lines, "
                      f"daemon headers); first: {_record(notes[0], redact)}")
    copies = int(spans.attrs.get("copies_dropped", 0) or 0)
    if copies:
        _say(command, f"dropped {copies:,} exact cop{'y' if copies == 1 else 'ies'} of spans read more than once "
                      f"(equal in every field but the file and record they came from)")
    if len(spans) == 0:
        raise TraceKitError(f"no spans found in {', '.join(map(str, inputs))}")
    return spans


def _check_paths(groups: Sequence[tuple[Sequence[str], str]]) -> None:
    """Each path of each (paths, what) group exists, else ``FileNotFoundError`` naming it and its option."""
    for paths, what in groups:
        for i in paths:
            if not Path(i).exists():
                raise FileNotFoundError(f"no such file or directory: {i}{what}")


def _check_directory(out: Path) -> None:
    """The folder ``out`` is to be written in exists and is writable, else an ``ArgumentError`` naming it."""
    import os

    from .errors import ArgumentError

    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ArgumentError(f"cannot write {out}: its directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ArgumentError(f"cannot write {out}: its directory {parent} is not writable")
    # os.access says yes to root everywhere (/sys, /proc, a read-only mount): a file made and removed there says
    # it, before the work (the writers' own error came after the analysis, naming their hidden .tmp file)
    from .core.files import refuses_files

    why = refuses_files(parent)
    if why is not None:
        raise ArgumentError(f"cannot write {out}: its directory {parent} is not writable ({why})")


def check_output(output: str, inputs: Sequence[str]) -> Path:
    """Check, before any work, that ``output`` can be written and is not one of the ``inputs``.

    >>> check_output("/nonexistent-dir/r.html", [])
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: cannot write /nonexistent-dir/r.html: its directory /nonexistent-dir does not exist
    """
    from pathlib import Path

    from .errors import ArgumentError

    out = Path(output)
    if out.is_dir():
        raise ArgumentError(f"cannot write {out}: it is a directory (give a file name such as {out / 'report.html'})")
    _check_directory(out)
    from .reporting import output_kind

    def over_input(target: Path) -> None:
        for i in inputs:
            p = Path(i)
            same = target.exists() and p.exists() and (p.samefile(target) if p.is_file() else False)
            if same or target.resolve() == p.resolve():
                raise ArgumentError(f"refusing to write the report{'' if target is out else chr(39) + 's key findings'} "
                                    f"over the input {i}: choose another -o")

    over_input(out)
    kind = output_kind(out)  # .html or .md, else a clear error before any work
    # an .html report writes its key findings beside it as .md: that file is an output too
    md = out.with_suffix(".md") if kind == "html" else None
    if md is not None:
        over_input(md)
    if md is not None and md.exists() and not out.exists():  # not the .md of an earlier report (it has its .html)
        raise ArgumentError(f"refusing to overwrite {md}: the report writes its key findings beside {out} as {md.name}, "
                            f"and {md.name} is there without {out.name} (not an earlier report's); choose another -o, "
                            "or move it")
    return out


def format_summary(spans: pd.DataFrame) -> str:
    """A plain-text summary of a spans DataFrame: counts, failed requests, request latency percentiles.

    Every number is one of the kernel's definitions (:mod:`tracekit.core`), named as such: the
    failed share is the share of requests whose root span failed (:func:`tracekit.core.failed`:
    :data:`tracekit.core.FAILED_WORDS`; 4xx client errors and throttles are counted apart), the
    latency line is the request latency ``request_ms`` (the request root's duration) at
    p50/p95/p99 by :func:`tracekit.core.percentile`, and the trace extent ``extent_ms`` (first
    start to last end, asynchronous work included) is on its own line. Where no span records a status
    (:func:`tracekit.core.status_recorded`: every status unset, no HTTP code, no fault flag) the failure
    shares are printed as "unknown (no span records a status)", never 0.00 %.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``tk.read(...)``).

    Returns
    -------
    str
        Lines of text, no trailing newline.

    Examples
    --------
    >>> import tracekit as tk
    >>> print(format_summary(tk.examples.load("checkout-small")).splitlines()[0])  # doctest: +ELLIPSIS
    traces: ...
    """
    from .core import (
        FAILED_WORDS,
        QUANTILES,
        any_failed_share,
        failed_share,
        percentile,
        span_window,
        start_unknown,
        status_recorded,
        trace_outcomes,
        unknown_outcomes,
    )
    from .core.words import ms_number, percent, plural, terminal_text

    ts = trace_outcomes(spans)
    n_traces = len(ts)
    if n_traces == 0:
        return "traces: 0  spans: 0"
    services = sorted(spans["service"].dropna().unique())

    def pcts(col: str) -> str:
        values = ts[col].to_numpy(dtype=np.float64)
        if not np.isfinite(values).any():
            return "none to take percentiles of"
        qs = percentile(values, QUANTILES)
        # core.words.ms_number: below 1 ms the digits that tell (Jaeger's fixtures: a p50 of 0.005 ms read "0.0")
        return "  ".join(f"p{round(q * 100)} {ms_number(v)}" for q, v in zip(QUANTILES, qs, strict=True))

    def counted(col: str, n: int, what: str) -> str:
        """``n what``, or those the percentiles are over and those without a value, with why: it said "in progress"
        of every one, also of a trace whose start was unknown (OTLP's unset start, core.start_unknown) and had ended."""
        values = ts[col].notna().to_numpy(dtype=bool)
        rows = ts["request"].to_numpy(dtype=bool) if col == "request_ms" else np.ones(len(ts), dtype=bool)
        done = int(values[rows].sum())
        if done == n:
            return plural(n, what)
        missing = rows & ~values
        if col == "request_ms":  # the root's start unknown: the request's start is NaT (core.trace_outcomes)
            no_start = missing & ts["start"].isna().to_numpy(dtype=bool)
        else:  # any span's start unknown: the trace's first start is (core.start_unknown)
            no_start = missing & ts["trace_id"].isin(spans["trace_id"][start_unknown(spans)]).to_numpy(dtype=bool)
        running = missing & ~no_start & ts["in_progress"].to_numpy(dtype=bool)
        backwards = missing & ~no_start & ~running
        why = ", ".join(w for k, w in ((int(running.sum()), "in progress"), (int(no_start.sum()), "with an unknown start"),
                                      (int(backwards.sum()), "ending before they start")) if k for w in [f"{k:,} {w}"])
        return f"{done:,} finished {what}{'' if done == 1 else 's'}; {why}, not counted"

    share, n_req = failed_share(ts)
    req = ts[ts["request"].to_numpy(dtype=bool)]
    # no span records a status (core.status_recorded; trace_outcomes' failed is <NA>): nothing could be recorded as
    # failed, a client error or throttled, so each share is unknown, not 0 (asked of the spans: with no request,
    # trace_outcomes' failed says nothing of whether a status was recorded)
    known = status_recorded(spans)
    # requests still in progress (no outcome yet): left out of the shares (core.failed_share), said beside the count
    n_unknown = unknown_outcomes(ts) if known else 0
    unknown_words = (f" with a known outcome; {n_unknown:,} still in progress, outcome unknown, not counted"
                     if n_unknown else "")
    # traces with a failed span anywhere: over the traces where that is known (core.any_failed_share) — one none of
    # whose spans failed while one is still in progress is left out, and said
    any_share, n_any = any_failed_share(ts)
    any_words = (f"{plural(n_any, 'trace')} with a known outcome; {n_traces - n_any:,} with a span still in "
                 "progress and none failed, not counted" if n_any < n_traces else plural(n_traces, "trace"))


    # a trace with a span still in progress has an extent to its last end so far: a lower bound, said (trace_outcomes'
    # in_progress)
    n_open = int((ts["in_progress"].to_numpy(dtype=bool) & ts["extent_ms"].notna().to_numpy(dtype=bool)).sum())
    open_words = (f"; {n_open:,} of them with a span still in progress: its extent is the last end so far, a lower "
                  "bound" if n_open else "")
    t0, t1 = span_window(spans)  # an unset start (read as 1970: core.start_unknown) is not the data's first start

    continues = ts["continues"].notna().to_numpy(dtype=bool)
    n_cont = int(continues.sum())
    n_async = int((ts["has_root"].to_numpy(dtype=bool) & ~ts["request"].to_numpy(dtype=bool) & ~continues).sum())
    n_rootless = int((~ts["has_root"]).sum())
    apart = "; ".join(x for x in (f"{n_async:,} asynchronous (consumer-rooted or linked)" if n_async else "",
                                  f"{n_cont:,} the callee's half of a request whose trace context was dropped"
                                  if n_cont else "",
                                  f"{n_rootless:,} without their root" if n_rootless else "") if x)
    lines = [
        f"traces: {n_traces:,}  spans: {len(spans):,}  services: {len(services):,}"
        + (f"  requests: {n_req:,} (not requests: {apart})" if apart else ""),
        f"time range: {'unknown (no start recorded)' if pd.isna(t0) else t0} .. "
        f"{'(no end recorded)' if pd.isna(t1) else t1}",
        ((f"failed requests (root span is {FAILED_WORDS}; of {n_req - n_unknown:,} request"
          f"{'' if n_req - n_unknown == 1 else 's'}{unknown_words}): {percent(share, 2)}"
          f"  client errors (4xx): {percent(float(req['client_error'].mean()), 2)}"
          f"  throttled: {percent(float(req['throttled'].mean()), 2)}"
          if n_req else "failed requests, client errors (4xx), throttled: none to count (0 requests)")
         + f"  traces with a failed span anywhere (of {any_words}): {percent(any_share, 2)}"
         if known else
         f"failed requests (root span is {FAILED_WORDS}; of {plural(n_req, 'request')}): unknown (no span records a status)"
         "  client errors, throttled, traces with a failed span anywhere: unknown"),
        f"request latency ms (root span duration, {counted('request_ms', n_req, 'request')}): {pcts('request_ms')}",
        f"trace extent ms (first start to last end, async work included, {counted('extent_ms', n_traces, 'trace')}"
        f"{open_words}): {pcts('extent_ms')}",
        # each name escaped, its newlines too: a service "web\nfailed requests: 0%" forged a line of its own
        "services: " + ", ".join(terminal_text(s) for s in services),
    ]
    sampled = _sampled_line(spans, known)
    if sampled:
        lines.append(sampled)
    skipped = spans.attrs.get("skipped", ())
    if skipped:
        lines.append(terminal_text(f"skipped records: {len(skipped)} (first: {skipped[0].file}, {skipped[0].record}: "
                                   f"{skipped[0].reason})"))
    return printable("\n".join(lines))


def _sampled_line(spans: pd.DataFrame, known: bool) -> str:
    """Where traces carry their sampling probability (OTel ``th:``, :func:`tracekit.sampling_weights`), that the
    counts and percentiles above are the sampled traces', and the point estimates corrected for sampling
    (:func:`tracekit.weighted_summary`; its intervals are for Python, not this line): datasets/sampled-errors, whose
    sampler kept the checkout route least, read failed 0.09 % and p95 91 ms with nothing saying so, for about
    0.54 % and 196 ms."""
    from .analysis.sampling import sampling_weights, weighted_summary
    from .core.words import ms_number, percent

    w = sampling_weights(spans)
    known_w = w["weight_source"].astype(str) != "unknown"
    if not known_w.any():
        return ""
    r = weighted_summary(spans, w, n_boot=0).iloc[0]
    how = ", ".join(f"{k} {v:,}" for k, v in w.loc[known_w, "weight_source"].astype(str).value_counts().items())
    failed = f"failed requests {percent(r['error_rate'], 2)}, " if known and np.isfinite(r["error_rate"]) else ""
    return (f"sampled: {int(known_w.sum()):,} of {len(w):,} traces carry their sampling probability ({how}); the lines "
            f"above count the sampled traces. Corrected for sampling (tk.weighted_summary, with intervals): about "
            f"{r['est_requests']:,.0f} requests, {failed}request latency ms p50 {ms_number(r['p50_ms'])}  p95 {ms_number(r['p95_ms'])}  "
            f"p99 {ms_number(r['p99_ms'])}")


def _cmd_summary(args) -> int:
    spans = _load(args.inputs, args.errors, "summary")
    view = spans.copy(deep=False)  # the skipped records are said once, on _load's line (stderr), not again here
    view.attrs = {k: v for k, v in spans.attrs.items() if k != "skipped"}
    print(format_summary(view))
    return 0


def _cmd_report(args) -> int:
    from .core.words import plural
    from .errors import ArgumentError
    from .reporting import baseline_warnings, collect_report, output_kind, write_report

    inputs = list(args.inputs)
    out = check_output(args.output, [*inputs, *(args.baseline or []), *(args.logs or []), *(args.metrics or [])])
    if args.worst < 0:  # before anything is read (it was refused after the analyses, as "collect_report: worst")
        raise ArgumentError(f"--worst must be 0 (no waterfalls of the slowest traces) or more, got {args.worst}")
    # every path before any is read: a mistyped --baseline, --logs or --metrics was found after the incident was read
    _check_paths([(inputs, "")] + [(getattr(args, k) or [], f" (--{k})") for k in ("baseline", "logs", "metrics")])
    progress = not args.no_progress

    def say(msg: str) -> None:
        if progress:
            print(printable(msg), file=sys.stderr, flush=True)

    say(f"reading {', '.join(inputs)} ...")
    spans = _load(inputs, args.errors, "report", redact=args.redact)
    base, said = None, ""
    if args.baseline:
        say(f"reading baseline {', '.join(args.baseline)} ...")
        base = _load(args.baseline, args.errors, "report", what="baseline", redact=args.redact)
        from .analysis.baseline_check import baseline_comparability

        check = baseline_comparability(spans, base)
        if not check.comparable:  # said first, whatever --no-progress
            _say("report", f"warning: {check.reason}")
        said = check.reason
    logs = metrics = None
    if args.logs:
        from .io.logs import read_logs

        say(f"reading logs {', '.join(args.logs)} ...")
        logs = _load_signal(args.logs, read_logs, args.errors, "logs", "log", args.redact)
    if args.metrics:
        from .io.metrics import read_metrics

        say(f"reading metrics {', '.join(args.metrics)} ...")
        metrics = _load_signal(args.metrics, read_metrics, args.errors, "metrics", "metric", args.redact)
    say(f"analysing {plural(len(spans), 'span')} ...")
    data = collect_report(spans, baseline=base, title=args.title, redact=args.redact, worst=args.worst,
                          inputs=inputs, baseline_inputs=args.baseline, compare_by=args.compare_by, logs=logs,
                          metrics=metrics, logs_inputs=args.logs, metrics_inputs=args.metrics,
                          redact_paths=args.redact_paths)
    # what the report says first of the baseline (too small for a conclusion, its own traces left out), said here
    # too, in the report's words, whatever --no-progress; a baseline set aside was said above, when it was read
    for text in baseline_warnings(data):
        if not (said and text.startswith(said)):
            _say("report", f"warning: {text}")
    path = write_report(data, out)
    md = path.with_suffix(".md")
    print(printable(f"wrote {path}" + (f" and {md}" if md != path and output_kind(path) == "html" else "")))
    return 0


def _cmd_query(args) -> int:
    from .analysis.traceql import is_traceql, parse, traceql, traceql_metrics
    from .cli_query import format_matches, metrics_note
    from .errors import ArgumentError

    if len(args.inputs) < 2:
        raise ArgumentError("give the trace files, then the TraceQL query: tracekit query FILE '{ status = error }'")
    if args.limit < 0:
        raise ArgumentError(f"--limit must be 0 (all traces) or more, got {args.limit}")
    *inputs, query = args.inputs
    if not is_traceql(query):  # the query given before the files: it was parsed "data/" as the query and refused
        # it with "unexpected 'data' (expected one of: ...)", a syntax error in a query the user did not write
        first = next((x for x in inputs if is_traceql(x)), None)
        if first is not None:
            raise ArgumentError(f"the query comes last: tracekit query FILE... 'QUERY' (got the query {first!r} before "
                                f"{query!r})")
    q = parse(query)  # a bad query fails before any file is read
    if q.kind == "metrics":  # and so does a bad --step (it was found after every file was read), by the flag's name
        from .schema import empty_spans

        try:
            traceql_metrics(empty_spans(), q, step=args.step)
        except ArgumentError as exc:
            raise ArgumentError(str(exc).replace("traceql_metrics: step", "--step", 1)) from None
    spans = _load(inputs, args.errors, "query")
    if q.kind == "metrics":
        try:  # the series before its heading: a step refused on the data (too many buckets) printed the heading first
            table = traceql_metrics(spans, q, step=args.step)
        except ArgumentError as exc:
            raise ArgumentError(str(exc).replace("traceql_metrics: step", "--step", 1)) from None
        print(printable(metrics_note(q.text, args.step)))
        print(printable(table.to_string(index=False)))
    else:
        print(printable(format_matches(spans, traceql(spans, q.text), limit=max(0, args.limit))))
    return 0


def _size(n: int) -> str:
    """A size in bytes as a reader says it, in the largest unit it reaches (45 KB, not "0.0 MB").

    >>> _size(45_000), _size(3 * 2**20), _size(12)
    ('43.9 KB', '3.0 MB', '12 bytes')
    """
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def _suffix(name: str) -> str:
    """The trace-data suffixes ``name`` ends with (``.json.gz``, ``.jsonl``), as said in an error."""
    parts = name.lower().split(".")[1:]
    return "." + ".".join(parts[-2:] if len(parts) >= 2 and parts[-1] == "gz" else parts[-1:])


def _store_name(name: str) -> str:
    """``name`` with its trace-data suffixes replaced by ``.parquet`` (``out.json.gz`` -> ``out.parquet``)."""
    stem = name[: len(name) - len(_suffix(name))] or "spans"
    return f"{stem}.parquet"


def _cmd_convert(args) -> int:
    import os

    from .core.words import percent, plural
    from .errors import ArgumentError
    from .io._sources import READ_SUFFIXES
    from .io.parquet import write_parquet

    out = Path(args.output)
    for i in args.inputs:
        if Path(i).exists() and out.exists() and Path(i).resolve() == out.resolve():
            raise TraceKitError(f"refusing to write the store over the input {i}: choose another output")
    if out.name.lower().endswith(READ_SUFFIXES):
        # 'convert IN out.json.gz' wrote Parquet under a trace file's name: zcat and jq failed on it, and a directory
        # holding it was refused ("not JSON: a Parquet file"); the store is Parquet, named so, before anything is read
        raise ArgumentError(f"cannot write {out}: convert writes a spans store (Parquet), not {_suffix(out.name)} "
                            f"trace data; name it {_store_name(out.name)} (tk.write_otlp / tk.write_xray write "
                            "OTLP or X-Ray JSON)")
    if out.exists() and not args.overwrite:  # before reading: never replaced without --overwrite
        raise TraceKitError(f"{out} exists; pass --overwrite to replace it")
    _check_directory(out)  # before reading too: a missing folder was found by write_parquet, after every input was read
    progress = None if not args.no_progress else False
    spans = _load(args.inputs, args.errors, "convert", progress=progress)
    write_parquet(spans, out, partition_by=args.partition_by, overwrite=args.overwrite, progress=progress)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) if out.is_dir() else out.stat().st_size
    insize = sum(os.path.getsize(f) for i in args.inputs
                 for f in (Path(i).rglob("*") if Path(i).is_dir() else [Path(i)]) if os.path.isfile(f))
    print(printable(f"wrote {out}: {plural(len(spans), 'span')}, {plural(spans['trace_id'].nunique(), 'trace')}, {_size(size)} "
                    f"({percent(size / insize, 1)} of the inputs' {_size(insize)})" if insize else f"wrote {out}"))
    return 0


def _skip_hint(args: argparse.Namespace, exc: BaseException) -> str:
    """What to do about a bad record when there is more to read than it: a record of a file, or a file of a
    directory or of several given (it said what was wrong and where, not that the rest can be read)."""
    from .errors import TraceFormatError

    if not isinstance(exc, TraceFormatError) or getattr(args, "errors", None) != "raise" or not exc.file \
            or str(exc.reason).startswith(("no spans", "no trace data")):  # nothing else to read: skipping would not help
        return ""
    given = list(args.inputs[:-1] if args.command == "query" else args.inputs)
    given += [x for k in ("baseline", "logs", "metrics") for x in (getattr(args, k, None) or [])]
    if not (exc.record or len(given) > 1 or any(Path(g).is_dir() for g in given)):
        return ""
    if not exc.record and len(given) == 1 and Path(exc.file).is_dir():
        # the one directory given holds nothing a reader reads: skipping it leaves nothing ('summary EMPTY_DIR' said
        # to pass --errors skip, which then said "no spans found")
        return ""
    return " (--errors skip reads the rest and lists what it skipped)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    >>> main(["summary", "/nonexistent/file.json"])
    1
    """
    parser = build_parser()
    # argparse does not take positionals after an option that follows the first ones ("query FILE --limit 2
    # QUERY" left QUERY unrecognized): the words left over are the command's next inputs, in order
    args, extra = parser.parse_known_args(argv)
    if extra and isinstance(getattr(args, "inputs", None), list) and not any(x.startswith("-") for x in extra):
        args.inputs += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    handlers = {"summary": _cmd_summary, "report": _cmd_report, "query": _cmd_query, "convert": _cmd_convert}
    handler = handlers.get(args.command) or getattr(args, "handler", None)
    try:
        code = int(handler(args) or 0)
        sys.stdout.flush()  # a reader gone away (`| head`) is found here, not at exit ("Exception ignored", status 120)
        return code
    except BrokenPipeError:  # e.g. `tracekit query … | head`: the reader went away, not an error of ours. Before OSError,
        # of which it is a subclass (it was said as "error: Broken pipe", status 1)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (TraceKitError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        _say(args.command, f"error: {_error_text(exc, getattr(args, 'redact', None))}{_skip_hint(args, exc)}")
        return EXIT_INPUT
    except MemoryError:  # one line, not a traceback
        _say(args.command, "error: out of memory (the input is larger than this machine can hold; read fewer files "
                           "or a shorter time window)")
        return EXIT_INPUT
    except OSError as exc:  # disk full, I/O error, …: one line, not a traceback
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _say(args.command, f"error: {exc.strerror or exc}{where}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"tracekit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
