"""tk.attribute / spans.tk.attr: one attribute key of every span as a typed column.

Checked against the kernel's per-span rule (core.naming.get_attribute) on every key of every real
public trace that loads, and on the simulator; dtypes, defaults, nesting, odd cells and errors by
construction.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.naming import get_attribute
from tracekit.errors import TraceKitError


def _frame(attrs: list, **extra) -> pd.DataFrame:
    n = len(attrs)
    return tk.spans_from_columns({
        "trace_id": ["a" * 32] * n, "span_id": [f"{i + 1:016x}" for i in range(n)], "service": ["api"] * n,
        "name": ["op"] * n, "start": list(range(n)), "end": [i + 5 for i in range(n)], "attributes": attrs, **extra})


def _same(series: pd.Series, expected: list) -> None:
    got = series.astype(object).where(series.notna(), None).tolist()
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, float) and math.isnan(e):
            assert isinstance(g, float) and math.isnan(g)
        else:
            assert g == e, (g, e)
            assert type(g) is type(e) or {type(g), type(e)} == {int, float}, (g, e)  # 2 in a Float64 column is 2.0


def _real_frames(folder) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".json", ".jsonl", ".gz") or "nezha" in path.parts:
            continue
        try:
            df = tk.read(path, errors="skip")
        except (TraceKitError, ValueError):
            continue
        if len(df):
            out.append((str(path.relative_to(folder)), df))
    return out


def test_agrees_with_the_kernel_rule_on_every_key_of_the_real_traces(real_traces):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = _real_frames(real_traces)
    assert len(frames) >= 5, [name for name, _ in frames]
    checked = 0
    for name, df in frames:
        for column in ("attributes", "resource"):
            keys = sorted({k for d in df[column] for k in d})
            nested = sorted({f"{k}.{k2}" for d in df[column] for k, v in d.items() if isinstance(v, dict) for k2 in v})
            for key in keys + nested + ["no.such.key"]:
                got = tk.attribute(df, key, column=column)
                assert got.name == key and got.index.equals(df.index), (name, key)
                expected = [get_attribute(d, key) for d in df[column]]
                _same(got, expected)
                checked += 1
    assert checked > 100, checked


def test_agrees_on_the_simulator_and_is_the_accessor():
    spans = tk.simulate.simulate("db-lock", n_traces=60, seed=3).spans
    for key in ("http.route", "http.response.status_code", "db.system", "peer.service", "server.port"):
        got = tk.attribute(spans, key)
        _same(got, [d.get(key) for d in spans["attributes"]])
        pd.testing.assert_series_equal(spans.tk.attr(key), got)
    assert tk.attribute(spans, "http.response.status_code").dtype == "Int64"
    assert str(tk.attribute(spans, "http.route").dtype) == "string"
    version = spans.tk.attr("service.version", column="resource")
    assert version.notna().all() and (version == [r["service.version"] for r in spans["resource"]]).all()


def test_dtypes_follow_the_values_and_never_convert_them():
    big = 2**64 - 1
    df = _frame([{"s": "x", "i": 1, "f": 1.5, "b": True, "m": 1, "n": 2, "o": 1, "d": {"k": 1}},
                 {"s": None, "i": 3, "f": 2, "b": False, "m": "1", "n": 2.5, "o": big, "d": [1]},
                 {}])
    assert str(tk.attribute(df, "s").dtype) == "string"
    assert tk.attribute(df, "i").dtype == "Int64"
    assert tk.attribute(df, "n").dtype == "Float64" and tk.attribute(df, "n").tolist()[:2] == [2.0, 2.5]
    assert tk.attribute(df, "f").dtype == "Float64"
    assert tk.attribute(df, "b").dtype == "boolean"
    mixed = tk.attribute(df, "m")
    assert mixed.dtype == object and mixed.tolist() == [1, "1", None]  # "1" is not 1
    huge = tk.attribute(df, "o")
    assert huge.dtype == object and huge[1] == big and type(huge[1]) is int  # beyond int64: exact
    assert tk.attribute(df, "d").tolist() == [{"k": 1}, [1], None]
    assert tk.attribute(df, "absent").isna().all()
    # booleans are not integers
    assert tk.attribute(_frame([{"x": True}, {"x": 2}]), "x").dtype == object


def test_default_keys_list_nested_paths_and_odd_cells():
    cells = [{"http.route": "/a", "metadata.default": {"order": {"id": 7}}}, {"http": {"route": "/b"}}, None,
             "not a dict", {}]
    df = _frame([{}] * len(cells))
    df["attributes"] = pd.Series(cells, dtype=object)  # odd cells as a user's edit leaves them (the builder refuses a str)
    assert tk.attribute(df, "http.route").tolist()[:2] == ["/a", "/b"]
    _same(tk.attribute(df, "metadata.default.order.id"), [7, None, None, None, None])
    filled = tk.attribute(df, "http.route", default="(none)")
    assert filled.tolist() == ["/a", "/b", "(none)", "(none)", "(none)"]
    both = df.tk.attr(["http.route", "metadata.default.order.id"])
    assert list(both.columns) == ["http.route", "metadata.default.order.id"] and both.index.equals(df.index)
    assert both["metadata.default.order.id"].dtype == "Int64"


def test_index_kept_input_untouched_and_result_plain():
    df = _frame([{"k": "v1"}, {"k": "v2"}, {"j": 1}]).set_index(pd.Index([10, 20, 30]))
    before = pickle.dumps(df)
    got = df.tk.attr("k", default="-")
    assert got.index.tolist() == [10, 20, 30] and got.tolist() == ["v1", "v2", "-"]
    assert pickle.dumps(df) == before
    assert df["attributes"].iloc[2] == {"j": 1}  # the default went to the result, not into the dicts
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(got)).to_numpy(), got.to_numpy())


def test_a_missing_column_is_a_clear_error():
    df = _frame([{"k": 1}]).drop(columns=["resource"])
    with pytest.raises(tk.SpansSchemaError, match="attribute: .*missing columns: resource"):
        tk.attribute(df, "k", column="resource")
    with pytest.raises(tk.SpansSchemaError, match="expected a spans DataFrame"):
        tk.attribute([{"k": 1}], "k")
    for key in (5, None, b"k", ["ok", 3], {"k"}):
        with pytest.raises(tk.ArgumentError, match="attribute: key must be a string or a list of strings"):
            tk.attribute(df.assign(resource=[{}]), key)
