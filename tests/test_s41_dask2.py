"""Session 41 review (dask2) of scale-out and storage: tk.dask against its pandas twins, and the Parquet spans store.

Each test pins a defect found by comparing a tk.dask path with the pandas function on spans built by construction
(partitions laid out by hand, so a trace's copies, statuses and in-progress roots sit where the case needs them).
Computed with Dask's synchronous scheduler: the defects are in what is computed, not where (the LocalCluster tests
live in tests/test_dask.py).
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

MS = 1_000_000


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _tid(i: int) -> str:
    return f"{i:032x}"


def _sid(i: int) -> str:
    return f"{i:016x}"


def _dask_of(parts: list[pd.DataFrame]):
    """A Dask frame whose partitions are exactly ``parts`` (in order)."""
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(lambda p: p, parts, meta=parts[0].iloc[:0], enforce_metadata=False)


def _findings(report: pd.DataFrame) -> list[tuple]:
    return sorted(zip(report["check"], report["subject"], report["traces_affected"], report["spans_affected"],
                      strict=True))


def _read_twice(order: str) -> pd.DataFrame:
    """One request: root a (0..100 ms) and child b read twice, 10..30 ms by service x with status ok and
    10..90 ms by service y with status error; ``order`` says which copy is the first row. The span is the longer
    copy (core.tree): b holds 80 ms of the critical path, with status error."""
    short = ("x", 30, "ok")
    long = ("y", 90, "error")
    b = [short, long] if order == "short-first" else [long, short]
    return tk.spans_from_columns({
        "trace_id": [_tid(1)] * 3, "span_id": [_sid(1), _sid(2), _sid(2)], "parent_id": [None, _sid(1), _sid(1)],
        "service": ["api", b[0][0], b[1][0]], "name": ["GET /", "q", "q"],
        "start": [0, 10 * MS, 10 * MS], "end": [100 * MS, b[0][1] * MS, b[1][1] * MS],
        "status": ["ok", b[0][2], b[1][2]]})


@pytest.mark.parametrize("order", ["short-first", "long-first"])
def test_breakdown_by_a_span_column_takes_the_copy_that_is_the_span(order):
    # before: the partition joined the first row of a span read twice: by status, 'ok' 100 ms (short-first) where
    # tk.critical_path_breakdown says 'error' 80 ms, 'ok' 20 ms
    spans = _read_twice(order)
    want = tk.critical_path_breakdown(tk.critical_path(spans), by="status", spans=spans)
    got = tk.dask.critical_path_breakdown(_dask_of([spans]), by="status").compute()
    assert dict(zip(want["status"], want["cp_ms"], strict=True)) == {"error": 80.0, "ok": 20.0}
    assert dict(zip(got["status"], got["cp_ms"], strict=True)) == {"error": 80.0, "ok": 20.0}


@pytest.mark.parametrize("by", ["route", "host", "version"])
def test_breakdown_by_a_named_key_equals_pandas(by):
    # before: a bare KeyError "['route'] not in index" (the partition read the key as a column, and the projection
    # had dropped the attributes and resource it is derived from)
    spans = tk.simulate.simulate("baseline", n_traces=12, seed=5).spans
    want = tk.critical_path_breakdown(tk.critical_path(spans), by=by, spans=spans)
    got = tk.dask.critical_path_breakdown(tk.dask.from_pandas(spans, 3), by=by).compute()
    keys = [c for c in want.columns if c not in ("cp_ms", "mean_ms", "share", "p50_ms", "p95_ms", "traces", "trace_share")]
    assert by in keys and len(want) > 1
    pd.testing.assert_frame_equal(got[keys], want[keys], check_dtype=False)
    assert got["traces"].tolist() == want["traces"].tolist()
    assert ((got["cp_ms"] - want["cp_ms"]).abs() <= 1e-9 * want["cp_ms"].abs().max()).all()


@pytest.mark.parametrize("order", ["in-progress-first", "complete-first"])
def test_failed_request_ratio_with_a_root_read_twice_in_a_partition_without_status(order):
    # partition 0 records no status; its one request's root was read twice: in progress (no end) and complete
    # (0..50 ms). The complete copy is the span (core.tree), so the request has a known outcome: 1 of 3 failed.
    # before (in-progress-first): '50.0% of 2 requests with a known outcome failed ... 1 request still in progress'
    ends = [None, 50 * MS] if order == "in-progress-first" else [50 * MS, None]
    a = tk.spans_from_columns({"trace_id": [_tid(1)] * 2, "span_id": [_sid(1)] * 2, "parent_id": [None, None],
                               "service": ["api"] * 2, "name": ["GET /"] * 2, "start": [0, 0], "end": ends})
    b = tk.spans_from_columns({"trace_id": [_tid(2), _tid(3)], "span_id": [_sid(2), _sid(3)], "parent_id": [None, None],
                               "service": ["api"] * 2, "name": ["GET /"] * 2, "start": [0, 0],
                               "end": [40 * MS, 30 * MS], "status": ["error", "ok"]})
    checks = ["failed_request_ratio"]
    want = tk.health_report(pd.concat([a, b], ignore_index=True), checks=checks)
    got = tk.dask.health_report(_dask_of([a, b]), checks=checks)
    assert want["value"].tolist() == [pytest.approx(1 / 3)]
    assert got["value"].tolist() == [pytest.approx(1 / 3)]
    assert got["explanation"].tolist() == want["explanation"].tolist()


def test_dask_reader_keeps_a_span_found_in_two_files_once(tmp_path):
    # an overlapping export: b.jsonl repeats one trace of a.jsonl (7 spans), and the in-progress copy of another
    # trace's root (the complete one is in a.jsonl). tk.read_otlp of the folder keeps every span once; before, the
    # Dask reader kept both copies (+8 rows) and its health report found 'duplicate_span_ids' the pandas one does not
    from tracekit.io.write import write_otlp

    spans = tk.simulate.simulate("baseline", n_traces=4, seed=1).spans
    t0, t1 = spans["trace_id"].unique()[:2]
    again = spans[spans["trace_id"] == t0]
    root1 = spans[(spans["trace_id"] == t1) & spans["parent_id"].isna()]
    root1 = root1.assign(end=pd.Series(pd.NaT, index=root1.index, dtype=root1["end"].dtype), duration_ms=float("nan"))  # NaT: still in progress
    write_otlp(spans, tmp_path / "a.jsonl")
    write_otlp(pd.concat([again, root1]), tmp_path / "b.jsonl")
    want = tk.read_otlp(tmp_path)
    ds = tk.dask.read_otlp(tmp_path, npartitions=2)
    got = ds.compute()
    assert len(want) == len(spans) and len(got) == len(spans)
    key = ["trace_id", "span_id"]
    cols = ["trace_id", "span_id", "start", "end"]
    pd.testing.assert_frame_equal(got.sort_values(key)[cols].reset_index(drop=True),
                                  want.sort_values(key)[cols].reset_index(drop=True))
    checks = ["duplicate_span_ids", "callee_only_services"]
    assert _findings(tk.dask.health_report(ds, checks=checks)) == _findings(tk.health_report(want, checks=checks))


def test_store_whose_parts_hold_an_extra_column_as_different_types_reads_back(tmp_path):
    # tk.dask.to_parquet writes a part per partition; an extra column is int64 in one (every value known) and
    # float64 in the other (NaN). Before: tk.read_parquet raised pyarrow's bare ArrowTypeError 'Array chunks must all
    # be same type' (also for two such stores read together); now the values as pandas joins the two parts
    spans = tk.simulate.simulate("baseline", n_traces=4, seed=0).spans
    first = spans["trace_id"].isin(spans["trace_id"].unique()[:2])
    a = spans[first].assign(retries=3).reset_index(drop=True)
    b = spans[~first].assign(retries=float("nan")).reset_index(drop=True)
    assert a["retries"].dtype == "int64" and b["retries"].dtype == "float64"
    store = tk.dask.to_parquet(_dask_of([a, b]), tmp_path / "store")
    want = pd.concat([a, b], ignore_index=True)["retries"]
    for back in (tk.read_parquet(store), tk.dask.read_parquet(store, lazy=False),
                 tk.read_parquet([tk.write_parquet(a, tmp_path / "a.parquet"), tk.write_parquet(b, tmp_path / "b.parquet")])):
        pd.testing.assert_series_equal(back["retries"], want)


def test_a_part_the_store_index_does_not_list_is_named_not_dropped_without_a_word(tmp_path):
    # a part written into a store directory after the store was made (an 'append' by hand): the index lists 2
    # files, so the 5 spans of part.2.parquet are not read. Before: no word (134 spans read, 139 in the folder)
    from tracekit.errors import TraceFormatWarning

    spans = tk.simulate.simulate("baseline", n_traces=6, seed=0).spans
    store = tk.dask.to_parquet(tk.dask.from_pandas(spans, 2), tmp_path / "store")
    tk.write_parquet(spans.iloc[:5], tmp_path / "store" / "part.2.parquet")
    with pytest.warns(TraceFormatWarning, match=r"1 Parquet file\(s\) .* not in its index .*part\.2\.parquet"):
        assert len(tk.read_parquet(store)) == len(spans)
    with pytest.warns(TraceFormatWarning, match=r"part\.2\.parquet"):
        assert len(tk.dask.read_parquet(store).compute()) == len(spans)
