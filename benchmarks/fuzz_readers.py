"""Nightly-sized fuzzing of the readers: the strategies and properties of tests/test_fuzz_readers.py
(spans) and tests/test_fuzz_signals.py (read_logs, read_metrics) with many more examples (random, not derandomized), and a tally of what the readers did.

    python benchmarks/fuzz_readers.py                 # 5,000 examples per property and format
    python benchmarks/fuzz_readers.py --examples 200  # quick

A property violation is printed by hypothesis (with the shrunk failing input) and the exit status is 1.
Prints a markdown table: examples run, strict reads that loaded / raised TraceFormatError, lenient reads
with skipped records, time.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

import tracekit as tk  # noqa: E402
from tests import test_fuzz_signals as signals  # noqa: E402
from tests.test_fuzz_readers import READERS, check_loads_or_format_error, fuzzed_source, one_bad_line  # noqa: E402
from tracekit.errors import TraceFormatError  # noqa: E402
from tracekit.io.sniff import read  # noqa: E402


def run_format(fmt: str, conf: settings) -> int:
    tally: Counter = Counter()

    @conf
    @given(source=fuzzed_source(fmt))
    def loads_or_error(source):
        tally["n"] += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                READERS[fmt](source)
                tally["loaded"] += 1
            except TraceFormatError:
                tally["error"] += 1
            if READERS[fmt](source, errors="skip").attrs["skipped"]:
                tally["skips"] += 1
        check_loads_or_format_error(READERS[fmt], source)
        check_loads_or_format_error(read, source)

    @conf
    @given(case=one_bad_line(fmt))
    def valid_lines_load(case):
        data, _m, others = case
        tally["n2"] += 1
        for reader in (READERS[fmt], read):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = reader(data, errors="skip")
            tk.validate_spans(df)
            assert set(others) <= set(df["span_id"])

    rc = 0
    for name, fn, key in (("loads or TraceFormatError", loads_or_error, "n"),
                          ("skip keeps every valid line", valid_lines_load, "n2")):
        t0 = time.perf_counter()
        try:
            fn()
        except Exception:  # a property failed: hypothesis printed the falsifying example
            traceback.print_exc()
            rc = 1
        dt = time.perf_counter() - t0
        if key == "n":
            print(f"| {name} | {fmt} | {tally['n']:,} | {tally['loaded']:,} | {tally['error']:,} | "
                  f"{tally['skips']:,} | {dt:.0f} |", flush=True)
        else:
            print(f"| {name} | {fmt} | {tally['n2']:,} | | | | {dt:.0f} |", flush=True)
    return rc


def run_signal(sig: str, conf: settings) -> int:
    """The properties of tests/test_fuzz_signals.py for read_logs / read_metrics."""
    reader, validate, _ = signals.SIGNALS[sig]
    tally: Counter = Counter()

    @conf
    @given(source=signals.fuzzed(sig))
    def loads_or_error(source):
        tally["n"] += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader(source)
                tally["loaded"] += 1
            except TraceFormatError:
                tally["error"] += 1
        signals.check(sig, source)

    @conf
    @given(case=signals.one_bad_line(sig))
    def valid_lines_load(case):
        data, _m, others = case
        tally["n2"] += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = reader(data, errors="skip")
        validate(df)
        counts = df["service"].value_counts()
        per_line = 1 if sig == "logs" else 5
        assert all(counts.get(s, 0) == per_line for s in others)

    rc = 0
    for name, fn, key in (("loads or TraceFormatError", loads_or_error, "n"),
                          ("skip keeps every valid line", valid_lines_load, "n2")):
        t0 = time.perf_counter()
        try:
            fn()
        except Exception:  # a property failed: hypothesis printed the falsifying example
            traceback.print_exc()
            rc = 1
        dt = time.perf_counter() - t0
        extra = f"{tally['loaded']:,} | {tally['error']:,} |" if key == "n" else " | |"
        print(f"| {name} | {sig} | {tally[key]:,} | {extra} | {dt:.0f} |", flush=True)
    return rc


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=5000)
    args = ap.parse_args()
    conf = settings(max_examples=args.examples, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))
    print(f"fuzzing the readers: {args.examples:,} examples per property and format\n", flush=True)
    print("| property | format | examples | strict loaded | strict TraceFormatError | lenient with skips | s |")
    print("|---|---|---:|---:|---:|---:|---:|", flush=True)
    rc = 0
    for fmt in ("otlp", "xray"):
        rc |= run_format(fmt, conf)
    for sig in ("logs", "metrics"):
        rc |= run_signal(sig, conf)
    return rc


if __name__ == "__main__":
    sys.exit(main())
