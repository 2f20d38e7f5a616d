"""tk.postmortem on data nobody tuned it on: what the first screen may claim when the evidence is weak or missing.

Generated windows with known truth (the fault lab, the simulated shop with parts of its traces removed), several
seeds each; the sentences are checked against what the data can and cannot show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.simulate_faults import fault_window


@pytest.mark.parametrize("seed", [5, 8])
def test_error_rate_is_unknown_when_no_span_carries_a_status(seed):
    """A TrainTicket-like window (status=False: every status unset, no HTTP code) cannot show a failure: the error
    rate is said to be unknown, not 0 %, and "how sure" says why. The same window with status says a rate."""
    w = fault_window("exception", seed=seed, status=False)
    pm = tk.postmortem(w.incident, w.baseline, level="service", n_boot=50)
    what = pm.sentences("what")[0]
    assert "error rate unknown" in what and "0.0 %" not in what, what
    ev = next(f.evidence for f in pm.findings if f.topic == "what")
    assert np.isnan(ev["error_rate"]) and np.isnan(ev["baseline_error_rate"])
    assert any(s.startswith("Status: no incident span carries a status") for s in pm.sentences("sure"))

    w = fault_window("exception", seed=seed, status=True)
    pm = tk.postmortem(w.incident, w.baseline, level="service", n_boot=50)
    what = pm.sentences("what")[0]
    assert "error rate unknown" not in what and "error rate" in what
    assert not any(s.startswith("Status:") for s in pm.sentences("sure"))
