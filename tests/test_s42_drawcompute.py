"""Drawing never computes (session 42, area "drawcompute"): the latency heatmap, the latency histogram and the ECDFs
compute their statistics in the analysis layer (tracekit.analysis.timeline.latency_heatmap,
tracekit.analysis.latency.latency_histogram / latency_ecdf, declared result tables) and the figures render those
tables; the figures' numbers equal the analyses'; every such figure's title says its population and window; the old
keyword names of plot_latency_ecdf work again.

Frames are built by construction (a handful of one-span requests at known times with known latencies); one test reads
a real trace file (Nezha Online Boutique, one minute) in place.
"""

from __future__ import annotations

import ast
import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.words import ms_text

from .conftest import REPO

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value  # ns


def _requests(latencies_ms, starts_s, services=None, ended=None) -> pd.DataFrame:
    """One root span (one request) per latency, starting ``starts_s`` seconds after 14:00:00 UTC; ``ended`` False
    leaves a request in progress (no end)."""
    k = len(latencies_ms)
    ended = [True] * k if ended is None else ended
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(k)], "span_id": [f"{i + 1:016x}" for i in range(k)],
        "parent_id": [None] * k, "service": services or ["api"] * k, "name": ["GET /"] * k, "kind": ["server"] * k,
        "status": ["ok"] * k,
        "start": [T0 + int(s * 1e9) for s in starts_s],
        "end": [T0 + int(s * 1e9) + int(v * MS) if e else None for s, v, e in zip(starts_s, latencies_ms, ended, strict=True)]})


@pytest.fixture(scope="module")
def eight() -> pd.DataFrame:
    """8 requests: 10, 25, 50, 100 ms in minute 14:00 and 10, 10, 160 ms in minute 14:02 (14:01 holds none), and one
    still in progress at 14:02:50 (no latency). No latency falls on an inner bin edge of 4 log bins (20, 40, 80)."""
    return _requests([10, 25, 50, 100, 10, 10, 160, 5], [0, 10, 20, 30, 120, 130, 140, 170],
                     ended=[True] * 7 + [False])


# ---- the heatmap: latency_heatmap is the data, plot_heatmap draws it --------------------------------------------------
def test_latency_heatmap_counts_each_request_once_in_its_bucket_and_bin(eight):
    from tracekit.analysis.timeline import LATENCY_HEATMAP

    h = tk.latency_heatmap(eight, "1min", bins=4)
    assert list(h.columns) == LATENCY_HEATMAP.column_names
    assert [str(t) for t in h.dtypes] == [c.dtype for c in LATENCY_HEATMAP.columns]
    # 3 one-minute buckets (14:00, 14:01 empty, 14:02) × 4 bins log-spaced from 10 to 160 ms: edges 10, 20, 40, 80, 160
    assert len(h) == 12 and h["time"].nunique() == 3
    assert np.allclose(h["latency_lo_ms"].iloc[:4], [10, 20, 40, 80]) and np.isclose(h["latency_hi_ms"].iloc[3], 160)
    z = h["requests"].to_numpy().reshape(3, 4)
    assert z.tolist() == [[1, 1, 1, 1], [0, 0, 0, 0], [2, 0, 0, 1]]  # 160 ms, the top edge, in the top bin
    assert h.attrs["sampled"] == 7 and h.attrs["left_out"] == 1  # the request in progress: no latency to place


def test_plot_heatmap_draws_the_analysis_cells_and_says_population_and_window(eight):
    h = tk.latency_heatmap(eight, "1min", bins=4)
    fig = tk.plot_heatmap(eight, "1min", bins=4, points=True)
    hm = fig.data[0]
    assert np.array_equal(np.asarray(hm.z), h["requests"].to_numpy().reshape(3, 4).T)
    assert np.allclose(hm.y, h["latency_ms"].iloc[:4]) and len(hm.x) == 3
    pts = fig.data[1]  # the points are the requests the heatmap counts, by their row in select_requests
    sel = tk.select_requests(eight)
    assert sel["latency_ms"].iloc[list(pts.customdata)].tolist() == list(pts.y) and len(pts.y) == 7
    assert fig.layout.title.text == ("request latency over time (all requests)<br><sup>7 requests, 14:00:00–14:02:20 UTC; "
                                     "1 without a known, positive latency not drawn, columns of 1 min</sup>")


def test_plot_heatmap_with_weights_says_the_estimate_and_the_sample(eight):
    fig = tk.plot_heatmap(eight, "1min", bins=4, weights=3.0)
    assert float(np.sum(fig.data[0].z)) == 21.0
    assert "≈21 requests (Σ weights) from 7 sampled" in fig.layout.title.text


def test_the_heatmap_says_no_data_where_the_timeline_does():
    """A collector outage: a request every 10 s for 10 minutes, none for 10, then 10 more. The timeline marks the 10
    empty minutes no_data (requests NaN: not collected is not 0); the heatmap drew them as 0 requests (white cells,
    hover "0 requests")."""
    starts = [10 * i for i in range(60)] + [1200 + 10 * i for i in range(60)]
    spans = _requests([5] * 120, starts)
    tl = tk.timeline(spans, "1min")
    h = tk.latency_heatmap(spans, "1min", bins=3)
    gap_tl = tl.loc[tl["no_data"], "time"].tolist()
    assert len(gap_tl) == 10 and h.loc[h["no_data"], "time"].unique().tolist() == gap_tl
    assert h.loc[h["no_data"], "requests"].isna().all() and h["requests"].sum() == 120
    fig = tk.plot_heatmap(spans, "1min", bins=3)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(z[:, 10:20]).all() and not np.isnan(z[:, :10]).any() and np.nansum(z) == 120
    # one shaded shape for the run of 10 buckets (session 42's lead: a shape a bucket was quadratic to add)
    (shade,) = [sh for sh in fig.layout.shapes if sh.name == "no data"]
    assert (pd.Timestamp(shade.x0), pd.Timestamp(shade.x1)) == (gap_tl[0], gap_tl[-1] + pd.Timedelta("1min"))
    assert any(a.name == "no data" and "14:10–14:20 UTC" in a.text for a in fig.layout.annotations)


# ---- latency distributions: latency_histogram / latency_ecdf, drawn by plot_latency / plot_latency_ecdf ---------------
def test_latency_histogram_counts_over_shared_bins_and_plot_latency_draws_them(eight):
    from tracekit.analysis.latency import LATENCY_HISTOGRAM

    spans = eight.assign(service=["api"] * 4 + ["db"] * 4)
    h = tk.latency_histogram(spans, "service", bins=4, log_x=True)
    assert list(h.columns) == LATENCY_HISTOGRAM.column_names
    assert [str(t) for t in h.dtypes] == [c.dtype for c in LATENCY_HISTOGRAM.columns]
    # api 10 25 50 100 and db 10 10 160 (its fourth span in progress, left out): shared edges 10 20 40 80 160
    assert h.groupby("group", sort=False)["count"].apply(list).to_dict() == {"api": [1, 1, 1, 1], "db": [2, 0, 0, 1]}
    assert h.attrs["left_out"] == {"spans": 1}
    fig = tk.plot_latency(spans, "service", bins=4, log_x=True)
    for t in fig.data:  # a step line: the counts, the last repeated at the top edge
        part = h[h["group"] == t.meta]
        assert list(t.y) == [*part["count"].astype(float), float(part["count"].iloc[-1])]
        assert np.allclose(t.x, [*part["latency_lo_ms"], part["latency_hi_ms"].iloc[-1]])
    assert fig.layout.title.text == ("span latency by service<br><sup>7 spans, 14:00:00–14:02:20 UTC; 1 without a positive "
                                     "duration not drawn</sup>")


def test_latency_ecdf_fractions_and_percentiles_are_the_kernel_ones(eight):
    from tracekit.analysis.latency import LATENCY_ECDF

    e = tk.latency_ecdf(eight)
    assert list(e.columns) == LATENCY_ECDF.column_names
    assert [str(t) for t in e.dtypes] == [c.dtype for c in LATENCY_ECDF.columns]
    lat = [10, 10, 10, 25, 50, 100, 160]  # the 7 requests that ended (request_ms)
    assert e["latency_ms"].tolist() == lat and e["fraction"].tolist() == [(i + 1) / 7 for i in range(7)]
    p50, p95 = (float(v) for v in tk.core.percentile(np.array(lat, float), (0.5, 0.95)))
    assert (e["p50_ms"].iloc[0], e["p95_ms"].iloc[0], e["count"].iloc[0]) == (p50, p95, 7) == (25.0, 160.0, 7)
    fig = tk.plot_latency_ecdf(eight)
    assert list(fig.data[0].x) == lat and list(fig.data[0].y) == e["fraction"].tolist()
    assert f"(n=7, p50 {ms_text(25.0)}, p95 {ms_text(160.0)})" in fig.data[0].name
    assert fig.layout.title.text == ("request latency<br><sup>7 requests, 14:00:00–14:02:20 UTC; 1 without a positive "
                                     "latency not drawn</sup>")


def test_latency_ecdf_thins_a_long_line_keeping_both_ends():
    e = tk.latency_ecdf(np.arange(1, 1001, dtype=float), max_points=10)
    assert len(e) == 10 and e["latency_ms"].iloc[[0, -1]].tolist() == [1.0, 1000.0]
    assert e["fraction"].iloc[-1] == 1.0 and set(e["count"]) == {1000}


def test_plot_latency_ecdf_old_keyword_names_warn_and_still_work():
    """``incident=`` and ``top=`` (renamed ``spans`` / ``n``) raised TypeError: the @renamed decorator had been left
    on a helper (_no_request_words) defined between it and plot_latency_ecdf."""
    lat = pd.Series([10.0, 20.0, 400.0])
    with pytest.warns(DeprecationWarning, match="incident"):
        old = tk.plot_latency_ecdf(incident=lat)
    with pytest.warns(DeprecationWarning, match="top"):
        tk.plot_latency_ecdf(lat, top=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = tk.plot_latency_ecdf(lat)
    assert list(old.data[0].x) == list(new.data[0].x) == [10.0, 20.0, 400.0]


def test_plot_timeline_title_says_population_and_window(eight):
    fig = tk.plot_timeline(eight, "1min", deployments=False)
    tl = tk.timeline(eight, "1min")
    assert int(tl["sampled"].sum()) == 8  # the timeline counts the request in progress (of unknown outcome)
    # the window is the requests' first and last start, as the heatmap's (session 42's lead: it was the buckets' ends,
    # 14:03:00, beside the heatmap's 14:02:50 for the same requests)
    assert (tl.attrs["first"], tl.attrs["last"]) == (eight["start"].min(), eight.loc[eight["parent_id"].isna(), "start"].max())
    assert fig.layout.title.text == "timeline by all requests<br><sup>8 requests, 14:00:00–14:02:50 UTC</sup>"


# ---- a real trace file: the figure's numbers are the analysis's, the population the kernel's requests ------------------
def test_heatmap_and_ecdf_agree_with_the_kernel_on_a_real_trace_file(real_traces):
    from .test_waterfall import nezha_spans

    spans = nezha_spans(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv")
    o = tk.core.trace_outcomes(spans)
    req = o.loc[o["request"], "request_ms"].to_numpy(dtype=float)
    drawn = req[np.isfinite(req) & (req > 0)]
    fig = tk.plot_heatmap(spans, "10s", bins=20)
    h = tk.latency_heatmap(spans, "10s", bins=20)
    assert float(np.sum(fig.data[0].z)) == h["requests"].sum() == len(drawn) == h.attrs["sampled"]
    assert f"{len(drawn):,} requests, " in fig.layout.title.text
    e = tk.latency_ecdf(spans)
    assert e["count"].iloc[0] == len(drawn)
    assert e["p95_ms"].iloc[0] == float(tk.core.percentile(drawn, 0.95))


# ---- the rule itself: the figure modules compute no statistics ------------------------------------------------------
_STATS = {"percentile", "quantile", "histogram", "logspace", "linspace", "resample", "trace_outcomes", "searchsorted"}


@pytest.mark.parametrize("module", ["timeline", "latency"])
def test_figure_modules_call_no_statistic(module):
    """plot_heatmap binned requests (np.logspace, searchsorted, np.add.at), plot_latency counted histograms and ECDFs
    (np.histogram, np.linspace) and plot_latency_ecdf took percentiles and trace outcomes inside the figure."""
    tree = ast.parse((REPO / "tracekit" / "plotting" / f"{module}.py").read_text())
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in _STATS or (name == "at" and isinstance(f, ast.Attribute) and getattr(f.value, "attr", "") == "add"):
                calls.add(name)
    assert not calls, f"tracekit/plotting/{module}.py computes {sorted(calls)}: move it to the analysis layer"


# ---- the figures' n: one count rule ---------------------------------------------------------------------------------
_N_CALLS = {
    "plot_latency": lambda s, n: tk.plot_latency(s, "service", n=n),
    "plot_latency_ecdf": lambda s, n: tk.plot_latency_ecdf(s, by="service", n=n),
    "plot_timeline": lambda s, n: tk.plot_timeline(s, "1min", by="service", n=n, deployments=False),
    "plot_compare": lambda s, n: tk.plot_compare(pd.DataFrame({"service": ["a", "b", "c"], "x_a": [1.0, 2.0, 3.0],
                                                               "x_b": [1.0, 1.0, 1.0]}), metric="x", n=n),
    "plot_critical_path_breakdown": lambda s, n: tk.plot_critical_path_breakdown(
        pd.DataFrame({"service": ["a", "b", "c"], "cp_ms": [1.0, 2.0, 3.0]}), n=n),
}


@pytest.mark.parametrize("bad", [-1, 0, 2.5, True])
@pytest.mark.parametrize("name", sorted(_N_CALLS))
def test_a_figures_n_is_a_whole_number_of_at_least_one(eight, name, bad):
    """n=-1 silently drew every group but the last (plot_latency 9 of checkout-small's 10 services), n=0 an empty
    figure, n=2.5 a bare TypeError, n=True one group."""
    spans = eight.assign(service=["api", "db"] * 4)
    with pytest.raises(tk.ArgumentError, match=rf"^{name}: n must be a whole number"):
        _N_CALLS[name](spans, bad)
