"""read_metrics against the JSON parse of the same bytes (target: ≤ 1.5x).

    python benchmarks/bench_read_metrics.py            # 200,000 data points
    python benchmarks/bench_read_metrics.py --quick    # 20,000 data points (or --points N)

Writes collector-style OTLP JSON lines (one ``resourceMetrics`` per line: 20 services × a gauge, a
cumulative sum and a histogram of 10 buckets, points with 2 attributes, one exemplar per histogram
point), then times (wall and CPU time of the process), in turn in one process, best of ``--repeat``:
the floor — the file read and ``orjson.loads`` of every line, each dropped once parsed, GC paused
(the file is read each time, as the reader reads it: as ``bench_logs`` measures) —, the parse with
every line kept, ``tk.read_metrics`` of the file, and ``tk.read_metrics`` plus every cell of its
lazy object columns (``attributes``, ``resource``, ``exemplars``, ``buckets``) built: what a reader
that builds them at read time costs, so the deferred cost is in plain sight.

``--bound`` also times what was a lower bound for a reader that builds the object columns at read
time (the reader now builds them lazily, and reads in 1 MB batches, so it can go below it): the fast
path's typed decode of every line, all kept, plus only the Python objects the schema's object
columns hold — a dict per row for
``attributes``, a list per row for ``exemplars`` with a dict (and its attributes dict) per exemplar, a
dict with its own bounds and counts lists per histogram row — built the cheapest way (copies of one
dict, no validation, no key look-up), and no scalar column at all.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

import tracekit as tk

T0 = 1_700_000_000_000_000_000
LAZY = ("attributes", "resource", "exemplars", "buckets")  # read_metrics' lazy object columns


def _attrs(i: int) -> list:
    return [{"key": "route", "value": {"stringValue": f"/r{i % 7}"}}, {"key": "code", "value": {"intValue": str(200 + i % 3)}}]


def write(path: Path, points: int) -> int:
    per_line = 60  # 20 points of each of the three kinds
    lines, n = [], 0
    i = 0
    while n < points:
        svc = f"svc-{i % 20}"
        t = T0 + i * 10**9
        gauge = [{"timeUnixNano": str(t), "asDouble": 0.5 + k, "attributes": _attrs(k)} for k in range(20)]
        sums = [{"startTimeUnixNano": str(T0), "timeUnixNano": str(t), "asInt": str(1000 + i + k), "attributes": _attrs(k)}
                for k in range(20)]
        hist = [{"startTimeUnixNano": str(T0), "timeUnixNano": str(t), "count": "55", "sum": 123.0, "min": 0.1, "max": 99.0,
                 "bucketCounts": [str(b) for b in range(1, 11)], "explicitBounds": [1, 2, 5, 10, 20, 50, 100, 200, 500],
                 "attributes": _attrs(k),
                 "exemplars": [{"timeUnixNano": str(t - 5), "asDouble": 17.0, "traceId": f"{i:032x}", "spanId": f"{k + 1:016x}"}]}
                for k in range(20)]
        doc = {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}},
                                                                {"key": "host.name", "value": {"stringValue": f"h{i % 5}"}}]},
                                    "scopeMetrics": [{"scope": {"name": "bench"}, "metrics": [
                                        {"name": "cpu", "unit": "1", "gauge": {"dataPoints": gauge}},
                                        {"name": "requests", "unit": "1", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                                                                  "dataPoints": sums}},
                                        {"name": "latency", "unit": "ms", "histogram": {"aggregationTemporality": 2,
                                                                                        "dataPoints": hist}}]}]}]}
        lines.append(orjson.dumps(doc))
        n += per_line
        i += 1
    path.write_bytes(b"\n".join(lines) + b"\n")
    return n


def best(fns: list, repeat: int) -> list[tuple[float, float]]:
    """Best wall time and best CPU time of this process for each function, the functions run in
    turn ``repeat`` times (interleaved, so a change of load on a shared machine hits both alike;
    the CPU time is the steadier of the two: wall time counts the time other processes held the cores)."""
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)
    return [(min(w), min(c)) for w, c in zip(wall, cpu, strict=True)]


def lower_bound(data: bytes) -> None:
    """The typed decode plus the schema's per-row objects (see the module docstring)."""
    from tracekit.io.metrics import _DECODE  # the fast path's decoder

    gc.disable()
    try:
        docs = [_DECODE(line) for line in data.split(b"\n") if line]
        rows = hist = ex = 0
        for md in docs:
            for rm in md.resourceMetrics:
                for sm in rm.scopeMetrics:
                    for m in sm.metrics:
                        data_ = m.gauge or m.sum or m.histogram or m.exponentialHistogram or m.summary
                        rows += len(data_.dataPoints)
                        if m.histogram is not None:
                            hist += len(m.histogram.dataPoints)
                            ex += sum(map(len, (p.exemplars for p in m.histogram.dataPoints)))
        one = {"route": "/r1", "code": 200}
        attributes = list(map(dict.copy, [one] * rows))
        exemplars = [[] for _ in range(rows - ex)] + [
            [{"time": 0, "value": 0.0, "trace_id": None, "span_id": None, "attributes": {}}] for _ in range(ex)]
        bounds = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
        buckets = [{"bounds": bounds[:], "counts": c} for c in np.zeros((hist, 10), np.int64).tolist()]
        cols = [np.empty(rows, dtype=object) for _ in range(3)]
        cols[0][:] = attributes
        for i, e in enumerate(exemplars):
            cols[1][i] = e
        cols[2][:hist] = buckets
        del docs
    finally:
        gc.enable()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=None, help="data points (default 200,000; --quick 20,000)")
    ap.add_argument("--quick", action="store_true", help="20,000 data points (benchmarks/run.py --quick)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bound", action="store_true", help="also time the eager bound (see the module docstring)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "metrics.jsonl"
        n = write(p, args.points or (20_000 if args.quick else 200_000))
        data = p.read_bytes()

        from json_floor import parse_dropped, parse_kept

        def floor() -> None:  # the file read, each line parsed and dropped, GC paused (benchmarks/json_floor.py)
            parse_dropped(p.read_bytes())  # (read each time, as the reader reads it, as bench_logs does)

        def kept() -> None:  # the file read, every line parsed and kept
            parse_kept(p.read_bytes())

        def read_built() -> None:  # the read, then every cell of the lazy columns built (as a reader building them would)
            m = tk.read_metrics(p)
            was = gc.isenabled()
            gc.disable()
            try:
                for c in LAZY:
                    m[c].to_numpy()
            finally:
                if was:
                    gc.enable()

        fns = [floor, kept, lambda: tk.read_metrics(p), read_built] + ([lambda: lower_bound(data)] if args.bound else [])
        t_floor, t_kept, t_read, t_built, *t_bound = best(fns, args.repeat)
        m = tk.read_metrics(p)
    assert len(m) == n
    print(f"{n:,} data points, {len(data) / 1e6:.1f} MB of OTLP JSON lines (best of {args.repeat})")
    print(f"read + orjson.loads a line : {1e3 * t_floor[0]:8.0f} ms wall {1e3 * t_floor[1]:8.0f} ms CPU (each dropped: the floor)")
    print(f"  ... all lines kept       : {1e3 * t_kept[0]:8.0f} ms wall {1e3 * t_kept[1]:8.0f} ms CPU")
    print(f"tk.read_metrics            : {1e3 * t_read[0]:8.0f} ms wall {1e3 * t_read[1]:8.0f} ms CPU")
    print(f"  ... + every cell built   : {1e3 * t_built[0]:8.0f} ms wall {1e3 * t_built[1]:8.0f} ms CPU ({', '.join(LAZY)})")
    print(f"ratio read / parse = {t_read[0] / t_floor[0]:.2f} wall, {t_read[1] / t_floor[1]:.2f} CPU (target <= 1.5); "
          f"read / kept parse = {t_read[1] / t_kept[1]:.2f} CPU")
    print(f"ratio read + every cell built / parse = {t_built[0] / t_floor[0]:.2f} wall, {t_built[1] / t_floor[1]:.2f} CPU; "
          f"/ kept parse = {t_built[1] / t_kept[1]:.2f} CPU")
    for t in t_bound:
        print(f"eager bound (decode of every line kept + the per-row objects): {1e3 * t[0]:.0f} ms wall {1e3 * t[1]:.0f} ms CPU, "
              f"{t[0] / t_floor[0]:.2f} wall, {t[1] / t_floor[1]:.2f} CPU of the parse")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
