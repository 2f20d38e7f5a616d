"""Session 35 review of the test suite's cost: the shared builders the costly files now lean on.

test_simulate_faults takes its small windows of 12-service systems from conftest's ``lab_window(..., n_services=n)``
(made once per process, a copy per call) instead of building the same clean or null window once per test. These
tests pin that the shared window is the one the test would have built itself, and that a test editing its copy
leaves the next test's copy as it was.
"""

from __future__ import annotations

import pandas as pd

from tracekit.simulate_faults import fault_window, random_system

from .conftest import lab_window

#: a small window: 60 s of baseline and 30 s of incident at one request a second
KW = dict(rate=1.0, baseline_s=60.0, incident_s=30.0, min_calls=5.0)
FRAMES = ("baseline", "incident", "logs", "metrics")


def test_lab_window_n_services_is_the_window_of_that_random_system():
    """``n_services=n`` is ``system=random_system(seed, n_services=n)``: the same frames, truth and system as the
    window built directly (truth: fault_window's own output), and another size is another system."""
    got = lab_window("cpu_contention", 7, n_services=9, share=1.0, **KW)
    want = fault_window("cpu_contention", 7, system=random_system(7, n_services=9), share=1.0, **KW)
    for f in FRAMES:
        pd.testing.assert_frame_equal(getattr(got, f), getattr(want, f))
    assert got.truth == want.truth and got.system.services == want.system.services
    assert len(got.system.services) == 9
    other = lab_window("cpu_contention", 7, n_services=10, share=1.0, **KW)
    assert len(other.system.services) == 10


def test_each_lab_window_call_gives_frames_of_its_own():
    """Two calls with the same arguments: equal frames, not the same objects; a column replaced or a cell written in
    one call's frame is not seen by the next call."""
    a = lab_window("null", 7, n_services=9, **KW)
    b = lab_window("null", 7, n_services=9, **KW)
    for f in FRAMES:
        assert getattr(a, f) is not getattr(b, f)
        pd.testing.assert_frame_equal(getattr(a, f), getattr(b, f))
    n = len(a.incident)
    a.incident["service"] = "edited"
    a.metrics.loc[a.metrics.index[0], "value"] = -1.0
    a.baseline.loc[a.baseline.index[0], "name"] = "edited"
    c = lab_window("null", 7, n_services=9, **KW)
    assert len(c.incident) == n and "edited" not in set(c.incident["service"].astype(str))
    assert "edited" not in set(c.baseline["name"].astype(str)) and c.metrics["value"].iloc[0] != -1.0
    pd.testing.assert_frame_equal(c.metrics, b.metrics)
