"""Fixed per-call cost of the frame cache (tracekit.core.cache) and of the operations a ranking reads
(tracekit.core.naming: operation_parts, joint_operation_codes; course_changes, early_stops, call_paths): the work a
call must no longer do (counted, never timed) and the answers it must keep (built by construction here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
import tracekit.core.cache as cache
from tracekit.analysis.course_changes import course_changes
from tracekit.analysis.early_stops import early_stops
from tracekit.core import call_paths, operations, span_tree, trace_outcomes
from tracekit.core.cache import cache_stats, clear_cache
from tracekit.core.naming import operation_codes

MS = 1_000_000


def _traces(n: int, tag: str, services=("web", "db"), names=("GET /", "q")) -> pd.DataFrame:
    """``n`` traces: a root (services[0]:names[0], 0..10 ms + i) calling services[1]:names[1] (2..5 ms); ids carry
    ``tag`` so frames of two tags share no trace."""
    rows = []
    for i in range(n):
        tid = f"{tag}{i:04x}".rjust(32, "0")
        rows.append((tid, f"{i:015x}a", None, services[0], names[0], 0, (10 + i) * MS))
        rows.append((tid, f"{i:015x}b", f"{i:015x}a", services[1], names[1], 2 * MS, 5 * MS))
    cols = ["trace_id", "span_id", "parent_id", "service", "name", "start", "end"]
    return tk.spans_from_columns({c: [r[k] for r in rows] for k, c in enumerate(cols)})


@pytest.fixture
def fresh():
    clear_cache()
    yield
    clear_cache()


# ---- the cache: a miss looks at every other frame alive ------------------------------------------------------
def test_a_miss_does_not_fingerprint_the_other_frames_alive(fresh, monkeypatch):
    """A cache miss of a per-trace result looks for a cached frame holding the new frame's traces. Every cached
    frame alive at least as long was fingerprinted first (a test session's fixtures, a notebook's frames: a miss of
    critical_path and trace_outcomes with 80 frames alive took 128 ms against 20 ms with none); one cell of
    another frame's rows now rejects it. The answer is the new frame's own."""
    alive = [_traces(12, f"{k:x}") for k in range(6)]
    for f in alive:
        trace_outcomes(f)
    new = _traces(4, "f")
    seen = []
    real = cache.fingerprint

    def counting(spans, columns):
        seen.append(id(spans))
        return real(spans, columns)

    monkeypatch.setattr(cache, "fingerprint", counting)
    out = trace_outcomes(new)
    assert not {id(f) for f in alive} & set(seen), "another frame alive was fingerprinted"
    assert out["request_ms"].tolist() == [10.0 + i for i in range(4)]
    assert out["trace_id"].tolist() == sorted(new["trace_id"].unique().tolist())


def test_whole_traces_cut_from_a_frame_alive_are_still_served_from_it(fresh):
    """The cheap rejection keeps the derived route: a cut of whole traces (and a copy) of a cached frame is a hit,
    equal to computing it; a cut whose first trace differs in a cell is computed."""
    parent = _traces(12, "a")
    trace_outcomes(parent)
    before = cache_stats()["trace_outcomes"]
    cut = parent[parent["trace_id"].isin(parent["trace_id"].unique()[3:7])]
    got = trace_outcomes(cut)
    after = cache_stats()["trace_outcomes"]
    assert (after.computed, after.hits) == (before.computed, before.hits + 1)
    edited = cut.copy()
    edited.loc[edited.index[0], "trace_id"] = "e" * 32
    trace_outcomes(edited)
    assert cache_stats()["trace_outcomes"].computed == before.computed + 1
    clear_cache()
    pd.testing.assert_frame_equal(got, trace_outcomes(cut.copy()), check_exact=True)


class _CountingCopy:
    copies = 0

    def __deepcopy__(self, memo):
        type(self).copies += 1
        return self


def test_a_fingerprint_never_copies_the_frames_attrs():
    """pandas' column access builds a Series and deep-copies the frame's attrs into it (what _column_values avoids
    for every column kind); a column of lists or dicts (links, attributes) was still read so: once per fingerprint
    of such a column (trace_outcomes reads links), the fingerprint itself unchanged."""
    spans = _traces(3, "a")
    spans["links"] = [[], [{"trace_id": "1" * 32, "span_id": "2" * 16}], [], [], [], []]
    spans["attributes"] = [{"k": i} for i in range(6)]
    spans.attrs["counted"] = _CountingCopy()
    _CountingCopy.copies = 0
    fp = cache.fingerprint(spans, list(spans.columns))
    assert _CountingCopy.copies == 0
    assert fp == cache.fingerprint(spans.copy(), list(spans.columns))
    edited = spans.copy()
    edited["name"] = edited["name"].astype(object)
    edited.loc[edited.index[1], "name"] = "other"
    assert cache.fingerprint(edited, ["name"]) != cache.fingerprint(spans, ["name"])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 913, 65_535, 65_536])
def test_a_short_arrays_digest_is_the_block_formula(n):
    """The one-block path of the numeric digest gives what the per-block formula gives (sum of the words times the
    per-position multipliers, times the first block's multiplier, mod 2**64; twice), computed here with Python
    integers: fingerprints made before and after are the same."""
    rng = np.random.default_rng(n)
    values = rng.integers(-2**62, 2**62, n, dtype=np.int64)
    got = cache._numeric_digest(values)
    per_block = cache._PER_BLOCK[:, 0] if n else None
    sums = []
    for r in range(2):
        s = sum(int(w) * int(m) for w, m in zip(values.view(np.uint64), cache._IN_BLOCK[r, :n], strict=True)) % 2**64
        sums.append(s * int(per_block[r]) % 2**64 if n else 0)
    want = values.dtype.str.encode() + str(8 * n).encode() + np.asarray(sums, dtype=np.uint64).tobytes()
    assert got == want


# ---- the operations a ranking reads: once per frame ----------------------------------------------------------
def _pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    """An incident and a baseline whose operations' texts collide ("a:b" + "c" and "a" + "b:c" are both "a:b:c"),
    with a missing and a blank service and an empty name."""
    inc = pd.concat([_traces(3, "1", ("a:b", "a"), ("c", "b:c")), _traces(2, "2", ("web", None), ("GET /", ""))],
                    ignore_index=True)
    base = pd.concat([_traces(4, "3", ("web", " "), ("GET /", "q")), _traces(2, "4", ("a", "a:b"), ("b:c", "c"))],
                     ignore_index=True)
    return inc, base


def test_joint_operation_codes_are_the_factorized_texts_of_both_frames(fresh):
    from tracekit.core.naming import joint_operation_codes, operation_parts

    inc, base = _pair()
    code, labels = joint_operation_codes(inc, base)
    texts = np.r_[operations(inc), operations(base)]
    assert labels[code].tolist() == texts.tolist()  # each span's code names its operation text
    # numbered in the order of the texts (the spans' sorted, then the baseline's new ones sorted), not as they first
    # appear in the rows (session 44: a shuffle of the rows renumbered them; this test pinned the row order)
    mine = sorted(set(operations(inc).tolist()))
    assert labels.tolist() == mine + sorted(set(operations(base).tolist()) - set(mine))
    assert "a:b:c" in labels.tolist() and "unknown_service:(unnamed)" in labels.tolist()
    for f in (inc, base):
        c, lab, svc, names = operation_parts(f)
        assert (c.tolist(), lab.tolist()) == tuple(x.tolist() for x in operation_codes(f))
        assert svc[c].tolist() == tk.schema.known_service_column(f["service"]).tolist()
        assert names[c].tolist() == tk.schema.known_name_column(f["name"]).tolist()
        assert (lab == np.asarray([f"{s}:{n}" for s, n in zip(svc, names, strict=True)], dtype=object)).all()


def test_a_frames_operations_are_computed_once_for_its_course_changes_early_stops_and_call_paths(fresh):
    """course_changes and early_stops each named every span's operation of both frames (a text per span, hashed
    again), and call_paths coded them once more per critical path: now once per frame, whatever asks. Their
    answers are the definitions' (test above)."""
    inc, base = _pair()
    before = cache_stats().get("operation_codes", cache.CacheStats()).computed
    cc = course_changes(inc, base)
    es = early_stops(inc, base)
    paths = call_paths(inc, span_tree(inc), np.arange(len(inc)))
    assert cache_stats()["operation_codes"].computed - before == 2
    assert paths.tolist()[:2] == ["a:b:c", "a:b:c > a:b:c"]
    assert len(es) == len(inc) and (cc["steps"] >= cc["changed"]).all()
