"""Lenient loading (errors="skip") with many bad records must stay linear in the input.

    python benchmarks/bench_lenient.py           # 80,000 spans
    python benchmarks/bench_lenient.py --quick   # 20,000 spans

Three inputs of N spans each, a quarter of the records bad, each read with ``errors="skip"``:

* OTLP, one resourceSpans / scopeSpans holding all N spans, every 4th span with a bad ``kind``
  (many bad spans in one block: the case where skipped positions were kept in a list rebuilt
  per bad span);
* OTLP JSON lines, one span per line, every 4th line not JSON;
* X-Ray JSON lines, one segment with an exception ``cause`` per line, every 4th segment
  without ``start_time``.

Time is the best of a few rounds (CPU time of this process); the same inputs at N/4 are timed
too, so the ratio says how the time grows (linear: ~4; quadratic: ~16). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time
import warnings

import orjson

import tracekit as tk


def _span(i: int, bad: bool) -> dict:
    return {"traceId": f"{i // 10 + 1:032x}", "spanId": f"{i + 1:016x}", "name": "op",
            "kind": 9 if bad else 2, "startTimeUnixNano": str(1_700_000_000_000_000_000 + i),
            "endTimeUnixNano": str(1_700_000_000_000_100_000 + i)}


def otlp_block(n: int) -> bytes:
    spans = [_span(i, i % 4 == 3) for i in range(n)]
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})


def otlp_lines(n: int) -> bytes:
    out = []
    for i in range(n):
        if i % 4 == 3:
            out.append(b'{"resourceSpans": [oops')
        else:
            out.append(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [_span(i, False)]}]}]}))
    return b"\n".join(out) + b"\n"


def xray_lines(n: int) -> bytes:
    out = []
    for i in range(n):
        seg = {"trace_id": f"1-5759e988-{i // 10 + 1:024x}", "id": f"{i + 1:016x}", "name": "api",
               "start_time": 1.7e9 + i, "end_time": 1.7e9 + i + 0.5,
               "cause": {"exceptions": [{"message": "boom", "type": "E"}]}}
        if i % 4 == 3:
            del seg["start_time"]
        out.append(orjson.dumps(seg))
    return b"\n".join(out) + b"\n"


CASES = {
    "OTLP: bad kind in one big block": (otlp_block, tk.read_otlp),
    "OTLP JSON lines: bad lines": (otlp_lines, tk.read_otlp),
    "X-Ray JSON lines: bad segments with causes": (xray_lines, tk.read_xray),
}


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (20_000 if args.quick else 80_000)
    rounds = 3
    print(f"lenient load, {n:,} spans, a quarter of the records bad (best of {rounds}, CPU s)\n")
    print("| input | N/4 spans | N spans | ratio (linear ≈ 4) | spans loaded | skipped |")
    print("|---|---:|---:|---:|---:|---:|")
    warnings.simplefilter("ignore")
    for label, (make, reader) in CASES.items():
        small, big = make(n // 4), make(n)
        t_small = best(lambda r=reader, d=small: r(d, errors="skip"), rounds)
        t_big = best(lambda r=reader, d=big: r(d, errors="skip"), rounds)
        df = reader(big, errors="skip")
        print(f"| {label} | {t_small:.3f} | {t_big:.3f} | {t_big / t_small:.1f} | {len(df):,} | "
              f"{len(df.attrs['skipped']):,} |", flush=True)


if __name__ == "__main__":
    main()
