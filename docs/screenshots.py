"""Re-take the report screenshots in docs/ from the README's first command, in Debian's headless Chromium.

    python3 docs/screenshots.py            # writes docs/report.png and docs/report/*.png

Needs the `test` extra (playwright drives /usr/bin/chromium; no browser download) and the bundled datasets.
Each picture is what a reader sees: the page at a desktop width, or one section of it as laid out there.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
CHROMIUM = "/usr/bin/chromium"

#: file name -> (viewport width, height, CSS selector of the element shot, or None for the viewport)
SHOTS = {
    "report.png": (1250, 1500, None),
    "report/first-screen.png": (1280, 900, None),
    "report/timeline.png": (1100, 900, "#timeline"),
    "report/service-map.png": (1100, 900, "#service-map"),
    "report/likely-causes.png": (1120, 1000, "section:has(#causes-table)"),
    "report/waterfall.png": (1120, 1000, "[id^='trace-'] + div"),  # the heading and the figure below it
}


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "tracekit", "report", "datasets/checkout-incident/", "--baseline",
                        "datasets/checkout-baseline/", "-o", str(html), "--title", "Checkout latency 2026-03-02",
                        "--no-progress"], cwd=REPO, check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            for name, (w, h, selector) in SHOTS.items():
                page = browser.new_page(viewport={"width": w, "height": h})
                page.goto(html.as_uri(), wait_until="load")
                page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
                page.wait_for_timeout(500)  # plotly's first layout pass
                out = DOCS / name
                if selector is None:
                    page.screenshot(path=str(out))
                elif selector.endswith(" + div"):  # a heading and the element after it, as one picture
                    head = page.locator(selector.removesuffix(" + div")).first
                    head.scroll_into_view_if_needed()
                    box = page.evaluate("""sel => { const h = document.querySelector(sel), d = h.nextElementSibling;
                        const a = h.getBoundingClientRect(), b = d.getBoundingClientRect();
                        return {x: Math.min(a.left, b.left), y: a.top + window.scrollY,
                                width: Math.max(a.width, b.width), height: b.bottom - a.top}; }""",
                                        selector.removesuffix(" + div"))
                    page.screenshot(path=str(out), full_page=True, clip=box)  # page coordinates
                else:
                    el = page.locator(selector).first
                    el.scroll_into_view_if_needed()
                    el.screenshot(path=str(out))
                print(f"wrote {out.relative_to(REPO)}")
                page.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
