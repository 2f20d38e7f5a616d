"""The readers' lazy-column kernel of tracekit.io.containers: attribute_source, SharedDictSource,
ConcatSource (the store's encoding is tested in test_store.py)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from tracekit.io.containers import LazyColumn, NotCovered, ObjectSource, attribute_source, join_raws
from tracekit.io.otlp import decode_attributes


def _kvs(d: dict) -> bytes:
    def value(v):
        if isinstance(v, str):
            return {"stringValue": v}
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, list):
            return {"arrayValue": {"values": [value(x) for x in v]}}
        return {"kvlistValue": {"values": [{"key": k, "value": value(x)} for k, x in v.items()]}}

    return json.dumps([{"key": k, "value": value(v)} for k, v in d.items()]).encode()


ROWS = [{"a": "x", "n": 1}, {}, {"a": "x", "n": 1}, {"tags": ["p", "q"], "m": {"k": True}}, {"a": "y", "f": 1.5},
        {"tags": ["p", "q"], "m": {"k": True}}]


def _column(rows=ROWS, none_at=(1,)):
    raws = [None if i in none_at else _kvs(d) for i, d in enumerate(rows)]
    return LazyColumn(attribute_source(raws, "f.jsonl", "attributes"), np.arange(len(rows)))


def test_cells_are_the_checked_decoding_and_never_shared():
    col = _column()
    want = [decode_attributes(json.loads(_kvs(d))) if d else {} for d in ROWS]
    assert not col.built().any()
    assert col.to_numpy().tolist() == want == ROWS
    cells = col.to_numpy()
    assert cells[0] is not cells[2]
    assert cells[3]["tags"] is not cells[5]["tags"] and cells[3]["m"] is not cells[5]["m"]


def test_key_reads_build_nothing_and_give_own_copies_of_nested_values():
    col = _column()
    vals, has = col.key_values("a")
    assert vals == ["x", None, "x", None, "y", None] and has.tolist() == [True, False, True, False, True, False]
    tags, _ = col.key_values("tags")
    assert tags[3] == tags[5] == ["p", "q"] and tags[3] is not tags[5]
    tags[3].append("changed")
    assert col[5]["tags"] == ["p", "q"]
    assert not col.built()[[0, 1, 2, 3, 4]].any()
    assert col.heads_present(("m",)).tolist() == [False, False, False, True, False, True]


def test_rows_given_as_a_tuple_are_rows_and_the_joined_pair_the_same_cells():
    raws = [None if i == 1 else _kvs(d) for i, d in enumerate(ROWS)]
    as_tuple = LazyColumn(attribute_source(tuple(raws), "f.jsonl", "attributes"), np.arange(len(ROWS)))
    pair = LazyColumn(attribute_source(join_raws(raws), "f.jsonl", "attributes"), np.arange(len(ROWS)))
    assert as_tuple.to_numpy().tolist() == pair.to_numpy().tolist() == ROWS
    two = (_kvs({"a": "x"}), _kvs({"n": 1}))  # two rows, not (joined bytes, lengths)
    assert LazyColumn(attribute_source(two, "f", "attributes"), np.arange(2)).to_numpy().tolist() == [{"a": "x"}, {"n": 1}]


def test_a_changed_cell_is_what_key_reads_see():
    col = _column()
    col[0]["a"] = "changed"  # built, then changed in place
    assert col.key_values("a")[0][:3] == ["changed", None, "x"]


def test_a_list_the_typed_decode_refuses_is_an_error_at_read_time():
    bad = [_kvs({"a": "x"}), b'[{"key": "n", "value": {"intValue": "12x"}}]']
    with pytest.raises(NotCovered):
        attribute_source(bad, "f.jsonl", "attributes")
    with pytest.raises(NotCovered):
        attribute_source([b'{"not": "a list"}'], "f.jsonl", "attributes")


def test_concat_of_lazy_columns_of_different_sources_stays_lazy():
    a, b = _column(), _column(ROWS[::-1], none_at=())
    plain = LazyColumn(None, None, ObjectSource(np.array([{"a": "z"}], dtype=object)).cells(np.arange(1)))
    both = LazyColumn._concat_same_type([a, b, plain])
    assert both.is_lazy and not both.built().any()
    assert both.key_values("a")[0] == ["x", None, "x", None, "y", None, None, "y", None, "x", None, "x", "z"]
    assert both.to_numpy().tolist() == ROWS + ROWS[::-1] + [{"a": "z"}]
    assert pickle.loads(pickle.dumps(both)).to_numpy().tolist() == both.to_numpy().tolist()
    s = pd.concat([pd.Series(a), pd.Series(b)], ignore_index=True)
    assert isinstance(s.array, LazyColumn) and s.map(len).tolist() == [len(d) for d in ROWS + ROWS[::-1]]
