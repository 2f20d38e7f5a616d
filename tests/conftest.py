"""Shared fixtures: the real public traces in ../shared/real-traces (read in place, never copied)."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_TRACES = Path(os.environ.get("TRACEKIT_REAL_TRACES", REPO.parent / "shared" / "real-traces"))


@pytest.fixture(scope="session")
def real_traces() -> Path:
    """Folder of real public traces; tests using it skip (with the reason) when it is absent."""
    if not REAL_TRACES.is_dir():
        pytest.skip(f"real public traces not found at {REAL_TRACES} (set TRACEKIT_REAL_TRACES)")
    return REAL_TRACES


#: the columns whose cells (dicts, lists) :func:`read_dataset` shares between the frames it returns
_SHARED_CELLS = ("attributes", "resource", "events", "links")
#: dataset name -> (the session's parse, a digest of its shared cells as read)
_PARSED: dict[str, tuple[pd.DataFrame, bytes]] = {}


def _cells_digest(spans: pd.DataFrame) -> bytes:
    cells = [spans[c].tolist() for c in _SHARED_CELLS if c in spans.columns]
    return hashlib.blake2b(pickle.dumps(cells, protocol=5), digest_size=16).digest()


def read_dataset(name: str) -> pd.DataFrame:
    """``tk.read(datasets/<name>)``, parsed once per session: each call returns a new frame of its own.

    The copy has its own columns, index and attrs (``copy(deep=True)``), so a test may add, replace or
    edit columns as on a fresh read; only the dicts and lists inside the object columns (attributes,
    resource, events, links) are shared with the session's parse. A test that wants other values
    there assigns new ones (``spans["attributes"] = [{**a, ...} for a in ...]``), as the tests do;
    one that edited a shared cell in place fails the session (``_datasets_left_unchanged``). Tests of
    the readers themselves call ``tk.read``. Parsing checkout-incident (29,596 spans) takes 0.8-2.7 s
    on two loaded cores, the copy 0.01 s.
    """
    if name not in _PARSED:
        import tracekit as tk

        spans = tk.read(REPO / "datasets" / name)
        _PARSED[name] = (spans, _cells_digest(spans))
    return _PARSED[name][0].copy(deep=True)


#: the fault-lab windows :func:`lab_window` made: (kind, seed, keyword items) -> (window, digest of its shared cells)
_LAB: dict[tuple, tuple] = {}
#: each frame's columns whose cells (dicts, lists) :func:`lab_window`'s copies share with the session's window
_LAB_CELLS = {"incident": _SHARED_CELLS, "baseline": _SHARED_CELLS, "logs": ("attributes", "resource"),
              "metrics": ("attributes", "resource", "buckets", "exemplars", "quantiles")}


def _frame_digest(frame: pd.DataFrame, cols: tuple) -> bytes:
    cells = [frame[c].tolist() for c in cols if c in frame.columns]
    return hashlib.blake2b(pickle.dumps(cells, protocol=5), digest_size=16).digest()


def _lab_copy(w, digests: dict):
    """A copy of the session's window ``w`` with frames of its own; its logs and metrics are made (once for the
    session, their digest taken then) only when a test reads them: most tests read the spans alone."""
    import dataclasses

    def signal(name: str):
        def make():
            frame = getattr(w, name)  # made by the session's window on the first read
            digests.setdefault(name, _frame_digest(frame, _LAB_CELLS[name]))
            return frame.copy(deep=True)
        return make

    return dataclasses.replace(w, incident=w.incident.copy(deep=True), baseline=w.baseline.copy(deep=True),
                               make_logs=signal("logs"), make_metrics=signal("metrics"))


def lab_window(kind: str, seed: int, *, n_services: int | None = None, **kw):
    """``tracekit.simulate_faults.fault_window(kind, seed, **kw)``, made once per test process: each call returns a
    window of frames of its own (``copy(deep=True)``; the dicts and lists inside their object columns are shared, as
    :func:`read_dataset`'s are, and a test that edits one in place fails the session). A window takes 1-2.5 s on two
    loaded cores; test_status_unknown alone asked for the same two windows over 40 times. Keyword values must be
    hashable (a ``system=`` is passed through uncached); ``n_services=n`` is ``system=random_system(seed,
    n_services=n)``, cached (test_simulate_faults' small windows of 12-service systems). Its logs and metrics are
    made when first read (:class:`tracekit.simulate_faults.FaultWindow`), once for the session."""
    from tracekit.simulate_faults import fault_window, random_system

    def make():
        system = {} if n_services is None else {"system": random_system(seed, n_services=n_services)}
        return fault_window(kind, seed, **kw, **system)

    try:
        key = (kind, seed, n_services, tuple(sorted(kw.items())))
        hash(key)
    except TypeError:
        return make()
    if key not in _LAB:
        w = make()
        _LAB[key] = (w, {f: _frame_digest(getattr(w, f), _LAB_CELLS[f]) for f in ("incident", "baseline")})
    return _lab_copy(*_LAB[key])


@pytest.fixture(scope="session", autouse=True)
def _lab_windows_left_unchanged():
    """At the end of the session: no test edited the cells :func:`lab_window` shares, in place."""
    yield
    edited = [key[:2] for key, (w, digests) in _LAB.items()
              if any(_frame_digest(getattr(w, f), _LAB_CELLS[f]) != d for f, d in digests.items())]
    assert edited == [], f"a test edited the shared cells of fault-lab windows {edited} in place"


@pytest.fixture(scope="session", autouse=True)
def _datasets_left_unchanged():
    """At the end of the session: no test edited the cells :func:`read_dataset` shares, in place."""
    yield
    edited = [name for name, (spans, digest) in _PARSED.items() if _cells_digest(spans) != digest]
    assert edited == [], f"a test edited the shared attributes/resource/events/links cells of datasets {edited} in place"



def pytest_sessionfinish(session: pytest.Session) -> None:
    """After the last test (the checks of shared cells above ran in its teardown): the session's parses and lab
    windows are let go and what is left is frozen out of the collector. pytest's own cleanup then runs five full
    garbage collections, and in an xdist worker it runs after the worker has told the controller it finished:
    execnet interrupts a worker still running 5 s later, and five passes over a worker's heap (1.26 M objects
    after three files, 0.67 s a pass; 0.22 s without these caches) ended CI runs with "Exception ignored in
    hypothesis' gc_callback: KeyboardInterrupt". Objects alive now are not garbage, and the one collection here
    finds the cycles that are (their finalizers still reach pytest's unraisable-exception hook)."""
    import gc

    _PARSED.clear()
    _LAB.clear()
    gc.collect()
    gc.freeze()

#: doctests that take over a second on two loaded cores (a whole report or postmortem run): marked slow like tests,
#: so `pytest -m "not slow and not browser"` (the fast lane, README) leaves them to the full run
SLOW_DOCTESTS = frozenset({
    "tracekit.reporting", "tracekit.reporting.report", "tracekit.reporting.render_report",
    "tracekit.reporting.build_report_from_files", "tracekit.reporting.collect_report",
    "tracekit.investigate.postmortem", "tracekit.investigate.postmortem.postmortem",
    "tracekit.investigate.postmortem.Postmortem", "tracekit.investigate.causes",
    "tracekit.investigate.causes.rank_causes", "tracekit.widgets.HeatmapExplorer", "tracekit.widgets.TraceExplorer", "tracekit.analysis.changes",
    "tracekit.analysis.changes.detect_changes", "tracekit.dask.service_graph", "tracekit.dask.health_report", "tracekit.reporting.render_markdown",
    "tracekit.reporting.write_report", "tracekit.reporting.baseline_warnings",
})


#: notebooks that read the real public traces in place (../shared/real-traces): skipped, with the reason, where absent
NEEDS_REAL_TRACES = ("05-logs-and-metrics.ipynb",)


#: the files that take longest, seconds of test time (setup + call + teardown) in a whole run on two idle cores
#: (2026-11-29, --durations=0, 953 s; every file of 5 s or more, 83 of 345, 1,542 of the run's 1,832 s): run first,
#: as one unit each (--dist loadfile), longest first, so the last file to finish is a short one (the run's tail was the
#: fault-lab file, 137 s, when it was handed out late). Others follow, most tests first (xdist's own order, turned off
#: in pyproject's addopts with --no-loadscope-reorder so this one holds). Remeasure when a file's weight moves.
LONGEST_FILES = {"test_simulate_faults.py": 73, "test_postmortem_weak.py": 73, "test_report_reading.py": 67,
                 "test_rank_causes.py": 49, "test_log_evidence_rules.py": 40, "test_s43_workflows.py": 39,
                 "test_metric_evidence.py": 38, "test_s47_traceql4.py": 38, "test_course_changes.py": 33,
                 "test_postmortem.py": 33, "test_cli.py": 32, "test_acceptance.py": 32, "test_report.py": 31,
                 "test_store.py": 29, "test_cause_shapes.py": 29, "test_report_signals.py": 29, "test_dask.py": 28,
                 "test_s48_dask3.py": 27, "test_sampling.py": 26, "test_s34_immutable.py": 26,
                 "test_status_unknown.py": 26, "test_s34_changes.py": 25, "test_report_reader_defects.py": 25,
                 "test_s32_live.py": 24, "test_s32_report.py": 22, "05-logs-and-metrics.ipynb": 21,
                 "test_definitions.py": 20, "test_simulate_signals.py": 20, "test_attribution.py": 19,
                 "01-postmortem.ipynb": 18, "test_xray_live.py": 18, "test_logs.py": 18, "test_s48_lead.py": 18,
                 "test_report_datasets.py": 17, "test_browser_figures.py": 17, "test_baseline_check.py": 17,
                 "test_s49_lead.py": 17, "test_s44_lead.py": 16, "test_notebook_export.py": 16, "test_readme.py": 15,
                 "test_s32_incident_periods.py": 15, "test_s45_causes3.py": 14, "test_fast_readers.py": 14,
                 "test_report_story.py": 14, "test_timeline.py": 13, "test_s44_report3.py": 13,
                 "test_trace_diff.py": 12, "test_s47_scale3.py": 12, "test_critical_path.py": 12,
                 "test_logs_defects.py": 11, "test_cache.py": 11, "test_s49_examples.py": 11, "test_s45_diff.py": 10,
                 "test_s49_report5.py": 10, "test_logs_live.py": 10, "test_metrics_fast.py": 10,
                 "test_s48_live3.py": 10, "test_s43_changes.py": 10, "test_hostile_input.py": 9,
                 "test_s47_diff4.py": 9, "test_figure_titles.py": 9, "test_s33_views.py": 8,
                 "test_s48_widgets3.py": 8, "test_s36_lead.py": 8, "test_s36_report.py": 8, "test_s47_lead.py": 8,
                 "test_benchmarks_cli.py": 8, "test_s43_security.py": 7, "test_simulate.py": 7, "reporting.py": 7,
                 "test_hardening.py": 7, "test_s35_health.py": 6, "test_peers.py": 6, "test_s46_causes4.py": 6,
                 "test_s32_causes.py": 6, "test_plotting.py": 6, "test_s47_onset.py": 6,
                 "test_traceql_defects.py": 5, "test_s45_metricsfp.py": 5, "test_s34_health.py": 5,
                 "test_s43_report2.py": 5, "test_s42_causes.py": 5, "test_s39_lead.py": 5}


def _longest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with whole files reordered: :data:`LONGEST_FILES` by their seconds, then the others by their number of
    tests, each file's items in their own order."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(str(item.path), []).append(item)
    order = sorted(files, key=lambda f: (-LONGEST_FILES.get(Path(f).name, 0), -len(files[f])))
    return [item for f in order for item in files[f]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Notebooks (nbval: each runs the whole notebook, 10-60 s) and the slow doctests are marked ``slow``; a notebook
    that reads the real public traces is skipped, with the reason, where they are absent. The longest files go
    first (:func:`_longest_first`)."""
    items[:] = _longest_first(items)
    skip = pytest.mark.skip(reason=f"real public traces not found at {REAL_TRACES} (set TRACEKIT_REAL_TRACES)")
    for item in items:
        path = str(item.path)
        if path.endswith(".ipynb") or (item.name in SLOW_DOCTESTS and type(item).__name__ == "DoctestItem"):
            item.add_marker(pytest.mark.slow)
        if item.path.name in NEEDS_REAL_TRACES and not REAL_TRACES.is_dir():
            item.add_marker(skip)


#: notebooks that a test runs whole (a cell that raises fails it, which is all ``--nbval-lax`` checks of a notebook
#: without NBVAL markers), with that test and when its run equals nbval's: notebook 02 is exported by nbconvert
#: --execute; notebook 04 is run by nbclient with TRACEKIT_LOCAL_XRAY unset (so equal only when the session has it unset)
RUN_BY_A_TEST = {
    "02-exploratory-performance.ipynb": ("test_notebook_export.py::test_exported_notebook_keeps_its_figures",
                                         lambda: True),
    "04-xray-live.ipynb": ("test_xray_live.py::test_notebook_04_text_and_code_agree_and_no_server_log",
                           lambda: "TRACEKIT_LOCAL_XRAY" not in os.environ),
}


class _NotebookOnce:
    """A notebook that a selected test runs whole is not run again by nbval (notebook 02: 26-38 s on two loaded
    cores, 04: 7 s). After ``-m``/``-k`` have deselected (``trylast``), so a session without that test
    (``-m "not browser"``, ``pytest notebooks/``) still runs the notebook under nbval."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        ids = [item.nodeid for item in items]
        once = {nb for nb, (test, same) in RUN_BY_A_TEST.items() if same() and any(i.endswith(test) for i in ids)}
        twice = [item for item in items if item.path.name in once and item.path.suffix == ".ipynb"]
        if twice:
            items[:] = [item for item in items if item not in twice]
            config.hook.pytest_deselected(items=twice)


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tracekit-notebook-once"):
        config.pluginmanager.register(_NotebookOnce(), "tracekit-notebook-once")
