"""``tracekit fetch-xray``: fetch traces from AWS X-Ray into one ``.json``/``.json.gz`` file.

The file holds a single ``BatchGetTraces``-shaped response (``{"Traces": [...], "UnprocessedTraceIds": [...]}``)
merged from every page fetched, so ``tk.read_xray(path)`` or ``tracekit summary path`` loads it. Credentials
come from the usual AWS chain (environment, ``--profile``, SSO, instance role) and are never printed.

Example::

    $ tracekit fetch-xray --start 2026-11-20T09:00Z --end 2026-11-20T11:00Z --region eu-west-1 \\
        --filter 'service("checkout") { fault = true }' --cache incident-4711/ --out incident.json.gz

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="tracekit")
>>> _ = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["fetch-xray", "--start", "2026-11-20T09:00Z", "--end", "2026-11-20T10:00Z",
...                           "--out", "x.json.gz"])
>>> args.command, args.max_workers, args.progress
('fetch-xray', 4, True)
"""

from __future__ import annotations

import argparse
import gzip
import os
import shlex
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import orjson

from .core.files import refuses_files, replaced
from .core.words import terminal_text
from .errors import ArgumentError, TraceKitError

__all__ = ["add_parser", "run", "printable"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``fetch-xray`` subcommand to an argparse ``subparsers`` object; its handler is :func:`run`."""
    p = subparsers.add_parser(
        "fetch-xray", help="fetch traces from AWS X-Ray into a file",
        description="Page GetTraceSummaries over the time range, fetch the traces with BatchGetTraces (5 ids per "
                    "call, retries, resumable with --cache) and write them as one BatchGetTraces JSON file "
                    "(.json or .json.gz) that `tracekit summary` and tk.read_xray load.")
    p.add_argument("--start", help="start of the time range (ISO 8601, e.g. 2026-11-20T09:00Z; naive = UTC)")
    p.add_argument("--end", help="end of the time range, not included (ISO 8601 like --start; naive = UTC)")
    p.add_argument("--trace-id", action="append", default=None, dest="trace_ids", metavar="ID",
                   help="fetch this X-Ray trace id (repeatable) instead of a time range")
    p.add_argument("-o", "--out", required=True, help="file to write (.json or .json.gz)")
    p.add_argument("--filter", dest="filter_expression", default=None, help="X-Ray filter expression")
    p.add_argument("--time-range-type", choices=["TraceId", "Event", "Service"], default=None,
                   help="which time --start/--end select traces by (GetTraceSummaries TimeRangeType): TraceId "
                        "(the trace's start time; X-Ray's default), Event (its last update) or Service (its "
                        "segments' end time)")
    p.add_argument("--sampling", action="store_true", default=None,
                   help="ask X-Ray for a sample of the summaries only (GetTraceSummaries Sampling=true)")
    p.add_argument("--window", default="6h",
                   help="longest time window per GetTraceSummaries query, a duration such as 6h, 90min or 30s "
                        "(default 6h)")
    p.add_argument("--max-traces", type=int, default=None,
                   help="fetch at most this many traces (0 or more; default: every trace the range holds)")
    p.add_argument("--region", default=None,
                   help="AWS region of the X-Ray data, e.g. eu-west-1 (default: the AWS configuration's, "
                        "AWS_DEFAULT_REGION or the profile's region)")
    p.add_argument("--profile", default=None,
                   help="AWS profile of ~/.aws/config to take credentials and region from (default: the usual "
                        "AWS chain: environment, SSO, instance role)")
    p.add_argument("--endpoint-url", default=None, help="X-Ray endpoint (e.g. a local test server)")
    p.add_argument("--cache", dest="cache_dir", default=None,
                   help="directory keeping every raw response; rerun with it to resume an interrupted fetch")
    p.add_argument("--max-workers", type=int, default=4, help="parallel BatchGetTraces calls, 1 or more (default 4)")
    p.add_argument("--max-attempts", type=int, default=8,
                   help="retries of a throttled or failed call (botocore's adaptive retries), 0 or more (default 8)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(handler=run)
    return p


def _merged(pages: list[dict]) -> dict:
    traces: dict[str, dict] = {}
    unprocessed: list[str] = []
    for page in pages:
        for t in page.get("Traces") or []:
            tid = t.get("Id")
            if tid is None or tid not in traces:
                traces[tid if tid is not None else f"<none>{len(traces)}"] = t
        unprocessed += [u for u in page.get("UnprocessedTraceIds") or [] if u not in unprocessed]
    unprocessed = [u for u in unprocessed if u not in traces]
    return {"Traces": list(traces.values()), "UnprocessedTraceIds": unprocessed}


def printable(text: str) -> str:
    r"""``text`` fit for a terminal: control and format characters (escape sequences, bidi overrides, line
    separators…) written as ``\x1b``/``\u202e`` escapes, so names from traces cannot drive the terminal
    (:func:`tracekit.core.words.terminal_text`, the one rule of every command).

    Parameters
    ----------
    text : str
        A message, a service name, a path.

    Returns
    -------
    str
        The same text, each non-printing character escaped (newlines too: one message, one line).

    Examples
    --------
    >>> printable("checkout\x1b[2J\u202egnp.exe")
    'checkout\\x1b[2J\\u202egnp.exe'
    """
    return terminal_text(text)


def _resume_hint(own_tmp: Path | None, cache: Path) -> str:
    """What to tell the user about a failed fetch without --cache: the pages are kept, or nothing was."""
    if own_tmp is None:
        return ""
    pages = sorted(cache.glob("batch-*.json")) if cache.is_dir() else []
    if pages:
        return (f" The {len(pages)} page(s) fetched so far are kept in {str(cache)!r}: rerun the same command with "
                f"--cache {shlex.quote(str(cache))} to resume (delete {str(own_tmp)!r} when done).")
    shutil.rmtree(own_tmp, ignore_errors=True)  # nothing to resume from: no folder left behind, no hint
    return ""


def _check_out(out: Path) -> None:
    """``--out`` can be written: not a directory, and its nearest existing folder is a writable directory."""
    if out.is_dir():
        raise ArgumentError(f"--out {printable(str(out))!r} is a directory: give a file name such as "
                            f"{printable(str(out / 'traces.json.gz'))!r}")
    parent = out.parent if str(out.parent) else Path(".")
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ArgumentError(f"cannot write --out {printable(str(out))!r}: {printable(str(parent))!r} is not a directory")
    why = "" if os.access(parent, os.W_OK | os.X_OK) else "permission denied"
    why = why or refuses_files(parent)  # a real file made and removed: os.access says yes to root everywhere
    if why:
        raise ArgumentError(f"cannot write --out {printable(str(out))!r}: {printable(str(parent))!r} is not writable "
                            f"({why})")


def run(args: argparse.Namespace) -> int:
    """Fetch as ``args`` say and write ``args.out``; returns 0 (1 when some traces stayed unprocessed or were not
    returned).

    Without ``--cache`` the raw pages go to a temporary folder that is deleted after a successful fetch;
    when the fetch fails (or is interrupted) after some pages arrived, the folder is kept and the error says
    to rerun with ``--cache <that folder>``. Everything printed (the summary line, warnings, error messages)
    has control characters escaped (:func:`printable`): service names come from the traces.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed by the parser of :func:`add_parser`.

    Returns
    -------
    int
        0, or 1 when some trace ids stayed unprocessed or X-Ray returned neither them nor their ids as
        unprocessed (both counted in the summary line).

    Raises
    ------
    tracekit.TraceKitError
        On user/AWS errors (``tracekit.cli.main`` prints them as one line).

    Examples
    --------
    >>> run(argparse.Namespace(trace_ids=None, start=None, end=None, out="x.json"))
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: give --start and --end, or --trace-id
    """
    from .aws import XRayFetchError, fetch_xray
    from .aws.fetch import NotFetchedWarning
    from .core.words import plural

    if not args.trace_ids and not (args.start and args.end):
        raise ArgumentError("give --start and --end, or --trace-id")
    # said by the flag's name, before any request (fetch_xray said "max_traces must be >= 0", its parameter's name)
    if getattr(args, "max_traces", None) is not None and args.max_traces < 0:
        raise ArgumentError(f"--max-traces must be 0 or more (or left out: every trace), got {args.max_traces}")
    if getattr(args, "max_workers", 4) < 1:
        raise ArgumentError(f"--max-workers must be 1 or more, got {args.max_workers}")
    if getattr(args, "max_attempts", 8) < 0:
        raise ArgumentError(f"--max-attempts must be 0 or more, got {args.max_attempts}")
    # the times and the window said by their flags, before any request (fetch_xray said "start='bogus' is not a
    # time", "window must be positive": its parameters' names, which a command-line user never typed)
    from .aws.times import to_delta, to_utc

    start = to_utc(args.start, "--start") if args.start else None
    end = to_utc(args.end, "--end") if args.end else None
    if start is not None and end is not None and end <= start:
        raise ArgumentError(f"--end ({end.isoformat()}) must be after --start ({start.isoformat()})")
    to_delta(getattr(args, "window", "6h"), "--window")
    out = Path(args.out)
    if not out.name.endswith((".json", ".json.gz")):
        raise ArgumentError(f"--out {printable(args.out)!r} must end with .json or .json.gz")
    _check_out(out)  # before any request: a fetch is not run to find the file cannot be written
    own_tmp = None if args.cache_dir else Path(tempfile.mkdtemp(prefix="tracekit-fetch-"))
    cache = Path(args.cache_dir) if args.cache_dir else own_tmp / "cache"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spans = fetch_xray(args.start, args.end, trace_ids=args.trace_ids,
                               filter_expression=args.filter_expression, time_range_type=args.time_range_type,
                               sampling=args.sampling, window=args.window, max_traces=args.max_traces,
                               region=args.region, profile=args.profile, endpoint_url=args.endpoint_url,
                               cache_dir=cache, max_workers=args.max_workers, progress=args.progress,
                               max_attempts=getattr(args, "max_attempts", 8))
        for w in caught:
            if issubclass(w.category, NotFetchedWarning):  # the summary line below says them, as a command does
                continue
            print(f"tracekit fetch-xray: warning: {printable(str(w.message))}", file=sys.stderr)
        info = spans.attrs["xray_fetch"]
        pages = [orjson.loads(f.read_bytes()) for f in sorted(cache.glob("batch-*.json"))]
    except (KeyboardInterrupt, OSError, MemoryError):  # said by cli.main in one line; the hint (or the clean-up) here
        hint = _resume_hint(own_tmp, cache)
        if hint:
            print(f"tracekit fetch-xray:{printable(hint)}", file=sys.stderr)
        raise
    except TraceKitError as exc:
        hint = _resume_hint(own_tmp, cache)
        # the library's hint ("call again with the same cache_dir") is for Python callers; say it as a command
        text = exc.reason if isinstance(exc, XRayFetchError) and own_tmp is not None else str(exc)
        exc.args = (printable(text + hint),)
        raise
    doc = _merged(pages)
    data = orjson.dumps(doc)
    if out.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    try:
        with replaced(out) as f:
            f.write(data)
    except BaseException:  # e.g. a full disk: no temporary file left, and the fetched pages kept with a hint
        hint = _resume_hint(own_tmp, cache)
        if hint:
            print(f"tracekit fetch-xray:{printable(hint)}", file=sys.stderr)
        raise
    if own_tmp is not None:
        shutil.rmtree(own_tmp, ignore_errors=True)
    got = info["got"]
    services = sorted(spans["service"].dropna().astype(str).unique()) if len(spans) else []
    missing = got.get("missing_ids") or []  # listed by the summaries, neither returned nor said unprocessed
    running = got.get("in_progress_ids") or []  # a segment or subsegment had not ended when fetched
    # counts as every other command says them (core.words.plural: '1,200 traces', '1 span'), not '1200 traces'
    print(printable(f"wrote {out}: {plural(len(doc['Traces']), 'trace')}, {plural(len(spans), 'span')}"
                    + (f"; {plural(len(got['unprocessed_ids']), 'trace id')} unprocessed" if got["unprocessed_ids"] else "")
                    + (f"; {plural(len(missing), 'trace id')} asked but not returned by X-Ray" if missing else "")
                    + (f"; {plural(len(running), 'trace')} still in progress (a rerun with --cache asks "
                       f"{'it' if len(running) == 1 else 'them'} again)" if running else "")),
          file=sys.stderr)
    if services:
        print("services: " + ", ".join(printable(s) for s in services), file=sys.stderr)
    return 1 if got["unprocessed_ids"] or missing else 0
