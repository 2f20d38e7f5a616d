"""Study for issue 18: what would read_otlp cost on JSON lines if it did not build attribute dicts at load?

    python benchmarks/study_lazy_attributes.py              # ~200,000 spans
    python benchmarks/study_lazy_attributes.py --spans 50000

Not a reader: a measurement to decide the representation of the ``attributes`` column. The same
simulator file as ``bench_read_otlp`` (JSON lines), read in one process, alternating, best CPU
time of a few rounds:

* the floor (``orjson.loads`` of every line, GC paused);
* ``read_otlp`` as shipped (typed decode, one attribute dict per span);
* ``read_otlp`` with an empty dict for every span's attributes: the
  ``KeyValue`` Structs are still decoded, only the dicts are not built;
* ``read_otlp`` with the span ``attributes`` decoded as ``msgspec.Raw`` (the bytes kept for
  later, no Struct, no dict): the least a reader with lazily built attributes does. Resource
  attributes are not built either, so every span's service is ``unknown_service`` and
  ``http_status`` is empty: a real lazy reader would still find those two;
* the same, then every span's attribute dict built from its kept bytes after the read (the
  fast path's own ``_attrs`` on the decoded ``KeyValue`` list): what a lazy column costs once
  the first analysis reads attributes — ``core.naming.routes`` and ``callees`` (routes,
  operations, the service graph, the postmortem) read every span's.

The patched runs swap module globals of :mod:`tracekit.io.otlp_fast` and check that every line
still took the fast path (a fallback would time the checked code instead).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import orjson
from msgspec import UNSET, Raw, UnsetType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracekit as tk  # noqa: E402
from tracekit.io import otlp_fast as F  # noqa: E402


def _with_raw_attributes(struct: type) -> type:
    """``struct`` with its ``attributes`` decoded as raw JSON (``msgspec.Raw``), every other field as declared."""
    fields = []
    for f in msgspec.structs.fields(struct):
        if f.name == "attributes":
            fields.append((f.name, Raw, Raw(b"")))
        elif f.required:
            fields.append((f.name, f.type))
        else:
            fields.append((f.name, f.type, f.default))
    return msgspec.defstruct("_RawSpan", fields, bases=(F._Base,))


_RawSpan = _with_raw_attributes(F.Span)  # Span with its attributes kept as raw JSON


class _RawScopeSpans(F._Base):
    scope: F.Scope | None = None
    spans: list[_RawSpan] | None = None
    schemaUrl: str | UnsetType = UNSET


class _RawResourceSpans(F._Base):
    resource: F.Resource | None = None
    scopeSpans: list[_RawScopeSpans] | None = None
    schemaUrl: str | UnsetType = UNSET


class _RawTracesData(F._Base):
    resourceSpans: list[_RawResourceSpans]


_RAW_DECODER = msgspec.json.Decoder(_RawTracesData)


def floor(path: Path) -> int:
    gc.disable()
    n = 0
    for line in path.read_bytes().split(b"\n"):
        if line.strip():
            d = orjson.loads(line)
            n += sum(len(s["spans"]) for r in d["resourceSpans"] for s in r["scopeSpans"])
            del d
    gc.enable()
    return n


_KEY_VALUES = msgspec.json.Decoder(list[F.KeyValue]).decode


def read(path: Path, variant: str) -> int:
    real_attrs, real_decoder = F._attrs, F._DECODER
    kept: list = []
    if variant != "shipped":
        def _no_dict(kvs, depth=0, keep=kept.append):  # (resource attributes too)
            keep(kvs)
            return {}

        F._attrs = _no_dict
    if variant.startswith("raw"):
        F._DECODER = _RAW_DECODER
    before = dict(F.STATS)
    try:
        n = len(tk.read_otlp(path))
    finally:
        F._attrs, F._DECODER = real_attrs, real_decoder
    if variant == "raw, dicts after":
        was = gc.isenabled()
        gc.disable()
        dicts = [real_attrs(_KEY_VALUES(r)) if type(r) is Raw and r else {} for r in kept]
        assert len(dicts) >= n
        if was:
            gc.enable()
    assert F.STATS["fallback"] == before["fallback"] and F.STATS["checked_rest"] == before["checked_rest"], \
        f"{variant}: a line left the fast path"
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    from bench_read_otlp import simulated

    runs = {"floor": lambda p: floor(p), "read_otlp": lambda p: read(p, "shipped"),
            "empty attribute dicts (KeyValue Structs decoded)": lambda p: read(p, "no-dicts"),
            "attributes kept raw (msgspec.Raw)": lambda p: read(p, "raw"),
            "kept raw, every dict built after the read": lambda p: read(p, "raw, dicts after")}
    with tempfile.TemporaryDirectory() as tmp:
        n, _, paths = simulated(args.spans, Path(tmp))
        path = paths[0]
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(args.rounds):
            for k, f in runs.items():
                gc.collect()
                c = time.process_time()
                got = f(path)
                cpu[k].append(time.process_time() - c)
                assert got == n, (k, got, n)
    best = {k: min(v) for k, v in cpu.items()}
    print(f"{n:,} spans, JSON lines; best CPU s of {args.rounds} alternating rounds, one run\n")
    print("| run | CPU s | / floor | all rounds |")
    print("|---|---:|---:|---|")
    for k, v in cpu.items():
        print(f"| {k} | {best[k]:.2f} | {best[k] / best['floor']:.2f} | {', '.join(f'{x:.2f}' for x in v)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
