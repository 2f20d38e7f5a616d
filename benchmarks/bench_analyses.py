"""Every public analysis once on N spans: CPU time as a ratio to reading them, and peak memory.

    python benchmarks/bench_analyses.py --quick          # ~20,000 spans, prints the table
    python benchmarks/bench_analyses.py --spans 1000000 --write-doc

The simulator's ``db-lock`` scenario (``tracekit.simulate``, seed 1, ~N spans) is written as OTLP
JSON lines (``tracekit.io.write.write_otlp``) and read once with ``tk.read``: that read's CPU time
is the reference (1.00). A ``baseline`` scenario of about N/2 spans (seed 2) is read the same way
for the analyses that compare (``compare``, ``rank_causes``); its read is not timed. Then each
analysis of :data:`ANALYSES` runs **once** (after an untimed warm-up on 50 traces, so that no
row pays for importing its modules), in that order, on the same frame, with
``tracekit.core.cache.clear_cache()`` before each so that no analysis reuses a span tree or a
critical path another one built (the rows that take a critical path, ``critical_path_breakdown``
and ``critical_path_tree``, are given the one computed by the ``critical_path`` row, as a user
would pass it).

**Time**: ``time.process_time()`` of this process (CPU seconds, all threads), so the load of other
jobs on a shared machine matters less than for wall time; ratio = analysis CPU / read CPU.

**Memory**: the Linux peak resident set size. Before each row the process collects garbage, hands
freed heap back to the OS (``malloc_trim``) and resets its peak to the current RSS (writing ``5`` to
``/proc/self/clear_refs``); after the row ``VmHWM`` from ``/proc/self/status`` is read. The figure
is that peak minus the RSS before the row: the extra memory the analysis needed above the frames
already held (spans, baseline, critical path), its result included. It is an RSS figure (numpy,
pandas and Arrow buffers count; ``tracemalloc`` would miss Arrow's allocator), in MiB. Where
``clear_refs`` is not writable the column says so instead of giving a number.

``--write-doc`` replaces the generated block of ``docs/analyses-at-scale.md`` (between
:data:`BEGIN` and :data:`END`) with the table and a header naming the size, the date, the machine
(cores, load average before and after) and the commit.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import gc
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import tracekit as tk  # noqa: E402
from tracekit.core.cache import clear_cache  # noqa: E402
from tracekit.io.write import write_otlp  # noqa: E402

DOC = ROOT / "docs" / "analyses-at-scale.md"
BEGIN = "<!-- bench_analyses: begin generated block -->"
END = "<!-- bench_analyses: end generated block -->"
#: spans per simulated trace in the baseline scenario (to ask the simulator for ~N spans)
_SPANS_PER_TRACE = 20


@dataclass
class Ctx:
    """What the analyses run on: the frames, and results earlier rows hand to later ones."""

    spans: pd.DataFrame
    baseline: pd.DataFrame
    tmp: Path
    cp: pd.DataFrame | None = None
    root_service: str = ""


def _cp(c: Ctx) -> pd.DataFrame:
    c.cp = tk.critical_path(c.spans)
    return c.cp


def _weights(c: Ctx) -> pd.Series:
    ids = pd.unique(c.spans["trace_id"].to_numpy(dtype=object))
    return pd.Series(10.0, index=ids)


def _store(c: Ctx) -> Path:
    return c.tmp / "spans.parquet"


#: (row name, the call as shown in the table, the function of the context)
ANALYSES: list[tuple[str, str, Callable[[Ctx], Any]]] = [
    ("trace_summary", "trace_summary(spans)", lambda c: tk.trace_summary(c.spans)),
    ("health_report", "health_report(spans)", lambda c: tk.health_report(c.spans)),
    ("critical_path", "critical_path(spans)", _cp),
    ("critical_path_breakdown", "critical_path_breakdown(cp, spans=spans)",
     lambda c: tk.critical_path_breakdown(c.cp, spans=c.spans)),
    ("critical_path_tree", "critical_path_tree(cp, spans=spans)", lambda c: tk.critical_path_tree(c.cp, spans=c.spans)),
    ("service_graph", "service_graph(spans)", lambda c: tk.service_graph(c.spans)),
    ("compare", "compare(spans, baseline)  # n_boot=1000", lambda c: tk.compare(c.spans, c.baseline)),
    ("find_repeated_calls", "find_repeated_calls(spans)", lambda c: tk.find_repeated_calls(c.spans)),
    ("timeline", "timeline(spans)  # 1min", lambda c: tk.timeline(c.spans)),
    ("detect_changes", "detect_changes(spans)", lambda c: tk.detect_changes(c.spans)),
    ("rank_causes", "rank_causes(spans, baseline)", lambda c: tk.rank_causes(c.spans, c.baseline)),
    ("bubble_up", "bubble_up(spans, lambda t: t.request_ms > p95)",
     lambda c: tk.bubble_up(c.spans, lambda t: t.request_ms > t.request_ms.quantile(0.95))),
    ("sampling_weights", "sampling_weights(spans, rate=0.1)", lambda c: tk.sampling_weights(c.spans, rate=0.1)),
    ("weighted_summary", "weighted_summary(spans, 10.0 per trace)  # n_boot=1000",
     lambda c: tk.weighted_summary(c.spans, _weights(c))),
    ("what_if", "what_if(spans, {root service: 'x0.5'})  # every trace re-timed",
     lambda c: tk.what_if(c.spans, {c.root_service: "x0.5"})),
    ("stitch", "stitch(spans)", lambda c: tk.stitch(c.spans)),
    ("error_origins", "error_origins(spans)", lambda c: tk.error_origins(c.spans)),
    ("top_exceptions", "top_exceptions(spans)", lambda c: tk.top_exceptions(c.spans)),
    ("traceql filter", "traceql(spans, '{ resource.service.name = \"checkout\" && duration > 100ms }')",
     lambda c: tk.traceql(c.spans, '{ resource.service.name = "checkout" && duration > 100ms }')),
    ("traceql structural", "traceql(spans, '{ resource.service.name = \"frontend\" } >> { status = error }')",
     lambda c: tk.traceql(c.spans, '{ resource.service.name = "frontend" } >> { status = error }')),
    ("write_parquet", "write_parquet(spans, path)", lambda c: tk.write_parquet(c.spans, _store(c), overwrite=True)),
    ("read_parquet", "read_parquet(path)  # lazy containers", lambda c: tk.read_parquet(_store(c))),
    ("read_parquet + materialize", "read_parquet(path, materialize=True)",
     lambda c: tk.read_parquet(_store(c), materialize=True)),
]


# ---------------------------------------------------------------------------------- measuring


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(fn: Callable[[], Any], trim: bool = True) -> tuple[float, float, Any]:
    """CPU seconds and peak RSS above the RSS before (MiB; NaN where the peak cannot be reset). ``trim``: collect
    garbage and return freed memory first, so a row is not charged for the previous row's leftovers."""
    if trim:
        _trim()
    ok = _reset_peak()
    before = _status_kib("VmRSS")
    t = time.process_time()
    out = fn()
    cpu = time.process_time() - t
    peak = _status_kib("VmHWM")
    mib = (peak - before) / 1024 if ok and peak is not None and before is not None else math.nan
    return cpu, mib, out


def _warm_up(workdir: Path) -> None:
    """Run every analysis once on 50 traces, untimed, so no row pays for importing its modules."""
    small = tk.simulate.simulate("db-lock", n_traces=50, seed=3).spans
    (workdir / "warm").mkdir(exist_ok=True)
    roots = small.loc[small["parent_id"].isna(), "service"]
    ctx = Ctx(spans=small, baseline=small, tmp=workdir / "warm", root_service=str(roots.value_counts().index[0]))
    for _, _, fn in ANALYSES:
        fn(ctx)
    clear_cache()


def run(n_spans: int, workdir: Path, progress: Callable[[str], None] = lambda s: None,
        trim: bool = True) -> tuple[dict, list[dict]]:
    """Simulate ~``n_spans`` spans, time the read and every analysis; (header facts, one row each). ``trim=False``
    skips the garbage collection and malloc_trim before each row (tests check the table, not the figures: the 26
    of them cost 2.9 s CPU per 30 in a fresh process, more in one holding many objects)."""
    load0 = os.getloadavg()
    _warm_up(workdir)
    n_traces = max(4, n_spans // _SPANS_PER_TRACE)
    sim = tk.simulate.simulate("db-lock", n_traces=n_traces, seed=1).spans
    base = tk.simulate.simulate("baseline", n_traces=max(4, n_traces // 2), seed=2).spans
    src, bsrc = workdir / "spans.jsonl", workdir / "baseline.jsonl"
    write_otlp(sim, src)
    write_otlp(base, bsrc)
    del sim, base
    baseline = tk.read(bsrc)
    t_read, m_read, spans = measure(lambda: tk.read(src), trim)
    roots = spans.loc[spans["parent_id"].isna(), "service"]
    ctx = Ctx(spans=spans, baseline=baseline, tmp=workdir, root_service=str(roots.value_counts().index[0]))
    rows = [{"analysis": "read (reference)", "call": "tk.read(OTLP JSON lines)", "cpu_s": t_read, "ratio": 1.0,
             "peak_mib": m_read}]
    progress(f"read {len(spans):,} spans: {t_read:.2f} s CPU")
    for name, call, fn in ANALYSES:
        clear_cache()
        cpu, mib, out = measure(lambda fn=fn: fn(ctx), trim)
        del out
        rows.append({"analysis": name, "call": call, "cpu_s": cpu, "ratio": cpu / t_read if t_read > 0 else math.nan,
                     "peak_mib": mib})
        progress(f"{name}: {cpu:.2f} s CPU, {cpu / t_read:.2f}x, {mib:.0f} MiB")
    facts = {"spans": len(spans), "traces": int(spans["trace_id"].nunique()), "baseline_spans": len(baseline),
             "json_mib": src.stat().st_size / 2**20, "load_before": load0, "load_after": os.getloadavg(),
             "cpus": os.cpu_count(), "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
             "python": platform.python_version(), "pandas": pd.__version__, "commit": _commit()}
    return facts, rows


def _commit() -> str:
    if os.environ.get("BENCH_COMMIT"):  # run from an exported copy of the tree (no .git)
        return os.environ["BENCH_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------------------------- the table

_COLUMNS = ["analysis", "call", "CPU s", "ratio to the read", "peak RSS above the frames, MiB"]


def render(facts: dict, rows: list[dict], note: str = "") -> str:
    """The generated block: a header of facts and one table row per measured step."""
    l0, l1 = facts["load_before"], facts["load_after"]
    head = [BEGIN,
            f"Generated by `python benchmarks/bench_analyses.py --spans {facts['requested']} --write-doc` on "
            f"{facts['date']} (commit {facts['commit']}).",
            "",
            f"- **Size**: {facts['spans']:,} spans in {facts['traces']:,} traces (simulator `db-lock` scenario, seed 1; "
            f"OTLP JSON lines, {facts['json_mib']:.0f} MiB); baseline for `compare` / `rank_causes`: "
            f"{facts['baseline_spans']:,} spans (`baseline` scenario, seed 2).",
            f"- **Machine**: {facts['cpus']} CPUs, shared with other jobs; load average (1, 5, 15 min) "
            f"{l0[0]:.2f} / {l0[1]:.2f} / {l0[2]:.2f} before and {l1[0]:.2f} / {l1[1]:.2f} / {l1[2]:.2f} after; "
            f"Python {facts['python']}, pandas {facts['pandas']}.",
            "- **Time**: CPU seconds of this process, each analysis run once, as a ratio to the CPU time of the "
            "read of the same spans (`tk.read`). **Memory**: peak resident set size during the row minus the "
            "resident set size before it (Linux `VmHWM` reset by `/proc/self/clear_refs`), MiB.",
            ]
    if note:
        head.append(f"- **Note**: {note}")
    head += ["", "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for r in rows:
        mem = "n/a" if math.isnan(r["peak_mib"]) else f"{r['peak_mib']:,.0f}"
        call = r["call"].replace("|", "\\|")
        head.append(f"| {r['analysis']} | `{call}` | {r['cpu_s']:.2f} | {r['ratio']:.3f} | {mem} |")
    head.append(END)
    return "\n".join(head)


def parse_block(text: str) -> list[dict]:
    """The rows of the generated block in ``text`` (the inverse of :func:`render` for the table)."""
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise ValueError("no generated block between the markers")
    rows = []
    for line in text[i:j].splitlines():
        if not line.startswith("| ") or line.startswith("| analysis |"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != len(_COLUMNS):
            raise ValueError(f"row has {len(cells)} cells, expected {len(_COLUMNS)}: {line!r}")
        mem = math.nan if cells[4] == "n/a" else float(cells[4].replace(",", ""))
        rows.append({"analysis": cells[0], "call": cells[1].strip("`").replace("\\|", "|"), "cpu_s": float(cells[2]),
                     "ratio": float(cells[3]), "peak_mib": mem})
    return rows


def write_doc(block: str, path: Path = DOC) -> None:
    """Replace the generated block of ``path`` (the markers must be there)."""
    text = path.read_text()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise SystemExit(f"{path}: the markers {BEGIN!r} / {END!r} are missing")
    path.write_text(text[:i] + block + text[j + len(END):])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="~20,000 spans")
    ap.add_argument("--write-doc", action="store_true", help=f"write the table into {DOC.relative_to(ROOT)}")
    ap.add_argument("--note", default="", help="a line for the header (e.g. why the size is not 1M)")
    a = ap.parse_args(argv)
    n = 20_000 if a.quick else a.spans
    with tempfile.TemporaryDirectory() as d:
        facts, rows = run(n, Path(d), progress=lambda s: print(s, file=sys.stderr, flush=True))
    facts["requested"] = n
    block = render(facts, rows, a.note)
    print(block)
    if a.write_doc:
        write_doc(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
