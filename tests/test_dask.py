"""tk.dask: readers, Parquet cache and analyses on a 2-worker LocalCluster, compared with pandas.

Simulator datasets are written to files in three ways: traces cut across files (rows in order,
files cut mid-trace), rows scattered at random over files (nearly every trace split), and one
trace per file group (whole traces). The Dask result must equal the pandas result on the same
spans for every partitioning.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.io.write import write_otlp, write_xray

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

N_TRACES = 100


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       memory_limit="2GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def sim():
    """db-lock and context-drop spans (orphans, errors, missing parents) in one frame."""
    a = tk.simulate.simulate("db-lock", n_traces=N_TRACES, seed=3).spans
    b = tk.simulate.simulate("context-drop", n_traces=N_TRACES // 2, seed=4, orphan_share=0.5).spans
    return pd.concat([a, b], ignore_index=True)


@pytest.fixture(scope="module")
def files(sim, tmp_path_factory):
    """OTLP JSON-lines files: 'cut' (rows in order, 3 files cut mid-trace), 'scatter' (rows dealt
    at random over 4 files)."""
    root = tmp_path_factory.mktemp("dask")
    n = len(sim)
    out = {}
    cut = root / "cut"
    cut.mkdir()
    bounds = [0, n // 3 + 7, 2 * n // 3 + 3, n]
    for i in range(3):
        write_otlp(sim.iloc[bounds[i]:bounds[i + 1]], cut / f"part-{i}.jsonl", batch=100)
    out["cut"] = (cut, [sim.iloc[bounds[i]:bounds[i + 1]] for i in range(3)])
    sc = root / "scatter"
    sc.mkdir()
    deal = np.random.default_rng(0).integers(0, 4, size=n)
    for i in range(4):
        write_otlp(sim[deal == i], sc / f"part-{i}.jsonl.gz", batch=64)
    out["scatter"] = (sc, [sim[deal == i] for i in range(4)])
    return out


def _pandas_read(folder) -> pd.DataFrame:
    return tk.read_otlp(folder)


def _sorted(df: pd.DataFrame, keys=("trace_id", "span_id")) -> pd.DataFrame:
    return df.sort_values(list(keys), kind="stable").reset_index(drop=True)


def _split_ids(chunks: list[pd.DataFrame]) -> list[str]:
    seen: dict[str, int] = {}
    for c in chunks:
        for t in c["trace_id"].unique():
            seen[t] = seen.get(t, 0) + 1
    return sorted(t for t, k in seen.items() if k > 1)


# ------------------------------------------------------------------------------ readers


@pytest.mark.slow  # 2.6 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.parametrize("layout", ["cut", "scatter"])
def test_read_otlp_keeps_traces_whole_and_equals_pandas(client, files, layout):
    folder, chunks = files[layout]
    expected_split = _split_ids(chunks)
    assert len(expected_split) > 0  # the layout really splits traces across files
    raw = tk.dask.read_otlp(str(folder / "*.jsonl*"), shuffle=False)
    assert raw.npartitions == len(chunks)
    split = tk.dask.split_traces(raw)
    assert split["trace_id"].tolist() == expected_split
    ds = tk.dask.read_otlp(folder)
    assert ds.npartitions == len(chunks)
    assert len(tk.dask.split_traces(ds)) == 0
    got = ds.compute()
    pd.testing.assert_frame_equal(_sorted(got), _sorted(_pandas_read(folder)))
    assert set(got["source_file"]) == {str(p) for p in sorted(folder.iterdir())}
    ds5 = tk.dask.read_otlp([str(p) for p in sorted(folder.iterdir())], npartitions=5)
    assert ds5.npartitions == 5 and len(tk.dask.split_traces(ds5)) == 0


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_read_xray_and_sniffing_read(client, sim, tmp_path):
    ids = sim["trace_id"].unique()
    groups = [ids[:60], ids[60:130], ids[130:]]
    for i, g in enumerate(groups):  # X-Ray batch files hold whole traces
        write_xray(sim[sim["trace_id"].isin(g)], tmp_path / f"batch-{i}.json.gz")
    ds = tk.dask.read_xray(tmp_path, shuffle=False)
    expected = tk.read_xray(tmp_path)
    assert ds.npartitions == 3 and len(tk.dask.split_traces(ds)) == 0
    pd.testing.assert_frame_equal(ds.compute().reset_index(drop=True), expected)
    write_otlp(sim.iloc[:500], tmp_path / "extra.jsonl")
    both = tk.dask.read(tmp_path).compute()
    assert both["source"].value_counts().to_dict() == {"xray": len(expected), "otlp": 500}


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_reader_errors_name_the_path(client, tmp_path):
    with pytest.raises(tk.TraceKitError, match="no such file or directory: '.*nope.jsonl'"):
        tk.dask.read_otlp(str(tmp_path / "nope.jsonl"))
    with pytest.raises(tk.TraceKitError, match=r"no trace files in '.*\*\.json'"):
        tk.dask.read_otlp(str(tmp_path / "*.json"))
    with pytest.raises(tk.TraceKitError, match="errors must be"):
        tk.dask.read_otlp(str(tmp_path), errors="ignore")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"resourceSpans": []}\n{"resourceSpans": [\n')
    with pytest.raises(tk.TraceFormatError, match="bad.jsonl"):
        tk.dask.read_otlp(bad, shuffle=False).compute()


# ------------------------------------------------------------------------------ parquet


def _awkward_spans() -> pd.DataFrame:
    ms = 1_000_000
    return tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "parent_id": [None, "a" * 16, None], "service": ["api", "db", "ü-svc"], "name": ["GET /", "q", "x"],
        "kind": ["server", "client", "internal"], "status": ["ok", "error", "unset"],
        "start": [0, 1, 5 * ms], "end": [10 * ms, None, 6 * ms], "http_status": [200, None, 503],
        "attributes": [{"nan": float("nan"), "inf": float("-inf"), "n": None, "i": 2**62, "f": 1.0, "b": True,
                        "l": [1, "two", [3.5]], "d": {"x": {"y": []}}}, {}, {"quote": 'a"b\\c\n', "emoji": "🙂"}],
        "resource": [{"service.name": "api"}, {}, {"k": 1}],
        "events": [[{"time": 5, "name": "exception", "attributes": {"exception.message": "boom"}}], [], [{"time": None, "name": "e", "attributes": {}}]],
        "links": [[], [{"trace_id": "3" * 32, "span_id": "d" * 16, "trace_state": None, "flags": 1, "attributes": {}}], []],
        "in_progress": [False, True, False], "flags": [1, None, 0], "source": ["otlp"] * 3,
        "source_file": ["f.jsonl", None, "g"], "source_record": [1, 2, None],
    })


def test_parquet_pandas_round_trip_exact(tmp_path):
    spans = _awkward_spans()
    before = spans.copy(deep=True)
    p = tk.dask.to_parquet(spans, tmp_path / "c.parquet")
    pd.testing.assert_frame_equal(spans, before)  # input untouched
    back = tk.dask.read_parquet(p, lazy=False)
    pd.testing.assert_frame_equal(back, spans)
    a = back.loc[0, "attributes"]
    assert math.isnan(a["nan"]) and a["inf"] == float("-inf") and type(a["f"]) is float and a["i"] == 2**62
    # one store format: the pandas reader reads what tk.dask wrote, and the other way round
    pd.testing.assert_frame_equal(tk.read_parquet(p, materialize=True), spans)
    q = tk.write_parquet(spans, tmp_path / "pandas.parquet")
    pd.testing.assert_frame_equal(tk.dask.read_parquet(q).compute(), spans)
    with pytest.raises(tk.TraceKitError, match="exists; pass overwrite=True"):
        tk.dask.to_parquet(spans, p)
    tk.dask.to_parquet(spans.iloc[:1], p, overwrite=True)
    assert len(tk.dask.read_parquet(p, lazy=False)) == 1


def test_parquet_rejects_values_it_cannot_hold_exactly(tmp_path):
    spans = _awkward_spans()
    spans.at[1, "attributes"] = {"blob": b"\x00\x01", "t": (1, 2)}
    with pytest.raises(tk.TraceKitError, match=r"column 'attributes' row 1 key 't': cannot be stored exactly: a value of type tuple"):
        tk.dask.to_parquet(spans, tmp_path / "x")
    assert not (tmp_path / "x").exists()  # nothing half-written
    spans.at[1, "attributes"] = {"blob": b"\x00\x01"}  # bytes are kept
    back = tk.dask.read_parquet(tk.dask.to_parquet(spans, tmp_path / "x"), lazy=False)
    assert back.at[1, "attributes"] == {"blob": b"\x00\x01"}


@pytest.fixture
def memfs():
    """fsspec's in-memory filesystem under a prefix of this test's own (it is one per process: compute with
    the synchronous scheduler, the LocalCluster's worker processes do not share it)."""
    fsspec = pytest.importorskip("fsspec")
    import uuid

    fs = fsspec.filesystem("memory")
    root = f"/tk-store-{uuid.uuid4().hex[:8]}"
    yield fs, root
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_parquet_remote_round_trip_equals_local(memfs, tmp_path):
    fs, root = memfs
    spans = _awkward_spans()
    url = f"memory://{root}/one"
    assert tk.dask.to_parquet(spans, url) == url
    assert sorted(fs.ls(f"{root}/one", detail=False)) == [f"{root}/one/_tracekit.json", f"{root}/one/part.0.parquet"]
    local = tk.dask.to_parquet(spans, tmp_path / "one")
    back = tk.dask.read_parquet(url, lazy=False)
    pd.testing.assert_frame_equal(back, spans)
    pd.testing.assert_frame_equal(back, tk.dask.read_parquet(local, lazy=False))
    assert fs.cat_file(f"{root}/one/part.0.parquet") == (tmp_path / "one" / "part.0.parquet").read_bytes()
    pd.testing.assert_frame_equal(tk.read_parquet(url, materialize=True), spans)  # the pandas reader too
    # a hierarchical filesystem through fsspec (file://): the temporary directory is made, then moved into place
    furl = f"file://{tmp_path}/via-fsspec"
    tk.dask.to_parquet(spans.iloc[:2], furl)
    tk.dask.to_parquet(spans, furl, overwrite=True)
    assert sorted(os.listdir(tmp_path / "via-fsspec")) == ["_tracekit.json", "part.0.parquet"]
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    pd.testing.assert_frame_equal(tk.read_parquet(tmp_path / "via-fsspec", materialize=True), spans)
    # a Dask frame of 3 partitions: one part each, the same files as the local writer's, read lazily per part
    sim = tk.simulate.simulate("baseline", n_traces=30, seed=0).spans
    import dask

    with dask.config.set({"dataframe.convert-string": False}):  # keep the dict columns objects
        ds = dd.from_pandas(sim, npartitions=3, sort=False)
    with dask.config.set(scheduler="sync"):
        tk.dask.to_parquet(ds, f"memory://{root}/many")
        tk.dask.to_parquet(ds, tmp_path / "many")
        lazy = tk.dask.read_parquet(f"memory://{root}/many")
        assert lazy.npartitions == 3 and dict(lazy.dtypes) == dict(tk.empty_spans().dtypes)
        got = lazy.compute()
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{root}/many", detail=False)) == sorted(os.listdir(tmp_path / "many"))
    pd.testing.assert_frame_equal(got, tk.dask.read_parquet(tmp_path / "many").compute(scheduler="sync"))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), sim)
    assert not [p for p in fs.find(root) if ".tmp" in p]  # the temporary prefix is gone


def test_parquet_remote_overwrite_rules_and_bad_stores(memfs):
    fs, root = memfs
    spans = _awkward_spans()
    url = f"memory://{root}/s"
    tk.dask.to_parquet(spans, url)
    with pytest.raises(tk.TraceKitError, match="exists; pass overwrite=True"):
        tk.dask.to_parquet(spans, url)
    tk.dask.to_parquet(spans.iloc[:1], url, overwrite=True)
    assert len(tk.dask.read_parquet(url, lazy=False)) == 1
    # a value the store cannot hold fails while the parts are written: the old store stays, nothing is left over
    bad = spans.copy()
    bad.at[1, "attributes"] = {"t": (1, 2)}
    with pytest.raises(tk.TraceKitError, match="column 'attributes' row 1 key 't'"):
        tk.dask.to_parquet(bad, url, overwrite=True)
    assert len(tk.dask.read_parquet(url, lazy=False)) == 1
    assert sorted(fs.ls(root, detail=False)) == [f"{root}/s"]
    # never replaces what is not a store
    fs.pipe_file(f"{root}/notes/readme.txt", b"mine")
    with pytest.raises(tk.TraceKitError, match="is not a spans store; refusing to replace it"):
        tk.dask.to_parquet(spans, f"memory://{root}/notes", overwrite=True)
    assert fs.cat_file(f"{root}/notes/readme.txt") == b"mine"
    fs.pipe_file(f"{root}/file.parquet", b"not parquet")
    with pytest.raises(tk.TraceKitError, match="is not a spans store"):
        tk.dask.to_parquet(spans, f"memory://{root}/file.parquet", overwrite=True)
    with pytest.raises(tk.ArgumentError, match="names no directory"):
        tk.dask.to_parquet(spans, "memory://")
    # reading: a missing part, a newer index, a foreign file, no such path
    tk.dask.to_parquet(spans, f"memory://{root}/gap")
    fs.rm(f"{root}/gap/part.0.parquet")
    with pytest.raises(tk.TraceFormatError, match=r"missing: memory://.*/gap/part.0.parquet"):
        tk.dask.read_parquet(f"memory://{root}/gap")
    fs.pipe_file(f"{root}/gap/_tracekit.json", b'{"format": "tracekit.spans", "version": 99, "files": []}')
    with pytest.raises(tk.TraceFormatError, match="store version 99.*upgrade tracekit"):
        tk.dask.read_parquet(f"memory://{root}/gap", lazy=False)
    with pytest.raises(tk.TraceFormatError, match=r"memory://.*/file.parquet.*not a Parquet file"):
        tk.dask.read_parquet(f"memory://{root}/file.parquet", lazy=False)
    with pytest.raises(tk.TraceKitError, match="no such file or directory"):
        tk.dask.read_parquet(f"memory://{root}/none")


@pytest.mark.slow  # 1.4 s in the fast lane (2 loaded cores, issue 28)
def test_parquet_dask_round_trip_keeps_partitions(client, files, tmp_path):
    folder, _ = files["scatter"]
    ds = tk.dask.read_otlp(folder)
    whole = ds.compute().reset_index(drop=True)
    p = tk.dask.to_parquet(ds, tmp_path / "cache")
    assert sorted(os.listdir(p)) == ["_tracekit.json"] + [f"part.{i}.parquet" for i in range(4)]
    lazy = tk.dask.read_parquet(p)
    assert lazy.npartitions == 4 and len(tk.dask.split_traces(lazy)) == 0
    assert dict(lazy.dtypes) == dict(tk.empty_spans().dtypes)
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), whole)
    pd.testing.assert_frame_equal(tk.dask.read_parquet(p, lazy=False), whole)
    pd.testing.assert_frame_equal(tk.materialize(tk.read(p)), whole)


def test_store_partitioned_by_hour_read_by_dask_keeps_traces_whole(client, sim, tmp_path):
    """A pandas store partitioned by hour, read on the cluster: one partition per hour file,
    no trace cut, the analyses equal the pandas ones."""
    spans = sim.copy()
    # spread the traces over three hours so the store has three files
    tids = spans["trace_id"].unique()
    shift = pd.Series(np.arange(len(tids)) % 3, index=tids)
    off = pd.to_timedelta(spans["trace_id"].map(shift).to_numpy(dtype=np.int64) * 3600, unit="s")
    spans["start"] = spans["start"] + off
    spans["end"] = spans["end"] + off
    p = tk.write_parquet(spans, tmp_path / "hourly", partition_by="hour")
    ds = tk.dask.read_parquet(p)
    assert ds.npartitions >= 3 and len(tk.dask.split_traces(ds)) == 0
    pd.testing.assert_frame_equal(_sorted(ds.compute()), _sorted(spans))
    bd = tk.dask.critical_path_breakdown(ds, by="service").compute()
    want = tk.critical_path_breakdown(tk.critical_path(spans), by="service")
    assert bd["service"].tolist() == want["service"].tolist()
    np.testing.assert_allclose(bd["cp_ms"].to_numpy(), want["cp_ms"].to_numpy(), rtol=1e-9)


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_parquet_real_xray_and_otlp_round_trip(real_traces, tmp_path):
    for i, (reader, rel) in enumerate([(tk.read_xray, "otel-contrib-awsxray-testdata/ddbSample.txt"),
                                        (tk.read_xray, "aws-cli-examples-xray/batch-traces-get.rst.output.json"),
                                        (tk.read_otlp, "opentelemetry-proto/trace.json")]):
        spans = reader(real_traces / rel)
        assert len(spans)
        back = tk.dask.read_parquet(tk.dask.to_parquet(spans, tmp_path / f"r{i}"), lazy=False)
        pd.testing.assert_frame_equal(back, spans)


# ------------------------------------------------------------------------------ analyses


@pytest.fixture(scope="module")
def partitionings(client, files, sim):
    """The same spans as Dask frames partitioned several ways, with the pandas frame they equal."""
    folder, _ = files["cut"]
    base = _pandas_read(folder)
    before = base.copy(deep=True)
    frames = {
        "files-shuffled": tk.dask.read_otlp(folder),
        "seven": tk.dask.from_pandas(base, 7),
    }
    frames = {k: v.persist() for k, v in frames.items()}  # read and shuffle once for every test
    pd.testing.assert_frame_equal(base, before)  # from_pandas leaves its input alone
    return base, frames


@pytest.mark.slow  # 1.0 s in the fast lane (2 loaded cores, issue 28)
def test_critical_path_self_time_repeated_equal_pandas(partitionings):
    import dask

    base, parts = partitionings
    cp = _sorted(tk.critical_path(base), ("trace_id", "section_index"))
    st = _sorted(tk.self_time(base))
    rk = ("trace_id", "parent_span_id", "service", "name", "kind")
    rep = _sorted(tk.find_repeated_calls(base), rk)
    assert len(cp) > 1000 and len(rep) > 0
    # a request is trace_outcomes' (the callee's half of a dropped context is not one): its two halves must share
    # a partition (keep_requests_whole; from_pandas does it); read alone, a pair across partitions counts the
    # callee's half as a request of its own — on those traces only, as the module says
    cont = set(tk.trace_summary(base).dropna(subset=["continues"])["trace_id"])
    alone = _sorted(tk.dask.critical_path(parts["files-shuffled"]).compute(), ("trace_id", "section_index"))
    differ = set(alone.loc[alone["request"].to_numpy() != cp["request"].to_numpy(), "trace_id"])
    assert differ and differ <= cont
    for name, ds in parts.items():
        ds = tk.dask.keep_requests_whole(ds) if name == "files-shuffled" else ds
        got_cp, got_st, got_rep = dask.compute(tk.dask.critical_path(ds), tk.dask.self_time(ds), tk.dask.find_repeated_calls(ds))
        pd.testing.assert_frame_equal(_sorted(got_cp, ("trace_id", "section_index")), cp, obj=name)
        pd.testing.assert_frame_equal(_sorted(got_st), st, obj=name)
        pd.testing.assert_frame_equal(_sorted(got_rep, rk), rep, obj=name)


BREAKDOWNS = [("service", None), (["service", "name"], None), ("call_path", None), ("service", (95, 100)),
              ("http_status", None)]  # http_status is not a critical-path column: taken from the spans


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_critical_path_breakdown_equals_pandas(partitionings):
    import dask

    base, parts = partitionings
    cp = tk.critical_path(base)
    jobs, expected = [], []
    for by, window in BREAKDOWNS:
        e = tk.critical_path_breakdown(cp, by=by, spans=base, percentile_window=window)
        assert len(e) > 1
        for name, ds in parts.items():  # requests kept whole, as in test_critical_path_self_time_repeated_equal_pandas
            ds = tk.dask.keep_requests_whole(ds) if name == "files-shuffled" else ds
            jobs.append(tk.dask.critical_path_breakdown(ds, by=by, percentile_window=window))
            expected.append((e, f"{name} by={by} window={window}"))
    # from the Dask critical path as well
    jobs.append(tk.dask.critical_path_breakdown(tk.dask.critical_path(parts["seven"]), by="service"))
    expected.append((tk.critical_path_breakdown(cp), "from dask critical_path"))
    for got, (e, what) in zip(dask.compute(*jobs), expected, strict=True):
        pd.testing.assert_frame_equal(got, e, rtol=1e-9, obj=what)
        assert got.attrs["traces"] == e.attrs["traces"], what


_PCTS = ("p50_ms", "p95_ms", "p99_ms")
#: both engines take edge percentiles with core.percentile (inverted_cdf): compared with pandas, and
#: with the inverted_cdf of every call of the edge computed here
_PANDAS_GRAPH_PERCENTILES_MIGRATED = True


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_health_kernel_rows_equal_pandas(partitionings):
    base, parts = partitionings
    got, want = tk.dask.health_report(parts["seven"]), tk.health_report(base)
    for check in _HEALTH_NOT_YET_MIGRATED:
        g = got[got["check"] == check].sort_values("subject")
        w = want[want["check"] == check].sort_values("subject")
        assert g["value"].tolist() == w["value"].tolist() and g["spans_affected"].tolist() == w["spans_affected"].tolist()


def _edge_percentiles(spans, by):
    from tracekit.analysis import graph

    calls = graph.call_edges(spans, by)[0]
    return {(u, v): dict(zip(_PCTS, np.quantile(g["dur"].to_numpy(dtype=float), [0.5, 0.95, 0.99], method="inverted_cdf"),
                             strict=True))
            for (u, v), g in calls.groupby(["source", "target"])}


def _assert_graphs_equal(G, H, spans=None):
    assert G.graph == H.graph
    assert list(G.nodes) == list(H.nodes)  # same order too
    for v in H.nodes:
        _assert_attrs_equal(G.nodes[v], H.nodes[v], v)
    assert sorted(G.edges) == sorted(H.edges)
    truth = _edge_percentiles(spans, H.graph["by"]) if spans is not None and not _PANDAS_GRAPH_PERCENTILES_MIGRATED else None
    for e in H.edges:
        want = dict(H.edges[e])
        if truth is not None:
            assert all(want[p] == truth[e][p] for p in _PCTS), e
        _assert_attrs_equal(G.edges[e], want, e)


def _assert_attrs_equal(got: dict, want: dict, where) -> None:
    """Numbers equal to 1e-9 relative, everything else (names, flags) exactly."""
    assert got.keys() == want.keys(), where
    for k, w in want.items():
        if isinstance(w, float):
            assert got[k] == pytest.approx(w, rel=1e-9, nan_ok=True), (where, k)
        else:
            assert got[k] == w, (where, k)


@pytest.mark.slow  # 1.4 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.parametrize("by", ["service", "operation"])
def test_service_graph_equals_pandas(partitionings, by):
    base, parts = partitionings
    H = tk.service_graph(base, by=by)
    assert H.number_of_edges() > 5 and any(not d["instrumented"] for _, d in H.nodes(data=True))
    for ds in parts.values():
        _assert_graphs_equal(tk.dask.service_graph(ds, by=by), H, base)


@pytest.mark.slow  # 1.2 s in the fast lane (2 loaded cores, issue 28)
def test_service_graph_percentiles_equal_pandas(partitionings):
    base, parts = partitionings
    G, H = tk.dask.service_graph(parts["seven"]), tk.service_graph(base)
    truth = _edge_percentiles(base, "service")
    assert all(G.edges[e][p] == H.edges[e][p] == truth[e][p] for e in H.edges for p in _PCTS)


#: rows both engines compute in the kernel's terms (request latency p95 by core.percentile; failed spans
#: by core.failed): compared with pandas by test_health_kernel_rows_equal_pandas and with ground truth below
_HEALTH_NOT_YET_MIGRATED = ("p95_request_latency_ms", "span_error_rate")


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_health_report_equals_pandas(partitionings):
    base, parts = partitionings
    cols = ["check", "severity", "subject", "traces_affected", "spans_affected", "share", "value"]

    def norm(r):
        r = r[~r["check"].isin(_HEALTH_NOT_YET_MIGRATED)]
        return r[cols].sort_values(["check", "subject"]).reset_index(drop=True)

    expected = tk.health_report(base)
    assert {"orphan_spans", "span_error_rate", "p95_request_latency_ms", "top_call_path"} <= set(expected["check"])
    # ground truth of the kernel-defined rows, computed from the spans directly
    n_traces = base["trace_id"].nunique()
    roots = base[base["parent_id"].isna()].sort_values("start", kind="stable").drop_duplicates("trace_id")
    roots = roots[roots["trace_id"].isin(base.loc[base["parent_id"].isna(), "trace_id"])]
    req = roots.set_index("trace_id")["duration_ms"].dropna()
    p95 = np.quantile(req.to_numpy(dtype=float), 0.95, method="inverted_cdf")
    slowest = req[req >= p95].sort_values(ascending=False, kind="stable").index[:3].tolist()
    st = base["status"].astype(object).to_numpy()
    fault = base["fault"].to_numpy(dtype=bool, na_value=False)
    err4 = base["error"].to_numpy(dtype=bool, na_value=False)
    thr = base["throttle"].to_numpy(dtype=bool, na_value=False)
    failed_span = fault | ((st == "error") & ~err4 & ~thr)
    per_svc = pd.DataFrame({"svc": base["service"].to_numpy(dtype=object), "f": failed_span}).groupby("svc")["f"]
    for name, ds in parts.items():
        got = tk.dask.health_report(ds)
        pd.testing.assert_frame_equal(norm(got), norm(expected), rtol=1e-12, obj=name)
        # severity order kept, and examples are affected traces of the data
        sev = got["severity"].map({"error": 0, "warning": 1, "info": 2}).to_numpy()
        assert (np.diff(sev) >= 0).all()
        row = got[got["check"] == "p95_request_latency_ms"].iloc[0]
        assert row["value"] == p95 and row["example_trace_ids"] == slowest
        assert row["traces_affected"] == int((req >= p95).sum()) and row["share"] == (req >= p95).sum() / n_traces
        ser = got[got["check"] == "span_error_rate"].set_index("subject")
        assert ser["value"].to_dict() == pytest.approx(per_svc.mean().to_dict(), rel=1e-12)
        assert ser["spans_affected"].to_dict() == per_svc.sum().astype(int).to_dict()
    got = tk.dask.health_report(parts["seven"], checks=["top_call_path"], top_call_paths=2)
    exp = tk.health_report(base, checks=["top_call_path"], top_call_paths=2)
    assert got["subject"].tolist() == exp["subject"].tolist() and got["value"].tolist() == exp["value"].tolist()


@pytest.mark.slow  # 3.8 s in the fast lane (2 loaded cores, issue 28)
def test_real_nezha_trace_analyses_on_dask(client, real_traces):
    df = pd.read_csv(real_traces / "nezha/onlineboutique-2022-08-22/05_20_trace.csv",
                     dtype={"TraceID": str, "SpanID": str, "ParentID": str})
    spans = tk.spans_from_columns({
        "trace_id": df["TraceID"].str.lower(), "span_id": df["SpanID"].str.lower(),
        "parent_id": df["ParentID"].where(df["ParentID"] != "root").str.lower(),
        "service": df["PodName"].str.rsplit("-", n=2).str[0], "name": df["OperationName"],
        "start": df["StartTimeUnixNano"].astype("int64"), "end": df["EndTimeUnixNano"].astype("int64"),
    })
    assert (len(spans), spans["trace_id"].nunique()) == (5321, 116)
    ds = tk.dask.from_pandas(spans, 3)
    got = tk.dask.critical_path_breakdown(ds, by="service").compute()
    pd.testing.assert_frame_equal(got, tk.critical_path_breakdown(tk.critical_path(spans)), rtol=1e-9)
    _assert_graphs_equal(tk.dask.service_graph(ds), tk.service_graph(spans), spans)


@pytest.mark.slow  # 1.9 s in the fast lane (2 loaded cores, issue 28)
def test_fsspec_urls_and_file_scheme(sim, tmp_path):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    part = sim.iloc[:400]
    local = write_otlp(part, tmp_path / "a.jsonl", batch=50)
    fs.pipe("/tk-bench/a.jsonl", local.read_bytes())
    fs.pipe("/tk-bench/bad.jsonl", b'{"resourceSpans": [\n')
    # the memory filesystem lives in this process: compute with the synchronous scheduler
    got = tk.dask.read_otlp("memory://tk-bench/a*.jsonl", shuffle=False).compute(scheduler="sync")
    expected = tk.read_otlp(local)
    assert got["source_file"].unique().tolist() == ["memory:///tk-bench/a.jsonl"]  # fsspec spells the root out
    pd.testing.assert_frame_equal(got.drop(columns="source_file"), expected.drop(columns="source_file"))
    with pytest.raises(tk.TraceFormatError, match="memory:///tk-bench/bad.jsonl"):
        tk.dask.read_otlp("memory://tk-bench/bad.jsonl", shuffle=False).compute(scheduler="sync")
    with pytest.raises(tk.TraceKitError, match="no files match 'memory://tk-bench/none-\\*'"):
        tk.dask.read_otlp("memory://tk-bench/none-*")
    via_file = tk.dask.read_otlp(f"file://{local}", shuffle=False).compute(scheduler="sync")
    pd.testing.assert_frame_equal(via_file, expected)
