"""Benchmark read_logs against its floor, and attach_logs against reading the spans it attaches to.

    python benchmarks/bench_logs.py           # ~320,000 spans, ~170,000 log records
    python benchmarks/bench_logs.py --quick   # ~32,000 spans, ~17,000 log records

The spans come from the simulator (``tracekit.simulate``, baseline scenario), written as OTLP JSON
lines (``tk.write_otlp``). The log records are made from those spans: each span, with probability
0.53, gets one record with its trace and span id (so ~170k records on ~320k spans), in collector
shape — OTLP logs JSON lines, one ``resourceLogs`` per service and 512 records a line, string body
with a number and an id in it, two attributes, severity INFO / WARN / ERROR.

Measured in one process, side by side, best of ``--rounds`` (the machine may be shared):

* **read_logs / floor** — the floors of ``benchmarks/json_floor.py``: ``orjson.loads`` of every line of
  the logs file, each dropped once parsed (the floor) or all kept; GC paused, as the reader pauses it;
  target ≤ 1.5 of the floor. Beside it, ``tk.read_logs`` plus every cell of its lazy ``attributes``
  and ``resource`` columns built (what a reader building them at read time costs: the deferred
  cost in plain sight).
* **attach_logs / read** — ``tk.attach_logs(spans, logs)`` (templates included: the per-frame
  cache, :mod:`tracekit.core.cache`, is cleared before each round) against ``tk.read`` of the
  spans file; target ≤ 0.5.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

import tracekit as tk
from tracekit.core.cache import clear_cache


def write_logs(spans, path: Path, seed: int = 1) -> int:
    rnd = random.Random(seed)
    by_service: dict[str, list] = {}
    sev = [("INFO", 9)] * 8 + [("WARN", 13), ("ERROR", 17)]
    for tid, sid, svc, name, start in zip(spans["trace_id"], spans["span_id"], spans["service"], spans["name"],
                                          spans["start"].astype("int64"), strict=True):
        if rnd.random() < 0.53:
            text, num = rnd.choice(sev)
            by_service.setdefault(svc, []).append({
                "timeUnixNano": str(int(start) + 1000), "observedTimeUnixNano": str(int(start) + 2000),
                "severityNumber": num, "severityText": text, "traceId": tid, "spanId": sid,
                "body": {"stringValue": f"{name} handled order {rnd.randrange(10**6)} for user {rnd.randrange(10**4):x}a"},
                "attributes": [{"key": "code.function", "value": {"stringValue": name}},
                               {"key": "thread.id", "value": {"intValue": str(rnd.randrange(64))}}]})
    n = 0
    with open(path, "wb") as f:
        for svc, recs in by_service.items():
            for i in range(0, len(recs), 512):
                chunk = recs[i:i + 512]
                n += len(chunk)
                f.write(orjson.dumps({"resourceLogs": [{
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                    "scopeLogs": [{"scope": {"name": "bench"}, "logRecords": chunk}]}]}) + b"\n")
    return n


def floors(path: Path) -> tuple:
    """The two JSON-parse floors of ``benchmarks/json_floor.py`` over the file (read each time, as the reader reads it)."""
    from json_floor import parse_dropped, parse_kept

    return (lambda: parse_dropped(path.read_bytes())), (lambda: parse_kept(path.read_bytes()))


def read_built(path: Path) -> None:
    """read_logs, then every cell of its lazy columns built (GC paused, as the reader pauses it)."""
    logs = tk.read_logs(path)
    was = gc.isenabled()
    gc.disable()
    try:
        for c in ("attributes", "resource"):
            logs[c].to_numpy()
    finally:
        if was:
            gc.enable()


def best(fn, rounds: int) -> float:
    out = []
    for _ in range(rounds):
        gc.collect()
        t = time.process_time()
        fn()
        out.append(time.process_time() - t)
    return min(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    n_traces = 1_600 if args.quick else 16_000
    with tempfile.TemporaryDirectory() as d:
        sim = tk.simulate.simulate("baseline", n_traces, seed=5)
        sp, lp = Path(d) / "spans.jsonl", Path(d) / "logs.jsonl"
        tk.write_otlp(sim.spans, sp)
        n_logs = write_logs(sim.spans, lp)
        del sim
        spans = tk.read(sp)
        logs = tk.read_logs(lp)
        assert len(logs) == n_logs
        dropped, kept = floors(lp)
        t_floor = best(dropped, args.rounds)
        t_kept = best(kept, args.rounds)
        t_logs = best(lambda: tk.read_logs(lp), args.rounds)
        t_built = best(lambda: read_built(lp), args.rounds)
        t_read = best(lambda: tk.read(sp), args.rounds)
        t_attach = best(lambda: (clear_cache(), tk.attach_logs(spans, logs)), args.rounds)  # templates computed
        r = tk.attach_logs(spans, logs)
        size = lp.stat().st_size
    print(f"### logs: {len(logs):,} records ({size / 1e6:.0f} MB OTLP JSON lines) on {len(spans):,} spans; "
          f"best of {args.rounds} CPU times, one process\n")
    print("| step | s | ratio | target |\n|---|---|---|---|")
    print(f"| orjson.loads of every line, each dropped (the floor) | {t_floor:.2f} | 1.00 | |")
    print(f"| orjson.loads of every line, all kept | {t_kept:.2f} | {t_kept / t_floor:.2f} (of the floor) | |")
    print(f"| tk.read_logs | {t_logs:.2f} | {t_logs / t_floor:.2f} (of the floor), {t_logs / t_kept:.2f} (of the kept "
          "parse) | ≤ 1.5 (of the floor) |")
    print(f"| tk.read_logs + every cell built (attributes, resource) | {t_built:.2f} | {t_built / t_floor:.2f} (of the floor), "
          f"{t_built / t_kept:.2f} (of the kept parse) | |")
    print(f"| tk.read (the spans) | {t_read:.2f} | 1.00 | |")
    print(f"| tk.attach_logs (templates included) | {t_attach:.2f} | {t_attach / t_read:.2f} (of tk.read) | ≤ 0.5 |")
    print(f"\nattached: {r.n_on_span:,} on their span, {r.n_trace_level:,} trace-level, {r.n_unmatched:,} unmatched")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
