"""Session 49, report5: the postmortem's story read as an SRE writing a postmortem, on shapes of the fault lab
nobody checked (every root span failing from the onset, network delays, weak evidence)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest


def _all_failing_from_onset(seed: int) -> pd.DataFrame:
    """The fault lab's null window (nothing injected), every request of the incident failing (root span 500) from the
    onset on: one change, at one instant, on every route — by construction."""
    from tracekit.simulate_faults import fault_window

    w = fault_window("null", seed)
    inc = w.incident.copy()
    root = inc["parent_id"].isna().to_numpy(dtype=bool)
    inc.loc[root, "status"] = "error"
    inc.loc[root, "fault"] = True
    inc.loc[root, "http_status"] = 500
    return pd.concat([w.baseline, inc], ignore_index=True)


@pytest.mark.parametrize("seed", [0, 4])
def test_a_route_asked_late_is_no_separate_change(seed):
    """Every route fails from 14:05:00 on, but a route whose first request after it came at 14:05:20 shows its
    change from that bucket: the story said "A separate change: /api/v1/ledger/list error rate 0.0 % → 100.0 % from
    14:05:20 UTC" (4 of seeds 0-4), a second incident that is the same one. A change is separate only where its route
    had requests between the two onsets (they could have shown it earlier); else it is said with the others."""
    import tracekit as tk
    from tracekit.analysis.timeline import request_rows

    spans = _all_failing_from_onset(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = tk.postmortem(spans, n_boot=50)
    assert pm.window is not None and pm.window[0] == pd.Timestamp("2026-03-02 14:05:00", tz="UTC"), pm.window
    when = pm.sentences("when")
    rows = request_rows(spans, "route")
    onset = pm.window[0]
    late = pm.changes[pm.changes["onset"] > onset]
    assert len(late), pm.changes  # the shape this test is about: a route that shows its change after the onset
    for r in late.itertuples():
        between = ((rows["route"].astype(object) == r.route) & (rows["time"] >= onset) & (rows["time"] < r.onset)).sum()
        assert between == 0  # by construction: nothing of that route came between
        assert not any(s.startswith(f"A separate change: {r.route} ") for s in when), when
        assert r.route in when[0], when  # said with the change it is part of
    assert not any(s.startswith("A separate change") for s in when), when  # one change, by construction


def test_the_head_route_is_not_listed_as_changing_with_itself():
    """The detected route's error rate changed with its latency: the story said "detected on /api/v1/travel/check
    p95 request latency …; /api/v1/ledger/get, /api/v1/travel/check, … changed at the same time", naming the route as
    changing at the same time as itself. Its other metric is said as its own."""
    import tracekit as tk
    from tracekit.simulate_faults import fault_window

    w = fault_window("cpu_contention", 4, factor=30)
    inc = w.incident.copy()
    root = inc["parent_id"].isna().to_numpy(dtype=bool)
    inc.loc[root, "status"] = "error"
    inc.loc[root, "fault"] = True
    inc.loc[root, "http_status"] = 500
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = tk.postmortem(pd.concat([w.baseline, inc], ignore_index=True), n_boot=50)
    first = pm.sentences("when")[0]
    head = first.split("detected on ", 1)[1].split(" ", 1)[0]
    both = pm.changes[pm.changes["route"] == head]
    assert set(both["metric"]) == {"p95_ms", "error_rate"}, pm.changes  # as built: both of its metrics changed
    listed = first.split(";", 1)[1] if ";" in first else ""
    assert head not in listed, first
    assert "its error rate" in first, first


def test_a_clock_named_under_where_is_not_said_to_agree_under_how_sure():
    """The fault lab's network_delay seed 4 with its baseline: "where" said "rate-service host …'s clock did not
    keep one offset … not corrected", and "how sure" closed with "Trace health: no warnings — traces are whole,
    parents resolve, clocks agree." Two sections contradicting each other: a clock the story names is no clock that
    agrees. (That clock was no clock: a step read from 2 late pairs, gone since session 51 — tests/test_s51_skew.py;
    the shape is built here with a clock that truly runs ahead: one pod's spans stamped 25 ms late on both sides.)"""
    import tracekit as tk
    from tracekit.simulate_faults import fault_window

    w = fault_window("network_delay", 4)
    host = "ledger-service-f64b23d07a-x2xcr"

    def ahead(f):
        f = f.copy()
        on = f["resource"].map(lambda r: r.get("host.name") == host).to_numpy(dtype=bool)
        assert on.sum() > 50  # the pod exists and serves enough for its clock to be estimated
        for c in ("start", "end"):
            f.loc[on, c] = f.loc[on, c] + pd.Timedelta(milliseconds=25)
        return f

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = tk.postmortem(ahead(w.incident), ahead(w.baseline), n_boot=50)
    named = [s for s in pm.sentences("where") if "'s clock " in s]
    assert named, pm.sentences("where")  # the shape this test is about: a clock said under where
    who = named[0].split("'s clock ", 1)[0]
    assert host in who, named
    health = [s for s in pm.sentences("sure") if s.startswith("Trace health")]
    assert health, pm.sentences("sure")
    assert not health[0].endswith("clocks agree."), health[0]
    if "no warnings" in health[0]:
        assert who in health[0], health[0]


@pytest.mark.parametrize("seed", [3, 5, 6])
def test_a_response_delay_is_not_said_as_a_clock_that_stepped(seed):
    """The fault lab's network_delay (the injected pod's responses delayed from the onset), baseline and incident in
    one frame: the story's first "where" sentence said "<pod>'s clock did not keep one offset: its pairs from
    14:05:07 UTC on read it 30.5 ms further behind … a clock stepped or drifting" of the injected pod itself (6 of 10
    seeds). A delay lengthens its callers' client spans (the wait outside the server span grows by the delay, the
    midpoint moves by half of it); a clock step lengthens nothing. Judged on the waits, it is said as a delay."""
    import tracekit as tk
    from tracekit.analysis.skew_story import skew_story
    from tracekit.simulate_faults import fault_window

    w = fault_window("network_delay", seed)
    spans = pd.concat([w.baseline, w.incident], ignore_index=True)
    st = skew_story(spans)
    pod = w.truth.pod
    assert any(pod in s for s in st.sentences), st.sentences  # the shape this test is about: the pod is named
    for s in st.sentences:
        if pod in s:
            assert "clock did not keep one offset" not in s and "not a clock" in s, s
    assert any(pod in d for d in st.delayed), st.delayed
    # by construction the delay is the truth's, from its onset: the waits said before and after bracket it
    sk = tk.detect_clock_skew(spans)
    row = sk[sk["host"] == pod].iloc[0]
    assert abs(row["change_at"] - w.truth.time) < pd.Timedelta("30s"), row


def test_a_clock_step_is_still_said_as_a_clock():
    """Control (passes on main too): a host whose clock steps 60 ms mid-window, its spans' durations unchanged, is
    still said as a clock that did not keep one offset, not as a delay."""
    import tracekit as tk
    from tracekit.analysis.skew_story import skew_story
    from tracekit.core import hosts as hosts_of

    spans = tk.simulate.simulate("baseline", 360, seed=3).spans.copy()

    hosts = pd.Series(hosts_of(spans), index=spans.index)
    target = hosts.dropna().value_counts().index[1]
    mid = spans["start"].quantile(0.5)
    moved = ((hosts == target) & (spans["start"] >= mid)).to_numpy(dtype=bool)
    spans.loc[moved, "start"] = spans.loc[moved, "start"] + pd.Timedelta("60ms")
    spans.loc[moved, "end"] = spans.loc[moved, "end"] + pd.Timedelta("60ms")
    st = skew_story(spans)
    said = [s for s in st.sentences if target in s]
    assert said and "clock did not keep one offset" in said[0], st.sentences
    assert not getattr(st, "delayed", ()), st  # (main has no such field: nothing said as a delay)
