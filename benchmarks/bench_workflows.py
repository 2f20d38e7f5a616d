"""Benchmark stitch, workflow_summary, critical_path(across_links=True) and reconnect next to reading the file.

    python benchmarks/bench_workflows.py           # ~200,000 spans of each scenario
    python benchmarks/bench_workflows.py --quick   # ~20,000 spans

Simulates ``async-links`` (fulfillment as linked traces) and ``context-drop`` (10 % dropped context,
5 % lost client spans), writes each once as OTLP JSON lines, then in one process, one after the
other: reads the file and runs the workflow analyses on what was read — stitch by links, stitch
by the heuristic alone (links removed), workflow_summary, the workflow critical path, and
reconnect on the broken-context file. Prints one markdown table: wall and CPU seconds, spans per
CPU second and the ratio to the read time of the same file (CPU, so that a shared machine does not
skew it), with the accuracy of each step against the simulator's truth.
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import time
from pathlib import Path


class _T(float):
    """Wall seconds (the float value) with the process CPU seconds alongside (``.cpu``)."""

    cpu: float


def _timed(fn):
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    wall = _T(time.perf_counter() - t)
    wall.cpu = time.process_time() - c
    return out, wall


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small size (~1,000 traces per scenario)")
    ap.add_argument("--traces", type=int, default=None, help="simulated traces per scenario (default 10,000 ≈ 200k spans)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    import tracekit as tk
    from tracekit.io.write import write_otlp

    n_traces = args.traces or (1_000 if args.quick else 10_000)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        # async workflows
        sim = tk.simulate.simulate("async-links", n_traces=n_traces, seed=args.seed)
        truth = {h[:4] for h in sim.truth.hops}
        p = Path(d) / "linked.jsonl"
        write_otlp(sim.spans, p)
        sim = None
        spans, t_read = _timed(lambda: tk.read_otlp(p))
        n = len(spans)
        rows.append(("read_otlp (async-links file)", t_read, t_read, n, f"{p.stat().st_size / 1e6:.0f} MB"))
        st, t = _timed(lambda: tk.stitch(spans))
        got = set(zip(st.hops["producer_trace_id"], st.hops["producer_span_id"], st.hops["consumer_trace_id"], st.hops["consumer_span_id"], strict=True))
        rows.append(("stitch (links)", t, t_read, n, f"{len(st.hops):,} hops, {len(got & truth) / len(truth):.3f} of the truth, {st.n_workflows:,} workflows"))
        ws, t = _timed(lambda: tk.workflow_summary(st))
        rows.append(("workflow_summary (given the stitch)", t, t_read, n, f"{len(ws):,} workflows"))
        cp, t = _timed(lambda: tk.critical_path(spans, across_links=True))
        rows.append(("critical_path(across_links=True)", t, t_read, n, f"{len(cp):,} sections, {int((cp['section'] == 'queue').sum()):,} queue waits"))
        nolinks = spans.assign(links=[[] for _ in range(n)])
        sh, t = _timed(lambda: tk.stitch(nolinks, via=("heuristic",)))
        got = set(zip(sh.hops["producer_trace_id"], sh.hops["producer_span_id"], sh.hops["consumer_trace_id"], sh.hops["consumer_span_id"], strict=True))
        rows.append(("stitch (heuristic only, links removed)", t, t_read, n,
                     f"precision {len(got & truth) / max(1, len(got)):.3f}, recall {len(got & truth) / len(truth):.3f}"))
        spans = nolinks = st = sh = cp = None  # free before the next scenario
        # broken context
        sim = tk.simulate.simulate("context-drop", n_traces=n_traces, seed=args.seed, share=0.1, orphan_share=0.05)
        dropped = set(sim.truth.dropped)
        p = Path(d) / "broken.jsonl"
        write_otlp(sim.spans, p)
        sim = None
        spans, t_read2 = _timed(lambda: tk.read_otlp(p))
        n2 = len(spans)
        rows.append(("read_otlp (context-drop file)", t_read2, t_read2, n2, f"{p.stat().st_size / 1e6:.0f} MB"))
        r, t = _timed(lambda: tk.reconnect(spans))
        dd = r[r["case"] == "dropped_context"]
        got = set(zip(dd["client_trace_id"], dd["root_trace_id"], strict=True))
        rows.append(("reconnect", t, t_read2, n2, f"precision {len(got & dropped) / max(1, len(got)):.3f}, "
                     f"recall {len(got & dropped) / len(dropped):.3f}, {int((r['case'] == 'missing_parent').sum()):,} missing parents"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{n:,} + {n2:,} spans ({n_traces:,} simulated requests per scenario, seed {args.seed}); peak RSS {rss:,.0f} MB\n")
    print("CPU seconds are the process's own (the machine may be shared; wall time then includes waiting).\n")
    print("| step | wall s | CPU s | spans/s (CPU) | CPU × read | notes |")
    print("|---|---:|---:|---:|---:|---|")
    for name, t, tr, k, note in rows:
        print(f"| {name} | {t:.2f} | {t.cpu:.2f} | {k / max(t.cpu, 1e-9):,.0f} | {t.cpu / tr.cpu:.2f} | {note} |")


if __name__ == "__main__":
    main()
