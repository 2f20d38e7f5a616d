"""ExplorerState transitions (pure, no browser) and the TraceExplorer shell wired to them."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceKitError

pytest.importorskip("plotly", reason="plotly (extra 'plot') is not installed")
from tracekit.widgets import ExplorerState, trace_table  # noqa: E402

MS = 1_000_000
T1, T2, T3 = "1" * 32, "2" * 32, "3" * 32


def sid(c: str) -> str:
    return c * 16


def three_traces() -> pd.DataFrame:
    """T1 (100 ms, web→db, one error), T2 (50 ms, web only), T3 (200 ms, api→db→cache)."""
    rows = [
        # trace, span, parent, service, name, start, end, status
        (T1, "a", None, "web", "GET /cart", 0, 100, "ok"),
        (T1, "b", "a", "db", "SELECT <cart>", 10, 60, "error"),
        (T1, "c", "b", "db", "fetch", 20, 30, "ok"),
        (T2, "d", None, "web", "GET /health", 0, 50, "ok"),
        (T3, "e", None, "api", "POST /checkout", 0, 200, "ok"),
        (T3, "f", "e", "db", "UPDATE", 20, 150, "ok"),
        (T3, "9", "f", "cache", "get", 30, 40, "ok"),
    ]
    return tk.spans_from_columns(
        {
            "trace_id": [r[0] for r in rows],
            "span_id": [sid(r[1]) for r in rows],
            "parent_id": [sid(r[2]) if r[2] else None for r in rows],
            "service": [r[3] for r in rows],
            "name": [r[4] for r in rows],
            "start": [r[5] * MS for r in rows],
            "end": [r[6] * MS for r in rows],
            "status": [r[7] for r in rows],
            "status_message": [None, "deadlock <detected>", None, None, None, None, None],
            "attributes": [
                {"http.method": "GET"},
                {"db.statement": "SELECT * FROM cart WHERE id='<script>'", "annotation.tier": "gold", "metadata.default": {"rows": 3}},
                {},
                {},
                {},
                {},
                {},
            ],
            "events": [
                [],
                [{"time": 50 * MS, "name": "exception", "attributes": {"exception.type": "DeadlockError", "exception.message": "deadlock <detected>", "exception.stacktrace": "at db.lock()\nat cart.load()"}}],
                [], [], [], [], [],
            ],
        }
    )


def test_trace_table_exact():
    t = trace_table(three_traces())
    assert t["trace_id"].tolist() == [T3, T1, T2]
    assert t["request_ms"].tolist() == [200.0, 100.0, 50.0]   # the root spans' durations
    assert t["extent_ms"].tolist() == [200.0, 100.0, 50.0]    # no span outlives its root here
    assert t["n_spans"].tolist() == [3, 3, 1]
    assert t["failed_spans"].tolist() == [0, 1, 0]
    assert t["failed"].tolist() == [False, False, False]      # T1's root span did not fail, its db call did
    assert t["services"].tolist() == ["api, cache, db", "db, web", "web"]
    assert t["root_name"].tolist() == ["POST /checkout", "GET /cart", "GET /health"]


def test_initial_state_selects_slowest_trace_and_its_root():
    spans = three_traces()
    before = copy.deepcopy(spans)
    s = ExplorerState.from_spans(spans)
    assert s.trace_id == T3 and s.span_id == sid("e")
    assert s.services == ["api", "cache", "db", "web"]
    pd.testing.assert_frame_equal(spans, before)


def test_select_trace_changes_figure_data():
    s = ExplorerState.from_spans(three_traces())
    f3 = s.figure()
    assert [float(v) for v in f3.data[0].x] == [200.0, 130.0, 10.0]
    s1 = s.select_trace(T1)
    f1 = s1.figure()
    assert s1.span_id == sid("a")
    assert [float(v) for v in f1.data[0].base] == [0.0, 10.0, 20.0]
    assert [float(v) for v in f1.data[0].x] == [100.0, 50.0, 10.0]
    assert T1 in f1.layout.title.text
    assert s.trace_id == T3  # the old state is unchanged
    with pytest.raises(TraceKitError, match="not in the explorer"):
        s.select_trace("f" * 32)


def test_click_selects_span_and_details_show_everything_escaped():
    s = ExplorerState.from_spans(three_traces()).select_trace(T1).click(1)
    assert s.span_id == sid("b")
    d = s.span_details()
    assert d["header"]["service"] == "db" and d["header"]["name"] == "SELECT <cart>"
    assert d["header"]["start_ms"] == 10.0 and d["header"]["duration_ms"] == 50.0
    assert d["header"]["status"] == "error" and d["header"]["parent_id"] == sid("a")
    assert d["annotations"] == {"tier": "gold"}
    assert d["metadata"] == {"default": {"rows": 3}}
    assert d["attributes"] == {"db.statement": "SELECT * FROM cart WHERE id='<script>'"}
    assert d["exceptions"] == [{"type": "DeadlockError", "message": "deadlock <detected>", "stacktrace": "at db.lock()\nat cart.load()"}]
    assert d["events"] == [{"time_ms": 50.0, "name": "exception", "attributes": {
        "exception.type": "DeadlockError", "exception.message": "deadlock <detected>", "exception.stacktrace": "at db.lock()\nat cart.load()"}}]
    h = s.details_html()
    assert "SELECT &lt;cart&gt;" in h and "<cart>" not in h
    assert "id=&#x27;&lt;script&gt;&#x27;" in h and "<script>" not in h
    assert "deadlock &lt;detected&gt;" in h
    assert "<pre style='font-size:11px;max-height:240px;overflow:auto'>at db.lock()\nat cart.load()</pre>" in h
    assert "<h5 style='margin:6px 0'>annotations</h5>" in h and "gold" in h
    # a click outside the bars keeps the state
    assert s.click(99) is s


def test_toggle_collapse_and_max_depth_change_the_waterfall():
    s = ExplorerState.from_spans(three_traces()).select_trace(T1).click(1)  # span b selected
    folded = s.toggle_collapse()
    assert folded.collapsed == frozenset({sid("b")})
    w = folded.waterfall()
    assert w["span_id"].tolist() == [sid("a"), sid("b")] and w["n_hidden"].tolist() == [0, 1]
    assert len(folded.figure().data[0].x) == 2
    assert folded.toggle_collapse().collapsed == frozenset()
    # selecting a hidden span's row is impossible; limiting depth moves the selection to a visible row
    deep = s.click(2)
    assert deep.span_id == sid("c")
    shallow = deep.with_max_depth(0)
    assert shallow.waterfall()["span_id"].tolist() == [sid("a")]
    assert shallow.span_id == sid("a")
    assert shallow.expand_all().waterfall()["span_id"].tolist() == [sid("a"), sid("b"), sid("c")]


def test_critical_path_marked_in_explorer_figure():
    import tracekit.analysis.critical_paths  # noqa: F401
    s = ExplorerState.from_spans(three_traces()).select_trace(T1)
    w = s.waterfall()
    # a 0..100, b 10..60, c 20..30 → a[60,100] b[30,60] c[20,30] b[10,20] a[0,10]
    assert w["cp_sections"].tolist() == [[(0.0, 10.0), (60.0, 100.0)], [(10.0, 20.0), (30.0, 60.0)], [(20.0, 30.0)]]
    assert [t.meta for t in s.figure().data][:3] == ["spans", "critical_path", "errors"]
    assert [t.meta for t in ExplorerState.from_spans(three_traces(), critical_path=False).figure().data][:1] == ["spans"]


def wide_trace(children: int = 5, grandchildren: int = 40) -> pd.DataFrame:
    ids, parents = ["1" * 16], [None]
    for i in range(children):
        c = f"2{i:015x}"
        ids.append(c)
        parents.append("1" * 16)
        for j in range(grandchildren):
            ids.append(f"3{i:07x}{j:08x}")
            parents.append(c)
    n = len(ids)
    return tk.spans_from_columns({"trace_id": [T1] * n, "span_id": ids, "parent_id": parents, "service": ["s"] * n,
                                  "name": ["op"] * n, "start": np.arange(n) * 1000, "end": np.arange(n) * 1000 + 10 * MS})


def test_big_trace_opens_folded_to_fit_auto_fold_rows():
    spans = wide_trace()  # 1 + 5 + 200 spans
    s = ExplorerState.from_spans(spans)  # auto_fold=150: depth 0..1 = 6 rows fits, depth 2 = 206 does not
    assert s.max_depth == 1 and len(s.waterfall()) == 6
    assert s.waterfall()["n_hidden"].tolist() == [0] + [40] * 5
    assert s.expand_all().waterfall().shape[0] == 206
    assert ExplorerState.from_spans(spans, auto_fold=None).max_depth is None
    assert ExplorerState.from_spans(spans, auto_fold=206).max_depth is None


def test_filters_sorting_and_slowest_navigation():
    s = ExplorerState.from_spans(three_traces())
    assert s.with_filter(service="db").trace_table()["trace_id"].tolist() == [T3, T1]
    err = s.with_filter(errors_only=True)
    assert err.trace_table()["trace_id"].tolist() == [T1]
    assert err.trace_id == T1  # the selection moved: T3 is filtered out
    assert s.with_filter(search="HEALTH").trace_table()["trace_id"].tolist() == [T2]
    assert s.with_filter(search="nothing").trace_table().empty
    assert s.sort("n_spans", descending=False).trace_table()["trace_id"].tolist() == [T2, T1, T3]  # ties by trace id
    assert s.sort("root_name").trace_table()["root_name"].tolist() == ["POST /checkout", "GET /health", "GET /cart"]
    with pytest.raises(TraceKitError, match="cannot sort"):
        s.sort("colour")
    # slowest first: T3 (200) → T1 (100) → T2 (50), and back
    assert s.next_slowest().trace_id == T1
    assert s.next_slowest().next_slowest().trace_id == T2
    assert s.next_slowest().next_slowest().next_slowest().trace_id == T2
    assert s.next_slowest().next_slowest().previous_slowest().trace_id == T1
    assert s.previous_slowest().trace_id == T3
    # navigation stays inside the filtered list
    assert s.with_filter(service="web").next_slowest().trace_id == T2


def test_xray_real_trace_details_show_exception_stack_annotations_metadata(real_traces):
    spans = tk.read_xray(real_traces / "otel-contrib-awsxray-testdata/ddbSample.txt")
    s = ExplorerState.from_spans(spans)
    w = s.waterfall()
    assert len(w) == 18 and w["span_id"].iloc[0] == "88ad1df59cd7a7be"
    row = int(np.flatnonzero(w["span_id"].to_numpy() == "7df694142c905d8d")[0])
    s = s.click(row)
    d = s.span_details()
    assert d["header"]["name"] == "DDB.DescribeExistingTableAndPutToMissingTable"
    assert d["annotations"] == {"DDB.DescribeExistingTableAndPutToMissingTable.Annotation": "anno"}
    assert d["metadata"] == {"default": {"DDB.DescribeExistingTableAndPutToMissingTable.AddMetadata": "meta"}}
    assert [e["type"] for e in d["exceptions"]] == ["dynamodb.ResourceNotFoundException"]
    assert d["exceptions"][0]["stacktrace"].splitlines()[1] == "at ddbExpectedFailure(sampleapp/sample.go:41)"
    h = s.details_html()
    assert "ResourceNotFoundException: Requested resource not found" in h
    assert "at Capture(github.com/aws/aws-xray-sdk-go@v1.1.0/xray/capture.go:48)" in h


# --- the widget shell ---------------------------------------------------------------------------


@pytest.fixture
def explorer():
    pytest.importorskip("ipywidgets", reason="ipywidgets (extra 'jupyter') is not installed")
    pytest.importorskip("anywidget", reason="anywidget (extra 'jupyter') is not installed")
    return tk.TraceExplorer(three_traces())


def InputDeviceState():
    from plotly.callbacks import InputDeviceState as State

    return State(ctrl=False, alt=False, shift=False, meta=False, button=0, buttons=1)


def _points(i: int):
    from plotly.callbacks import Points

    return Points(point_inds=[i], xs=[0], ys=[i], trace_name="spans", trace_index=0)


@pytest.mark.slow  # 1.4 s in the fast lane (2 loaded cores, issue 28)
def test_widget_trace_list_and_selection_redraws_figure(explorer):
    ex = explorer
    assert [v for _, v in ex.traces.options] == [T3, T1, T2]
    assert ex.traces.value == T3
    assert [float(v) for v in ex.figure.data[0].x] == [200.0, 130.0, 10.0]
    ex.traces.value = T1  # the user picks a trace in the list
    assert ex.state.trace_id == T1
    assert [float(v) for v in ex.figure.data[0].x] == [100.0, 50.0, 10.0]
    assert "GET /cart" in ex.details.value


@pytest.mark.slow  # 1.4 s in the fast lane (2 loaded cores, issue 28)
def test_widget_bar_click_opens_span_details(explorer):
    ex = explorer
    ex.traces.value = T1
    fig = ex.figure
    fig.data[0]._dispatch_on_click(_points(1), InputDeviceState())  # what plotly's front end triggers on a bar click
    assert ex.state.span_id == sid("b")
    assert "SELECT &lt;cart&gt;" in ex.details.value and "DeadlockError" in ex.details.value


@pytest.mark.slow  # 3.1 s in the fast lane (2 loaded cores, issue 28)
def test_widget_buttons_and_filters_delegate_to_state(explorer):
    ex = explorer
    ex.next_button.click()
    assert ex.state.trace_id == T1 and ex.traces.value == T1
    ex._on_bar_click(None, _points(1))
    ex.fold_button.click()
    assert ex.state.collapsed == frozenset({sid("b")})
    assert len(ex.figure.data[0].x) == 2 and "2 of 3 spans shown" in ex.status.value
    ex.expand_button.click()
    assert len(ex.figure.data[0].x) == 3
    ex.depth.value = 0
    assert len(ex.figure.data[0].x) == 1
    ex.prev_button.click()
    assert ex.state.trace_id == T3 and ex.depth.value is None  # a new trace starts unfolded
    ex.service.value = "web"
    assert [v for _, v in ex.traces.options] == [T1, T2] and ex.state.trace_id == T1
    ex.errors_only.value = True
    assert [v for _, v in ex.traces.options] == [T1]
    ex.errors_only.value = False
    ex.sort_by.value = "n_spans"
    ex.descending.value = False
    assert [v for _, v in ex.traces.options] == [T2, T1]
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()


@pytest.mark.slow  # 1.6 s in the fast lane (2 loaded cores, issue 28)
def test_widget_big_trace_starts_folded_and_depth_control_follows(explorer):
    ex = tk.TraceExplorer(wide_trace())
    assert ex.depth.value == 1 and len(ex.figure.data[0].x) == 6
    ex.expand_button.click()
    assert ex.depth.value is None and len(ex.figure.data[0].x) == 206


@pytest.mark.slow  # 1.3 s in the fast lane (2 loaded cores, issue 28)
def test_widget_on_bundled_example(explorer):
    spans = tk.examples.load("checkout-small")
    ex = tk.TraceExplorer(spans)
    table = ex.state.trace_table()
    assert len(ex.traces.options) == spans["trace_id"].nunique() == len(table)
    assert table["request_ms"].is_monotonic_decreasing
    assert len(ex.figure.data[0].x) == int((spans["trace_id"] == ex.state.trace_id).sum())


def test_span_details_do_not_alias_the_spans():
    # details are plain data for display; a nested metadata dict or a link (after a Parquet round
    # trip links are numpy arrays) must come back as copies, so editing them leaves the spans alone
    spans = tk.spans_from_columns({
        "trace_id": ["c" * 32], "span_id": ["1" * 16], "service": ["api"], "name": ["GET /"], "start": [0],
        "end": [1_000_000], "attributes": [{"metadata": {"default": {"k": 1}}}],
        "links": [[{"trace_id": "d" * 32, "span_id": "2" * 16, "trace_state": None, "flags": None, "attributes": {}}]]})
    spans["links"] = pd.Series([np.array(spans["links"].iloc[0], dtype=object)], dtype=object)
    before = copy.deepcopy(list(spans["attributes"]))
    d = ExplorerState.from_spans(spans).span_details()
    assert d["metadata"] == {"default": {"k": 1}}
    assert [lk["span_id"] for lk in d["links"]] == ["2" * 16]
    d["metadata"]["default"]["k"] = 2
    d["links"][0]["span_id"] = "x"
    assert list(spans["attributes"]) == before
    assert spans["links"].iloc[0][0]["span_id"] == "2" * 16


def test_trace_table_in_kernel_terms_async_tail_client_error_and_xray_ids():
    # T_A: a 92 ms request whose consumer ends at 1,150 ms; T_B: a 300 ms request answered 404 (a client
    # error, not a failure); T_C: a 150 ms request with a 503 root (failed). Slowest = longest request.
    ta, tb, tc = "1" * 32, "2" * 32, "3" * 32
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": [ta, ta, tb, tc], "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, None, None], "service": ["web", "worker", "web", "web"],
        "name": ["GET /", "process", "GET /x", "GET /y"], "kind": ["server", "consumer", "server", "server"],
        "start": [0, 50 * ms, 0, 0], "end": [92 * ms, 1150 * ms, 300 * ms, 150 * ms],
        "status": ["ok", "ok", "error", "unset"], "http_status": [200, None, 404, 503],
        "error": [False, False, True, False], "fault": [False, False, False, True]})
    t = trace_table(spans)
    assert t["trace_id"].tolist() == [tb, tc, ta]
    assert t["request_ms"].tolist() == [300.0, 150.0, 92.0] and t["extent_ms"].tolist() == [300.0, 150.0, 1150.0]
    assert t["failed"].tolist() == [False, True, False] and t["failed_spans"].tolist() == [0, 1, 0]
    s = ExplorerState.from_spans(spans)
    assert s.trace_id == tb
    assert s.with_filter(errors_only=True).trace_table()["trace_id"].tolist() == [tc]   # the 404 is not a failure
    assert s.select_trace("1-11111111-111111111111111111111111").trace_id == ta       # X-Ray form accepted
    with pytest.raises(ValueError, match="not a trace id"):
        s.select_trace("zzz")


def test_trace_table_returns_exactly_the_declared_columns_and_dtypes():
    from tracekit.core import RESULT_TABLES

    t = RESULT_TABLES["trace_table"]
    for spans in (three_traces(), tk.examples.load("checkout-small"), tk.empty_spans()):
        got = trace_table(spans)
        assert list(got.columns) == t.column_names
        assert [str(got[c.name].dtype) for c in t.columns] == [c.dtype for c in t.columns]
