"""Benchmark: waterfall_data + plot_waterfall on one big trace (10,000 and 50,000 spans).

Prints a markdown table measured side by side in one run: time of the data step, of the figure,
of writing self-contained HTML, and the HTML size. ``--quick`` uses 1,000 and 5,000 spans.

    python benchmarks/bench_waterfall.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import tracekit as tk  # noqa: E402

MS = 1_000_000


def make_trace(n: int, *, seed: int = 0, services: int = 12) -> pd.DataFrame:
    """One synthetic trace of ``n`` spans: a random tree (fan-out ~3), children inside parents."""
    rng = np.random.default_rng(seed)
    parent = np.full(n, -1, dtype=np.int64)
    # each span's parent is a random earlier span, biased towards recent ones (depth grows ~log n)
    for i in range(1, n):
        parent[i] = rng.integers(max(0, i - 1 - int(rng.exponential(i / 3 + 1))), i)
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    end[0] = 60_000 * MS
    for i in range(1, n):
        p = parent[i]
        length = end[p] - start[p]
        s = start[p] + int(rng.uniform(0, 0.7) * length)
        start[i] = s
        end[i] = s + max(1, int(rng.uniform(0.05, 0.3) * (end[p] - s)))
    svc = rng.integers(0, services, n)
    ids = np.array([f"{i + 1:016x}" for i in range(n)], dtype=object)
    return tk.spans_from_columns(
        {
            "trace_id": ["ab" * 16] * n,
            "span_id": ids,
            "parent_id": [None] + [ids[p] for p in parent[1:]],
            "service": [f"service-{s}" for s in svc],
            "name": [f"op-{i % 97}" for i in range(n)],
            "start": start,
            "end": end,
            "status": np.where(rng.random(n) < 0.01, "error", "ok"),
        }
    )


def _time(f, repeat: int = 3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


ZOOM_JS = """async () => {
  const gd = document.querySelector('.js-plotly-plot');
  const t0 = performance.now();
  await Plotly.relayout(gd, {'xaxis.range': [0, 1000]});
  return {zoom_wall_ms: performance.now() - t0,
          bars: gd.querySelectorAll('.barlayer .trace.bars')[0].querySelectorAll('.point path').length};
}"""


def browser_times(path: Path) -> dict | None:
    """Headless Chromium: main-thread CPU (DevTools ``ThreadTime``, robust on a busy machine) and
    wall time to load + draw the page, and to redraw after a zoom (``Plotly.relayout``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    exe = "/usr/bin/chromium"
    if not Path(exe).exists():
        return None
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def cpu() -> float:
                return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["ThreadTime"]

            t = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=600_000)
            page.wait_for_selector(".js-plotly-plot .barlayer .point path", state="attached", timeout=600_000)
            out = {"load_wall_s": time.perf_counter() - t, "load_cpu_s": cpu()}
            c0 = cpu()
            out.update(page.evaluate(ZOOM_JS))
            out["zoom_cpu_ms"] = (cpu() - c0) * 1e3
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 and 5,000 spans")
    ap.add_argument("--no-browser", action="store_true", help="skip the headless-Chromium timings")
    args = ap.parse_args(argv)
    import tempfile

    import tracekit.plotting as plotting

    sizes = (1_000, 5_000) if args.quick else (10_000, 50_000)
    print("| spans | waterfall_data (s) | + critical path (s) | collapse max_depth=3 (s) | plot_waterfall from rows (s) "
          "| to_html self-contained (s) | HTML MB | HTML MB w/o plotly.js | Chromium load+draw CPU (wall) s "
          "| zoom redraw CPU (wall) ms | bars drawn |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            spans = make_trace(n)
            t_data, rows = _time(lambda s=spans: tk.waterfall_data(s))
            t_cp, rows_cp = _time(lambda s=spans: tk.waterfall_data(s, critical_path=True))
            t_col, _ = _time(lambda s=spans: tk.waterfall_data(s, max_depth=3))
            t_fig, fig = _time(lambda r=rows_cp: plotting.plot_waterfall(r))
            t_html, page = _time(lambda f=fig: f.to_html(include_plotlyjs=True, full_html=True), repeat=1)
            bare = fig.to_html(include_plotlyjs=False, full_html=True)
            path = Path(tmp) / f"waterfall_{n}.html"
            path.write_text(page)
            b = None if args.no_browser else browser_times(path)
            bcols = (
                f"{b['load_cpu_s']:.2f} ({b['load_wall_s']:.1f}) | {b['zoom_cpu_ms']:.0f} ({b['zoom_wall_ms']:.0f}) | {b['bars']:,}"
                if b else "– | – | –"
            )
            print(
                f"| {n:,} | {t_data:.3f} | {t_cp:.3f} | {t_col:.3f} | {t_fig:.3f} | {t_html:.3f} | "
                f"{len(page.encode()) / 1e6:.2f} | {len(bare.encode()) / 1e6:.2f} | {bcols} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
