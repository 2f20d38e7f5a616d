"""JSON bytes kept one per row (fingerprints, group keys) hold their own size, not orjson's buffer.

orjson 3.13's ``dumps`` returns bytes holding a 4 KB buffer whatever their length; a key per row kept
that way cost 36 KB of memory per span when the X-Ray reader checked a file read twice for duplicates
(248k spans: +9.2 GB). Measured with tracemalloc, which counts the buffer, not ``sys.getsizeof``.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import orjson

import tracekit as tk
from tracekit.core.nested import kept
from tracekit.core.streams import stream_codes
from tracekit.io import _copies as copies_io


def _held(make) -> float:
    """Bytes held per object of ``make(i)`` for 2,000 objects kept in a list."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keep = [make(i) for i in range(2000)]
        return (tracemalloc.get_traced_memory()[0] - before) / len(keep)
    finally:
        tracemalloc.stop()


def test_kept_bytes_are_their_own_size_and_equal():
    assert kept(orjson.dumps({"a": 1})) == b'{"a":1}'
    assert _held(lambda i: kept(orjson.dumps({"user.id": i}))) < 200


def test_the_readers_duplicate_fingerprint_holds_its_own_size():
    assert _held(lambda i: copies_io._fingerprint({"user.id": i, "http": {"status": 200}})) < 200


def test_metric_series_keys_do_not_hold_a_buffer_per_point():
    n = 5000
    i = np.arange(n)
    m = tk.metrics_from_columns({"time": 1_772_460_000_000_000_000 + i * 10**9, "name": ["requests"] * n,
                                 "value": i.astype(float), "service": ["svc"] * n,
                                 "attributes": [{"route": f"/r{k % 7}"} for k in range(n)]})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keys = stream_codes(m)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(np.unique(keys)) == 7  # one series per route: the keys are the attributes' text
    assert peak / n < 1500, peak / n  # 4 KB a point while the keys were orjson's buffers


def test_reading_one_xray_file_twice_keeps_one_copy(tmp_path):
    spans = tk.simulate.simulate("db-lock", n_traces=20, seed=3).spans
    path = tmp_path / "t.json"
    tk.write_xray(spans, path)
    once = tk.read_xray(path)
    twice = tk.read_xray([path, path])
    assert len(once) >= len(spans)  # the X-Ray reader adds the inferred spans of remote calls
    assert len(twice) == len(once)
    cols = ["trace_id", "span_id", "start", "end", "name"]
    assert twice[cols].sort_values(cols).reset_index(drop=True).equals(once[cols].sort_values(cols).reset_index(drop=True))
