"""Session 38, lead: what analyses leave in a result's ``attrs`` is free for pandas to copy.

pandas deep-copies a frame's ``attrs`` into every column it hands out and every frame it derives
(``NDFrame.__finalize__``). A plain dict of settings there (``attrs["params"]``) was walked by ``copy.deepcopy`` on
every ``out[col]``: diffing two small traces spent 9 % of its time (7.8 of 87 s over 120 pairs, cProfile) deep-copying
the critical path's and the diff's settings. Their values are read-only records of a call, so they are held as the
readers' attrs already are (``schema.shared_attr``): their deep copy is themselves.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import tracekit as tk
from tracekit.schema import SharedDict, SharedTuple

_FREE = (str, int, float, bool, type(None), SharedTuple, SharedDict, pd.Timestamp, pd.Timedelta)


@pytest.fixture(scope="module")
def spans() -> pd.DataFrame:
    return tk.examples.load("deploy-small")


def _results(spans: pd.DataFrame) -> dict[str, pd.DataFrame]:
    one = spans[spans["trace_id"] == spans["trace_id"].iloc[0]]
    half = len(spans) // 2
    cp = tk.critical_path(spans)
    return {
        "critical_path": cp,
        "critical_path_breakdown": tk.critical_path_breakdown(cp, spans=spans),
        "critical_path_tree": tk.critical_path_tree(cp),
        "diff_traces": tk.diff_traces(one, one),
        "detect_changes": tk.detect_changes(spans),
        "timeline": tk.timeline(spans),
        "peer_outliers": tk.peer_outliers(spans),
        "version_regressions": tk.version_regressions(spans, n_boot=20),
        "cold_starts": tk.cold_starts(spans, n_boot=20),
        "critical_path_tree_diff": tk.critical_path_tree_diff(tk.critical_path(spans.iloc[:half]), tk.critical_path(spans.iloc[half:]), n_boot=20),
    }


def test_every_value_an_analysis_leaves_in_attrs_is_its_own_deep_copy(spans):
    for name, out in _results(spans).items():
        assert out.attrs, f"{name} keeps no attrs: the test would prove nothing"
        for key, value in out.attrs.items():
            assert isinstance(value, _FREE), f"{name}.attrs[{key!r}] is a {type(value).__name__}: deep-copied per column"
            assert copy.deepcopy(value) is value or isinstance(value, str | int | float | bool | type(None)), (name, key)


def test_a_column_of_a_result_keeps_the_same_settings(spans):
    cp = tk.critical_path(spans)
    col = cp["duration_ms"] if "duration_ms" in cp else cp[cp.columns[0]]
    assert col.attrs["params"] == cp.attrs["params"]
    assert col.attrs["params"]["in_progress"] == "extend"  # the default the walk reports it used
