"""Conclusions across generated scenarios the simulator and the acceptance do not cover (session 40, scenarios).

A lock on orders-db that grows in steps (a ramp: 50 ms more every 5 minutes from 14:20) instead of stepping once is
found from about 14:30, where its requests stand out most; the found baseline ("the normal period before the change")
must not keep the ramp's first minutes, already slower, and "when" must say it began before its onset. Two faults at once (the orders-db lock and payments failing
at 60 % a charge): the "or what payments answered it" alternative said "a wrong or unexpected answer leaves no mark on
payments's own spans" of a payments whose spans failed. The frames are built from simulated segments of known truth.
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.changes import incident_periods
from tracekit.simulate import AppConfig

T0 = pd.Timestamp("2026-03-02T14:00:00Z")


def _minute(m: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=m)


def _segment(scenario: str, n: int, seed: int, start_min: int, minutes: int, **kw) -> pd.DataFrame:
    cfg = AppConfig(start=str(_minute(start_min)), duration_s=minutes * 60)
    return tk.simulate.simulate(scenario, n, seed=seed, config=cfg, **kw).spans


def _ramp(seed: int, n: int = 600) -> pd.DataFrame:
    """20 normal minutes, then checkout's orders-db calls 50, 100, … 400 ms slower, 5 minutes each (truth: from
    14:20 on every /checkout request is slower than before)."""
    parts = [_segment("baseline", n // 3, seed, 0, 20)]
    for i in range(8):
        st = 20 + 5 * i
        parts.append(_segment("db-lock", n * 5 // 60, seed + 1000 + i, st, 5, window_start=_minute(st),
                              window_end=_minute(st + 5), extra_ms=50.0 * (i + 1)))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def ramps() -> dict[int, pd.DataFrame]:
    return {s: _ramp(s) for s in (0, 1, 3)}


@pytest.mark.parametrize("seed", [1, 3])
def test_found_baseline_leaves_out_a_ramp_rising_into_the_change(ramps, seed):
    spans = ramps[seed]
    p = incident_periods(spans)
    assert p.window is not None and p.window[0] > _minute(22)  # found after the ramp began: the case at hand
    starts = p.baseline.groupby("trace_id")["start"].min()
    # by construction every request from 14:20 on is slower than before: none of them is "normal" (one minute of
    # slack at the ramp's first, smallest step)
    assert int((starts >= _minute(21)).sum()) == 0, p.source
    assert "rising into the change" in p.source
    assert abs(p.rising_from - _minute(20)) <= pd.Timedelta("2min")  # the ramp's start, by construction
    # the baseline that is left is the 20 normal minutes (less at most a minute of them)
    assert (starts < _minute(19)).sum() >= 0.9 * spans[spans["start"] < _minute(19)]["trace_id"].nunique()


def test_a_ramp_whose_first_minutes_were_found_as_another_change_still_began_there(ramps):
    # seed 0: 14:20-14:30 is found as a change of its own in the period before (left out as "another change"), running
    # into the onset: the ramp began there all the same
    p = incident_periods(ramps[0])
    assert p.window[0] > _minute(22) and "another change (/checkout" in p.source
    assert p.rising_from is not None and abs(p.rising_from - _minute(20)) <= pd.Timedelta("2min")


def test_the_when_finding_says_a_ramp_began_before_its_onset(ramps):
    pm = tk.postmortem(ramps[1], n_boot=20)
    f = next(f for f in pm.findings if f.topic == "when")
    assert pm.window[0] > _minute(22)
    # "It started at 14:31" alone, of requests slower from 14:20 on by construction
    assert f.evidence["rising_from"] is not None and abs(f.evidence["rising_from"] - _minute(20)) <= pd.Timedelta("2min")
    assert "it began before that, gradually: /checkout requests were already slower than earlier from 14:2" in f.text


def test_a_step_change_keeps_its_whole_period_before():
    # db-lock steps at 14:27 (250 ms at once): the requests before it are as normal as the earlier ones; only the
    # bucket before the onset (which may hold the change's first requests: the onset is known to a bucket) is left out
    spans = tk.simulate.simulate("db-lock", 600, seed=11).spans
    p = incident_periods(spans)
    assert p.window is not None
    assert "rising into" not in p.source and p.rising_from is None
    before = spans.groupby("trace_id")["start"].min()
    assert p.baseline["trace_id"].nunique() == int((before < p.window[0] - pd.Timedelta(p.freq)).sum())


def test_an_alternative_callee_whose_own_spans_failed_is_not_said_to_leave_no_mark():
    # incident: every checkout orders-db call 250 ms slower (the top) and payments failing 60 % of charges (8 % in the
    # baseline): checkout's requests change course after payments' 503s (retry, no INSERT), and payments' own spans
    # record those failures — the answers were errors, not a silent wrong value
    base = tk.simulate.simulate("baseline", 300, seed=0).spans
    cfg = AppConfig(start="2026-03-02T15:00:00Z", payments_fault_rate=0.6)
    inc = tk.simulate.simulate("db-lock", 300, seed=100, config=cfg, window_start="2026-03-02T15:00Z",
                               window_end="2026-03-02T16:01Z").spans
    pm = tk.postmortem(inc, base, n_boot=20)
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    assert pm.causes["service"].iloc[0] == "checkout" and f.evidence["answered_by"] == "payments"
    pay = inc[(inc["service"] == "payments") & (inc["kind"] == "server")]
    assert (pay["status"] == "error").mean() > 0.4  # the truth: payments' own spans failed
    assert "leaves no mark on payments" not in f.text
    assert "errors originate in payments: POST /v1/charges" in f.text
