"""One rate everywhere for requests whose outcome is unknown, and the postmortem's small words (review s36, area
"inprogress").

- a request still in progress with no outcome yet (core.outcome_unknown: an X-Ray in-progress segment, a span with
  no end, no status) is neither failed nor ok: every error rate over requests — the timeline's per bucket (and what is
  built on it: detect_changes, the postmortem's window rates), weighted_summary, sampling_bias, simulate_sampling,
  compare — leaves it out as core.failed_share does, and says how many where it has words; a bucket or a set with no
  known outcome has an unknown rate (NaN), never 0 %;
- small words: a change of an error rate under 0.05 points (core.words.points), a one-instant window
  (core.words.window_text, changes.period_text), a wait that fell (causes._wait_words).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import failed_share, outcome_unknown, trace_outcomes, unknown_outcomes
from tracekit.core.words import points, window_text

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00Z").value


def _requests(status: list[str], end_ms: list, start_ms: list | None = None, first: int = 1) -> pd.DataFrame:
    """One root span per trace (a request each) of service web, route GET /: trace ``first + i`` of status[i],
    starting at start_ms[i] (after 14:00 UTC) and ending end_ms[i] ms later (None: still in progress)."""
    n = len(status)
    start_ms = start_ms or [0] * n
    return tk.spans_from_columns({
        "trace_id": [f"{first + i:032x}" for i in range(n)], "span_id": [f"{first + i:016x}" for i in range(n)],
        "parent_id": [None] * n, "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "start": [T0 + s * MS for s in start_ms],
        "end": [None if e is None else T0 + (s + e) * MS for s, e in zip(start_ms, end_ms, strict=True)],
        "status": status})


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    # 10 requests in one minute: 2 failed, 5 ok, 3 still in progress -> the failed share is 2 of 7, not 2 of 10
    return _requests(["error"] * 2 + ["ok"] * 5 + ["unset"] * 3, [10] * 7 + [None] * 3,
                     start_ms=[1000 * i for i in range(10)])


def test_every_module_gives_the_failed_share_of_the_known_outcomes(mixed):
    truth = 2 / 7
    oc = trace_outcomes(mixed)
    assert failed_share(oc) == (pytest.approx(truth), 10) and unknown_outcomes(oc) == 3
    rates: dict[str, float] = {}
    for by in (None, "route", "service", "name"):
        tl = tk.timeline(mixed, freq="1min", by=by)
        assert len(tl) == 1, by
        row = tl.iloc[0]
        assert (row["requests"], row["failed"], row["unknown"]) == (10, 2, 3), by
        assert row["error_rate_lo"] <= row["error_rate"] <= row["error_rate_hi"], by
        rates[f"timeline by {by}"] = float(row["error_rate"])
    ws = tk.weighted_summary(mixed, 1.0, n_boot=20).iloc[0]
    rates["weighted_summary"], rates["weighted_summary naive"] = float(ws["error_rate"]), float(ws["naive_error_rate"])
    assert ws["error_rate_lo"] <= ws["error_rate"] <= ws["error_rate_hi"]
    assert "3 sampled requests are still in progress" in ws["warning"]
    w2 = tk.weighted_summary(mixed, pd.Series(2.0, index=mixed["trace_id"]), n_boot=20).iloc[0]
    rates["weighted_summary w=2"] = float(w2["error_rate"])
    sim = tk.simulate_sampling(mixed, probability=1.0).strata.iloc[0]
    for c in ("population_error_rate", "kept_error_rate", "weighted_error_rate"):
        rates[f"simulate_sampling {c}"] = float(sim[c])
    bias = tk.sampling_bias(mixed, mixed, by="service")
    err = bias.tests.set_index("dimension").loc["errors"]
    assert err["n_sample"] == 7
    rates["sampling_bias"] = float(err["statistic"])
    st = bias.strata
    rates["sampling_bias stratum"] = float(st["sample_error_rate"].iloc[0])
    rates["sampling_bias population stratum"] = float(st["population_error_rate"].iloc[0])
    cmp = tk.compare(mixed, mixed, by="service", n_boot=20).table.set_index("service").loc["web"]
    rates["compare a"], rates["compare b"] = float(cmp["error_rate_a"]), float(cmp["error_rate_b"])
    # (the Dask health path's ratio on this frame: test_s35_outcomes2; Dask has no timeline or weighted summary)
    rates["health"] = float(tk.health_report(mixed).set_index("check").loc["failed_request_ratio", "value"])
    assert {k: round(v, 9) for k, v in rates.items()} == {k: round(truth, 9) for k in rates}


def test_a_span_in_progress_without_an_outcome_is_the_kernel_s_unknown(mixed):
    # the span-level test behind trace_outcomes' <NA>: in progress (flag or no end) and nothing recorded yet
    spans = mixed.assign(in_progress=[False] * 6 + [True] + [False] * 3)
    spans.loc[6, "status"] = "unset"  # finished, but flagged in progress and nothing recorded: unknown
    assert outcome_unknown(spans).tolist() == [False] * 6 + [True] * 4
    assert trace_outcomes(spans)["failed"].isna().tolist() == outcome_unknown(spans).tolist()
    rows = tk.select_requests(spans, "service")
    assert rows["failed"].isna().sum() == 4 and rows["failed"].sum() == 2


def test_a_bucket_or_set_with_no_known_outcome_has_no_rate_not_zero():
    # minute 0: 3 requests, 1 failed; minute 1: 4 requests all still in progress
    spans = _requests(["ok", "ok", "error"] + ["unset"] * 4, [10] * 3 + [None] * 4,
                      start_ms=[0, 1000, 2000, 60_000, 61_000, 62_000, 63_000])
    tl = tk.timeline(spans, freq="1min")
    assert tl["requests"].tolist() == [3, 4] and tl["unknown"].tolist() == [0, 4]
    assert tl["error_rate"].iloc[0] == pytest.approx(1 / 3) and tl["failed"].iloc[0] == 1
    assert np.isnan(tl["error_rate"].iloc[1]) and np.isnan(tl["failed"].iloc[1])
    assert np.isnan(tl["error_rate_lo"].iloc[1]) and np.isnan(tl["error_rate_hi"].iloc[1])
    late = spans.iloc[3:].reset_index(drop=True)  # only the in-progress requests, the earlier ones recording status
    both = pd.concat([late, _requests(["ok"], [10], [0], first=50).assign(kind="consumer", service="worker")], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no latency at all: no "All-NaN axis" RuntimeWarning either
        ws = tk.weighted_summary(both, 1.0, n_boot=10).iloc[0]
    assert np.isnan(ws["error_rate"]) and np.isnan(ws["naive_error_rate"]) and int(ws["n_failed"]) == 0
    sim = tk.simulate_sampling(both, probability=1.0).strata.iloc[0]
    assert np.isnan(sim["population_error_rate"]) and np.isnan(sim["weighted_error_rate"])
    cmp = tk.compare(both, spans, by="service", n_boot=10).table.set_index("service").loc["web"]
    assert np.isnan(cmp["error_rate_a"]) and cmp["error_rate_b"] == pytest.approx(1 / 3)


def _step_frame(pending_inside: bool) -> pd.DataFrame:
    """30 minutes of 20 finished requests a minute: none failed, but 10 a minute in minutes 10–19; plus 5 requests
    a minute still in progress (outside the window, or inside it when ``pending_inside``)."""
    status, end, start = [], [], []
    for m in range(30):
        inside = 10 <= m < 20
        status += ["error"] * (10 if inside else 0) + ["ok"] * (10 if inside else 20)
        end += [10] * 20
        start += [m * 60_000 + 1000 * i for i in range(20)]
        if inside == pending_inside:
            status += ["unset"] * 5
            end += [None] * 5
            start += [m * 60_000 + 30_000 + 1000 * i for i in range(5)]
    return _requests(status, end, start)


@pytest.mark.parametrize("pending_inside", [False, True])
def test_detect_changes_and_the_postmortem_give_the_rates_of_the_known_outcomes(pending_inside):
    spans = _step_frame(pending_inside)
    ch = tk.detect_changes(spans, metric="error_rate", freq="1min")
    assert len(ch) == 1
    c = ch.iloc[0]
    assert c["onset"] == pd.Timestamp(T0 + 10 * 60_000 * MS, tz="UTC")
    assert c["recovery"] == pd.Timestamp(T0 + 20 * 60_000 * MS, tz="UTC")
    # 10 failed of the 20 finished requests a minute in the window, none outside it: 0.5 and 0, whoever is pending
    assert (c["before"], c["during"]) == (0.0, 0.5)
    tl = tk.timeline(spans, freq="1min")
    assert set(tl["error_rate"].round(9)) == {0.0, 0.5}
    assert tl["unknown"].sum() == (50 if pending_inside else 100)
    what = next(f for f in tk.postmortem(spans).findings if f.topic == "what")
    ev = what.evidence
    assert (ev["error_rate_before"], ev["error_rate_during"]) == (0.0, 0.5)
    # "before" is the baseline the ranking uses, the 10 minutes before the window: 50 of the 100 pending outside it
    # (s38; the 50 after the window were counted when "before" was every request outside it)
    # (session 48: 45, not 50: the baseline leaves out its minute before the onset, which may hold the change's first
    # requests)
    assert (ev["unknown_during"], ev["unknown_before"]) == ((50, 0) if pending_inside else (0, 45))
    assert "error rate 0.0 % → 50.0 %" in what.text
    said = "50 requests in the window" if pending_inside else "45 requests in the baseline"
    assert f"{said} still in progress (outcome unknown, neither failed nor ok) are left out of the error rate" \
        in what.text


def test_the_overall_what_says_the_requests_left_out_of_the_incident_and_the_baseline(mixed):
    base = _requests(["ok", "error", "unset"], [10, 10, None], [0, 1000, 2000], first=100)
    what = next(f for f in tk.postmortem(mixed, base).findings if f.topic == "what")
    ev = what.evidence
    assert ev["error_rate"] == pytest.approx(2 / 7) and ev["baseline_error_rate"] == pytest.approx(1 / 2)
    assert (ev["unknown_outcomes"], ev["baseline_unknown_outcomes"]) == (3, 1)
    # the notes after the numbers in one parenthesis each side, joined by "; " (session 48: ") (" before)
    assert "error rate 28.6 % (3 requests still in progress (outcome unknown, neither failed nor ok) are left out of " \
        "the error rate; p50 and p95 leave out 3 requests" in what.text, what.text
    assert "its error rate 50.0 % (1 request of the baseline still in progress (outcome unknown, neither failed nor ok) " \
        "is left out of the error rate; p50 and p95 leave out 1 request of the baseline" in what.text, what.text
    assert ") (" not in what.text
    # corrected for sampling (every trace kept with probability 1/2): the same rate, the same words
    w = pd.Series(2.0, index=mixed["trace_id"].astype(str))
    what = next(f for f in tk.postmortem(mixed, weights=w).findings if f.topic == "what")
    assert what.evidence["weighted"] and what.evidence["error_rate"] == pytest.approx(2 / 7)
    assert "3 requests still in progress (outcome unknown, neither failed nor ok) are left out" in what.text, what.text


def test_a_change_of_points_never_rounds_to_nothing():
    assert points(0.0004) == "+<0.1 points" and points(-0.0004) == "-<0.1 points"
    assert points(0.0) == "0.0 points" and points(0.00051) == "+0.1 points" and points(-0.25) == "-25.0 points"
    assert points(float("nan")) == "n/a"
    from tracekit.investigate.postmortem import _delta

    assert _delta("error_rate", 0.0003) == "+<0.1 points" and _delta("error_rate", -0.0003) == "-<0.1 points"


def test_one_instant_is_said_once():
    t = "2026-03-02T14:00Z"
    assert window_text(t, t) == "14:00:00 UTC"
    assert tk.analysis.changes.period_text(t, t) == "2026-03-02 14:00:00 UTC"
    assert "–" not in tk.analysis.changes.period_text(t, t)
    assert window_text("2026-03-02T14:00:00.1Z", "2026-03-02T14:00:00.9Z") == "14:00:00.100–14:00:00.900 UTC"
    assert window_text("2026-03-02T14:00Z", "2026-03-02T14:09Z") == "14:00:00–14:09:00 UTC"


def test_a_one_request_baseline_has_one_start_in_the_postmortem(mixed):
    base = _requests(["ok"], [10], [0], first=100)
    what = next(f for f in tk.postmortem(mixed, base).findings if f.topic == "what")
    assert "(started 14:00:00 UTC)" in what.text or "(started 2026-03-02 14:00:00 UTC)" in what.text
    assert not re.search(r"(\d\d:\d\d:\d\d)–\1", what.text), what.text


def test_the_wait_words_follow_the_sign():
    from tracekit.investigate.causes import _wait_words

    words = _wait_words(1.5, -0.03)
    assert "its callers wait 1.5 ms longer outside it" in words and "it waits 0.03 ms less outside its callees" in words
    assert not re.search(r"waits? [+-]", words)
    assert _wait_words(0.001, -0.002) == ""


def test_the_timeline_figure_labels_an_error_rate_change_in_points(mixed):
    pytest.importorskip("plotly")
    from tracekit.plotting import plot_timeline

    change = pd.DataFrame({"metric": ["error_rate", "error_rate"], "onset": [pd.Timestamp(T0, tz="UTC")] * 2,
                           "recovery": [pd.Timestamp(T0 + 60_000 * MS, tz="UTC")] * 2, "delta": [0.0004, 0.25],
                           "before": [0.1, 0.1], "during": [0.1004, 0.35]})
    fig = plot_timeline(mixed, "1min", changes=change)
    text = " ".join(str(a.text) for a in fig.layout.annotations)
    # a change of a share is points (0 % → 25 % is +25.0 points, not "+25.0%"), never "+0.0"
    assert "error_rate +25.0 points" in text, text
    assert "error_rate +&lt;0.1 points" in text or "error_rate +<0.1 points" in text, text
    assert "+0.0%" not in text and "+25.0%" not in text


def test_the_real_in_progress_segment_has_no_rate_in_its_bucket(real_traces):
    # the real X-Ray in-progress segment (2020-07-22) beside two real complete captures (2020-08-04 and -05): its
    # day's bucket has 1 request of unknown outcome and no error rate (it read 0.0: an unanswered request as ok)
    folder = real_traces / "otel-contrib-awsxray-testdata"
    ip = tk.read_xray(folder / "minInProgress.txt")
    done = pd.concat([tk.read_xray(folder / f) for f in ("ddbSample.txt", "serverSample.txt")], ignore_index=True)
    spans = pd.concat([done, ip], ignore_index=True)
    share, n = failed_share(trace_outcomes(spans))
    assert n == 3 and share == failed_share(trace_outcomes(done))[0]
    tl = tk.timeline(spans, freq="1D")
    day = tl.set_index("time").loc[pd.Timestamp(ip["start"].iloc[0]).floor("1D")]
    assert (day["requests"], day["unknown"]) == (1, 1) and np.isnan(day["error_rate"]) and np.isnan(day["failed"])
    assert tl["failed"].sum() / (tl["requests"].sum() - tl["unknown"].sum()) == pytest.approx(share)
    ws = tk.weighted_summary(spans, 1.0, n_boot=10).iloc[0]
    assert ws["error_rate"] == pytest.approx(share) and ws["naive_error_rate"] == pytest.approx(share)


def test_the_timeline_figure_says_why_its_error_rate_is_unknown():
    pytest.importorskip("plotly")
    from tracekit.plotting import plot_timeline

    # every request still in progress, a status recorded elsewhere (an async consumer that failed): the error rate
    # is unknown because nothing answered yet, not because no span records a status
    pending = _requests(["unset"] * 3, [None] * 3, [0, 1000, 2000])
    spans = pd.concat([pending, _requests(["error"], [10], [0], first=9).assign(kind="consumer", service="worker")],
                      ignore_index=True)
    titles = [a.text for a in plot_timeline(spans, "1min").layout.annotations]
    assert "error rate: unknown (every request still in progress)" in titles, titles
    no_status = pending.assign(status="unset")
    assert "error rate: unknown (no span records a status)" in [a.text for a in plot_timeline(no_status).layout.annotations]


def test_the_report_says_unknown_for_a_key_whose_calls_are_all_in_progress(mixed):
    from tracekit.reporting import _compare_view

    # the incident's web calls: 2 failed, 5 ok, 3 in progress (2 of 7); the baseline's: 2 calls, both in progress,
    # beside a finished db request (the baseline records a status: web's rate alone is unknown, not the whole set's)
    base = pd.concat([_requests(["unset"] * 2, [None] * 2, [0, 1000], first=100),
                      _requests(["ok"], [10], [0], first=200).assign(service="db")], ignore_index=True)
    t = tk.compare(mixed, base, by="service", n_boot=10).table
    row = t.set_index("service").loc["web"]
    assert np.isnan(row["error_rate_b"]) and row["error_rate_a"] == pytest.approx(2 / 7)
    view = _compare_view(t, ["service"]).set_index("service")
    assert view.loc["web", "error rate"] == "unknown → 28.6 %"


def test_a_request_in_progress_is_in_no_ok_stratum(mixed):
    # by status_class: the 3 requests still in progress (no HTTP code, no status) are 'unknown', not 'ok'
    ws = tk.weighted_summary(mixed, 1.0, by="status_class", n_boot=10).set_index("status_class")
    assert ws["n_traces"].to_dict() == {"error": 2, "ok": 5, "unknown": 3}
    assert ws.loc["ok", "error_rate"] == 0 and ws.loc["error", "error_rate"] == 1
    assert np.isnan(ws.loc["unknown", "error_rate"])


@pytest.mark.parametrize("level", ["trace", "span"])
def test_bubble_up_error_rates_leave_out_the_unknown_outcomes(level):
    # service a: 2 failed, 2 ok, 1 in progress; service b: 3 ok, 2 in progress -> a fails 2 of 4, b 0 of 3
    spans = _requests(["error", "error", "ok", "ok", "unset", "ok", "ok", "ok", "unset", "unset"],
                      [10] * 4 + [None] + [10] * 3 + [None] * 2, [1000 * i for i in range(10)])
    spans["service"] = pd.array(["a"] * 5 + ["b"] * 5, dtype=spans["service"].dtype)
    sel = spans["trace_id"].iloc[:5] if level == "trace" else spans["span_id"].iloc[:5]
    rest = spans["trace_id"].iloc[5:] if level == "trace" else spans["span_id"].iloc[5:]
    out = tk.bubble_up(spans, sel, rest, level=level, n=50)
    row = out[(out["dimension"] == "service") & (out["value"].astype(str) == "a")].iloc[0]
    assert (row["error_rate_with"], row["error_rate_without"]) == (0.5, 0.0)
