"""A notebook exported with `jupyter nbconvert --to html` keeps its figures and opens cleanly in Chromium.

The export executes the whole notebook (a cell that raises fails the test, with its traceback), so in a session
that runs this test nbval's run of the same notebook is left out (tests/conftest.py, ``_NotebookOnce``)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .browser import open_html
from .conftest import REPO


@pytest.mark.slow  # 43.8 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.browser  # opens the export in Chromium
def test_exported_notebook_keeps_its_figures(tmp_path):
    (tmp_path / "datasets").symlink_to(REPO / "datasets")  # the notebook reads ../datasets/
    (tmp_path / "nb").mkdir()
    nb = tmp_path / "nb" / "02.ipynb"
    shutil.copy(REPO / "notebooks" / "02-exploratory-performance.ipynb", nb)
    r = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
                        "--ExecutePreprocessor.timeout=600", str(nb), "--output", "02.html"],
                       capture_output=True, text=True, cwd=nb.parent, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]  # a cell raised (its traceback), as nbval would report it
    html = (nb.parent / "02.html").read_text()
    n_figures = html.count('class="plotly-graph-div"')
    assert n_figures == 6  # timeline, heatmap, latency ECDF, bubble-up, waterfall, service graph
    assert html.count("* plotly.js v") == 1  # the library is embedded once, no CDN needed
    page = open_html(nb.parent / "02.html", wait_for=".js-plotly-plot .main-svg",
                     evaluate="() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 "
                              "&& document.querySelectorAll('.js-plotly-plot').length")
    assert page.page_errors == []
    assert page.value == n_figures
