"""The ``tracekit`` command line.

Subcommands: ``summary`` (a quick text summary of trace files), ``report`` (a self-contained HTML postmortem
report), ``fetch-xray`` (fetch traces from AWS X-Ray into a file). User errors print one line on stderr and exit
with a non-zero code, never a traceback.

Example::

    $ tracekit summary datasets/checkout-incident/
    $ tracekit report datasets/checkout-incident/ --baseline datasets/checkout-baseline/ -o report.html
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import TraceKitError

__all__ = ["main", "build_parser", "format_summary"]

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
    parser = argparse.ArgumentParser(prog="tracekit", description="Investigate distributed traces (X-Ray, OTLP).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("summary", help="quick text summary of trace files",
                       description="Load trace files (X-Ray or OTLP JSON, JSON lines, .gz; files or directories) "
                                   "and print traces, spans, services, error rate and latency percentiles.")
    p.add_argument("inputs", nargs="+", help="files or directories")
    _errors_arguments(p, "and list them")

    p = sub.add_parser("report", help="self-contained HTML postmortem report",
                       description="Analyse trace files and write one self-contained HTML report.")
    p.add_argument("inputs", nargs="+", help="incident trace files or directories")
    p.add_argument("--baseline", nargs="+", default=None, help="baseline trace files or directories to compare against")
    p.add_argument("-o", "--output", default="report.html", help="HTML file to write (default: report.html)")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--redact", action="append", default=None, metavar="KEY_GLOB",
                   help="attribute key pattern to redact (repeatable), e.g. 'user.email' or 'http.request.header.*'")
    p.add_argument("--worst", type=int, default=3, help="number of slowest traces to show as waterfalls")
    _errors_arguments(p, "listed in the report")
    p.add_argument("--no-progress", action="store_true", help="do not print progress")

    try:
        from . import cli_xray
    except ImportError:  # pragma: no cover - module ships with the package
        cli_xray = None
    if cli_xray is not None:
        cli_xray.add_parser(sub)
    return parser


def _load(inputs: Sequence[str], errors: str):
    from pathlib import Path

    from .io.sniff import read

    for i in inputs:
        if not Path(i).exists():
            raise FileNotFoundError(f"no such file or directory: {i}")
    return read(list(inputs), errors=errors)


def format_summary(spans: pd.DataFrame) -> str:
    """A plain-text summary of a spans DataFrame: counts, failed requests, request latency percentiles.

    Every number is one of the kernel's definitions (:mod:`tracekit.core`), named as such: the
    failed share is the share of requests whose root span failed (:func:`tracekit.core.failed`:
    a 5xx fault or status error; 4xx client errors and throttles are counted apart), the
    latency line is the request latency ``request_ms`` (the request root's duration) at
    p50/p95/p99 by :func:`tracekit.core.percentile`, and the trace extent ``extent_ms`` (first
    start to last end, asynchronous work included) is on its own line.

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
    from .core import QUANTILES, percentile, trace_outcomes

    ts = trace_outcomes(spans)
    n_traces = len(ts)
    if n_traces == 0:
        return "traces: 0  spans: 0"
    services = sorted(spans["service"].dropna().unique())

    def pcts(col: str) -> str:
        qs = percentile(ts[col].to_numpy(dtype=np.float64), QUANTILES)
        return "  ".join(f"p{round(q * 100)} {v:.1f}" for q, v in zip(QUANTILES, qs, strict=True))

    n_req = int(ts["has_root"].sum())
    lines = [
        f"traces: {n_traces}  spans: {len(spans)}  services: {len(services)}",
        f"time range: {spans['start'].min()} .. {spans['end'].max()}",
        f"failed requests (root span 5xx or status error): {float(ts['failed'].mean()):.2%}"
        f"  client errors (4xx): {float(ts['client_error'].mean()):.2%}  throttled: {float(ts['throttled'].mean()):.2%}"
        f"  traces with a failed span anywhere: {float((ts['failed_spans'] > 0).mean()):.2%}",
        f"request latency ms (root span duration, {n_req} requests): {pcts('request_ms')}",
        f"trace extent ms (first start to last end, async work included): {pcts('extent_ms')}",
        "services: " + ", ".join(services),
    ]
    skipped = spans.attrs.get("skipped", ())
    if skipped:
        lines.append(f"skipped records: {len(skipped)} (first: {skipped[0].file}, {skipped[0].record}: {skipped[0].reason})")
    return "\n".join(lines)


def _cmd_summary(args) -> int:
    spans = _load(args.inputs, args.errors)
    print(format_summary(spans))
    return 0


def _cmd_report(args) -> int:
    from .reporting import build_report_from_files

    path = build_report_from_files(
        args.inputs, args.output, baseline=args.baseline, title=args.title, redact=args.redact,
        worst=args.worst, errors=args.errors, progress=not args.no_progress,
    )
    print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    >>> main(["summary", "/nonexistent/file.json"])
    1
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"summary": _cmd_summary, "report": _cmd_report}
    handler = handlers.get(args.command) or getattr(args, "handler", None)
    try:
        return int(handler(args) or 0)
    except (TraceKitError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        print(f"tracekit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"tracekit {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tracekit summary … | head`: the reader went away, not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
