"""Readers (session 38, readers5): what a repeated identity key costs and where the readers look for one.

1. read_xray: a Document whose fast-path key counts differ (an identity key given twice) made the whole source be
   read again by the checked walk; now only that file (or the bytes / file object / parsed value) is read again, the
   rows of the others kept.

Every input is built by construction (JSON text written by hand so that a key can be given twice).
"""

from __future__ import annotations

import json
import warnings

import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError

XTID = "1-5759e988-bd862e3fe1be46a994272793"


def _xseg(i: int, extra: str = "") -> str:
    d = {"id": f"{i:016x}", "trace_id": XTID, "name": "api", "start_time": 1.7e9, "end_time": 1.7e9 + 1}
    return json.dumps(d)[:-1] + extra + "}"


def _xpage(*docs: str) -> str:
    return json.dumps({"Traces": [{"Id": XTID, "Segments": [{"Id": str(j), "Document": d} for j, d in enumerate(docs)]}]})


@pytest.fixture
def file_reads(monkeypatch):
    """The files read_xray reads, one entry per read (its bytes taken from disk)."""
    from tracekit.io import xray

    reads: list[str] = []
    real = xray.path_bytes

    def counting(path):
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(xray, "path_bytes", counting)
    return reads


def test_read_xray_reads_again_only_the_file_holding_a_repeated_key(tmp_path, file_reads):
    # a.json: JSON lines, its second line not JSON (skipped, errors="skip"); b.json: segment 12 holds "id" twice;
    # c.json clean. Only b.json is read again; nothing is listed twice, every other span loads
    (tmp_path / "a.json").write_text(_xpage(_xseg(1)) + "\n{not json\n" + _xpage(_xseg(2)) + "\n")
    (tmp_path / "b.json").write_text(_xpage(_xseg(11), _xseg(12, ', "id": "00000000000000ff"'), _xseg(13)))
    (tmp_path / "c.json").write_text(_xpage(_xseg(21), _xseg(22)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_xray(tmp_path, errors="skip")
    assert sorted(file_reads) == ["a.json", "b.json", "b.json", "c.json"]
    assert sorted(int(s, 16) for s in df["span_id"]) == [1, 2, 11, 13, 21, 22]
    skipped = [(s.file.rsplit("/", 1)[-1], s.record) for s in df.attrs["skipped"]]
    assert skipped == [("a.json", "line 2"), ("b.json", "Traces[0].Segments[1]")]
    # the records keep their places in file order (b's rows after a's, before c's)
    assert [int(s, 16) for s in df["span_id"]] == [1, 2, 11, 13, 21, 22]
    with pytest.raises(TraceFormatError, match="key 'id' is given 2 times") as info:
        tk.read_xray([tmp_path / "c.json", tmp_path / "b.json"])
    assert info.value.file.endswith("b.json") and info.value.record == "Traces[0].Segments[1]"
