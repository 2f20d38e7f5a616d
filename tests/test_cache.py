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



def test_a_string_cell_set_in_place_is_a_new_fingerprint_and_the_digests_go_with_their_arrays(spans, walks):
    """Arrow columns are hashed once per array object (immutable: pandas puts a new array in a column whose cell is
    set); setting one name in place must still give a new fingerprint and a fresh walk, and the digests are held no
    longer than their arrays."""
    import gc

    from tracekit.core import cache

    frame = spans.copy()
    before = cache.fingerprint(frame, ["trace_id", "name", "service"])
    assert cache.fingerprint(frame, ["trace_id", "name", "service"]) == before
    tk.critical_path(frame)
    root = frame.index[frame["parent_id"].isna()][0]
    frame.loc[root, "service"] = "renamed-service"  # in place
    assert cache.fingerprint(frame, ["trace_id", "name", "service"]) != before
    cp = tk.critical_path(frame)
    assert walks == [len(frame), len(frame)]
    assert "renamed-service" in set(cp["service"])
    held = len(cache._ARROW_DIGESTS)
    for _ in range(5):
        cache.fingerprint(spans.assign(name=spans["name"] + "-x"), ["name"])
    gc.collect()
    assert len(cache._ARROW_DIGESTS) <= held + 1, "digests of freed arrays are kept"


# --------------------------------------------------------------------------------------------- log templates (issue 30)


def _logs(n: int = 60) -> pd.DataFrame:
    """Three message shapes by construction: row i says user i, a cache key or a retry count."""
    bodies = [f"user {i} logged in from 10.0.0.{i % 7}" if i % 3 == 0 else
              f"cache miss key=k{i}" if i % 3 == 1 else f"retry {i % 5} of 5" for i in range(n)]
    return tk.logs_from_columns({"time": list(range(n)), "body": bodies})


def test_log_templates_are_computed_once_per_logs_frame_and_equal_the_direct_computation():
    from tracekit.analysis.logs import _templates

    logs = _logs()
    before = _computed("log_templates")
    a = tk.log_templates(logs)
    b = tk.log_templates(logs)
    assert _computed("log_templates") - before == 1
    pd.testing.assert_frame_equal(a, _templates(logs, "body"))
    pd.testing.assert_frame_equal(a, b)
    assert a["template"].nunique() == 3  # ground truth of _logs
    tk.log_templates(logs, column="source")  # another column is another key
    assert _computed("log_templates") - before == 2


def test_rank_causes_with_logs_computes_the_templates_once_over_its_calls():
    inc = tk.simulate.simulate("baseline", 60, seed=3).spans
    base = tk.simulate.simulate("baseline", 60, seed=4).spans
    rows = pd.concat([inc, base], ignore_index=True)
    logs = tk.logs_from_columns({"time": rows["start"], "trace_id": rows["trace_id"], "span_id": rows["span_id"],
                                 "body": [f"handled {i} requests" for i in range(len(rows))]})
    before = _computed("log_templates")
    for _ in range(3):  # one call per fault window, the same logs each time
        tk.rank_causes(inc, base, n_boot=10, lift_rows=0, logs=logs)
    assert _computed("log_templates") - before == 1


def test_rows_cut_from_a_cached_logs_frame_take_their_templates_from_it():
    from tracekit.analysis.logs import _templates

    logs = _logs()
    tk.log_templates(logs)
    window = logs[(logs["time"] >= logs["time"].iloc[10]) & (logs["time"] < logs["time"].iloc[40])]
    every_other = logs.iloc[::2]
    for cut in (window, every_other):
        before = _computed("log_templates")
        got = tk.log_templates(cut)
        assert _computed("log_templates") == before  # taken from the whole frame's
        pd.testing.assert_frame_equal(got, _templates(cut, "body"))
        assert got.index.equals(cut.index)


def test_an_edited_or_different_logs_frame_is_not_served_stale_templates():
    from tracekit.analysis.logs import _templates

    logs = _logs()
    first = tk.log_templates(logs)
    before = _computed("log_templates")
    logs.loc[4, "body"] = "disk full on the data volume"  # in place: row 4's template changes
    edited = tk.log_templates(logs)
    assert _computed("log_templates") - before == 1
    assert edited.loc[4, "template"] == "disk full on the data volume" != first.loc[4, "template"]
    pd.testing.assert_frame_equal(edited, _templates(logs, "body"))
    # a cut of the edited frame: served from the fresh result, never from the stale one
    cut = tk.log_templates(logs.iloc[2:8])
    assert cut.loc[4, "template"] == "disk full on the data volume"
    # another frame of the same length and index, other messages
    other = logs.assign(body=[f"job {i} done" for i in range(len(logs))])
    assert set(tk.log_templates(other)["template"]) == {"job <*> done"}
    # labels set in place afterwards: the templates carry the frame's labels
    logs.index = logs.index + 100
    assert tk.log_templates(logs).index.equals(logs.index)


def test_clear_cache_forgets_every_per_frame_result_the_span_tree_too(spans):
    """clear_cache() empties every per-frame cache: a later timing (bench_analyses clears before each row)
    must rebuild the span tree, trace outcomes and the critical path, not take them warm."""
    from tracekit.core import span_tree, trace_outcomes

    tree = span_tree(spans)
    assert span_tree(spans) is tree  # cached
    trace_outcomes(spans)
    tk.critical_path(spans)
    before = {k: _computed(k) for k in ("span_tree", "trace_outcomes", "critical_path")}
    assert before["span_tree"] >= 1  # the tree is counted with the other per-frame results
    clear_cache()
    again = span_tree(spans)
    assert again is not tree and (again.parent == tree.parent).all()  # rebuilt, the same tree
    trace_outcomes(spans)
    tk.critical_path(spans)
    after = {k: _computed(k) for k in before}
    assert all(after[k] > before[k] for k in before), (before, after)
    assert tk.core.clear_cache is clear_cache


def test_a_column_freed_after_the_cache_module_was_torn_down_raises_nothing(monkeypatch):
    """At interpreter exit a module's globals are cleared before the last frames and Arrow columns are freed: the
    weak-reference callbacks then called None ('Exception ignored in: <function _arrow_digest.<locals>.<lambda>',
    TypeError, at the end of every full test run). They hold what they call."""
    import gc
    import sys

    import tracekit.core.cache as cache

    spans = tk.examples.load("checkout-small").copy()
    spans["trace_id"] = spans["trace_id"].astype("string[pyarrow]")  # a fresh Arrow column, digested once
    cache.fingerprint(spans, ["trace_id"])
    cache.frame_cached(spans, "teardown-test", 0, ["trace_id"], lambda: 1)
    for name in ("_forget_digest", "_forget", "_LOCK", "_ARROW_DIGESTS", "_FRAMES"):
        monkeypatch.setattr(cache, name, None)
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u))
    del spans
    gc.collect()
    assert not seen, [(u.exc_type, u.exc_value, u.object) for u in seen]


def test_one_numeric_cell_edited_in_place_anywhere_is_a_new_fingerprint(spans):
    """Numeric, datetime, boolean and nullable-integer columns are hashed by sums of their words times odd multipliers
    per position in a block and per block (not blake2b): any one cell set in place — first, last, at a multiplier block's edge, at 300
    random rows — and two cells swapped give a new fingerprint; an equal copy, or the frame hashed again after the
    multipliers grew for a longer frame, gives the same one."""
    import numpy as np

    from tracekit.core.cache import _BLOCK, fingerprint

    frame = pd.concat([spans] * (_BLOCK // len(spans) + 2), ignore_index=True)  # rows past the first block
    frame["error"] = frame["error"].astype(bool)
    cols = ["start", "duration_ms", "error", "http_status"]
    before = fingerprint(frame, cols)
    rng = np.random.default_rng(4)
    rows = [0, len(frame) - 1, _BLOCK - 1, _BLOCK, *rng.integers(0, len(frame), 300).tolist()]
    for col in cols:
        for i in rows[:4] + rows[4:][:75]:
            edited = frame.copy()
            if col == "start":
                edited.loc[i, col] = edited.loc[i, col] + pd.Timedelta(1, "ns")
            elif col == "duration_ms":
                edited.loc[i, col] = np.nextafter(edited.loc[i, col], np.inf)
            elif col == "error":
                edited.loc[i, col] = not edited.loc[i, col]
            else:
                edited.loc[i, col] = pd.NA if pd.notna(edited.loc[i, col]) else 200
            assert fingerprint(edited, cols) != before, (col, i)
    swapped = frame.copy()
    a, b = 3, _BLOCK + 5
    assert frame.loc[a, "duration_ms"] != frame.loc[b, "duration_ms"]
    swapped.loc[[a, b], "duration_ms"] = frame.loc[[b, a], "duration_ms"].to_numpy()
    assert fingerprint(swapped, cols) != before
    assert fingerprint(frame.copy(), cols) == before
    fingerprint(pd.concat([frame] * 3, ignore_index=True), cols)  # grows the per-block multipliers
    assert fingerprint(frame, cols) == before
    from tracekit.core import cache

    assert cache._IN_BLOCK.shape == (2, _BLOCK) and cache._PER_BLOCK.nbytes < 1 << 20  # not one per row


def test_a_fingerprinted_column_held_twice_is_named(spans):
    """A column the cache reads that a frame holds twice (``pd.concat(axis=1)``) is a SpansSchemaError naming it,
    not pandas' "'DataFrame' object has no attribute 'array'"; other columns held twice do not matter."""
    from tracekit.core.cache import fingerprint

    twice = pd.concat([spans, spans[["status"]]], axis=1)
    with pytest.raises(tk.SpansSchemaError, match=r"^the frame's column 'status' appears 2 times; give each column once"):
        fingerprint(twice, ["trace_id", "status"])
    assert fingerprint(twice, ["trace_id", "start"]) == fingerprint(spans, ["trace_id", "start"])
