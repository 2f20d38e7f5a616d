"""Session 45, scale: analyses and readers at 300k spans and on deep or wide traces. Each test names what it
pins; a test that fails on the code before its fix says so, the others are controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis import baseline_check


# ------------------------------------------------------------------ own_traces: keys only for shared traces

def _copy_traces(frame: pd.DataFrame, ids) -> pd.DataFrame:
    return frame[frame["trace_id"].isin(list(ids))].copy()


@pytest.fixture(scope="module")
def pair():
    s = tk.simulate.simulate("db-lock", 60, seed=4).spans
    b = tk.simulate.simulate("baseline", 80, seed=5).spans
    return s, b


def test_own_traces_are_the_copied_traces_exactly(pair):
    """Control: the baseline holds 3 of the spans' traces copied whole, 1 trace sharing an id but none of its spans
    (a twin: same trace id, other span ids) and 80 traces of its own; own_traces is those 3, in baseline order."""
    s, b = pair
    tids = pd.unique(s["trace_id"])
    copied = _copy_traces(s, tids[[5, 17, 40]])
    twin = _copy_traces(s, tids[[9]])
    twin["span_id"] = [f"e0e0{i:012x}" for i in range(len(twin))]  # ids none of the spans has
    base = pd.concat([b.iloc[: len(b) // 2], copied, twin, b.iloc[len(b) // 2:]], ignore_index=True)
    got = baseline_check.own_traces(s, base)
    assert list(got) == list(pd.unique(copied["trace_id"]))
    assert len(baseline_check.own_traces(s, b)) == 0
    assert not baseline_check._same_spans(s, base)
    assert baseline_check._same_spans(s, copied)  # every baseline span is one of theirs


def test_own_traces_keys_only_rows_of_trace_ids_both_hold(pair, monkeypatch):
    """Fails on the old code: own_traces built a (trace, span, start, end) key for every span of both frames (1.5 s
    CPU of postmortem's 13.6 s at 306k + 154k spans sharing no trace); a span whose trace id the other frame does
    not hold cannot be one of its spans, so only rows of shared trace ids are keyed."""
    s, b = pair
    tids = pd.unique(s["trace_id"])
    copied = _copy_traces(s, tids[[1, 2]])
    base = pd.concat([b, copied], ignore_index=True)
    keyed: list[int] = []
    real = pd.MultiIndex.from_frame

    def counting(df, *a, **k):
        keyed.append(len(df))
        return real(df, *a, **k)

    monkeypatch.setattr(pd.MultiIndex, "from_frame", staticmethod(counting))
    got = baseline_check.own_traces(s, base)
    assert list(got) == list(tids[[1, 2]])
    shared_rows = 2 * len(copied)  # the copied traces' rows, on each side
    assert sum(keyed) <= shared_rows, (sum(keyed), shared_rows, len(s) + len(base))
    keyed.clear()
    assert len(baseline_check.own_traces(s, b)) == 0
    assert sum(keyed) == 0  # no shared trace id: nothing to key
