"""Session 33, metrics beside traces: defects found by a hostile read, each pinned by ground truth built here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

T0 = pd.Timestamp("2024-01-01", tz="UTC")
MIN = pd.Timedelta("1min")


def _bucket(t) -> int | None:
    return None if pd.isna(t) else int((t - T0) // MIN)


@pytest.mark.parametrize(("a", "b"), [(0, 6), (12, 18), (24, 30)], ids=["start", "middle", "end"])
def test_metric_change_window_is_the_step_at_the_start_middle_and_end(a, b):
    # 30 one-minute buckets of 10 ± 1 with buckets a..b−1 at 90 (each point stamped at the end of its minute, so
    # point i describes bucket i). The rank scan put the window elsewhere or took in neighbours in about half the
    # seeds (start 20 / 40 exact, middle 22, end 22; at an edge 12-13 of 40 not on the step at all)
    t = T0 + MIN * np.arange(1, 31)
    for seed in range(8):
        v = 10 + np.random.default_rng(seed).normal(0, 1, 30)
        v[a:b] += 80
        m = tk.metrics_from_columns({"time": t, "name": "cpu", "value": v, "service": "cart"})
        # (999 shuffles: the step's p is 0.001-0.003, and at 199 (p ≤ 0.01 when at most one of them reaches it) it
        # passed in every seed only with seed 0's one stream; each call's shuffles are now seeded by its data too)
        r = tk.detect_metric_changes(m, n_perm=999).iloc[0]
        assert (_bucket(r["onset"]), _bucket(r["recovery"])) == (a, b if b < 30 else None), seed
        assert r["during"] == pytest.approx(v[a:b].mean())
        assert r["before"] == pytest.approx(np.r_[v[:a], v[b:]].mean())


def _cpu_step():
    """200 simulated traces and a CPU series over their first hour (stamped at each minute's end): 10 %, then 90 %
    in minutes 25-34, then 10 %."""
    pytest.importorskip("plotly")
    spans = tk.simulate.simulate("baseline", 200, seed=1).spans
    t0 = spans["start"].min().floor("1min")
    return spans, t0, t0 + MIN * np.arange(1, 61), np.r_[np.full(25, 10.0), np.full(10, 90.0), np.full(25, 10.0)]


def test_plot_timeline_draws_detect_metric_changes_windows_with_the_metric_unit():
    # plot_timeline(changes=detect_metric_changes(...)) raised KeyError: 'metric' (it read detect_changes' column)
    spans, t0, t, cpu = _cpu_step()
    m = tk.metrics_from_columns({"time": np.r_[t, t], "name": ["cpu"] * 60 + ["mem"] * 60,
                                 "value": np.r_[cpu, np.full(60, 5.0)], "service": "cart", "unit": ["%"] * 60 + ["By"] * 60})
    ch = tk.detect_metric_changes(m, all_series=True, n_perm=199)
    assert ch["changed"].tolist() == [True, False]  # mem is constant: kept as a row, not a window
    fig = tk.plot_timeline(spans, by="service", changes=ch, metrics=m)
    shapes = [s for s in fig.layout.shapes if s.name == "change"]
    assert len(shapes) == 1
    assert pd.Timestamp(shapes[0].x0) == t0 + 25 * MIN and pd.Timestamp(shapes[0].x1) == t0 + 35 * MIN
    assert [a.text for a in fig.layout.annotations if a.name == "change"] == ["cart cpu +80 %"]


def test_metric_evidence_and_exemplars_refuse_bad_windows_and_numbers_with_argument_errors():
    # (None, t) was NaT, the int64 minimum as a bound: silently no rows; prior="5" / q="0.5" raised bare TypeErrors;
    # metric_exemplars' time="x" a pandas DateParseError, a bare Timestamp a TypeError
    t = T0 + MIN * np.arange(14)
    m = tk.metrics_from_columns({"time": t, "name": "cpu", "value": np.r_[np.ones(12), 9.0, 9.0], "service": "cart"})
    assert len(tk.metric_evidence(m, (t[12], t[13]), (t[0], t[11]))) == 1  # the same data, good arguments: one row
    for kw in (dict(window=(None, t[13])), dict(baseline_window=(t[0], pd.NaT)), dict(prior="5"), dict(q="0.5"),
               dict(prior=-1.0), dict(q=1.0), dict(by=["service"])):
        args = dict(window=(t[12], t[13]), baseline_window=(t[0], t[11]))
        args.update(kw)
        with pytest.raises(tk.errors.ArgumentError, match="metric_evidence"):
            tk.metric_evidence(m, **args)
    for time in (("x", "y"), t[0], (t[0], None), (t[0], t[1], t[2])):
        with pytest.raises(tk.errors.ArgumentError, match="metric_exemplars: time"):
            tk.metric_exemplars(m, time)


def test_histogram_words_name_the_quantile_asked_not_p95():
    # 100 observations a minute, baseline buckets (≤1, ≤2, ≤5, >5) = 40 / 50 / 10 / 0: its p50 lies in (1, 2], edge 2 s.
    # The incident's two minutes hold 80 / 0 / 20 / 0: mean 1.3 → 1.1 s, 20 % above the edge. With q=0.5 the words
    # said "the baseline's p95 bucket edge"
    from tracekit.analysis.metric_evidence import join_metric_evidence, metric_scores

    t = T0 + MIN * np.arange(1, 15)
    base, inc = {"bounds": [1.0, 2.0, 5.0], "counts": [40, 50, 10, 0]}, {"bounds": [1.0, 2.0, 5.0], "counts": [80, 0, 20, 0]}
    m = tk.metrics_from_columns({"time": t, "name": "http.server.request.duration", "kind": "histogram",
                                 "temporality": "delta", "start_time": t - MIN, "count": 100.0,
                                 "sum": [130.0] * 12 + [110.0] * 2, "buckets": [base] * 12 + [inc] * 2,
                                 "service": "api", "unit": "s"})
    ev = tk.metric_evidence(m, (t[11], t[13]), (T0, t[10]), q=0.5)
    assert ev[["basis", "edge", "outside_share", "direction"]].values.tolist() == [["observations", 2.0, 0.2, "down"]]
    words = "http.server.request.duration 20.0 % of its 200 observations above 2 s, against 10.0 % of the baseline's " \
            "1,100 (the baseline's p50 bucket edge; " \
            "its mean fell 1.3 → 1.1 s)"
    assert metric_scores(ev, {"http.server.request.duration": "s"})["top_metric"].tolist() == [words]
    spans = tk.spans_from_columns({"trace_id": ["a" * 32, "b" * 32], "span_id": ["c" * 16, "d" * 16],
                                   "service": ["api", "api"], "name": ["x", "x"], "start": [t[0], t[11]],
                                   "end": [t[10], t[13]]})
    tab = pd.DataFrame({"service": pd.array(["api"], dtype="string"), "score": [0.0]})
    out = join_metric_evidence(tab, m, spans.iloc[[1]], spans.iloc[[0]], level="service", keys=["service"], q=0.5)
    # (the spans' baseline window, t[0] to t[10], holds the 10 points that end after t[0]: 1,000 observations)
    words = words.replace("baseline's 1,100", "baseline's 1,000")
    assert out["metric_top"].tolist() == [words]
    assert out.attrs["metric_coverage"]["top_moved"] == ["api " + words]


def test_a_series_of_points_in_two_units_is_refused_not_averaged():
    # host a reports latency in ms (100), host b in s (0.1): metric_series by service said 50.05 "ms" a bucket, the
    # timeline's metric.latency column 50.05 with unit ms; by host each series has one unit and is kept
    t = T0 + MIN * np.arange(1, 15)
    n = len(t)
    m = tk.metrics_from_columns({"time": np.r_[t, t], "name": "latency", "value": np.r_[np.full(n, 100.0), np.full(n, 0.1)],
                                 "service": "api", "host": ["a"] * n + ["b"] * n, "unit": ["ms"] * n + ["s"] * n})
    by_host = tk.metric_series(m, by="host")
    assert by_host.groupby("host")[["value", "unit"]].first().to_dict("index") == {
        "a": {"value": 100.0, "unit": "ms"}, "b": {"value": 0.1, "unit": "s"}}
    with pytest.raises(tk.errors.ArgumentError, match=r"metric_series: metric 'latency' has points in 2 units \(ms, s\)"):
        tk.metric_series(m, by="service")
    with pytest.raises(tk.errors.ArgumentError, match="units"):
        tk.detect_metric_changes(m, by="service")
    spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["c" * 16], "service": ["api"], "name": ["x"],
                                   "start": [T0], "end": [T0 + 4 * MIN]})
    with pytest.raises(tk.errors.ArgumentError, match=r"timeline: metric 'latency' has points in 2 units"):
        tk.timeline(spans, by="host", metrics=m)  # one column, one axis: one unit across hosts
    with pytest.raises(tk.errors.ArgumentError, match=r"metric_evidence: metric 'latency' has points in 2 units"):
        tk.metric_evidence(m, (t[12], t[13]), (t[0], t[11]), by="service")
    assert len(tk.metric_evidence(m, (t[12], t[13]), (t[0], t[11]), by="host")) == 2
    # points without a unit beside points with one are not a second unit
    m2 = m.assign(unit=pd.array(["ms"] * n + [None] * n, dtype="string"), value=100.0)
    assert tk.metric_series(m2, by="service")["value"].tolist() == [100.0] * n


def test_one_cloudwatch_metric_fetched_as_two_statistics_is_refused_not_averaged():
    # CPUUtilization of i-1 fetched as its Average (10) and its Maximum (90): metric_series said 50 a minute
    from tracekit.aws.metrics import _described, metric_data_queries
    from tracekit.io.metrics import cloudwatch_frame

    q = {"namespace": "AWS/EC2", "metric": "CPUUtilization", "dimensions": {"InstanceId": "i-1"}}
    qs = metric_data_queries([{**q, "stat": "Average", "id": "avg"}, {**q, "stat": "Maximum", "id": "mx"}], period=60,
                             stat="Average")
    ts = [(T0 + i * MIN).to_pydatetime() for i in range(12)]
    resp = {"MetricDataResults": [{"Id": "avg", "Label": "CPUUtilization", "Timestamps": ts, "Values": [10.0] * 12,
                                   "StatusCode": "Complete"},
                                  {"Id": "mx", "Label": "CPUUtilization", "Timestamps": ts, "Values": [90.0] * 12,
                                   "StatusCode": "Complete"}]}
    m = cloudwatch_frame([resp], _described(qs), file="<test>")
    with pytest.raises(tk.errors.ArgumentError, match=r"has points of 2 statistics \(Average, Maximum\)"):
        tk.metric_series(m, by="host")
    with pytest.raises(tk.errors.ArgumentError, match="statistics"):
        tk.metric_evidence(m, (T0 + 10 * MIN, T0 + 11 * MIN), (T0, T0 + 9 * MIN), by="host")
    stat = [a["cloudwatch.stat"] for a in m["attributes"]]
    avg = m[[s == "Average" for s in stat]]
    assert tk.metric_series(avg, by="host")["value"].tolist() == [10.0] * 12


def test_metric_changes_carry_their_unit_and_a_host_change_is_labelled_with_its_host():
    # detect_metric_changes' before / during / delta had no unit; a change by host drawn on a timeline by service (or
    # by None) was labelled "all cpu +80" (the timeline's keys, and no unit without metrics=)
    spans, _t0, t, cpu = _cpu_step()
    m = tk.metrics_from_columns({"time": t, "name": "cpu", "value": cpu, "service": "cart", "host": "cart-1", "unit": "%"})
    ch = tk.detect_metric_changes(m, by="host", n_perm=199)
    assert ch[["host", "name", "before", "during", "delta", "unit"]].values.tolist() == [["cart-1", "cpu", 10.0, 90.0, 80.0, "%"]]
    assert str(ch["unit"].dtype) == "string"
    assert tk.detect_metric_changes(m.assign(unit=None), by="host", n_perm=199)["unit"].isna().tolist() == [True]
    for by in ("service", None):
        fig = tk.plot_timeline(spans, by=by, changes=ch)
        assert [a.text for a in fig.layout.annotations if a.name == "change"] == ["cart-1 cpu +80 %"]


def test_metric_exemplars_refuses_a_service_or_host_no_point_has():
    # service="chekout" (misspelt) returned 0 exemplars, read as "no trace behind the spike"; a misspelt name was
    # already an error
    ex = [{"time": 1, "value": 5.0, "trace_id": "a" * 32, "span_id": None, "attributes": {}}]
    m = tk.metrics_from_columns({"time": [0], "name": "lat", "kind": "histogram", "count": [1.0], "sum": [5.0],
                                 "service": "checkout", "host": "pod-1", "exemplars": [ex]})
    assert tk.metric_exemplars(m, service="checkout", host="pod-1")["trace_id"].tolist() == ["a" * 32]
    with pytest.raises(tk.errors.ArgumentError, match=r"no point has service 'chekout' \(have e.g. \['checkout'\]\)"):
        tk.metric_exemplars(m, service="chekout")
    with pytest.raises(tk.errors.ArgumentError, match="no point has host 'pod-2'"):
        tk.metric_exemplars(m, host="pod-2")


def test_a_metric_row_with_no_point_beside_the_requests_says_why():
    # metrics of the next day (or of a key the spans do not have) drew an empty metric row without a word
    pytest.importorskip("plotly")
    spans = tk.simulate.simulate("baseline", 200, seed=1).spans
    t0 = spans["start"].min().floor("1min")
    t = t0 + MIN * np.arange(1, 61)
    day = tk.metrics_from_columns({"time": t + pd.Timedelta("1D"), "name": "cpu", "value": 5.0, "service": "cart",
                                   "unit": "%"})
    tl = tk.timeline(spans, by="service", metrics=day)
    assert tl["metric.cpu"].notna().sum() == 0
    assert tl.attrs["metric_periods"] == {"metric.cpu": (t0 + pd.Timedelta("1D"), t0 + pd.Timedelta("1D") + 60 * MIN)}
    fig = tk.plot_timeline(spans, by="service", metrics=day)
    said = [a.text for a in fig.layout.annotations if a.name == "metric without points"]
    assert said == [f"no cpu beside these requests: its points cover {t0 + pd.Timedelta('1D'):%Y-%m-%d %H:%M}–"
                    f"{t0 + pd.Timedelta('1D') + 60 * MIN:%H:%M} UTC"]
    other_key = day.assign(time=day["time"] - pd.Timedelta("1D"), service="kart")
    fig = tk.plot_timeline(spans, by="service", metrics=other_key)
    assert [a.text for a in fig.layout.annotations if a.name == "metric without points"] == [
        "no cpu beside these requests: no point of the keys drawn falls in their buckets"]
    same = day.assign(time=day["time"] - pd.Timedelta("1D"))  # cart's own day: drawn, nothing said
    fig = tk.plot_timeline(spans, by="service", metrics=same)
    assert not [a for a in fig.layout.annotations if a.name == "metric without points"]


def test_fetch_metrics_refuses_bad_periods_statistics_and_query_lists_before_any_request():
    # period=True was sent as 1 s and 60.9 as 60 s; a query's stat None as the statistic "None"; one query dict (not in
    # a list) said "query 0 must be a dict, got str"; max_pages="2" raised a bare TypeError
    from tracekit.aws.metrics import metric_data_queries

    q = {"namespace": "AWS/EC2", "metric": "CPUUtilization"}
    assert metric_data_queries([{**q, "period": 300.0}], period=60, stat="p99")[0]["MetricStat"] == {
        "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": []}, "Period": 300, "Stat": "p99"}
    bad = [(dict(queries=[q], period=True), "period"), (dict(queries=[q], period=60.9), "period"),
           (dict(queries=[{**q, "stat": None}], period=60), "stat"), (dict(queries=[q], period=60, stat=""), "stat"),
           (dict(queries=q, period=60), "list of query dicts")]
    for kw, what in bad:
        kw.setdefault("stat", "Average")
        with pytest.raises(tk.errors.ArgumentError, match=what):
            metric_data_queries(kw.pop("queries"), **kw)
    with pytest.raises(tk.errors.ArgumentError, match="max_pages"):
        tk.fetch_metrics([q], "2024-01-01", "2024-01-02", max_pages="2")
    with pytest.raises(tk.errors.ArgumentError, match="list of query dicts"):
        tk.fetch_metrics(q, "2024-01-01", "2024-01-02")
