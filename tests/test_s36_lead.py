"""Session 36, the lead's fixes: gaps in bursty traffic (timeline.no_data_buckets), partial first and last buckets
(timeline covered, plot_timeline)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

from .test_s35_timeseries import _spans


def _no_data(spans: pd.DataFrame) -> int:
    t = tk.timeline(spans)
    return int(t.drop_duplicates("time")["no_data"].sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quiet_minutes_between_the_bursts_of_a_batch_job_are_not_missing_data(seed):
    # 30 requests per service in the first minute of every ten and none between: 54 quiet minutes of 60, all of
    # them real (the job only runs every ten minutes), none a collector gap. The timeline ends at the last burst
    # (minute 50): 45 quiet minutes, which Poisson at the mean rate called no data, all 45.
    spans = _spans(lambda s, m: 30 if m % 10 == 0 else 0, seed=seed)
    t = tk.timeline(spans)
    assert (t.drop_duplicates("time")["requests"] == 0).sum() >= 40
    assert _no_data(spans) == 0
    assert t.attrs["no_data"] == ""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_gap_in_steady_traffic_is_still_no_data_and_a_long_one_in_bursty_traffic_too(seed):
    assert _no_data(_spans(lambda s, m: 0 if 30 <= m < 40 else 20, seed=seed)) == 10
    # bursts every 3 minutes over 2 hours, and 30 minutes without any: ten bursts missing is no chance (a guard:
    # the quiet minutes on either side of the run, from the last burst before it, belong to it)
    bursty = _spans(lambda s, m: 0 if 60 <= m < 90 else (30 if m % 3 == 0 else 0), minutes=120, seed=seed)
    t = tk.timeline(bursty).drop_duplicates("time")
    gap = t.loc[t["no_data"], "time"]
    assert len(gap) >= 29
    assert gap.min() >= pd.Timestamp("2026-03-02T14:58Z") and gap.max() < pd.Timestamp("2026-03-02T15:30Z")
    assert np.isnan(t.loc[t["no_data"], "requests"]).all()


# ---- partial first and last buckets ----------------------------------------------------------------------------

def test_a_partial_first_and_last_bucket_say_how_much_of_them_the_data_covers_and_the_figure_marks_them():
    # 10 requests a second per service from 14:03:30 to 14:47:30 (cut), 10-minute buckets: the first bucket
    # 14:00 holds 6.5 minutes of data and the last, 14:40, 7.5 minutes; their counts were drawn as drops
    spans = _spans(lambda s, m: 600, minutes=50, seed=4)
    first = spans.groupby("trace_id")["start"].transform("min")
    spans = spans[(first >= pd.Timestamp("2026-03-02T14:03:30Z")) & (first < pd.Timestamp("2026-03-02T14:47:30Z"))]
    t = tk.timeline(spans, freq="10min")
    cov = t["covered"].to_numpy()
    assert cov[0] == pytest.approx(0.65, abs=0.002) and cov[-1] == pytest.approx(0.75, abs=0.002)
    assert (cov[1:-1] == 1.0).all()
    # per covered minute the partial buckets are as busy as the others (the drop was the cut, not traffic)
    per_min = t["requests"] / (10 * t["covered"])
    assert per_min.iloc[0] == pytest.approx(per_min.iloc[1:-1].mean(), rel=0.05)
    assert per_min.iloc[-1] == pytest.approx(per_min.iloc[1:-1].mean(), rel=0.05)
    fig = tk.plot_timeline(t)
    partial = [tr for tr in fig.data if (tr.meta or {}).get("role") == "partial"]
    assert len(partial) == 1
    assert [pd.Timestamp(x).strftime("%H:%M") for x in partial[0].x] == ["14:00", "14:40"]
    assert "covers" in partial[0].hovertemplate


def test_a_whole_window_has_no_partial_bucket():
    spans = _spans(lambda s, m: 600, minutes=30, seed=5)
    t = tk.timeline(spans, freq="10min")
    assert t["covered"].min() > 0.99
    assert not [tr for tr in tk.plot_timeline(t).data if (tr.meta or {}).get("role") == "partial"]


# ---- a span with an unset start (1970) beside today's spans ----------------------------------------------------

def test_a_timeline_over_a_span_with_an_unset_start_says_the_range_and_the_cause(tmp_path):
    import json

    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]},
                              "scopeSpans": [{"spans": [
        {"traceId": "0" * 31 + "1", "spanId": "0" * 15 + "1", "name": "x", "kind": 2,
         "startTimeUnixNano": "1772460000000000000", "endTimeUnixNano": "1772460000100000000"},
        {"traceId": "0" * 31 + "2", "spanId": "0" * 15 + "2", "name": "x", "kind": 2,
         "endTimeUnixNano": "1772460000100000000"}]}]}]}
    p = tmp_path / "unset-start.json"
    p.write_text(json.dumps(doc))
    spans = tk.read_otlp(p)
    # since s39 an unset start is unknown, not 1970 (core.start_unknown): the request is in no time bucket, so the
    # timeline leaves it out (it refused the 1970-2026 range and told the user to leave such spans out)
    assert tk.timeline(spans)["requests"].sum() == 1
    assert "bad_span_times" in set(tk.health_report(spans)["check"])
    assert len(tk.timeline(spans[spans["start"] > "2000-01-01"])) == 1


# ---- the heatmap selection's failed count says its population ---------------------------------------------------

def test_a_selection_says_failed_over_the_requests_with_a_known_outcome_and_why_the_others_are_unknown():
    from dataclasses import replace

    from tracekit.widgets import HeatmapState

    from .test_s36_inprogress import _requests

    # 2 failed, 5 ok, 3 still in progress (no end, no status): "2 failed" read as 2 of the 10 selected
    mixed = _requests(["error"] * 2 + ["ok"] * 5 + ["unset"] * 3, [10] * 7 + [None] * 3,
                      start_ms=[1000 * i for i in range(10)])
    s = HeatmapState.from_spans(mixed)
    every = replace(s, selected=tuple(range(10))).summary_html()
    assert "2 failed of the 7 requests with a known outcome (3 unknown: still in progress)" in every
    pending = replace(s, selected=(7, 8, 9)).summary_html()
    assert "failed unknown (still in progress)" in pending and "no span" not in pending
    assert "latency unknown (still in progress)" in pending and "nan" not in pending
    done = replace(s, selected=(0, 1, 2)).summary_html()
    assert "2 failed</p>" in done
    assert "<b>1 request selected</b> in 1 trace," in replace(s, selected=(0,)).summary_html()


# ---- a histogram's evidence said as what it counted ----------------------------------------------------------------

def test_a_histogram_whose_tail_rose_is_said_by_its_share_above_the_edge_against_the_baseline_s_not_by_equal_means():
    from tracekit.analysis.metric_evidence import metric_evidence
    from tracekit.core.words import percent

    from .conftest import lab_window

    # fault lab exception seed 1: shipping-service's request duration has 2.8 % of its 109 observations above the
    # baseline's p95 bucket edge (0.05 s) against 0.3 % of the baseline's; the sentence said "mean 0.0139 → 0.0139 s"
    w = lab_window("exception", seed=1)
    pm = tk.postmortem(w.incident, w.baseline, level="service", metrics=w.metrics)
    text = next(s for s in pm.sentences("sure") if s.startswith("Metrics:"))
    rc = tk.rank_causes(w.incident, w.baseline, level="service", window=None, metrics=w.metrics, n_boot=20)
    cov = rc.attrs["metric_coverage"]
    raw = metric_evidence(w.metrics, cov["incident"], cov["baseline"]).set_index(["service", "name"])
    said = 0
    for item in cov["top_moved"]:
        svc, name = item.split(" ")[:2]
        r = raw.loc[(svc, name)]
        if r["basis"] != "observations":
            continue
        said += 1
        base = percent(float(r["baseline_outside_share"]), 1, unit=" %")
        assert f"against {base} of the baseline's {float(r['baseline_count']):,.0f}" in item, item
        assert 0 <= r["baseline_outside_share"] < r["outside_share"]
        assert ("→" in item) == (r["direction"] == "down"), item
        assert item in text
    assert said >= 1
    assert "(baseline mean → incident mean)" not in text  # every item moved said by its observations
