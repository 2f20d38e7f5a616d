"""Session 33, io: getting spans in and out (cache fingerprints, writers, containers the readers do not read).

Each test builds its data by construction and asserts the values that follow from it.
"""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.course_changes import course_changes
from tracekit.core.cache import clear_cache, fingerprint


def _traces(after: str, n: int, t0: int) -> pd.DataFrame:
    """``n`` traces: web GET calls db, then one internal step named ``after``; the same times in every trace."""
    cols = ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "kind")
    rows: dict[str, list] = {c: [] for c in cols}
    for i in range(n):
        tid, p = f"{t0 + i:032x}", f"{t0 + i:08x}"
        for row in ((tid, p + "00000001", None, "web", "GET", 0, 10, "server"),
                    (tid, p + "00000002", p + "00000001", "web", "call", 1, 4, "client"),
                    (tid, p + "00000003", p + "00000002", "db", "q", 2, 3, "server"),
                    (tid, p + "00000004", p + "00000001", "web", after, 5, 6, "internal")):
            for c, v in zip(cols, row, strict=True):
                rows[c].append(v)
    return tk.spans_from_columns(rows)


# --- the cache's fingerprint ---------------------------------------------------------------------


def test_frames_concatenated_from_cuts_of_other_lengths_fingerprint_apart():
    a, b = _traces("render", 4, 0x200), _traces("retry", 4, 0x300)
    x = pd.concat([a.iloc[:12], b.iloc[:4]], ignore_index=True)  # chunks: 12 rows of a, 4 of b
    y = pd.concat([a.iloc[:4], b.iloc[:12]], ignore_index=True)  # chunks: 4 rows of a, 12 of b
    assert (x["name"] != y["name"]).sum() == 2 and (x["trace_id"] != y["trace_id"]).sum() == 12
    for col in ("name", "trace_id", "span_id", "parent_id"):  # before: equal for each (the chunks' buffers are)
        assert not x[col].equals(y[col])
        assert fingerprint(x, [col]) != fingerprint(y, [col]), col


def test_course_changes_against_a_second_baseline_of_the_same_length_is_not_the_first_ones():
    incident = _traces("render", 8, 0x100)  # after the db call web renders, in every trace
    a, b = _traces("render", 4, 0x200), _traces("retry", 4, 0x300)
    x = pd.concat([a.iloc[:12], b.iloc[:4]], ignore_index=True)  # 3 of 4 traces render after the call
    y = pd.concat([a.iloc[:4], b.iloc[:12]], ignore_index=True)  # 1 of 4 renders: the incident's renders changed

    def changed(baseline):
        t = course_changes(incident, baseline)
        return float(t.loc[(t["caller"] == "web") & (t["callee"] == "db"), "changed"].iloc[0])

    clear_cache()
    alone = changed(y)
    clear_cache()
    assert changed(x) == 0.0
    # 8 render steps, the baseline predicts 8 x 1/4 = 2: 6 beyond, less two standard errors of the difference
    assert alone > 1.0
    assert changed(y) == alone  # before: 0.0, x's cached table


# --- writers: a failed write leaves what was there -------------------------------------------------


def test_a_write_otlp_that_fails_at_a_later_batch_leaves_the_file_that_was_there(tmp_path):
    spans = _traces("render", 10, 0x400)  # 40 spans
    path = tk.write_otlp(spans, tmp_path / "t.jsonl", batch=10)
    bad = spans.copy()
    bad["events"] = [list(e) for e in bad["events"]]
    bad.at[39, "events"] = [{"time": 2**70, "name": "e", "attributes": {}}]  # no OTLP time: refused at the 4th batch
    with pytest.raises(tk.TraceKitError, match=r"events\[\]\.time"):
        tk.write_otlp(bad, path, batch=10)
    assert len(tk.read(path)) == 40  # before: 30 (the first three batches over the 40 spans that were there)
    assert [p.name for p in tmp_path.iterdir()] == ["t.jsonl"]  # no temporary file left
    with pytest.raises(tk.TraceKitError):
        tk.write_otlp(bad, tmp_path / "new.jsonl.gz", batch=10)
    assert not (tmp_path / "new.jsonl.gz").exists()  # before: a file of 30 spans


def test_a_write_otlp_logs_that_fails_at_a_later_batch_leaves_the_file_that_was_there(tmp_path):
    t0 = 1_700_000_000_000_000_000
    logs = tk.logs_from_columns({"time": [t0 + i for i in range(20)], "body": [f"line {i}" for i in range(20)],
                                 "service": "api", "attributes": [{"i": i} for i in range(20)]})
    path = tk.write_otlp_logs(logs, tmp_path / "l.jsonl", batch=5)
    bad = logs.copy()
    bad["severity_number"] = pd.array([None] * 19 + [99], dtype="Int64")  # outside OTLP's 0-24: refused at the 4th batch
    with pytest.raises(tk.TraceKitError):
        tk.write_otlp_logs(bad, path, batch=5)
    assert len(tk.read_logs(path)) == 20  # before: 15


def test_writing_through_a_symbolic_link_replaces_its_target_and_keeps_the_link(tmp_path):
    spans = _traces("render", 3, 0x500)
    real = tk.write_otlp(spans, tmp_path / "real.jsonl")
    (tmp_path / "link.jsonl").symlink_to(real)
    tk.write_otlp(spans.iloc[:4], tmp_path / "link.jsonl")
    assert (tmp_path / "link.jsonl").is_symlink()
    assert len(tk.read(real)) == 4


# --- writers: text no encoder can write is named -------------------------------------------------


@pytest.mark.parametrize("writer", ["write_otlp", "write_xray", "write_parquet"])
@pytest.mark.parametrize("where", ["value", "key"])
def test_a_lone_surrogate_in_an_attribute_is_named_by_row_span_and_key(tmp_path, writer, where):
    spans = _traces("render", 2, 0x600)
    spans["attributes"] = [dict(a) for a in spans["attributes"]]
    spans.at[5, "attributes"].update({"user": "bad \udc80"} if where == "value" else {"us\udc80er": "x"})
    key = "'user'" if where == "value" else r"'us\\udc80er'"
    # before: TypeError "str is not valid UTF-8: surrogates not allowed" (orjson) or UnicodeEncodeError (pyarrow)
    with pytest.raises(tk.TraceKitError, match=rf"^{writer}: row 5 \(span '0000060100000002'\), column 'attributes' "
                                               rf"key {key}: text with a lone surrogate"):
        getattr(tk, writer)(spans, tmp_path / ("t.parquet" if writer == "write_parquet" else "t.json"))
    assert list(tmp_path.iterdir()) == []


def test_a_lone_surrogate_in_a_log_record_is_named(tmp_path):
    logs = tk.logs_from_columns({"time": [1_700_000_000_000_000_000] * 2, "body": ["a", "b"], "service": "api",
                                 "attributes": [{}, {}]})
    logs["attributes"] = [{}, {"path": ["/ok", "/\ud800"]}]
    with pytest.raises(tk.TraceKitError, match=r"^write_otlp_logs: row 1, column 'attributes' key 'path': text with"):
        tk.write_otlp_logs(logs, tmp_path / "l.jsonl")


# --- containers the readers do not open ----------------------------------------------------------


def _archives(tmp_path):
    import bz2
    import lzma
    import tarfile
    import zipfile

    src = tk.write_otlp(_traces("render", 2, 0x700), tmp_path / "a.jsonl")
    raw = src.read_bytes()
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        z.write(src, "a.jsonl")
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as t:
        t.add(src, "a.jsonl")
    (tmp_path / "a.jsonl.bz2").write_bytes(bz2.compress(raw))
    (tmp_path / "a.jsonl.xz").write_bytes(lzma.compress(raw))
    return src


@pytest.mark.parametrize(("name", "what"), [("z.zip", "a ZIP archive"), ("t.tar.gz", "a tar archive"),
                                            ("a.jsonl.bz2", "bzip2-compressed data"),
                                            ("a.jsonl.xz", "xz-compressed data")])
def test_an_archive_or_other_compression_is_named_as_such(tmp_path, name, what):
    _archives(tmp_path)
    # before: "not valid JSON: not UTF-8 text ... a Latin-1 file needs re-encoding, e.g. iconv" (zip, bz2, xz) and
    # "not JSON: file starts with b'././@PaxHeader...'" (tar.gz)
    for reader in (tk.read, tk.read_otlp, tk.read_xray, tk.read_logs):
        with pytest.raises(tk.TraceFormatError, match=rf"{name}: not JSON: {what}; the readers take JSON"):
            reader(tmp_path / name)


def test_an_archive_beside_trace_files_is_skipped_with_its_reason_and_the_files_load(tmp_path):
    src = _archives(tmp_path)
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read([tmp_path / "z.zip", src], errors="skip")
    assert len(df) == 8
    assert [(r.file.endswith("z.zip"), r.reason[:31]) for r in df.attrs["skipped"]] == [
        (True, "not JSON: a ZIP archive; the re")]


# --- spans_from_columns: duration_ms beside start and end -----------------------------------------


def _three(**cols):
    return tk.spans_from_columns({"trace_id": ["a" * 32] * 3, "span_id": ["b" * 16, "c" * 16, "d" * 16],
                                  "service": "api", "name": "x", **cols}, check=True)


def test_a_duration_that_contradicts_start_and_end_is_an_error_naming_the_row():
    # before: kept, a span from 0 to 1 ms said duration_ms 5.0 (validate_spans passed it)
    with pytest.raises(tk.SpansSchemaError, match=r"column 'duration_ms' row 0: 5.0 ms, but end − start is 1.0 ms"):
        _three(start=[0, 0, 0], end=[1_000_000, 2_000_000, 3_000_000], duration_ms=[5.0, 2.0, 3.0])


def test_a_duration_rounded_to_the_millisecond_gives_way_to_end_minus_start():
    s = _three(start=[0, 0, 0], end=[1_400_000, 2_000_000, 2_999_999], duration_ms=[1.0, 2.0, 3.0])
    assert s["duration_ms"].tolist() == pytest.approx([1.4, 2.0, 2.999999], abs=1e-9)  # before: [1.0, 2.0, 3.0]


def test_a_row_without_an_end_takes_start_plus_duration_as_without_an_end_column():
    s = _three(start=[0, 0, 0], end=[1_000_000, None, None], duration_ms=[1.0, 2.5, float("nan")])
    assert [None if pd.isna(e) else e.value for e in s["end"]] == [1_000_000, 2_500_000, None]
    assert s["duration_ms"].tolist()[:2] == [1.0, 2.5] and pd.isna(s["duration_ms"].iloc[2])
    assert s["in_progress"].tolist() == [False, False, True]  # before: row 1 in progress (no end) with 2.5 ms


# --- an empty JSON list is named ----------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray"])
def test_a_file_holding_an_empty_list_is_named_with_its_line(tmp_path, reader):
    (tmp_path / "e.json").write_text("[]")
    (tmp_path / "e.jsonl").write_text("[]\n[]\n")
    read = getattr(tk, reader)
    # before: TraceFormatError('no spans found'), naming neither file nor line
    with pytest.raises(tk.TraceFormatError, match=r"e\.json: no spans: the JSON list is empty$"):
        read(tmp_path / "e.json")
    with pytest.raises(tk.TraceFormatError, match=r"e\.jsonl, line 1: no spans: the JSON list is empty$"):
        read(tmp_path / "e.jsonl")
    with pytest.warns(tk.TraceFormatWarning):
        df = read(tmp_path / "e.jsonl", errors="skip")
    assert [(r.file.endswith("e.jsonl"), r.record, r.reason) for r in df.attrs["skipped"]] == [
        (True, "line 1", "no spans: the JSON list is empty")]
    write = tk.write_xray if reader == "read_xray" else tk.write_otlp
    src = write(_traces("render", 1, 0x800), tmp_path / "t.json")
    assert len(read([tmp_path / "e.json", src])) == 4  # beside spans an empty list is no error


# --- spans stores read together ------------------------------------------------------------------


def test_two_partitioned_stores_read_together_give_each_stores_rows_in_order(tmp_path):
    a = _traces("render", 6, 0x900).iloc[::-1].reset_index(drop=True)  # rows not in time order
    b = _traces("retry", 5, 0xA00)
    b["start"] = b["start"] + pd.Timedelta(hours=5)  # another hour: another file
    b["end"] = b["end"] + pd.Timedelta(hours=5)
    c = _traces("render", 3, 0xA80)
    tk.write_parquet(a, tmp_path / "a", partition_by="hour")
    tk.write_parquet(pd.concat([b, c], ignore_index=True), tmp_path / "bc", partition_by="hour")
    tk.write_parquet(b, tmp_path / "b.parquet")
    for paths, want in (([tmp_path / "a", tmp_path / "bc"], [a, b, c]), ([tmp_path / "b.parquet", tmp_path / "a"], [b, a]),
                        ([tmp_path / "a", tmp_path / "b.parquet"], [a, b])):
        for reader in (tk.read, tk.read_parquet):
            # before: [a, bc] raised TraceFormatError "column 'tracekit:row' numbers some row twice"
            got = reader(paths)
            assert got["span_id"].tolist() == [x for w in want for x in w["span_id"]], (reader.__name__, paths)


def test_a_store_read_beside_the_json_it_was_converted_from_gives_each_span_once(tmp_path):
    src = tk.write_otlp(_traces("render", 5, 0xB00), tmp_path / "a.jsonl")
    spans = tk.read(src)
    tk.write_parquet(spans, tmp_path / "a.parquet")
    tk.write_parquet(spans, tmp_path / "p", partition_by="hour")
    for paths in ([tmp_path / "a.parquet", src], [src, tmp_path / "a.parquet"], [tmp_path / "a.parquet", tmp_path / "p"]):
        df = tk.read(paths)
        # before: 40 rows (every span twice), copies_dropped 0; two copies of the JSON gave 20 and 20
        assert (len(df), df.attrs["copies_dropped"]) == (20, 20), paths
        assert sorted(df["span_id"]) == sorted(spans["span_id"])
    other = _traces("retry", 2, 0xC00)
    tk.write_parquet(other, tmp_path / "o.parquet")
    df = tk.read_parquet([tmp_path / "a.parquet", tmp_path / "o.parquet"])
    assert (len(df), df.attrs.get("copies_dropped", 0)) == (28, 0)  # different spans: all kept


def test_a_directory_holding_a_partitioned_store_beside_trace_files_reads_the_files_and_names_the_store(tmp_path):
    src = tk.write_otlp(_traces("render", 3, 0xD00), tmp_path / "a.jsonl")
    tk.write_parquet(tk.read(src), tmp_path / "store", partition_by="hour")  # `tracekit convert` output beside them
    # before: TraceFormatError "store/_tracekit.json: unknown trace format: a JSON object with keys format, version …"
    df = tk.read(tmp_path)
    assert len(df) == 12 and df.attrs["skipped"] == ()
    assert [(r.file.endswith("store"), r.reason.split(" (")[0]) for r in df.attrs["ignored"]] == [
        (True, "file not read: a spans store")]
    assert len(tk.read(tmp_path / "store")) == 12  # given itself, it is read
