"""The time axis (issue 14): timeline, detect_changes, split_by_change, deployments, figures.

Ground truth: the bundled datasets' truth files (datasets/truth/*.json) and traces built by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.changes import DETECT_CHANGES, epidemic_test
from tracekit.analysis.timeline import DEPLOYMENTS, TIMELINE
from tracekit.core import percentile, trace_outcomes

from .conftest import REPO, read_dataset

DATA = REPO / "datasets"
MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value
MIN = pd.Timedelta("1min")


def _truth(name: str) -> dict:
    return json.loads((DATA / "truth" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def incident():
    return read_dataset("checkout-incident")


@pytest.fixture(scope="module")
def baseline():
    return read_dataset("checkout-baseline")


@pytest.fixture(scope="module")
def deploy():
    return read_dataset("deploy-regression")


@pytest.fixture(scope="module")
def cold():
    return read_dataset("cold-starts")


def _requests(rows: list[tuple]) -> pd.DataFrame:
    """Crafted traces: one per row (start_s, duration_ms, root_status, root_http, child_status)."""
    cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind",
                                             "start", "end", "status", "http_status", "fault", "error")}
    for i, (start_s, dur, status, http, child_status) in enumerate(rows, start=1):
        tid, root, child = f"{i:032x}", f"{i:015x}a", f"{i:015x}b"
        s = T0 + int(start_s * 1e9)
        for sid, parent, svc, kind, st, end, stat, h in (
                (root, None, "web", "server", s, s + int(dur * MS), status, http),
                (child, root, "db", "server", s + MS, s + 2 * MS, child_status, None)):
            cols["trace_id"].append(tid)
            cols["span_id"].append(sid)
            cols["parent_id"].append(parent)
            cols["service"].append(svc)
            cols["name"].append("GET /" if svc == "web" else "query")
            cols["kind"].append(kind)
            cols["start"].append(st)
            cols["end"].append(end)
            cols["status"].append(stat)
            cols["http_status"].append(h)
            cols["fault"].append(h is not None and h >= 500)
            cols["error"].append(h is not None and 400 <= h < 500)
    return tk.spans_from_columns(cols)


# ------------------------------------------------------------------ timeline: definitions


def test_timeline_buckets_requests_and_uses_the_kernel_percentile():
    spans = tk.simulate.simulate("baseline", 400, seed=3).spans
    t = tk.timeline(spans, freq="10min")
    out = trace_outcomes(spans)
    out = out[out["has_root"]]
    bucket = out["start"].dt.floor("10min")
    assert t["requests"].sum() == len(out)
    for _, row in t.iterrows():
        sel = (bucket == row["time"]).to_numpy()
        assert row["requests"] == sel.sum() == row["sampled"]
        assert row["p95_ms"] == percentile(out["request_ms"].to_numpy()[sel], 0.95)
        assert row["p50_ms"] == percentile(out["request_ms"].to_numpy()[sel], 0.5)
        assert row["failed"] == out["failed"].to_numpy()[sel].sum()
        assert row["p95_ms_lo"] <= row["p95_ms"] <= row["p95_ms_hi"]
        assert row["error_rate_lo"] <= row["error_rate"] <= row["error_rate_hi"]


def test_failed_is_the_request_not_a_child_nor_a_client_error():
    spans = _requests([(1, 10, "ok", 200, "error"),      # a failed db call under an ok request
                       (2, 20, "error", 404, "ok"),       # a client error
                       (3, 30, "error", 503, "ok"),       # a failed request
                       (4, 40, "ok", 200, "ok")])
    row = tk.timeline(spans, freq="1min").iloc[0]
    assert (row["requests"], row["failed"], row["error_rate"]) == (4, 1, 0.25)
    assert row["p50_ms"] == 20.0 and row["p95_ms"] == 40.0


def test_by_service_counts_each_services_entry_spans():
    spans = _requests([(1, 10, "ok", 200, "ok"), (2, 20, "ok", 200, "error")])
    t = tk.timeline(spans, freq="1min", by="service").set_index("service")
    assert t.loc["web", "requests"] == 2 and t.loc["db", "requests"] == 2
    assert t.loc["db", "failed"] == 1 and t.loc["web", "failed"] == 0
    assert t.loc["db", "p50_ms"] == 1.0 and t.loc["web", "p95_ms"] == 20.0
    # every span of an operation
    n = tk.timeline(spans, freq="1min", by="name").set_index("name")
    assert n.loc["query", "requests"] == 2


def test_empty_buckets_are_rows_with_zero_requests():
    spans = _requests([(0, 10, "ok", 200, "ok"), (185, 10, "ok", 200, "ok")])
    t = tk.timeline(spans, freq="1min")
    assert t["time"].tolist() == [pd.Timestamp(T0, tz="UTC") + k * MIN for k in range(4)]
    assert t["requests"].tolist() == [1, 0, 0, 1]
    assert t["p95_ms"].isna().tolist() == [False, True, True, False]


def test_weights_horvitz_thompson_and_uniform_weights_change_nothing():
    spans = _requests([(1, 10, "ok", 200, "ok"), (2, 20, "ok", 200, "ok"), (3, 30, "ok", 200, "ok"),
                       (4, 40, "error", 503, "ok")])
    ids = spans["trace_id"].unique()
    w = pd.Series([10.0, 10.0, 10.0, 1.0], index=ids)
    row = tk.timeline(spans, weights=w).iloc[0]
    assert row["requests"] == 31 and row["sampled"] == 4
    assert row["error_rate"] == pytest.approx(1 / 31)
    assert row["p50_ms"] == percentile([10, 20, 30, 40], 0.5, weights=[10, 10, 10, 1]) == 20.0
    assert row["requests_lo"] < 31 < row["requests_hi"]
    plain = tk.timeline(spans)
    ones = tk.timeline(spans, weights=pd.Series(1.0, index=ids))
    pd.testing.assert_frame_equal(plain, ones)
    assert plain["requests_lo"].iloc[0] == plain["requests_hi"].iloc[0] == 4  # every request seen
    # the frame of sampling_weights is accepted too
    frame = pd.DataFrame({"trace_id": ids, "weight": w.to_numpy()})
    assert tk.timeline(spans, weights=frame)["requests"].iloc[0] == 31


def test_timeline_does_not_mutate_and_rejects_bad_arguments():
    spans = _requests([(1, 10, "ok", 200, "ok")])
    before = spans.copy()
    tk.timeline(spans, by="service")
    with pytest.warns(UserWarning, match="no series could be tested"):  # one request: nothing to test, said
        tk.detect_changes(spans)
    pd.testing.assert_frame_equal(spans, before)
    with pytest.raises(tk.ArgumentError, match="freq"):
        tk.timeline(spans, freq="soon")
    with pytest.raises(tk.ArgumentError, match="nope"):
        tk.timeline(spans, by="nope")
    with pytest.raises(ValueError, match="metric"):
        tk.detect_changes(spans, metric="p42_ms")
    with pytest.raises(tk.ArgumentError, match="alpha"):
        tk.detect_changes(spans, alpha=2)
    with pytest.raises(tk.SpansSchemaError, match="timeline: spans DataFrame is missing columns: start"):
        tk.timeline(spans.drop(columns=["start"]))


@pytest.mark.slow  # 7.8 s in the fast lane (2 loaded cores, issue 28)
def test_result_tables_are_the_declared_columns(deploy):
    t = tk.timeline(deploy, by="service")
    assert list(t.columns) == ["time", "service", *TIMELINE.column_names[1:]]
    assert list(tk.timeline(deploy).columns) == TIMELINE.column_names
    ch = tk.detect_changes(deploy, by="service")
    DETECT_CHANGES.check(ch, key_columns=["service"])
    assert len(ch)
    DETECT_CHANGES.check(tk.detect_changes(deploy, by=None, metric="requests"))
    DEPLOYMENTS.check(tk.deployments(deploy))
    assert str(ch["onset"].dtype) == "datetime64[ns, UTC]" and str(ch["recovery"].dtype) == "datetime64[ns, UTC]"


# ------------------------------------------------------------------ ground truth


@pytest.mark.slow  # 9.4 s in the fast lane (2 loaded cores, issue 28)
def test_checkout_incident_onset_recovery_and_size(incident):
    truth = _truth("checkout-incident")
    ws, we = pd.Timestamp(truth["window_start"]), pd.Timestamp(truth["window_end"])
    ch = tk.detect_changes(incident, by="service")
    row = ch[(ch["service"] == "checkout") & (ch["metric"] == "p95_ms")]
    assert len(row) == 1
    row = row.iloc[0]
    assert abs(row["onset"] - ws) <= MIN and abs(row["recovery"] - we) <= MIN
    # each checkout request makes one SELECT and one INSERT, each 250 ms slower: +500 ms
    assert row["delta_lo"] <= 2 * truth["extra_ms"] <= row["delta_hi"]
    assert row["delta"] > 0 and row["p_value"] <= 0.01
    assert row["requests_affected"] == pytest.approx(truth["n_affected_traces"], abs=3)
    # the db calls changed by +250 ms in the same window
    ops = tk.detect_changes(incident, by="name", metric="p95_ms")
    for op in ("SELECT orders", "INSERT orders"):
        r = ops[ops["name"] == op]
        assert len(r) == 1, op
        r = r.iloc[0]
        assert abs(r["onset"] - ws) <= MIN and abs(r["recovery"] - we) <= MIN
        assert r["delta_lo"] <= truth["extra_ms"] <= r["delta_hi"] and abs(r["delta"] - truth["extra_ms"]) < 15


@pytest.mark.slow  # 3.6 s in the fast lane (2 loaded cores, issue 28)
def test_checkout_baseline_has_no_change(baseline):
    for by in ("service", "route", "name", None):
        ch = tk.detect_changes(baseline, by=by)
        assert ch.empty, (by, ch)


@pytest.mark.slow  # 3.2 s in the fast lane (2 loaded cores, issue 28)
def test_deploy_regression_payments_onset_and_the_new_version(deploy):
    truth = _truth("deploy-regression")
    t_dep = pd.Timestamp(truth["deploy_time"])
    ch = tk.detect_changes(deploy, by="service")
    row = ch[(ch["service"] == "payments") & (ch["metric"] == "p95_ms")].iloc[0]
    assert abs(row["onset"] - t_dep) <= MIN and pd.isna(row["recovery"])
    assert row["deployment"] == f"payments {truth['new_version']}"
    assert row["delta_lo"] > 0
    d = tk.deployments(deploy)
    new = d[(d["service"] == "payments") & (d["version"] == truth["new_version"])].iloc[0]
    assert abs(new["first_seen"] - t_dep) <= MIN and new["previous"] == truth["old_version"]
    old = d[(d["service"] == "payments") & (d["version"] == truth["old_version"])].iloc[0]
    assert old["last_seen"] < t_dep
    # the added call appears at the deployment
    ops = tk.detect_changes(deploy, by="name", metric="requests")
    add = ops[ops["name"] == truth["added_span"]].iloc[0]
    assert abs(add["onset"] - t_dep) <= MIN and add["before"] == 0


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
def test_cold_starts_window(cold):
    truth = _truth("cold-starts")
    on = pd.Timestamp(truth["scale_out_time"])
    off = on + pd.Timedelta(seconds=truth["window_s"])
    ch = tk.detect_changes(cold, by="service")
    row = ch[(ch["service"] == "fulfillment") & (ch["metric"] == "p95_ms")]
    assert len(row) == 1
    row = row.iloc[0]
    assert abs(row["onset"] - on) <= MIN and abs(row["recovery"] - off) <= MIN
    assert row["delta_lo"] > 300  # half the invocations pay a ~700 ms Initialization


def test_detect_changes_accepts_a_timeline(incident):
    t = tk.timeline(incident, by="route")
    ch = tk.detect_changes(t, metric="p95_ms")
    row = ch[ch["route"] == "/checkout"].iloc[0]
    assert abs(row["onset"] - pd.Timestamp("2026-03-02T14:27Z")) <= MIN
    assert row["delta"] > 300 and row["requests_affected"] >= 40


@pytest.mark.slow  # 4.7 s in the fast lane (2 loaded cores, issue 28)
def test_split_by_change_baseline_ranks_the_same_culprit(incident, baseline):
    ch = tk.detect_changes(incident, by="route", metric="p95_ms")
    split = tk.split_by_change(incident, ch)
    ids = [set(f["trace_id"]) for f in (split.incident, split.before, split.after)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert set().union(*ids) == set(incident["trace_id"])
    assert len(split.incident) + len(split.before) + len(split.after) == len(incident)
    starts = trace_outcomes(split.incident)["start"]
    assert (starts >= split.onset).all() and (starts < split.recovery).all()
    auto = tk.compare(split.incident, split.before, by="operation").table
    manual = tk.compare(split.incident, baseline, by="operation").table
    assert auto[["service", "name"]].head(2).values.tolist() == manual[["service", "name"]].head(2).values.tolist()
    assert {tuple(r) for r in auto[["service", "name"]].head(2).values} == {("checkout", "SELECT orders"),
                                                                            ("checkout", "INSERT orders")}
    with pytest.raises(tk.ArgumentError, match="empty"):
        tk.split_by_change(incident, ch.iloc[0:0])


# ------------------------------------------------------------------ false positives


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
def test_permutation_test_holds_alpha_on_stationary_series():
    rng = np.random.default_rng(0)
    n_series, alpha = 400, 0.05
    p = np.array([epidemic_test(rng.lognormal(size=40), n_perm=199, seed=i)[3] for i in range(n_series)])
    rate = float((p <= alpha).mean())
    se = np.sqrt(alpha * (1 - alpha) / n_series)
    assert rate <= alpha + 2.5 * se, rate
    assert rate >= alpha - 2.5 * se, rate  # not trivially conservative either


@pytest.mark.slow  # 6.9 s in the fast lane (2 loaded cores, issue 28)
def test_stationary_simulated_hours_have_no_change():
    hits = []
    for seed in range(100, 106):
        spans = tk.simulate.simulate("baseline", 1200, seed=seed).spans
        ch = tk.detect_changes(spans, by="service")
        hits.append(len(ch))
    assert hits == [0] * 6


# ------------------------------------------------------------------ figures


@pytest.mark.slow  # 6.1 s in the fast lane (2 loaded cores, issue 28)
def test_plot_timeline_marks_changes_deployments_and_baseline(deploy):
    pytest.importorskip("plotly")
    ch = tk.detect_changes(deploy, by="service", metric="p95_ms")
    base = tk.simulate.simulate("baseline", 600, seed=12).spans
    fig = tk.plot_timeline(deploy, by="service", changes=ch, baseline=base)
    # one shaded window per distinct (onset, recovery): keys that changed together share one
    windows = {(o, r) for o, r in zip(ch["onset"], ch["recovery"].astype(object).where(ch["recovery"].notna(), None), strict=True)}
    assert sum(s.name == "change" for s in fig.layout.shapes) == len(windows)
    lines = [s for s in fig.layout.shapes if s.name == "deployment"]
    assert len(lines) == 1
    assert abs(pd.Timestamp(lines[0].x0) - pd.Timestamp("2026-03-02T14:30Z")) <= MIN
    pay = [t for t in fig.data if t.meta["key"] == "payments" and t.meta["metric"] == "p95_ms" and t.meta["role"] == "value"]
    t = tk.timeline(deploy, by="service")
    assert np.allclose(np.asarray(pay[0].y, dtype=float), t[t["service"] == "payments"]["p95_ms"], equal_nan=True)
    assert any(tr.meta["role"] == "baseline" and tr.meta["key"] == "payments" for tr in fig.data)
    ongoing = [s for s in fig.layout.shapes if s.name == "change"][0]
    assert pd.Timestamp(ongoing.x1) == t["time"].max() + MIN  # shaded to the end while ongoing


def test_plot_heatmap_counts_requests(incident):
    pytest.importorskip("plotly")
    fig = tk.plot_heatmap(incident, freq="5min", by="service", key="checkout", bins=20)
    h = fig.data[0]
    z = np.asarray(h.z, dtype=float)
    t = tk.timeline(incident, freq="5min", by="service")
    assert z.sum() == t[t["service"] == "checkout"]["requests"].sum()
    assert z.shape == (20, 12)
    assert fig.layout.yaxis.type == "log"
    # the incident's slow requests sit in the columns of 14:25-14:35, above 500 ms
    ys = np.asarray(h.y, dtype=float)
    xs = pd.to_datetime(list(h.x), utc=True)
    slow = z[ys > 500].sum(axis=0)
    assert set(xs[slow > 0].strftime("%H:%M")) <= {"14:25", "14:30", "14:35"}
    w = pd.Series(2.0, index=incident["trace_id"].unique())
    assert np.asarray(tk.plot_heatmap(incident, weights=w).data[0].z, dtype=float).sum() == 2 * len(
        trace_outcomes(incident).query("has_root"))


def test_empty_spans_give_empty_tables_with_the_declared_columns():
    e = tk.empty_spans()
    assert list(tk.timeline(e).columns) == TIMELINE.column_names and tk.timeline(e).empty
    DETECT_CHANGES.check(tk.detect_changes(e), key_columns=["service"])
    DEPLOYMENTS.check(tk.deployments(e))


# ---- brushing the heatmap: select_requests, HeatmapState, HeatmapExplorer --------------------------------
def test_select_requests_box_is_the_truth_window(incident):
    """The checkout requests in the incident window are exactly the truth's affected traces' requests."""
    truth = json.loads((DATA / "truth" / "checkout-incident.json").read_text())
    w0, w1 = pd.Timestamp(truth["window_start"]), pd.Timestamp(truth["window_end"])
    rows = tk.select_requests(incident, "service", key="checkout", time=(w0, w1))
    assert len(rows) == truth["n_affected_traces"]
    assert ((rows["time"] >= w0) & (rows["time"] <= w1)).all()
    everyone = tk.select_requests(incident, "service", key="checkout")
    outside = everyone[(everyone["time"] < w0) | (everyone["time"] > w1)]
    assert len(outside) + len(rows) == len(everyone)
    slow = tk.select_requests(incident, "service", key="checkout", latency_ms=(500, np.inf))
    assert (slow["latency_ms"] >= 500).all() and len(slow) < len(everyone)
    with pytest.raises(tk.ArgumentError, match="key= needs by="):
        tk.select_requests(incident, key="checkout")
    with pytest.raises(tk.ArgumentError, match="low is above high"):
        tk.select_requests(incident, latency_ms=(10, 1))


@pytest.mark.slow  # 1.5 s in the fast lane (2 loaded cores, issue 28)
def test_heatmap_box_runs_bubble_up_on_the_deploy(deploy):
    """Brushing slow payments requests after 14:30 names the new version and the changed operation."""
    from tracekit.widgets import HeatmapState

    s = HeatmapState.from_spans(deploy, "service", key="payments", freq="1min")
    cut = float(s.requests["latency_ms"].quantile(0.9))
    s2 = s.select_box(("2026-03-02 14:30", "2026-03-02 15:00"), (cut, np.inf))
    assert s.selected == () and len(s2.selected) > 10  # a new state; the old one is untouched
    sel = s2.selected_requests()
    assert (sel["latency_ms"] >= cut).all() and (sel["time"] >= pd.Timestamp("2026-03-02 14:30", tz="UTC")).all()
    top = s2.attribution().head(4)
    assert "payments@1.5.0" in set(top["value"]) or "1.5.0" in set(top["value"])
    # the new version is in every slow request after the deploy, the old one in none (its spans, fraud-check's too,
    # say 1.4.2 only before it: the simulator gave fraud-check 1.4.2 after the deploy, which put payments@1.4.2 in
    # 100 % of the selection)
    # (the new version's new call, risk-api, ties with it: which of the tied rows fill the top 4 is a stable key's)
    new = top["value"].astype(str).str.contains("1.5.0|risk-score|risk-api")
    assert new.any() and (top.loc[new, "share_selection"] > top.loc[new, "share_baseline"]).all()
    assert (top.loc[~new, "share_selection"] == 0).all() and top.loc[~new, "value"].astype(str).str.contains("1.4.2").all()
    html = s2.summary_html()
    assert f"{len(sel):,} requests selected" in html and "1.5.0" in html


def test_heatmap_points_map_to_requests(incident):
    """The figure's selectable points carry each request's row: a selection of points is those requests."""
    from tracekit.widgets import HeatmapState

    s = HeatmapState.from_spans(incident, "service", key="checkout")
    fig = s.figure()
    pts = [t for t in fig.data if t.meta == "requests"][0]
    assert len(pts.customdata) == len(s.requests) and fig.layout.dragmode == "select"
    lat = np.asarray(pts.y, dtype=float)
    np.testing.assert_allclose(lat, s.requests["latency_ms"].to_numpy()[np.asarray(pts.customdata)])
    top = np.argsort(-lat)[:5]
    chosen = s.select_points(np.asarray(pts.customdata)[top])
    assert sorted(chosen.selected_requests()["latency_ms"]) == sorted(lat[top])
    with pytest.raises(tk.TraceKitError, match="outside"):
        s.select_points([len(s.requests)])


@pytest.mark.slow  # 3.6 s in the fast lane (2 loaded cores, issue 28)
def test_heatmap_explorer_selection_filters_the_trace_list(incident):
    """A plotly selection event on the points lists exactly the selected traces in the TraceExplorer."""
    pytest.importorskip("ipywidgets")
    from types import SimpleNamespace

    hx = tk.HeatmapExplorer(incident, "service", key="checkout", freq="1min")
    pts = [t for t in hx.figure.data if t.meta == "requests"][0]
    lat = np.asarray(pts.y, dtype=float)
    inds = [int(i) for i in np.flatnonzero(lat > 500)]
    hx._on_selection(pts, SimpleNamespace(point_inds=inds))
    want = set(hx.state.selected_requests()["trace_id"].astype(str))
    assert len(want) == len(inds) > 0
    assert set(hx.traces.state.trace_table()["trace_id"]) == want
    assert hx.traces.state.trace_id in want
    assert "requests selected" in hx.summary.value
    hx._apply(hx.state.clear())
    assert len(hx.traces.state.trace_table()) == incident["trace_id"].nunique()


def test_weights_given_with_xray_trace_ids_match_their_traces():
    """timeline matched weights on the ids as typed; weighted_summary canonicalised them: one rule now
    (core.trace_weights), so an X-Ray id 1-xxxxxxxx-yyyy… in a weights Series weighs its trace."""
    from tracekit.core import trace_weights

    spans = tk.simulate.simulate("baseline", 40, seed=2).spans
    ids = spans["trace_id"].drop_duplicates().tolist()
    xray_ids = [f"1-{t[:8]}-{t[8:]}" for t in ids]
    w = pd.Series(np.arange(1.0, len(ids) + 1), index=xray_ids)
    assert trace_weights(ids, w).tolist() == w.tolist()
    t = tk.timeline(spans, freq="1h", weights=w)
    assert t["requests"].sum() == pytest.approx(w.sum())
    ws = tk.weighted_summary(spans, w)
    assert float(ws["est_requests"].iloc[0]) == pytest.approx(w.sum()) and int(ws["n_unknown"].iloc[0]) == 0
