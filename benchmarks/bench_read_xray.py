"""Benchmark tk.read_xray against its floor: the orjson parse of the file plus of every Document.

By default the spans come from the simulator (``tracekit.simulate``, baseline scenario) and are
written by ``tracekit.io.write.write_xray`` (one BatchGetTraces response, pretty-printed,
Document strings, X-Ray's inferred segments added); ``--synthetic`` uses the older hand-made
generator (~10 spans a trace: a gateway segment with 3 subsegments, a service segment with 4
(DynamoDB, SQL, a custom subsegment with annotations/metadata holding a nested HTTP call), the
inferred DynamoDB segment; pages of 5 traces). Measured in one run:

* ``orjson.loads`` of the file bytes (the outer JSON; Documents stay strings),
* the floor of any reader built on orjson: that outer parse plus ``orjson.loads`` of every
  Document string (with the cyclic GC paused, as read_xray does),
* ``read_xray(path)`` (GC on, as users call it: the reader pauses it itself), and the same with
  its fast path off (the checked walk alone),
* their ratios, the file size, and the peak memory of ``read_xray`` in a fresh subprocess
  (Linux ``VmHWM`` reset just before the call, minus ``VmRSS`` before it) against the file size.

Usage: ``python benchmarks/bench_read_xray.py [--quick] [--spans N] [--synthetic]``. Prints a
markdown table.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

SPANS_PER_TRACE = 10


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def make_trace(rng: random.Random, t0: float) -> dict:
    tid = f"1-{int(t0):08x}-{_hex(rng, 24)}"
    ids = [_hex(rng, 16) for _ in range(SPANS_PER_TRACE)]
    ms = lambda x: round(t0 + x / 1000.0, 6)  # noqa: E731
    err = rng.random() < 0.02
    gw = {
        "id": ids[0], "name": "gateway", "start_time": ms(0), "end_time": ms(120.5), "trace_id": tid,
        "origin": "AWS::ECS::Container",
        "http": {"request": {"method": "POST", "url": "https://shop.example.com/api/checkout",
                             "client_ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
                 "response": {"status": 502 if err else 200}},
        "aws": {"ecs": {"container": "gw-7f9c", "container_id": _hex(rng, 12)},
                "xray": {"sdk": "X-Ray for Go", "sdk_version": "1.8.1"}},
        "service": {"version": "2.3.1"},
        "fault": err,
        "annotations": {"tenant": "acme", "cart_items": rng.randint(1, 9)},
        "subsegments": [
            {"id": ids[1], "name": "auth", "start_time": ms(0.3), "end_time": ms(4.1)},
            {"id": ids[2], "name": "checkout.internal", "namespace": "remote", "start_time": ms(5.0),
             "end_time": ms(118.0), "http": {"request": {"method": "POST", "url": "http://checkout:8080/checkout",
                                                         "traced": True},
                                             "response": {"status": 502 if err else 200, "content_length": 861}},
             "fault": err},
            {"id": ids[3], "name": "render", "start_time": ms(118.2), "end_time": ms(120.3)},
        ],
    }
    if err:
        gw["cause"] = {"working_directory": "/app", "exceptions": [
            {"id": _hex(rng, 16), "type": "UpstreamError", "message": "checkout returned 502", "remote": True,
             "stack": [{"path": "gw/proxy.go", "line": 88, "label": "proxy"}]}]}
    svc = {
        "id": ids[4], "name": "checkout", "start_time": ms(6.0), "end_time": ms(117.0), "trace_id": tid,
        "parent_id": ids[2], "origin": "AWS::EC2::Instance",
        "http": {"request": {"method": "POST", "url": "http://checkout:8080/checkout", "client_ip": "10.0.0.4"},
                 "response": {"status": 502 if err else 200}},
        "aws": {"ec2": {"instance_id": "i-0abc1234def567890", "availability_zone": "us-east-1a"},
                "xray": {"sdk": "X-Ray for Java", "sdk_version": "2.11.0"}},
        "fault": err,
        "subsegments": [
            {"id": ids[5], "name": "DynamoDB", "namespace": "aws", "start_time": ms(7.0), "end_time": ms(19.5),
             "http": {"response": {"status": 200, "content_length": 57}},
             "aws": {"operation": "GetItem", "table_name": "carts", "region": "us-east-1",
                     "request_id": _hex(rng, 32), "retries": 0, "resource_names": ["carts"]}},
            {"id": ids[6], "name": "orders@db.internal", "namespace": "remote", "start_time": ms(20.0),
             "end_time": ms(60.0), "sql": {"url": "jdbc:postgresql://db.internal:5432/orders",
                                           "database_type": "PostgreSQL", "database_version": "14.2",
                                           "sanitized_query": "INSERT INTO orders VALUES (?, ?, ?)",
                                           "preparation": "statement", "user": "app"}},
            {"id": ids[7], "name": "## priceCart", "start_time": ms(61.0), "end_time": ms(116.0),
             "metadata": {"debug": {"items": [1, 2, 3], "currency": "EUR"}},
             "annotations": {"coupon": False},
             "subsegments": [
                 {"id": ids[8], "name": "pricing.internal", "namespace": "remote", "start_time": ms(62.0),
                  "end_time": ms(115.0), "http": {"request": {"method": "GET", "url": "http://pricing/quote"},
                                                   "response": {"status": 200}}}]},
        ],
    }
    inferred = {
        "id": ids[9], "name": "DynamoDB", "start_time": ms(7.0), "end_time": ms(19.5), "trace_id": tid,
        "parent_id": ids[5], "inferred": True, "origin": "AWS::DynamoDB::Table",
        "http": {"response": {"status": 200, "content_length": 57}},
        "aws": {"operation": "GetItem", "table_name": "carts", "region": "us-east-1",
                "request_id": svc["subsegments"][0]["aws"]["request_id"], "retries": 0,
                "resource_names": ["carts"]},
    }
    return {"Id": tid, "Duration": 0.121, "Segments": [
        {"Id": d["id"], "Document": orjson.dumps(d).decode()} for d in (gw, svc, inferred)]}


def write_file(path: Path, n_spans: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    n_traces = max(1, n_spans // SPANS_PER_TRACE)
    t0 = 1_700_000_000.0
    pages = []
    page: list = []
    for i in range(n_traces):
        page.append(make_trace(rng, t0 + i * 0.05 + rng.random() * 0.01))
        if len(page) == 5:
            pages.append({"Traces": page, "UnprocessedTraceIds": []})
            page = []
    if page:
        pages.append({"Traces": page, "UnprocessedTraceIds": []})
    path.write_bytes(orjson.dumps(pages))
    return n_traces * SPANS_PER_TRACE


_PEAK = """
import gc, re, sys
import tracekit as tk

def status(key):
    with open("/proc/self/status") as f:
        return int(re.search(key + r":\\s+(\\d+) kB", f.read()).group(1)) * 1024

tk.read_xray({"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8", "name": "w",
              "start_time": 1.0, "end_time": 2.0})  # warm-up: lazy imports are not the reader's memory
gc.collect()
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
df = tk.read_xray(sys.argv[1])
print(len(df), status("VmHWM") - before)
"""


def parse_floor(path: Path) -> list:
    """Outer parse + every Document string parsed: what any orjson-based reader must do."""
    gc_was = gc.isenabled()
    gc.disable()
    try:
        pages = orjson.loads(path.read_bytes())
        pages = pages if isinstance(pages, list) else [pages]
        docs = [orjson.loads(s["Document"]) for page in pages for t in page["Traces"] for s in t["Segments"]]
    finally:
        if gc_was:
            gc.enable()
    return docs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50,000 spans instead of 1,000,000")
    ap.add_argument("--spans", type=int, default=None)
    ap.add_argument("--synthetic", action="store_true", help="the hand-made generator instead of the simulator")
    args = ap.parse_args(argv)
    n = args.spans or (50_000 if args.quick else 1_000_000)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import tracekit as tk
    import tracekit.io.xray_fast as fast

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch-get-traces.json"
        if args.synthetic:
            n_spans = write_file(path, n)
            what = "hand-made generator, BatchGetTraces pages of 5 traces"
        else:
            from tracekit.io.write import write_xray

            probe = tk.simulate.simulate("baseline", n_traces=200, seed=7).spans
            spans = tk.simulate.simulate("baseline", n_traces=max(1, round(n * 200 / len(probe))), seed=7).spans
            write_xray(spans, path)
            del spans
            n_spans = len(tk.read_xray(path))
            what = "simulator + write_xray, one BatchGetTraces response"
        gc.collect()
        size = path.stat().st_size

        def timed(f, repeat: int) -> tuple[float, float]:
            """Best wall and best CPU (process) time of ``repeat`` runs. The machine may be shared:
            CPU time is the steadier figure, wall time the one a user waits for."""
            walls, cpus = [], []
            for _ in range(repeat):
                gc.collect()
                w, c = time.perf_counter(), time.process_time()
                r = f()
                walls.append(time.perf_counter() - w)
                cpus.append(time.process_time() - c)
                del r
            return min(walls), min(cpus)

        repeat = 3 if n_spans <= 200_000 else 1
        t_json, c_json = timed(functools.partial(orjson.loads, path.read_bytes()), repeat)
        t_floor, c_floor = timed(functools.partial(parse_floor, path), repeat)
        t_read, c_read = timed(lambda: tk.read_xray(path), repeat)  # includes reading the file
        fast.ENABLED = False
        t_chk, c_chk = timed(lambda: tk.read_xray(path), repeat)
        fast.ENABLED = True

        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
        out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True,
                             check=True, env=env).stdout.split()
        peak = int(out[1])

    mb = 1024 * 1024
    print(f"read_xray benchmark: {n_spans:,} spans ({what}); one run, best of {repeat}\n")
    print("| measure | wall | CPU |")
    print("|---|---|---|")
    print(f"| file size | {size / mb:,.1f} MB | |")
    print(f"| orjson.loads(file bytes) | {t_json:.2f} s | {c_json:.2f} s |")
    print(f"| floor: outer parse + every Document parsed (GC paused) | {t_floor:.2f} s | {c_floor:.2f} s |")
    print(f"| read_xray(path), GC on | {t_read:.2f} s | {c_read:.2f} s |")
    print(f"| read_xray with the fast path off (checked walk) | {t_chk:.2f} s | {c_chk:.2f} s |")
    print(f"| ratio read_xray / floor (target ≤ 2.0) | {t_read / t_floor:.2f} | {c_read / c_floor:.2f} |")
    print(f"| ratio checked walk / floor | {t_chk / t_floor:.2f} | {c_chk / c_floor:.2f} |")
    print(f"| ratio read_xray / orjson.loads | {t_read / t_json:.2f} | {c_read / c_json:.2f} |")
    print(f"| read_xray spans per second | {n_spans / t_read:,.0f} | {n_spans / c_read:,.0f} |")
    print(f"| peak memory of read_xray (subprocess, VmHWM − VmRSS before) | {peak / mb:,.0f} MB | |")
    print(f"| peak memory / file size (target ≤ 4) | {peak / size:.2f} | |")
    assert int(out[0]) == n_spans, (out, n_spans)


if __name__ == "__main__":
    main()
