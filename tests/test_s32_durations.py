"""One rule for a duration argument (freq, window, tolerance): core.args.duration_arg / steps_arg. Before it,
freq='0min' was a ZeroDivisionError, '-1min' a 'negative dimensions' ValueError, '1ns' over an hour a MemoryError
(3.6e12 bins), plot_heatmap's 'abc' or 5 a pandas ValueError / TypeError, sampling_bias' window=None a TypeError."""
import datetime

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.args import MAX_STEPS, duration_arg, steps_arg

SPANS = tk.simulate.simulate("baseline", 200, seed=3).spans

CALLS = {
    "timeline": ("freq", lambda v: tk.timeline(SPANS, freq=v)),
    "detect_changes": ("freq", lambda v: tk.detect_changes(SPANS, freq=v)),
    "plot_heatmap": ("freq", lambda v: tk.plot_heatmap(SPANS, freq=v)),
    "sampling_bias": ("freq", lambda v: tk.sampling_bias(SPANS, SPANS, freq=v)),
    "simulate_sampling": ("freq", lambda v: tk.simulate_sampling(SPANS, probability=0.5, freq=v)),
    "metric_series": ("freq", lambda v: tk.metric_series(tk.metrics_from_columns(
        {"time": [0, 60e9], "name": ["cpu", "cpu"], "value": [1.0, 2.0], "service": ["a", "a"]}), freq=v)),
    "version_regressions": ("tolerance", lambda v: tk.version_regressions(SPANS, tolerance=v)),
}
BAD = ["abc", "1min2", "5", 0, -5, 1.5, None, True, float("nan"), [1], "1ME", pd.NaT, "-1min"]


@pytest.mark.parametrize("value", BAD, ids=repr)
@pytest.mark.parametrize("func", list(CALLS))
def test_a_bad_duration_is_an_argument_error_naming_function_and_argument(func, value):
    name, call = CALLS[func]
    with pytest.raises(tk.ArgumentError, match=rf"^{func}: {name} must be"):
        call(value)


@pytest.mark.parametrize("func", [f for f in CALLS if f != "version_regressions"])
def test_zero_is_refused_for_a_step(func):
    name, call = CALLS[func]
    with pytest.raises(tk.ArgumentError, match=rf"^{func}: {name} must be longer than zero"):
        call("0min")


def test_zero_is_a_tolerance():
    a = tk.version_regressions(SPANS, tolerance="0min")
    pd.testing.assert_frame_equal(a, tk.version_regressions(SPANS, tolerance=datetime.timedelta(0)))


@pytest.mark.parametrize("func", ["timeline", "plot_heatmap", "sampling_bias", "simulate_sampling"])
def test_a_step_cutting_the_data_into_too_many_bins_is_refused_before_allocating(func):
    name, call = CALLS[func]
    hour_ns = int((SPANS["start"].max() - SPANS["start"].min()).value)
    assert hour_ns // 1 > MAX_STEPS  # '1ns' asks for more bins than allowed on these data
    with pytest.raises(tk.ArgumentError, match=rf"^{func}: {name} .* into [\d,]+ bins; at most 1,000,000"):
        call("1ns")


@pytest.mark.parametrize("form", ["5min", " 5min ", "300s", pd.Timedelta(minutes=5),
                                  datetime.timedelta(minutes=5), np.timedelta64(5, "m"), pd.offsets.Minute(5)],
                         ids=repr)
def test_every_form_of_one_duration_gives_one_timeline(form):
    want = tk.timeline(SPANS, freq="5min")
    got = tk.timeline(SPANS, freq=form)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == len(want) and got["requests"].sum() == 200


def test_the_kernels():
    assert duration_arg("90s", "freq", "f") == pd.Timedelta(seconds=90)
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    assert steps_arg(pd.Timedelta("1min"), t0, t0 + pd.Timedelta("59min"), "freq", "f") == 60
    assert steps_arg(pd.Timedelta("1min"), pd.NaT, pd.NaT, "freq", "f") == 0


@pytest.mark.parametrize("value", [0, -1, 1.5, float("nan"), None, "x", True, 10**9], ids=repr)
@pytest.mark.parametrize("func", ["plot_latency", "plot_heatmap"])
def test_bins_of_the_latency_figures_is_a_count(func, value):
    # plot_latency raised IndexError (0, -1) and TypeError (1.5, NaN, None, 'x'); True drew one bin
    f = tk.plot_latency if func == "plot_latency" else tk.plot_heatmap
    with pytest.raises(tk.ArgumentError, match=rf"^{func}: bins must be a whole number >= 1"):
        f(SPANS, bins=value)
    assert sum(len(t.x) for t in tk.plot_latency(SPANS, bins=7).data) >= 7
