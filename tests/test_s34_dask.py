"""Session 34 review of scale-out with Dask and the Parquet spans store (tk.dask, tracekit.io.parquet).

Each test pins a defect found by comparing a tk.dask path with its pandas twin on data whose answer is
known by construction. Computed with Dask's synchronous scheduler (the LocalCluster tests live in
tests/test_dask.py): the defects are in what is computed, not where.
"""

from __future__ import annotations

import datetime
import uuid

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import TraceKitError

dask = pytest.importorskip("dask")
pytest.importorskip("dask.dataframe")


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def spans():
    return tk.simulate.simulate("baseline", n_traces=30, seed=0).spans


def _with_extras(spans: pd.DataFrame) -> pd.DataFrame:
    s = spans.copy()
    s["row_no"] = np.arange(len(s), dtype=np.int64)  # an extra int column: its sum is known
    s["team"] = pd.array(np.where(s["service"].to_numpy(dtype=object) == "frontend", "web", "core"), dtype="string")
    return s


@pytest.mark.parametrize("how", ["write_parquet", "to_parquet dask", "memory url"])
def test_dask_store_reader_meta_has_the_stores_extra_columns(spans, tmp_path, how):
    """A store with extra columns: tk.dask.read_parquet's frame named only the schema's 26 columns, so
    ds["row_no"] and a breakdown by a stored column were bare KeyErrors though .compute() held them."""
    s = _with_extras(spans)
    if how == "write_parquet":
        path = tk.write_parquet(s, tmp_path / "s.parquet")
    elif how == "to_parquet dask":
        path = tk.dask.to_parquet(tk.dask.from_pandas(s, 3), tmp_path / "store")  # traces whole in 3 parts
    else:
        fsspec = pytest.importorskip("fsspec")
        root = f"/tk-s34-{uuid.uuid4().hex[:8]}"
        path = tk.dask.to_parquet(s, f"memory://{root}/store")
    try:
        ds = tk.dask.read_parquet(path)
        got = ds.compute()
        assert list(ds.columns) == list(got.columns) == list(s.columns)
        assert dict(ds.dtypes) == dict(got.dtypes)
        assert int(ds["row_no"].sum().compute()) == len(s) * (len(s) - 1) // 2
        assert sorted(ds["team"].unique().compute()) == ["core", "web"]
        want = tk.critical_path_breakdown(tk.critical_path(s), by="team", spans=s)
        pd.testing.assert_frame_equal(tk.dask.critical_path_breakdown(ds, by="team").compute(), want, rtol=1e-9)
    finally:
        if how == "memory url":
            fsspec.filesystem("memory").rm(root, recursive=True)


def test_dask_store_reader_meta_of_a_plain_store_is_the_schema(spans, tmp_path):
    path = tk.write_parquet(spans, tmp_path / "s.parquet")
    ds = tk.dask.read_parquet(path)
    assert list(ds.columns) == list(tk.empty_spans().columns) == list(ds.compute().columns)


class _Colour(__import__("enum").Enum):
    RED = "red"


@pytest.mark.parametrize("value, kind", [((1, 2), "tuple"), (datetime.datetime(2024, 1, 1), "datetime"),
                                         (uuid.UUID(int=7), "UUID"), (_Colour.RED, "_Colour"),
                                         ({"when": datetime.date(2024, 1, 1), "k": "null"}, "date")])
def test_shuffle_refuses_values_json_would_change(spans, value, kind):
    """keep_traces_whole moves the dict/list columns as JSON: a tuple came back a list, a datetime, UUID or Enum as
    its text, without a word (5 of 5 such values changed); a date beside the text 'null' was a bare TypeError. The
    store refuses these values naming the cell; the shuffle now does too."""
    s = spans.copy()
    attrs = [dict(a) for a in s["attributes"]]
    attrs[4]["odd"] = value
    s["attributes"] = attrs
    with pytest.raises(TraceKitError, match=rf"column 'attributes' row 4: .*a value of type {kind}"):
        tk.dask.from_pandas(s, 2).compute()
    assert s["attributes"].iloc[4]["odd"] is value  # the input is left alone


def test_shuffle_moves_exact_values_unchanged(spans):
    """Everything the store keeps (bar bytes, which JSON cannot hold) crosses the shuffle exactly, "null" text and
    NaN included."""
    s = spans.copy()
    attrs = [dict(a) for a in s["attributes"]]
    odd = {"n": None, "t": "null", "nan": float("nan"), "inf": float("-inf"), "big": 2**63 - 1, "neg": -(2**63),
           "nested": {"l": [1, 2.5, [True, {"x": "ü"}]]}, "empty": {}}
    attrs[3].update(odd)
    s["attributes"] = attrs
    back = tk.dask.from_pandas(s, 3).compute().set_index("span_id")
    got = back.loc[s["span_id"].iloc[3], "attributes"]
    assert np.isnan(got.pop("nan"))
    assert got == {k: v for k, v in attrs[3].items() if k != "nan"}
    assert type(got["big"]) is int and type(got["nested"]["l"]) is list


def _typed_extras(spans: pd.DataFrame) -> pd.DataFrame:
    s = spans.copy()
    n = len(s)
    s["retries"] = pd.array([2**60 + 1 if i % 3 == 0 else None for i in range(n)], dtype="Int64")
    s["tier"] = pd.Categorical(np.where(np.arange(n) % 2 == 0, "gold", "free"))
    s["seen"] = s["start"]  # a tz-aware time
    s["ok"] = np.arange(n) % 5 != 0
    s["row_no"] = np.arange(n, dtype=np.int64)
    return s


@pytest.mark.parametrize("partition_by", [None, "hour"])
def test_store_round_trip_keeps_extra_column_dtypes(spans, tmp_path, partition_by):
    """write_parquet records each extra column's pandas metadata but read_parquet did not use it: an Int64 column
    with a missing value came back float64 (2**60 + 1 read as 1152921504606846976, off by one) and a categorical
    came back as text. Now the frame written comes back equal, extras included, and tk.dask.read_parquet's
    frame says the same dtypes."""
    s = _typed_extras(spans)
    path = tk.write_parquet(s, tmp_path / "s", partition_by=partition_by)
    back = tk.read_parquet(path, materialize=True)
    pd.testing.assert_frame_equal(back, s)
    assert back["retries"].iloc[0] == 2**60 + 1 and back["retries"].isna().sum() == s["retries"].isna().sum()
    ds = tk.dask.read_parquet(path)
    assert [str(t) for t in ds.dtypes] == [str(t) for t in ds.compute().dtypes] == [str(t) for t in s.dtypes]


@pytest.mark.parametrize("path", [None, 5, [], ["a.parquet", "b.parquet"]])
@pytest.mark.parametrize("lazy", [True, False])
def test_dask_read_parquet_bad_path_is_an_argument_error(path, lazy):
    """tk.dask.read_parquet(None / 5 / a list) was a bare TypeError from os.stat (lazy) or from iterating an int
    (lazy=False): 7 of 8 cases. Its path is one store."""
    with pytest.raises(tk.ArgumentError, match="read_parquet: .*path"):
        tk.dask.read_parquet(path, lazy=lazy)


@pytest.mark.parametrize("path", [None, 5, [3], ("a", 1.5)])
def test_read_parquet_bad_path_is_an_argument_error(path):
    with pytest.raises(tk.ArgumentError, match="read_parquet: .*path"):
        tk.read_parquet(path)


def test_to_parquet_bad_path_is_an_argument_error(spans):
    for path in (None, 5, ["x"]):
        with pytest.raises(tk.ArgumentError, match="to_parquet: path must be"):
            tk.dask.to_parquet(spans, path)


@pytest.mark.parametrize("checks", [["span_error_rate"], ["p95_request_latency_ms"],
                                    ["span_error_rate", "p95_request_latency_ms"]])
def test_health_report_of_rebuilt_checks_alone_has_the_pandas_dtypes(checks):
    """With only the checks rebuilt from partial counts, tk.dask.health_report's text columns (check, severity,
    subject, explanation, what_to_do) were object where tk.health_report's are str: 5 of 10 columns differed."""
    spans = tk.simulate.simulate("db-lock", n_traces=60, seed=5).spans
    want = tk.health_report(spans, checks=checks)
    got = tk.dask.health_report(tk.dask.from_pandas(spans, 3), checks=checks)
    assert len(want) > 0
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    cols = ["check", "severity", "subject", "traces_affected", "spans_affected", "share", "value"]
    key = ["check", "subject"]
    pd.testing.assert_frame_equal(got[cols].sort_values(key).reset_index(drop=True),
                                  want[cols].sort_values(key).reset_index(drop=True), rtol=1e-12)
