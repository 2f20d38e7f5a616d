"""The spans store (tracekit.io.parquet, tracekit.io.containers): lossless round trips, lazy
container columns that read one key without building dicts, and hostile stores."""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.core.naming import callees, routes
from tracekit.io.parquet import INDEX_FILE, VERSION

REPO = Path(__file__).resolve().parents[1]
MS = 1_000_000


def _spans(attributes: list, resource: list | None = None, **cols) -> pd.DataFrame:
    n = len(attributes)
    return tk.spans_from_columns({
        "trace_id": [f"{i // 2 + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None if i % 2 == 0 else f"{i:016x}" for i in range(n)], "service": ["api"] * n,
        "name": [f"op{i % 3}" for i in range(n)], "kind": ["server", "client"] * (n // 2) + ["server"] * (n % 2),
        "start": [i * MS for i in range(n)], "end": [(i + 5) * MS for i in range(n)], "attributes": attributes,
        "resource": resource if resource is not None else [{"service.name": "api"}] * n, "source": ["otlp"] * n,
        **cols})


def _awkward() -> pd.DataFrame:
    attrs = [
        {"s": "x", "i": 2**62, "neg": -(2**63), "f": 1.0, "nan": float("nan"), "inf": float("-inf"), "b": True, "none": None,
         "l": [1, "two", [3.5, None]], "d": {"x": {"y": []}}, "bytes": b"\x00\xff", "big": 2**64 - 1},
        {},
        {"s": 5, "i": "five", "quote": 'a"b\\c\n', "emoji": "🙂", "f": 0},  # same keys, other types
        {"http.route": "/a/{id}", "http": {"route": "/nested"}, "z": -0.0},
        {"s": "y", "i": 3},
    ]
    return _spans(attrs, [{"service.name": "api", "n": 1}, {}, {"service.name": "api"}, {"k": [1]}, {"k": 2.5}],
                  events=[[{"time": 5, "name": "exception", "attributes": {"exception.message": "boom", "b": b"\x01"}}], [],
                          [{"time": None, "name": "e", "attributes": {}}], [], []],
                  links=[[], [{"trace_id": "3" * 32, "span_id": "d" * 16, "trace_state": None, "flags": 1, "attributes": {}}],
                         [], [], []],
                  http_status=[200, None, 503, None, 404], status_message=["", None, "x", None, None],
                  source_file=["f.jsonl", None, "g", "g", "g"], source_record=[1, 2, None, 4, 5], flags=[1, None, 0, 0, 0])


def _assert_same_cells(a: pd.Series, b: pd.Series) -> None:
    """Cell by cell, with the value types of nested values (int stays int, bytes stay bytes)."""
    def walk(x, y):
        assert type(x) is type(y), (x, y)
        if isinstance(x, dict):
            assert list(x) == list(y)  # key order kept
            for k in x:
                walk(x[k], y[k])
        elif isinstance(x, list):
            assert len(x) == len(y)
            for u, v in zip(x, y, strict=False):
                walk(u, v)
        elif isinstance(x, float) and math.isnan(x):
            assert math.isnan(y)
        else:
            assert x == y and (not isinstance(x, float) or math.copysign(1, x) == math.copysign(1, y))
    for x, y in zip(a.tolist(), b.tolist(), strict=False):
        walk(x, y)


def _assert_exact(back: pd.DataFrame, spans: pd.DataFrame) -> None:
    """assert_frame_equal, exact, except that the container cells (where NaN != NaN inside a dict)
    are compared by :func:`_assert_same_cells`, which also checks value types and key order."""
    cont = ["attributes", "resource", "events", "links"]
    pd.testing.assert_frame_equal(back.drop(columns=cont), spans.drop(columns=cont), check_exact=True)
    assert all(back[c].dtype == object for c in cont)
    for c in cont:
        _assert_same_cells(back[c], spans[c])


def test_round_trip_exact_with_value_types(tmp_path):
    spans = _awkward()
    spans.attrs["skipped"] = (tk.SkippedRecord("a.jsonl", "line 3", "line is not valid JSON"),)
    spans.attrs["ignored"] = ()
    spans.attrs["unprocessed_trace_ids"] = ("1-5759e988-bd862e3fe1be46a994272793",)
    before = spans.copy(deep=True)
    p = tk.write_parquet(spans, tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(spans, before)  # input untouched
    back = tk.read(p)
    assert str(back["attributes"].dtype) == "tracekit.lazy" and back["attributes"].array.is_lazy
    plain = tk.materialize(back)
    nan = spans.at[0, "attributes"].pop("nan")  # NaN == NaN is False inside a dict: compared cell by cell below
    back_nan = plain.at[0, "attributes"].pop("nan")
    pd.testing.assert_frame_equal(plain, spans, check_exact=True)
    spans.at[0, "attributes"]["nan"], plain.at[0, "attributes"]["nan"] = nan, back_nan
    for c in ("attributes", "resource", "events", "links"):
        _assert_same_cells(plain[c], spans[c])
    assert plain.attrs == spans.attrs
    assert tk.skipped_records(back).to_dict("records") == [{"file": "a.jsonl", "record": "line 3",
                                                            "reason": "line is not valid JSON"}]


def test_one_key_read_without_building_dicts(tmp_path):
    spans = _awkward()
    back = tk.read(tk.write_parquet(spans, tmp_path / "s.parquet"))
    for key in ("s", "i", "f", "nan", "bytes", "big", "l", "http.route", "missing", "z.q"):
        got, want = tk.attribute(back, key), tk.attribute(spans, key)
        pd.testing.assert_series_equal(got, want, check_exact=True)
    assert not back["attributes"].array.built().any()  # no dict was built (z holds a float: no nesting)
    for key in ("http.nothing", "d.x", "d.x.y"):
        pd.testing.assert_series_equal(tk.attribute(back, key), tk.attribute(spans, key), check_exact=True)
    # a dotted key absent as such is followed through the dicts of the cells that hold its head only
    assert tk.attribute(back, "http.route").tolist()[3] == "/a/{id}"
    assert tk.attribute(back, "d.x").tolist()[0] == {"y": []}
    assert back["attributes"].array.built().tolist() == [True, False, False, True, False]  # rows 0 (d), 3 (http)


def test_built_cells_are_kept_and_a_changed_dict_is_seen(tmp_path):
    spans = _awkward()
    back = tk.read(tk.write_parquet(spans, tmp_path / "s.parquet"))
    d = back.at[4, "attributes"]
    assert d == {"s": "y", "i": 3} and back.at[4, "attributes"] is d  # built once, then the same object
    d["s"] = "changed"
    assert tk.attribute(back, "s").tolist()[4] == "changed"  # built cells are read from their dicts
    sub = back[back["kind"] == "server"]  # a filtered frame stays lazy and shares the cells
    assert sub["attributes"].array.is_lazy and sub.at[4, "attributes"] is d
    # what a C-level reader sees: real dicts, never an empty placeholder
    assert orjson.loads(orjson.dumps(back["attributes"].iloc[1:].tolist())) == [{}, spans.at[2, "attributes"],
                                                                                 spans.at[3, "attributes"], d]
    assert all(type(a) is dict for a in back["attributes"].to_numpy())
    back.at[1, "attributes"] = {"new": 1}  # assignment makes the column plain, other cells as they were
    assert not back["attributes"].array.is_lazy and back.at[1, "attributes"] == {"new": 1}
    assert back.at[4, "attributes"] is d
    both = pd.concat([tk.read(tmp_path / "s.parquet"), spans], ignore_index=True)
    assert both["attributes"].dtype == object and both.at[0, "attributes"]["s"] == "x"


@pytest.mark.slow
def test_routes_callees_and_attribute_agree_on_datasets(tmp_path):
    files = sorted((REPO / "datasets").glob("*/*.jsonl.gz"))[:3] + sorted((REPO / "datasets").glob("checkout-incident/*.json.gz"))[:1]
    assert files
    for i, f in enumerate(files):
        spans = tk.read(f)
        back = tk.read(tk.write_parquet(spans, tmp_path / f"d{i}.parquet"))
        assert routes(back).equals(routes(spans))
        assert np.array_equal(callees(back), callees(spans))
        for key in ("http.route", "aws.operation", "http.response.status_code", "http.request.url", "db.system"):
            pd.testing.assert_series_equal(tk.attribute(back, key), tk.attribute(spans, key), check_exact=True)
        assert not back["attributes"].array.built().any()  # none of it built a dict
        # X-Ray metadata.default is a nested dict: only the cells that hold it are built to follow the path
        pd.testing.assert_series_equal(tk.attribute(back, "metadata.default.order_id"),
                                       tk.attribute(spans, "metadata.default.order_id"), check_exact=True)
        holds = np.array(["metadata.default" in a for a in spans["attributes"]], dtype=bool)
        assert not (back["attributes"].array.built() & ~holds).any()
        pd.testing.assert_frame_equal(tk.materialize(back), spans, check_exact=True)


@pytest.mark.slow
def test_bundled_and_real_files_round_trip_exactly(real_traces, tmp_path):
    files = sorted((REPO / "datasets").glob("*/spans*.gz")) + sorted((REPO / "datasets").glob("*/sampled*.gz"))
    real = [real_traces / rel for rel in ("otel-contrib-awsxray-testdata/ddbSample.txt",
                                          "aws-cli-examples-xray/batch-traces-get.rst.output.json",
                                          "opentelemetry-proto/trace.json")]
    real += sorted((real_traces / "otel-contrib-awsxray-testdata").glob("*.txt"))
    real += sorted((real_traces / "jaeger").rglob("*.json"))[:10]
    n = 0
    for i, f in enumerate(files + real):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", tk.TraceFormatWarning)  # lenient read: the skipped records are kept
                spans = tk.read(f, errors="skip")
        except tk.TraceFormatError:
            continue  # not trace data (a truth file, a fixture of something else)
        if not len(spans):
            continue
        back = tk.read_parquet(tk.write_parquet(spans, tmp_path / f"r{i}.parquet"), materialize=True)
        pd.testing.assert_frame_equal(back, spans, check_exact=True)
        for c in ("attributes", "resource", "events", "links"):
            _assert_same_cells(back[c], spans[c])
        assert back.attrs == spans.attrs
        n += 1
    assert n >= 15


_scalar = st.one_of(st.text(max_size=8), st.integers(min_value=-(2**63), max_value=2**64 - 1), st.floats(allow_nan=True),
                    st.booleans(), st.none(), st.binary(max_size=4))
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                      max_leaves=6)
_attrs = st.dictionaries(st.sampled_from(["a", "b", "http.route", "c.d", "x", "ü"]) | st.text(max_size=5), _value,
                         max_size=5)


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_attrs, min_size=1, max_size=8))
def test_generated_attribute_dicts_round_trip(tmp_path, attributes):
    spans = _spans(attributes)
    p = tk.write_parquet(spans, tmp_path / "h.parquet", overwrite=True)
    back = tk.read(p)
    for key in ("a", "http.route", "c.d", "ü"):
        pd.testing.assert_series_equal(tk.attribute(back, key), tk.attribute(spans, key), check_exact=True)
    plain = tk.materialize(back)
    _assert_same_cells(plain["attributes"], spans["attributes"])


def test_partitioned_store_comes_back_in_written_order(tmp_path):
    spans = _awkward()
    hour = 3600 * 10**9
    spans["start"] = spans["start"] + pd.to_timedelta([2 * hour, 2 * hour - 5 * 10**6, 0, 0, hour], unit="ns")
    spans["end"] = spans["start"] + pd.Timedelta(5, "ms")
    p = tk.write_parquet(spans, tmp_path / "store", partition_by="hour")
    index = json.loads((p / INDEX_FILE).read_text())
    assert [f["partition"] for f in index["files"]] == ["1970-01-01T00", "1970-01-01T01"]
    # trace 1 (rows 0, 1) goes where its first span starts, hour 1 (row 0 alone would be hour 2): whole
    assert [f["rows"] for f in index["files"]] == [2, 3]
    _assert_exact(tk.read_parquet(p, materialize=True), spans)
    days = tk.write_parquet(spans, tmp_path / "days", partition_by="day")
    assert len(json.loads((days / INDEX_FILE).read_text())["files"]) == 1
    with pytest.raises(tk.ArgumentError, match="partition_by must be"):
        tk.write_parquet(spans, tmp_path / "x", partition_by="minute")


def test_writing_never_replaces_an_input_or_a_store_without_overwrite(tmp_path):
    src = tmp_path / "in.jsonl"
    tk.write_otlp(_awkward().drop(columns=[]).iloc[[1, 4]], src)
    spans = tk.read(src)
    for overwrite in (False, True):
        with pytest.raises(tk.TraceKitError, match=r"refusing to write over .*in\.jsonl: the spans were read from"):
            tk.write_parquet(spans, src, overwrite=overwrite)
    with pytest.raises(tk.TraceKitError, match=r"in\.jsonl is not a spans store"):
        tk.write_parquet(spans.drop(columns=[]).assign(source_file="elsewhere"), src, overwrite=True)
    assert tk.read(src).equals(spans)  # the input is as it was
    p = tk.write_parquet(spans, tmp_path / "s.parquet")
    with pytest.raises(tk.TraceKitError, match="exists"):
        tk.write_parquet(spans.iloc[:1], p)
    tk.write_parquet(spans.iloc[:1], p, overwrite=True)
    assert len(tk.read(p)) == 1
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(tk.TraceKitError, match="directory that is not a spans store"):
        tk.write_parquet(spans, other, partition_by="day", overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.jsonl", "notes", "s.parquet"]  # no temporary left


def _rewrite_meta(src: Path, dst: Path, change) -> None:
    t = pq.read_table(src)
    meta = orjson.loads(t.schema.metadata[b"tracekit"])
    change(meta)
    pq.write_table(t.replace_schema_metadata({b"tracekit": orjson.dumps(meta)}), dst)


def test_hostile_stores_are_refused_naming_file_and_column(tmp_path):
    spans = _awkward()
    p = tk.write_parquet(spans, tmp_path / "s.parquet")
    data = p.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(tk.TraceFormatError, match=r"cut\.parquet: not a Parquet file, or truncated"):
        tk.read(cut)
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), foreign)
    with pytest.raises(tk.TraceFormatError, match=r"foreign\.parquet: a Parquet file that is not a spans store: no tracekit "
                                                  r"metadata and no column\(s\) trace_id, span_id"):
        tk.read(foreign)
    newer = tmp_path / "newer.parquet"
    _rewrite_meta(p, newer, lambda m: m.update(version=VERSION + 1))
    with pytest.raises(tk.TraceFormatError, match=rf"newer\.parquet: spans store version {VERSION + 1}; this tracekit "
                                                  rf"reads versions 1 to {VERSION}: upgrade tracekit"):
        tk.read(newer)
    t = pq.read_table(p)
    nocol = tmp_path / "nocol.parquet"
    pq.write_table(t.drop_columns(["attributes:s:s"]), nocol)
    with pytest.raises(tk.TraceFormatError, match=r"nocol\.parquet: column 'attributes:s:s' is missing"):
        tk.read(nocol)
    wrongtype = tmp_path / "wrongtype.parquet"
    pq.write_table(t.set_column(t.schema.get_field_index("start"), "start", pa.array(["x"] * len(t))), wrongtype)
    with pytest.raises(tk.TraceFormatError, match=r"wrongtype\.parquet: column 'start' is string, expected timestamp"):
        tk.read(wrongtype)
    badshape = tmp_path / "badshape.parquet"
    _rewrite_meta(p, badshape, lambda m: m["containers"]["attributes"]["shapes"].pop())
    with pytest.raises(tk.TraceFormatError, match=r"badshape\.parquet: column 'attributes': store metadata is not valid"):
        tk.read(badshape)


def test_version_0_store_of_old_tk_dask_is_converted(tmp_path):
    """tk.dask.to_parquet before version 1 wrote the container columns as JSON text, no metadata."""
    spans = _awkward().iloc[[1, 2, 4]].reset_index(drop=True)
    old = spans.copy()
    for c in ("attributes", "resource", "events", "links"):
        old[c] = [json.dumps(v) for v in old[c]]
    d = tmp_path / "cache"
    d.mkdir()
    old.to_parquet(d / "part.0.parquet", index=False)
    pd.testing.assert_frame_equal(tk.read_parquet(d, materialize=True), spans)
    pd.testing.assert_frame_equal(tk.read(d).astype({c: object for c in ("attributes", "resource", "events", "links")}),
                                  spans)


def test_read_mixes_stores_and_trace_files(tmp_path):
    src = tk.write_otlp(tk.simulate.simulate("baseline", n_traces=3, seed=0).spans, tmp_path / "b.jsonl")
    b = tk.read(src)
    a = tk.read(tk.write_otlp(tk.simulate.simulate("baseline", n_traces=3, seed=1).spans, tmp_path / "a.jsonl"))
    p = tk.write_parquet(a, tmp_path / "a.parquet")
    both = tk.read([p, src])
    assert len(both) == len(a) + len(b) and both["attributes"].dtype == object
    pd.testing.assert_frame_equal(both.iloc[len(a):].reset_index(drop=True), b)
    pd.testing.assert_frame_equal(both.iloc[: len(a)].reset_index(drop=True), a)
    # a store beside the JSON it was made of: each span once, as two copies of the JSON (io._copies)
    again = tk.read([tk.write_parquet(b, tmp_path / "b.parquet"), src])
    assert (len(again), again.attrs["copies_dropped"]) == (len(b), len(b))


def test_values_the_store_cannot_hold_exactly_are_refused(tmp_path):
    for bad, why in (({"t": (1, 2)}, "a value of type tuple"), ({"n": np.int64(3)}, "a value of type int64"),
                     ({"d": {1: "x"}}, "a dict key of type int")):  # (2**70: kept since session 36, test_s36_readers)
        spans = _spans([{"ok": 1}, bad])
        with pytest.raises(tk.TraceKitError, match=rf"column 'attributes' row 1 key '{next(iter(bad))}': cannot be stored "
                                                   rf"exactly: {why}"):
            tk.write_parquet(spans, tmp_path / "x.parquet")
        assert not (tmp_path / "x.parquet").exists()
    assert os.listdir(tmp_path) == []


def test_cli_convert_then_report_and_summary_read_the_store(tmp_path, capsys):
    from tracekit.cli import main

    src = REPO / "datasets" / "clock-skew" / "spans.jsonl.gz"
    out = tmp_path / "skew.parquet"
    assert main(["convert", str(src), str(out)]) == 0
    said = capsys.readouterr().out
    want = tk.read(src)
    assert said.startswith(f"wrote {out}: {len(want):,} spans, {want['trace_id'].nunique():,} traces")
    pd.testing.assert_frame_equal(tk.read_parquet(out, materialize=True), want, check_exact=True)
    assert main(["convert", str(src), str(out)]) == 1
    assert "exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["convert", str(src), str(out), "--overwrite", "--partition-by", "hour"]) == 0
    assert out.is_dir() and (out / INDEX_FILE).is_file()
    pd.testing.assert_frame_equal(tk.read_parquet(out, materialize=True), want, check_exact=True)
    assert main(["convert", str(out), str(out), "--overwrite"]) == 1
    assert "refusing to write the store over the input" in capsys.readouterr().err
    assert main(["summary", str(out)]) == 0
    assert f"spans: {len(want):,}" in capsys.readouterr().out
    html = tmp_path / "r.html"
    assert main(["report", str(out), "-o", str(html), "--no-progress"]) == 0
    text = html.read_text()
    assert "part.0.parquet" in text and INDEX_FILE in text  # the store's files are the recorded inputs
    # tk.report takes the store's path too
    assert tk.report(out, tmp_path / "r2.html").read_text().count("part.0.parquet") >= 1


def test_read_progress_bar_advances_over_files(tmp_path, capsys, monkeypatch):
    tqdm = pytest.importorskip("tqdm").tqdm
    import tracekit.io._progress as progress_module

    bars = []

    class Recorded(tqdm):  # what the bar reached when it closed (the text shown depends on refresh timing)
        def close(self):
            bars.append((self.n, self.total, self.desc))
            super().close()

    monkeypatch.setattr(progress_module, "_tqdm", lambda: Recorded)
    files = sorted((REPO / "datasets" / "checkout-incident").glob("*.json.gz"))[:2]
    tk.read(files, progress=True)
    sizes = sum(f.stat().st_size for f in files)
    assert bars and set(bars) == {(sizes, sizes, "reading traces")}  # every byte of both files counted, once (close may run twice)
    assert "reading" in capsys.readouterr().err
    tk.write_parquet(tk.read(files[0]), tmp_path / "s.parquet", progress=True)
    assert "span" in capsys.readouterr().err


def test_dask_read_sniffs_a_store(tmp_path):
    pytest.importorskip("dask.dataframe")
    spans = tk.simulate.simulate("baseline", n_traces=12, seed=2).spans
    p = tk.write_parquet(spans, tmp_path / "s", partition_by="day")
    ds = tk.dask.read(p)
    assert ds.npartitions == 1 and dict(ds.dtypes) == dict(tk.empty_spans().dtypes)
    pd.testing.assert_frame_equal(ds.compute(scheduler="sync").reset_index(drop=True), spans, check_exact=True)


@pytest.mark.slow
def test_analyses_give_the_same_results_on_a_reopened_store(tmp_path):
    """The lazy columns are honest: analyses that read attributes, events and links (health,
    exceptions, error origins, PII, comparison, graph) return what they return on the JSON read."""
    spans = tk.read(REPO / "datasets" / "checkout-incident" / "spans-001.json.gz")
    lazy = tk.read(tk.write_parquet(spans, tmp_path / "s.parquet"))
    for fn in (tk.health_report, tk.top_exceptions, tk.error_origins, tk.find_pii, tk.critical_path, tk.trace_summary):
        pd.testing.assert_frame_equal(fn(lazy), fn(spans))
    pd.testing.assert_frame_equal(tk.compare(lazy, lazy.iloc[:3000], by="operation", n_boot=50).table,
                                  tk.compare(spans, spans.iloc[:3000], by="operation", n_boot=50).table)
    G, H = tk.service_graph(lazy), tk.service_graph(spans)
    assert sorted(G.edges) == sorted(H.edges) and all(G.edges[e]["calls"] == H.edges[e]["calls"] for e in H.edges)
    assert [f.text for f in tk.postmortem(lazy).findings] == [f.text for f in tk.postmortem(spans).findings]


def test_varying_attribute_key_sets_read_back_and_a_column_not_matching_its_shapes_is_refused(tmp_path):
    """Spans with 10 of 200 attribute keys each (many shapes): the store reads back exactly (its per-column count
    check is now one pass over the shapes' keys; scanning every shape per column read at 50x read_otlp), and a
    column whose values do not match what its shapes say is still refused, naming it."""
    rng = np.random.default_rng(3)
    n = 400
    attrs = [{f"k{j}": (int(j) if j % 2 else f"v{j}") for j in rng.choice(200, 10, replace=False)} for _ in range(n)]
    spans = _spans(attrs)
    p = tk.write_parquet(spans, tmp_path / "s.parquet")
    back = tk.read(p)
    assert back["attributes"].tolist() == attrs
    t = pq.read_table(p)
    meta = orjson.loads(t.schema.metadata[b"tracekit"])
    name = meta["containers"]["attributes"]["columns"][0][2]  # a typed column: (key, type code, column name)
    i = t.schema.get_field_index(name)
    col = t.column(i).to_pylist()
    j = next(x for x, v in enumerate(col) if v is not None)
    col[j] = None  # one value fewer than the shapes say
    bad = tmp_path / "bad.parquet"
    pq.write_table(t.set_column(i, name, pa.array(col, type=t.schema.field(i).type)), bad)
    with pytest.raises(tk.TraceFormatError, match=rf"bad\.parquet: column '{re.escape(name)}' holds \d+ values, its "
                                                  r"shapes say \d+"):
        list(tk.read(bad)["attributes"])
