"""Compute once (issue 28): trace outcomes and the critical path are cached per frame, like the span tree."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
import tracekit.analysis.critical_paths as cpm
from tracekit.analysis.critical_path_walk import walk_critical_path
from tracekit.core.cache import CacheStats, cache_stats, clear_cache
from tracekit.core.outcomes import _trace_outcomes

from .conftest import REPO


def _computed(name: str) -> int:
    return cache_stats().get(name, CacheStats()).computed


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts from an empty cache: a frame cached by an earlier test (tk.examples.load returns the
    same frame; a copy of it takes its result from it) would make the counts below depend on test order."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def spans() -> pd.DataFrame:
    return tk.examples.load("checkout-small")


@pytest.fixture
def walks(monkeypatch) -> list[int]:
    """Sizes of the frames the critical-path walk runs on."""
    seen: list[int] = []

    def counting(frame, **options):
        seen.append(len(frame))
        return walk_critical_path(frame, **options)

    monkeypatch.setattr(cpm, "walk_critical_path", counting)
    return seen


def test_trace_outcomes_are_computed_once_per_frame_and_equal_the_direct_computation(spans):
    before = _computed("trace_outcomes")
    a = tk.core.trace_outcomes(spans)
    b = tk.core.trace_outcomes(spans)
    assert _computed("trace_outcomes") - before == 1
    pd.testing.assert_frame_equal(a, _trace_outcomes(spans))
    pd.testing.assert_frame_equal(a, b)


def test_a_returned_frame_edited_by_the_caller_does_not_reach_the_cache(spans, walks):
    cp = tk.critical_path(spans)
    expected = cp["duration_ms"].copy()
    cp.loc[0, "duration_ms"] = -1.0
    cp["extra"] = 1
    again = tk.critical_path(spans)
    assert len(walks) == 1
    pd.testing.assert_series_equal(again["duration_ms"], expected)
    assert "extra" not in again.columns


def test_an_edited_column_is_computed_again(spans, walks):
    tk.critical_path(spans)
    edited = spans.copy()
    edited["end"] = edited["end"] + pd.Timedelta("1ms")  # every span 1 ms longer: another critical path
    cp = tk.critical_path(edited)
    assert len(walks) == 2
    pd.testing.assert_frame_equal(cp, walk_critical_path(edited))


def test_settings_are_part_of_the_key(spans, walks):
    tk.critical_path(spans)
    tk.critical_path(spans, adjacent_sequential=False)
    tk.critical_path(spans, nonblocking=["consumer", "producer_consumer"])
    tk.critical_path(spans, nonblocking=("producer_consumer", "consumer"))  # same set, other order: a hit
    assert len(walks) == 3


def test_whole_traces_cut_out_of_a_cached_frame_take_their_sections_from_it(spans, walks):
    full = tk.critical_path(spans)
    ids = sorted(set(spans["trace_id"]))[::3]
    sub = spans[spans["trace_id"].isin(ids)]
    cp = tk.critical_path(sub)
    assert walks == [len(spans)]  # the subset was not walked
    pd.testing.assert_frame_equal(cp, walk_critical_path(sub))  # and got what a walk gives
    assert set(cp["trace_id"]) == set(ids) and len(cp) < len(full)
    out = tk.core.trace_outcomes(sub)
    pd.testing.assert_frame_equal(out, _trace_outcomes(sub))


def test_a_cut_that_splits_a_trace_is_walked(spans, walks):
    tk.critical_path(spans)
    part = spans.iloc[: len(spans) // 2 + 1]  # the cut falls inside a trace
    assert part["trace_id"].iloc[-1] == spans["trace_id"].iloc[len(part)]  # ground truth: a trace is split
    cp = tk.critical_path(part)
    assert walks == [len(spans), len(part)]
    pd.testing.assert_frame_equal(cp, walk_critical_path(part))


@pytest.mark.slow
def test_the_bundled_report_walks_the_critical_path_once_per_input_frame(walks, tmp_path):
    from tracekit.cli import main

    incident, baseline = REPO / "datasets" / "checkout-incident", REPO / "datasets" / "checkout-baseline"
    if not incident.is_dir():
        pytest.skip("datasets/ not present")
    main(["report", str(incident), "--baseline", str(baseline), "-o", str(tmp_path / "r.html")])
    n_in, n_base = len(tk.read(incident)), len(tk.read(baseline))
    assert sorted(walks) == sorted([n_in, n_base])  # one walk per input, none on the frames cut from them


def test_a_parent_edited_in_place_does_not_lend_its_stale_result(spans, walks):
    frame = spans.copy()
    tk.critical_path(frame)
    frame["end"] = frame["end"] + pd.Timedelta("2ms")  # in place: the cached sections are stale now
    sub = frame[frame["trace_id"].isin(sorted(set(frame["trace_id"]))[:3])]
    cp = tk.critical_path(sub)
    assert walks == [len(frame), len(sub)]
    pd.testing.assert_frame_equal(cp, walk_critical_path(sub))
