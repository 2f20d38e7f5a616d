"""Where a service serves a request is one definition (core.tree.service_entries), used by compare, timeline,
deployments and the attribution tables. A span without a service (schema-invalid, but spans_from_columns builds it)
made compare and detect_changes raise pandas' bare TypeError 'boolean value of NA is ambiguous'."""
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import service_entries


def _spans():
    return tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "1" * 32, "2" * 32, "2" * 32],
        "span_id": ["a" * 16, "b" * 16, "e" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, "b" * 16, None, "c" * 16],
        "name": ["r", "x", "y", "r", "x"], "start": [0, 1, 2, 100, 101], "end": [10, 5, 4, 110, 105],
        "service": ["api", None, "db", "api", None]}).assign(  # a blank service is unknown_service since s35: by hand
        service=lambda d: pd.Series(["api", None, "db", "api", None], dtype=d["service"].dtype))


def test_a_span_without_a_service_enters_and_so_does_its_child():
    assert service_entries(_spans()).tolist() == [True, True, True, True, True]
    s = _spans().assign(service=["api", "api", "db", "api", "api"])
    assert service_entries(s).tolist() == [True, False, True, True, False]


def test_compare_and_detect_changes_take_a_frame_with_a_missing_service():
    s = _spans()
    t = tk.compare(s, s).table
    assert set(t["service"].dropna()) == {"api", "db"}
    with pytest.warns(UserWarning, match="no series could be tested"):
        assert tk.detect_changes(s).empty
    tl = tk.timeline(s, by="service")
    got = tl.assign(service=tl["service"].astype(object).fillna("(none)")).groupby("service")["requests"].sum()
    assert got.to_dict() == {"api": 2.0, "db": 1.0, "(none)": 2.0}


def test_the_modules_agree_on_entries():
    sim = tk.simulate.simulate("baseline", 100, seed=5).spans
    e = service_entries(sim)
    tl = tk.timeline(sim, by="service")
    want = pd.Series(sim["service"][e].astype(object)).value_counts().sort_index()
    got = tl.groupby("service")["requests"].sum().sort_index()
    assert got.astype(int).to_dict() == want.to_dict()


def test_the_compare_figure_names_calls_as_compare_counts_them():
    # compare counts calls per request since the analyses review (4880839); the figure's axis still said per trace
    sim = tk.simulate.simulate("baseline", 60, seed=5).spans
    c = tk.compare(sim, sim)
    fig = tk.plot_compare(c, metric="calls")
    assert fig.layout.xaxis.title.text == "calls per request"


def test_the_critical_path_time_is_named_per_trace_wherever_it_is_shown():
    # compare's cp_ms is a mean over the traces whose critical path was walked (asynchronous work included); the
    # report's comparison table and rank_causes' table called it 'per request' (async-workflows: 515 traces, 400
    # requests)
    from tracekit.analysis.comparison import COMPARE_TABLE
    from tracekit.investigate.causes import RANK_CAUSES
    from tracekit.reporting import collect_report, render_report

    cols = {c.name: c.meaning for c in COMPARE_TABLE.columns}
    assert "per trace" in cols["cp_ms_a"]
    assert "per trace" in {c.name: c.meaning for c in RANK_CAUSES.columns}["delta_cp_ms"]
    sim = tk.simulate.simulate("db-lock", 300, seed=11).spans
    page = render_report(collect_report(sim))
    assert "critical path ms / trace" in page and "ms / request" not in page
    assert "critical-path ms per trace by operation" in page and "critical-path ms per request" not in page
