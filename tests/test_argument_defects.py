"""Argument defects a query review found (session s31, D4/D6/D8/D9/D12): each test failed on the code before.

Bad arguments raise ArgumentError naming the argument and the value (core.args: one rule for a count, a number,
n_boot / ci / alpha), never a bare TypeError / OverflowError / DateParseError, and are never silently coerced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import boot_args, count_arg, number_arg

MS = 1_000_000


@pytest.fixture(scope="module")
def sim():
    return tk.simulate.simulate("baseline", n_traces=40, seed=1).spans


def _two_spans():
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
        "service": ["web", "db"], "name": ["GET /", "SELECT"], "start": [0, 10 * MS], "end": [300 * MS, 260 * MS]})


# --- the shared rule ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [2.5, True, False, float("nan"), float("inf"), -1, None, "5", [3]])
def test_a_count_is_a_whole_number_and_nothing_else(bad):
    with pytest.raises(tk.ArgumentError, match=r"f: n must be a whole number >= 0, got "):
        count_arg(bad, "n", "f")


def test_a_count_accepts_whole_numbers_of_any_numeric_type():
    assert [count_arg(v, "n", "f") for v in (3, np.int32(3), 3.0, np.float64(3.0))] == [3, 3, 3, 3]
    assert count_arg(None, "n", "f", allow_none=True) is None


@pytest.mark.parametrize("bad", [float("nan"), True, "1", None, -0.5])
def test_a_number_refuses_nan_bools_strings_and_out_of_range(bad):
    with pytest.raises(tk.ArgumentError, match="tolerance_ms"):
        number_arg(bad, "tolerance_ms", "f", low=0)


@pytest.mark.parametrize("n_boot, ci", [(1.5, 0.9), (True, 0.9), (-1, 0.9), (10, 95), (10, float("nan")), (10, None)])
def test_boot_args_one_rule(n_boot, ci):
    with pytest.raises(tk.ArgumentError):
        boot_args(n_boot, ci, "f")


# --- D4: what_if -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["x1e400", "x1e300", 1e13, -1e13, "x9e18"])
def test_what_if_a_change_out_of_the_time_range_is_an_argument_error(change):
    spans = _two_spans()
    before = spans.copy(deep=True)
    with pytest.raises(tk.ArgumentError, match="what_if"):
        tk.what_if(spans, {"db": change}, n_boot=0)
    pd.testing.assert_frame_equal(spans, before)


@pytest.mark.parametrize("n_boot", [1.5, True, float("nan"), None])
def test_what_if_n_boot_not_a_whole_number_is_an_argument_error(n_boot):
    with pytest.raises(tk.ArgumentError, match=r"what_if: n_boot .*got"):
        tk.what_if(_two_spans(), {"db": -1}, n_boot=n_boot)


def test_what_if_still_takes_large_changes_inside_the_range():
    r = tk.what_if(_two_spans(), {"db": "x2"}, n_boot=10.0)
    assert r.spans["duration_ms"].tolist() == [550.0, 500.0]


# --- D9: find_repeated_calls, critical_path_tree_diff, workflow_summary, saving_potential -------------------

@pytest.mark.parametrize("min_calls", [2.5, None, True, float("nan"), "3"])
def test_find_repeated_calls_min_calls_must_be_whole(sim, min_calls):
    with pytest.raises(tk.ArgumentError, match=r"find_repeated_calls: min_calls must be a whole number >= 2, got"):
        tk.find_repeated_calls(sim, min_calls=min_calls)


def test_find_repeated_calls_whole_float_is_its_integer(sim):
    pd.testing.assert_frame_equal(tk.find_repeated_calls(sim, min_calls=3.0), tk.find_repeated_calls(sim, min_calls=3))


@pytest.mark.parametrize("kw", [dict(n_boot=2.5), dict(n_boot=True), dict(ci=None), dict(ci=float("nan"))])
def test_critical_path_tree_diff_bad_bootstrap_is_an_argument_error(sim, kw):
    cp = tk.critical_path(sim)
    with pytest.raises(tk.ArgumentError, match="critical_path_tree_diff"):
        tk.critical_path_tree_diff(cp, cp, **kw)


@pytest.mark.parametrize("via", [None, 3, [None], ()])
def test_workflow_functions_bad_via_is_an_argument_error(sim, via):
    with pytest.raises(tk.ArgumentError, match="via"):
        tk.workflow_summary(sim, via=via)
    with pytest.raises(tk.ArgumentError, match="via"):
        tk.workflow_critical_path(sim, via=via)


@pytest.mark.parametrize("kw", [dict(max_wait_ms="15min"), dict(tolerance_ms=float("nan")), dict(tolerance_ms=-1)])
def test_stitch_bad_windows_are_argument_errors(sim, kw):
    with pytest.raises(tk.ArgumentError, match="stitch"):
        tk.stitch(sim, **kw)


def test_saving_potential_by_is_the_operation_in_either_spelling(sim):
    cp = tk.critical_path(sim)
    a = tk.saving_potential(cp, by=("service", "name"))
    pd.testing.assert_frame_equal(tk.saving_potential(cp, by="operation"), a)
    pd.testing.assert_frame_equal(tk.saving_potential(cp, by=["service", "name"]), a)
    with pytest.raises(tk.ArgumentError, match="critical_path_breakdown"):
        tk.saving_potential(cp, by="route")


# --- D8 / D12: select_requests -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hundred():
    return tk.simulate.simulate("baseline", n_traces=100, seed=5).spans


def test_select_requests_open_time_ends_are_unbounded(hundred):
    every = tk.select_requests(hundred)
    t0, mid = every["time"].min(), every["time"].iloc[50]
    pd.testing.assert_frame_equal(tk.select_requests(hundred, time=(t0, None)), every)
    pd.testing.assert_frame_equal(tk.select_requests(hundred, time=(None, None)), every)
    late = tk.select_requests(hundred, time=(mid, None))
    early = tk.select_requests(hundred, time=(None, mid))
    assert len(late) and len(early) and (late["time"] >= mid).all() and (early["time"] <= mid).all()
    assert len(late) + len(early) >= len(every)


def test_select_requests_open_latency_ends_are_unbounded(hundred):
    every = tk.select_requests(hundred)
    fast = tk.select_requests(hundred, latency_ms=(None, 100))
    slow = tk.select_requests(hundred, latency_ms=(100, None))
    assert (fast["latency_ms"] <= 100).all() and (slow["latency_ms"] >= 100).all()
    assert len(fast) == int((every["latency_ms"] <= 100).sum()) > 0
    assert len(slow) == int((every["latency_ms"] >= 100).sum()) > 0


@pytest.mark.parametrize("kw, words", [
    (dict(latency_ms=(0, float("nan"))), "latency_ms"), (dict(latency_ms=(float("nan"), float("inf"))), "latency_ms"),
    (dict(latency_ms=(0, "100")), "latency_ms"), (dict(latency_ms=(0,)), "pair"),
    (dict(time=("garbage", None)), "'garbage' is not a time"), (dict(time=(float("nan"), None)), "not a time"),
    (dict(time=(pd.NaT, None)), "not a time"), (dict(time="2026-03-02"), "pair"),
])
def test_select_requests_nan_or_unreadable_ends_are_argument_errors(hundred, kw, words):
    with pytest.raises(tk.ArgumentError, match=words):
        tk.select_requests(hundred, **kw)


def _null_service():
    a, b, c = "a" * 16, "b" * 16, "c" * 16
    sp = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": [a, b, c], "parent_id": [None, a, b],
                                "service": ["api", "x", "db"], "name": ["x", "y", "z"],
                                "start": [0, MS, 2 * MS], "end": [10 * MS, 5 * MS, 4 * MS]})
    # a missing service set by hand (spans_from_columns names a missing service unknown_service, as the readers do)
    sp["service"] = pd.Series(["api", None, "db"], dtype=sp["service"].dtype)
    return sp


def test_select_requests_a_missing_service_matches_no_service_key():
    sp = _null_service()
    before = sp.copy(deep=True)
    rows = tk.select_requests(sp, by="service")
    assert int(rows["service"].isna().sum()) == 1
    assert len(rows) == 3
    assert tk.select_requests(sp, by="service", key="db")["latency_ms"].tolist() == [2.0]
    assert tk.select_requests(sp, by="service", key="api")["latency_ms"].tolist() == [10.0]
    pd.testing.assert_frame_equal(sp, before)


# --- D6: a consumer whose clock is behind -------------------------------------------------------------------

def _skewed(c_start_ms: float, c_end_ms: float) -> pd.DataFrame:
    """request T1 0..10 ms, its producer 2..3 ms; consumer T2 (linked to the producer) as given, clock behind.

    request  |----------|      0..10
    publish    |-|             2..3
    consumer ...given...       e.g. -5..-1 (ends before its producer ended) or -5..12
    """
    t1, t2, r1, p1, c2 = "1" * 32, "2" * 32, "a" * 16, "b" * 16, "c" * 16
    off = 100 * MS
    return tk.spans_from_columns({
        "trace_id": [t1, t1, t2], "span_id": [r1, p1, c2], "parent_id": [None, r1, None],
        "service": ["api", "api", "worker"], "name": ["POST /order", "orders publish", "orders process"],
        "kind": ["server", "producer", "consumer"],
        "start": [off, off + 2 * MS, off + int(c_start_ms * MS)], "end": [off + 10 * MS, off + 3 * MS, off + int(c_end_ms * MS)],
        "links": [[], [], [{"trace_id": t1, "span_id": p1, "attributes": {}}]]})


@pytest.mark.parametrize("c_start, c_end, e2e", [(-5, -1, 10.0), (-5, 12, 12.0), (1, 12, 12.0), (5, 12, 12.0), (5, 8, 10.0)])
def test_workflow_with_a_consumer_clock_behind_keeps_its_first_request_and_tiles(c_start, c_end, e2e):
    spans = _skewed(c_start, c_end)
    before = spans.copy(deep=True)
    ws = tk.workflow_summary(spans)
    cp = tk.workflow_critical_path(spans)
    assert ws["workflow_id"].tolist() == ["1" * 32]  # the request that sent the message, not the consumer
    assert ws["request_ms"].tolist() == [10.0]
    assert ws["end_to_end_ms"].tolist() == [e2e]
    assert cp["duration_ms"].sum() == pytest.approx(e2e)
    assert (cp["duration_ms"] > 0).all()
    assert (cp["start"].iloc[1:].to_numpy() == cp["end"].iloc[:-1].to_numpy()).all()  # contiguous: a tiling
    assert cp["start"].iloc[0] == ws["start"].iloc[0] and cp["end"].iloc[-1] == ws["end"].iloc[0]
    pd.testing.assert_frame_equal(spans, before)


# --- one rule: every public count, n_boot, ci and alpha --------------------------------------------------

_COUNTS = {  # public function and argument -> call; each gets a bool, a fraction, NaN, a negative, None, a string
    "what_if.n_boot": lambda s, v: tk.what_if(s, {"payments": -1}, n_boot=v),
    "critical_path_tree_diff.n_boot": lambda s, v: tk.critical_path_tree_diff(tk.critical_path(s), tk.critical_path(s), n_boot=v),
    "find_repeated_calls.min_calls": lambda s, v: tk.find_repeated_calls(s, min_calls=v),
    "compare.n_boot": lambda s, v: tk.compare(s, s, n_boot=v),
    "version_regressions.n_boot": lambda s, v: tk.version_regressions(s, n_boot=v),
    "cold_starts.n_boot": lambda s, v: tk.cold_starts(s, n_boot=v),
    "rank_causes.n_boot": lambda s, v: tk.rank_causes(s, s, n_boot=v),
    "rank_causes.min_spans": lambda s, v: tk.rank_causes(s, s, min_spans=v, n_boot=10),
    "postmortem.n_boot": lambda s, v: tk.postmortem(s, n_boot=v),
    "postmortem.min_baseline": lambda s, v: tk.postmortem(s, min_baseline=v),
    "weighted_summary.n_boot": lambda s, v: tk.weighted_summary(s, 1.0, n_boot=v),
    "weighted_summary.min_traces": lambda s, v: tk.weighted_summary(s, 1.0, min_traces=v, n_boot=10),
    "bubble_up.n": lambda s, v: tk.bubble_up(s, lambda t: t.request_ms > 100, n=v),
    "detect_changes.min_buckets": lambda s, v: tk.detect_changes(s, min_buckets=v),
    "detect_clock_skew.min_pairs": lambda s, v: tk.detect_clock_skew(s, min_pairs=v),
    "detect_clock_skew.min_traces": lambda s, v: tk.detect_clock_skew(s, min_traces=v),
    "peer_outliers.min_spans": lambda s, v: tk.peer_outliers(s, min_spans=v),
    "chance_score.n_traces": lambda s, v: tk.chance_score(s, v),
    "detect_metric_changes.min_buckets": lambda s, v: tk.detect_metric_changes(_metrics(s), min_buckets=v),
}
_SHARES = {
    "what_if.ci": lambda s, v: tk.what_if(s, {"payments": -1}, ci=v),
    "compare.ci": lambda s, v: tk.compare(s, s, n_boot=10, ci=v),
    "rank_causes.alpha": lambda s, v: tk.rank_causes(s, s, alpha=v, n_boot=10),
    "postmortem.alpha": lambda s, v: tk.postmortem(s, alpha=v),
    "detect_changes.alpha": lambda s, v: tk.detect_changes(s, alpha=v),
    "detect_changes.ci": lambda s, v: tk.detect_changes(s, ci=v),
    "timeline.ci": lambda s, v: tk.timeline(s, ci=v),
    "bubble_up.ci": lambda s, v: tk.bubble_up(s, lambda t: t.request_ms > 100, ci=v),
    "detect_metric_changes.alpha": lambda s, v: tk.detect_metric_changes(_metrics(s), alpha=v),
    "sampling_bias.alpha": lambda s, v: tk.sampling_bias(s, alpha=v),
    "simulate_sampling.alpha": lambda s, v: tk.simulate_sampling(s, probability=0.5, alpha=v),
}


def _metrics(spans):
    from tracekit.simulate_signals import app_metrics

    return app_metrics(spans)


@pytest.mark.parametrize("bad", [2.5, True, float("nan"), -0.1, None, "0.5"])
@pytest.mark.parametrize("what, call", [
    ("reconnect: min_score", lambda s, v: tk.reconnect(s, min_score=v)),
    ("baseline_comparability: min_share", lambda s, v: tk.baseline_comparability(s, s, min_share=v)),
])
def test_shares_in_the_closed_unit_interval_follow_one_rule(sim, what, call, bad):
    with pytest.raises(tk.ArgumentError, match=f"{what} must be a number >= 0 and <= 1"):
        call(sim, bad)


@pytest.mark.parametrize("bad", [2.5, True, float("nan"), -1, None, "5"])
@pytest.mark.parametrize("what", sorted(_COUNTS))
def test_every_public_count_follows_one_rule(sim, what, bad):
    arg = what.split(".")[1]
    with pytest.raises(tk.ArgumentError, match=rf"{what.split('.')[0]}: {arg} must be a whole number"):
        _COUNTS[what](sim, bad)


@pytest.mark.parametrize("bad", [95, True, float("nan"), -0.1, None, "0.9", 0, 1])
@pytest.mark.parametrize("what", sorted(_SHARES))
def test_every_public_ci_and_alpha_follows_one_rule(sim, what, bad):
    arg = what.split(".")[1]
    with pytest.raises(tk.ArgumentError, match=rf"{what.split('.')[0]}: {arg} must be a number > 0 and < 1"):
        _SHARES[what](sim, bad)
