"""Benchmark: the canvas waterfall (tk.plotting.gl.plot_waterfall_gl) on one big trace (10,000 and 100,000 spans).

Measured side by side in one run: Python time (waterfall_data with the critical path, then the
columns + HTML), page size, and in headless Chromium the load (wall and main-thread CPU), the
first draw, a zoom redraw, a pan redraw and a row zoom (ms of the renderer's ``draw``, median
of 5). The machine's load average is printed with the figures. ``--quick``: 2,000 and 10,000.

    python benchmarks/bench_waterfall_gl.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_waterfall import make_trace  # noqa: E402

import tracekit as tk  # noqa: E402
from tracekit.plotting.gl import plot_waterfall_gl  # noqa: E402

REDRAWS = """async () => {
  const w = Object.values(window.tkWaterfalls)[0];
  const first = w.last.ms, full = w.view(), med = a => a.sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const zoom = [], pan = [], rows = [];
  for (let k = 0; k < 5; k++) {
    zoom.push(w.setView(0, 1000 + k, full.r0, full.r1).ms);           // first second of the trace, all rows
    pan.push(w.setView(20000 + 100 * k, 21000 + 100 * k, full.r0, full.r1).ms);  // pan along time
    rows.push(w.setView(full.x0, full.x1, 1000 * k, 1000 * k + 40).ms);  // 40 rows, labelled
  }
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const framed = [];
  for (let k = 0; k < 5; k++) { await frame(); const t1 = performance.now(); w.setView(0, 2000 + k, full.r0, full.r1); await frame();
    framed.push(performance.now() - t1); }  // zoom until the next frame is on screen (includes paint, and up to a frame of waiting)
  const t = performance.now(); w.search('op-7'); const searchMs = performance.now() - t;
  return {first_ms: first, zoom_ms: med(zoom), pan_ms: med(pan), rows_ms: med(rows), framed_ms: med(framed), search_ms: searchMs};
}"""


def browser(path: Path) -> dict | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            t = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=600_000)
            page.wait_for_function("() => window.tkWaterfalls && Object.values(window.tkWaterfalls)[0]", timeout=600_000)
            out = {"load_wall_s": time.perf_counter() - t}
            out["load_cpu_s"] = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["ThreadTime"]
            out.update(page.evaluate(REDRAWS))
        finally:
            b.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 and 10,000 spans")
    ap.add_argument("--no-browser", action="store_true")
    a = ap.parse_args(argv)
    sizes = (2_000, 10_000) if a.quick else (10_000, 100_000)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print("| spans | waterfall_data + critical path (s) | columns + HTML (s) | Python total (s) | page MB "
          "| Chromium load wall (CPU) s | first draw ms | zoom redraw ms (to next frame) | pan redraw ms | 40-row zoom ms | search ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            spans = make_trace(n)
            t = time.process_time()
            rows = tk.waterfall_data(spans, critical_path=True)
            t_rows = time.process_time() - t
            t = time.process_time()
            page = plot_waterfall_gl(rows, full_html=True)
            t_html = time.process_time() - t
            path = Path(tmp) / f"wgl_{n}.html"
            path.write_text(page, encoding="utf-8")
            b = None if a.no_browser else browser(path)
            bc = (f"{b['load_wall_s']:.2f} ({b['load_cpu_s']:.2f}) | {b['first_ms']:.1f} | {b['zoom_ms']:.1f} ({b['framed_ms']:.0f}) | {b['pan_ms']:.1f} "
                  f"| {b['rows_ms']:.1f} | {b['search_ms']:.1f}") if b else "– | – | – | – | – | –"
            print(f"| {n:,} | {t_rows:.2f} | {t_html:.2f} | {t_rows + t_html:.2f} | {path.stat().st_size / 1e6:.2f} | {bc} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
