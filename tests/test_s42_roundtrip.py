"""Session 42, writing and containers: spans -> write (OTLP, X-Ray, Parquet) -> read gives the same frame, and the
files the readers are handed in containers (gzip, ZIP, tar, gzip twice, gzip bombs) are read or refused with
their name and what is wrong (tracekit.io.write, tracekit.io._sources, spans_from_columns' duration_ms).

Truth by construction: durations are checked against ``fractions.Fraction`` (the exact ms of whole nanoseconds,
rounded once), archives are built in the test from a frame of known size."""

from __future__ import annotations

import gzip
import io
import tarfile
import warnings
import zipfile
from fractions import Fraction

import numpy as np
import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError, TraceKitError

TID = "5759e988bd862e3fe1be46a994272793"


def _spans(n: int = 12, seed: int = 0):
    """``n`` spans of one trace (a root and its children), ns times whose ms are not exact doubles."""
    rng = np.random.default_rng(seed)
    start = 1_700_000_000_000_000_000 + rng.integers(0, 10**9, n)
    dur = rng.integers(1, 10**10, n)
    ids = [f"{i + 1:016x}" for i in range(n)]
    return tk.spans_from_columns({
        "trace_id": [TID] * n, "span_id": ids, "parent_id": [None] + [ids[0]] * (n - 1),
        "service": ["shop"] * n, "name": [f"op{i}" for i in range(n)], "kind": ["server"] + ["internal"] * (n - 1),
        "start": start, "end": start + dur}, time_unit="ns")


@pytest.fixture(scope="module")
def spans():
    return _spans()


@pytest.fixture(scope="module")
def jsonl(spans, tmp_path_factory):
    p = tk.write_otlp(spans, tmp_path_factory.mktemp("s42rt") / "t.jsonl", batch=3)
    return p.read_bytes()


# --- duration_ms: one definition (whole ns / 1e6, rounded once) in spans_from_columns and in the readers -----------

def test_duration_ms_is_exact_ns_over_a_million_as_the_readers_give_it(spans, tmp_path):
    ns = spans["end"].array.asi8 - spans["start"].array.asi8
    exact = [float(Fraction(int(d), 10**6)) for d in ns]  # the double nearest the exact ms
    assert spans["duration_ms"].tolist() == exact
    # 6,504,592,762 ns: total_seconds() * 1e3 gave 6504.592761999999
    one = tk.spans_from_columns({"trace_id": [TID], "span_id": ["a" * 16], "start": [0], "end": [6_504_592_762]})
    assert one["duration_ms"].tolist() == [6504.592762]
    for back in (tk.read_otlp(tk.write_otlp(spans, tmp_path / "t.jsonl")),
                 tk.read_xray(tk.write_xray(spans, tmp_path / "t.json"))):  # (µs spans: whole µs here, so exact)
        back = back.set_index("span_id").loc[spans["span_id"]]
        ns_back = back["end"].array.asi8 - back["start"].array.asi8
        assert back["duration_ms"].tolist() == [float(Fraction(int(d), 10**6)) for d in ns_back]
    us = tk.spans_from_columns({"trace_id": [TID] * len(spans), "span_id": spans["span_id"],
                                "start": spans["start"].array.asi8 // 1000 * 1000,
                                "end": spans["end"].array.asi8 // 1000 * 1000}, time_unit="ns")
    xr = tk.read_xray(tk.write_xray(us, tmp_path / "u.json")).set_index("span_id").loc[us["span_id"]]
    assert xr["duration_ms"].tolist() == us["duration_ms"].tolist()


# --- write_xray: link attributes -------------------------------------------------------------------------------------

def test_write_xray_writes_link_attributes_of_every_type(spans, tmp_path):
    sp = spans.copy()
    links = [{"trace_id": "d" * 32, "span_id": "e" * 16,
              "attributes": {"blob": b"\x01\x02", "nan": float("nan"), "big": 2**70, "s": "é"}}]
    sp["links"] = [[] for _ in range(len(sp))]
    sp.at[3, "links"] = links
    before = [dict(x) for x in sp.at[3, "links"]]
    back = tk.read_xray(tk.write_xray(sp, tmp_path / "l.json"))  # was TypeError: Type is not JSON serializable: bytes
    got = back.set_index("span_id").at[sp.at[3, "span_id"], "links"]
    assert [(x["trace_id"], x["span_id"]) for x in got] == [("d" * 32, "e" * 16)]
    # bytes as base64 and NaN as text, as X-Ray metadata writes them; the wide int exact
    assert got[0]["attributes"] == {"blob": "AQI=", "nan": "nan", "big": 2**70, "s": "é"}
    assert sp.at[3, "links"] == before  # input not changed (bytes still bytes)


def test_write_xray_names_the_span_and_link_it_cannot_write(spans, tmp_path):
    sp = spans.copy()
    sp["links"] = [[] for _ in range(len(sp))]
    sp.at[2, "links"] = [{"trace_id": "d" * 32, "span_id": "e" * 16}, {"trace_id": "t1", "span_id": "e" * 16}]
    with pytest.raises(TraceKitError, match=rf"span '{sp.at[2, 'span_id']}'.*links\[1\].*'t1'"):
        tk.write_xray(sp, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


# --- archives and containers handed to a reader ----------------------------------------------------------------------

def _zip(data: bytes) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:  # stored (no compression): the JSON lines are in the file as they are
        z.writestr("../../x.jsonl", data)
    return b.getvalue()


def _tar(data: bytes) -> bytes:
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        info = tarfile.TarInfo("x.jsonl")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return b.getvalue()


@pytest.mark.parametrize("name, make, what", [
    ("t.zip", _zip, "a ZIP archive"), ("t.json", _zip, "a ZIP archive"), ("t.tar", _tar, "a tar archive"),
    ("t.tar.gz", lambda d: gzip.compress(_tar(d)), "a tar archive"),
    ("t.jsonl.gz.gz", lambda d: gzip.compress(gzip.compress(d)), "gzip data inside gzip data")])
def test_an_archive_is_refused_as_a_whole_never_read_as_json_lines(jsonl, tmp_path, name, make, what):
    p = tmp_path / name
    p.write_bytes(make(jsonl))
    with pytest.raises(TraceFormatError, match=what) as e:
        tk.read(p)
    assert str(e.value).startswith(f"{p}: not JSON: ")  # the file, not one of its lines
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read(p, errors="skip")  # was: 90 of 110 spans read out of a stored ZIP, 2 "binary" lines skipped
    assert len(df) == 0
    assert [(r.record, what in r.reason) for r in df.attrs["skipped"]] == [(None, True)]


def test_a_small_gzip_bomb_says_its_compressed_size_in_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", str(100_000))
    data = gzip.compress(b" " * 1_000_000)  # ~1 KB inflating to 1 MB
    p = tmp_path / "bomb.jsonl.gz"
    p.write_bytes(data)
    with pytest.raises(TraceFormatError) as e:
        tk.read(p)
    msg = str(e.value)
    assert str(p) in msg and "more than 100,000 bytes" in msg and f"from {len(data):,} bytes compressed" in msg
    assert "0 MiB" not in msg  # was: "more than 0 MiB (from 0 MiB compressed"


# --- where the writers write -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signals():
    logs = tk.logs_from_columns({"time": [10, 20], "body": ["a", "b"], "service": ["shop"] * 2})
    metrics = tk.metrics_from_columns({"time": [10, 20], "name": "cpu", "value": [0.5, 0.25], "service": "shop"})
    return logs, metrics


def test_writers_refuse_an_empty_path_or_a_directory_naming_themselves(spans, signals, tmp_path, monkeypatch):
    logs, metrics = signals
    monkeypatch.chdir(tmp_path)  # "" is the working directory: nothing may be written there
    calls = {"write_otlp": lambda p: tk.write_otlp(spans, p), "write_xray": lambda p: tk.write_xray(spans, p),
             "write_otlp_logs": lambda p: tk.write_otlp_logs(logs, p),
             "write_otlp_metrics": lambda p: tk.write_otlp_metrics(metrics, p),
             "write_parquet": lambda p: tk.write_parquet(spans, p)}
    for writer, call in calls.items():
        for path in ("", "  "):  # was IsADirectoryError: [Errno 21] (write_parquet: "'.' exists; pass overwrite=True")
            with pytest.raises(tk.ArgumentError, match=rf"^{writer}: path is empty"):
                call(path)
        if writer != "write_parquet":  # (a directory is a partitioned store's path)
            with pytest.raises(tk.ArgumentError, match=rf"^{writer}: path '{tmp_path}' is a directory"):
                call(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_gz_name_in_upper_case_is_gzipped(spans, signals, tmp_path):
    p = tk.write_otlp(spans, tmp_path / "T.JSONL.GZ")  # was written as plain text, which zcat refuses
    body = gzip.decompress(p.read_bytes())
    assert body.count(b"\n") == 1 and tk.read_otlp(p)["span_id"].tolist() == spans["span_id"].tolist()
    q = tk.write_otlp_logs(signals[0], tmp_path / "L.Jsonl.Gz")
    assert tk.read_logs(q)["body"].tolist() == ["a", "b"] and q.read_bytes()[:2] == b"\x1f\x8b"


def test_json_text_with_a_byte_order_mark_is_read_as_text_not_taken_for_a_path(spans, jsonl):
    text = "\ufeff" + jsonl.decode()  # open(p, encoding="utf-8").read() of a file written with a BOM
    for read in (tk.read, tk.read_otlp):  # was OSError: [Errno 36] File name too long: '\ufeff{"resourceSpans"…
        assert read(text)["span_id"].tolist() == spans["span_id"].tolist()


def test_a_gzip_bomb_opened_as_text_is_refused_at_the_cap(spans, jsonl, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", str(100_000))
    p = tmp_path / "bomb.jsonl.gz"
    p.write_bytes(gzip.compress(b" " * 1_000_000 + jsonl))
    for mode in ("rb", "rt"):  # "rt" was read whole, past the cap
        with gzip.open(p, mode) as f, pytest.raises(TraceFormatError, match="decompresses to more than 100,000 bytes"):
            tk.read(f)
    monkeypatch.delenv("TRACEKIT_MAX_DECOMPRESSED_BYTES")
    with gzip.open(p, "rt") as f:  # under the cap: read as text, as before
        assert tk.read(f)["span_id"].tolist() == spans["span_id"].tolist()


def test_a_txt_file_of_traces_in_a_directory_is_read_as_the_reader_reads_it(spans, tmp_path):
    parts = [tk.write_otlp(spans.iloc[[i, i + 6]], tmp_path / f"p{i}.jsonl").read_bytes() for i in range(6)]
    for p in tmp_path.iterdir():
        p.unlink()
    d = tmp_path / "traces"
    d.mkdir()
    made = {"plain.txt": parts[0], "bom.txt": b"\xef\xbb\xbf" + parts[1], "u16.txt": parts[2].decode().encode("utf-16"),
            "gz.txt": gzip.compress(parts[3]), "blank.txt": b" " * 5000 + parts[4], "lines.txt": b"\n" * 70_000 + parts[5],
            "LICENSE.txt": b"MIT License\n", "empty.txt": b"   \n"}
    for name, data in made.items():
        (d / name).write_bytes(data)
    df = tk.read(d)  # was: only plain.txt read (2 of 12 spans), the 5 others "not read: ... starts like JSON"
    assert sorted(df["span_id"]) == sorted(spans["span_id"])
    assert sorted(r.file.rsplit("/", 1)[-1] for r in df.attrs["ignored"]) == ["LICENSE.txt", "empty.txt"]


def test_a_directory_reads_trace_file_names_in_any_case(spans, tmp_path):
    d = tmp_path / "export"
    tk.write_otlp(spans.iloc[:4], d / "A.JSON", lines=False)
    tk.write_otlp(spans.iloc[4:8], d / "B.JSONL.GZ")  # (gzipped: the writers take .GZ as .gz)
    tk.write_xray(spans.iloc[8:], d / "C.Json")
    (d / "NOTES.MD").write_text("not traces")
    df = tk.read(d)  # was: no file read ('directory holds no file a reader reads'), cli's convert takes any case
    assert sorted(df["span_id"]) == sorted(spans["span_id"])
    assert [r.file.rsplit("/", 1)[-1] for r in df.attrs["ignored"]] == ["NOTES.MD"]
