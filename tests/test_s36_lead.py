"""Session 36, the lead's fixes: gaps in bursty traffic (timeline.no_data_buckets)."""
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
