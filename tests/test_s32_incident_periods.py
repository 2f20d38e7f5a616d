"""incident_periods over more than an hour of data also tries the finest round bucket of at least a minute (each try
at alpha / 2): a 9-minute incident in 4 hours was under two of auto_freq's 5-minute buckets and never found (0 of 10
seeds; the report said 'no change' and compared the whole input); now 10 of 10 to the minute, and no window on 10
stationary seeds either way (the report reviewer's D8)."""
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.changes import _auto_freqs, incident_periods
from tracekit.simulate import AppConfig

T0 = pd.Timestamp("2026-03-02T16:00:00Z")


#: seed 5's 9 minutes (an xfail until session 44: p 0.0016 at 3,200 permutations; exact p 0.00075 against 0.00125, found
#: since holm_permutations allows 19 exceedances, not 3)
@pytest.mark.parametrize(("minutes", "seed"), [(m, s) for m in (9, 40) for s in (0, 2, 5)])
def test_a_short_incident_in_hours_of_data_is_found(seed, minutes):
    sim = tk.simulate.simulate("db-lock", 4000, seed=seed, config=AppConfig(duration_s=4 * 3600),
                               window_start=T0, window_end=T0 + pd.Timedelta(minutes=minutes))
    p = incident_periods(sim.spans)
    assert p.window is not None
    assert abs(p.window[0] - T0) <= pd.Timedelta("2min")
    assert abs(p.window[1] - (T0 + pd.Timedelta(minutes=minutes))) <= pd.Timedelta("5min")


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_no_window_in_stationary_hours(seed):
    base = tk.simulate.simulate("baseline", 4000, seed=seed, config=AppConfig(duration_s=4 * 3600)).spans
    assert incident_periods(base).window is None


def test_the_buckets_tried():
    hour = tk.simulate.simulate("baseline", 200, seed=1).spans
    assert _auto_freqs(hour) == ["1min"]  # an hour: one try, alpha whole (the acceptance scenarios)
    four = tk.simulate.simulate("baseline", 400, seed=1, config=AppConfig(duration_s=4 * 3600)).spans
    assert _auto_freqs(four) == ["1min", "5min"]
    day = tk.simulate.simulate("baseline", 400, seed=1, config=AppConfig(duration_s=24 * 3600)).spans
    assert _auto_freqs(day) == ["5min", "30min"]
    assert incident_periods(hour, freq="2min").freq == "2min"  # a bucket given is the one used
