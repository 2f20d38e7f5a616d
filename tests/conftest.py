"""Shared fixtures: the real public traces in ../shared/real-traces (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_TRACES = Path(os.environ.get("TRACEKIT_REAL_TRACES", REPO.parent / "shared" / "real-traces"))


@pytest.fixture(scope="session")
def real_traces() -> Path:
    """Folder of real public traces; tests using it skip (with the reason) when it is absent."""
    if not REAL_TRACES.is_dir():
        pytest.skip(f"real public traces not found at {REAL_TRACES} (set TRACEKIT_REAL_TRACES)")
    return REAL_TRACES


#: doctests that take over a second on two loaded cores (a whole report or postmortem run): marked slow like tests,
#: so `pytest -m "not slow and not browser"` (the fast lane, README) leaves them to the full run
SLOW_DOCTESTS = frozenset({
    "tracekit.reporting", "tracekit.reporting.report", "tracekit.reporting.render_report",
    "tracekit.reporting.build_report_from_files", "tracekit.reporting.collect_report",
    "tracekit.investigate.postmortem", "tracekit.investigate.postmortem.postmortem",
    "tracekit.investigate.postmortem.Postmortem", "tracekit.investigate.causes",
    "tracekit.investigate.causes.rank_causes", "tracekit.widgets.HeatmapExplorer", "tracekit.widgets.TraceExplorer", "tracekit.analysis.changes",
    "tracekit.analysis.changes.detect_changes", "tracekit.dask.service_graph", "tracekit.dask.health_report", "tracekit.reporting.render_markdown",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Notebooks (nbval: each runs the whole notebook, 10-60 s) and the slow doctests are marked ``slow``."""
    for item in items:
        path = str(item.path)
        if path.endswith(".ipynb") or (item.name in SLOW_DOCTESTS and type(item).__name__ == "DoctestItem"):
            item.add_marker(pytest.mark.slow)
