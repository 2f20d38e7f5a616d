"""Benchmark read_otlp against plain orjson parsing of the same bytes.

    python benchmarks/bench_read_otlp.py           # ~1,000,000 spans (~100,000 traces)
    python benchmarks/bench_read_otlp.py --quick   # ~50,000 spans

Writes a collector file-exporter JSON lines file (one ExportTraceServiceRequest per line, a batch
of spans per service, traces split over lines, realistic attributes) to a temp dir, then measures
in fresh subprocesses, one after the other: orjson.loads of every line, read_otlp, and the peak
memory (ru_maxrss) of each. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

SERVICES = ["gateway", "checkout", "cart", "payments", "inventory", "users", "search", "shipping"]
ROUTES = ["/api/cart", "/api/checkout", "/api/items/{id}", "/api/users/{id}", "/api/search", "/health"]


def _kv(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def generate(path: Path, n_spans: int, seed: int = 7) -> tuple[int, int]:
    """Write ~n_spans spans (10 per trace on average) as JSON lines; return (spans, traces)."""
    rng = random.Random(seed)
    batches: dict[str, list] = {s: [] for s in SERVICES}
    t0 = 1_700_000_000_000_000_000
    spans = traces = 0
    with open(path, "wb") as f:
        def flush(service):
            res = {"attributes": [_kv("service.name", service), _kv("service.version", "1.4.2"),
                                  _kv("deployment.environment", "prod"), _kv("host.name", f"{service}-7d9f-x2"),
                                  _kv("telemetry.sdk.language", "python"), _kv("telemetry.sdk.version", "1.27.0")]}
            doc = {"resourceSpans": [{"resource": res, "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
                                      "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.flask",
                                                                "version": "0.48b0"},
                                                      "spans": batches[service]}]}]}
            f.write(orjson.dumps(doc) + b"\n")
            batches[service] = []

        while spans < n_spans:
            traces += 1
            tid = f"{rng.getrandbits(128):032x}"
            start = t0 + traces * 10_000_000
            n = max(2, int(rng.expovariate(1 / 10)))
            ids = [f"{rng.getrandbits(64):016x}" for _ in range(n)]
            for i in range(n):
                service = SERVICES[0] if i == 0 else rng.choice(SERVICES[1:])
                parent = "" if i == 0 else ids[rng.randrange(i)]
                s = start + i * 100_000 + rng.randrange(50_000)
                e = s + rng.randrange(100_000, 50_000_000)
                code = rng.choices([200, 201, 404, 429, 500], [90, 4, 3, 1, 2])[0]
                kind = 2 if i == 0 or rng.random() < 0.4 else 3
                attrs = [_kv("http.request.method", rng.choice(["GET", "POST"])),
                         _kv("url.path", rng.choice(ROUTES)),
                         _kv("http.response.status_code", code),
                         _kv("server.address", f"{service}.internal"),
                         _kv("server.port", 8080),
                         _kv("network.protocol.version", "1.1"),
                         _kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)")]
                if kind == 3 and rng.random() < 0.5:
                    attrs.append(_kv("db.system", "postgresql"))
                    attrs.append(_kv("db.statement", "SELECT * FROM items WHERE id = $1"))
                span = {"traceId": tid, "spanId": ids[i], "parentSpanId": parent,
                        "name": f"{'GET' if kind == 2 else 'SELECT'} {rng.choice(ROUTES)}", "kind": kind,
                        "startTimeUnixNano": str(s), "endTimeUnixNano": str(e), "attributes": attrs,
                        "status": {"code": 2, "message": "Internal Server Error"} if code >= 500 else {}}
                if code >= 500:
                    span["events"] = [{"timeUnixNano": str(e - 1000), "name": "exception", "attributes": [
                        _kv("exception.type", "TimeoutError"), _kv("exception.message", "upstream timed out")]}]
                if rng.random() < 0.02:
                    span["links"] = [{"traceId": f"{rng.getrandbits(128):032x}",
                                      "spanId": f"{rng.getrandbits(64):016x}"}]
                batches[service].append(span)
                if len(batches[service]) >= 512:
                    flush(service)
                spans += 1
        for service in SERVICES:
            if batches[service]:
                flush(service)
    return spans, traces


_CHILD = r"""
import json, resource, sys, time
import orjson
what, path = sys.argv[1], sys.argv[2]
import gc
import tracekit.io.otlp as m  # both children import the same modules (same heap to start from)
if what == "orjson":
    gc.disable()  # the strictest baseline: read_otlp pauses the GC too
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
if what == "orjson":  # parse every line of the same bytes, count its spans, drop it
    data = open(path, "rb").read()
    n = 0
    for line in data.split(b"\n"):
        if line:
            d = orjson.loads(line)
            n += sum(len(s["spans"]) for r in d["resourceSpans"] for s in r["scopeSpans"])
elif what == "read_otlp":
    n = len(m.read_otlp(path))
elapsed, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "cpu": cpu, "spans": n, "peak_kb": peak, "base_kb": base}))
"""


def measure(what: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, what, str(path)], check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50,000 spans instead of 1,000,000")
    ap.add_argument("--spans", type=int, default=None)
    args = ap.parse_args(argv)
    n = args.spans or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collector-export.jsonl"
        t = time.perf_counter()
        spans, traces = generate(path, n)
        gen_s = time.perf_counter() - t
        size = path.stat().st_size
        parse = measure("orjson", path)
        read = measure("read_otlp", path)
    assert parse["spans"] == read["spans"] == spans, (parse, read, spans)
    mb = size / 2**20
    print(f"{spans:,} spans, {traces:,} traces, collector JSON lines, {mb:,.1f} MiB (generated in {gen_s:.1f} s)\n")
    print("| step | wall s | CPU s | × orjson (CPU) | peak RSS MiB | peak − start MiB | (peak − start) / file |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in (("orjson.loads of every line (parse only)", parse), ("tk.read_otlp", read)):
        peak, grow = r["peak_kb"] / 1024, (r["peak_kb"] - r["base_kb"]) / 1024
        print(f"| {name} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['cpu'] / parse['cpu']:.2f} | {peak:,.0f} | "
              f"{grow:,.0f} | {grow / mb:.2f} |")
    print(f"\nread_otlp: {spans / read['cpu']:,.0f} spans per CPU second; targets: ≤ 2× the parse, "
          "peak − start ≤ 4× the file. CPU time is reported because the machine is shared (wall time varies).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
