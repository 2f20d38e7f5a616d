"""One walk of a folder for every reader, tk.dask and the report (``_sources.walk``): each file it does not read
is named with why — the readers in ``attrs["ignored"]``, tk.dask (whose frames keep no attrs) in one
TraceFormatWarning, the report under "What was analysed". Before, tk.dask and the report passed a README, a
``.DS_Store`` or a CSV beside the traces over without a word, and no reader named a hidden file or folder.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

import tracekit as tk
from tracekit.io._sources import FILE_NOT_READ, walk

NOT_READ = {"README.md", ".DS_Store", "latency.csv", ".ipynb_checkpoints", "LICENSE.txt"}


def _folder(tmp_path: Path) -> Path:
    """A folder of traces as users keep them: two trace files (one in a sub-folder) and what lies beside them."""
    d = tmp_path / "traces"
    (d / "sub").mkdir(parents=True)
    spans = tk.read(tk.examples.path("checkout-small"))
    from tracekit.io.write import write_otlp

    ids = sorted(spans["trace_id"].unique())
    write_otlp(spans[spans["trace_id"].isin(ids[: len(ids) // 2])], d / "a.jsonl")
    write_otlp(spans[~spans["trace_id"].isin(ids[: len(ids) // 2])], d / "sub" / "b.json.gz")
    (d / "README.md").write_text("# what these traces are\n")
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (d / "sub" / "latency.csv").write_text("time,ms\n")
    (d / "LICENSE.txt").write_text("MIT\n")
    (d / ".ipynb_checkpoints").mkdir()
    shutil.copy(d / "a.jsonl", d / ".ipynb_checkpoints" / "a-checkpoint.jsonl")  # read, it would double every span
    return d


def _names(records) -> set[str]:
    return {Path(r.file).name for r in records if r.reason.startswith(FILE_NOT_READ)}


def test_the_walk_reads_the_trace_files_and_names_every_other(tmp_path):
    d = _folder(tmp_path)
    w = walk(d)
    assert [p.relative_to(d).as_posix() for p in w.files] == ["a.jsonl", "sub/b.json.gz"]
    assert {p.name for p, _ in w.not_read} == NOT_READ
    why = {p.name: r for p, r in w.not_read}
    assert "hidden folder" in why[".ipynb_checkpoints"] and "hidden file" in why[".DS_Store"]
    assert "starts like JSON" in why["LICENSE.txt"] and "only files named" in why["README.md"]


@pytest.mark.parametrize("reader", [tk.read, tk.read_otlp])
def test_every_reader_names_the_files_it_did_not_read(tmp_path, reader):
    d = _folder(tmp_path)
    df = reader(d)
    assert len(df) == len(tk.read(tk.examples.path("checkout-small")))  # the checkpoint copy is not read
    assert _names(df.attrs["ignored"]) == NOT_READ


def test_the_signal_readers_name_them_too(tmp_path):
    d = tmp_path / "signals"
    d.mkdir()
    (d / "logs.jsonl").write_text(json.dumps({"msg": "read", "time": "2025-11-25T10:00:00Z"}) + "\n")
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (d / "README.md").write_text("x\n")
    assert _names(tk.read_logs(d).attrs["ignored"]) == {".DS_Store", "README.md"}
    (d / "logs.jsonl").unlink()
    (d / "m.jsonl").write_text(json.dumps({"Label": "Latency", "Datapoints": [
        {"Timestamp": "2025-11-25T10:00:00Z", "Average": 1.0, "Unit": "Milliseconds"}]}) + "\n")
    assert _names(tk.read_metrics(d).attrs["ignored"]) == {".DS_Store", "README.md"}


def test_dask_says_which_files_of_a_folder_it_does_not_read(tmp_path):
    pytest.importorskip("dask")
    d = _folder(tmp_path)
    with pytest.warns(tk.TraceFormatWarning, match=r"tk\.dask: 5 file\(s\) of the folders given are not read") as w:
        ds = tk.dask.read(d, shuffle=False)
    said = str(w[0].message)
    assert all(n in said for n in NOT_READ)
    assert len(ds.compute()) == len(tk.read(d))  # the same files as the pandas reader
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file given by name: nothing to say
        tk.dask.read(str(d / "a.jsonl"), shuffle=False)


def test_the_report_names_the_files_of_its_folders_it_did_not_read(tmp_path):
    from tracekit.reporting import build_report_from_files, files_not_read

    d = _folder(tmp_path)
    assert {Path(f).name for f, _ in files_not_read([d])} == NOT_READ
    html = build_report_from_files([str(d)], tmp_path / "r.html", progress=False).read_text()
    section = html[html.index('id="not-read"'):].replace("<wbr>", "")  # (long paths are given break points)
    section = section[:section.index("</table>")]
    assert "5 files of the folders given were not read" in section
    assert all(n in section for n in NOT_READ)
