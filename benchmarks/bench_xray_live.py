"""Benchmark tk.fetch_xray against a local moto X-Ray server (a separate process, real HTTP).

Uploads simulated shop traffic (``simulate("baseline")`` → ``xray_segment_documents``) with
PutTraceSegments, then measures in one run, side by side:

* ``fetch_xray`` with ``max_workers`` 1, 4 and 8, without a cache,
* the same with an added 50 ms per request (a ``before-send`` hook sleeps, then the request goes
  to moto) — roughly a real AWS round trip, where the bounded parallelism pays off,
* with ``cache_dir`` (every page written atomically), a resumed call where everything is cached,
  a resumed call after one cached page was cut short (found, its traces re-asked once, file replaced),
  and ``read_xray(cache_dir)`` offline.

moto answers locally in about a millisecond and shares 2 cores with this process, so the
no-latency rows measure tracekit's own overhead (parsing, caching, DataFrame), not AWS.

Usage: ``python benchmarks/bench_xray_live.py [--quick]`` (``--quick``: 60 traces instead of 600).
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import pandas as pd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto server did not start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="60 traces instead of 600")
    args = ap.parse_args(argv)
    n = 60 if args.quick else 600

    os.environ.update(AWS_ACCESS_KEY_ID="AKIABENCHFAKE0000001", AWS_SECRET_ACCESS_KEY="bench-fake-secret",
                      AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent",
                      AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_EC2_METADATA_DISABLED="true")
    import boto3

    import tracekit as tk
    from tracekit.aws import fetch_xray
    from tracekit.io.write import xray_segment_documents
    from tracekit.simulate import AppConfig, simulate

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait(url)
        now = time.time()
        start = pd.Timestamp(now - 400, unit="s", tz="UTC").floor("s")
        sim = simulate("baseline", n_traces=n, seed=11, config=AppConfig(start=start.isoformat(), duration_s=300))
        docs = xray_segment_documents(sim.spans, inferred=False)
        xr = boto3.client("xray", endpoint_url=url)
        for i in range(0, len(docs), 200):
            xr.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs[i:i + 200]])
        t0, t1 = now - 600, now + 60

        def client(latency: float):
            c = boto3.client("xray", endpoint_url=url)
            if latency:
                c.meta.events.register("before-send.xray", lambda **kw: time.sleep(latency))
            return c

        rows = []

        def timed(label: str, workers: int, latency: float, **kw):
            c = client(latency)
            t = time.perf_counter()
            spans = fetch_xray(t0, t1, client=c, max_workers=workers, progress=False, **kw)
            dt = time.perf_counter() - t
            got = spans.attrs["xray_fetch"]["got"]
            rows.append((label, workers, f"{latency * 1000:.0f}", got["requests_this_run"],
                         spans["trace_id"].nunique(), len(spans), f"{dt:.2f}", f"{len(spans) / dt:,.0f}"))
            return spans

        for w in (1, 4, 8):
            timed("no cache", w, 0.0)
        for w in (1, 4, 8):
            timed("no cache", w, 0.05)
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "c"
            timed("cache_dir (first run)", 4, 0.0, cache_dir=cache)
            timed("cache_dir (resumed, all cached)", 4, 0.0, cache_dir=cache)
            page = sorted(cache.glob("batch-*.json"))[0]  # one page cut short: found, re-asked once, replaced
            page.write_bytes(page.read_bytes()[: page.stat().st_size // 2])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                timed("cache_dir (resumed, one page cut short)", 4, 0.0, cache_dir=cache)
            t = time.perf_counter()
            off = tk.read_xray(cache)
            dt = time.perf_counter() - t
            rows.append(("read_xray(cache_dir) offline", "-", "-", 0, off["trace_id"].nunique(), len(off),
                         f"{dt:.2f}", f"{len(off) / dt:,.0f}"))
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"fetch_xray against moto_server on 127.0.0.1: {n} simulated traces, {len(docs)} segment documents\n")
    print("| run | max_workers | added latency ms | requests | traces | spans | seconds | spans/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
