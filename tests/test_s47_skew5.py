"""Session 47 (skew5): where a clock's offset changed, said at the resolution of the data; built with known clocks."""

import pandas as pd
import pytest

import tracekit as tk

from .test_s45_skew2 import MS, T0, _frame
from .test_s45_skew3 import _calls

N = 360  # traces, 10 s apart from T0 (an hour)


def _call_start(t):
    """The client start of h-a's call in trace ``t`` (its call is web's second, 30 ms in)."""
    return pd.Timestamp(T0 + t * 10_000 * MS + 30 * MS, tz="UTC")


def _steps(ahead):
    def build(add, rng, t):
        # h-a 60 ms ahead in the traces ``ahead(t)`` says, right in the others; h-c right throughout
        _calls(add, [("c", "h-c", 0), ("a", "h-a", 60 if ahead(t) else 0)])
    return build


@pytest.mark.parametrize("frac", [0.1, 0.5, 0.9])
def test_step_is_located_between_its_two_traces(frac):
    """A clock 60 ms ahead in the first ``frac`` of 360 traces and right after (an NTP step between trace n-1 and n):
    the change lies between those two traces' calls, said as both (before: change_at was the split of all pairs
    compared, a sixth, a half or five sixths of them, up to 4 minutes from the step, and no 'last before'). The
    change is -60 ms, not steady, and skew_story says the two times."""
    n = round(frac * N)
    spans = _frame(N, _steps(lambda t: t < n))
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert a["change_ms"] == -60.0 and not a["steady"]
    assert a["change_after"] == _call_start(n - 1), a["change_after"]
    assert a["change_at"] == _call_start(n), a["change_at"]
    (s,) = tk.skew_story(spans).sentences
    want = tk.core.words.window_text(_call_start(n - 1), _call_start(n))
    assert f"between its traces at {want}" in s, s


def test_a_step_within_a_sixth_is_not_said_at_the_sixth():
    """A step at trace 36 of 360 (14:06:00): the split of the pairs compared is at a sixth (14:10:00); the change is
    said at 14:05:50-14:06:00, not from 14:10 (4 minutes off)."""
    spans = _frame(N, _steps(lambda t: t < 36))
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert _call_start(35) <= a["change_at"] <= _call_start(36)


def test_two_steps_locate_one_of_them():
    """Ahead 60 ms in traces 0-99 and 260-359, right between: the change is located at one of the two steps (the
    table has one change per clock), not between them."""
    spans = _frame(N, _steps(lambda t: t < 100 or t >= 260))
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert not a["steady"]
    assert (a["change_after"], a["change_at"]) in {(_call_start(99), _call_start(100)),
                                                    (_call_start(259), _call_start(260))}, a[["change_after", "change_at"]]


def test_drift_is_located_mid_window_and_unsteady():
    """Control: a clock drifting 0 -> 80 ms over the hour is not steady, and the least-squares split of a linear drift
    is its middle (trace 179/180), not an end."""
    def build(add, rng, t):
        _calls(add, [("c", "h-c", 0), ("a", "h-a", 80 * t / (N - 1))])
    a = tk.detect_clock_skew(_frame(N, build)).set_index("host").loc["h-a"]
    assert not a["steady"]
    assert _call_start(170) <= a["change_at"] <= _call_start(190), a["change_at"]


def test_steady_clock_change_at_is_inside_its_window():
    """A steady +60 ms clock's change_after < change_at, both within its first_seen..last_seen."""
    spans = _frame(60, _steps(lambda t: True))
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert a["steady"] and a["first_seen"] <= a["change_after"] < a["change_at"] <= a["last_seen"]


# 3. one weighted median, in the core kernel ----------------------------------------------------------------------

def test_skew_has_no_median_of_its_own():
    """skew.py defined two near-duplicate weighted medians (_balanced_median, _weighted_median); the balanced one is
    now tracekit.core.balanced_median (equal weights: exactly np.median) and the re-anchoring one core.percentile."""
    import inspect
    import re

    import numpy as np

    src = inspect.getsource(tk.analysis.skew)
    assert not re.search(r"def _\w*median", src), re.findall(r"def _\w*median", src)
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 6, 101):
        x = rng.normal(size=n)
        assert tk.core.balanced_median(x, np.ones(n)) == np.median(x)
    # weights: 1, 2, 3 with weights 1, 1, 2 -> half the weight (2) met exactly after 2: the mean of 2 and 3
    assert tk.core.balanced_median([3.0, 1.0, 2.0], [2, 1, 1]) == 2.5
    assert tk.core.balanced_median([1.0, 2.0, 3.0], [1, 1, 8]) == 3.0
