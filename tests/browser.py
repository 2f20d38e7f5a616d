"""Open an HTML file in real headless Chromium (Debian's /usr/bin/chromium) and report what happened.

Reusable by any test that renders HTML (figures, reports)::

    from .browser import open_html

    def test_page(tmp_path):
        path = tmp_path / "page.html"
        path.write_text(html)
        page = open_html(path, wait_for=".js-plotly-plot .bars path",
                         evaluate="() => document.querySelectorAll('.bars path').length", dom=True)
        assert page.errors == []            # console errors + uncaught page errors
        assert page.value > 0               # what `evaluate` returned
        assert "<svg" in page.dom           # the rendered DOM (page.content(), asked with dom=True)

Playwright's Python package drives the system Chromium (no browser download). When Chromium
or Playwright is missing, :func:`open_html` calls ``pytest.skip`` with the reason, so a test that
needs a browser is skipped rather than failed on a machine without one. Network is off for the
page except ``file://``: a page that tries to fetch anything (e.g. a CDN script) logs a request
failure, which shows up in ``page.failed_requests`` and, for scripts, as a JS error.

One Chromium serves the whole session: it is launched on the first call, and every call opens its
page in a fresh browser context (storage and cache of its own, as a new browser has), so a page
sees nothing of the pages before it. Launching Playwright's driver and Chromium costs 2-4 s on two
loaded cores: once per session instead of once per page. Playwright's sync API marks its asyncio
loop as running in the thread that drives it, so the browser is driven from a thread of its own
and the tests' thread (dask, nbclient, ``asyncio.run``) never sees that loop.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TRACEKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class PageResult:
    """What a page did: its DOM after load (if asked), JS errors, failed requests, and an evaluated value."""

    dom: str | None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    value: Any = None
    screenshot: bytes | None = None

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions together (empty when the page ran cleanly)."""
        return self.console_errors + self.page_errors


def chromium_available() -> str | None:
    """None when a headless browser can be used, else the reason it cannot."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    exe = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not exe or not os.path.exists(exe):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium, or set TRACEKIT_CHROMIUM)"
    return None


class _LaunchFailed(Exception):
    """Chromium did not start (the calling test is skipped with the reason)."""


class _SharedBrowser:
    """One headless Chromium for the session, driven by a thread of its own (see the module docstring)."""

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[Any], Any]) -> Any:
        """``job(browser)`` on the browser's thread: its result, or its exception raised here."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="chromium", daemon=True)
                self._thread.start()
            done: Future = Future()
            self._jobs.put((job, done))
        return done.result()

    def _serve(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        pw = browser = None
        try:
            while (item := self._jobs.get()) is not None:
                job, done = item
                try:
                    if pw is None:
                        pw = sync_playwright().start()
                    if browser is None or not browser.is_connected():  # the first page, or Chromium went away
                        try:
                            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                        except PlaywrightError as exc:  # pragma: no cover - depends on the machine
                            raise _LaunchFailed(str(exc)) from exc
                    done.set_result(job(browser))
                except BaseException as exc:  # handed to the calling thread
                    done.set_exception(exc)
        finally:
            if browser is not None:
                browser.close()
            if pw is not None:
                pw.stop()

    def close(self) -> None:
        """Close Chromium and end its thread (at exit; a later page would launch it again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None and thread.is_alive():
                self._jobs.put(None)
        if thread is not None:
            thread.join(timeout=30)


_BROWSER = _SharedBrowser()
atexit.register(_BROWSER.close)


def open_html(
    path: str | Path,
    *,
    wait_for: str | None = None,
    evaluate: str | None = None,
    timeout_ms: int = 30_000,
    viewport: tuple[int, int] = (1200, 900),
    screenshot: bool = False,
    dom: bool = False,
) -> PageResult:
    """Load ``path`` in headless Chromium, wait for ``wait_for`` (a CSS selector) if given, then
    return the DOM, console/page errors, failed requests and the value of the JS function
    ``evaluate`` (e.g. ``"() => document.title"``). Skips the calling test if no browser.
    The page opens in a fresh browser context of the session's Chromium. The DOM (``page.content()``)
    only with ``dom=True``: a page embedding plotly.js serialises to 4.9 MB, 0.8-1.6 s on two loaded cores."""
    reason = chromium_available()
    if reason:
        pytest.skip(reason)
    url = Path(path).resolve().as_uri()

    def job(browser: Any) -> PageResult:
        console: list[str] = []
        page_errors: list[str] = []
        failed: list[str] = []
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        try:
            page = context.new_page()
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            # offline except for the file itself: a page must not need the network
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            page.goto(url, wait_until="load", timeout=timeout_ms)
            if wait_for:
                page.wait_for_selector(wait_for, state="attached", timeout=timeout_ms)
            value = page.evaluate(evaluate) if evaluate else None
            shot = page.screenshot(full_page=False) if screenshot else None
            html = page.content() if dom else None
        finally:
            context.close()
        return PageResult(dom=html, console_errors=console, page_errors=page_errors, failed_requests=failed,
                          value=value, screenshot=shot)

    try:
        return _BROWSER.run(job)
    except _LaunchFailed as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"chromium at {CHROMIUM} failed to start: {exc}")
