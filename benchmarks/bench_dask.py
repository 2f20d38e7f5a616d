"""Benchmark tk.dask against the pandas path on OTLP files on disk, at two sizes.

    python benchmarks/bench_dask.py                 # 2,500,000 and 5,000,000 spans
    python benchmarks/bench_dask.py --quick         # 100,000 and 200,000 spans
    python benchmarks/bench_dask.py --spans 300000 600000 --workers 1 2

For each size, simulates the ``baseline`` shop (about 20 spans per trace) in chunks and writes
OTLP JSON lines (gzip) files of ``--file-spans`` spans each, the way a collector rotates them
(traces cut at file boundaries). Then, each engine in its own fresh process(es):

* **pandas**: ``tk.read_otlp(folder)``, ``critical_path`` + ``critical_path_breakdown(by=service)``,
  ``service_graph``; peak RSS of the process.
* **dask, W workers** (``LocalCluster(n_workers=W, threads_per_worker=1, processes=True)``):
  ``tk.dask.read_otlp(folder)`` shuffled on trace_id and written to a Parquet cache
  (``tk.dask.to_parquet``), then from the cache ``tk.dask.critical_path_breakdown`` and
  ``tk.dask.service_graph``; peak RSS of each worker process (``ru_maxrss``) and of the client.

Prints one markdown table: wall seconds per step and in total, spans per second, peak memory.
Results are checked against each other (breakdown cp_ms and graph edge calls equal).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make_files(folder: Path, n_spans: int, file_spans: int, seed: int) -> int:
    """Simulate about ``n_spans`` spans in chunks and write them as OTLP JSON-lines files."""
    import tracekit as tk
    from tracekit.io.write import write_otlp

    folder.mkdir(parents=True, exist_ok=True)
    total, k, buf = 0, 0, None
    import pandas as pd

    chunk_traces = 5_000
    while total < n_spans:
        s = tk.simulate.simulate("baseline", n_traces=chunk_traces, seed=seed + k).spans
        k += 1
        s = s.iloc[: n_spans - total]
        total += len(s)
        buf = s if buf is None else pd.concat([buf, s], ignore_index=True)
        while len(buf) >= file_spans or (total >= n_spans and len(buf)):
            part, buf = buf.iloc[:file_spans], buf.iloc[file_spans:].reset_index(drop=True)
            n_files = len(list(folder.glob("*.jsonl.gz")))
            write_otlp(part, folder / f"spans-{n_files:05d}.jsonl.gz")
    return total


def _run_pandas(folder: str) -> dict:
    import tracekit as tk

    out: dict = {}
    t0 = time.perf_counter()
    spans = tk.read_otlp(folder)
    out["read"] = time.perf_counter() - t0
    t = time.perf_counter()
    bd = tk.critical_path_breakdown(tk.critical_path(spans), by="service")
    out["breakdown"] = time.perf_counter() - t
    t = time.perf_counter()
    G = tk.service_graph(spans)
    out["graph"] = time.perf_counter() - t
    out["total"] = time.perf_counter() - t0
    out["spans"] = len(spans)
    out["peak_mb"] = [_peak_mb()]
    out["check"] = {"cp_ms": round(float(bd["cp_ms"].sum()), 3), "calls": sum(d["calls"] for *_, d in G.edges(data=True))}
    return out


def _run_dask(folder: str, workers: int, cache: str, memory_limit: str) -> dict:
    import distributed

    import tracekit as tk

    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit=memory_limit)
    client = distributed.Client(cluster)
    try:
        out: dict = {}
        t0 = time.perf_counter()
        tk.dask.to_parquet(tk.dask.read_otlp(folder), cache)
        out["read"] = time.perf_counter() - t0
        out["read_peak_mb"] = max(client.run(_peak_mb).values())
        ds = tk.dask.read_parquet(cache)
        t = time.perf_counter()
        bd = tk.dask.critical_path_breakdown(ds, by="service").compute()
        out["breakdown"] = time.perf_counter() - t
        t = time.perf_counter()
        G = tk.dask.service_graph(ds)
        out["graph"] = time.perf_counter() - t
        out["total"] = time.perf_counter() - t0
        out["spans"] = int(ds.map_partitions(len).compute().sum())
        out["partitions"] = ds.npartitions
        out["peak_mb"] = sorted(client.run(_peak_mb).values())
        out["client_mb"] = _peak_mb()
        out["check"] = {"cp_ms": round(float(bd["cp_ms"].sum()), 3), "calls": sum(d["calls"] for *_, d in G.edges(data=True))}
        return out
    finally:
        client.close()
        cluster.close()


def _child(argv: list[str]) -> dict:
    """Run one engine in a fresh interpreter (clean peak-memory figures); return its JSON."""
    res = subprocess.run([sys.executable, str(HERE), "--child", *argv], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"benchmark child {argv} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 and 200,000 spans")
    ap.add_argument("--spans", type=int, nargs="+", help="sizes (default 2,500,000 5,000,000)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--file-spans", type=int, default=50_000, help="spans per input file (= per partition)")
    ap.add_argument("--memory-limit", default="4GiB", help="per Dask worker")
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas path (it needs ~10 GB per million spans)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        engine, folder, *rest = args.child
        out = _run_pandas(folder) if engine == "pandas" else _run_dask(folder, int(rest[0]), rest[1], rest[2])
        print(json.dumps(out))
        return
    sizes = args.spans or ([100_000, 200_000] if args.quick else [2_500_000, 5_000_000])
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            folder = Path(d) / f"in-{n}"
            t = time.perf_counter()
            n_real = _make_files(folder, n, args.file_spans, args.seed)
            gen_s = time.perf_counter() - t
            mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
            print(f"# {n_real:,} spans in {len(list(folder.iterdir()))} files ({mb:.0f} MB gzip), generated in {gen_s:.0f} s", file=sys.stderr, flush=True)
            runs = []
            if not args.no_pandas:
                runs.append(("pandas", _child(["pandas", str(folder)])))
            for w in args.workers:
                cache = str(Path(d) / f"cache-{n}-{w}")
                runs.append((f"dask {w} worker{'s' if w > 1 else ''}", _child(["dask", str(folder), str(w), cache, args.memory_limit])))
            checks = {json.dumps(r["check"], sort_keys=True) for _, r in runs}
            for name, r in runs:
                peak = r["peak_mb"]
                rows.append((n_real, name, r["read"], r["breakdown"], r["graph"], r["total"], n_real / r["total"],
                             r.get("read_peak_mb", float("nan")), max(peak), r.get("client_mb", float("nan")), len(checks) == 1))
                print(f"#   {name}: {r['total']:.1f} s, peak {max(peak):.0f} MB", file=sys.stderr, flush=True)
    print("| spans | engine | read (+shuffle+parquet) s | breakdown s | service_graph s | total s | spans/s "
          "| peak MB per worker after read+shuffle+parquet | peak MB per worker (all steps; pandas: process) | client MB | results equal |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, name, rd, bd, g, tot, rate, rpeak, peak, cl, ok in rows:
        print(f"| {n:,} | {name} | {rd:.1f} | {bd:.1f} | {g:.1f} | {tot:.1f} | {rate:,.0f} | {rpeak:,.0f} | {peak:,.0f} | {cl:,.0f} | {'yes' if ok else 'NO'} |")
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end (shared)")


if __name__ == "__main__":
    main()
