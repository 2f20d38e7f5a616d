"""Metrics on the requests' time axis: metric_series, timeline(metrics=), detect_metric_changes, metric_exemplars.

Ground truth by construction; one real check on Nezha's OnlineBoutique per-pod metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError

from .test_metrics import _nezha_long

DATASETS = Path(__file__).resolve().parents[1] / "datasets"

T = pd.Timestamp("2024-01-01 10:00", tz="UTC")


def _spans(n_traces: int = 30) -> pd.DataFrame:
    """One request per minute per pod: api on pod api-1 (calls cart on cart-1), 10 ms + i ms each."""
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "resource")}
    for i in range(n_traces):
        t0 = (T + pd.Timedelta(minutes=i, seconds=5)).value
        tid = f"{i + 1:032x}"
        for j, (svc, pod, parent) in enumerate((("api", "api-1", None), ("cart", "cart-1", f"{i + 1:015x}0"))):
            rows["trace_id"].append(tid)
            rows["span_id"].append(f"{i + 1:015x}{j}")
            rows["parent_id"].append(parent)
            rows["service"].append(svc)
            rows["name"].append("GET /" if j == 0 else "cart.get")
            rows["start"].append(t0 + j * 1_000_000)
            rows["end"].append(t0 + (10 + i) * 1_000_000 - j * 1_000_000)
            rows["resource"].append({"service.name": svc, "k8s.pod.name": pod})
    return tk.spans_from_columns(rows)


def _cpu(values, host="cart-1", service="cart", offset_s=50, name="cpu") -> pd.DataFrame:
    """Once-a-minute points stamped ``offset_s`` into minute i: each describes the minute before its stamp (a scrape,
    metric_series.described_times), so with 50 s, 10:00:20–10:00:50, in the bucket of minute i."""
    t = [T + pd.Timedelta(minutes=i, seconds=offset_s) for i in range(len(values))]
    return tk.metrics_from_columns({"time": t, "name": name, "value": list(values), "unit": "%", "service": service,
                                    "host": host})


def test_metric_series_means_per_bucket_and_key():
    # two series of one pod and name stamped 10 s apart each minute: their step reads as 10 s, each point describes
    # the 10 s before its stamp, in minute i
    m = pd.concat([_cpu([1.0, 2.0, 3.0]), _cpu([10.0, 20.0, 30.0], offset_s=40), _cpu([7.0] * 3, host="cart-2")],
                  ignore_index=True)
    s = tk.metric_series(m, by="host")
    one = s[s["host"] == "cart-1"]
    assert one["value"].tolist() == [5.5, 11.0, 16.5] and one["points"].tolist() == [2, 2, 2]
    assert one["time"].tolist() == [T, T + pd.Timedelta("1min"), T + pd.Timedelta("2min")]
    by_service = tk.metric_series(m)
    # a service's value is the mean over its streams (here its pods) of each one's bucket mean: cart-1 scraped twice a
    # minute weighs as much as cart-2 scraped once (per point, it was (1 + 10 + 7) / 3: a pod's weight its scrape rate)
    assert by_service["value"].tolist() == [(5.5 + 7) / 2, (11 + 7) / 2, (16.5 + 7) / 2]
    assert by_service["points"].tolist() == [3, 3, 3] and by_service["streams"].tolist() == [2, 2, 2]
    h = tk.metrics_from_columns({"time": [T], "name": "lat", "kind": "histogram", "count": [4.0], "sum": [10.0],
                                 "service": "a"})
    assert tk.metric_series(h)["value"].tolist() == [2.5]
    with pytest.raises(ArgumentError, match="by must be"):
        tk.metric_series(m, by="route")
    with pytest.raises(ArgumentError, match="no metric named 'mem'"):
        tk.metric_series(m, "mem")
    c = tk.metrics_from_columns({"time": [T, T + pd.Timedelta("1min")], "name": "n", "kind": "sum",
                                 "temporality": "cumulative", "value": [1.0, 61.0], "start_time": [T - pd.Timedelta("1min")] * 2})
    with pytest.raises(ArgumentError, match="cumulative sum.*metric_rates"):
        tk.metric_series(c)
    assert tk.metric_series(tk.metric_rates(c))["value"].tolist() == [1 / 60, 1.0]


def test_timeline_puts_metrics_beside_the_requests_per_service_and_host():
    spans = _spans(5)
    m = pd.concat([_cpu([11.0, 12.0, 13.0, 14.0, 15.0]), _cpu([1.0] * 5, host="api-1", service="api")],
                  ignore_index=True)
    tl = tk.timeline(spans, by="service", metrics=m)
    cart = tl[tl["service"] == "cart"]
    assert cart["metric.cpu"].tolist() == [11.0, 12.0, 13.0, 14.0, 15.0]
    assert cart["requests"].tolist() == [1.0] * 5
    assert cart["p50_ms"].tolist() == [8.0, 9.0, 10.0, 11.0, 12.0]  # cart's span: 10 + i − 2 ms
    th = tk.timeline(spans, by="host", metrics=m, metric_names="cpu")
    assert th[th["host"] == "api-1"]["metric.cpu"].tolist() == [1.0] * 5
    assert th[th["host"] == "api-1"]["p50_ms"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]
    plain = tk.timeline(spans, by="service")
    pd.testing.assert_frame_equal(tl.drop(columns="metric.cpu"), plain)
    with pytest.raises(ArgumentError, match="metrics join on"):
        tk.timeline(spans, by="name", metrics=m)


def test_detect_metric_changes_finds_the_window_and_says_what_did_not_move():
    rng = np.random.default_rng(3)
    cpu = 20 + rng.normal(0, 1, 40)
    cpu[25:32] += 60  # saturation from bucket 25 to 31
    mem = 50 + rng.normal(0, 1, 40)  # does not move
    m = pd.concat([_cpu(cpu), _cpu(mem, name="mem")], ignore_index=True)
    ch = tk.detect_metric_changes(m, by="host", all_series=True)
    row = ch[ch["name"] == "cpu"].iloc[0]
    assert bool(row["changed"]) and row["onset"] == T + pd.Timedelta(minutes=25)
    # the rank statistic's window may run on over a bucket or two of noise above the median after it
    assert T + pd.Timedelta(minutes=32) <= row["recovery"] <= T + pd.Timedelta(minutes=34)
    assert row["delta"] > 40 and row["buckets"] == 40  # 60 over 7 of the window's 7-9 buckets
    still = ch[ch["name"] == "mem"].iloc[0]
    assert not bool(still["changed"]) and still["p_value"] > 0.01
    assert tk.detect_metric_changes(m, by="host")["name"].tolist() == ["cpu"]


def test_detect_metric_changes_on_stationary_series_reports_none():
    """Holm over 20 stationary series at alpha 0.01: no change (family-wise error ≤ 0.01; seed fixed)."""
    rng = np.random.default_rng(7)
    m = pd.concat([_cpu(rng.normal(0, 1, 30), host=f"h{i}") for i in range(20)], ignore_index=True)
    ch = tk.detect_metric_changes(m, by="host", all_series=True)
    assert len(ch) == 20 and not ch["changed"].any()


def test_detect_metric_changes_finds_a_change_among_many_series():
    """A fixed 999 permutations floor each p-value at 0.001: Holm over 15 series made it 0.015, so at alpha 0.01
    nothing could pass past 10 series — the bundled deploy's payments latency (103 → 286 ms) said unmoved. The
    permutations are now sized to the family (detect_changes'), and constant series are not in it."""
    rng = np.random.default_rng(11)
    series = [_cpu(20 + rng.normal(0, 1, 40), host=f"h{i}") for i in range(24)]
    jump = 20 + rng.normal(0, 1, 40)
    jump[30:] += 30
    m = pd.concat([*series, _cpu(jump, host="hot"), _cpu(np.full(40, 5.0), host="flat")], ignore_index=True)
    ch = tk.detect_metric_changes(m, by="host", all_series=True)
    assert ch.loc[ch["changed"], "host"].tolist() == ["hot"]
    assert ch.attrs["params"]["n_perm"] >= 4 * 25 / 0.01  # 25 series tested: the flat one is not
    assert float(ch.loc[ch["host"] == "flat", "p_value"].iloc[0]) == 1.0
    bundled = tk.detect_metric_changes(tk.read_metrics(DATASETS / "deploy-regression-signals" / "metrics.jsonl.gz"))
    assert "payments" in set(bundled["service"]), bundled


def test_metric_exemplars_open_the_traces_behind_a_spike():
    spans = _spans(10)
    tids = spans["trace_id"].unique().tolist()
    ex = [[{"time": (T + pd.Timedelta(minutes=i, seconds=30)).value, "value": 10.0 + (500 if i == 6 else 0),
            "trace_id": tids[i], "span_id": None, "attributes": {}}] for i in range(10)]
    m = tk.metrics_from_columns({"time": [T + pd.Timedelta(minutes=i, seconds=59) for i in range(10)], "name": "lat",
                                 "kind": "histogram", "count": [1.0] * 10, "sum": [e[0]["value"] for e in ex],
                                 "service": "api", "exemplars": ex})
    spike = tk.detect_metric_changes(m, min_buckets=1, all_series=True).iloc[0]
    assert spike["onset"] == T + pd.Timedelta(minutes=6)
    got = tk.metric_exemplars(m, (spike["onset"], spike["recovery"]), names="lat")
    assert got["trace_id"].tolist() == [tids[6]] and got["value"].tolist() == [510.0]
    assert set(got["trace_id"]) <= set(spans["trace_id"])  # they open traces of the spans frame
    assert len(tk.metric_exemplars(m)) == 10 and tk.metric_exemplars(m)["trace_id"].iloc[0] == tids[6]
    with pytest.raises(ArgumentError, match="no point has service 'other'"):  # a key no point has: not "no exemplars"
        tk.metric_exemplars(m, service="other")
    with pytest.raises(ArgumentError, match="ends before"):
        tk.metric_exemplars(m, (T + pd.Timedelta("1h"), T))


def test_real_nezha_cpu_contention_shows_on_the_injected_pods_cpu(real_traces):
    """OnlineBoutique 2022-08-22, 04:36:03: cpu_contention on cartservice. Over the 12 minutes before and 3
    after, cartservice's CpuUsageRate changes in a window holding the minute after the injection (88 % CPU
    against 3-8 % before; the rank window also takes in the slightly busier minutes before it)."""
    day = real_traces / "nezha" / "fault-days" / "rca_data" / "2022-08-22"
    if not (day / "metric").is_dir():
        pytest.skip(f"Nezha metric CSVs not found at {day / 'metric'}")
    fault = [f for h in json.loads((day / "2022-08-22-fault_list.json").read_text()).values() for f in h
             if f["inject_time"] == "2022-08-22 04:36:03"][0]
    assert fault["inject_type"] == "cpu_contention"
    path = next((day / "metric").glob(fault["inject_pod"].rsplit("-", 2)[0] + "-*_metric.csv.gz"))
    long = _nezha_long(path)
    t = pd.Timestamp(fault["inject_time"], tz="UTC")
    long = long[(long["time"] >= t - pd.Timedelta("12min")) & (long["time"] < t + pd.Timedelta("3min"))]
    m = tk.metrics_from_columns(long[["time", "name", "value", "unit", "service", "host"]])
    ch = tk.detect_metric_changes(m, "CpuUsageRate", by="host", min_buckets=1, all_series=True)
    row = ch.iloc[0]
    spike = t.ceil("1min")  # the point stamped 04:37:19 covers the minute after the injection
    assert row["onset"] <= spike and (pd.isna(row["recovery"]) or row["recovery"] > spike)
    assert row["during"] > 2 * row["before"]


def test_plot_timeline_draws_metric_rows_under_the_latency():
    pytest.importorskip("plotly")
    spans = _spans(5)
    m = pd.concat([_cpu([11.0, 12.0, 13.0, 14.0, 15.0]), _cpu([2.0] * 5, name="<b>mem</b>")], ignore_index=True)
    fig = tk.plot_timeline(spans, by="service", metrics=m)
    cpu = [t for t in fig.data if t.meta["metric"] == "metric.cpu" and t.meta["key"] == "cart"]
    assert len(cpu) == 1 and list(cpu[0].y) == [11.0, 12.0, 13.0, 14.0, 15.0]
    assert cpu[0].yaxis == "y5"  # rows under the latency, in name order ("<b>mem</b>" sorts first)
    titles = [a.text for a in fig.layout.annotations]
    assert "cpu (mean per 1 min bucket)" in titles and "&lt;b&gt;mem&lt;/b&gt; (mean per 1 min bucket)" in titles
    assert fig.layout.xaxis5.title.text == "time (UTC)"
    # each metric row's y axis gives its unit (the report's metric rows had none); a series without one says so
    assert fig.layout.yaxis4.title.text == "%" and fig.layout.yaxis5.title.text == "%"
    bare = pd.concat([_cpu([11.0, 12.0, 13.0, 14.0, 15.0]).assign(unit=pd.NA),
                      _cpu([2.0] * 5, name="mem").assign(unit="By")], ignore_index=True)
    fig3 = tk.plot_timeline(spans, by="service", metrics=tk.metrics_from_columns(bare))
    assert (fig3.layout.yaxis4.title.text, fig3.layout.yaxis5.title.text) == ("no unit given", "By")
    # a timeline already holding metric columns: keys are still only the timeline's
    fig2 = tk.plot_timeline(tk.timeline(spans, by="service", metrics=m), metrics=m, metric_names="cpu")
    assert {t.meta["key"] for t in fig2.data} == {"api", "cart"}
    assert sum(t.meta["metric"] == "metric.cpu" for t in fig2.data) == 2


@pytest.mark.parametrize("stat", ["Sum", "Maximum", "Average", "Average+SampleCount"])
def test_cloudwatch_statistics_points_are_series_of_their_statistic(stat):
    """get-metric-statistics with one statistic (--statistics Sum for Lambda Errors, or Maximum) is read as summary
    points whose value is that statistic, with no count or no sum: metric_series took every summary's value as
    sum / count, so each such point was NaN and left out — no series, no change, no word (helper's d09). The same
    for the read_metrics docstring's shape (Average, Maximum, SampleCount: a count and no sum)."""
    vals = np.r_[np.zeros(14), 50 * np.ones(6)]
    key = stat.split("+")[0]
    pts = [{"Timestamp": f"2024-01-01T00:{i:02d}:00Z", key: float(v), "Unit": "Count",  # a period's start
            **({"SampleCount": 8.0} if "SampleCount" in stat else {})} for i, v in enumerate(vals)]
    m = tk.read_metrics({"Label": "Errors", "Datapoints": pts})
    s = tk.metric_series(m, by=None)
    assert s["value"].tolist() == vals.tolist() and s.attrs["points_without_value"] == {}
    ch = tk.detect_metric_changes(m, by=None)
    assert len(ch) == 1 and ch["during"].iloc[0] == 50.0 and ch["onset"].iloc[0] == pd.Timestamp("2024-01-01 00:14", tz="UTC")


def test_a_histogram_point_with_no_sum_is_counted_not_silently_left_out():
    """OTLP's histogram sum is optional: such a point has no mean to average; it is in no bucket, and the series
    and the changes say how many points of which name were left out."""
    m = tk.metrics_from_columns({"time": [T + pd.Timedelta(minutes=i) for i in range(6)], "name": ["lat"] * 3 + ["cpu"] * 3,
                                 "kind": ["histogram"] * 3 + ["gauge"] * 3, "count": [4.0] * 3 + [None] * 3,
                                 "sum": [None, 8.0, None, None, None, None], "value": [None] * 3 + [1.0, 2.0, 3.0]})
    s = tk.metric_series(m, by=None)
    assert s["name"].tolist() == ["cpu"] * 3 + ["lat"] and s["value"].tolist() == [1.0, 2.0, 3.0, 2.0]
    assert s.attrs["points_without_value"] == {"lat": 2}
    with pytest.warns(UserWarning, match="no series could be tested"):  # 3 buckets: too few to look for a change
        assert tk.detect_metric_changes(m, by=None).attrs["points_without_value"] == {"lat": 2}


def test_a_cumulative_histogram_is_averaged_per_interval_not_over_the_process_life():
    """The OTel SDKs' default histogram is cumulative: its sum / count is the mean since the process started, so
    latency going 0.1 -> 0.3 s after 14 minutes read as 0.16 (a fresh reader's d12). Each point's mean is now over
    the interval since its stream's previous point, as the same data sent as delta points gives; a restart (count
    down) and a second process of the service (its own stream) are intervals of their own."""
    minutes = 20
    per_min = [0.1] * 14 + [0.3] * 6
    times = [T + pd.Timedelta(minutes=i + 1) for i in range(minutes)]
    count = np.arange(1, minutes + 1) * 10.0
    total = np.cumsum([10 * x for x in per_min])
    cols = {"time": times, "name": "lat", "kind": "histogram", "service": "api", "start_time": T}
    cum = tk.metrics_from_columns({**cols, "temporality": "cumulative", "count": count, "sum": total})
    delta = tk.metrics_from_columns({**cols, "temporality": "delta", "count": 10.0, "sum": [10 * x for x in per_min],
                                     "start_time": [T + pd.Timedelta(minutes=i) for i in range(minutes)]})
    a, b = (tk.metric_series(m, by=None)["value"].to_numpy() for m in (cum, delta))
    assert np.allclose(a, b) and np.allclose(a, per_min)
    ca, cb = (tk.detect_metric_changes(m, by=None).iloc[0] for m in (cum, delta))
    assert ca["delta"] == pytest.approx(0.2) and ca["onset"] == cb["onset"]
    # a restart at minute 10 (count and sum start again) and a second process (another service.instance.id)
    restart = count.copy(), total.copy()
    restart[0][9:] -= count[8]
    restart[1][9:] -= total[8]
    two = tk.metrics_from_columns({**cols, "temporality": "cumulative", "count": np.r_[restart[0], count],
                                   "sum": np.r_[restart[1], total], "time": times * 2, "start_time": T,
                                   "resource": [{"service.instance.id": i} for i in "ab" for _ in range(minutes)]})
    assert np.allclose(tk.metric_series(two, by=None)["value"].to_numpy(), per_min)


def test_an_otlp_summary_is_averaged_per_interval_and_a_cloudwatch_statistic_as_it_is():
    """OTLP summaries carry no temporality: their "count and sum … are assumed to be cumulative" (metrics.proto).
    Read from OTLP JSON they were averaged over the process's life (0.1 -> 0.3 s read as 0.16 at the end); a
    summary whose start is before its time is now averaged per interval, as a cumulative histogram. CloudWatch's
    statistics (start = time: the period's own) are as they were."""
    minutes = 20
    per_min = [0.1] * 14 + [0.3] * 6
    t0 = int(T.value)
    points = [{"startTimeUnixNano": str(t0), "timeUnixNano": str(t0 + (i + 1) * 60 * 10**9), "count": str(10 * (i + 1)),
               "sum": float(np.sum([10 * x for x in per_min[:i + 1]])),
               "quantileValues": [{"quantile": 0.5, "value": per_min[i]}]} for i in range(minutes)]
    doc = {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
           "scopeMetrics": [{"metrics": [{"name": "lat", "unit": "s", "summary": {"dataPoints": points}}]}]}]}
    m = tk.read_metrics(doc)
    assert (m["kind"] == "summary").all() and m["temporality"].isna().all()
    assert np.allclose(tk.metric_series(m, by=None)["value"].to_numpy(), per_min)
    assert tk.detect_metric_changes(m, by=None).iloc[0]["delta"] == pytest.approx(0.2)
    cw = tk.read_metrics({"Label": "Latency", "Datapoints": [
        {"Timestamp": f"2024-01-01T00:{i:02d}:00Z", "Average": x, "SampleCount": 10.0, "Unit": "Seconds"}
        for i, x in enumerate(per_min)]})
    assert (cw["kind"] == "summary").all() and np.allclose(tk.metric_series(cw, by=None)["value"].to_numpy(), per_min)


def test_an_infinite_point_is_left_out_and_counted_not_a_mean_of_inf():
    """A fresh reader's d07: one +Inf gauge point (OTLP doubles may be infinite) made its bucket's mean inf and
    detect_metric_changes said before=inf, delta=-inf. It is left out of the means and counted."""
    t = pd.date_range("2024-01-01 00:01", periods=20, freq="1min", tz="UTC")
    v = np.r_[np.ones(14), 5 * np.ones(6)]
    clean = tk.detect_metric_changes(tk.metrics_from_columns({"time": t, "name": "mem", "value": v, "host": "p1"}),
                                     by="host")
    v[5] = np.inf
    m = tk.metrics_from_columns({"time": t, "name": "mem", "value": v, "host": "p1"})
    got = tk.detect_metric_changes(m, by="host")
    assert got[["before", "during", "delta"]].to_numpy().tolist() == clean[["before", "during", "delta"]].to_numpy().tolist()
    assert got.attrs["points_without_value"] == {"mem": 1}
    assert np.isfinite(tk.metric_series(m, by="host")["value"]).all()
