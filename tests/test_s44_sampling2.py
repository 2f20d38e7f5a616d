"""Session 44, sampling2: sampling weights' words checked against what was given, by construction."""
import warnings

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.sampling import sampling_weights


def _two_services() -> pd.DataFrame:
    return tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in (1, 2, 3)], "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "service": ["api", "web", "web"], "name": ["GET /", "GET /", "GET /"], "start": [0, 0, 0],
        "end": [10_000_000, 30_000_000, 20_000_000]})


def test_rate_mapping_leaving_a_stratum_out_says_so_not_no_user_rate():
    """A per-stratum rate was given ({"api": 0.1}, by="service"): the two 'web' traces it leaves out were said
    'no sampling information (no ot=th, SampleRate, user rate or X-Ray rule)', which denies the rate the caller
    gave; the note names the stratum the mapping lacks."""
    w = sampling_weights(_two_services(), rate={"api": 0.1}, by="service")
    web = w[w["service"] == "web"]
    assert len(web) == 2 and web["weight"].isna().all() and (web["weight_source"] == "unknown").all()
    for note in web["note"]:
        assert "user rate" in note and "no probability" in note and "service='web'" in note
        assert "no sampling information" not in note
    api = w[w["service"] == "api"].iloc[0]
    assert api["weight"] == 10.0 and api["weight_source"] == "user" and pd.isna(api["note"])


def test_no_rate_at_all_still_says_no_sampling_information():
    """Control: with nothing given, the note still says no sampling information."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = sampling_weights(_two_services())
    assert w["weight"].isna().all()
    assert (w["note"] == "no sampling information (no ot=th, SampleRate, user rate or X-Ray rule)").all()
    assert np.isnan(w["probability"]).all()
